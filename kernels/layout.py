"""Latent layouts: where the time axis is.

ComfyUI's AnimateDiff latents are ``[T, C, H, W]`` (the batch is the frames, time on axis 0); native video
models (Wan, HunyuanVideo, LTX, Mochi, Cosmos) use ``[B, C, T, H, W]`` (time on axis 2).
"""

from __future__ import annotations

import torch


def time_axis(latent: torch.Tensor, name: str = "latent") -> int:
    """Axis of the frames: 0 for ``[T, C, H, W]``, 2 for ``[B, C, T, H, W]``; raises for other ranks."""
    if not isinstance(latent, torch.Tensor):
        raise ValueError(f"{name} must be a tensor, got {type(latent).__name__}")
    if latent.ndim == 4:
        return 0
    if latent.ndim == 5:
        return 2
    raise ValueError(
        f"{name} must be 4-D [frames, channels, height, width] or 5-D [batch, channels, frames, height, "
        f"width], got shape {tuple(latent.shape)}"
    )


def frame_count(latent: torch.Tensor, name: str = "latent") -> int:
    """Number of frames of a 4-D or 5-D latent."""
    return latent.shape[time_axis(latent, name)]
