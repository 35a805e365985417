"""Synthetic clips with known motion, made by code (no download), for tests, benchmarks and the demo.

The texture is a continuous function (a seeded sum of plane waves per colour channel), so a frame is the
texture evaluated exactly where the motion says each pixel centre came from: no resampling blur, and the true
flow is known in closed form. Import after ``standalone.load_pack()`` (the repository root on ``sys.path``).
"""

from __future__ import annotations

import math

import torch

from standalone import load_pack

load_pack()

from temporal_noise.kernels.camera_motion import (  # noqa: E402
    Schedule,
    apply_affine,
    camera_motion_flow,
    camera_transforms,
    invert_affine,
)
from temporal_noise.kernels.flow_maps import identity_map  # noqa: E402
from temporal_noise.kernels.flow_sequence import FlowSequence  # noqa: E402

WAVES = 24


def texture(points: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """RGB in [0, 1] ``[N, 3, H, W]`` of a seeded texture at continuous positions ``[N, 2, H, W]`` (pixels).

    Per channel: ``0.5 + 0.5·tanh(Σ_k a_k cos(2π⟨u_k, p⟩/λ_k + φ_k) / 1.5σ)`` with wavelengths λ in
    [6, 48] px, random directions u, phases φ and amplitudes a; σ the standard deviation of the sum.
    """
    generator = torch.Generator().manual_seed(seed)
    angle = torch.rand(3, WAVES, generator=generator) * 2 * math.pi
    wavelength = 6 * 8 ** torch.rand(3, WAVES, generator=generator)
    phase = torch.rand(3, WAVES, generator=generator) * 2 * math.pi
    amplitude = 0.5 + torch.rand(3, WAVES, generator=generator)
    frequency = torch.stack([torch.cos(angle), torch.sin(angle)], -1) * (2 * math.pi / wavelength)[..., None]
    argument = torch.einsum("ckd,ndhw->nckhw", frequency.to(points), points) + phase.to(points)[..., None, None]
    waves = (amplitude.to(points)[..., None, None] * torch.cos(argument)).sum(2)
    sigma = amplitude.square().sum(1).div(2).sqrt().to(points).view(1, 3, 1, 1)
    return 0.5 + 0.5 * torch.tanh(waves / (1.5 * sigma))


def moving_texture_clip(frames: int = 16, height: int = 256, width: int = 256, *, pan_x: Schedule = 0.0,
                        pan_y: Schedule = 0.0, zoom: Schedule = 1.0, rotate_degrees: Schedule = 0.0,
                        seed: int = 0) -> tuple[torch.Tensor, FlowSequence]:
    """A texture moved by a camera motion (``camera_motion`` conventions): IMAGE ``[T, H, W, 3]`` and its
    exact flow.

    Frame t shows the texture at ``P_t(q)``, the frame-0 position of pixel centre q, with ``P_0 = id`` and
    ``P_{t+1} = P_t ∘ back_t`` (``back_t`` the inverse of step t's transform).
    """
    matrix, offset = camera_transforms(frames - 1, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                                       rotate_degrees=rotate_degrees, height=height, width=width)
    inverse, inverse_offset = invert_affine(matrix.double(), offset.double())
    to_first, to_first_offset = [torch.eye(2, dtype=torch.float64)], [torch.zeros(2, dtype=torch.float64)]
    for step in range(frames - 1):
        to_first_offset.append(to_first[-1] @ inverse_offset[step] + to_first_offset[-1])
        to_first.append(to_first[-1] @ inverse[step])
    centres = identity_map(height, width, dtype=torch.float64).expand(frames, 2, height, width)
    positions = apply_affine(centres, torch.stack(to_first), torch.stack(to_first_offset))
    images = texture(positions, seed).float().permute(0, 2, 3, 1).contiguous()
    flow = camera_motion_flow(frames, height, width, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                              rotate_degrees=rotate_degrees)
    return images, flow


def occlusion_clip(frames: int = 4, height: int = 128, width: int = 128, *, square: int = 48, speed: int = 8,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A textured square sliding right by ``speed`` px per frame over a still textured background.

    Returns IMAGE ``[T, H, W, 3]`` and the true disocclusion ``[T−1, H, W]``: pixels of frame t+1 showing
    background that the square covered in frame t (the strip its left edge uncovers).
    """
    centres = identity_map(height, width, dtype=torch.float64)[None]
    background = texture(centres, seed)
    top, left = (height - square) // 2, width // 4
    images, covered = [], []
    for t in range(frames):
        x0 = left + speed * t
        inside = ((centres[0, 0] >= x0) & (centres[0, 0] < x0 + square)
                  & (centres[0, 1] >= top) & (centres[0, 1] < top + square))
        foreground = texture(centres - centres.new_tensor([x0, top]).view(1, 2, 1, 1), seed + 1)
        images.append(torch.where(inside, foreground, background)[0])
        covered.append(inside)
    disoccluded = torch.stack([covered[t] & ~covered[t + 1] for t in range(frames - 1)])
    return torch.stack(images).float().permute(0, 2, 3, 1).contiguous(), disoccluded
