"""The Brownian-bridge split of source pixels among target requests, in closed form, without order.

Integral noise warping (Deng et al. 2024, Sec. 3–4): noise pixel X_i is the integral of white noise over
the unit cell A_i. A target pixel j *requests* area a_ij of cell i (its back-mapped region's overlap,
or a bilinear weight); given X_i = x, the sub-integrals over disjoint parts of areas a_1..a_K (sum ≤ 1) are
increments of a Brownian bridge from 0 to x on [0, 1]. Their joint law has the order-free closed form

    I_k = a_k·x + √a_k·z_k − a_k·ζ,   ζ = Σ_l √a_l·z_l + √π·z_π,   π = 1 − Σ_l a_l,   z i.i.d. N(0, 1)

(mean a_k·x, Var a_k(1 − a_k), Cov(I_k, I_l) = −a_k·a_l; π is the unrequested remainder of the cell), so
no sequential loop, no division by (1 − t), and no dependence on the order in which requests arrive.
The warped pixel is Y_j = Σ_i I_ij / √(Σ_i a_ij).

Requests that fall outside the previous frame (source index ``n_sources``) see fresh noise of their area:
their term is √a·z. Sources whose requests add up to s_i get the weights w = λ_i·a with

* ``normalise_sources=True`` (particle variant, Deng et al. Alg. 3): λ_i = 1/s_i, no remainder;
* ``normalise_sources=False`` (grid variant, Alg. 2): λ_i = 1/max(s_i, 1), remainder π_i = 1 − s_i when
  above 10⁻⁵ (smaller ones are the float32 rounding of a fully covered cell), else 0.
  Exact areas of a non-folding map never exceed 1 per cell; overlapping (folded) regions do, and are then
  split as the particle variant splits them, which keeps every Y_j of unit variance.

With r_e = √w_e (or √a_e outside) the warp is evaluated as

    ζ_i = Σ_{e→i} r_e z_e + √π_i·z̃_i
    Y_j = [Σ_{e→j} w_e·x_{i(e)} + Σ_{e→j} (r_e z_e − w_e·ζ_{i(e)})] / √(Σ_{e→j} r_e²)

in that order of operations, so that a request of area 1 copies its source exactly (the bracket is
z − z = 0 bit for bit). Normals come from :mod:`counter_rng`: request e uses counter ``counter[e]`` of
stream REQUEST, the remainder of cell i counter i of stream PAD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .counter_rng import Stream, counter_normals, normals_from_states, stream_key
from .flow_maps import check_field
from .workspace import Workspace

_TINY = 1e-30
_COVERED = 1e-5  # a remainder below this is float32 rounding of a fully covered cell, not uncovered area


@dataclass
class Requests:
    """Requests of target pixels to source cells, one entry per (target, source cell) pair."""

    target: torch.Tensor  # [E] int64 target pixel index r·W + c
    source: torch.Tensor  # [E] int64 source cell index, or n_sources for "outside the previous frame"
    area: torch.Tensor  # [E] float, ≥ 0
    counter: torch.Tensor  # [E] int64 counter of the request's normals (stream REQUEST)
    states: torch.Tensor | None = None  # precomputed weyl_states(counter), when the counters repeat


def bridge_split(values: torch.Tensor, requests: Requests, n_targets: int, *, request_key: int | torch.Tensor,
                 pad_key: int | torch.Tensor | None = None, normalise_sources: bool,
                 workspace: Workspace | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Warped pixels [n_targets, C] from source pixels ``values`` [n_sources, C] (see module docstring).

    ``pad_key`` is the stream of the cells' unrequested remainders (grid variant); without it there is no
    remainder term. Every target must have requests of positive total area. Intermediate tensors live in
    ``workspace``; the result goes to ``out`` when given.
    """
    ws = workspace or Workspace(values.device)
    n_sources, channels = values.shape
    dtype = values.dtype
    n_requests = requests.target.numel()
    source, target = requests.source, requests.target
    area = requests.area.to(dtype)
    outside = torch.eq(source, n_sources, out=ws.buffer("outside", (n_requests,), torch.bool))

    total = ws.zeros("total", (n_sources + 1,), dtype).index_add_(0, source, area)
    scale = ws.buffer("scale", (n_sources + 1,), dtype)
    torch.clamp(total, min=_TINY if normalise_sources else 1.0, out=scale).reciprocal_()
    scale[n_sources] = 0.0
    weight = torch.index_select(scale, 0, source, out=ws.buffer("weight", (n_requests,), dtype)).mul_(area)
    root = torch.where(outside, area, weight, out=ws.buffer("root", (n_requests,), dtype))
    norm = ws.zeros("norm", (n_targets,), dtype).index_add_(0, target, root)
    inv_norm = norm.sqrt_().reciprocal_()
    root.sqrt_()

    noise = ws.buffer("request_noise", (n_requests, channels), torch.float32)
    if requests.states is not None:
        normals_from_states(requests.states, channels, request_key, out=noise, workspace=ws)
    else:
        counter_normals(requests.counter, channels, request_key, out=noise, workspace=ws)
    if dtype != torch.float32:
        noise = noise.to(dtype)
    noise.mul_(root[:, None])

    zeta = ws.zeros("zeta", (n_sources + 1, channels), dtype).index_add_(0, source, noise)
    if pad_key is not None:
        remainder = total[:n_sources].neg_().add_(1.0)
        remainder.masked_fill_(remainder < _COVERED, 0.0).sqrt_()
        cells = torch.arange(n_sources, device=values.device)
        pad_noise = counter_normals(cells, channels, pad_key, workspace=ws).to(dtype)
        zeta[:n_sources].addcmul_(pad_noise, remainder[:, None])

    gathered = ws.buffer("gathered", (n_requests, channels), dtype)
    torch.index_select(zeta, 0, source, out=gathered)
    noise.addcmul_(gathered, weight[:, None], value=-1.0)
    padded = ws.buffer("padded_values", (n_sources + 1, channels), dtype)
    padded[:n_sources].copy_(values)
    padded[n_sources].zero_()
    torch.index_select(padded, 0, source, out=gathered)
    noise.addcmul_(gathered, weight[:, None])

    if out is None:
        out = torch.empty((n_targets, channels), dtype=dtype, device=values.device)
    out.zero_().index_add_(0, target, noise)
    return out.mul_(inv_norm[:, None])


WINDOW = 3  # request slots: cell (ox + u, oy + v) of a target's 3 × 3 window is slot u + 3v


def window_requests(origin: torch.Tensor, areas: torch.Tensor, slots: tuple[int, ...], height: int, width: int,
                    fresh: torch.Tensor | None, *, compact: bool, workspace: Workspace | None = None,
                    external: torch.Tensor | None = None) -> Requests:
    """Requests of every target j to the cells origin_j + (u, v) of its window, slot u + 3v.

    ``origin`` [2, P] int64 (x, y), ``areas`` [P, K] for the slot ids ``slots`` (K of them). Cells outside
    the frame become outside requests. A target without any in-frame area, or marked in ``fresh`` [P],
    gets fresh noise: a single outside request of area 1 in its first slot. The counter of a request is
    9j + slot, so the particle and grid variants draw the same normal for the same (target, cell).
    ``compact`` drops requests of zero area (their number then depends on the map); otherwise every
    target has exactly K requests, whose targets, counters and Weyl states repeat every frame. Targets
    marked in ``external`` [P] (compact only) get their requests elsewhere: none here.
    """
    ws = workspace or Workspace(areas.device)
    n_targets, n_slots = areas.shape
    n_sources = height * width
    shape = (n_targets, n_slots)
    device = areas.device
    offsets = ws.cached("window_slots", slots, lambda: torch.tensor(slots, device=device))
    cell_x = torch.add(origin[0][:, None], offsets % WINDOW, out=ws.buffer("cell_x", shape, torch.int64))
    cell_y = torch.add(origin[1][:, None], offsets // WINDOW, out=ws.buffer("cell_y", shape, torch.int64))
    inside = torch.ge(cell_x, 0, out=ws.buffer("inside", shape, torch.bool))
    check = ws.buffer("check", shape, torch.bool)
    inside.logical_and_(torch.lt(cell_x, width, out=check))
    inside.logical_and_(torch.ge(cell_y, 0, out=check))
    inside.logical_and_(torch.lt(cell_y, height, out=check))
    source = torch.mul(cell_y, width, out=ws.buffer("source", shape, torch.int64)).add_(cell_x)
    source.masked_fill_(torch.logical_not(inside, out=check), n_sources)
    has_area = torch.gt(areas, 0, out=check).logical_and_(inside)
    no_source = torch.any(has_area, dim=1, out=ws.buffer("no_source", (n_targets,), torch.bool)).logical_not_()
    if fresh is not None:
        no_source.logical_or_(fresh.reshape(-1))
    if external is not None:
        no_source.logical_and_(~external)
    first_slot = ws.cached("first_slot", (n_slots, areas.dtype),
                           lambda: (torch.arange(n_slots, device=device) == 0).to(areas.dtype))
    areas = torch.where(no_source[:, None], first_slot, areas, out=ws.buffer("areas", shape, areas.dtype))
    source.masked_fill_(no_source[:, None], n_sources)
    target, counter = ws.cached("window_ids", (shape, slots), lambda: _window_ids(n_targets, offsets))
    if compact:
        keep = areas > 0
        if external is not None:
            keep &= ~external[:, None]
        return Requests(target[keep], source[keep], areas[keep], counter[keep])
    return Requests(target.reshape(-1), source.reshape(-1), areas.reshape(-1), counter.reshape(-1))


def _window_ids(n_targets: int, slots: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Target index and request counter 9j + slot of a [P, K] window layout."""
    target = torch.arange(n_targets, device=slots.device)[:, None].expand(n_targets, slots.numel()).contiguous()
    return target, target * WINDOW**2 + slots


RequestBuilder = Callable[[torch.Tensor, torch.Tensor | None, int, Workspace], Requests]


def check_warp_inputs(noise: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Validate a warp call; return noise [B, C, H, W], maps [B, 2, H, W], masks [B, H, W] or None."""
    if not isinstance(noise, torch.Tensor) or noise.ndim not in (3, 4):
        raise ValueError("noise must be a tensor [C, H, W] or [B, C, H, W], got "
                         f"{tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__}")
    if not noise.is_floating_point():
        raise ValueError(f"noise must be a floating-point tensor, got {noise.dtype}")
    if noise.numel() == 0:
        raise ValueError(f"noise is empty: shape {tuple(noise.shape)}")
    batched = noise if noise.ndim == 4 else noise[None]
    batch, _, height, width = batched.shape
    if isinstance(backward_map, torch.Tensor) and backward_map.device != noise.device:
        raise ValueError(f"backward_map is on {backward_map.device} but noise is on {noise.device}")
    check_field(backward_map, "backward_map")
    if backward_map.ndim not in (3, 4) or backward_map.shape[-2:] != (height, width):
        raise ValueError(f"backward_map must be [2, {height}, {width}] or [B, 2, {height}, {width}] to match "
                         f"the noise, got {tuple(backward_map.shape)}")
    maps = backward_map if backward_map.ndim == 4 else backward_map[None]
    if maps.shape[0] not in (1, batch):
        raise ValueError(f"backward_map has {maps.shape[0]} maps for a batch of {batch}")
    masks = None
    if fresh_mask is not None:
        if fresh_mask.device != noise.device:
            raise ValueError(f"fresh_mask is on {fresh_mask.device} but noise is on {noise.device}")
        if fresh_mask.ndim not in (2, 3) or fresh_mask.shape[-2:] != (height, width):
            raise ValueError(f"fresh_mask must be [{height}, {width}] or [B, {height}, {width}], got "
                             f"{tuple(fresh_mask.shape)}")
        masks = (fresh_mask if fresh_mask.ndim == 3 else fresh_mask[None]).bool()
        if masks.shape[0] not in (1, batch):
            raise ValueError(f"fresh_mask has {masks.shape[0]} masks for a batch of {batch}")
    return batched, maps, masks


def warp_with(build_requests: RequestBuilder, noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int,
              frame: int, fresh_mask: torch.Tensor | None, normalise_sources: bool,
              workspace: Workspace | None = None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Warp ``noise`` [C, H, W] or [B, C, H, W] through requests built from each backward map.

    Batch item b draws from the streams (seed, frame, ·, b). Computation runs in ``dtype``.
    """
    batched, maps, masks = check_warp_inputs(noise, backward_map, fresh_mask)
    batch, channels, height, width = batched.shape
    ws = workspace or Workspace(noise.device)
    out = torch.empty_like(batched)
    for b in range(batch):
        requests = build_requests(maps[min(b, maps.shape[0] - 1)],
                                  None if masks is None else masks[min(b, masks.shape[0] - 1)], channels, ws)
        values = batched[b].reshape(channels, height * width).t().to(dtype)
        warped = bridge_split(values, requests, height * width,
                              request_key=stream_key(seed, frame, Stream.REQUEST, b),
                              pad_key=None if normalise_sources else stream_key(seed, frame, Stream.PAD, b),
                              normalise_sources=normalise_sources, workspace=ws)
        out[b] = warped.t().reshape(channels, height, width)
    return out if noise.ndim == 4 else out[0]
