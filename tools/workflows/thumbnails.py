"""Write the template browser's thumbnails ``workflows/<name>.jpg`` (run: ``python tools/workflows/thumbnails.py``).

Each thumbnail shows what its workflow does, made from the pack's own output on code-made data (no model weights):
the FreeInit reinitialisation of a moving latent, the filters as the Frequency Filter previews them, and warped
noise beside the video or camera move it follows. Square (the browser crops cards to squares), 2 × 2 labelled
tiles, JPEG under 60 KB.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

HERE = Path(__file__).resolve().parent
PACK_ROOT = HERE.parents[1]
sys.path.insert(0, str(PACK_ROOT))

from benchmarks.quality.flow import flow_sigmas  # noqa: E402
from benchmarks.synthetic_video import moving_texture_clip  # noqa: E402
from demo import SD15_SIGMA_MAX, drifting_blobs, log_spectrum  # noqa: E402
from temporal_noise.kernels import LowPassFilter, forward_diffuse, spectral_mix  # noqa: E402
from temporal_noise.kernels.motion.camera_motion import camera_motion_flow  # noqa: E402
from temporal_noise.kernels.motion.flow_sequence import FlowSequence  # noqa: E402
from temporal_noise.kernels.motion.optical_flow import estimate_flow  # noqa: E402
from temporal_noise.kernels.video.warped_noise import video_noise  # noqa: E402
from temporal_noise.kernels.warp.counter_rng import frame_noise  # noqa: E402
from temporal_noise.nodes.frequency_filter import filter_preview  # noqa: E402
from temporal_noise.nodes.preview import flow_preview, noise_colour  # noqa: E402

WORKFLOWS_DIR = PACK_ROOT / "workflows"
TILE = 192
LABEL = 20
GAP = 4  # dark margin around each tile's picture
JPEG_QUALITY = 80
Tile = tuple[str, torch.Tensor]  # a label and an RGB picture [H, W, 3] in [0, 1]

GAUSSIAN = LowPassFilter("gaussian", 0.25, 0.25)
BUTTERWORTH = LowPassFilter("butterworth", 0.25, 0.25, 4)


def fit(picture: torch.Tensor) -> np.ndarray:
    """An RGB picture scaled (sharp pixels) into the tile's picture area, centred on dark grey, as BGR uint8."""
    height, width = TILE - LABEL, TILE
    inner_height, inner_width = height - GAP, width - 2 * GAP
    scale = min(inner_height / picture.shape[0], inner_width / picture.shape[1])
    size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
    rgb = (picture.clamp(0, 1).numpy() * 255).astype(np.uint8)
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    area = np.full((height, width, 3), 40, np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    area[top:top + size[1], left:left + size[0]] = resized
    return area[..., ::-1]


def sheet(tiles: list[Tile]) -> np.ndarray:
    """Four labelled tiles, two by two."""
    pictures = []
    for label, picture in tiles:
        tile = cv2.copyMakeBorder(fit(picture), LABEL, 0, 0, 0, cv2.BORDER_CONSTANT, value=(40, 40, 40))
        cv2.putText(tile, label, (5, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
        pictures.append(tile)
    return np.concatenate([np.concatenate(pictures[:2], axis=1), np.concatenate(pictures[2:], axis=1)], axis=0)


def latent_colour(latent: torch.Tensor) -> torch.Tensor:
    """Channels 0–2 of a latent frame ``[C, h, w]`` as RGB, ±2.5 σ of the frame mapped to [0, 1]."""
    rgb = latent[:3] / latent[:3].std()
    return (0.5 + rgb / 5).clamp(0, 1).permute(1, 2, 0)


def spectrum_pictures(*latents: torch.Tensor) -> list[torch.Tensor]:
    """The demo's log power spectra (temporal DC, DC in the middle) as grey, on one scale."""
    spectra = [log_spectrum(latent) for latent in latents]
    low, high = min(float(s.min()) for s in spectra), max(float(s.max()) for s in spectra)
    return [((s - low) / (high - low))[..., None].expand(-1, -1, 3) for s in spectra]


def filter_picture(lowpass: LowPassFilter) -> torch.Tensor:
    return filter_preview(lowpass, 16, 88)[0]


def noise_picture(noise: torch.Tensor, scale: int) -> torch.Tensor:
    """A noise frame ``[C, h, w]`` as the Integral Noise Warp preview colours it, each pixel scale × scale."""
    return noise_colour(noise[None], noise.shape[1] * scale, noise.shape[2] * scale)[0]


def independent_noise(frames: int, height: int, width: int) -> torch.Tensor:
    """Fresh noise every frame ``[T, 4, h, w]``, for comparison."""
    return torch.stack([frame_noise(4, height, width, seed=7, frame=t) for t in range(frames)])


def over_time(frames: torch.Tensor, row_height: int, fraction: float = 1.0) -> torch.Tensor:
    """The middle row of every frame ``[T, H, W, 3]`` (its middle ``fraction`` of columns), time going down, each
    ``row_height`` tall: what moves sideways draws slanted streaks, what stays draws vertical ones, and what
    flickers draws none."""
    height, width = frames.shape[1:3]
    left = round(width * (1 - fraction) / 2)
    return frames[:, height // 2, left:width - left].repeat_interleave(row_height, dim=0)


def middle(picture: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    """The middle ``fraction`` of a picture ``[H, W, ...]`` in each direction."""
    height, width = picture.shape[:2]
    top, left = round(height * (1 - fraction) / 2), round(width * (1 - fraction) / 2)
    return picture[top:height - top, left:width - left]


def freeinit_pass(lowpass: LowPassFilter, sigma: float = SD15_SIGMA_MAX,
                  parametrisation: str = "vp") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A smooth moving latent (a sampler pass's result), it diffused to ``sigma`` (SD1.5's σ_max), and FreeInit's
    noise."""
    x0 = drifting_blobs(16, 4, 48)
    eps, eta = torch.randn(2, *x0.shape, generator=torch.Generator().manual_seed(1)).unbind(0)
    noisy = forward_diffuse(x0, eps, sigma, parametrisation)
    return x0, noisy, spectral_mix(noisy, eta, lowpass)


def kept_layout(reinit: torch.Tensor, lowpass: LowPassFilter) -> torch.Tensor:
    """The low frequencies of FreeInit's noise: the previous pass's layout that the next pass starts from."""
    return spectral_mix(reinit, torch.zeros_like(reinit), lowpass)


def texture_clip() -> tuple[torch.Tensor, FlowSequence, torch.Tensor]:
    """The demo's moving texture, its optical flow (OpenCV DIS) and warped noise at 8× smaller latent size."""
    images, _ = moving_texture_clip(16, 256, 256, pan_x=12.0, rotate_degrees=0.5)
    flow = estimate_flow(images.movedim(-1, 1), "dis_medium", scale=1.0)
    return images, flow, video_noise(flow, 4, (32, 32), seed=0)


def text_to_video() -> list[Tile]:
    x0, noisy, reinit = freeinit_pass(GAUSSIAN)
    return [("pass 1 result (latent)", latent_colour(x0[0])), ("diffused to sigma_max", noise_picture(noisy[0], 1)),
            ("FreeInit noise", noise_picture(reinit[0], 1)),
            ("its low frequencies", latent_colour(kept_layout(reinit, GAUSSIAN)[0]))]


def controlnet_video() -> list[Tile]:
    images, _, _ = texture_clip()
    grey = cv2.cvtColor((images[0].numpy() * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    edges = torch.from_numpy(cv2.Canny(grey, 100, 200)).float().div(255)[..., None].expand(-1, -1, 3)
    _, _, reinit = freeinit_pass(BUTTERWORTH)
    return [("video frame", middle(images[0])), ("canny edges: the hint", middle(edges)),
            ("butterworth n=4 filter", filter_picture(BUTTERWORTH)),
            ("FreeInit keeps layout", latent_colour(kept_layout(reinit, BUTTERWORTH)[0]))]


def video_to_video() -> list[Tile]:
    images, _, noise = texture_clip()
    independent = independent_noise(*noise.shape[:1], *noise.shape[2:])
    row_height = 14
    return [("video, frame 0", middle(images[0])), ("video: a row over time", over_time(images, row_height)),
            ("warped: that row", over_time(noise_colour(noise, 256, 256), row_height)),
            ("independent: that row", over_time(noise_colour(independent, 256, 256), row_height))]


def freeinit_by_hand() -> list[Tile]:
    _, noisy, reinit = freeinit_pass(BUTTERWORTH)
    noised, reinitialised = spectrum_pictures(noisy, reinit)
    return [("butterworth n=4 (used)", filter_picture(BUTTERWORTH)), ("gaussian (paper)", filter_picture(GAUSSIAN)),
            ("spectrum: pass 1 noised", noised), ("spectrum: Noise Reinit", reinitialised)]


def camera_noise(frames: int, height: int, width: int, temporal_factor: int) -> tuple[FlowSequence, torch.Tensor]:
    """The workflows' camera move (pan 2 px per frame, zoom 1.005) and its warped noise at 8× smaller latent size."""
    flow = camera_motion_flow(frames, height, width, pan_x=2.0, zoom=1.005)
    return flow, video_noise(flow, 4, (height // 8, width // 8), seed=42, temporal_factor=temporal_factor)


def camera_tiles(frames: int, height: int, width: int, temporal_factor: int) -> list[Tile]:
    """The camera's flow, the first noise frame, and a row of the warped and of independent noise over time."""
    flow, noise = camera_noise(frames, height, width, temporal_factor)
    independent = independent_noise(*noise.shape[:1], *noise.shape[2:])
    fraction, row_height = 192 / width, 168 // noise.shape[0]
    return [("camera flow (pan, zoom)", flow_preview(flow, torch.tensor([frames - 1]))[0][0]),
            ("warped noise, frame 0", middle(noise_picture(noise[0], 8), fraction)),
            ("warped: a row over time", over_time(noise_colour(noise, height, width), row_height, fraction)),
            ("independent: that row", over_time(noise_colour(independent, height, width), row_height, fraction))]


def camera_motion_freeinit() -> list[Tile]:
    return camera_tiles(16, 512, 512, 1)


def wan_text_to_video() -> list[Tile]:
    return camera_tiles(33, 480, 832, 4)


def schedule_picture(sigmas: list[float], hand_over: int, level: float) -> torch.Tensor:
    """A schedule as a curve (σ from 1 at the top to 0, steps to the right): the high-noise model's part orange,
    the low-noise model's blue, and the re-noise level as a white line."""
    height, width, margin = TILE - LABEL - GAP, TILE - 2 * GAP, 14
    picture = np.full((height, width, 3), 40, np.uint8)

    def point(step: float, sigma: float) -> tuple[int, int]:
        return (round(margin + step / (len(sigmas) - 1) * (width - 2 * margin)),
                round(margin + (1 - sigma) * (height - 2 * margin)))

    points = np.array([point(step, sigma) for step, sigma in enumerate(sigmas)], np.int32)
    y = point(0, level)[1]
    for part, colour, label, corner in ((points[:hand_over + 1], (255, 150, 50), "high-noise", (margin, y + 40)),
                                        (points[hand_over:], (80, 160, 255), "low-noise", (margin, y + 60))):
        cv2.polylines(picture, [part], False, colour, 2, cv2.LINE_AA)
        cv2.putText(picture, label, corner, cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1, cv2.LINE_AA)
    cv2.line(picture, (margin, y), (width - margin, y), (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(picture, f"re-noise {level:g}", (margin, y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                cv2.LINE_AA)
    return torch.from_numpy(picture).float() / 255


def wan22_freeinit_by_hand() -> list[Tile]:
    """Workflow 7's schedule split between the two models (shift 8, 20 steps, hand-over at 10) and Noise Reinit at
    its level (σ = 0.9, 10 % kept) on a flow model."""
    level = 0.9
    x0, _, reinit = freeinit_pass(GAUSSIAN, level, "flow")
    return [("sigmas: high, then low model", schedule_picture(flow_sigmas(20, 8.0), 10, level)),
            ("pass 1 result (latent)", latent_colour(x0[0])), ("Noise Reinit noise", noise_picture(reinit[0], 1)),
            ("its low frequencies", latent_colour(kept_layout(reinit, GAUSSIAN)[0]))]


THUMBNAILS: dict[str, Callable[[], list[Tile]]] = {
    "1 FreeInit text to video (AnimateDiff)": text_to_video,
    "2 FreeInit with ControlNet (AnimateDiff)": controlnet_video,
    "3 Warped noise video to video (AnimateDiff)": video_to_video,
    "4 FreeInit built from sampler nodes": freeinit_by_hand,
    "5 Camera move noise into FreeInit (AnimateDiff)": camera_motion_freeinit,
    "6 Wan 2.1 FreeInit with warped noise": wan_text_to_video,
    "7 Wan 2.2 FreeInit by hand with the two-model split": wan22_freeinit_by_hand,
}


def main() -> None:
    workflows = {path.stem for path in WORKFLOWS_DIR.glob("*.json")}
    if workflows != set(THUMBNAILS):
        raise SystemExit(f"workflows without a thumbnail: {sorted(workflows - set(THUMBNAILS))}; "
                         f"thumbnails without a workflow: {sorted(set(THUMBNAILS) - workflows)}")
    for name, tiles in THUMBNAILS.items():
        path = WORKFLOWS_DIR / f"{name}.jpg"
        cv2.imwrite(str(path), sheet(tiles()), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        print(f"wrote workflows/{path.name} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
