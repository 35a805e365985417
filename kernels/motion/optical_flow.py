"""Optical flow from video frames with OpenCV (DIS or Farnebäck): no learned weights, runs on the CPU.

DIS (Kroeger et al. 2016, "Fast Optical Flow using Dense Inverse Search") in OpenCV's ultrafast / fast /
medium presets, or Farnebäck's polynomial expansion (2003). Frames are converted to grey
(Y = 0.299 R + 0.587 G + 0.114 B) and resized by ``scale`` once each; every consecutive pair then gets a
forward flow (t → t+1) and a backward flow (t+1 → t), in pixels of the scaled grid, and the pixels of
frame t+1 whose backward flow is not undone by the forward flow are marked occluded (``flow_maps``).
OpenCV is imported on first use, so the rest of the library works without it.

DIS runs on an image pyramid from a coarsest level down to the preset's finest level (ultrafast and fast: 2,
medium: 1; level k is 2^-k of the frame). OpenCV takes the coarsest level from the frame size, and where
that lies below the finest level (a side under 32 pixels, or a long side under 91, for ultrafast and fast)
it re-picks both levels from the width alone, so a short wide frame shrinks to less than one patch per
side: out-of-bounds reads (SIGSEGV) or a failed resize. ``_dis`` sets the finest level to 0 (full
resolution) for such frames instead, so OpenCV keeps its own coarsest level, where a patch still fits, and
never falls back; on small frames level 0 also follows the motion better than the coarser levels. Frames
where the preset's levels fit are computed exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .flow_maps import occlusion_from_flows
from .flow_sequence import FlowSequence, check_finite

FLOW_PRESETS = ("dis_ultrafast", "dis_fast", "dis_medium", "farneback")
MIN_FLOW_SIZE = 16
_DIS_PRESETS = {"dis_ultrafast": 0, "dis_fast": 1, "dis_medium": 2}  # cv2.DISOPTICAL_FLOW_PRESET_*
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
    grey = grey_frames(frames, scale)
    estimate = _estimator(preset, grey.shape[1:])
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
    height, width = flow_grid_size(frames.shape[-2:], scale)
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


def flow_grid_size(frame_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(h, w) of the grid the flow of H×W frames is computed on at ``scale``: each side times scale, rounded."""
    return round(frame_size[0] * scale), round(frame_size[1] * scale)


def min_flow_scale(frame_size: tuple[int, int]) -> float:
    """The smallest scale whose flow grid keeps ``MIN_FLOW_SIZE`` pixels per side (above 1: frames too small)."""
    return MIN_FLOW_SIZE / min(frame_size)


def opencv():
    """The ``cv2`` module, or an ImportError that says what to install."""
    try:
        import cv2
    except ImportError as error:
        raise ImportError(f"optical flow needs OpenCV, which failed to import ({error}): pip install "
                          f"opencv-python; if libGL.so.1 is missing (bare Debian/Ubuntu, slim containers), "
                          f"apt-get install libgl1 first") from error
    return cv2


def _estimator(preset: str, size: tuple[int, int]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``estimate(a, b)`` → ``[h, w, 2]`` float32 flow from grey frame a to b of ``size`` (h, w), for a preset."""
    if preset not in FLOW_PRESETS:
        raise ValueError(f"preset must be one of {FLOW_PRESETS}, got {preset!r}")
    cv2 = opencv()
    if preset == "farneback":
        return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, *_FARNEBACK)
    dis = _dis(cv2, preset, *size)
    return lambda a, b: dis.calc(a, b, None)


def _dis(cv2, preset: str, height: int, width: int):
    """OpenCV's DIS preset for frames of height×width, with finest level 0 where the coarsest level OpenCV
    will choose lies below the preset's finest level (see the module docstring)."""
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset])
    if dis_coarsest_level(height, width, dis.getPatchSize()) < dis.getFinestScale():
        dis.setFinestScale(0)
    return dis


def dis_coarsest_level(height: int, width: int, patch: int) -> int:
    """The coarsest pyramid level OpenCV's DIS picks: ``min(round(log2(long side / 4p)), ⌊log2 ⌊short side / p⌋⌋)``
    for patch size p, as its ``calc`` computes it (the first term bounds the search range, the second keeps a
    patch inside the coarsest level). Needs a short side of at least p."""
    long_term = int(math.log(max(height, width) / (4.0 * patch)) / math.log(2.0) + 0.5)
    short_term = int(math.log(min(height, width) // patch) / math.log(2.0))
    return min(long_term, short_term)
