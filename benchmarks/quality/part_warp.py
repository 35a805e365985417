"""Part B: SDEdit of camera-moving videos, frame by frame with the image UNet, under five noise modes.

Noise modes: independent per frame, one fixed frame for all, particle- and grid-warped along the known
motion by the pack's kernels (``kernels.warp.sequence.warp_noise_sequence``), and a bilinear resampling of the
previous frame's noise (a naive baseline kept here, not in the pack: it blurs the noise and lowers its
variance). Metrics per seed: warping error along the known motion, PSNR to the input, sticking, detail and
the noise's own standard deviation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from temporal_noise.kernels import seeded_noise
from temporal_noise.kernels.motion.flow_maps import sample_bilinear
from temporal_noise.kernels.warp.sequence import warp_noise_sequence

from . import metrics
from .metrics import visible
from .motions import MOTIONS, Motion
from .sampling import sdedit
from .scenes import FRAMES, SIZE, random_scenes, render
from .stats import Paired, paired
from .unet import TinyUNet

CHANNELS = 3
SDEDIT_START = 299  # timestep SDEdit diffuses the input to (σ ≈ 0.8)
SDEDIT_STEPS = 3
SCENE_SEED_OFFSET = 500_000  # scenes of part B apart from part A's data
MOTION_SEED_STRIDE = 10_000  # every motion gets its own scenes and noise: independent evidence per motion


def _frame_noise(seed: int, frame: int) -> torch.Tensor:
    return seeded_noise(torch.empty(CHANNELS, SIZE, SIZE), seed * FRAMES + frame)


def independent_noise(seeds: list[int], maps: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] fresh noise per frame."""
    return torch.stack([torch.stack([_frame_noise(seed, t) for t in range(len(maps) + 1)]) for seed in seeds])


def fixed_noise(seeds: list[int], maps: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] frame 0's noise on every frame: it sticks to the screen."""
    first = torch.stack([_frame_noise(seed, 0) for seed in seeds])
    return first.unsqueeze(1).expand(-1, len(maps) + 1, -1, -1, -1).clone()


def bilinear_noise(seeds: list[int], maps: torch.Tensor) -> torch.Tensor:
    """[B, T, C, H, W] previous frame's noise resampled bilinearly at the backward map, fresh outside."""
    frames = [torch.stack([_frame_noise(seed, 0) for seed in seeds])]
    for t, backward in enumerate(maps, start=1):
        positions = backward.expand(len(seeds), *backward.shape)
        fresh = torch.stack([_frame_noise(seed, t) for seed in seeds])
        frames.append(torch.where(visible(positions), sample_bilinear(frames[-1], positions), fresh))
    return torch.stack(frames, dim=1)


def _warped(method: str) -> Callable[[list[int], torch.Tensor], torch.Tensor]:
    def noise(seeds: list[int], maps: torch.Tensor) -> torch.Tensor:
        """[B, T, C, H, W] from ``kernels.warp_noise_sequence``: one call warps all seeds' channels
        (channels are independent noise fields moved by the same map), seeded by the first seed."""
        warped = warp_noise_sequence(maps, CHANNELS * len(seeds), seed=seeds[0], method=method)
        return warped.view(len(maps) + 1, len(seeds), CHANNELS, SIZE, SIZE).transpose(0, 1)

    return noise


NOISE_MODES = {
    "independent": independent_noise,
    "fixed": fixed_noise,
    "particle warp": _warped("particle"),
    "grid warp": _warped("grid"),
    "bilinear warp": bilinear_noise,
}
PER_SEED = {"warping error": False, "PSNR (dB)": True, "sticking": None, "detail": None, "noise std": None}


def input_videos(motion: Motion, seeds: list[int]) -> torch.Tensor:
    """[B, 3, T, H, W]: one scene per seed moved by ``motion``."""
    points = motion.scene_points()
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
    return out.view(videos.shape[0], FRAMES, videos.shape[1], SIZE, SIZE).transpose(1, 2)


@dataclass
class WarpResults:
    """Per-seed values: ``values[motion][mode][metric]`` is a tensor [seeds]."""

    values: dict[str, dict[str, dict[str, torch.Tensor]]] = field(default_factory=dict)
    input_warping_error: dict[str, float] = field(default_factory=dict)  # the input's own (interpolation)
    examples: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)  # motion → row → [3,T,H,W]

    def mean(self, motion: str, mode: str, metric: str) -> float:
        return self.values[motion][mode][metric].mean().item()

    def compare(self, motion: str, reference: str, mode: str, metric: str) -> Paired:
        """``mode`` against ``reference`` on ``metric``, paired over seeds."""
        by_mode = self.values[motion]
        return paired(by_mode[reference][metric], by_mode[mode][metric], PER_SEED[metric])

    def compare_pooled(self, reference: str, mode: str, metric: str) -> Paired:
        """The same, pooled over all motions (each motion has its own scenes and noise)."""
        a = torch.cat([by_mode[reference][metric] for by_mode in self.values.values()])
        b = torch.cat([by_mode[mode][metric] for by_mode in self.values.values()])
        return paired(a, b, PER_SEED[metric])


def run(model: TinyUNet, seeds: list[int], modes: list[str], motions: tuple[Motion, ...] = MOTIONS,
        example_seed_index: int = 0) -> WarpResults:
    """Every motion × noise mode on every seed."""
    results = WarpResults()
    for index, motion in enumerate(motions):
        maps = motion.backward_maps()
        motion_seeds = [seed + MOTION_SEED_STRIDE * index for seed in seeds]
        videos = input_videos(motion, motion_seeds)
        results.input_warping_error[motion.name] = metrics.warping_error(videos, maps).mean().item()
        results.values[motion.name] = {}
        results.examples[motion.name] = {"input": videos[example_seed_index]}
        for mode in modes:
            noise = NOISE_MODES[mode](motion_seeds, maps)
            out = edit(model, videos, noise)
            results.values[motion.name][mode] = {
                "warping error": metrics.warping_error(out, maps),
                "PSNR (dB)": metrics.psnr(out, videos),
                "sticking": metrics.sticking(out, videos, maps),
                "detail": metrics.detail(out),
                "noise std": noise.flatten(1).std(dim=1),
            }
            results.examples[motion.name][mode] = out[example_seed_index]
    return results
