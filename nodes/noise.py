"""A NOISE object (ComfyUI's duck type: ``.seed`` and ``generate_noise(latent)``) holding a fixed tensor."""

from __future__ import annotations

import torch


class TensorNoise:
    """NOISE that always returns the same tensor; refuses latents of another shape (up to size-1 axes)."""

    def __init__(self, samples: torch.Tensor, seed: int, source: str) -> None:
        self.samples = samples
        self.seed = seed
        self.source = source

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        shape = tuple(input_latent["samples"].shape)
        if _without_ones(shape) != _without_ones(self.samples.shape):
            raise ValueError(
                f"the NOISE from {self.source} has shape {tuple(self.samples.shape)} but the latent it is "
                f"used with has shape {shape}; make the latent with the same frames, size and channels"
            )
        return self.samples.detach().to("cpu", torch.float32).reshape(shape).clone()


def _without_ones(shape: tuple[int, ...] | torch.Size) -> tuple[int, ...]:
    """The shape without size-1 axes: ComfyUI adds a frame axis to image latents of video models."""
    return tuple(size for size in shape if size != 1)
