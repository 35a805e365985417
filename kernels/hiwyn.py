"""HIWYN at finite upsampling N (Chang et al. 2024, "How I Warped Your Noise", Sec. 3–4): a reference.

HIWYN splits every noise pixel into N × N sub-pixels that sum to it (conditional upsampling, a discrete
Brownian bridge of equal areas 1/N²), rasterises the back-mapped polygon of every target pixel on that
fine grid (a sub-pixel belongs to the polygon when its centre is inside) and sums the sub-pixels it
collects, over √(their count/N²). Summing bridge increments of equal areas over a set gives the bridge
increment of the summed area, so HIWYN(N) is the grid variant with the exact areas a_ij replaced by

    a_ij(N) = #{sub-pixel centres of cell i inside P_j} / N²,

which is how it is computed here: same octagons, same bridge and normals (:mod:`warp_grid`), areas from
:func:`polygon.cell_point_counts` (every sub-pixel centre of the bounding box tested, O(N²) per pixel,
as a rasteriser does). The N² upsampled noise itself is never stored. As N → ∞, a_ij(N) → a_ij and, for
the same seed, HIWYN(N) → grid. An octagon that contains no sub-pixel centre takes the particle footprint.
"""

from __future__ import annotations

import functools

import torch

from .bridge import Requests
from .polygon import cell_point_counts
from .warp_frame import Variant, warp_with
from .warp_grid import polygon_requests
from .workspace import Workspace


def _rasterised_areas(vertices: torch.Tensor, rows: int, cols: int, contained: bool, upsample: int) -> torch.Tensor:
    """a_ij(N): winding-weighted sub-pixel centre counts over N²."""
    return cell_point_counts(vertices, rows, cols, upsample) / upsample**2


def hiwyn_requests(backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, channels: int,
                   workspace: Workspace, upsample: int) -> Requests:
    """Requests of HIWYN(N): the grid's, with rasterised areas."""
    area_of = functools.partial(_rasterised_areas, upsample=upsample)
    return polygon_requests(backward_map, fresh_mask, area_of, workspace, dense_runs=False)


def hiwyn_variant(upsample: int) -> Variant:
    """HIWYN(N) as a warp variant (the grid's bridge, rasterised areas)."""
    return Variant(functools.partial(hiwyn_requests, upsample=upsample), normalise_sources=False)


def warp_hiwyn(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int, upsample: int = 8,
               fresh_mask: torch.Tensor | None = None, dtype: torch.dtype = torch.float32,
               workspace: Workspace | None = None) -> torch.Tensor:
    """Warp ``noise`` one frame with HIWYN(N = ``upsample``); ``dtype=torch.float64`` for a reference.

    Arguments as :func:`warp_grid.warp_grid`. The map is used in ``dtype`` too.
    """
    if upsample < 1:
        raise ValueError(f"upsample must be at least 1, got {upsample}")
    return warp_with(hiwyn_variant(upsample), noise, backward_map.to(dtype), seed=seed, frame=frame,
                     fresh_mask=fresh_mask, workspace=workspace, dtype=dtype)
