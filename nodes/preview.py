"""Preview IMAGEs (``[frames, H, W, 3]`` in [0, 1]) of flows and noise, for people to look at."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from einops import rearrange

from ..kernels.motion.flow_sequence import FlowSequence

NOISE_RANGE = 2.5
PREVIEW_PIXELS = 2**23  # pixels of one preview clip, all frames together: 96 MiB of float32 RGB
CHUNK_PIXELS = 2**20  # pixels of flow turned into colour at once


def flow_preview(flow: FlowSequence, frames: torch.Tensor | None = None, size: tuple[int, int] | None = None,
                 on_frames: Callable[[int], None] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """IMAGE of each frame's motion since the previous one (−backward flow) and the occlusion MASK, at
    ``size`` (default: the frame size), with a still first frame; only the video frames in ``frames``
    (indices) if given. Built a few frames at a time (about a million pixels), calling ``on_frames(n)`` after
    each n (progress, interrupt); an affine flow (Camera Motion Flow) is rasterised at ``size`` directly."""
    index = torch.arange(flow.frames) if frames is None else torch.as_tensor(frames)
    size = flow.frame_size if size is None else (int(size[0]), int(size[1]))
    if flow.transforms is not None:
        flow = flow.resized(*size)
    steps = (index - 1).clamp(min=0)  # frame 0 (still) reads step 0, then shows white
    chunks = list(zip(index.split(max(1, CHUNK_PIXELS // math.prod(flow.grid_size))),
                      steps.split(max(1, CHUNK_PIXELS // math.prod(flow.grid_size))), strict=True))

    def arrival(shown: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
        return -flow.backward_of(step) * (shown > 0).to(flow.device)[:, None, None, None]

    top = max(largest_speed(arrival(*chunk)) for chunk in chunks)
    preview, mask = torch.empty(len(index), *size, 3), torch.zeros(len(index), *size)
    done = 0
    for shown, step in chunks:
        colour = rearrange(flow_colour(arrival(shown, step), top), "n h w rgb -> n rgb h w")
        preview[done: done + len(shown)] = rearrange(to_frame_size(colour, size, "bilinear"), "n rgb h w -> n h w rgb")
        if flow.occlusion is not None:
            occlusion = flow.occlusion[step, None].float() * (shown > 0).to(flow.device)[:, None, None, None]
            mask[done: done + len(shown)] = to_frame_size(occlusion, size, "nearest-exact")[:, 0].cpu()
        done += len(shown)
        if on_frames is not None:
            on_frames(len(shown))
    return preview, mask


def preview_size(frame_size: tuple[int, int], frames: int) -> tuple[int, int]:
    """The frame size, scaled down with its aspect ratio kept until ``frames`` frames hold at most
    ``PREVIEW_PIXELS`` pixels (a preview clip's memory stays bounded whatever the video's size and length)."""
    height, width = frame_size
    pixels = PREVIEW_PIXELS
    scale = min(1.0, math.sqrt(pixels / (frames * height * width)))
    return max(1, int(height * scale)), max(1, int(width * scale))


def largest_speed(flow: torch.Tensor) -> float:
    """max |f| over flows ``[N, 2, H, W]`` as a Python float (double): computed on f / max|f_i|, so it stays
    finite for any finite float32 flow (|f| itself can exceed float32's largest value)."""
    unit = float(flow.abs().amax()) if flow.numel() else 0.0
    return unit * float(torch.hypot(*(flow / unit).unbind(1)).max()) if unit > 0 else 0.0


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
