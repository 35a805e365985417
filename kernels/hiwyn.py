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

:func:`warp_hiwyn_upsampled` is HIWYN as published, for speed and memory comparisons: it stores the
upsampled noise Z [C, H·N, W·N] (N²·C·H·W normals), conditionally on the frame x,

    Z_k = x_i/N + U_k − Ū_i   (U i.i.d. N(0, 1), Ū_i the mean of U over the N² sub-pixels of cell i),

so every Z_k is N(0, 1) and x_i = (1/N)·Σ_{k∈i} Z_k, and sums the rasterised sub-pixels of every octagon:
Y_j = (Σ_{k∈P_j} Z_k + √m_j·z_j)/√n_j, with n_j sub-pixel centres inside P_j of which m_j lie outside the
frame (fresh noise: the sum of m_j fresh sub-pixels has the law of √m_j·z_j). Given x it has the law of
:func:`warp_hiwyn` for maps without folds (a sub-pixel belongs to the octagons with a non-zero winding
number around its centre; HIWYN assumes an injective map and has no fold fallback). An octagon without a
sub-pixel centre, or marked in ``fresh_mask``, is fresh noise.
"""

from __future__ import annotations

import functools

import torch

from .bridge import Requests
from .counter_rng import Stream, counter_normals, normals_from_states, stream_key, weyl_states
from .polygon import cell_point_counts, polygons_per_raster_pass, sub_cell_winding
from .warp_frame import Variant, check_warp_inputs, warp_with
from .warp_grid import octagon_windows, polygon_requests
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


MAX_UPSAMPLED_WINDOW = 16  # cells per axis of an octagon's window in the upsampled reference
_BAND_ELEMENTS = 1 << 18  # sub-pixels per channel drawn per pass: the scratch stays in the cache


def upsample_noise(values: torch.Tensor, upsample: int, key: int, workspace: Workspace | None = None) -> torch.Tensor:
    """HIWYN's conditional upsampling of ``values`` [C, H, W]: Z [C, H·N, W·N], Z_k = x_i/N + U_k − Ū_i.

    U_k is the normal of counter k (the sub-pixel's row-major index) in the stream ``key``; Z lives in
    ``workspace`` (buffer "upsampled") when given.
    """
    channels, height, width = values.shape
    n = upsample
    ws = workspace or Workspace(values.device)
    fine = ws.buffer("upsampled", (channels, height, n, width, n), values.dtype)
    rows_per_band = max(1, _BAND_ELEMENTS // (n * n * width))
    for first in range(0, height, rows_per_band):
        last = min(height, first + rows_per_band)
        band = fine[:, first:last]
        counters = torch.arange(first * n * n * width, last * n * n * width, device=values.device)
        states = weyl_states(counters, channels, out=ws.buffer("states", ((channels + 1) // 2, counters.numel()),
                                                                 torch.int64))
        normals_from_states(states, channels, key, out=band.view(channels, -1), workspace=ws)
        shift = torch.sub(values[:, first:last] / n, band.sum(2).sum(-1), alpha=1 / n**2)  # x_i/N − Ū_i
        band.add_(shift[:, :, None, :, None])
    return fine.view(channels, height * n, width * n)


def _upsampled_step(values: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                    upsample: int, sub_pixel_key: int, fresh_key: int, workspace: Workspace) -> torch.Tensor:
    """One frame [C, H·W] of HIWYN as published (see module docstring)."""
    channels, height, width = values.shape
    n, device, dtype = upsample, values.device, values.dtype
    fine = upsample_noise(values, n, sub_pixel_key, workspace).view(channels, -1)
    relative, origin, extent = octagon_windows(backward_map)
    origin, extent = origin.long(), extent.long()
    if int(extent.max()) > MAX_UPSAMPLED_WINDOW:
        raise ValueError(f"backward_map contracts a pixel over more than {MAX_UPSAMPLED_WINDOW} cells, beyond "
                         "the upsampled HIWYN reference; use warp_hiwyn")
    out = counter_normals(torch.arange(height * width, device=device), channels, fresh_key).to(dtype)
    shape_code = extent[0] * (MAX_UPSAMPLED_WINDOW + 1) + extent[1]
    for code in torch.unique(shape_code).tolist():
        cols, rows = divmod(code, MAX_UPSAMPLED_WINDOW + 1)
        members = torch.nonzero(shape_code == code).squeeze(1)
        for part in members.split(polygons_per_raster_pass(relative, rows, cols, n)):
            inside = sub_cell_winding(relative[:, :, part], rows, cols, n) != 0  # [m, rows·N, cols·N]
            fine_y = origin[1, part, None] * n + torch.arange(rows * n, device=device)
            fine_x = origin[0, part, None] * n + torch.arange(cols * n, device=device)
            in_frame = (((fine_y >= 0) & (fine_y < height * n))[:, :, None]
                        & ((fine_x >= 0) & (fine_x < width * n))[:, None, :])
            index = fine_y.clamp(0, height * n - 1)[:, :, None] * (width * n) + fine_x.clamp(0, width * n - 1)[:, None]
            taken = inside & in_frame
            count = inside.sum((1, 2)).to(dtype)
            outside = count - taken.sum((1, 2)).to(dtype)
            octagon, row, col = taken.nonzero(as_tuple=True)
            sums = torch.zeros((channels, part.numel()), dtype=dtype, device=device)
            sums.index_add_(1, octagon, fine.index_select(1, index[octagon, row, col]))
            warped = (sums + outside.sqrt() * out[:, part]) / count.sqrt()
            out[:, part] = torch.where(count > 0, warped, out[:, part])
    if fresh_mask is not None:
        fresh = fresh_mask.reshape(-1)
        out[:, fresh] = counter_normals(torch.nonzero(fresh).squeeze(1), channels, fresh_key).to(dtype)
    return out


def warp_hiwyn_upsampled(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
                         upsample: int = 8, fresh_mask: torch.Tensor | None = None,
                         dtype: torch.dtype = torch.float32, workspace: Workspace | None = None) -> torch.Tensor:
    """Warp ``noise`` one frame with HIWYN(N = ``upsample``) as published: the upsampled noise stored
    (memory C·N²·H·W, in ``workspace`` when given), every octagon's sub-pixels summed. A reference for
    comparisons; arguments as :func:`warp_hiwyn`. Maps that contract a pixel over more than 16 cells per
    axis are refused."""
    if upsample < 1:
        raise ValueError(f"upsample must be at least 1, got {upsample}")
    batched, maps, masks = check_warp_inputs(noise, backward_map, fresh_mask)
    ws = workspace or Workspace(noise.device)
    out = torch.empty_like(batched)
    for b in range(batched.shape[0]):
        keys = (stream_key(seed, frame, Stream.SUB_PIXEL, b), stream_key(seed, frame, Stream.REQUEST, b))
        warped = _upsampled_step(batched[b].to(dtype), maps[min(b, maps.shape[0] - 1)].to(dtype),
                                 None if masks is None else masks[min(b, masks.shape[0] - 1)], upsample, *keys, ws)
        out[b] = warped.view_as(out[b])
    return out if noise.ndim == 4 else out[0]
