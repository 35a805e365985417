"""HIWYN at finite upsampling N (Chang et al. 2024, "How I Warped Your Noise", Sec. 3–4): a reference.

HIWYN splits every noise pixel into N × N sub-pixels that sum to it (conditional upsampling, a discrete
Brownian bridge of equal areas 1/N²), rasterises the back-mapped polygon of every target pixel on that
fine grid (a sub-pixel belongs to the polygon when its centre is inside) and sums the sub-pixels it
collects, over √(their count/N²). Summing bridge increments of equal areas over a set gives the bridge
increment of the summed area, so HIWYN(N) is the grid variant with the exact areas a_ij replaced by

    a_ij(N) = #{sub-pixel centres of cell i inside P_j} / N²,

which is how it is computed here: same octagons, same bridge and normals (:mod:`warp_grid`), areas from
:func:`polygon.cell_point_counts` (winding-weighted counts of the sub-pixel centres, by a scanline
rasteriser). The N² upsampled noise itself is never stored. As N → ∞, a_ij(N) → a_ij and, for the same
seed, HIWYN(N) → grid. An octagon that contains no sub-pixel centre takes the particle footprint.

:func:`warp_hiwyn_upsampled` is HIWYN as published, for speed and memory comparisons: it stores the
upsampled noise Z [C, H·N, W·N] (N²·C·H·W normals), conditionally on the frame x,

    Z_k = x_i/N + U_k − Ū_i   (U i.i.d. N(0, 1), Ū_i the mean of U over the N² sub-pixels of cell i),

so every Z_k is N(0, 1) and x_i = (1/N)·Σ_{k∈i} Z_k, and sums the rasterised sub-pixels of every octagon,

    Y_j = (Σ_{k∈P_j} Z_k + √m_j·z_j) / √n_j,

with n_j sub-pixel centres inside P_j (winding-weighted, the same scanline rasteriser; a mirrored octagon
counts positively), m_j ≥ 0 of them outside the frame (fresh noise: the sum of m_j fresh sub-pixels has the
law of √m_j·z_j), z_j the normal of pixel j in the frame's REQUEST stream. The sum over P_j takes prefix
sums of Z along its rows at the crossings (:func:`polygon.scanline_crossings`). Given x it has the law of
:func:`warp_hiwyn` for maps without folds, with one exception: an octagon without a sub-pixel centre is
fresh noise here (HIWYN has no fallback), the particle footprint there; so is an octagon marked in
``fresh_mask``. HIWYN assumes an injective map: for a self-intersecting octagon the winding-weighted sum
does not have unit variance (:func:`warp_hiwyn` takes the particle footprint for folds).
"""

from __future__ import annotations

import functools

import torch

from .bridge import Requests
from .counter_rng import CPU_CHUNK, Stream, counter_normals, normals_from_states, stream_key, weyl_states
from .frame import Variant, warp_batch, warp_with
from .grid import largest_window, octagon_windows, polygon_requests, window_outside
from .polygon import cell_point_counts, polygons_per_scanline_pass, scanline_crossings
from .workspace import Workspace


def _check_upsample(upsample: int) -> None:
    if upsample < 1:
        raise ValueError(f"upsample must be at least 1, got {upsample}")


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
    _check_upsample(upsample)
    return warp_with(hiwyn_variant(upsample), noise, backward_map, seed=seed, frame=frame,
                     fresh_mask=fresh_mask, workspace=workspace, dtype=dtype)


def upsample_noise(values: torch.Tensor, upsample: int, key: int, workspace: Workspace | None = None) -> torch.Tensor:
    """HIWYN's conditional upsampling of ``values`` [C, H, W]: Z [C, H·N, W·N], Z_k = x_i/N + U_k − Ū_i.

    U_k is the normal of counter k (the sub-pixel's row-major index) in the stream ``key``; Z lives in
    ``workspace`` (buffer "upsampled") when given. On the CPU it is drawn in cache-sized bands of rows.
    """
    channels, height, width = values.shape
    n, device = upsample, values.device
    ws = workspace or Workspace(device)
    fine = ws.buffer("upsampled", (channels, height, n, width, n), values.dtype)
    band_rows = max(1, CPU_CHUNK // (n * n * width)) if device.type == "cpu" else height
    for first in range(0, height, band_rows):
        last = min(height, first + band_rows)
        band = fine[:, first:last]
        counters = torch.arange(first * n * n * width, last * n * n * width, device=device)
        states = ws.buffer("sub_pixel_states", ((channels + 1) // 2, counters.numel()), torch.int64)
        normals_from_states(weyl_states(counters, channels, out=states), channels, key, out=band.view(channels, -1),
                            workspace=ws)
        shift = torch.sub(values[:, first:last] / n, band.sum(2).sum(-1), alpha=1 / n**2)  # x_i/N − Ū_i
        band.add_(shift[:, :, None, :, None])
    return fine.view(channels, height * n, width * n)


def _upsampled_step(values: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                    upsample: int, sub_pixel_key: int, fresh_key: int, workspace: Workspace) -> torch.Tensor:
    """One frame [C, H·W] of HIWYN as published, Y_j = (Σ_{k∈P_j} Z_k + √m_j·z_j)/√n_j.

    With R_r(X) = Σ_{col < X} Z[r, col] (row prefix sums of the frame's sub-pixels), a crossing (d, L) of
    sub-row r adds d·L to n_j and d·R_r(X) to the sum, X the frame columns left of it (clamped to the row);
    the sums of a negatively oriented octagon change sign. Octagons outside the frame are fresh noise.
    """
    channels, height, width = values.shape
    n, device, dtype = upsample, values.device, values.dtype
    fine_height, fine_width = height * n, width * n
    running = upsample_noise(values, n, sub_pixel_key, workspace).cumsum_(2).view(channels, -1)  # R_r(X + 1)
    relative, origin, extent = octagon_windows(backward_map)
    if int(extent.max()) > largest_window(height, width):
        raise ValueError("backward_map maps a pixel over more cells than fit the frame several times over, beyond "
                         "the upsampled HIWYN reference; use warp_hiwyn")
    active = ~window_outside(origin, extent, height, width)
    if fresh_mask is not None:
        active &= ~fresh_mask.reshape(-1)
    origin, rows_of = origin.long(), extent[1].long()
    out = counter_normals(torch.arange(height * width, device=device), channels, fresh_key).to(dtype)
    for rows in torch.unique(rows_of[active]).tolist():
        members = torch.nonzero(active & (rows_of == rows)).squeeze(1)
        for part in members.split(polygons_per_scanline_pass(relative, rows, n)):
            polygon, row, direction, left = scanline_crossings(relative[:, :, part], rows, n)
            count = torch.zeros(part.numel(), dtype=torch.int64, device=device).index_add_(0, polygon,
                                                                                          direction * left)
            fine_y = origin[1, part][polygon] * n + row
            fine_x = (origin[0, part][polygon] * n + left).clamp_(0, fine_width)
            in_frame = (fine_y >= 0) & (fine_y < fine_height)
            polygon, direction, fine_y, fine_x = (t[in_frame] for t in (polygon, direction, fine_y, fine_x))
            taken = torch.zeros_like(count).index_add_(0, polygon, direction * fine_x)
            prefix = running.index_select(1, fine_y * fine_width + (fine_x - 1).clamp_(min=0))
            prefix.mul_((direction * (fine_x > 0)).to(dtype))
            sums = torch.zeros((channels, part.numel()), dtype=dtype, device=device).index_add_(1, polygon, prefix)
            orientation = torch.where(count < 0, -1, 1)
            total, taken = (count * orientation).to(dtype), (taken * orientation).to(dtype)
            fresh = (total - taken).clamp_(min=0.0).sqrt_() * out[:, part]
            warped = (sums * orientation + fresh) / total.sqrt()
            out[:, part] = torch.where(total > 0, warped, out[:, part])
    return out


def warp_hiwyn_upsampled(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
                         upsample: int = 8, fresh_mask: torch.Tensor | None = None,
                         dtype: torch.dtype = torch.float32, workspace: Workspace | None = None) -> torch.Tensor:
    """Warp ``noise`` one frame with HIWYN(N = ``upsample``) as published: the upsampled noise stored
    (memory C·N²·H·W, in ``workspace`` when given), every octagon's sub-pixels summed. A reference for
    comparisons; arguments as :func:`warp_hiwyn`. Absurd maps (windows beyond :func:`warp_grid.largest_window`)
    are refused."""
    _check_upsample(upsample)
    ws = workspace or Workspace(noise.device)

    def step(values: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, b: int,
             ) -> torch.Tensor:
        return _upsampled_step(values, backward_map, fresh_mask, upsample, stream_key(seed, frame, Stream.SUB_PIXEL, b),
                               stream_key(seed, frame, Stream.REQUEST, b), ws)

    return warp_batch(step, noise, backward_map, fresh_mask, dtype)
