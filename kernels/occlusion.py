"""Occlusion by forward–backward consistency (Sundaram, Brox and Keutzer 2010, Sec. 4.1).

Pixel centre q of frame t+1 goes back to p = q + B(q) in frame t; if it was visible there, the forward flow at
p brings it back: B(q) + F(p) ≈ 0. It is marked occluded (disoccluded in t+1: no counterpart in frame t) when

    |B(q) + F(p)|² > α (|B(q)|² + |F(p)|²) + β

(α = 0.01, β = 0.5 px² in the paper), or when p falls outside frame t. F(p) is sampled bilinearly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def occlusion_from_flows(forward: torch.Tensor, backward: torch.Tensor, *, alpha: float = 0.01,
                         beta: float = 0.5) -> torch.Tensor:
    """Bool ``[N, H, W]``: pixels of frame t+1 without a consistent counterpart in frame t.

    ``forward[t]`` is the flow t → t+1 and ``backward[t]`` the flow t+1 → t, both ``[N, 2, H, W]`` in pixels.
    """
    if forward.shape != backward.shape or forward.ndim != 4 or forward.shape[1] != 2:
        raise ValueError(f"forward {tuple(forward.shape)} and backward {tuple(backward.shape)} flows must both be "
                         f"[N, 2, H, W]")
    height, width = forward.shape[-2:]
    ys = torch.arange(height, dtype=forward.dtype, device=forward.device) + 0.5
    xs = torch.arange(width, dtype=forward.dtype, device=forward.device) + 0.5
    centres = torch.stack(torch.meshgrid(xs, ys, indexing="xy"))
    source = centres + backward
    size = forward.new_tensor([width, height]).view(1, 2, 1, 1)
    normalised = (2 * source / size - 1).permute(0, 2, 3, 1)
    forward_at_source = F.grid_sample(forward, normalised, mode="bilinear", padding_mode="border",
                                      align_corners=False)
    mismatch = (backward + forward_at_source).square().sum(1)
    tolerance = alpha * (backward.square().sum(1) + forward_at_source.square().sum(1)) + beta
    outside = ((source < 0) | (source > size)).any(1)
    return (mismatch > tolerance) | outside
