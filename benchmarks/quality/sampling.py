"""Sampling the trained models: the video denoiser, per-seed noise, FreeInit through the pack's kernels,
and SDEdit of frames."""

from __future__ import annotations

import math

import torch

from temporal_noise.kernels import (
    LowPassFilter,
    forward_diffuse,
    freeinit,
    iteration_seed,
    iteration_steps,
    partial_schedule,
    seeded_noise,
)

from .schedule import Denoiser, ddim_sample, ddim_timesteps, sigma_at
from .unet import TinyUNet


def video_denoiser(model: TinyUNet) -> Denoiser:
    """The video UNet's prediction (v, or the velocity of a flow model) for videos [B, C, T, H, W] and
    timesteps [B]."""

    def denoise(x: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        batch, channels, frames, height, width = x.shape
        flat = x.transpose(1, 2).reshape(batch * frames, channels, height, width)
        v = model(flat, timesteps.repeat_interleave(frames), frames)
        return v.view(batch, frames, channels, height, width).transpose(1, 2)

    return denoise


def image_denoiser(model: TinyUNet) -> Denoiser:
    """v-prediction of the image UNet for images [N, C, H, W] and timesteps [N]."""
    return lambda x, timesteps: model(x, timesteps)


def per_seed_noise(seeds: list[int], shape: tuple[int, ...]) -> torch.Tensor:
    """[len(seeds), *shape]: each seed's noise drawn as ComfyUI draws it (``kernels.seeded_noise``)."""
    like = torch.empty(shape)
    return torch.stack([seeded_noise(like, seed) for seed in seeds])


def sample_video(model: TinyUNet, start: torch.Tensor, steps: int) -> torch.Tensor:
    """DDIM from t = 999 with ``steps`` steps."""
    return ddim_sample(video_denoiser(model), start, ddim_timesteps(steps))


def pass_schedules(sampler, steps: int, iterations: int, kept: float | None, partial: float | None,
                   coarse_to_fine: bool = False) -> tuple[float, list[list[float]]]:
    """The re-noise level σ_r and every pass's noise levels.

    Pass 0 runs the model's schedule; later passes restart it at σ_r (``kernels.partial_schedule``), the
    paper's level (t = 999, the whole schedule) when ``kept`` is None, else the level keeping that share of
    x0. With ``partial``, every pass but the last runs only that share of its steps (at least one) and ends on
    the model's clean estimate.
    """
    counts = iteration_steps(steps, iterations, coarse_to_fine)
    level = sampler.paper_level(steps) if kept is None else sampler.level(kept)
    schedules = []
    for i, count in enumerate(counts):
        full = torch.tensor(sampler.sigmas(count), dtype=torch.float64)
        schedule = full if i == 0 or kept is None else partial_schedule(full, level)
        schedule = schedule.tolist()
        if partial is not None and i + 1 < len(counts):
            schedule = [*schedule[: max(1, math.ceil(partial * (len(schedule) - 1)))], 0.0]
        schedules.append(schedule)
    return level, schedules


def run_freeinit(sampler, seeds: list[int], initial_noise: torch.Tensor, lowpass: LowPassFilter, iterations: int,
                 steps: int, coarse_to_fine: bool = False, baseline: torch.Tensor | None = None,
                 kept: float | None = None, variance_preserving: bool = False,
                 partial: float | None = None) -> tuple[list[torch.Tensor], list[int]]:
    """Every FreeInit iteration's videos and the model evaluations of each, through ``kernels.freeinit``.

    The kernels' loop does the reinitialisation (forward diffusion with the same ε to σ_r, the spectral mix
    with fresh noise η_i = ``seeded_noise(iteration_seed(seed, i))`` per video). ``baseline``, if given, is
    reused as iteration 0 when that pass is the full schedule (it is deterministic).
    """
    level, schedules = pass_schedules(sampler, steps, iterations, kept, partial, coarse_to_fine)
    counts = [len(schedule) - 1 for schedule in schedules]
    shape = tuple(initial_noise.shape[1:])

    def sample(start: torch.Tensor, count: int, iteration: int) -> torch.Tensor:
        if iteration == 0 and baseline is not None and count == steps:
            return baseline
        return sampler.sample(start, schedules[iteration])

    def fresh_noise(iteration: int) -> torch.Tensor:
        return per_seed_noise([iteration_seed(seed, iteration) for seed in seeds], shape)

    results = freeinit(sample, initial_noise, counts, fresh_noise, level, sampler.parametrisation, lowpass,
                       variance_preserving)
    return results, counts


def sdedit(model: TinyUNet, frames: torch.Tensor, noise: torch.Tensor, start: int,
           steps: int) -> torch.Tensor:
    """SDEdit (Meng et al. 2022): diffuse ``frames`` [N, C, H, W] to timestep ``start`` with ``noise``
    (``kernels.forward_diffuse``) and run DDIM back to t = 0 with ``steps`` steps."""
    noisy = forward_diffuse(frames, noise, sigma_at(start), "vp")
    return ddim_sample(image_denoiser(model), noisy, ddim_timesteps(steps, start))
