"""What the FreeInit nodes need to know about a ComfyUI MODEL: parametrisation, schedule, latent space."""

from __future__ import annotations

import logging
import math

import torch

from ..kernels import signal_fraction

ADE_SAMPLE_SETTINGS = "ADE_sample_settings"
# The paper diffuses to t = 999 of 1000. A flow model's schedule starts at σ = 1, where nothing of x0 is
# left, so flow models are diffused to their own σ at the same fraction of the time range.
FLOW_REINIT_PERCENT = 0.001
# Below this share of x0 in the re-noised state (SD-based AnimateDiff keeps √ᾱ_999 ≈ 6.8 %), a FreeInit pass
# barely depends on the previous one: it mostly re-draws the high frequencies.
WEAK_REINIT = 0.01


def model_sampling(model):
    """The MODEL's ``model_sampling`` with patches applied (AnimateDiff-Evolved swaps in its schedule)."""
    return model.get_model_object("model_sampling")


def parametrisation(model) -> str:
    """``"flow"`` for CONST (rectified-flow) models, ``"vp"`` for EPS/V-prediction ones."""
    import comfy.model_sampling

    sampling = model_sampling(model)
    if isinstance(sampling, comfy.model_sampling.CONST):
        return "flow"
    if isinstance(sampling, comfy.model_sampling.EPS) and not isinstance(sampling, comfy.model_sampling.IMG_TO_IMG):
        return "vp"
    raise ValueError(
        f"model: FreeInit supports EPS, V-prediction and flow (CONST) models; this model samples with "
        f"{type(sampling).__name__}"
    )


def schedule(model, steps: int, sampler_name: str, scheduler: str, denoise: float) -> torch.Tensor:
    """The sigmas KSampler uses for these settings (``steps`` + 1 values ending in 0)."""
    import comfy.samplers

    sampler = comfy.samplers.KSampler(model, steps=steps, device=model.load_device, sampler=sampler_name,
                                      scheduler=scheduler, denoise=denoise, model_options=model.model_options)
    return sampler.sigmas


def is_max_denoise(model, first_sigma: float) -> bool:
    """ComfyUI's ``Sampler.max_denoise``: the schedule starts at (or above) the model's σ_max."""
    sigma_max = float(model_sampling(model).sigma_max)
    return math.isclose(sigma_max, first_sigma, rel_tol=1e-05) or first_sigma > sigma_max


def reinit_sigma(model, first_sigma: float, kind: str) -> float:
    """Noise level FreeInit diffuses to: the schedule's first σ, for flow models at most σ(t = 999/1000)."""
    if kind == "vp":
        return first_sigma
    return min(first_sigma, float(model_sampling(model).percent_to_sigma(FLOW_REINIT_PERCENT)))


def to_model_space(model, samples: torch.Tensor) -> torch.Tensor:
    """A LATENT's samples as the sampler sees them (``process_latent_in``; an all-zero latent stays zero)."""
    if torch.count_nonzero(samples) == 0:
        return samples.float()
    return model.get_model_object("process_latent_in")(samples.float())


def ade_conflicts(model) -> list[str]:
    """Reasons why AnimateDiff-Evolved settings on this MODEL clash with a FreeInit node (empty if none)."""
    get_attachment = getattr(model, "get_attachment", None)
    settings = get_attachment(ADE_SAMPLE_SETTINGS) if get_attachment else None
    if settings is None:
        return []
    reasons = []
    iterations = getattr(getattr(settings, "iteration_opts", None), "iterations", 1)
    if iterations > 1:
        reasons.append(f"its iteration options run {iterations} iterations of their own, which multiply with ours")
    replaces_noise = {
        "batch_offset": getattr(settings, "batch_offset", 0) != 0,
        "seed_offset": getattr(settings, "seed_offset", 0) != 0,
        "seed_override": getattr(settings, "seed_override", None) is not None,
        "noise_type": str(getattr(settings, "noise_type", "default")) != "default",
        "seed_gen": str(getattr(settings, "seed_gen", "comfy")) != "comfy",
        "noise_layers": bool(getattr(getattr(settings, "noise_layers", None), "layers", [])),
    }
    active = [name for name, on in replaces_noise.items() if on]
    if active:
        reasons.append(f"its sample settings ({', '.join(active)}) replace the noise we pass to the sampler")
    return reasons


def warn_if_reinit_keeps_little(node: str, sigma: float, kind: str) -> None:
    """Log a warning when re-noising to ``sigma`` leaves less than ``WEAK_REINIT`` of the previous result."""
    kept = signal_fraction(sigma, kind)
    if kept < WEAK_REINIT:
        logging.warning("[TemporalNoise] %s: this model re-noises to sigma %.6g, which keeps %.2g %% of each pass's "
                        "result (SD-based AnimateDiff keeps about 7 %%), so later passes mostly re-draw the noise's "
                        "high frequencies. Flow models (at t = 0.999 they keep about 0.1 %% divided by their shift: "
                        "Wan, HunyuanVideo, LTX) and zero-terminal-SNR models gain little from FreeInit.",
                        node, sigma, 100 * kept)
