"""FreeInit's outer loop (Wu et al. 2023, Sec. 3.3 and Algorithm 1).

Iteration 0 samples from the initial noise ε. Iteration i ≥ 1 diffuses the previous result x0 to the
re-noise level σ **with the same ε** (Eq. 6), keeps the low frequencies of that noisy latent and takes
the high frequencies from fresh noise η_i at the same level (Eq. 7-8), and samples again from σ:

    z' = F⁻¹( F(z_σ(x0, ε))·H + F(z_σ(0, η))·(1 − H) )

with z_σ(x0, ε) the unit-variance state (``forward_diffuse``). At the paper's σ (t = 999) the fresh part
z_σ(0, η) = √(1−ᾱ)·η is η within 0.3 %; at a lower level (flow models, ``sigma_for_signal_fraction``) it
keeps the noise where the sampler expects it (σ·η on a flow model, not η). Coarse-to-fine sampling
("fast sampling", Sec. 4.4) gives iteration i of N the steps ⌊S/N·(i+1)⌋ (at least 1), so the last one
runs all S steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..checks import check_integers
from .diffusion import forward_diffuse
from .lowpass import LowPassFilter
from .spectral_mix import spectral_mix

SEED_RANGE = 2**64
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def iteration_steps(steps: int, iterations: int, coarse_to_fine: bool) -> list[int]:
    """Sampling steps of each iteration: S every time, or ⌊S/N·(i+1)⌋ (≥ 1) coarse-to-fine."""
    check_integers(steps=steps, iterations=iterations)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    if not coarse_to_fine:
        return [steps] * iterations
    return [max(1, steps * (i + 1) // iterations) for i in range(iterations)]


def iteration_seed(seed: int, iteration: int) -> int:
    """Seed of the fresh noise η_i: the seed itself for i = 0, then steps of 2⁶⁴/φ modulo 2⁶⁴.

    The odd golden-ratio increment keeps the seeds of one run apart from the neighbouring seeds a user
    tries next (seed + 1, seed + 2, ...).
    """
    if iteration < 0:
        raise ValueError(f"iteration must be >= 0, got {iteration}")
    return (seed + iteration * _GOLDEN_GAMMA) % SEED_RANGE


def seeded_noise(like: torch.Tensor, seed: int) -> torch.Tensor:
    """N(0, 1) noise of ``like``'s shape, drawn on the CPU from ``seed`` as ComfyUI draws its noise."""
    generator = torch.Generator(device="cpu").manual_seed(seed % SEED_RANGE)
    return torch.randn(like.shape, generator=generator, dtype=torch.float32).to(like)


def reinitialise(x0: torch.Tensor, initial_noise: torch.Tensor, fresh_noise: torch.Tensor, sigma: float,
                 parametrisation: str, lowpass: LowPassFilter, variance_preserving: bool = False) -> torch.Tensor:
    """z' = F⁻¹(F(z_σ(x0, ε))·H + F(z_σ(0, η))·(1−H)): the start of the next FreeInit iteration
    (``variance_preserving``: √(1−H²) for 1−H, see ``spectral_mix``)."""
    if initial_noise.shape != x0.shape:
        raise ValueError(f"initial noise of shape {tuple(initial_noise.shape)} does not match the latent "
                         f"of shape {tuple(x0.shape)}")
    noisy = forward_diffuse(x0, initial_noise.to(x0), sigma, parametrisation)
    fresh = forward_diffuse(torch.zeros_like(noisy), fresh_noise.to(noisy), sigma, parametrisation)
    return spectral_mix(noisy, fresh, lowpass, variance_preserving)


def freeinit(sample: Callable[[torch.Tensor, int, int], torch.Tensor], initial_noise: torch.Tensor,
             step_counts: Sequence[int], fresh_noise: Callable[[int], torch.Tensor], sigma: float | Sequence[float],
             parametrisation: str, lowpass: LowPassFilter, variance_preserving: bool = False) -> list[torch.Tensor]:
    """Run FreeInit; return every iteration's clean latent.

    ``sample(start, steps, i)`` samples iteration i: ``start`` is ε for i = 0 and the reinitialised noisy
    latent z' (unit-variance form at the noise level σ_i) for i ≥ 1; it returns the clean latent in the
    model's latent space. ``fresh_noise(i)`` is η_i. ``sigma`` is σ_i, one value for every iteration or one
    per iteration (a partial-denoise schedule starts a little differently for each step count).
    """
    sigmas = [float(sigma)] * len(step_counts) if isinstance(sigma, int | float) else list(sigma)
    if len(sigmas) != len(step_counts):
        raise ValueError(f"got {len(sigmas)} sigmas for {len(step_counts)} iterations")
    results: list[torch.Tensor] = []
    start = initial_noise
    for i, steps in enumerate(step_counts):
        if i > 0:
            start = reinitialise(results[-1], initial_noise, fresh_noise(i), sigmas[i], parametrisation, lowpass,
                                 variance_preserving)
        results.append(sample(start, steps, i))
    return results
