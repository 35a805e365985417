"""Particle variant of integral noise warping (Deng et al. 2024, Sec. 4.2, Algorithm 3).

Each target pixel j is a particle at its back-mapped centre p_j = m(c + ½, r + ½) (see
:mod:`flow_maps`). It requests the four cells around p_j with bilinear weights: with
q = p_j − (½, ½), (ox, oy) = ⌊q⌋ and (fx, fy) = q − ⌊q⌋,

    a = ((1−fx)(1−fy), fx(1−fy), (1−fx)fy, fx·fy)   for cells (ox, oy), (ox+1, oy), (ox, oy+1), (ox+1, oy+1).

Every source cell splits its value among all its requests, normalised to sum 1, by the Brownian bridge,
and Y_j = Σ_i I_ij / √(Σ_i w_ij) (:func:`bridge.bridge_split` with ``normalise_sources=True``). Cells
outside the previous frame contribute fresh noise of their weight, so a target with no cell in the frame,
or marked in ``fresh_mask`` (disocclusion), is fresh noise: Σ_k √a_k·z_k with Σ_k a_k = 1. No per-cell
lists, no cap on the number of requests per cell, no sequential loop: a fixed 4 requests per target,
gathers and scatter-adds.
"""

from __future__ import annotations

import torch

from .bridge import WINDOW, Requests, SourceGrid
from .frame import Variant, warp_with
from .workspace import Workspace

FOOTPRINT_SLOTS = (0, 1, 3, 4)  # window slots u + 3v of the four bilinear corners


def bilinear_footprint(points: torch.Tensor, height: int, width: int,
                       workspace: Workspace | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Window origin [2, P] (integral floats) and bilinear weights [4, P] of points [2, P] (pixel units).

    Points further than two pixels outside the frame are clamped there: all their cells stay outside.
    Temporaries live in ``workspace`` when given.
    """
    ws = workspace or Workspace(points.device)
    n = points.shape[1]
    fraction = torch.sub(points, 0.5, out=ws.buffer("footprint_fraction", (2, n), points.dtype))
    fraction[0].clamp_(-2.0, width + 1.0)
    fraction[1].clamp_(-2.0, height + 1.0)
    origin = torch.floor(fraction, out=ws.buffer("footprint_origin", (2, n), points.dtype))
    fraction.sub_(origin)
    rest = torch.sub(1.0, fraction, out=ws.buffer("footprint_rest", (2, n), points.dtype))
    weights = ws.buffer("footprint_weights", (4, n), points.dtype)
    for k, (x, y) in enumerate(((rest[0], rest[1]), (fraction[0], rest[1]), (rest[0], fraction[1]),
                                (fraction[0], fraction[1]))):
        torch.mul(x, y, out=weights[k])
    return origin, weights


def footprint_offsets(grid: SourceGrid, device: torch.device, workspace: Workspace) -> torch.Tensor:
    """Index offsets [4] of the footprint slots' cells from the window origin's cell (cached)."""
    return workspace.cached("footprint_offsets", (grid.padded_width, str(device)), lambda: torch.tensor(
        [grid.index(slot % WINDOW, slot // WINDOW) for slot in FOOTPRINT_SLOTS], dtype=torch.int64, device=device))


def particle_requests(backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, channels: int,
                      workspace: Workspace) -> Requests:
    """The four bilinear requests of every target pixel of a [2, H, W] map, laid out [4, P].

    Cells outside the frame are border cells of the :class:`SourceGrid` (fresh noise); a target marked
    in ``fresh_mask`` sends all four requests outside. Counters 9j + slot.
    """
    height, width = backward_map.shape[-2:]
    n_targets = height * width
    device = backward_map.device
    grid = workspace.cached("source_grid", (height, width), lambda: SourceGrid(height, width))
    origin, weights = bilinear_footprint(backward_map.reshape(2, -1), height, width, workspace)
    cell = workspace.buffer("particle_cell", (2, n_targets), torch.int64)
    cell.copy_(origin)
    base = cell[1].mul_(grid.padded_width).add_(cell[0])
    offsets = footprint_offsets(grid, device, workspace)
    source = torch.add(base, offsets[:, None], out=workspace.buffer("particle_source", (4, n_targets), torch.int64))
    if fresh_mask is not None:
        source.masked_fill_(fresh_mask.reshape(1, -1), SourceGrid.OUTSIDE)
    return Requests(source.view(-1), weights.view(-1), slots=FOOTPRINT_SLOTS)


PARTICLE = Variant(particle_requests, normalise_sources=True, static_shapes=True)


def warp_particle(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
                  fresh_mask: torch.Tensor | None = None, workspace: Workspace | None = None) -> torch.Tensor:
    """Warp ``noise`` [C, H, W] or [B, C, H, W] one frame with the particle variant.

    ``backward_map`` [2, H, W] or [B, 2, H, W]: where each target pixel centre was in the previous frame
    (pixel units, x first). ``fresh_mask`` [H, W] or [B, H, W] (True = fresh noise). ``seed`` and
    ``frame`` key the normals of the split (:mod:`counter_rng`); the same inputs give the same output on
    every device.
    """
    return warp_with(PARTICLE, noise, backward_map, seed=seed, frame=frame, fresh_mask=fresh_mask,
                     workspace=workspace)
