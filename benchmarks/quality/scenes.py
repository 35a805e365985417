"""Scenes made by code: a smooth two-colour gradient with 1-3 soft coloured discs, values in [−1, 1].

A scene is a function of continuous position (pixel units, pixel (r, c) covers [c, c+1) × [r, r+1)), so it
can be rendered at any sub-pixel motion exactly: training videos move the discs over a still background
(``moving_disc_videos``); part B moves the whole scene with camera motions (``motions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from temporal_noise.kernels.motion.flow_maps import identity_map

SIZE = 32
FRAMES = 8
MAX_DISCS = 3
EDGE_SOFTNESS = 0.6  # pixels: width of the sigmoid at a disc's rim
MAX_SPEED = 1.5  # pixels per frame


@dataclass(frozen=True)
class Scenes:
    """A batch of B scenes; discs beyond a scene's count have ``alpha`` 0."""

    low: torch.Tensor  # [B, 3] gradient colour at one end
    high: torch.Tensor  # [B, 3] gradient colour at the other end
    direction: torch.Tensor  # [B, 2] unit vector of the gradient
    centres: torch.Tensor  # [B, D, 2] (x, y)
    radii: torch.Tensor  # [B, D]
    colours: torch.Tensor  # [B, D, 3]
    alpha: torch.Tensor  # [B, D] 1 for a disc that exists, 0 otherwise
    velocities: torch.Tensor  # [B, D, 2] pixels per frame (used by videos only)


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] to RGB in [0, 1], last axis RGB."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + 6.0 * h.unsqueeze(-1)) % 6.0
    return v.unsqueeze(-1) - v.unsqueeze(-1) * s.unsqueeze(-1) * (torch.minimum(k, 4.0 - k).clamp(0.0, 1.0))


def random_scenes(count: int, generator: torch.Generator) -> Scenes:
    """``count`` random scenes: muted gradient background, saturated discs of radius 3.5-7 px."""

    def uniform(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=generator)

    background = _hsv_to_rgb(uniform(count, 2), uniform(count, 2, high=0.35), uniform(count, 2, low=0.15,
                                                                                           high=0.6))
    angle = uniform(count, high=2 * torch.pi)
    discs = 1 + (uniform(count) * MAX_DISCS).long().clamp(max=MAX_DISCS - 1)
    colours = _hsv_to_rgb(uniform(count, MAX_DISCS), uniform(count, MAX_DISCS, low=0.7),
                          uniform(count, MAX_DISCS, low=0.75))
    heading = uniform(count, MAX_DISCS, high=2 * torch.pi)
    speed = MAX_SPEED * uniform(count, MAX_DISCS).sqrt()  # uniform over the disc of radius MAX_SPEED
    return Scenes(
        low=2 * background[:, 0] - 1,
        high=2 * background[:, 1] - 1,
        direction=torch.stack([angle.cos(), angle.sin()], dim=-1),
        centres=uniform(count, MAX_DISCS, 2, low=7.0, high=SIZE - 7.0),
        radii=uniform(count, MAX_DISCS, low=3.5, high=7.0),
        colours=2 * colours - 1,
        alpha=(torch.arange(MAX_DISCS) < discs.unsqueeze(-1)).float(),
        velocities=speed.unsqueeze(-1) * torch.stack([heading.cos(), heading.sin()], dim=-1),
    )


def render(scenes: Scenes, points: torch.Tensor, disc_offsets: torch.Tensor | None = None) -> torch.Tensor:
    """Scene colours [B, 3, H, W] at scene positions ``points`` [B, 2, H, W] (or [2, H, W]).

    ``disc_offsets`` [B, D, 2] moves the discs over the background.
    """
    points = points.expand(scenes.low.shape[0], 2, *points.shape[-2:])
    x, y = points[:, 0], points[:, 1]
    direction = scenes.direction[:, :, None, None]
    along = (x - SIZE / 2) * direction[:, 0] + (y - SIZE / 2) * direction[:, 1]
    blend = (0.5 + 0.5 * torch.tanh(along / (0.75 * SIZE))).unsqueeze(1)
    image = scenes.low[:, :, None, None] * (1 - blend) + scenes.high[:, :, None, None] * blend
    centres = scenes.centres if disc_offsets is None else scenes.centres + disc_offsets
    for d in range(MAX_DISCS):
        distance = torch.hypot(x - centres[:, d, 0, None, None], y - centres[:, d, 1, None, None])
        cover = torch.sigmoid((scenes.radii[:, d, None, None] - distance) / EDGE_SOFTNESS)
        cover = (cover * scenes.alpha[:, d, None, None]).unsqueeze(1)
        image = image * (1 - cover) + scenes.colours[:, d, :, None, None] * cover
    return image


def moving_disc_videos(scenes: Scenes, frames: int = FRAMES) -> torch.Tensor:
    """Videos [B, 3, T, H, W]: discs move at their velocities over a still background, centred in time."""
    grid = identity_map(SIZE, SIZE)
    times = torch.arange(frames, dtype=torch.float32) - (frames - 1) / 2
    video = [render(scenes, grid, scenes.velocities * t) for t in times]
    return torch.stack(video, dim=2)


def random_videos(count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random moving-disc videos [B, 3, T, H, W]."""
    return moving_disc_videos(random_scenes(count, generator))


def random_images(count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` random still scenes [B, 3, H, W]."""
    return render(random_scenes(count, generator), identity_map(SIZE, SIZE))
