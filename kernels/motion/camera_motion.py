"""Camera-like motion without a source video: pan, zoom and rotation per frame as analytic flows.

Between frames t and t+1 the picture content moves by a similarity transform about the frame centre
c = (W/2, H/2) (pixel units of the warp contract, y pointing down):

    p' = A_t (p − c) + c + d_t,    A_t = s_t [[cos θ_t, sin θ_t], [−sin θ_t, cos θ_t]]

with d_t = (pan_x, pan_y) the content's shift in pixels (positive: right, down), s_t the zoom factor (> 1
enlarges the content, like zooming in) and θ_t the rotation (positive: counter-clockwise on screen). The
forward flow at pixel centre p is p' − p; the backward map of a target centre q inverts the transform,
``p = A_t⁻¹ (q − c − d_t) + c`` with ``A_t⁻¹ = s_t⁻¹ [[cos θ_t, −sin θ_t], [sin θ_t, cos θ_t]]``, and the
backward flow is p − q. Both are exact: no occlusion arises inside the frame. The FLOW keeps the
transforms (``affine_steps``) and rasterises them at the size each consumer needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .affine_steps import FLOAT32_MAX, AffineSteps, apply_affine, invert_affine
from .flow_sequence import FlowSequence

__all__ = ["AffineSteps", "apply_affine", "camera_motion_flow", "camera_transforms", "invert_affine"]

Schedule = float | Sequence[float] | torch.Tensor


def camera_transforms(steps: int, *, pan_x: Schedule = 0.0, pan_y: Schedule = 0.0, zoom: Schedule = 1.0,
                      rotate_degrees: Schedule = 0.0, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward affine transforms ``p' = M_t p + b_t`` of the ``steps`` frame steps, float32 on the CPU.

    Each motion parameter is one value for every step or one per step. Returns ``M [steps, 2, 2]`` and
    ``b [steps, 2]`` with ``M_t = A_t`` and ``b_t = c + d_t − A_t c``.
    """
    if steps < 1:
        raise ValueError(f"camera motion needs at least one frame step (2 frames), got {steps}")
    pan = torch.stack([_schedule(pan_x, steps, "pan_x"), _schedule(pan_y, steps, "pan_y")], dim=-1)
    scale = _schedule(zoom, steps, "zoom")
    if (scale <= 0).any():
        raise ValueError(f"zoom must be positive, got {scale.min().item()}")
    angle = _schedule(rotate_degrees, steps, "rotate_degrees") * (math.pi / 180)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    matrix = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2)
    centre = torch.tensor([width / 2, height / 2], dtype=torch.float64)
    offset = centre + pan - matrix @ centre
    return matrix.float(), offset.float()


def camera_motion_flow(frames: int, height: int, width: int, *, pan_x: Schedule = 0.0, pan_y: Schedule = 0.0,
                       zoom: Schedule = 1.0, rotate_degrees: Schedule = 0.0,
                       device: torch.device | str | None = None) -> FlowSequence:
    """Forward and backward flows of ``frames`` frames of height×width moved by the camera motion, kept as
    one affine transform per frame step (rasterised on access)."""
    if frames < 2:
        raise ValueError(f"frames must be at least 2 for a camera motion, got {frames}")
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be positive, got {height}x{width}")
    matrix, offset = camera_transforms(frames - 1, pan_x=pan_x, pan_y=pan_y, zoom=zoom,
                                       rotate_degrees=rotate_degrees, height=height, width=width)
    steps = AffineSteps(matrix, offset).to(device)
    invertible = bool((torch.linalg.det(steps.matrix) != 0).all())
    for motion in (steps, steps.inverse() if invertible else None):
        if motion is None or not motion.largest_displacement(height, width) < FLOAT32_MAX:
            raise ValueError(f"the camera motion moves pixels beyond the float32 range ({FLOAT32_MAX:.3g} px): "
                             f"lower pan_x / pan_y or bring zoom nearer to 1 (pan_x {_extremes(pan_x)}, "
                             f"pan_y {_extremes(pan_y)}, zoom {_extremes(zoom)})")
    return FlowSequence.from_transforms(steps, (height, width))


def _extremes(value: Schedule) -> str:
    """A motion parameter for an error message: its value, or the range of a per-step schedule."""
    values = torch.as_tensor(value, dtype=torch.float64).flatten()
    low, high = values.min().item(), values.max().item()
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _schedule(value: Schedule, steps: int, name: str) -> torch.Tensor:
    """One float64 CPU value per step from a scalar or a per-step sequence."""
    values = torch.as_tensor(value, dtype=torch.float64).cpu().flatten()
    if values.numel() == 1:
        values = values.expand(steps)
    if values.numel() != steps:
        raise ValueError(f"{name} must be one value or one per frame step ({steps}), got {values.numel()}")
    if not torch.isfinite(values).all():
        raise ValueError(f"{name} must be finite, got {values.tolist()}")
    return values
