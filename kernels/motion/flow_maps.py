"""Maps and flows: the one coordinate convention of the warp kernels.

* Pixel (row r, column c) is the unit square [c, c+1) × [r, r+1); its centre is (c + ½, r + ½).
* A **point** or **displacement** is stored x first: component 0 runs along the width (columns),
  component 1 along the height (rows). Fields are ``[..., 2, H, W]``.
* A **backward map** of frame t gives, for every target pixel centre of frame t, its position in frame
  t−1 in those pixel units. The identity map is therefore (c + ½, r + ½).
* A **flow** is a displacement field in pixels, x first, as OpenCV computes it (``cv2.calcOpticalFlow*``
  returns ``[H, W, 2]``; move the last axis first). A *forward* flow f of frame t−1 sends its pixel
  centre p to p + f(p) in frame t; a *backward* flow b of frame t sends p to p + b(p) in frame t−1.

Integral noise warping (Deng et al. 2024, Sec. 3) needs the backward map. The public implementations
approximate it from the forward flow read at the target position (:func:`map_from_forward_flow`), which
is exact for translations only; :func:`map_from_backward_flow` is exact, and
:func:`occlusion_from_flows` marks the pixels where the two flows disagree.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange

from ..checks import check_has_values, check_integers


def identity_map(height: int, width: int, device: torch.device | str | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The identity backward map [2, H, W]: every pixel centre (c + ½, r + ½) maps to itself."""
    check_integers(height=height, width=width)
    if height < 1 or width < 1:
        raise ValueError(f"a map needs a positive size, got height={height}, width={width}")
    ys = torch.arange(height, device=device, dtype=dtype) + 0.5
    xs = torch.arange(width, device=device, dtype=dtype) + 0.5
    return torch.stack((xs.expand(height, width), ys[:, None].expand(height, width)))


def check_field(field: torch.Tensor, name: str) -> None:
    """Raise ValueError unless ``field`` is a finite float [..., 2, H, W] tensor with H, W ≥ 1."""
    if not isinstance(field, torch.Tensor) or not field.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor [..., 2, H, W]")
    if field.ndim < 3 or field.shape[-3] != 2:
        raise ValueError(f"{name} must have shape [..., 2, H, W] (x then y), got {tuple(field.shape)}")
    if field.shape[-1] < 1 or field.shape[-2] < 1:
        raise ValueError(f"{name} has an empty frame: shape {tuple(field.shape)}")
    check_has_values(field, name)
    if not bool(torch.isfinite(field).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def map_from_backward_flow(flow: torch.Tensor) -> torch.Tensor:
    """Backward map m(p) = p + b(p) from a backward flow b of the target frame (exact)."""
    check_field(flow, "flow")
    return flow + identity_map(flow.shape[-2], flow.shape[-1], flow.device, flow.dtype)


def map_from_forward_flow(flow: torch.Tensor) -> torch.Tensor:
    """Backward map m(p) ≈ p − f(p) from the forward flow f of the previous frame.

    The anchors' approximation: the forward flow is read at the *target* position instead of at the
    (unknown) source position. Exact for a uniform translation; for other motions the error is
    |f(p) − f(p − f(p))|, the change of the flow across one displacement.
    """
    check_field(flow, "flow")
    return identity_map(flow.shape[-2], flow.shape[-1], flow.device, flow.dtype) - flow


def sample_bilinear(field: torch.Tensor, points: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Bilinear samples of ``field`` [..., K, H, W] at ``points`` [..., 2, h, w] (pixel units, x first).

    Sample positions are pixel-centre based: value k of pixel (r, c) sits at (c + ½, r + ½). Points must be
    finite (grid_sample would read NaN at the border) and their leading axes broadcast to the field's.
    """
    if not isinstance(field, torch.Tensor) or not field.is_floating_point() or field.ndim < 3:
        raise ValueError(f"field must be a floating-point tensor [..., K, H, W], got "
                         f"{getattr(field, 'shape', type(field).__name__)}")
    if 0 in field.shape[-3:]:
        raise ValueError(f"field has no values to sample: shape {tuple(field.shape)}")
    check_has_values(field, "field")
    check_field(points, "points")
    if points.device != field.device:
        raise ValueError(f"points are on {points.device} but the field on {field.device}")
    lead, point_lead = field.shape[:-3], points.shape[:-3]
    padded = (1,) * (len(lead) - len(point_lead)) + tuple(point_lead)
    if len(point_lead) > len(lead) or any(p not in (1, f) for p, f in zip(padded, lead, strict=True)):
        raise ValueError(f"points {tuple(points.shape)} do not broadcast to the field's leading axes "
                         f"{tuple(field.shape[:-3])}")
    return sample_bilinear_unchecked(field, points, padding_mode)


def sample_bilinear_unchecked(field: torch.Tensor, points: torch.Tensor, padding_mode: str = "border"
                              ) -> torch.Tensor:
    """:func:`sample_bilinear` without its input checks, for callers whose inputs are checked already."""
    lead = field.shape[:-3]
    channels, height, width = field.shape[-3:]
    out_h, out_w = points.shape[-2:]
    flat_field = field.reshape(-1, channels, height, width)
    flat_points = points.expand(*lead, 2, out_h, out_w).reshape(-1, 2, out_h, out_w)
    scale = torch.tensor([2.0 / width, 2.0 / height], device=points.device, dtype=points.dtype)
    grid = (rearrange(flat_points, "n xy h w -> n h w xy") * scale - 1.0).to(field.dtype)
    sampled = F.grid_sample(flat_field, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)
    return sampled.reshape(*lead, channels, out_h, out_w)


def occlusion_from_flows(forward_flow: torch.Tensor, backward_flow: torch.Tensor, alpha: float = 0.01,
                         beta: float = 0.5) -> torch.Tensor:
    """Target pixels [..., H, W] whose motion is unreliable (True = occluded or disoccluded).

    Forward–backward consistency (Sundaram, Brox & Keutzer 2010, Sec. 4.1): with b the backward flow of
    frame t at p and f the forward flow of frame t−1 read at p + b(p), the pixel is occluded when
    |b + f|² > α(|b|² + |f|²) + β, or when p + b(p) leaves frame t−1.
    """
    check_field(forward_flow, "forward_flow")
    check_field(backward_flow, "backward_flow")
    if forward_flow.shape != backward_flow.shape:
        raise ValueError(f"forward_flow {tuple(forward_flow.shape)} and backward_flow "
                         f"{tuple(backward_flow.shape)} must have the same shape")
    if forward_flow.device != backward_flow.device:
        raise ValueError(f"forward_flow is on {forward_flow.device}, backward_flow on {backward_flow.device}")
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    height, width = backward_flow.shape[-2:]
    source = map_from_backward_flow(backward_flow)
    forward_there = sample_bilinear_unchecked(forward_flow, source)
    mismatch = (backward_flow + forward_there).square().sum(-3)
    scale = backward_flow.square().sum(-3) + forward_there.square().sum(-3)
    outside = ((source[..., 0, :, :] < 0) | (source[..., 0, :, :] > width)
               | (source[..., 1, :, :] < 0) | (source[..., 1, :, :] > height))
    return (mismatch > alpha * scale + beta) | outside


def resample(fields: torch.Tensor, height: int, width: int, grow_mode: str = "bilinear") -> torch.Tensor:
    """Fields [N, K, h, w] on a height × width grid: along an axis that shrinks, each output pixel averages
    the input pixels it overlaps (``mode="area"``: adaptive average pooling over whole input pixels); one
    that grows interpolates with ``grow_mode`` (F.interpolate's modes).

    Every output is a weighted mean of inputs, so finite fields give finite results: where a sum inside a mean
    overflows (values near the dtype's largest), the fields are resampled divided by a power of two, which
    scales every mean exactly.
    """
    resampled = _area_then_grow(fields, height, width, grow_mode)
    if bool(torch.isfinite(resampled).all()) or not bool(torch.isfinite(fields).all()):
        return resampled
    shrink = 2.0 ** math.ceil(math.log2(fields.shape[-2] * fields.shape[-1]))  # at least the terms of any sum
    return _area_then_grow(fields / shrink, height, width, grow_mode) * shrink


def _area_then_grow(fields: torch.Tensor, height: int, width: int, grow_mode: str) -> torch.Tensor:
    in_h, in_w = fields.shape[-2:]
    if height < in_h or width < in_w:
        fields = F.interpolate(fields, size=(min(height, in_h), min(width, in_w)), mode="area")
    if height > in_h or width > in_w:
        extra = {"align_corners": False} if grow_mode == "bilinear" else {}
        fields = F.interpolate(fields, size=(height, width), mode=grow_mode, **extra)
    return fields


def resize_flow(flow: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """A flow field resampled to ``height`` × ``width`` (:func:`resample`), its vectors scaled to the new
    pixel size."""
    check_field(flow, "flow")
    check_integers(height=height, width=width)
    if height < 1 or width < 1:
        raise ValueError(f"resize_flow needs a positive size, got height={height}, width={width}")
    in_h, in_w = flow.shape[-2:]
    lead = flow.shape[:-3]
    resized = resample(flow.reshape(-1, 2, in_h, in_w), height, width)
    scale = torch.tensor([width / in_w, height / in_h], device=flow.device, dtype=flow.dtype)
    resized = (resized * scale[:, None, None]).reshape(*lead, 2, height, width)
    if not bool(torch.isfinite(resized).all()):
        raise ValueError(f"flow: its displacements (up to {float(flow.abs().max()):.3g} pixels) overflowed "
                         f"{flow.dtype} when scaled from its {in_w}x{in_h} grid to {width}x{height}. Give a flow in "
                         f"pixels of its frames, as Optical Flow and Camera Motion Flow make it")
    return resized
