"""Exact areas of polygons inside the unit cells of a window, vectorised over many polygons.

Polygons are given by their vertices [2, K, N] (x then y; vertex k of polygon n at [:, k, n], so that every
operation runs over contiguous rows of polygons) in window coordinates: the window's cell (u, v) is the
square [u, u+1] × [v, v+1]. Orientation: positive shoelace area ½Σ(x_k·y_{k+1} − x_{k+1}·y_k).

Instead of clipping every polygon against every cell (Sutherland–Hodgman, variable vertex counts), the
area of P ∩ cell(u, v) follows from Green's theorem, ∫∫_P 1 dA = ∮_∂P G(x) dy for any G with G' = 1,
applied to the indicator of the cell. With G_u(x) = clamp(x − u, 0, 1) = relu(x − u) − relu(x − u − 1),

    |P ∩ cell(u, v)| = Q_v(u) − Q_v(u + 1),   Q_v(X) = Σ_edges ∫_{edge ∩ row v} relu(x − X) dy,

where "edge ∩ row v" is the part of the edge with y in [v, v+1] (x is linear in y along it). On that part,
with end abscissae lo ≤ hi (mid their mean, len = hi − lo) and signed height Δy,

    ∫ relu(x − X) dy = Δy·[relu(mid − X) + d²/(2·len)],   d = max(0, min(X − lo, hi − X)),

exact, free of cancellation (d ≤ len/2) and of 0/0 for vertical edges (d = 0). Self-intersecting or
negatively oriented polygons get winding-number-weighted areas (negative where the orientation flips),
which is how folds are detected. A polygon inside a 2 × 2 window (nearly every octagon) takes a cheaper
route to the same areas, a fan from the window's centre (:func:`_quadrant_areas`).
"""

from __future__ import annotations

import torch

_TINY = 1e-30
_RASTER_ELEMENTS = 1 << 20  # (polygon, edge, sub-cell centre) triples per pass: temporaries of a few MiB, reused


def shoelace_area(vertices: torch.Tensor) -> torch.Tensor:
    """Signed area ½Σ(x_k·y_{k+1} − x_{k+1}·y_k) of polygons [2, K, N]."""
    x, y = vertices
    return 0.5 * (x * y.roll(-1, 0) - x.roll(-1, 0) * y).sum(0)


def _row_pieces(vertices: torch.Tensor, rows: int) -> tuple[torch.Tensor, ...]:
    """The part of every edge inside every row: lo, hi, mid, 1/(2·len) and Δy, each [rows, K, N]."""
    xa, ya = vertices
    xb, yb = xa.roll(-1, 0), ya.roll(-1, 0)
    rise = yb - ya
    slope = torch.where(rise != 0, (xb - xa) / torch.where(rise != 0, rise, 1.0), 0.0)
    v = torch.arange(rows, device=vertices.device, dtype=vertices.dtype)[:, None, None]
    y0 = torch.minimum(torch.maximum(ya, v), v + 1.0)
    y1 = torch.minimum(torch.maximum(yb, v), v + 1.0)
    x0 = xa + (y0 - ya) * slope
    x1 = xa + (y1 - ya) * slope
    lo, hi = torch.minimum(x0, x1), torch.maximum(x0, x1)
    half_inv_len = 0.5 / (hi - lo).clamp(min=_TINY)
    return lo, hi, 0.5 * (x0 + x1), half_inv_len, y1 - y0


def _relu_integral(pieces: tuple[torch.Tensor, ...], at: float) -> torch.Tensor:
    """Q_v(X) = Σ_edges Δy·[relu(mid − X) + d²/(2·len)] for X = ``at``, [rows, N]."""
    lo, hi, mid, half_inv_len, rise = pieces
    d = torch.minimum(at - lo, hi - at).clamp_(min=0.0)
    inner = d.square_().mul_(half_inv_len).add_((mid - at).clamp_(min=0.0))
    return (inner * rise).sum(1)


def _quadrant_areas(vertices: torch.Tensor) -> torch.Tensor:
    """Areas [N, 2, 2] of polygons inside [0, 2]², by a fan from the window's centre c = (1, 1).

    The fan from c splits P into the triangles (c, a, b) of its edges a → b, of signed area ½·D with
    D = (a − c) × (b − a). The lines x = 1 and y = 1 pass through c, so they cut every triangle into
    triangles with apex c, one per piece of its edge: a piece that is a fraction f of the edge has area
    ½·f·D and lies in the quadrant of the piece. Hence, with f_x (f_y) the fraction of the edge in x < 1
    (y < 1), (1 − min(a, b)) / |b − a| clamped to [0, 1],

        |P ∩ {x < 1, y < 1}| = ½ Σ D·f_xy,   |P ∩ {x < 1}| = ½ Σ D·f_x,   |P ∩ {y < 1}| = ½ Σ D·f_y,

    where f_xy, the fraction in both, is min(f_x, f_y) when x and y move the same way along the edge (both
    parts start at a, or both end at b) and max(0, f_x + f_y − 1) otherwise; the total is ½ Σ D and the
    four cells follow by inclusion–exclusion. Every edge is on its own: no clipping, no divisions that
    matter when an edge is parallel to a line (then f is 0 or 1, or D = 0).
    """
    following = vertices.roll(-1, 1)
    step = following - vertices  # (dx, dy) of every edge
    fan = (vertices[0] - 1.0).mul_(step[1]).sub_((vertices[1] - 1.0).mul_(step[0])).mul_(0.5)  # ½D per edge, [K, N]
    below = torch.minimum(vertices, following).neg_().add_(1.0).div_(step.abs())
    below.clamp_(0.0, 1.0).nan_to_num_(0.0)  # f_x (row 0), f_y (row 1); 0/0: an edge on a line, where D = 0
    same_way = (step[0] * step[1]) > 0
    both = torch.where(same_way, torch.minimum(below[0], below[1]), (below[0] + below[1] - 1.0).clamp_(min=0.0))
    total = fan.sum(0)
    left, lower = (below * fan).sum(1)
    corner = (both * fan).sum(0)
    return torch.stack((corner, lower - corner, left - corner, total - lower - left + corner), 1).view(-1, 2, 2)


def cell_areas(vertices: torch.Tensor, rows: int, cols: int, contained: bool = False) -> torch.Tensor:
    """Areas [N, rows, cols] of polygons [2, K, N] inside the cells of a rows × cols window.

    ``contained`` promises that every vertex lies in [0, cols] × [0, rows] (then Q(0) is the row area
    and Q(cols) = 0, which saves two evaluations; a contained 2 × 2 window takes the cheaper
    :func:`_quadrant_areas`); otherwise parts outside the window are ignored.
    """
    if contained and rows == cols == 2:
        return _quadrant_areas(vertices)
    pieces = _row_pieces(vertices, rows)
    if contained:
        mid, rise = pieces[2], pieces[4]
        first = (mid * rise).sum(1)
        last = torch.zeros_like(first)
    else:
        first, last = _relu_integral(pieces, 0.0), _relu_integral(pieces, float(cols))
    q = [first, *(_relu_integral(pieces, float(u)) for u in range(1, cols)), last]
    return torch.stack([q[u] - q[u + 1] for u in range(cols)], dim=-1).permute(1, 0, 2)


def cell_point_counts(vertices: torch.Tensor, rows: int, cols: int, upsample: int) -> torch.Tensor:
    """Winding-weighted counts [N, rows, cols] of sub-cell centres inside polygons [2, K, N].

    Every cell is split into upsample × upsample sub-cells; the centre of sub-cell (a, b) of cell (u, v)
    is (u + (a + ½)/n, v + (b + ½)/n). A centre counts with the polygon's winding number around it: the
    signed number of edges crossing the ray to +x (upward crossings +1, downward −1), half-open in y.
    Every centre of the window is tested against every edge (O(n²) per cell, like a rasteriser), in
    chunks of polygons that bound the memory.
    """
    n = upsample
    dtype, device = vertices.dtype, vertices.device
    centres_y = (torch.arange(rows * n, device=device, dtype=dtype) + 0.5) / n
    centres_x = (torch.arange(cols * n, device=device, dtype=dtype) + 0.5) / n
    per_polygon = vertices.shape[1] * rows * cols * n * n
    counts = []
    for part in vertices.split(max(1, _RASTER_ELEMENTS // per_polygon), dim=2):
        xa, ya = part.permute(0, 2, 1)[..., None]  # [N, K, 1]
        xb, yb = xa.roll(-1, 1), ya.roll(-1, 1)
        up = (ya <= centres_y) & (centres_y < yb)
        down = (yb <= centres_y) & (centres_y < ya)
        direction = up.to(dtype) - down.to(dtype)  # [N, K, rows·n]
        rise = yb - ya
        cross_x = xa + (centres_y - ya) * (xb - xa) / torch.where(rise != 0, rise, 1.0)
        right = (centres_x < cross_x[..., None]).to(dtype)  # [N, K, rows·n, cols·n]
        winding = torch.einsum("nkr,nkrc->nrc", direction, right)
        counts.append(winding.reshape(-1, rows, n, cols, n).sum((2, 4)))
    return torch.cat(counts)
