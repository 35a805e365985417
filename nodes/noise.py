"""A NOISE object (ComfyUI's duck type: ``.seed`` and ``generate_noise(latent)``) holding a fixed tensor."""

from __future__ import annotations

import torch


class TensorNoise:
    """NOISE that always returns the same tensor; refuses latents of another shape (but for the frame axis
    that ComfyUI adds to image latents of video models)."""

    def __init__(self, samples: torch.Tensor, seed: int, source: str) -> None:
        self.samples = samples
        self.seed = seed
        self.source = source

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        shape = tuple(input_latent["samples"].shape)
        if not _same_latent(shape, tuple(self.samples.shape)):
            raise ValueError(
                f"the NOISE from {self.source} has shape {tuple(self.samples.shape)} but the latent it is "
                f"used with has shape {shape}; make the latent with the same frames, size and channels"
            )
        return self.samples.detach().to("cpu", torch.float32).reshape(shape).clone()


def _same_latent(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Equal shapes, or [N, C, h, w] against [N, C, 1, h, w]: ``comfy.sample.fix_empty_latent_channels`` adds
    that frame axis to a 4-D latent sampled by a video model. Nothing else may differ: a reshape between
    other layouts would mix frames and channels."""
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) == 4 and long == (*short[:2], 1, *short[2:]))
