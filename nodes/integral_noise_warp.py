"""Integral Noise Warp node: temporally consistent noise for a video latent from frames or a FLOW."""

from __future__ import annotations

from collections.abc import Callable

import torch
from einops import rearrange

from ..kernels.motion.flow_sequence import FlowSequence
from ..kernels.motion.optical_flow import FLOW_PRESETS, MIN_FLOW_SIZE, estimate_flow, min_flow_scale
from ..kernels.video.warped_noise import video_noise, video_noise_bytes
from .latent_shape import LatentShape, shape_from_factors, shape_of_latent, video_stream
from .memory import check_fits
from .noise import FREENOISE_NOTE, TensorNoise
from .preview import flow_preview, noise_colour, preview_size
from .progress import Progress
from .validation import checks_widget_inputs, frames_from_images, frames_of_mask

OCCLUSION_MODES = ("fresh noise", "stretch")
# Optical flow is computed at the warp grid's size, but on at least MIN_FLOW_SIDE pixels on the long side and
# MIN_FLOW_SIZE on the short side.
MIN_FLOW_SIDE = 256


@checks_widget_inputs
class IntegralNoiseWarp:
    DESCRIPTION = (
        "Noise that moves with a video: the frames' optical flow (or a FLOW from Optical Flow / Camera Motion "
        "Flow) carries each noise frame into the next by integral noise warping (Deng et al. 2024), so every "
        "frame is exactly Gaussian yet follows the motion. The noise takes the shape of the connected latent "
        "(AnimateDiff batch = frames, or a video model's [B, C, T, h, w] with its temporal compression); "
        "without a latent, channels and factors say the shape. Use the NOISE output with "
        "SamplerCustomAdvanced, or the LATENT where a graph adds noise itself. With AnimateDiff-Evolved, keep "
        "its sample settings at their defaults (noise type, seed offsets, noise layers): other settings "
        "replace this noise."
    )
    CATEGORY = "temporal_noise/warp"
    FUNCTION = "warp"
    RETURN_TYPES = ("NOISE", "LATENT", "IMAGE")
    RETURN_NAMES = ("noise", "latent", "preview")
    OUTPUT_TOOLTIPS = (
        "The warped noise for SamplerCustomAdvanced; it refuses a latent of another shape, naming both.",
        "The same noise as a latent (unit variance, unscaled), for graphs that add the noise themselves.",
        "Each latent frame's video frame (or its flow, without frames) beside its noise channels 0-2 as colour.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "method": (["grid", "particle"], {
                    "tooltip": "grid: exact areas of each pixel's back-mapped footprint (most faithful); "
                               "particle: bilinear splats of pixel centres (faster, the authors' released "
                               "variant)."}),
                "internal_resolution": ("INT", {
                    "default": 1, "min": 1, "max": 8,
                    "tooltip": "Warp on a grid this many times finer than the latent, then pool back. 1 warps "
                               "each latent pixel's exact footprint; 2-4 follow motion that varies inside a "
                               "latent pixel, at k² the time and memory."}),
                "seed": ("INT", {
                    "default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True,
                    "tooltip": "Seed of the first frame's noise and of all noise drawn while warping; the same "
                               "seed gives the same noise on every device."}),
                "degradation": ("FLOAT", {
                    "default": 0.0, "min": 0.0, "max": 1.0, "step": 0.01,
                    "tooltip": "γ: blend of fresh noise into the warped noise, kept at unit variance. 0 follows "
                               "the motion strictly; higher values give the model more freedom."}),
                "occlusion": (list(OCCLUSION_MODES), {
                    "tooltip": "fresh noise: new noise where something appears from behind another object "
                               "(forward and backward flow disagree); stretch: warp it like everything else. "
                               "No effect with Camera Motion Flow, which has no occlusion; content entering "
                               "from outside the frame always gets fresh noise."}),
                "flow_preset": (list(FLOW_PRESETS), {
                    "default": "dis_medium",
                    "tooltip": "Optical flow method when frames are given (ignored with a flow input); computed "
                               "at the warp grid's size, at least 256 pixels on the long side and 16 on the "
                               "short side."}),
                "channels": ("INT", {
                    "default": 4, "min": 1, "max": 1024,
                    "tooltip": "Latent channels when no latent is connected: 4 SD1.5/SDXL, 16 Wan 2.1/Hunyuan, "
                               "48 Wan 2.2 5B, 128 LTX."}),
                "spatial_factor": ("INT", {
                    "default": 8, "min": 1, "max": 128,
                    "tooltip": "Pixels per latent pixel when no latent is connected: 8 for most models, 16 Wan "
                               "2.2 5B, 32 LTX."}),
                "temporal_factor": ("INT", {
                    "default": 0, "min": 0, "max": 64,
                    "tooltip": "Video frames per latent frame after the first (VAE temporal compression): 1 "
                               "AnimateDiff, 4 Wan/Hunyuan, 8 LTX and Cosmos. 0 = from the latent's channels "
                               "(12: 6, 16: 4, 48: 4, 128: 8; set 8 by hand for Cosmos), or 1 without a latent."}),
            },
            "optional": {
                "images": ("IMAGE", {"tooltip": "The video frames whose motion the noise follows (at least 2). "
                                                "With a flow connected they are only shown in the preview."}),
                "flow": ("FLOW", {"tooltip": "Motion from Optical Flow or Camera Motion Flow, instead of "
                                             "computing it from the frames."}),
                "latent": ("LATENT", {"tooltip": "The latent to sample (e.g. an empty video latent); the noise "
                                                 "gets its shape. Without it, channels and factors decide."}),
                "degradation_mask": ("MASK", {"tooltip": "Where to apply the degradation (1 = full γ, 0 = none), "
                                                         "at the frame size: one mask or one per frame."}),
            },
        }

    def warp(self, method: str, internal_resolution: int, seed: int, degradation: float, occlusion: str,
             flow_preset: str, channels: int, spatial_factor: int, temporal_factor: int,
             images: torch.Tensor | None = None, flow: FlowSequence | None = None, latent: dict | None = None,
             degradation_mask: torch.Tensor | None = None):
        frames = None if images is None else frames_from_images(images)
        video_frames, frame_size = _video_extent(frames, flow)
        if latent is not None:
            video = video_stream(latent["samples"], "latent")  # a nested latent's noise is its video stream's
            shape = shape_of_latent(video, video_frames, frame_size, temporal_factor)
        else:
            shape = shape_from_factors(video_frames, frame_size, channels, spatial_factor, temporal_factor)
        mask = None if degradation_mask is None else frames_of_mask(
            degradation_mask, video_frames, frame_size, "degradation_mask")
        batch = shape.batch or 1
        device = _compute_device()
        check_fits(video_noise_bytes(shape.frames, shape.channels * batch, (shape.height, shape.width),
                                     internal_resolution), device, "Integral Noise Warp",
                   _what_to_lower(internal_resolution, shape, latent is not None, video_frames, frame_size))
        progress = Progress((video_frames - 1 if flow is None else 0) + shape.frames)
        if flow is None:
            if min(frame_size) < MIN_FLOW_SIZE:
                raise ValueError(f"images are {frame_size[1]}x{frame_size[0]} (width x height): too small for optical "
                                 f"flow, which needs {MIN_FLOW_SIZE} pixels per side; give larger images or connect "
                                 f"a flow (e.g. Camera Motion Flow)")
            grid_side = max(shape.height, shape.width) * internal_resolution
            scale = min(1.0, max(max(grid_side, MIN_FLOW_SIDE) / max(frame_size), min_flow_scale(frame_size)))
            flow = estimate_flow(frames, flow_preset, scale, on_pair=lambda _: progress.advance())
        noise = video_noise(
            flow, shape.channels * batch, (shape.height, shape.width), seed=seed, method=method,
            internal_resolution=internal_resolution, temporal_factor=shape.temporal_factor,
            occlusion=occlusion == OCCLUSION_MODES[0], degradation=degradation, degradation_mask=mask,
            device=device, on_frame=lambda _: progress.advance(),
        ).cpu()
        samples = shape.arrange(noise)
        preview = _preview(noise[:, : shape.channels], frames, flow, shape, lambda _: progress.advance(0))
        progress.advance()
        return (TensorNoise(samples, seed, "Integral Noise Warp", FREENOISE_NOTE), {"samples": samples}, preview)


def _video_extent(frames: torch.Tensor | None, flow: FlowSequence | None) -> tuple[int, tuple[int, int]]:
    """Frame count and (height, width) of the video, from the frames and/or the flow, which must agree."""
    if frames is None and flow is None:
        raise ValueError("connect images (the video frames) or a flow: the noise needs a motion to follow")
    if flow is not None and not isinstance(flow, FlowSequence):
        raise ValueError(f"flow must be a FLOW from Optical Flow or Camera Motion Flow, got {type(flow).__name__}")
    if frames is not None and flow is not None:
        if frames.shape[0] != flow.frames:
            raise ValueError(f"images has {frames.shape[0]} frames but the flow describes {flow.frames}; "
                             f"give the frames the flow was computed from")
        if tuple(frames.shape[-2:]) != flow.frame_size:
            raise ValueError(f"images are {frames.shape[-1]}x{frames.shape[-2]} but the flow is for "
                             f"{flow.frame_size[1]}x{flow.frame_size[0]} frames (width x height)")
    if flow is not None:
        return flow.frames, flow.frame_size
    if frames.shape[0] < 2:
        raise ValueError("images has 1 frame: there is nothing to warp; use plain noise (Random Noise) for a "
                         "single image")
    return frames.shape[0], (frames.shape[-2], frames.shape[-1])


def _what_to_lower(internal_resolution: int, shape: LatentShape, has_latent: bool, video_frames: int,
                   frame_size: tuple[int, int]) -> str:
    """The end of the out-of-memory refusal: the inputs that set the noise's size."""
    lower = f"lower internal_resolution ({internal_resolution}; memory grows with its square)"
    if has_latent:
        return lower + f", or connect a smaller or shorter latent (now {list(shape.shape)})"
    return lower + (f", channels ({shape.channels}), or the frames ({video_frames}) and size "
                    f"({frame_size[1]}x{frame_size[0]}) of the images or flow")


def _preview(noise: torch.Tensor, frames: torch.Tensor | None, flow: FlowSequence, shape: LatentShape,
             on_frames: Callable[[int], None]) -> torch.Tensor:
    """``[T, H, 2W, 3]``: the video frame (or flow colour) of each latent frame beside its noise; without
    frames, at most ``PREVIEW_PIXELS`` pixels (``preview_size``)."""
    index = torch.arange(shape.frames) * shape.temporal_factor
    if frames is not None:
        left = rearrange(frames[index], "t rgb h w -> t h w rgb").clamp(0, 1)
    else:
        size = preview_size(flow.frame_size, 2 * shape.frames)
        left = flow_preview(flow, index, size, on_frames)[0]
    right = noise_colour(noise, left.shape[1], left.shape[2])
    return torch.cat([left, right], dim=2)


def _compute_device() -> torch.device:
    """ComfyUI's compute device (the GPU when there is one)."""
    import comfy.model_management

    return comfy.model_management.get_torch_device()


NODE_CLASS_MAPPINGS = {"TemporalNoiseIntegralNoiseWarp": IntegralNoiseWarp}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseIntegralNoiseWarp": "Integral Noise Warp"}
