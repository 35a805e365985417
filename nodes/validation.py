"""Input checks shared by the nodes: a clear error naming the input instead of a failure deep in torch.

ComfyUI types: LATENT samples ``[T,C,H,W]`` or ``[B,C,T,H,W]``, IMAGE ``[frames, H, W, 3]`` in [0, 1],
MASK ``[H, W]`` or ``[N, H, W]``.
"""

from __future__ import annotations

import torch

from ..kernels import time_axis
from ..kernels.motion.flow_sequence import check_finite


def check_latent(samples: torch.Tensor, name: str) -> torch.Tensor:
    """A 4-D ``[T,C,H,W]`` or 5-D ``[B,C,T,H,W]`` latent, non-empty and finite."""
    time_axis(samples, name)
    if samples.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(samples.shape)})")
    check_finite(samples, name)
    return samples


def check_noise(noise: torch.Tensor, samples: torch.Tensor, name: str) -> torch.Tensor:
    """Noise of the latent's shape, finite."""
    if tuple(noise.shape) != tuple(samples.shape):
        raise ValueError(f"{name} has shape {tuple(noise.shape)} but the latent has shape {tuple(samples.shape)}")
    check_finite(noise, name)
    return noise


def frames_from_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """IMAGE ``[F, H, W, C]`` → float frames ``[F, 3, H, W]`` (RGB; alpha dropped), checked.

    A floating-point IMAGE only: integer pixels (0-255) would be clamped to [0, 1] into black and white."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name} must be an IMAGE batch [frames, height, width, 3], got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} has dtype {images.dtype}, but a ComfyUI IMAGE holds floats in [0, 1]: convert "
                         f"the frames before this node (0-255 pixels divided by 255)")
    if 0 in images.shape:
        raise ValueError(f"{name} is empty: shape {tuple(images.shape)}")
    check_finite(images, name)
    rgb = images[..., :3] if images.shape[-1] != 1 else images.expand(-1, -1, -1, 3)
    return rgb.movedim(-1, 1).float()


def frames_of_mask(mask: torch.Tensor, frames: int, frame_size: tuple[int, int], name: str = "mask") -> torch.Tensor:
    """MASK ``[H, W]`` or ``[N, H, W]`` (N = 1 or ``frames``) → float ``[frames, 1, H, W]``, checked."""
    if not isinstance(mask, torch.Tensor) or mask.ndim not in (2, 3):
        raise ValueError(f"{name} must be a MASK [frames, height, width] or [height, width], got "
                         f"{getattr(mask, 'shape', type(mask).__name__)}")
    mask = mask if mask.ndim == 3 else mask[None]
    if tuple(mask.shape[-2:]) != tuple(frame_size):
        raise ValueError(f"{name} is {mask.shape[-1]}x{mask.shape[-2]} (width x height) but the frames are "
                         f"{frame_size[1]}x{frame_size[0]}; give a mask of the frame size")
    if mask.shape[0] not in (1, frames):
        raise ValueError(f"{name} has {mask.shape[0]} frames; give 1 (for all frames) or {frames} (one per frame)")
    check_finite(mask, name)
    return mask.float().expand(frames, -1, -1)[:, None]
