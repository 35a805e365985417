"""A NOISE object (ComfyUI's duck type: ``.seed`` and ``generate_noise(latent)``) holding a fixed tensor."""

from __future__ import annotations

import logging

import torch

from .latent_shape import is_nested

# What a sampler may do to a NOISE after it was generated; a NOISE never sees the MODEL, so it can only say so.
FREENOISE_NOTE = (
    "if the MODEL has core context windows with freenoise on (the default of Wan and LTXV Context Windows, an "
    "advanced input), FreeNoise overwrites every latent frame after the first window with shuffled copies of "
    "earlier frames of this noise; set freenoise to false to keep it. AnimateDiff-Evolved sample settings other "
    "than the defaults (noise type, seed offsets, noise layers) replace it too"
)


class TensorNoise:
    """NOISE that always returns a copy of the same tensor; refuses latents of another shape (but for the frame
    axis that ComfyUI adds to image latents of video models). For a nested audio+video latent it is the video
    stream's noise, and the other streams get core's noise of ``seed`` (as RandomNoise gives them).
    ``note`` is logged once, the first time the noise is used."""

    def __init__(self, samples: torch.Tensor, seed: int, source: str, note: str = "") -> None:
        self.samples = samples
        self.seed = seed
        self.source = source
        self.note = note

    def generate_noise(self, input_latent: dict) -> torch.Tensor:
        if self.note:
            logging.info("[TemporalNoise] noise from %s: %s.", self.source, self.note)
            self.note = ""
        if is_nested(input_latent["samples"]):
            return self._nested_noise(input_latent)
        shape = tuple(input_latent["samples"].shape)
        if not _same_latent(shape, tuple(self.samples.shape)):
            raise ValueError(
                f"the NOISE from {self.source} has shape {tuple(self.samples.shape)} but the latent it is "
                f"used with has shape {shape}; make the latent with the same frames, size and channels"
            )
        return self.samples.detach().to("cpu", torch.float32).reshape(shape).clone()

    def _nested_noise(self, input_latent: dict):
        """This noise for the video stream (the first), core's seeded noise for the others."""
        import comfy.nested_tensor
        import comfy.sample

        samples = input_latent["samples"]
        streams = list(comfy.sample.prepare_noise(samples, self.seed, input_latent.get("batch_index")).unbind())
        streams[0] = self.generate_noise({**input_latent, "samples": samples.unbind()[0]})
        return comfy.nested_tensor.NestedTensor(streams)


def _same_latent(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Equal shapes, or [N, C, h, w] against [N, C, 1, h, w]: ``comfy.sample.fix_empty_latent_channels`` adds
    that frame axis to a 4-D latent sampled by a video model. Nothing else may differ: a reshape between
    other layouts would mix frames and channels."""
    short, long = sorted((a, b), key=len)
    return a == b or (len(short) == 4 and long == (*short[:2], 1, *short[2:]))
