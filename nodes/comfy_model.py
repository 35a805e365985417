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
# FreeInit Sampler's passes when iterations is 0: the paper's 5 on VP models, 3 on flow models, where passes at
# 30 % cost motion (quality benchmark, four trained model sets: 3 passes meet the consistency bar and keep
# 85-102 % of the baseline's motion; 5 passes keep 73-90 %, and no level from 15 to 30 % meets both on all).
DEFAULT_PASSES = {"vp": 5, "flow": 3}
# Below this share of x0 in the re-noised state (SD-based AnimateDiff keeps √ᾱ_999 ≈ 6.8 %), a FreeInit pass
# barely depends on the previous one: it mostly re-draws the high frequencies.
WEAK_REINIT = 0.01


def model_sampling(model):
    """The MODEL's ``model_sampling`` with patches applied (AnimateDiff-Evolved swaps in its schedule)."""
    return model.get_model_object("model_sampling")


# Prediction types (comfy/model_sampling.py) by their noise maths, as names: a ComfyUI may lack the newer ones.
# EPS, V_PREDICTION, EDM and X0 derive from EPS; CogVideoX's V_PREDICTION_DDPM has EPS's noise_scaling.
VP_TYPES = ("EPS", "V_PREDICTION_DDPM")
# Image-to-image predictors (Lotus; Wan FlowRVS): they map an input image to the output, not noise.
IMAGE_TO_IMAGE_TYPES = ("IMG_TO_IMG", "IMG_TO_IMG_FLOW", "IMG_TO_IMG_VELOCITY")


def parametrisation(model) -> str:
    """``"flow"`` for CONST (rectified-flow) models, ``"vp"`` for EPS-like ones (EPS, V-prediction, EDM, X0,
    CogVideoX's V_PREDICTION_DDPM); a ValueError naming the prediction type for any other."""
    import comfy.model_sampling

    sampling = model_sampling(model)
    known = {name: getattr(comfy.model_sampling, name) for name in (*VP_TYPES, *IMAGE_TO_IMAGE_TYPES, "CONST")
             if hasattr(comfy.model_sampling, name)}
    if isinstance(sampling, tuple(known[name] for name in IMAGE_TO_IMAGE_TYPES if name in known)):
        raise ValueError(f"model: this model is an image-to-image predictor ({prediction_type(sampling)}): it maps "
                         f"an input image to its output rather than denoising noise, so FreeInit has no noise to "
                         f"reinitialise")
    if "CONST" in known and isinstance(sampling, known["CONST"]):
        return "flow"
    if isinstance(sampling, tuple(known[name] for name in VP_TYPES if name in known)):
        return "vp"
    raise ValueError(f"model: FreeInit supports EPS, V-prediction, EDM, X0, V_PREDICTION_DDPM and flow (CONST) "
                     f"models; this model samples with {prediction_type(sampling)}, whose noise schedule it does "
                     f"not know")


def prediction_type(sampling) -> str:
    """The prediction type's class name: core builds ``model_sampling`` as a class deriving from a schedule
    (a torch module) and a prediction type, named ModelSampling whatever the type."""
    for cls in type(sampling).__mro__:
        if not issubclass(cls, torch.nn.Module) and cls is not object:
            return cls.__name__
    return type(sampling).__name__


def noise_scale(model) -> float:
    """The standard deviation of a flow model's noise (CONST's ``noise_scale``, ComfyUI 0.33+; 1 elsewhere)."""
    return float(getattr(model_sampling(model), "noise_scale", 1.0))


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


def freeinit_passes(iterations: int, kind: str) -> int:
    """FreeInit Sampler's number of passes: ``iterations``, or for 0 the model's default ``DEFAULT_PASSES``."""
    return iterations if iterations > 0 else DEFAULT_PASSES[kind]


def to_model_space(model, samples: torch.Tensor) -> torch.Tensor:
    """A LATENT's samples as the sampler sees them (``process_latent_in``; an all-zero latent stays zero), in
    units of its noise: a flow model with ``noise_scale`` s samples (1−σ)·x0 + σ·s·n, which is s times the
    unit-variance state of x0 / s, so the kernels' maths applies to x0 / s."""
    if torch.count_nonzero(samples) == 0:
        return samples.float()
    return model.get_model_object("process_latent_in")(samples.float()) / noise_scale(model)


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


def freenoise_conflict(model) -> str | None:
    """Why core context windows on this MODEL change the noise we pass to the sampler (None if they do not)."""
    handler = getattr(model, "model_options", {}).get("context_handler")
    if not getattr(handler, "freenoise", False):
        return None
    return ("core context windows with freenoise on (the default of Wan and LTXV Context Windows, an advanced "
            "input) overwrite every latent frame after the first window with shuffled copies of earlier frames of "
            "the noise we pass to the sampler")


def warn_about_noise_conflicts(node: str, model) -> None:
    """Log a warning for each setting on the MODEL that replaces or scrambles the noise a FreeInit node makes."""
    for reason in ade_conflicts(model):
        logging.warning("[TemporalNoise] %s: AnimateDiff-Evolved is active on this MODEL and %s. Use default ADE "
                        "sample settings without iteration options with this node.", node, reason)
    freenoise = freenoise_conflict(model)
    if freenoise:
        logging.warning("[TemporalNoise] %s: %s, so FreeInit's passes do not start from the noise FreeInit made. "
                        "Set freenoise to false on the context-windows node.", node, freenoise)


def warn_if_reinit_keeps_little(node: str, sigma: float, kind: str) -> None:
    """Log a warning when re-noising to ``sigma`` leaves less than ``WEAK_REINIT`` of the previous result."""
    kept = signal_fraction(sigma, kind)
    if kept < WEAK_REINIT:
        logging.warning("[TemporalNoise] %s: this model re-noises to sigma %.6g, which keeps %.2g %% of each pass's "
                        "result (SD-based AnimateDiff keeps 4-7 %%), so later passes mostly re-draw the noise's "
                        "high frequencies and FreeInit gains little. Raise keep_percent (flow models default to "
                        "30 %%).", node, sigma, 100 * kept)
