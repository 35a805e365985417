"""Forward diffusion to a noise level σ and the noise a ComfyUI sampler needs to start from a state.

Two parametrisations cover ComfyUI's model types (``comfy/model_sampling.py``):

* ``"vp"``: EPS, V-prediction (and EDM, X0). The sampler state at σ is x = x0 + σ·ε; its unit-variance
  form (DDPM's x_t, with ᾱ = 1/(1+σ²)) is

      z = (x0 + σ·ε) / √(1+σ²) = √ᾱ·x0 + √(1−ᾱ)·ε.

  ComfyUI starts sampling from x = latent + s·n with s = √(1+σ²) at the top of the schedule
  ("max denoise") and s = σ below it, so the noise that starts it from z is

      n = (z·√(1+σ²) − latent) / s.

* ``"flow"``: CONST (rectified flow: Wan, HunyuanVideo, LTXV, Flux, SD3). The state is already of unit
  variance, z = (1−σ)·x0 + σ·ε, and ComfyUI starts from x = σ·n + (1−σ)·latent, so

      n = (z − (1−σ)·latent) / σ.

FreeInit mixes frequencies on z (Wu et al. 2023, Eq. 6: z_T = √ᾱ_T·z_0 + √(1−ᾱ_T)·ε).

The share k of x0 that z keeps names a re-noise level the same way for every model and shift:

    k = √ᾱ = 1/√(1+σ²)  ⇔  σ = √(1−k²)/k        (vp)
    k = 1 − σ           ⇔  σ = 1 − k             (flow)

At t = 999 of SD's scaled_linear schedule k ≈ 6.8 % (3.97 % under AnimateDiff's sqrt_linear); a flow model
shifted by s keeps k ≈ 0.1 %/s at t = 0.999. A pass restarted at σ samples the model's schedule from σ down
(``partial_schedule``).
"""

from __future__ import annotations

import math

import torch

from ..checks import check_finite

PARAMETRISATIONS = ("vp", "flow")
FLOW_SIGMA_MAX = 1.0 + 1e-5  # ComfyUI's float32 shifted schedules start at σ = 1.0000001 for many shifts


def _check(parametrisation: str, sigma: float) -> None:
    if parametrisation not in PARAMETRISATIONS:
        raise ValueError(f"parametrisation must be one of {PARAMETRISATIONS}, got {parametrisation!r}")
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError(f"sigma must be finite and > 0, got {sigma}")
    if parametrisation == "flow" and sigma > FLOW_SIGMA_MAX:
        raise ValueError(f"a flow model's sigma lies in (0, 1] (up to float32 rounding), got {sigma}")


def forward_diffuse(x0: torch.Tensor, noise: torch.Tensor, sigma: float, parametrisation: str) -> torch.Tensor:
    """The clean latent ``x0`` diffused to ``sigma`` with ``noise`` (both finite, of one shape), in unit-variance
    form z."""
    _check(parametrisation, sigma)
    if x0.shape != noise.shape:
        raise ValueError(f"noise of shape {tuple(noise.shape)} does not match x0 of shape {tuple(x0.shape)}")
    check_finite(x0, "x0")
    check_finite(noise, "noise")
    if parametrisation == "vp":
        return (x0 + sigma * noise) / math.sqrt(1.0 + sigma * sigma)
    return (1.0 - sigma) * x0 + sigma * noise


def signal_fraction(sigma: float, parametrisation: str) -> float:
    """How much of x0 the unit-variance state z at ``sigma`` keeps: √ᾱ = 1/√(1+σ²) (vp) or 1 − σ (flow)."""
    _check(parametrisation, sigma)
    return 1.0 / math.sqrt(1.0 + sigma * sigma) if parametrisation == "vp" else 1.0 - sigma


def sigma_for_signal_fraction(kept: float, parametrisation: str) -> float:
    """The noise level σ at which the unit-variance state keeps the share ``kept`` ∈ (0, 1) of x0."""
    if not 0.0 < kept < 1.0:
        raise ValueError(f"the share of x0 kept must lie in (0, 1), got {kept}")
    if parametrisation not in PARAMETRISATIONS:
        raise ValueError(f"parametrisation must be one of {PARAMETRISATIONS}, got {parametrisation!r}")
    return math.sqrt(1.0 - kept * kept) / kept if parametrisation == "vp" else 1.0 - kept


SAME_SIGMA = 1e-5  # relative: ComfyUI's tolerance for "the same σ" (max denoise), above float32 rounding


def partial_schedule(sigmas: torch.Tensor, sigma: float) -> torch.Tensor:
    """A descending schedule restarted at ``sigma``: σ followed by the ``sigmas`` below it (all of ``sigmas``
    if σ is not below its first value). A schedule value within ``SAME_SIGMA`` of σ counts as σ itself, so a
    level on the schedule adds no step of zero length."""
    if sigmas.ndim != 1 or sigmas.numel() < 2:
        raise ValueError(f"sigmas must be a schedule of at least 2 values, got {sigmas.tolist()}")
    if sigma >= float(sigmas[0]) * (1.0 - SAME_SIGMA):
        return sigmas
    below = sigmas[sigmas < sigma * (1.0 - SAME_SIGMA)]
    return torch.cat([sigmas.new_tensor([sigma]), below])


def noise_for_state(z: torch.Tensor, sigma: float, parametrisation: str, latent: torch.Tensor | float = 0.0,
                    max_denoise: bool = True) -> torch.Tensor:
    """The noise n for which ComfyUI's ``noise_scaling(σ, n, latent, max_denoise)`` is the state of ``z``;
    ``latent`` a number or a tensor of z's shape."""
    _check(parametrisation, sigma)
    if isinstance(latent, torch.Tensor) and latent.shape != z.shape:
        raise ValueError(f"latent of shape {tuple(latent.shape)} does not match z of shape {tuple(z.shape)}")
    check_finite(z, "z")
    if parametrisation == "vp":
        scale = math.sqrt(1.0 + sigma * sigma)
        return (z * scale - latent) / (scale if max_denoise else sigma)
    return (z - (1.0 - sigma) * latent) / sigma
