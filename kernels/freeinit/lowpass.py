"""Spatio-temporal low-pass filters of FreeInit (Wu et al. 2023, Sec. 3.3, "Noise Reinitialization").

Frequencies are signed and in units of Nyquist, ``f = 2·k/N`` for FFT bin ``k`` (``torch.fft.fftfreq``
order), so DC is bin 0 for every size, odd or even, and ``f`` lies in [−1, 1). With the spatial cutoff
``d_s`` and the temporal cutoff ``d_t`` the normalised distance of bin (t, h, w) from DC is

    d² = ((d_s/d_t)·f_t)² + f_h² + f_w²

and the filters are

    gaussian     H = exp(−d² / (2·d_s²))
    butterworth  H = 1 / (1 + (d²/d_s²)^n)
    ideal        H = [d ≤ d_s]
    box          H = [|f_t| ≤ d_t]·[|f_h| ≤ d_s]·[|f_w| ≤ d_s]   (half-widths d·N/2 bins on every axis)

H(DC) = 1 for every filter. A single frame (T = 1) has only the temporal DC bin, so the filter reduces
to its spatial part: FreeInit on one frame keeps the low *spatial* frequencies and stays a reinit, not a
reseed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

FILTER_KINDS = ("gaussian", "butterworth", "ideal", "box")
_BOUNDARY = 1.0 + 1e-6  # bins exactly on a cutoff (up to float32 rounding of 2k/N) are inside


@dataclass(frozen=True)
class LowPassFilter:
    """A FreeInit low-pass filter: ``kind``, spatial cutoff ``d_s``, temporal cutoff ``d_t``, ``order``."""

    kind: str = "gaussian"
    d_s: float = 0.25
    d_t: float = 0.25
    order: int = 4

    def __post_init__(self) -> None:
        if self.kind not in FILTER_KINDS:
            raise ValueError(f"filter kind must be one of {FILTER_KINDS}, got {self.kind!r}")
        for name in ("d_s", "d_t"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1] (a fraction of the Nyquist frequency), got {value}")
        if self.kind == "butterworth" and not (float(self.order).is_integer() and self.order >= 1):
            raise ValueError(f"order must be a positive integer, got {self.order}")

    def response(self, frames: int, height: int, width: int, *, device: torch.device | str = "cpu",
                 onesided: bool = False) -> torch.Tensor:
        """H over the FFT bins of a (frames, height, width) block, float32, DC at index (0, 0, 0).

        ``onesided=True`` gives the ``rfftn`` layout (width // 2 + 1 bins on the last axis).
        """
        for name, size in (("frames", frames), ("height", height), ("width", width)):
            if size < 1:
                raise ValueError(f"{name} must be at least 1, got {size}")
        f_t = 2.0 * torch.fft.fftfreq(frames, device=device).view(-1, 1, 1)
        f_h = 2.0 * torch.fft.fftfreq(height, device=device).view(1, -1, 1)
        f_w = 2.0 * (torch.fft.rfftfreq(width, device=device) if onesided
                     else torch.fft.fftfreq(width, device=device)).view(1, 1, -1)
        if self.kind == "box":
            inside_t = f_t.abs() <= self.d_t * _BOUNDARY
            inside_s = (f_h.abs() <= self.d_s * _BOUNDARY) & (f_w.abs() <= self.d_s * _BOUNDARY)
            return (inside_t & inside_s).float()
        d2 = ((self.d_s / self.d_t) * f_t) ** 2 + f_h**2 + f_w**2
        r2 = d2 / self.d_s**2
        if self.kind == "gaussian":
            return torch.exp(-0.5 * r2)
        if self.kind == "butterworth":
            return 1.0 / (1.0 + r2**self.order)
        return (r2 <= _BOUNDARY**2).float()

    def centred_slices(self, frames: int, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Slices of H with DC in the middle, for display: spatial (f_h × f_w at f_t = 0) and temporal
        (f_t × f_w at f_h = 0)."""
        response = torch.fft.fftshift(self.response(frames, height, width))
        return response[frames // 2], response[:, height // 2]
