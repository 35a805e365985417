"""Stable Diffusion's noise schedule, v-prediction and a deterministic DDIM sampler.

scaled_linear betas: β_t = (√β₀ + t/(N−1)·(√β₁ − √β₀))², β₀ = 0.00085, β₁ = 0.012, N = 1000, and
ᾱ_t = Π_{s≤t}(1 − β_s). ᾱ_999 ≈ 0.0047 is not 0: the noisiest training input still holds √ᾱ ≈ 0.07 of
the clean image, mostly its low frequencies, the signal leak FreeInit exploits (Wu et al. 2023, Sec. 3.2).

v-prediction (Salimans & Ho 2022): x_t = √ᾱ·x₀ + √(1−ᾱ)·ε, v = √ᾱ·ε − √(1−ᾱ)·x₀, so
x₀ = √ᾱ·x_t − √(1−ᾱ)·v and ε = √(1−ᾱ)·x_t + √ᾱ·v.

DDIM with η = 0 (Song et al. 2021, Eq. 12): x_prev = √ᾱ_prev·x₀ + √(1−ᾱ_prev)·ε, ᾱ after the last step 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

TRAIN_STEPS = 1000
BETA_START = 0.00085
BETA_END = 0.012

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_t, timesteps [N]) -> v


def alphas_cumprod() -> torch.Tensor:
    """ᾱ_t for t = 0 … 999 of SD's scaled_linear schedule (float64 product, float32 result)."""
    betas = torch.linspace(BETA_START**0.5, BETA_END**0.5, TRAIN_STEPS, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


ALPHAS_CUMPROD = alphas_cumprod()


def sigma_at(timestep: int) -> float:
    """σ = √((1−ᾱ)/ᾱ) of a timestep: the noise level the kernels' ``"vp"`` parametrisation takes."""
    alpha = float(ALPHAS_CUMPROD[timestep])
    return math.sqrt((1.0 - alpha) / alpha)


def diffuse(x0: torch.Tensor, noise: torch.Tensor,
            timesteps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Training pair: x_t and the v target for per-sample ``timesteps`` [N] (x0, noise [N, ...])."""
    shape = (-1,) + (1,) * (x0.ndim - 1)
    alpha = ALPHAS_CUMPROD[timesteps].view(shape)
    x_t = alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise
    return x_t, alpha.sqrt() * noise - (1 - alpha).sqrt() * x0


def ddim_timesteps(steps: int, start: int = TRAIN_STEPS - 1) -> list[int]:
    """``steps`` timesteps from ``start`` down, evenly spaced ("trailing": the first one is ``start``)."""
    return [round(start - i * (start + 1) / steps) for i in range(steps)]


def ddim_sample(denoise: Denoiser, x: torch.Tensor, timesteps: list[int]) -> torch.Tensor:
    """Run DDIM (η = 0) from x at ``timesteps[0]`` through the rest to a clean sample."""
    for i, t in enumerate(timesteps):
        alpha = ALPHAS_CUMPROD[t]
        alpha_prev = ALPHAS_CUMPROD[timesteps[i + 1]] if i + 1 < len(timesteps) else torch.tensor(1.0)
        v = denoise(x, torch.full((x.shape[0],), t))
        x0 = alpha.sqrt() * x - (1 - alpha).sqrt() * v
        eps = (1 - alpha).sqrt() * x + alpha.sqrt() * v
        x = alpha_prev.sqrt() * x0 + (1 - alpha_prev).sqrt() * eps
    return x
