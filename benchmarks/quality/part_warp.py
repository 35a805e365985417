"""Part B: SDEdit of camera-moving videos, frame by frame with the image UNet, under five noise modes.

Noise modes: independent per frame, one fixed frame for all, particle- and grid-warped along the known
motion by the pack's kernels (``kernels.noise_warp.warp_noise_sequence``), and a bilinear resampling of the
previous frame's noise (a naive baseline kept here, not in the pack: it blurs the noise and lowers its
variance). Metrics per seed: warping error along the known motion, PSNR to the input, and sticking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from temporal_noise.kernels import seeded_noise

from . import metrics
from .metrics import sample_at, visible
from .motions import MOTIONS, Motion
from .sampling import sdedit
from .scenes import FRAMES, SIZE, random_scenes, render
from .stats import Paired, paired
from .unet import TinyUNet

CHANNELS = 3
SDEDIT_START = 599  # timestep SDEdit diffuses the input to (σ ≈ 1.6)
SDEDIT_STEPS = 6
SCENE_SEED_OFFSET = 500_000  # scenes of part B apart from part A's data


def _frame_noise(seed: int, frame: int) -> torch.Tensor:
    return seeded_noise(torch.empty(CHANNELS, SIZE, SIZE), seed * FRAMES + frame)


def independent_noise(seed: int, maps: torch.Tensor) -> torch.Tensor:
    """[T, C, H, W] fresh noise per frame."""
    return torch.stack([_frame_noise(seed, t) for t in range(maps.shape[0] + 1)])


def fixed_noise(seed: int, maps: torch.Tensor) -> torch.Tensor:
    """[T, C, H, W] frame 0's noise on every frame: sticks to the screen."""
    return _frame_noise(seed, 0).expand(maps.shape[0] + 1, CHANNELS, SIZE, SIZE).clone()


def bilinear_noise(seed: int, maps: torch.Tensor) -> torch.Tensor:
    """[T, C, H, W] previous frame's noise resampled bilinearly at the backward map, fresh outside."""
    frames = [_frame_noise(seed, 0)]
    for t, backward in enumerate(maps, start=1):
        warped = sample_at(frames[-1][None], backward[None])[0]
        frames.append(torch.where(visible(backward[None])[0], warped, _frame_noise(seed, t)))
    return torch.stack(frames)


def _warped(method: str):
    def noise(seed: int, maps: torch.Tensor) -> torch.Tensor:
        from temporal_noise.kernels.noise_warp import warp_noise_sequence

        return warp_noise_sequence(maps, CHANNELS, seed=seed, method=method)

    return noise


NOISE_MODES = {
    "independent": independent_noise,
    "fixed": fixed_noise,
    "particle warp": _warped("particle"),
    "grid warp": _warped("grid"),
    "bilinear warp": bilinear_noise,
}
PER_SEED = {"warping error": False, "PSNR (dB)": True, "sticking": None, "noise std": None}


def input_videos(motion: Motion, seeds: list[int]) -> torch.Tensor:
    """[B, 3, T, H, W]: one scene per seed moved by ``motion``."""
    points = [motion.scene_points(t) for t in range(FRAMES)]
    videos = []
    for seed in seeds:
        scene = random_scenes(1, torch.Generator().manual_seed(SCENE_SEED_OFFSET + seed))
        videos.append(torch.stack([render(scene, p) for p in points], dim=2))
    return torch.cat(videos)


def edit(model: TinyUNet, videos: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """SDEdit every frame of videos [B, 3, T, H, W] with noise [B, T, 3, H, W]."""
    frames = videos.transpose(1, 2).flatten(0, 1)
    with torch.no_grad():
        out = sdedit(model, frames, noise.flatten(0, 1), SDEDIT_START, SDEDIT_STEPS)
    return out.view(videos.shape[0], FRAMES, *videos.shape[1:2], SIZE, SIZE).transpose(1, 2)


@dataclass
class WarpResults:
    seeds: int
    modes: list[str]
    means: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # motion → mode → metric
    against_independent: dict[str, dict[str, dict[str, Paired]]] = field(default_factory=dict)
    against_fixed: dict[str, dict[str, Paired]] = field(default_factory=dict)  # motion → mode (warp error)
    input_warping_error: dict[str, float] = field(default_factory=dict)
    examples: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # motion → mode → [3,T,H,W]


def run(model: TinyUNet, seeds: list[int], modes: list[str], motions: tuple[Motion, ...] = MOTIONS,
        example_seed_index: int = 0) -> WarpResults:
    """Every motion × noise mode on every seed; paired comparisons against independent and fixed noise."""
    results = WarpResults(len(seeds), modes)
    for motion in motions:
        maps = motion.backward_maps()
        videos = input_videos(motion, seeds)
        results.input_warping_error[motion.name] = metrics.warping_error(videos, maps).mean().item()
        values: dict[str, dict[str, torch.Tensor]] = {}
        examples = {"input": videos[example_seed_index]}
        for mode in modes:
            noise = torch.stack([NOISE_MODES[mode](seed, maps) for seed in seeds])
            out = edit(model, videos, noise)
            values[mode] = {
                "warping error": metrics.warping_error(out, maps),
                "PSNR (dB)": metrics.psnr(out, videos),
                "sticking": metrics.sticking(out, videos, maps),
                "noise std": noise.flatten(1).std(dim=1),
            }
            examples[mode] = out[example_seed_index]
        results.examples[motion.name] = examples
        results.means[motion.name] = {mode: {k: v.mean().item() for k, v in vals.items()}
                                      for mode, vals in values.items()}
        results.against_independent[motion.name] = {
            mode: {metric: paired(values["independent"][metric], values[mode][metric], better)
                   for metric, better in PER_SEED.items()}
            for mode in modes if mode != "independent"
        }
        results.against_fixed[motion.name] = {
            mode: paired(values["fixed"]["warping error"], values[mode]["warping error"], False)
            for mode in modes if mode not in ("independent", "fixed")
        }
    return results
