"""Camera Motion Flow node: pan, zoom and rotation per frame → FLOW, without a source video."""

from __future__ import annotations

import math

import torch

from ..kernels.motion.camera_motion import camera_motion_flow
from .latent_shape import shape_of_latent, video_of_latent
from .preview import flow_preview, preview_size
from .progress import Progress
from .validation import checks_widget_inputs, frames_from_images


@checks_widget_inputs
class CameraMotionFlow:
    DESCRIPTION = (
        "A FLOW for camera-like motion without a source video: every frame the picture moves by the pan, "
        "scales by the zoom and turns by the rotation about the frame centre. Feed it to Integral Noise Warp "
        "so the noise, and with it the generated video, moves like a camera. Connect images or a latent to "
        "take frames, width and height from them. The flow is kept as one transform per frame, so it costs "
        "memory only at the size its consumer asks for."
    )
    CATEGORY = "temporal_noise/flow"
    FUNCTION = "compute"
    RETURN_TYPES = ("FLOW", "IMAGE")
    RETURN_NAMES = ("flow", "preview")
    OUTPUT_TOOLTIPS = (
        "Exact forward and backward flow of the motion (no occlusion inside the frame).",
        "The motion of each frame since the previous one as colour (hue = direction, white = still); long or "
        "large videos are shown smaller (at most 8.4 million pixels in all).",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "frames": ("INT", {"default": 16, "min": 2, "max": 4096,
                                   "tooltip": "Number of video frames (pixel frames, before any VAE compression). "
                                              "Ignored when images or a latent are connected."}),
                "width": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8,
                                  "tooltip": "Frame width in pixels: the size of the video you generate. Ignored "
                                             "when images or a latent are connected."}),
                "height": ("INT", {"default": 512, "min": 16, "max": 16384, "step": 8,
                                   "tooltip": "Frame height in pixels: the size of the video you generate. "
                                              "Ignored when images or a latent are connected."}),
                "pan_x": ("FLOAT", {"default": 0.0, "min": -1024.0, "max": 1024.0, "step": 0.1,
                                    "tooltip": "Pixels per frame the picture moves right (negative: left); a "
                                               "camera panning left moves the picture right."}),
                "pan_y": ("FLOAT", {"default": 0.0, "min": -1024.0, "max": 1024.0, "step": 0.1,
                                    "tooltip": "Pixels per frame the picture moves down (negative: up)."}),
                "zoom": ("FLOAT", {"default": 1.0, "min": 0.5, "max": 2.0, "step": 0.001,
                                   "tooltip": "Scale factor per frame about the centre: above 1 zooms in (the "
                                              "picture grows), below 1 zooms out."}),
                "rotate": ("FLOAT", {"default": 0.0, "min": -45.0, "max": 45.0, "step": 0.1,
                                     "tooltip": "Degrees per frame the picture turns about the centre, "
                                                "counter-clockwise on screen (negative: clockwise)."}),
            },
            "optional": {
                "images": ("IMAGE", {"tooltip": "Video frames to take frames, width and height from (only their "
                                                "shape is used)."}),
                "latent": ("LATENT", {"tooltip": "A latent (e.g. an empty video latent) to take frames, width and "
                                                 "height from, through the VAE factors below. With images "
                                                 "connected too, it must fit them."}),
                "spatial_factor": ("INT", {
                    "default": 8, "min": 1, "max": 128,
                    "tooltip": "Pixels per latent pixel of the connected latent: 8 for most models, 16 Wan 2.2 "
                               "5B, 32 LTX."}),
                "temporal_factor": ("INT", {
                    "default": 0, "min": 0, "max": 64,
                    "tooltip": "Video frames per latent frame after the first, for a 5-D video latent: 4 "
                               "Wan/Hunyuan, 8 LTX and Cosmos. 0 = from the latent's channels (12: 6, 16: 4, "
                               "48: 4, 128: 8; set 8 by hand for Cosmos). A 4-D latent has one frame per batch "
                               "entry."}),
            },
        }

    def compute(self, frames: int, width: int, height: int, pan_x: float, pan_y: float, zoom: float,
                rotate: float, images: torch.Tensor | None = None, latent: dict | None = None,
                spatial_factor: int = 8, temporal_factor: int = 0):
        for name, value in (("pan_x", pan_x), ("pan_y", pan_y), ("zoom", zoom), ("rotate", rotate)):
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        frames, (height, width) = _video_extent(frames, (height, width), images, latent, spatial_factor,
                                                temporal_factor)
        flow = camera_motion_flow(frames, height, width, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                                  rotate_degrees=rotate)
        progress = Progress(frames)
        preview, _ = flow_preview(flow, size=preview_size(flow.frame_size, frames), on_frames=progress.advance)
        return (flow, preview)


def _video_extent(frames: int, frame_size: tuple[int, int], images: torch.Tensor | None, latent: dict | None,
                  spatial_factor: int, temporal_factor: int) -> tuple[int, tuple[int, int]]:
    """Frame count and (height, width): from the images (a latent must then fit them), else from the latent
    through the VAE factors, else the widgets."""
    if images is not None:
        _, _, *frame_size = frames_from_images(images).shape
        frames, frame_size, source = images.shape[0], tuple(frame_size), "images"
        if latent is not None:
            shape_of_latent(latent["samples"], frames, frame_size, temporal_factor)
    elif latent is not None:
        frames, frame_size = video_of_latent(latent["samples"], spatial_factor, temporal_factor)
        source = "latent"
    else:
        return frames, frame_size
    if frames < 2:
        raise ValueError(f"{source} gives {frames} video frame: a camera motion needs at least 2")
    return frames, frame_size


NODE_CLASS_MAPPINGS = {"TemporalNoiseCameraMotionFlow": CameraMotionFlow}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseCameraMotionFlow": "Camera Motion Flow"}
