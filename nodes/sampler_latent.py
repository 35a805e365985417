"""A LATENT prepared for sampling exactly as core's samplers prepare it (``common_ksampler`` and
SamplerCustomAdvanced), with clear errors for latents the model cannot sample.

Core hands ``latent["samples"]`` to ``comfy.sample.fix_empty_latent_channels``, which gives an empty latent the
model's channels and a 4-D latent of a video model its frame axis. ComfyUI 0.33 also passes the latent's
``downscale_ratio_spacial`` / ``downscale_ratio_temporal`` (set by the empty-latent nodes), which resize an
empty latent to the model's grid (Wan 2.2 5B: 16 pixels per latent pixel, not 8), and removes those keys from
its output. Which form this ComfyUI has is read from the function's signature, never from a version number.
"""

from __future__ import annotations

import inspect

import torch

from .latent_shape import is_nested
from .validation import check_latent

DOWNSCALE_RATIO_KEYS = ("downscale_ratio_spacial", "downscale_ratio_temporal")


def sampler_latent(model, latent: dict, name: str) -> torch.Tensor:
    """``latent["samples"]`` as core samples it with ``model``; ValueError naming ``name`` for a nested
    (audio+video) latent, or one whose rank or channels do not fit the model's latent format."""
    import comfy.sample

    samples = latent["samples"]
    refuse_nested(samples, name)
    check_latent(samples, name)  # before core touches it: its errors would show a reshaped latent
    ratios = {key: latent.get(key) for key in DOWNSCALE_RATIO_KEYS} if takes_downscale_ratios() else {}
    samples = comfy.sample.fix_empty_latent_channels(model, samples, **ratios)
    refuse_nested(samples, name)  # an empty MiniMax H3 AV latent becomes audio+video here
    check_fits_model(model, samples, name)
    return samples


def sampler_output(latent: dict, samples: torch.Tensor) -> dict:
    """The LATENT a core sampler returns: the input's entries with new samples (and, where core uses the
    downscale ratios, without them)."""
    dropped = DOWNSCALE_RATIO_KEYS if takes_downscale_ratios() else ()
    return {**{key: value for key, value in latent.items() if key not in dropped}, "samples": samples}


def takes_downscale_ratios() -> bool:
    """Whether this ComfyUI's ``fix_empty_latent_channels`` takes the latent's downscale ratios."""
    import comfy.sample

    parameters = inspect.signature(comfy.sample.fix_empty_latent_channels).parameters
    return all(key in parameters for key in DOWNSCALE_RATIO_KEYS)


def refuse_nested(samples, name: str) -> None:
    """FreeInit filters one video latent; a nested latent also holds audio, which has no such filter."""
    if is_nested(samples):
        shapes = ", ".join(str(tuple(stream.shape)) for stream in samples.unbind())
        raise ValueError(f"{name} is an audio+video latent (nested streams {shapes}, as LTX-2 and MiniMax H3 AV "
                         f"make): FreeInit's low-pass filter is defined for one video latent, not for the audio "
                         f"stream. Sample it with a core sampler, or use a video-only model and latent")


def check_fits_model(model, samples: torch.Tensor, name: str) -> None:
    """The latent's rank and channels are those of the model's latent format (when the model has one)."""
    latent_format = model_latent_format(model)
    channels = getattr(latent_format, "latent_channels", None)
    dimensions = getattr(latent_format, "latent_dimensions", None)
    family = type(latent_format).__name__
    if dimensions is not None and samples.ndim != dimensions + 2:
        layout = {2: "[B, C, H, W]", 3: "[B, C, T, H, W]"}.get(dimensions, f"{dimensions + 2}-D")
        raise ValueError(f"{name} is {samples.ndim}-D (shape {tuple(samples.shape)}) but this model ({family} "
                         f"latents) samples {layout} latents: use the empty-latent node or VAE of this model")
    if channels is not None and samples.shape[1] != channels:
        raise ValueError(f"{name} has {samples.shape[1]} channels (shape {tuple(samples.shape)}) but this model "
                         f"({family} latents) has {channels}: use the empty-latent node or VAE of this model")


def model_latent_format(model):
    """The MODEL's latent format (None when it has none)."""
    try:
        return model.get_model_object("latent_format")
    except (AttributeError, KeyError):
        return getattr(getattr(model, "model", None), "latent_format", None)
