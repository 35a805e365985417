"""Built-in demo: no ComfyUI, no model weights. Writes pictures and prints statistics.

    python demo.py --out demo_out

FreeInit part: a code-made "clean" video latent (soft blobs drifting across 16 frames) is diffused to
SD1.5's σ_max with noise ε, its low frequencies are kept and the high ones replaced by fresh noise η,
exactly as the FreeInit nodes do between passes. Pictures: the four filters, and log power spectra of
ε, the diffused latent and the reinitialised one.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from standalone import load_pack

load_pack()
from temporal_noise.kernels import FILTER_KINDS, LowPassFilter, forward_diffuse, spectral_mix  # noqa: E402
from temporal_noise.nodes.frequency_filter import filter_preview  # noqa: E402

SD15_SIGMA_MAX = 14.614642
FRAMES, CHANNELS, SIZE = 16, 4, 48


def drifting_blobs(frames: int, channels: int, size: int, seed: int = 0) -> torch.Tensor:
    """A smooth, unit-variance latent ``[frames, channels, size, size]``: Gaussian blobs moving steadily."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.rand(6, 2, generator=generator) * size
    velocity = (torch.rand(6, 2, generator=generator) - 0.5) * 1.5
    weights = torch.randn(6, channels, generator=generator)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    video = torch.zeros(frames, channels, size, size)
    for t in range(frames):
        for centre, step, weight in zip(centres, velocity, weights, strict=True):
            cy, cx = (centre + t * step).tolist()
            blob = torch.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (size / 8) ** 2))
            video[t] += weight[:, None, None] * blob
    return (video - video.mean()) / video.std()


def log_spectrum(latent: torch.Tensor) -> torch.Tensor:
    """log10 power over (f_h, f_w) at temporal DC, averaged over channels, DC in the middle."""
    power = torch.fft.fftn(latent, dim=(0, 2, 3)).abs().pow(2).mean(dim=1)[0] / latent[:, 0].numel()
    return torch.fft.fftshift(power).clamp_min(1e-6).log10()


def band_energy(latent: torch.Tensor, lowpass: LowPassFilter) -> float:
    """Fraction of the spectral energy inside the filter's pass band (weighted by H)."""
    frames, _, height, width = latent.shape
    power = torch.fft.fftn(latent, dim=(0, 2, 3)).abs().pow(2).mean(dim=1)
    return float((power * lowpass.response(frames, height, width)).sum() / power.sum())


def to_uint8(picture: torch.Tensor, low: float, high: float, scale: int) -> np.ndarray:
    normalised = ((picture - low) / (high - low)).clamp(0, 1).numpy()
    grey = (normalised * 255).astype(np.uint8)
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def labelled_row(pictures: list[np.ndarray], labels: list[str]) -> np.ndarray:
    tiles = []
    for picture, label in zip(pictures, labels, strict=True):
        tile = cv2.copyMakeBorder(picture, 22, 4, 4, 4, cv2.BORDER_CONSTANT, value=40)
        cv2.putText(tile, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 255, 1, cv2.LINE_AA)
        tiles.append(tile)
    return np.concatenate(tiles, axis=1)


def freeinit_demo(out: Path) -> None:
    x0 = drifting_blobs(FRAMES, CHANNELS, SIZE)
    generator = torch.Generator().manual_seed(1)
    eps, eta = torch.randn(2, *x0.shape, generator=generator).unbind(0)
    lowpass = LowPassFilter("gaussian", 0.25, 0.25)
    noisy = forward_diffuse(x0, eps, SD15_SIGMA_MAX, "vp")
    reinit = spectral_mix(noisy, eta, lowpass)

    previews = [filter_preview(LowPassFilter(kind, 0.25, 0.25), FRAMES, SIZE)[0, :, :, 0] for kind in FILTER_KINDS]
    cv2.imwrite(str(out / "freeinit_filters.png"), labelled_row(
        [to_uint8(preview, 0, 1, 3) for preview in previews],
        [f"{kind}: (f_h,f_w) | (f_t,f_w)" for kind in FILTER_KINDS]))

    spectra = [log_spectrum(latent) for latent in (eps, noisy, reinit)]
    low, high = min(float(s.min()) for s in spectra), max(float(s.max()) for s in spectra)
    pictures = [to_uint8(s, low, high, 4) for s in spectra]
    cv2.imwrite(str(out / "freeinit_spectra.png"), labelled_row(
        pictures, ["fresh noise (eps)", "x0 diffused to sigma_max", "after reinit"]))

    alpha = 1.0 / math.sqrt(1.0 + SD15_SIGMA_MAX**2)
    print(f"FreeInit on a {FRAMES}x{CHANNELS}x{SIZE}x{SIZE} latent, gaussian d_s = d_t = 0.25, "
          f"sigma = {SD15_SIGMA_MAX} (sqrt(alpha_bar) = {alpha:.4f})")
    print(f"{'latent':<28}{'mean':>8}{'std':>8}{'energy in band':>16}{'corr with x0':>14}")
    for name, latent in (("fresh noise eps", eps), ("diffused x0 (z_T)", noisy), ("reinitialised z'", reinit)):
        corr = float(torch.corrcoef(torch.stack([latent.flatten(), x0.flatten()]))[0, 1])
        print(f"{name:<28}{float(latent.mean()):>8.3f}{float(latent.std()):>8.3f}"
              f"{band_energy(latent, lowpass):>16.3f}{corr:>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="folder for the pictures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    freeinit_demo(args.out)
    print(f"pictures written to {args.out.resolve()}")


if __name__ == "__main__":
    main()
