"""Optical Flow node: IMAGE frames → FLOW (forward and backward), a colour preview and the occlusion MASK."""

from __future__ import annotations

import math

import torch

from ..kernels.motion.optical_flow import (
    FLOW_PRESETS,
    MIN_FLOW_SIZE,
    estimate_flow,
    flow_grid_size,
    min_flow_scale,
    opencv,
)
from .preview import flow_preview
from .progress import Progress
from .validation import checks_widget_inputs, frames_from_images

opencv()  # this node needs OpenCV: without it the import fails, and nodes/__init__ logs what to install


@checks_widget_inputs
class OpticalFlow:
    DESCRIPTION = (
        "Optical flow of a video with OpenCV (DIS or Farnebäck; no model weights, runs on the CPU): forward "
        "and backward flow between consecutive frames for Integral Noise Warp, a colour preview (hue = "
        "direction, saturation = speed, white = still) and the occlusion mask (pixels that appear from "
        "behind something, where forward and backward flow disagree). Preview and mask have one frame per "
        "video frame; frame 0 has no motion."
    )
    CATEGORY = "temporal_noise/flow"
    FUNCTION = "compute"
    RETURN_TYPES = ("FLOW", "IMAGE", "MASK")
    RETURN_NAMES = ("flow", "preview", "occlusion")
    OUTPUT_TOOLTIPS = (
        "Forward and backward flow of every pair of consecutive frames, with the occlusion mask.",
        "The motion of each frame since the previous one as colour, at the frame size.",
        "1 where a pixel of a frame is not visible in the previous frame (disoccluded), at the frame size.",
    )

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The video frames (at least 2), e.g. from Load Video."}),
                "preset": (list(FLOW_PRESETS), {
                    "default": "dis_medium",
                    "tooltip": "DIS ultrafast/fast/medium trade accuracy for speed (medium is the most accurate "
                               "DIS); Farnebäck is slower and smoother.",
                }),
                "scale": ("FLOAT", {
                    "default": 0.5, "min": 0.05, "max": 1.0, "step": 0.05,
                    "tooltip": "Compute the flow on frames shrunk by this factor: faster, smoother, and the "
                               "noise warp needs no more detail than its own grid.",
                }),
            }
        }

    def compute(self, images: torch.Tensor, preset: str, scale: float):
        frames = frames_from_images(images)
        if frames.shape[0] < 2:
            raise ValueError("images has 1 frame: optical flow needs at least 2 frames")
        _check_flow_size((frames.shape[-2], frames.shape[-1]), scale)
        progress = Progress(frames.shape[0])
        flow = estimate_flow(frames, preset, scale, on_pair=lambda _: progress.advance())
        preview, occlusion = flow_preview(flow)
        progress.advance()
        return (flow, preview, occlusion)


def _check_flow_size(frame_size: tuple[int, int], scale: float) -> None:
    """A clear error, naming images and scale, where the flow grid would have under MIN_FLOW_SIZE pixels a side."""
    grid_height, grid_width = flow_grid_size(frame_size, scale)
    if min(grid_height, grid_width) >= MIN_FLOW_SIZE:
        return
    height, width = frame_size
    if min(frame_size) < MIN_FLOW_SIZE:
        raise ValueError(f"images are {width}x{height} (width x height): too small for optical flow, which needs "
                         f"{MIN_FLOW_SIZE} pixels per side")
    raise ValueError(f"scale {scale:g} shrinks the {width}x{height} images (width x height) to {grid_width}x"
                     f"{grid_height}, but optical flow needs {MIN_FLOW_SIZE} pixels per side: set scale to at least "
                     f"{math.ceil(min_flow_scale(frame_size) * 100) / 100:g}")


NODE_CLASS_MAPPINGS = {"TemporalNoiseOpticalFlow": OpticalFlow}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseOpticalFlow": "Optical Flow (OpenCV)"}
