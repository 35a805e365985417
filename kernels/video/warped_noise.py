"""Noise for a video latent from the video's motion: compose over the VAE's time step, warp, pool, degrade.

1. A causal video VAE keeps frame 0 and then one latent frame per k_t frames (T = (frames − 1)//k_t + 1),
   so the flow is composed over k_t frames (``FlowSequence.strided``): latent frame i+1 is warped from
   latent frame i by the motion of frames i·k_t → (i+1)·k_t in one step. (Warping every video frame and
   keeping every k_t-th would re-split sub-pixel motion k_t times: half a pixel per frame over 4 frames
   keeps a correlation of 6/16 with the true 2-pixel shift instead of 1.)
2. The flow is resampled to the warp grid, k× the latent grid (k = ``internal_resolution``), and its
   backward flow turned into backward maps (``flow_maps``).
3. ``warp_noise_sequence`` draws frame 0 and warps each frame into the next (Deng et al. 2024, Sec. 3),
   with fresh noise where the flow marks occlusion.
4. ``pool_to_latent``: k×k block sums / k, so every latent pixel stays N(0, 1).
5. ``degrade`` with γ (times an optional mask in [0, 1]): ((1−γ)W + γF)/√((1−γ)² + γ²), F fresh noise.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..motion.flow_maps import map_from_backward_flow
from ..motion.flow_sequence import FlowSequence
from ..warp.counter_rng import frame_noise
from ..warp.sequence import warp_noise_sequence
from .latent_geometry import compress_time, degrade, pool_to_latent

DEGRADATION_INDEX = 1  # counter-RNG item index of the fresh noise for ``degrade`` (the warp uses index 0)
# One warp step's scratch (grid or particle, CPU) per warp-grid pixel and per pixel and channel, and what any
# run adds: fitted to measured peaks at 256² and 512² with 4-64 channels (benchmarks/RESULTS.md, "Memory").
STEP_BYTES_PER_PIXEL = 384
STEP_BYTES_PER_CHANNEL_PIXEL = 40
FIXED_BYTES = 64 * 2**20


def video_noise_bytes(latent_frames: int, channels: int, latent_size: tuple[int, int],
                      internal_resolution: int = 1) -> int:
    """Estimated peak bytes of :func:`video_noise` on its device, for a flow that costs nothing (affine).

    With G = h·w·k² warp-grid pixels, T latent frames and C channels: the warped frames 4·T·C·G, then either
    one warp step's scratch G·(384 + 40·C) or, after the warp, the pooled copy 4·T·C·G/k²; the grid flow and
    backward maps 16·(T − 1)·G; 64 MiB more. A dense flow adds its strided and resized copies.
    """
    grid_pixels = latent_size[0] * latent_size[1] * internal_resolution**2
    frames = 4 * latent_frames * channels * grid_pixels
    scratch = grid_pixels * (STEP_BYTES_PER_PIXEL + STEP_BYTES_PER_CHANNEL_PIXEL * channels)
    return frames + max(scratch, frames // internal_resolution**2) + 16 * (latent_frames - 1) * grid_pixels \
        + FIXED_BYTES


def video_noise(flow: FlowSequence, channels: int, latent_size: tuple[int, int], *, seed: int,
                method: str = "grid", internal_resolution: int = 1, temporal_factor: int = 1,
                occlusion: bool = True, degradation: float = 0.0, degradation_mask: torch.Tensor | None = None,
                device: torch.device | str | None = None, on_frame: Callable[[int], None] | None = None
                ) -> torch.Tensor:
    """Warped noise ``[T, channels, h, w]`` for the video latent of ``flow``'s frames (float32, ``device``).

    ``degradation_mask`` ``[frames, 1, H, W]`` in [0, 1] (frame size) scales γ per pixel; ``on_frame(t)``
    is called after latent frame t is warped.
    """
    if internal_resolution < 1 or temporal_factor < 1:
        raise ValueError(f"internal_resolution and temporal_factor must be at least 1, got "
                         f"{internal_resolution} and {temporal_factor}")
    if not 0 <= degradation <= 1:
        raise ValueError(f"degradation must be in [0, 1], got {degradation}")
    height, width = latent_size
    grid_size = (height * internal_resolution, width * internal_resolution)
    if flow.frames > temporal_factor:
        grid = flow.to(device).strided(temporal_factor).resized(*grid_size)
        maps, occluded = map_from_backward_flow(grid.backward), grid.occlusion if occlusion else None
    else:  # a single latent frame: nothing to warp
        maps, occluded = torch.empty(0, 2, *grid_size, device=device), None
    noise = warp_noise_sequence(maps, channels, seed=seed, method=method, occlusion=occluded, device=device,
                                on_frame=on_frame)
    noise = pool_to_latent(noise, internal_resolution)
    if degradation == 0:
        return noise
    gamma = torch.tensor(degradation, device=noise.device)
    if degradation_mask is not None:
        mask = F.interpolate(degradation_mask.to(noise), size=latent_size, mode="area").clamp(0, 1)
        gamma = gamma * compress_time(mask, temporal_factor)
    fresh = torch.stack([frame_noise(channels, height, width, seed=seed, frame=t, index=DEGRADATION_INDEX,
                                     device=noise.device) for t in range(noise.shape[0])])
    return degrade(noise, fresh, gamma)
