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

from temporal_noise.kernels.motion.camera_motion import (  # noqa: E402
    Schedule,
    camera_motion_flow,
    camera_transforms,
    invert_affine,
)
from temporal_noise.kernels.motion.flow_sequence import FlowSequence  # noqa: E402

WAVES = 24


def texture(height: int, width: int, matrix: torch.Tensor, offset: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """RGB in [0, 1] ``[3, H, W]``: a seeded texture seen at the positions ``p = M q + b`` of the pixel
    centres q (pixel units, x first; ``matrix`` M ``[2, 2]``, ``offset`` b ``[2]``).

    Per channel ``0.5 + 0.5·tanh(Σ_k a_k cos(⟨ω_k, p⟩ + φ_k) / 1.5σ)``, |ω_k| = 2π/λ_k with wavelengths λ in
    [6, 48] px, random directions, phases φ and amplitudes a; σ the standard deviation of the sum. An affine
    p makes each wave separable, ``⟨ω, p⟩ + φ = αx + βy + γ`` with ``(α, β) = Mᵀω`` and ``γ = ⟨ω, b⟩ + φ``,
    so cos(αx + βy + γ) = cos αx·cos(βy + γ) − sin αx·sin(βy + γ) costs one outer product per wave.
    """
    generator = torch.Generator().manual_seed(seed)
    angle = torch.rand(3, WAVES, generator=generator, dtype=torch.float64) * 2 * math.pi
    wavelength = 6 * 8 ** torch.rand(3, WAVES, generator=generator, dtype=torch.float64)
    phase = torch.rand(3, WAVES, generator=generator, dtype=torch.float64) * 2 * math.pi
    amplitude = 0.5 + torch.rand(3, WAVES, generator=generator, dtype=torch.float64)
    omega = torch.stack([torch.cos(angle), torch.sin(angle)], -1) * (2 * math.pi / wavelength)[..., None]
    alpha_beta = omega @ matrix.double()  # rows ωᵀM = (Mᵀω)ᵀ: [3, K, 2]
    gamma = omega @ offset.double() + phase
    xs = torch.arange(width, dtype=torch.float64) + 0.5
    ys = torch.arange(height, dtype=torch.float64) + 0.5
    along_x = alpha_beta[..., 0, None] * xs  # [3, K, W]
    along_y = alpha_beta[..., 1, None] * ys + gamma[..., None]  # [3, K, H]
    weighted = amplitude[..., None, None] * torch.stack([torch.cos(along_y), -torch.sin(along_y)], -1)  # [3, K, H, 2]
    waves = torch.einsum("ckhj,ckwj->chw", weighted, torch.stack([torch.cos(along_x), torch.sin(along_x)], -1))
    sigma = amplitude.square().sum(1).div(2).sqrt().view(3, 1, 1)
    return (0.5 + 0.5 * torch.tanh(waves / (1.5 * sigma))).float()


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
    to_first, to_first_offset = torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    images = torch.empty(frames, height, width, 3)
    for t in range(frames):
        images[t] = texture(height, width, to_first, to_first_offset, seed).permute(1, 2, 0)
        if t < frames - 1:
            to_first, to_first_offset = to_first @ inverse[t], to_first @ inverse_offset[t] + to_first_offset
    flow = camera_motion_flow(frames, height, width, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                              rotate_degrees=rotate_degrees)
    return images, flow


def occlusion_clip(frames: int = 4, height: int = 128, width: int = 128, *, square: int = 48, speed: int = 8,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A textured square sliding right by ``speed`` px per frame over a still textured background.

    Returns IMAGE ``[T, H, W, 3]`` and the true disocclusion ``[T−1, H, W]``: pixels of frame t+1 showing
    background that the square covered in frame t (the strip its left edge uncovers).
    """
    identity = torch.eye(2, dtype=torch.float64)
    background = texture(height, width, identity, torch.zeros(2, dtype=torch.float64), seed)
    top, left = (height - square) // 2, width // 4
    rows, columns = torch.arange(height)[:, None], torch.arange(width)
    images, covered = [], []
    for t in range(frames):
        x0 = left + speed * t
        inside = (columns >= x0) & (columns < x0 + square) & (rows >= top) & (rows < top + square)
        foreground = texture(height, width, identity, torch.tensor([-x0, -top], dtype=torch.float64), seed + 1)
        images.append(torch.where(inside, foreground, background).permute(1, 2, 0))
        covered.append(inside)
    disoccluded = torch.stack([covered[t] & ~covered[t + 1] for t in range(frames - 1)])
    return torch.stack(images), disoccluded
