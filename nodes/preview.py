"""Preview IMAGEs (``[frames, H, W, 3]`` in [0, 1]) of flows and noise, for people to look at."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange

from ..kernels.motion.flow_sequence import FlowSequence

NOISE_RANGE = 2.5


def flow_preview(flow: FlowSequence, frames: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """IMAGE of each frame's motion since the previous one (−backward flow) and the occlusion MASK, at the
    frame size, with a still first frame; only the video frames in ``frames`` (indices) if given."""
    index = torch.arange(flow.frames) if frames is None else frames
    arrival = torch.cat([torch.zeros_like(flow.backward[:1]), -flow.backward])[index]
    occlusion = torch.zeros(flow.frames, 1, *flow.grid_size, device=flow.backward.device)
    if flow.occlusion is not None:
        occlusion[1:, 0] = flow.occlusion.float()
    colour = rearrange(flow_colour(arrival), "n h w rgb -> n rgb h w")
    preview = rearrange(to_frame_size(colour, flow.frame_size, "bilinear"), "n rgb h w -> n h w rgb")
    return preview.cpu(), to_frame_size(occlusion[index], flow.frame_size, "nearest-exact")[:, 0].cpu()


def flow_colour(flow: torch.Tensor, max_magnitude: float | None = None) -> torch.Tensor:
    """Flows ``[N, 2, H, W]`` as colour ``[N, H, W, 3]``: white when still, more saturated when faster,
    hue by direction (a cosine colour wheel).

    ``rgb_c = 1 − (|f| − ⟨f, d_c⟩) / 2·max(|f|, m)`` with ``d_c`` the on-screen directions at 0°, 120°, 240°
    (counter-clockwise from "right") of red, green and blue, and m the speed shown at full saturation
    (default: the largest in ``flow``, so all frames of a clip share one scale). Motion right at full speed
    is (1, ¼, ¼). The colour does not change when f and m are scaled alike, so both are divided by f's
    largest component first: |f| stays finite for any finite flow, even near the dtype's largest value.
    """
    unit = float(flow.abs().amax()) if flow.numel() else 0.0
    if unit == 0 or (max_magnitude is not None and max_magnitude <= 0):
        return torch.ones(flow.shape[0], *flow.shape[2:], 3, dtype=flow.dtype, device=flow.device)
    flow = flow / unit
    magnitude = torch.hypot(flow[:, 0], flow[:, 1])
    top = float(magnitude.max()) if max_magnitude is None else max_magnitude / unit
    scale = 0.5 / magnitude.clamp(min=top)  # faster than m: full saturation
    channels = []
    for degrees in (0.0, 120.0, 240.0):
        x, y = math.cos(math.radians(degrees)), -math.sin(math.radians(degrees))  # y points down
        channels.append(1 - (magnitude - flow[:, 0] * x - flow[:, 1] * y) * scale)
    return torch.stack(channels, dim=-1).clamp(0, 1)  # rounding may step an ulp outside


def noise_colour(noise: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Noise frames ``[N, C, h, w]`` as colour at height×width: channels 0–2 as RGB (grey if C < 3),
    ±2.5 σ mapped to [0, 1], each noise pixel a solid block."""
    rgb = noise[:, :3] if noise.shape[1] >= 3 else noise[:, :1].expand(-1, 3, -1, -1)
    rgb = (0.5 + rgb.float() / (2 * NOISE_RANGE)).clamp(0, 1)
    return rearrange(F.interpolate(rgb, size=(height, width), mode="nearest-exact"), "n rgb h w -> n h w rgb")


def to_frame_size(images: torch.Tensor, frame_size: tuple[int, int], mode: str) -> torch.Tensor:
    """``[N, C, h, w]`` resized to the frame size (unchanged if already there)."""
    if tuple(images.shape[-2:]) == tuple(frame_size):
        return images
    return F.interpolate(images, size=frame_size, mode=mode)
