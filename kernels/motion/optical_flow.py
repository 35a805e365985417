"""Optical flow from video frames with OpenCV (DIS or Farnebäck): no learned weights, runs on the CPU.

DIS (Kroeger et al. 2016, "Fast Optical Flow using Dense Inverse Search") in OpenCV's ultrafast / fast /
medium presets, or Farnebäck's polynomial expansion (2003). Frames are converted to grey
(Y = 0.299 R + 0.587 G + 0.114 B) and resized by ``scale`` once each; every consecutive pair then gets a
forward flow (t → t+1) and a backward flow (t+1 → t), in pixels of the scaled grid, and the pixels of
frame t+1 whose backward flow is not undone by the forward flow are marked occluded (``flow_maps``).
OpenCV is imported on first use, so the rest of the library works without it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .flow_maps import occlusion_from_flows
from .flow_sequence import FlowSequence, check_finite

FLOW_PRESETS = ("dis_ultrafast", "dis_fast", "dis_medium", "farneback")
MIN_FLOW_SIZE = 16
_LUMA = (0.299, 0.587, 0.114)
# Farnebäck: pyramid scale, levels, window, iterations, polynomial neighbourhood and sigma (OpenCV's example).
_FARNEBACK = (0.5, 4, 15, 3, 5, 1.2, 0)


def estimate_flow(frames: torch.Tensor, preset: str = "dis_medium", scale: float = 1.0,
                  on_pair: Callable[[int], None] | None = None) -> FlowSequence:
    """Forward/backward flow and occlusion of frames ``[T, C, H, W]`` (C = 1 or 3, values in [0, 1]).

    ``scale`` shrinks the frames before estimation (flow in pixels of the shrunk grid, ``frame_size`` stays
    H×W). ``on_pair(t)`` is called after the pair (t, t+1) is done, e.g. to advance a progress bar or to
    stop by raising.
    """
    estimate = _estimator(preset)
    grey = grey_frames(frames, scale)
    forward, backward = [], []
    for t in range(grey.shape[0] - 1):
        forward.append(estimate(grey[t], grey[t + 1]))
        backward.append(estimate(grey[t + 1], grey[t]))
        if on_pair is not None:
            on_pair(t)
    forward_flow = torch.from_numpy(np.stack(forward)).permute(0, 3, 1, 2).contiguous().to(frames.device)
    backward_flow = torch.from_numpy(np.stack(backward)).permute(0, 3, 1, 2).contiguous().to(frames.device)
    return FlowSequence(
        forward=forward_flow,
        backward=backward_flow,
        frame_size=(frames.shape[-2], frames.shape[-1]),
        occlusion=occlusion_from_flows(forward_flow, backward_flow),
    )


def grey_frames(frames: torch.Tensor, scale: float) -> np.ndarray:
    """uint8 grey frames ``[T, h, w]`` at ``scale`` (antialiased when shrinking), ready for OpenCV."""
    if frames.ndim != 4 or frames.shape[1] not in (1, 3):
        raise ValueError(f"frames must be [frames, 1 or 3 channels, height, width], got {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        raise ValueError(f"optical flow needs at least 2 frames, got {frames.shape[0]}")
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    height, width = round(frames.shape[-2] * scale), round(frames.shape[-1] * scale)
    if min(height, width) < MIN_FLOW_SIZE:
        raise ValueError(f"frames of {frames.shape[-2]}x{frames.shape[-1]} at scale {scale} give {height}x{width}; "
                         f"optical flow needs at least {MIN_FLOW_SIZE} pixels per side")
    check_finite(frames, "frames")
    grey = frames.float()
    if grey.shape[1] == 3:
        grey = sum(weight * grey[:, c : c + 1] for c, weight in enumerate(_LUMA))
    if (height, width) != tuple(grey.shape[-2:]):
        grey = F.interpolate(grey, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return (grey[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()


def _estimator(preset: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``estimate(a, b)`` → ``[h, w, 2]`` float32 flow from grey frame a to b, for a preset."""
    import cv2

    if preset == "farneback":
        return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, *_FARNEBACK)
    presets = {
        "dis_ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "dis_fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "dis_medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }
    if preset not in presets:
        raise ValueError(f"preset must be one of {FLOW_PRESETS}, got {preset!r}")
    dis = cv2.DISOpticalFlow_create(presets[preset])
    return lambda a, b: dis.calc(a, b, None)
