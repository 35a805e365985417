"""Built-in demo: no ComfyUI, no model weights. Writes pictures and prints statistics.

    python demo.py --out demo_out

FreeInit part: a code-made "clean" video latent (soft blobs drifting across 16 frames) is diffused to
SD1.5's σ_max with noise ε, its low frequencies are kept and the high ones replaced by fresh noise η,
exactly as the FreeInit nodes do between passes. Pictures: the four filters, and log power spectra of
ε, the diffused latent and the reinitialised one.

Warp part: a code-made clip (a texture panning and rotating) → OpenCV optical flow → integral noise
warping at latent resolution (grid and particle), as the Integral Noise Warp node does. Pictures: the
frames beside their warped noise; statistics: per-frame N(0, 1) checks and how well each noise frame
follows the motion, against independent noise; an animation (WebP, plays in any current browser) of the
middle of the clip beside its warped noise and independent noise, each noise pixel 16 screen pixels wide, so
that the warped noise can be seen moving with the texture (needs OpenCV 4.11 or later).
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
from scipy import stats  # noqa: E402

from benchmarks.synthetic_video import moving_texture_clip  # noqa: E402
from temporal_noise.kernels import FILTER_KINDS, LowPassFilter, forward_diffuse, spectral_mix  # noqa: E402
from temporal_noise.kernels.motion.flow_maps import map_from_backward_flow, sample_bilinear  # noqa: E402
from temporal_noise.kernels.motion.optical_flow import estimate_flow  # noqa: E402
from temporal_noise.kernels.video.warped_noise import video_noise  # noqa: E402
from temporal_noise.kernels.warp.counter_rng import frame_noise  # noqa: E402
from temporal_noise.nodes.frequency_filter import filter_preview  # noqa: E402
from temporal_noise.nodes.preview import noise_colour  # noqa: E402

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
        tile = cv2.copyMakeBorder(picture, 22, 4, 4, 4, cv2.BORDER_CONSTANT, value=(40, 40, 40))
        white = (255, 255, 255) if tile.ndim == 3 else 255
        cv2.putText(tile, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, white, 1, cv2.LINE_AA)
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


def motion_following(noise: torch.Tensor, backward_maps: torch.Tensor) -> float:
    """Mean correlation of noise frame t with frame t − 1 resampled along the true motion (interior only)."""
    moved = sample_bilinear(noise[:-1], backward_maps)
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    a, b = noise[1:][inner].flatten(1), moved[inner].flatten(1)
    return float(torch.nn.functional.cosine_similarity(a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)).mean())


def middle_enlarged(images: torch.Tensor) -> torch.Tensor:
    """The middle half (in each direction) of IMAGE frames ``[T, H, W, 3]`` at twice the size, pixels kept sharp."""
    height, width = images.shape[1:3]
    middle = images[:, height // 4:height - height // 4, width // 4:width - width // 4]
    return middle.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)


def side_by_side(panels: dict[str, torch.Tensor]) -> list[np.ndarray]:
    """One labelled BGR picture per frame, the IMAGE batches ``[T, H, W, 3]`` in [0, 1] next to each other."""
    frames = next(iter(panels.values())).shape[0]
    tiles = {label: (panel.clamp(0, 1).numpy() * 255).astype(np.uint8)[..., ::-1] for label, panel in panels.items()}
    return [labelled_row([np.ascontiguousarray(tile[t]) for tile in tiles.values()], list(tiles))
            for t in range(frames)]


def write_animation(path: Path, frames: list[np.ndarray], frame_ms: int) -> None:
    """A looping animated WebP of BGR frames (lossy, quality 85: a few hundred KB), with OpenCV 4.11 or later."""
    if not hasattr(cv2, "imwriteanimation"):
        print(f"this OpenCV ({cv2.__version__}) cannot write animations: {path.name} skipped")
        return
    animation = cv2.Animation()
    animation.frames = frames
    animation.durations = [frame_ms] * len(frames)
    animation.loop_count = 0
    cv2.imwriteanimation(str(path), animation, [cv2.IMWRITE_WEBP_QUALITY, 85])


def warp_demo(out: Path) -> None:
    frames, size, latent = 12, 256, 32
    images, true_flow = moving_texture_clip(frames, size, size, pan_x=12.0, rotate_degrees=0.5)
    flow = estimate_flow(images.movedim(-1, 1), "dis_medium", scale=1.0)
    true_maps = map_from_backward_flow(true_flow.resized(latent, latent).backward)
    independent = torch.stack([frame_noise(4, latent, latent, seed=7, frame=t) for t in range(frames)])
    results = {"independent": independent}
    for method in ("grid", "particle"):
        results[method] = video_noise(flow, 4, (latent, latent), seed=0, method=method)

    # the middle quarter of every other frame, enlarged: the noise pattern drifts right with the texture
    crop = slice(size // 4, 3 * size // 4)
    shown = list(range(0, frames, 2))
    rows = {"video": images[shown][:, crop, crop],
            "warped": noise_colour(results["grid"][shown], size, size)[:, crop, crop],
            "independent": noise_colour(independent[shown], size, size)[:, crop, crop]}
    strips = []
    for label, row in rows.items():
        tiles = [(tile.numpy() * 255).astype(np.uint8) for tile in row]
        strips.append(labelled_row([cv2.cvtColor(tile, cv2.COLOR_RGB2BGR) for tile in tiles],
                                   [f"{label}, t={t}" for t in shown]))
    cv2.imwrite(str(out / "warped_noise.png"), np.concatenate(strips, axis=0))
    panels = {"video": images, "warped noise (grid)": noise_colour(results["grid"], size, size),
              "independent noise": noise_colour(independent, size, size)}
    enlarged = {label: middle_enlarged(panel) for label, panel in panels.items()}
    write_animation(out / "warped_noise.webp", side_by_side(enlarged), frame_ms=250)

    error = (flow.backward - true_flow.backward)[..., 16:-16, 16:-16].norm(dim=1).mean()
    print(f"\nWarped noise: {frames} frames of {size}x{size} (pan 12 px and 0.5 degree per frame) -> latent "
          f"{latent}x{latent}x4; optical flow error {float(error):.2f} px")
    print(f"{'noise':<14}{'mean':>8}{'std':>8}{'min KS p':>10}{'follows motion':>16}")
    for name, noise in results.items():
        ks = min(stats.kstest(frame.flatten().numpy(), "norm").pvalue for frame in noise)
        print(f"{name:<14}{float(noise.mean()):>8.3f}{float(noise.std()):>8.3f}{ks:>10.3f}"
              f"{motion_following(noise, true_maps):>16.3f}")
    print("follows motion: correlation of each noise frame with the previous one moved along the true motion")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="folder for the pictures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    freeinit_demo(args.out)
    warp_demo(args.out)
    print(f"pictures written to {args.out.resolve()}")


if __name__ == "__main__":
    main()
