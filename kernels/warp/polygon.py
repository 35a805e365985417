"""Exact areas of polygons inside the unit cells of a window, vectorised over many polygons.

Polygons are given by their vertices [2, K, N] (x then y; vertex k of polygon n at [:, k, n], so that every
operation runs over contiguous rows of polygons) in window coordinates: the window's cell (u, v) is the
square [u, u+1] × [v, v+1]. Orientation: positive shoelace area ½Σ(x_k·y_{k+1} − x_{k+1}·y_k).

Instead of clipping every polygon against every cell (Sutherland–Hodgman, variable vertex counts), every
cell area follows from quadrant areas Q(X, Y) = |P ∩ {x < X, y < Y}| at the window's lattice points,

    |P ∩ cell(u, v)| = Q(u+1, v+1) − Q(u, v+1) − Q(u+1, v) + Q(u, v),

and every quadrant area from a fan. The fan from c = (X, Y) splits P into the triangles (c, a, b) of its
edges a → b, of signed area ½·D with D = (a − c) × (b − a). The lines x = X and y = Y pass through c, so
they cut each triangle into triangles with apex c, one per piece of its edge: a piece that is a fraction
f of the edge has area ½·f·D and lies in the quadrant of the piece. With f_x the fraction of the edge in
x < X, (X − min(a_x, b_x)) / |b_x − a_x| clamped to [0, 1], and f_y likewise,

    Q(X, Y) = ½ Σ_edges D·f_xy,   f_xy = min(f_x, f_y) if x and y move the same way along the edge
                                         (both parts start at a, or both end at b), else max(0, f_x + f_y − 1),

and a half-plane |P ∩ {x < X}| = ½ Σ D·f_x for any c on the line. Every edge is on its own: no clipping,
and an edge parallel to a line has f ∈ {0, 1}, or lies on it and has D = 0. Self-intersecting or
negatively oriented polygons get winding-number-weighted areas (negative where the orientation flips),
which is how folds are detected. In large windows every edge's four corner terms are combined before the
sum over edges (:func:`_cell_areas_by_edges`), so that float32 rounding does not grow with the window.
"""

from __future__ import annotations

import torch

_RASTER_ELEMENTS = 1 << 21  # (polygon, edge, sub-cell row) triples per scanline pass: temporaries of tens of MiB


def shoelace_area(vertices: torch.Tensor) -> torch.Tensor:
    """Signed area ½Σ(x_k·y_{k+1} − x_{k+1}·y_k) of polygons [2, K, N]."""
    x, y = vertices
    return 0.5 * (x * y.roll(-1, 0) - x.roll(-1, 0) * y).sum(0)


class _Edges:
    """The edges a → b of polygons [2, K, N]: what every fan needs."""

    def __init__(self, vertices: torch.Tensor) -> None:
        self.start = vertices
        following = vertices.roll(-1, 1)
        self.step = following - vertices  # (dx, dy), [2, K, N]
        self.low = torch.minimum(vertices, following)
        tiny = torch.finfo(vertices.dtype).tiny  # a parallel edge: f = 0 or 1 by the sign of (line − low), 0 on it
        self.inv_length = self.step.abs().clamp_(min=tiny).reciprocal_()  # 1/|dx|, 1/|dy|, finite
        self.same_way = (self.step[0] * self.step[1]) > 0

    def share_below(self, line: torch.Tensor | float, axis: int | slice = slice(None)) -> torch.Tensor:
        """f: the share of every edge with coordinate ``axis`` below ``line`` (a number, or lines [L, 1, 1]);
        both axes by default ([2, K, N]), one axis: [K, N] or [L, K, N]."""
        return (line - self.low[axis]).mul_(self.inv_length[axis]).clamp_(0.0, 1.0)

    def share_in_quadrant(self, below_x: torch.Tensor, below_y: torch.Tensor) -> torch.Tensor:
        """f_xy from f_x and f_y (broadcast)."""
        return torch.where(self.same_way, torch.minimum(below_x, below_y), (below_x + below_y - 1.0).clamp_(min=0.0))

    def half_fan(self, x: torch.Tensor | float, y: float) -> torch.Tensor:
        """½D = ½ (a − c) × (b − a) for the fan centres c = (x, y) (x a number or [L, 1, 1])."""
        return (self.start[0] - x).mul_(self.step[1]).sub_((self.start[1] - y).mul_(self.step[0])).mul_(0.5)

    def span_between(self, below_low: torch.Tensor, below_high: torch.Tensor, axis: int) -> tuple[torch.Tensor, ...]:
        """The part of every edge between two lines along ``axis``, as an interval [t₀, t₁] of the edge's
        parameter t ∈ [0, 1] (a + t·(b − a)), from the shares below each line."""
        rising = self.step[axis] >= 0  # the share below a line is a prefix of the edge, else a suffix
        return (torch.where(rising, below_low, 1.0 - below_high), torch.where(rising, below_high, 1.0 - below_low))


def cell_areas(vertices: torch.Tensor, rows: int, cols: int, contained: bool = False) -> torch.Tensor:
    """Areas [rows, cols, N] of polygons [2, K, N] inside the cells of a rows × cols window.

    ``contained`` promises that every vertex lies in [0, cols] × [0, rows], for small windows: then only
    the interior lattice points need fans (Q is zero on the lines X = 0 and Y = 0, a half-plane on the
    lines X = cols and Y = rows, where f = 1, and the total at (cols, rows), each from a fan already made
    for the interior). Otherwise the parts of the polygons outside the window are ignored, and the cells
    come from :func:`_cell_areas_by_edges`, accurate in any window.
    """
    edges = _Edges(vertices)
    if not (contained and rows > 1 and cols > 1):
        return _cell_areas_by_edges(edges, rows, cols)
    xs = torch.arange(1, cols, dtype=vertices.dtype, device=vertices.device)[:, None, None]
    below_x = edges.share_below(xs, 0)  # [cols − 1, K, N]
    lattice = torch.zeros((rows + 1, cols + 1, vertices.shape[-1]), dtype=vertices.dtype, device=vertices.device)
    for y in range(1, rows):
        fan = edges.half_fan(xs, float(y))  # centres (X, y), [cols − 1, K, N]
        below_y = edges.share_below(float(y), 1)
        lattice[y, 1:cols] = (edges.share_in_quadrant(below_x, below_y) * fan).sum(1)
        lattice[y, cols] = (below_y * fan[0]).sum(0)  # |P ∩ {y < Y}|: a centre on the line y = Y
    top_fan = fan  # centres (X, rows − 1): on the lines x = X, which is all a half-plane needs
    lattice[rows, 1:cols] = (below_x * top_fan).sum(1)  # |P ∩ {x < X}|
    lattice[rows, cols] = top_fan[0].sum(0)
    return lattice[1:, 1:] - lattice[:-1, 1:] - lattice[1:, :-1] + lattice[:-1, :-1]


def _cell_areas_by_edges(edges: _Edges, rows: int, cols: int) -> torch.Tensor:
    """Cell areas [rows, cols, N] with every edge's four corner terms combined before the sum over edges.

    Quadrant areas grow with the window, and so would the rounding of their inclusion–exclusion (about
    rows·cols·ε). The fans of a cell's corners differ by exact terms, D(u+1, v) = D(u, v) − Δy and
    D(u, v+1) = D(u, v) + Δx, so an edge adds to cell (u, v)

        ½ [D(u, v)·f_in + Δx·(f₁₁ − f₀₁) − Δy·(f₁₁ − f₁₀)],

    f_ab = f_xy at the corner (u + a, v + b), and f_in = f₁₁ − f₀₁ − f₁₀ + f₀₀ the share of the edge inside
    the cell, taken as the overlap of the edge's parameter intervals in the cell's column and row: exactly
    0 for an edge that misses the cell, so the error stays about max(rows, cols)·ε.
    """
    start = edges.start
    xs = torch.arange(cols + 1, dtype=start.dtype, device=start.device)[:, None, None]
    below_x = edges.share_below(xs, 0)  # [cols + 1, K, N]
    column_from, column_to = edges.span_between(below_x[:-1], below_x[1:], 0)  # [cols, K, N]
    half_dx, half_dy = 0.5 * edges.step[0], 0.5 * edges.step[1]
    areas = torch.empty((rows, cols, start.shape[-1]), dtype=start.dtype, device=start.device)
    below_y = edges.share_below(0.0, 1)
    lower = edges.share_in_quadrant(below_x, below_y)  # f_xy on the line Y = 0
    for v in range(rows):
        above_y = edges.share_below(float(v + 1), 1)
        upper = edges.share_in_quadrant(below_x, above_y)
        row_from, row_to = edges.span_between(below_y, above_y, 1)
        inside = torch.minimum(column_to, row_to).sub_(torch.maximum(column_from, row_from)).clamp_(min=0.0)
        along_x = upper[1:] - upper[:-1]  # f₁₁ − f₀₁
        along_y = upper[1:] - lower[1:]  # f₁₁ − f₁₀
        terms = edges.half_fan(xs[:-1], float(v)).mul_(inside).add_(along_x.mul_(half_dx)).sub_(along_y.mul_(half_dy))
        areas[v] = terms.sum(1)
        lower, below_y = upper, above_y
    return areas


def scanline_crossings(vertices: torch.Tensor, rows: int, upsample: int) -> tuple[torch.Tensor, ...]:
    """Where the edges of polygons [2, K, N] cross the sub-cell rows of a window of ``rows`` cell rows.

    Every cell is split into n × n sub-cells (n = ``upsample``) with centres (u + (a + ½)/n, v + (b + ½)/n);
    sub-row r = v·n + b lies at height y_r = (r + ½)/n. Edge p → q crosses it upward (d = +1) when
    p_y ≤ y_r < q_y and downward (d = −1) when q_y ≤ y_r < p_y, at x = p_x + (y_r − p_y)(q_x − p_x)/(q_y − p_y).
    The winding number of a centre is Σ d over the crossings of its row to its right (half-open in y), so
    for any f on the centres of the window's rows

        Σ_centres winding·f = Σ_crossings d·Σ_{the first L centres of the row} f,   L = max(0, ⌈x·n − ½⌉),

    the centres left of x ((a + ½)/n < x, a = 0, 1, …): a scanline rasteriser, O(n) per cell row.
    Returns the polygon, sub-row, d (int64) and L of every crossing.
    """
    n = upsample
    centres_y = (torch.arange(rows * n, device=vertices.device, dtype=vertices.dtype) + 0.5) / n
    start_x, start_y = vertices.permute(0, 2, 1)[..., None]  # [N, K, 1]
    end_x, end_y = start_x.roll(-1, 1), start_y.roll(-1, 1)
    up = (start_y <= centres_y) & (centres_y < end_y)
    down = (end_y <= centres_y) & (centres_y < start_y)
    polygon, edge, row = torch.nonzero(up | down, as_tuple=True)
    direction = up[polygon, edge, row].long().mul_(2).sub_(1)
    p_x, p_y, q_x, q_y = (t[polygon, edge, 0] for t in (start_x, start_y, end_x, end_y))
    rising = direction > 0  # x from the edge's lower end whichever way it runs (one formula for both polygons)
    low_x, low_y = torch.where(rising, p_x, q_x), torch.where(rising, p_y, q_y)
    cross = low_x + (centres_y[row] - low_y) * ((q_x - p_x) / (q_y - p_y))
    left = torch.ceil(cross * n - 0.5).clamp_(min=0).long()
    return polygon, row, direction, left


def polygons_per_scanline_pass(vertices: torch.Tensor, rows: int, upsample: int) -> int:
    """How many polygons [2, K, N] :func:`scanline_crossings` takes per pass: tens of MiB of temporaries."""
    return max(1, _RASTER_ELEMENTS // (vertices.shape[1] * rows * upsample))


def cell_point_counts(vertices: torch.Tensor, rows: int, cols: int, upsample: int) -> torch.Tensor:
    """Winding-weighted counts [rows, cols, N] of the sub-cell centres (:func:`scanline_crossings`) inside
    polygons [2, K, N], in the window's cells: crossing (d, L) in a row of cell row v adds d·clamp(L − u·n,
    0, n) to cell (u, v)."""
    n = upsample
    shares = torch.arange(cols, device=vertices.device) * n
    counts = []
    for part in vertices.split(polygons_per_scanline_pass(vertices, rows, n), dim=2):
        polygon, row, direction, left = scanline_crossings(part, rows, n)
        per_cell = (left[:, None] - shares).clamp_(0, n).mul_(direction[:, None])  # [crossings, cols]
        cells = torch.zeros((part.shape[-1] * rows, cols), dtype=torch.int64, device=vertices.device)
        counts.append(cells.index_add_(0, polygon * rows + row.div(n, rounding_mode="floor"), per_cell))
    return torch.cat(counts).view(-1, rows, cols).permute(1, 2, 0).to(vertices.dtype)
