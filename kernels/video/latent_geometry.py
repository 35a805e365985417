"""From warped noise at pixel resolution to the noise a video latent needs.

* Spatial: a VAE with downsampling factor k sees one latent pixel per k×k block. The integral of white
  noise over the block is the *sum* of its k² pixel integrals, of variance k²; dividing by k keeps unit
  variance and independence between latent pixels (Deng et al. 2024, Sec. 5; never resize noise
  bilinearly, which averages neighbours and shrinks the variance).
* Temporal: causal video VAEs with temporal factor k (4 for Wan/HunyuanVideo/CogVideoX, 6 or 8 for
  others) encode frame 0 alone, then every following group of k frames into one latent frame; the noise of
  a latent frame is that of the group's first frame: frames 0, k, 2k, …, so T frames give (T − 1)//k + 1.
* Degradation (Go-with-the-Flow, Burgert et al. 2025, Sec. 3.3): mixing warped noise W with fresh noise F
  as ((1 − γ)·W + γ·F) / √((1 − γ)² + γ²) keeps unit variance for γ in [0, 1] and weakens the motion prior.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checks import check_finite, check_integers


def pool_to_latent(noise: torch.Tensor, factor: int) -> torch.Tensor:
    """k×k block sums divided by k over the last two axes of ``noise`` [..., H, W] (H, W divisible by k)."""
    check_integers(factor=factor)
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    if noise.ndim < 2:
        raise ValueError(f"noise must have at least 2 axes [..., H, W], got shape {tuple(noise.shape)}")
    check_finite(noise, "noise")
    height, width = noise.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(f"noise of size {height}×{width} is not divisible by the factor {factor}")
    if factor == 1:
        return noise.clone()
    lead = noise.shape[:-2]
    flat = noise.reshape(-1, 1, height, width)
    pooled = F.avg_pool2d(flat, factor) * factor  # mean·k = sum/k
    return pooled.reshape(*lead, height // factor, width // factor)


def latent_frame_count(frames: int, factor: int) -> int:
    """Latent frames of a causal video VAE with temporal factor k: (frames − 1)//k + 1."""
    check_integers(frames=frames, factor=factor)
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    return (frames - 1) // factor + 1


def video_frame_count(latent_frames: int, factor: int) -> int:
    """The longest video a causal video VAE with temporal factor k encodes into T latent frames, the inverse
    of :func:`latent_frame_count` on its whole steps: (T − 1)·k + 1."""
    if latent_frames < 1:
        raise ValueError(f"latent_frames must be at least 1, got {latent_frames}")
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    return (latent_frames - 1) * factor + 1


def compress_time(frames: torch.Tensor, factor: int, dim: int = 0) -> torch.Tensor:
    """Frames 0, k, 2k, … of ``frames`` along ``dim``: one noise frame per latent frame."""
    count = latent_frame_count(frames.shape[dim], factor)
    index = torch.arange(count, device=frames.device) * factor
    return frames.index_select(dim, index)


def degrade(warped: torch.Tensor, fresh: torch.Tensor, gamma: float | torch.Tensor) -> torch.Tensor:
    """((1 − γ)·W + γ·F) / √((1 − γ)² + γ²); γ a scalar or a tensor broadcastable to the noise."""
    if warped.shape != fresh.shape:
        raise ValueError(f"warped {tuple(warped.shape)} and fresh {tuple(fresh.shape)} noise differ in shape")
    if warped.device != fresh.device:
        raise ValueError(f"warped noise is on {warped.device}, fresh noise on {fresh.device}")
    check_finite(warped, "warped")
    check_finite(fresh, "fresh")
    gamma = torch.as_tensor(gamma, dtype=warped.dtype, device=warped.device)
    if not bool(torch.isfinite(gamma).all()) or bool(((gamma < 0) | (gamma > 1)).any()):
        raise ValueError("gamma must lie in [0, 1]")
    keep = 1.0 - gamma
    return (keep * warped + gamma * fresh) / torch.sqrt(keep.square() + gamma.square())
