"""What the FreeInit nodes need to know about a ComfyUI MODEL: parametrisation, schedule, latent space."""

from __future__ import annotations

import logging
import math

import torch

from ..kernels import sigma_for_signal_fraction, signal_fraction

ADE_SAMPLE_SETTINGS = "ADE_sample_settings"
# The paper diffuses to t = 999 of 1000, the start of a VP schedule (SD keeps 6.8 % of x0 there). A flow
# model's schedule starts at σ = 1, where nothing of x0 is left, and at t = 0.999 it keeps 0.1 %/shift, too
# little to carry the layout; flow models re-noise to the level keeping this share instead, the measured best
# (benchmarks/quality/results/results-flow.md: consistency up without a Fréchet-distance or motion loss).
FLOW_DEFAULT_KEEP = 0.30
KEEP_INPUT = ("FLOAT", {"default": 0.0, "min": 0.0, "max": 50.0, "step": 0.5, "tooltip": (
    "How much of each pass's result the next pass keeps, in percent (more keeps its layout and motion, less "
    "lets the next pass change more); 0 = the model's default: the paper's start of the schedule on SD-based "
    "models (4-7 %), 30 % on flow models such as Wan, HunyuanVideo and LTX.")})
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


def reinit_sigma(first_sigma: float, kind: str, keep_percent: float = 0.0) -> float:
    """Noise level FreeInit re-noises to, never above the schedule's first σ: the level keeping
    ``keep_percent`` % of the result, or by default (0) the first σ (VP) or the level keeping
    ``FLOW_DEFAULT_KEEP`` (flow)."""
    if not 0.0 <= keep_percent < 100.0:
        raise ValueError(f"keep_percent must lie in [0, 100), got {keep_percent}")
    if keep_percent == 0.0 and kind == "vp":
        return first_sigma
    kept = keep_percent / 100.0 if keep_percent > 0.0 else FLOW_DEFAULT_KEEP
    return min(first_sigma, sigma_for_signal_fraction(kept, kind))


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
                        "result (SD-based AnimateDiff keeps 4-7 %%), so later passes mostly re-draw the noise's "
                        "high frequencies and FreeInit gains little. Raise keep_percent (flow models default to "
                        "30 %%).", node, sigma, 100 * kept)
