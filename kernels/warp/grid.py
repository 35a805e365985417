"""Grid variant of integral noise warping (Deng et al. 2024, Sec. 4.1, Algorithm 2).

Target pixel j = [c, c+1) × [r, r+1) is back-mapped as the octagon P_j through the images of its four
corners and four edge midpoints, in the order (c, r), (c+½, r), (c+1, r), (c+1, r+½), (c+1, r+1),
(c+½, r+1), (c, r+1), (c, r+½) (positive shoelace area for the identity). The map is known at pixel
centres only; at corners and midpoints it is interpolated bilinearly (the mean of the 4 or 2 nearest
centres) after extending the *displacement* m(p) − p linearly by one pixel beyond the frame (constantly
along an axis of a single pixel). Neighbouring pixels share these points, so a non-folding map tiles the
previous frame with octagons, and an affine map gives the exact parallelograms A·pixel + t.

Every octagon requests the exact areas a_ij = |P_j ∩ A_i| (:func:`polygon.cell_areas`: fans from the
window's lattice points, no clipping loops) and Y_j = Σ_i I_ij / √|P_j| with the bridge of :mod:`bridge`
(``normalise_sources=False``: the unrequested part of a cell gets the remainder term). Documented choices:

* **Outside the frame**: the part of P_j outside the previous frame is fresh noise of its area, so Y_j
  keeps unit variance; an octagon entirely outside, or marked in ``fresh_mask``, is fresh noise.
* **Windows**: an octagon whose bounding box spans at most 2 cells per axis (sub-pixel motion, moderate
  zoom and rotation: nearly all of them) requests the 2 × 2 cells at its origin, areas from one fan about
  the window's centre and inclusion–exclusion; one spanning 3 cells along an axis its 2 × 3, 3 × 2 or
  3 × 3 window; larger ones (strong contraction) go through a second pass, in chunks of windows of similar
  side, over their bounding box clipped to the frame: exact, never capped. Octagons larger than
  4·max(H, W) + 8 cells (absurd maps) take the particle footprint. A cell area below 8 ε of the dtype
  (10⁻⁶ in float32; times the window's side in the second pass) is the rounding of a cell the octagon does
  not reach (:mod:`polygon` adds and subtracts fans) and makes no request; so does a second-pass octagon's
  part outside the frame below that threshold (a difference of rounded sums).
* **Folds and slivers**: an octagon of area at most 10⁻⁴ (reversed orientation, a collapse, or a zoom-in
  beyond 100×), or whose winding-weighted area in some cell is negative or above 1 (self-intersection: the
  map reverses orientation), takes the particle footprint (bilinear weights at its back-mapped centre); so
  does an octagon in the second pass all of whose cells are rounding-level slivers (no request would be
  left). Distinct octagons that overlap (a non-injective map) request more than the area of a cell; such a
  cell is split among its requests in proportion (the particle rule).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .bridge import WINDOW, Requests, SourceGrid
from .frame import Variant, warp_with
from .particle import FOOTPRINT_SLOTS, bilinear_footprint, footprint_offsets
from .polygon import cell_areas, shoelace_area
from .workspace import Workspace

AreaFunction = Callable[[torch.Tensor, int, int, bool], torch.Tensor]  # (octagons, rows, cols, contained) → areas

OCTAGON_OFFSETS = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0), (0.0, 1.0), (0.0, 0.5))
_FOLD_TOLERANCE = 1e-4
_FARTHEST = 1e30  # displacements clamped here (pixels): finite maps with larger values would overflow float32
_ROUNDING_EPS = 8  # a cell area below 8 ε of the dtype is rounding of a cell the octagon does not reach
_CHUNK_ELEMENTS = 1 << 22
_POLYGON_CHUNK = 1 << 14  # octagons per pass on the CPU: small temporaries are recycled, not page-faulted


def _padded_displacement(backward_map: torch.Tensor, workspace: Workspace) -> torch.Tensor:
    """m(p) − p at the pixel centres, [2, H+2, W+2] (padded index = pixel + 1), clamped to ±10³⁰ pixels and
    extended by one on every side by linear extrapolation, first along y, then along x (constantly along an
    axis of a single pixel)."""
    _, height, width = backward_map.shape
    centres = torch.arange(max(height, width), device=backward_map.device, dtype=backward_map.dtype) + 0.5
    d = workspace.buffer("displacement", (2, height + 2, width + 2), backward_map.dtype)
    torch.sub(backward_map[0], centres[:width], out=d[0, 1:-1, 1:-1])
    torch.sub(backward_map[1], centres[:height, None], out=d[1, 1:-1, 1:-1])
    d.clamp_(-_FARTHEST, _FARTHEST)  # every octagon beyond is outside or absurd already; no overflow below
    for padded, axis in ((d[:, :, 1:-1], 1), (d, 2)):
        size = padded.shape[axis] - 2  # pixels along the axis
        for end, inward in ((0, 1), (size + 1, -1)):
            inner = padded.select(axis, end + inward)
            beyond = padded.select(axis, end + 2 * inward) if size > 1 else inner
            torch.sub(2 * inner, beyond, out=padded.select(axis, end))
    return d


def octagons(backward_map: torch.Tensor, workspace: Workspace | None = None) -> torch.Tensor:
    """Octagon vertices [2, 8, H·W] relative to each pixel's corner (c, r) (add (c, r) for positions), in
    ``workspace`` (buffer "octagons") when given."""
    ws = workspace or Workspace(backward_map.device)
    height, width = backward_map.shape[-2:]
    dtype = backward_map.dtype
    d = _padded_displacement(backward_map, ws)
    pairs = torch.add(d[:, :-1], d[:, 1:], out=ws.buffer("vertical_pairs", (2, height + 1, width + 2), dtype))
    corner = torch.add(pairs[:, :, :-1], pairs[:, :, 1:], out=ws.buffer("corners", (2, height + 1, width + 1), dtype))
    corner.mul_(0.25)  # (c, r) at [r, c]: the mean of the four centres around the corner
    across = torch.mul(pairs[:, :, 1:-1], 0.5, out=ws.buffer("across", (2, height + 1, width), dtype))  # (c + ½, r)
    along = torch.add(d[:, 1:-1, :-1], d[:, 1:-1, 1:], out=ws.buffer("along", (2, height, width + 1), dtype))
    along.mul_(0.5)  # (c, r + ½) at [r, c]
    points = (corner[:, :-1, :-1], across[:, :-1], corner[:, :-1, 1:], along[:, :, 1:],
              corner[:, 1:, 1:], across[:, 1:], corner[:, 1:, :-1], along[:, :, :-1])
    vertices = ws.buffer("octagons", (2, 8, height, width), dtype)
    offsets = torch.tensor(OCTAGON_OFFSETS, device=backward_map.device, dtype=dtype)[:, :, None, None]
    for k, point in enumerate(points):
        torch.add(point, offsets[k], out=vertices[:, k])
    return vertices.view(2, 8, -1)


def largest_window(height: int, width: int) -> int:
    """Cells per axis beyond which an octagon's window means an absurd map (particle footprint)."""
    return 4 * max(height, width) + 8


def octagon_windows(backward_map: torch.Tensor, workspace: Workspace | None = None,
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every octagon's window of cells: the vertices [2, 8, H·W] relative to the window's origin, the
    origins [2, H·W] (cell (x, y), absolute) and the extents [2, H·W] (cells along x and y, at least 1)."""
    ws = workspace or Workspace(backward_map.device)
    height, width = backward_map.shape[-2:]
    device = backward_map.device
    relative = octagons(backward_map, ws)
    low = relative.amin(1).floor_()  # window origin relative to the pixel corner
    relative.sub_(low[:, None])
    extent = relative.amax(1).ceil_().clamp_(min=1.0)
    pixel = ws.cached("pixel_corners", (height, width, str(device)), lambda: torch.stack(torch.meshgrid(
        torch.arange(width, device=device), torch.arange(height, device=device), indexing="xy")).reshape(2, -1))
    return relative, low.add_(pixel), extent


def window_outside(start: torch.Tensor, extent: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Octagons whose windows (origins and extents [2, P], :func:`octagon_windows`) miss the frame."""
    return (start[0] >= width) | (start[0] + extent[0] <= 0) | (start[1] >= height) | (start[1] + extent[1] <= 0)


def _rounding(dtype: torch.dtype) -> float:
    """A cell area below this is the rounding of a cell the octagon does not reach: it makes no request."""
    return _ROUNDING_EPS * torch.finfo(dtype).eps


def _folded(areas: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """Octagons whose winding-weighted cell areas [..., n] reveal a fold (see module docstring)."""
    smallest, largest = torch.aminmax(areas.flatten(0, -2), dim=0)
    return (total <= _FOLD_TOLERANCE) | (smallest < -_FOLD_TOLERANCE) | (largest > 1.0 + _FOLD_TOLERANCE)


def polygon_requests(backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, area_of: AreaFunction,
                     workspace: Workspace, *, dense_runs: bool = True) -> Requests:
    """Requests of every octagon of a [2, H, W] map to the cells it overlaps, areas from ``area_of``.

    Layout: a fixed block of four requests per target, [4, P] (the 2 × 2 cells at its window origin: all
    of a window of at most 2 cells per axis, the top-left four of a window of 3 cells along an axis,
    particle footprints of folded octagons, fresh noise), then the other cells of those windows and the
    cells of larger windows (second pass), with explicit targets.
    With ``dense_runs`` the 2 × 2 areas are evaluated over contiguous runs of octagons, every octagon of
    the run (cheap for exact areas: no gathers; the results of octagons that need a larger window or are
    outside are dropped); without it, only for the octagons that need them (costly area functions).
    """
    height, width = backward_map.shape[-2:]
    n_pixels = height * width
    device, dtype = backward_map.device, backward_map.dtype
    chunk = _POLYGON_CHUNK if device.type == "cpu" else n_pixels
    grid = workspace.cached("source_grid", (height, width), lambda: SourceGrid(height, width))
    relative, start, extent = octagon_windows(backward_map, workspace)
    span = extent.amax(0)
    outside = window_outside(start, extent, height, width)
    if fresh_mask is not None:
        outside |= fresh_mask.reshape(-1)
    folded = (span > largest_window(height, width)) & ~outside  # absurd maps: particle footprint
    regular = ~outside & ~folded
    origin = workspace.buffer("grid_origin", (2, n_pixels), torch.int64).copy_(start).masked_fill_(
        outside | (span > WINDOW), -SourceGrid.PAD)  # no area in the fixed slots: keep them on a border cell
    small = regular & (span <= 2)
    areas = workspace.zeros("grid_areas", (len(FOOTPRINT_SLOTS), n_pixels), dtype)
    if dense_runs:
        parts = [slice(first, min(n_pixels, first + chunk)) for first in range(0, n_pixels, chunk)]
    else:
        parts = torch.nonzero(small).squeeze(1).split(chunk)
    for part in parts:
        areas[:, part] = area_of(relative[:, :, part], 2, 2, True).view(4, -1)
    areas.masked_fill_(~small, 0.0)  # dense runs: drop the octagons of other windows
    folded |= small & _folded(areas, areas.sum(0))
    areas[0].masked_fill_(outside, 1.0)  # fresh noise: the normal of slot 0, a border cell
    extra = []
    window = extent.clamp_(min=2.0)  # columns, rows of the window at the origin
    for cols, rows in ((3, 2), (2, 3), (3, 3)):
        members = regular & (window[0] == cols) & (window[1] == rows)
        for part in torch.nonzero(members).squeeze(1).split(chunk):
            found = area_of(relative[:, :, part], rows, cols, True)
            folded[part[_folded(found, found.sum((0, 1)))]] = True
            areas[:, part] = found[:2, :2].reshape(4, -1)  # the window's top-left 2 × 2: the fixed slots
            found[:2, :2] = 0.0
            extra.append(_window_requests(part, start[:, part].long(), found, grid))
    large = torch.nonzero(regular & (span > WINDOW)).squeeze(1)
    if large.numel():
        extra.append(_large_requests(relative[:, :, large], start[:, large], large, area_of, grid, folded))
    areas.masked_fill_(areas < _rounding(dtype), 0.0)
    if folded.any():
        index = torch.nonzero(folded).squeeze(1)
        footprint_origin, areas[:, index] = bilinear_footprint(backward_map.reshape(2, -1)[:, index], height, width)
        origin[:, index] = footprint_origin.long()
    base = origin[1].mul_(grid.padded_width).add_(origin[0])
    kept = [(part, ~folded[part.target]) for part in extra]
    sources = [part.source[keep] for part, keep in kept]
    n_requests = areas.numel() + sum(part.numel() for part in sources)
    source = workspace.buffer("grid_source", (n_requests,), torch.int64)
    torch.add(base, footprint_offsets(grid, device, workspace)[:, None], out=source[:areas.numel()].view_as(areas))
    if sources:
        torch.cat(sources, out=source[areas.numel():])
    return Requests(
        source=source,
        area=torch.cat([areas.reshape(-1)] + [part.area[keep] for part, keep in kept],
                       out=workspace.buffer("grid_area", (n_requests,), dtype)),
        slots=FOOTPRINT_SLOTS,
        target=torch.cat([part.target[keep] for part, keep in kept]) if kept else None,
        counter=torch.cat([part.counter[keep] for part, keep in kept]) if kept else None)


def _window_requests(index: torch.Tensor, origin: torch.Tensor, areas: torch.Tensor, grid: SourceGrid) -> Requests:
    """Requests of octagons ``index`` to the cells of their rows × cols windows at ``origin`` [2, n], areas
    [rows, cols, n] (those above rounding).

    Counter 9j + u + 3v; cells outside the frame are outside requests.
    """
    cols, n = areas.shape[1:]
    kept = torch.nonzero(areas.reshape(-1) > _rounding(areas.dtype)).squeeze(1)
    position, octagon = kept.div(n, rounding_mode="floor"), kept.remainder(n)
    u, v = position.remainder(cols), position.div(cols, rounding_mode="floor")
    cell_x, cell_y = origin[0, octagon] + u, origin[1, octagon] + v
    inside = (cell_x >= 0) & (cell_x < grid.width) & (cell_y >= 0) & (cell_y < grid.height)
    target = index[octagon]
    return Requests(torch.where(inside, grid.index(cell_x, cell_y), SourceGrid.OUTSIDE), areas.reshape(-1)[kept],
                    target=target, counter=target * WINDOW**2 + u + WINDOW * v)


def _large_requests(relative: torch.Tensor, start: torch.Tensor, index: torch.Tensor, area_of: AreaFunction,
                    grid: SourceGrid, folded: torch.Tensor) -> Requests | None:
    """Requests of octagons [2, 8, n] spanning more than 3 cells, in chunks of windows of similar side.

    The window is the octagon's bounding box clipped to the frame; its in-frame cells get their exact
    areas (counters 9P + j·H·W + i, i the frame pixel), the rest of the octagon one outside request
    (counter 9j). A chunk's windows share its largest side s, so its temporaries stay below about
    ``_CHUNK_ELEMENTS`` (8 vertices × s² cells per octagon). Octagons found folded, or left without a
    request (every cell below the rounding threshold), are marked in ``folded``.
    """
    height, width = grid.height, grid.width
    n_pixels = height * width
    device = relative.device
    extent = relative.amax(1).ceil()
    frame = torch.tensor([width, height], device=device, dtype=relative.dtype)[:, None]
    clip_low = start.clamp(min=0.0)
    clip_high = torch.minimum(start + extent, frame)
    cells = (clip_high - clip_low).clamp(min=1.0)
    shifted = relative - (clip_low - start)[:, None]
    total = shoelace_area(relative)
    side = cells.amax(0)
    order = torch.argsort(side, descending=True)
    parts: list[tuple[torch.Tensor, ...]] = []
    position = 0
    while position < order.numel():
        largest = int(side[order[position]])
        count = max(1, _CHUNK_ELEMENTS // (8 * largest * largest))
        chunk = order[position:position + count]
        position += chunk.numel()
        cols, rows = (int(c) for c in cells[:, chunk].amax(1))
        areas = area_of(shifted[:, :, chunk], rows, cols, False)
        cell_x = clip_low[0, chunk].long() + torch.arange(cols, device=device)[:, None]  # [cols, n]
        cell_y = clip_low[1, chunk].long() + torch.arange(rows, device=device)[:, None, None]  # [rows, 1, n]
        areas = areas * ((cell_x < width) & (cell_y < height))
        inside_total = areas.sum((0, 1))
        threshold = _rounding(areas.dtype) * max(rows, cols)  # the areas' rounding grows with the side
        outside_area = total[chunk] - inside_total
        outside_area.masked_fill_(outside_area <= threshold, 0.0)  # a difference of rounded sums: no area
        keep = areas > threshold
        unrequested = ~keep.any(1).any(0) & (inside_total > 0) & (outside_area <= 0)  # slivers in the frame
        bad = _folded(areas, total[chunk]) | (inside_total > total[chunk] + _FOLD_TOLERANCE) | unrequested
        folded[index[chunk[bad]]] = True
        target = index[chunk].expand_as(areas)
        pixel = (cell_y * width + cell_x).expand_as(areas)[keep]
        source = grid.index(cell_x, cell_y).expand_as(areas)[keep]
        parts.append((target[keep], source, areas[keep], 9 * n_pixels + target[keep] * n_pixels + pixel))
        lone = index[chunk]
        parts.append((lone, torch.full_like(lone, SourceGrid.OUTSIDE),
                      torch.where(inside_total <= 0, 1.0, outside_area), lone * WINDOW**2))
    target, source, area, counter = (torch.cat(column) for column in zip(*parts, strict=True))
    keep = area > 0
    return Requests(source[keep], area[keep], target=target[keep], counter=counter[keep])


def grid_requests(backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, channels: int,
                  workspace: Workspace) -> Requests:
    """Exact-area requests of the grid variant."""
    return polygon_requests(backward_map, fresh_mask, cell_areas, workspace)


GRID = Variant(grid_requests, normalise_sources=False)


def warp_grid(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
              fresh_mask: torch.Tensor | None = None, workspace: Workspace | None = None,
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Warp ``noise`` [C, H, W] or [B, C, H, W] one frame with the grid variant (arguments as
    :func:`warp_particle.warp_particle`; ``dtype=torch.float64`` for a reference, map included)."""
    return warp_with(GRID, noise, backward_map, seed=seed, frame=frame, fresh_mask=fresh_mask,
                     workspace=workspace, dtype=dtype)
