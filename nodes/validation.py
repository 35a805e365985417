"""Input checks shared by the nodes: a clear error naming the input instead of a failure deep in torch."""

from __future__ import annotations

import torch

from ..kernels import time_axis


def check_latent(samples: torch.Tensor, name: str) -> torch.Tensor:
    """A 4-D ``[T,C,H,W]`` or 5-D ``[B,C,T,H,W]`` latent, non-empty and finite."""
    time_axis(samples, name)
    if samples.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(samples.shape)})")
    if not torch.isfinite(samples).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return samples


def check_noise(noise: torch.Tensor, samples: torch.Tensor, name: str) -> torch.Tensor:
    """Noise of the latent's shape, finite."""
    if tuple(noise.shape) != tuple(samples.shape):
        raise ValueError(f"{name} has shape {tuple(noise.shape)} but the latent has shape {tuple(samples.shape)}")
    if not torch.isfinite(noise).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return noise
