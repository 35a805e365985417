"""FreeInit's noise reinitialisation by spectral mixing (Wu et al. 2023, Sec. 3.3, Eq. 7-8).

    z' = F⁻¹( F(z)·H + F(η)·(1 − H) )

or, variance-preserving (FreqPrior, Yuan et al. 2025): z' = F⁻¹( F(z)·H + F(η)·√(1 − H²) ), under which two
white inputs of unit variance give a white output of unit variance (the first gives H² + (1−H)² < 1 per bin).

over the (time, height, width) axes of a latent, with H a low-pass filter, z the diffused latent and
η fresh Gaussian noise: low frequencies come from z, high frequencies from η. ``rfftn`` is used, so the
result is real by construction. The FFT runs in float32 whatever the input dtype (half-precision FFTs are
unsupported or limited to powers of two); the result is cast back.
"""

from __future__ import annotations

import torch
from einops import rearrange

from ..checks import check_finite
from ..layout import time_axis
from .lowpass import LowPassFilter


def spectral_mix(low: torch.Tensor, high: torch.Tensor, lowpass: LowPassFilter,
                 variance_preserving: bool = False) -> torch.Tensor:
    """Low frequencies of ``low`` plus high frequencies of ``high``; both ``[T,C,H,W]`` or ``[B,C,T,H,W]``,
    finite (one NaN would spread over the whole spectrum)."""
    if low.shape != high.shape:
        raise ValueError(f"cannot mix frequencies of shapes {tuple(low.shape)} and {tuple(high.shape)}")
    if low.device != high.device:
        raise ValueError(f"cannot mix frequencies of tensors on {low.device} and {high.device}")
    if low.numel() == 0:
        raise ValueError(f"cannot mix frequencies of an empty latent of shape {tuple(low.shape)}")
    t = time_axis(low, "low")
    check_finite(low, "low")
    check_finite(high, "high")
    frames, height, width = low.shape[t], low.shape[-2], low.shape[-1]
    dims = (t, low.ndim - 2, low.ndim - 1)
    gain = lowpass.response(frames, height, width, device=low.device, onesided=True)
    gain = rearrange(gain, "t h w -> t 1 h w") if t == 0 else gain  # [T, C, H, W]: broadcast over channels
    spectrum_low = torch.fft.rfftn(low.float(), dim=dims)
    spectrum_high = torch.fft.rfftn(high.float(), dim=dims)
    if variance_preserving:
        mixed = spectrum_low * gain + spectrum_high * (1.0 - gain * gain).clamp(min=0.0).sqrt()
    else:
        mixed = spectrum_high + (spectrum_low - spectrum_high) * gain
    return torch.fft.irfftn(mixed, s=(frames, height, width), dim=dims).to(low.dtype)
