"""Rectified flow as Wan 2.1/2.2, HunyuanVideo and LTX-Video use it (ComfyUI's CONST sampling): the training
pair, the shifted schedule and an Euler sampler.

State at noise level σ ∈ [0, 1]: x_σ = (1−σ)·x₀ + σ·ε; the model predicts the velocity v = ε − x₀, so
x₀ = x_σ − σ·v, and it sees the timestep 1000·σ (ComfyUI's CONST multiplier).

Shifted schedule (SD3, Esser et al. 2024, Sec. 5.3.2; ComfyUI's ModelSamplingSD3 / ModelSamplingDiscreteFlow):
σ(t) = s·t / (1 + (s−1)·t) for t uniform in [0, 1]; it divides the signal-to-noise ratio by s². SHIFT = 3 here:
SD3's rule scales the shift with √(tokens per frame), and our 32×32 frames (16×16 tokens after the UNet's 2×2
unshuffle) have about 1/6 of Wan's 480p (30×52 tokens), so Wan's shift 5-8 corresponds to 2-3 here. Training
draws t uniformly and shifts it the same way, so training and sampling see the same noise levels.

Euler (ComfyUI's ``euler`` on CONST models): x ← x + (σ_next − σ)·v.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

SHIFT = 3.0
TIMESTEP_SCALE = 1000.0

Velocity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_σ, timesteps [N]) -> v


def shifted(t: torch.Tensor | float, shift: float = SHIFT) -> torch.Tensor | float:
    """σ(t) = s·t / (1 + (s−1)·t)."""
    return shift * t / (1 + (shift - 1) * t)


def flow_sigmas(steps: int, shift: float = SHIFT) -> list[float]:
    """``steps`` + 1 noise levels from σ = 1 to 0, evenly spaced in t (ComfyUI's ``simple``/``normal``)."""
    return [float(shifted(1.0 - i / steps, shift)) for i in range(steps + 1)]


def flow_pair(x0: torch.Tensor, noise: torch.Tensor, frames: int,
              generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training input x_σ, timesteps and velocity target for [N, ...] items, one σ per group of ``frames``."""
    t = torch.rand(x0.shape[0] // frames, generator=generator).repeat_interleave(frames)
    sigma = shifted(t).view((-1,) + (1,) * (x0.ndim - 1))
    return (1 - sigma) * x0 + sigma * noise, TIMESTEP_SCALE * sigma.flatten(), noise - x0


def euler_sample(velocity: Velocity, x: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Euler from x at ``sigmas[0]`` through ``sigmas`` (a step to σ = 0 lands on the clean estimate x − σ·v)."""
    for sigma, sigma_next in itertools.pairwise(sigmas):
        x = x + (sigma_next - sigma) * velocity(x, torch.full((x.shape[0],), TIMESTEP_SCALE * sigma))
    return x
