"""The latent a video's noise must fill: its layout, channels, grid and temporal compression.

ComfyUI's AnimateDiff latents are ``[frames, C, h, w]`` (one latent frame per video frame); native video
latents are ``[B, C, T, h, w]`` with a causal video VAE keeping the first frame and compressing every k
after it: ``T = (frames − 1)//k + 1``. k is not in the latent, so it comes from the channel count when the
user leaves it on auto (0): Mochi 12 ch ÷6; Wan 2.1 / HunyuanVideo / CogVideoX 16 ch ÷4; Wan 2.2 TI2V-5B
48 ch ÷4; LTX-Video 128 ch ÷8. Cosmos (16 ch ÷8) must be set by hand: guessing 8 whenever 4 does not fit
would accept a video of twice the latent's length and move the noise twice as fast as the model's frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from einops import rearrange

from ..kernels.video.latent_geometry import latent_frame_count, video_frame_count
from .validation import check_latent

TEMPORAL_FACTOR_BY_CHANNELS = {12: 6, 16: 4, 48: 4, 128: 8}
SET_BY_HAND = {16: (8, "Cosmos")}  # another family with these channels: its factor is never guessed
ANY_TEMPORAL_FACTOR = (1, 4, 6, 8)
ASPECT_TOLERANCE = 0.05


@dataclass(frozen=True)
class LatentShape:
    """A latent of ``frames`` latent frames; ``batch`` is None for the AnimateDiff layout ``[T, C, h, w]``."""

    channels: int
    height: int
    width: int
    frames: int
    temporal_factor: int
    batch: int | None

    @property
    def shape(self) -> tuple[int, ...]:
        if self.batch is None:
            return (self.frames, self.channels, self.height, self.width)
        return (self.batch, self.channels, self.frames, self.height, self.width)

    def arrange(self, noise: torch.Tensor) -> torch.Tensor:
        """Noise ``[T, batch·C, h, w]`` (batch-major channels) in this latent's layout."""
        if self.batch is None:
            return noise
        return rearrange(noise, "t (b c) h w -> b c t h w", b=self.batch)


def is_nested(samples) -> bool:
    """A nested latent of several streams (``comfy.nested_tensor.NestedTensor``, ComfyUI 0.33+: LTX-2 and
    MiniMax H3 audio+video, the video stream first)."""
    return bool(getattr(samples, "is_nested", False))


def video_stream(samples, name: str) -> torch.Tensor:
    """A LATENT's samples, or the video stream (the first) of a nested audio+video latent."""
    if not is_nested(samples):
        return samples
    video = samples.unbind()[0]
    if not isinstance(video, torch.Tensor) or video.ndim != 5:
        raise ValueError(f"{name} is a nested latent whose first stream is not a video latent [B, C, T, H, W] "
                         f"(got {getattr(video, 'shape', type(video).__name__)}); connect a video latent")
    return video


def shape_of_latent(samples: torch.Tensor, video_frames: int, frame_size: tuple[int, int],
                    temporal_factor: int = 0) -> LatentShape:
    """The shape to fill for a LATENT's ``samples`` and a video of ``video_frames`` frames of ``frame_size``.

    ``temporal_factor`` 0 takes the factor of the channel count's model family (for an unknown channel count,
    the first of 1, 4, 6, 8 that fits the frames). Raises a ValueError naming the expected latent frame count
    when it does not fit, and the factor to set where another family with these channels would fit.
    """
    check_latent(samples, "latent")
    if samples.ndim == 4:
        frames, channels, height, width = samples.shape
        if temporal_factor not in (0, 1):
            raise ValueError(f"latent is 4-D [frames, channels, h, w] (AnimateDiff layout, one latent frame per "
                             f"video frame) but temporal_factor is {temporal_factor}; set it to 0 or 1")
        if frames != video_frames:
            raise ValueError(f"latent has {frames} frames (batch) but the video has {video_frames}: "
                             f"expected a latent batch of {video_frames}")
        shape = LatentShape(channels, height, width, frames, 1, None)
    else:
        batch, channels, frames, height, width = samples.shape
        if temporal_factor > 0:
            candidates = (temporal_factor,)
        elif channels in TEMPORAL_FACTOR_BY_CHANNELS:
            candidates = (TEMPORAL_FACTOR_BY_CHANNELS[channels],)
        else:
            candidates = ANY_TEMPORAL_FACTOR
        fitting = [k for k in candidates if latent_frame_count(video_frames, k) == frames]
        if not fitting:
            expected = " or ".join(f"{latent_frame_count(video_frames, k)} at {k}x temporal compression"
                                   for k in candidates)
            raise ValueError(f"latent has {frames} latent frames but the video's {video_frames} frames give "
                             f"{expected}; make the latent with length {video_frames}"
                             + _other_factor_hint(channels, frames, video_frames, temporal_factor))
        shape = LatentShape(channels, height, width, frames, fitting[0], batch)
    _check_aspect(shape, frame_size)
    return shape


def _other_factor_hint(channels: int, frames: int, video_frames: int, temporal_factor: int) -> str:
    """The end of the error message of a latent that does not fit the frames."""
    if temporal_factor > 0:
        return ""
    factor, family = SET_BY_HAND.get(channels, (0, ""))
    if factor and latent_frame_count(video_frames, factor) == frames:
        return f"; the frames fit at {factor}x: set temporal_factor to {factor} if this is a {family} latent"
    return " or set temporal_factor"


def shape_from_factors(video_frames: int, frame_size: tuple[int, int], channels: int, spatial_factor: int,
                       temporal_factor: int) -> LatentShape:
    """The latent of a VAE with these factors: ``[frames, C, H//s, W//s]`` when the temporal factor is
    1 (0 counts as 1), else ``[1, C, (frames − 1)//k + 1, H//s, W//s]``."""
    height, width = frame_size[0] // spatial_factor, frame_size[1] // spatial_factor
    if height < 1 or width < 1:
        raise ValueError(f"frames of {frame_size[0]}x{frame_size[1]} are smaller than one latent pixel at "
                         f"spatial_factor {spatial_factor}")
    k = max(1, temporal_factor)
    if k == 1:
        return LatentShape(channels, height, width, video_frames, 1, None)
    return LatentShape(channels, height, width, latent_frame_count(video_frames, k), k, 1)


def video_of_latent(samples: torch.Tensor, spatial_factor: int, temporal_factor: int = 0,
                    name: str = "latent") -> tuple[int, tuple[int, int]]:
    """The video a LATENT's ``samples`` stands for: (frames, (height, width)) in pixels.

    4-D ``[frames, C, h, w]`` (AnimateDiff): one video frame per latent frame. 5-D ``[B, C, T, h, w]``:
    ``(T − 1)·k + 1`` frames, k = ``temporal_factor`` or, at 0, the factor of the channel count's family.
    Height and width are the latent's times ``spatial_factor``.
    """
    check_latent(samples, name)
    if spatial_factor < 1:
        raise ValueError(f"spatial_factor must be at least 1, got {spatial_factor}")
    height, width = samples.shape[-2] * spatial_factor, samples.shape[-1] * spatial_factor
    if samples.ndim == 4:
        if temporal_factor not in (0, 1):
            raise ValueError(f"{name} is 4-D [frames, channels, h, w] (AnimateDiff layout, one latent frame per "
                             f"video frame) but temporal_factor is {temporal_factor}; set it to 0 or 1")
        return samples.shape[0], (height, width)
    channels, frames = samples.shape[1], samples.shape[2]
    factor = temporal_factor or TEMPORAL_FACTOR_BY_CHANNELS.get(channels, 0)
    if factor == 0:
        raise ValueError(f"{name} has {channels} channels, whose video VAE's temporal compression is not known: "
                         f"set temporal_factor (video frames per latent frame after the first)")
    return video_frame_count(frames, factor), (height, width)


def _check_aspect(shape: LatentShape, frame_size: tuple[int, int]) -> None:
    """The frames must cover the latent's grid: the same aspect ratio within 5 %."""
    frame_ratio, latent_ratio = frame_size[1] / frame_size[0], shape.width / shape.height
    if abs(frame_ratio / latent_ratio - 1) > ASPECT_TOLERANCE:
        raise ValueError(f"the frames are {frame_size[1]}x{frame_size[0]} (width x height) but the latent grid is "
                         f"{shape.width}x{shape.height}: different aspect ratios; resize the frames or the latent")
