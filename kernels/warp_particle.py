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

from .bridge import WINDOW, Requests, SourceGrid, warp_with
from .counter_rng import weyl_states
from .workspace import Workspace

FOOTPRINT_SLOTS = (0, 1, 3, 4)  # window slots u + 3v of the four bilinear corners


def bilinear_footprint(points: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Window origin [2, P] (int64) and bilinear weights [P, 4] of points [2, P] (pixel units, x first).

    Points further than two pixels outside the frame are clamped there: all their cells stay outside.
    """
    fx = (points[0] - 0.5).clamp_(-2.0, width + 1.0)
    fy = (points[1] - 0.5).clamp_(-2.0, height + 1.0)
    origin = torch.stack((fx.floor(), fy.floor()))
    fx.sub_(origin[0])
    fy.sub_(origin[1])
    gx, gy = 1.0 - fx, 1.0 - fy
    weights = torch.stack((gx * gy, fx * gy, gx * fy, fx * fy), dim=1)
    return origin.long(), weights


def particle_requests(backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, channels: int,
                      workspace: Workspace) -> Requests:
    """The four bilinear requests of every target pixel of a [2, H, W] map, laid out [P, 4].

    Cells outside the frame are border cells of the :class:`SourceGrid` (fresh noise); a target marked
    in ``fresh_mask`` sends all four requests outside. Counters 9j + slot and their Weyl states repeat
    every frame and are computed once per workspace.
    """
    height, width = backward_map.shape[-2:]
    n_targets = height * width
    device = backward_map.device
    grid = workspace.cached("source_grid", (height, width), lambda: SourceGrid(height, width))
    slots = torch.tensor(FOOTPRINT_SLOTS, device=device)
    offsets = workspace.cached("particle_offsets", (grid.padded_width, str(device)),
                               lambda: ((slots // WINDOW) * grid.padded_width + slots % WINDOW).int())
    origin, weights = bilinear_footprint(backward_map.reshape(2, -1), height, width)
    source = workspace.buffer("particle_source", (n_targets, len(FOOTPRINT_SLOTS)), torch.int32)
    torch.add(grid.index(origin[0], origin[1])[:, None], offsets, out=source)
    if fresh_mask is not None:
        source.masked_fill_(fresh_mask.reshape(-1, 1), SourceGrid.OUTSIDE)

    def counters() -> tuple[torch.Tensor, torch.Tensor]:
        counter = (torch.arange(n_targets, device=device)[:, None] * WINDOW**2 + slots).reshape(-1)
        return counter, weyl_states(counter, channels)

    counter, states = workspace.cached("particle_counters", (n_targets, channels, str(device)), counters)
    return Requests(None, source.view(-1), weights.view(-1), counter, states, per_target=len(FOOTPRINT_SLOTS))


def warp_particle(noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
                  fresh_mask: torch.Tensor | None = None, workspace: Workspace | None = None) -> torch.Tensor:
    """Warp ``noise`` [C, H, W] or [B, C, H, W] one frame with the particle variant.

    ``backward_map`` [2, H, W] or [B, 2, H, W]: where each target pixel centre was in the previous frame
    (pixel units, x first). ``fresh_mask`` [H, W] or [B, H, W] (True = fresh noise). ``seed`` and
    ``frame`` key the normals of the split (:mod:`counter_rng`); the same inputs give the same output on
    every device.
    """
    return warp_with(particle_requests, noise, backward_map, seed=seed, frame=frame, fresh_mask=fresh_mask,
                     normalise_sources=True, workspace=workspace)
