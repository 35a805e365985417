"""Sampling the trained models: the video denoiser, per-seed noise, FreeInit through the pack's kernels,
and SDEdit of frames."""

from __future__ import annotations

import torch

from temporal_noise.kernels import (
    LowPassFilter,
    forward_diffuse,
    freeinit,
    iteration_seed,
    iteration_steps,
    seeded_noise,
)

from .schedule import TRAIN_STEPS, Denoiser, ddim_sample, ddim_timesteps, sigma_at
from .unet import TinyUNet


def video_denoiser(model: TinyUNet) -> Denoiser:
    """v-prediction of the video UNet for videos [B, C, T, H, W] and timesteps [B]."""

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


def run_freeinit(model: TinyUNet, seeds: list[int], initial_noise: torch.Tensor, lowpass: LowPassFilter,
                 iterations: int, steps: int, coarse_to_fine: bool,
                 baseline: torch.Tensor | None = None) -> tuple[list[torch.Tensor], list[int]]:
    """Every FreeInit iteration's videos and the step counts, through ``kernels.freeinit.passes``.

    The kernels' loop does the reinitialisation (forward diffusion with the same ε to σ of t = 999, the
    spectral mix with fresh noise η_i = ``seeded_noise(iteration_seed(seed, i))`` per video). ``baseline``,
    if given, is reused as iteration 0 when it ran the same number of steps (it is deterministic).
    """
    step_counts = iteration_steps(steps, iterations, coarse_to_fine)
    shape = tuple(initial_noise.shape[1:])

    def sample(start: torch.Tensor, count: int, iteration: int) -> torch.Tensor:
        if iteration == 0 and baseline is not None and count == steps:
            return baseline
        return sample_video(model, start, count)

    def fresh_noise(iteration: int) -> torch.Tensor:
        return per_seed_noise([iteration_seed(seed, iteration) for seed in seeds], shape)

    sigma = sigma_at(TRAIN_STEPS - 1)
    results = freeinit(sample, initial_noise, step_counts, fresh_noise, sigma, "vp", lowpass)
    return results, step_counts


def sdedit(model: TinyUNet, frames: torch.Tensor, noise: torch.Tensor, start: int,
           steps: int) -> torch.Tensor:
    """SDEdit (Meng et al. 2022): diffuse ``frames`` [N, C, H, W] to timestep ``start`` with ``noise``
    (``kernels.forward_diffuse``) and run DDIM back to t = 0 with ``steps`` steps."""
    noisy = forward_diffuse(frames, noise, sigma_at(start), "vp")
    return ddim_sample(image_denoiser(model), noisy, ddim_timesteps(steps, start))
