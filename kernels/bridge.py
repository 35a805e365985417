"""The Brownian-bridge split of source pixels among target requests, in closed form, without order.

Integral noise warping (Deng et al. 2024, Sec. 3–4): noise pixel X_i is the integral of white noise over
the unit cell A_i. A target pixel j *requests* area a_ij of cell i (its back-mapped region's overlap,
or a bilinear weight); given X_i = x, the sub-integrals over disjoint parts of areas a_1..a_K (sum ≤ 1) are
increments of a Brownian bridge from 0 to x on [0, 1]. Their joint law has the order-free closed form

    I_k = a_k·x + √a_k·z_k − a_k·ζ,   ζ = Σ_l √a_l·z_l + √π·z_π,   π = 1 − Σ_l a_l,   z i.i.d. N(0, 1)

(mean a_k·x, Var a_k(1 − a_k), Cov(I_k, I_l) = −a_k·a_l; π is the unrequested remainder of the cell), so
no sequential loop, no division by (1 − t), and no dependence on the order in which requests arrive.
The warped pixel is Y_j = Σ_i I_ij / √(Σ_i a_ij).

Source cells live in a padded grid (:class:`SourceGrid`: the frame plus a border of cells outside it).
Requests that fall outside the previous frame see fresh noise of their area: their term is √a·z.
Sources whose requests add up to s_i get the weights w = λ_i·a with

* ``normalise_sources=True`` (particle variant, Deng et al. Alg. 3): λ_i = 1/s_i, no remainder;
* ``normalise_sources=False`` (grid variant, Alg. 2): λ_i = 1/max(s_i, 1), remainder π_i = 1 − s_i when
  above 10⁻⁵ (smaller ones are the float32 rounding of a fully covered cell), else 0.
  Exact areas of a non-folding map never exceed 1 per cell; overlapping (folded) regions do, and are then
  split as the particle variant splits them, which keeps every Y_j of unit variance.

With r_e = √w_e (or √a_e outside) the warp is evaluated, channel by channel, as

    ζ_i = Σ_{e→i} r_e z_e + √π_i·z̃_i
    Y_j = [Σ_{e→j} w_e·x_{i(e)} + Σ_{e→j} (r_e z_e − w_e·ζ_{i(e)})] / √(Σ_{e→j} r_e²)

in that order of operations, so that a request of area 1 copies its source exactly (the second sum is
z − z = 0 bit for bit). Normals come from :mod:`counter_rng`: request e uses counter ``counter[e]`` of
stream REQUEST, the remainder of frame pixel i counter i of stream PAD.

Layout, for speed on CPU and CUDA alike: every scatter and gather is one-dimensional over indices shared
by all channels; channels go in pairs (the two normals of one hash), the pair's ζ is one complex64
scatter-add, and each channel gathers (x_i, ζ_i) as one complex64 element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .counter_rng import CPU_CHUNK, Stream, normal_pair, stream_key, weyl_states
from .flow_maps import check_field
from .workspace import Workspace

_TINY = 1e-30
_COVERED = 1e-5  # a remainder below this is float32 rounding of a fully covered cell, not uncovered area
WINDOW = 3  # request slots: cell (ox + u, oy + v) of a target's 3 × 3 window is slot u + 3v


class SourceGrid:
    """Cells of the previous frame plus a border of two (three after the last row/column) outside it.

    Frame cell (x, y) has index (y + 2)·(W + 5) + x + 2; every index of a border cell means "outside",
    and ``OUTSIDE`` (the top-left border cell) is the one to use when the position does not matter.
    A particle's four cells, from origin ⌊p − ½⌋ clamped to [−2, W + 1] × [−2, H + 1], always fit.
    """

    PAD = 2
    OUTSIDE = 0

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self.padded_height, self.padded_width = height + 2 * self.PAD + 1, width + 2 * self.PAD + 1
        self.size = self.padded_height * self.padded_width

    def index(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Index of cell (x, y) (integer tensors, inside the padded grid)."""
        return (y + self.PAD) * self.padded_width + x + self.PAD

    def frame(self, cells: torch.Tensor) -> torch.Tensor:
        """The frame's part [..., H, W] of per-cell values [..., size]."""
        grid = cells.unflatten(-1, (self.padded_height, self.padded_width))
        return grid[..., self.PAD:self.PAD + self.height, self.PAD:self.PAD + self.width]

    def in_frame(self, device: torch.device) -> torch.Tensor:
        """[size] bool: True for the cells of the frame."""
        mask = torch.zeros(self.size, dtype=torch.bool, device=device)
        self.frame(mask).fill_(True)
        return mask


@dataclass
class Requests:
    """Requests of target pixels to source cells (indices of a :class:`SourceGrid`), one per pair.

    With ``per_target = K`` the first P·K requests are laid out [P, K] (request k of target j is entry
    j·K + k) and ``target`` names the targets of the requests after them (None if there are none);
    without it ``target`` names every request's target. Sources may be int32.
    """

    target: torch.Tensor | None  # [E] int64 target pixel index r·W + c
    source: torch.Tensor  # [E] int32 or int64 source cell of the SourceGrid
    area: torch.Tensor  # [E] float, ≥ 0
    counter: torch.Tensor  # [E] int64 counter of the request's normals (stream REQUEST)
    states: torch.Tensor | None = None  # precomputed weyl_states(counter), when the counters repeat
    per_target: int | None = None


class _TargetSums:
    """Σ over each target's requests, chunk by chunk, into [n_targets] totals.

    The fixed block (K requests per target, target e // K) sums by a matrix–vector product with ones,
    the requests after it by an index-add over their targets. Chunks never straddle the two.
    """

    def __init__(self, requests: Requests, n_targets: int, dtype: torch.dtype, device: torch.device,
                 preferred: int) -> None:
        self.per_target, self.target = requests.per_target, requests.target
        total = requests.source.numel()
        self.fixed = 0 if self.per_target is None else n_targets * self.per_target
        size = preferred if self.per_target is None else max(1, preferred // self.per_target) * self.per_target
        self.chunks = ([(e, min(self.fixed, e + size)) for e in range(0, self.fixed, size)]
                       + [(e, min(total, e + preferred)) for e in range(self.fixed, total, preferred)])
        self.size = max([last - first for first, last in self.chunks], default=1)
        self.ones = None if self.per_target is None else torch.ones(self.per_target, dtype=dtype, device=device)

    def start(self, out: torch.Tensor) -> None:
        """Prepare ``out`` for a pass over the chunks in order (the fixed block assigns, the rest adds)."""
        if self.per_target is None:
            out.zero_()

    def add(self, values: torch.Tensor, first: int, out: torch.Tensor) -> None:
        """Add the sums of ``values``, the requests [first, first + len), into ``out``."""
        if first >= self.fixed:
            out.index_add_(0, self.target[first - self.fixed:first - self.fixed + values.numel()], values)
        else:
            k = self.per_target
            torch.mv(values.view(-1, k), self.ones.to(values.dtype), out=out[first // k:(first + values.numel()) // k])


def bridge_split(values: torch.Tensor, requests: Requests, n_targets: int, *, request_key: int | torch.Tensor,
                 pad_key: int | torch.Tensor | None = None, normalise_sources: bool,
                 workspace: Workspace | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Warped pixels [C, n_targets] from the source frame ``values`` [C, H, W] (see module docstring).

    ``pad_key`` is the stream of the cells' unrequested remainders (grid variant); without it there is no
    remainder term. Every target must have requests of positive total area. Intermediate tensors live in
    ``workspace``; the result goes to ``out`` when given. On the CPU the requests are processed in
    cache-sized chunks: a channel pair's normals never leave the cache.
    """
    ws = workspace or Workspace(values.device)
    channels, height, width = values.shape
    device, dtype = values.device, values.dtype
    grid = ws.cached("source_grid", (height, width), lambda: SourceGrid(height, width))
    outside = ws.cached("outside_cells", (height, width, str(device)), lambda: ~grid.in_frame(device))
    n_requests = requests.source.numel()
    source = requests.source
    area = requests.area.to(dtype)
    complex_dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    sums = _TargetSums(requests, n_targets, dtype, device, CPU_CHUNK if device.type == "cpu" else n_requests)
    chunks, size = sums.chunks, sums.size

    total = ws.zeros("total", (grid.size,), dtype).index_add_(0, source, area)
    scale = ws.buffer("scale", (grid.size,), dtype)
    torch.clamp(total, min=_TINY if normalise_sources else 1.0, out=scale).reciprocal_().masked_fill_(outside, 0.0)
    cell_scale = torch.index_select(scale, 0, source, out=ws.buffer("cell_scale", (n_requests,), dtype))
    weight = ws.cached("weight", (n_requests, complex_dtype, str(device)),
                       lambda: torch.zeros(n_requests, dtype=complex_dtype, device=device))  # w + 0i
    torch.mul(cell_scale, area, out=torch.view_as_real(weight)[:, 0])
    variance = torch.where(cell_scale > 0, torch.view_as_real(weight)[:, 0], area,
                           out=ws.buffer("variance", (n_requests,), dtype))  # r², outside requests: a
    inv_norm = ws.buffer("norm", (n_targets,), dtype)
    sums.start(inv_norm)
    for first, last in chunks:
        sums.add(variance[first:last], first, inv_norm)
    inv_norm.sqrt_().reciprocal_()
    states = requests.states if requests.states is not None else weyl_states(requests.counter, channels)

    remainder = pad_states = None
    if pad_key is not None:
        remainder = grid.frame(total).neg().add_(1.0)
        remainder.masked_fill_(remainder < _COVERED, 0.0)
        pad_states = ws.cached("pad_states", (height, width, channels, str(device)),
                               lambda: weyl_states(torch.arange(height * width, device=device), channels))

    noise = ws.buffer("request_noise", (size,), complex_dtype)  # r_e·z_e of a channel pair
    noise_parts = torch.view_as_real(noise)
    gathered = ws.buffer("gathered", (size,), complex_dtype)
    zeta = ws.buffer("zeta", (grid.size,), complex_dtype)  # ζ_i of the channel pair
    zeta_parts = torch.view_as_real(zeta)
    table = ws.cached("table", (grid.size, complex_dtype, str(device)),
                      lambda: torch.zeros(grid.size, dtype=complex_dtype, device=device))  # x_i + iζ_i
    table_parts = torch.view_as_real(table)
    noise_sum = ws.buffer("noise_sum", (n_targets,), complex_dtype)  # Σ_e r_e z_e of the pair, per target
    noise_sum_parts = torch.view_as_real(noise_sum)
    pulled = ws.buffer("pulled", (n_targets,), complex_dtype)  # Σ_e w_e·(x + iζ) of one channel
    pulled_parts = torch.view_as_real(pulled)
    if out is None:
        out = torch.empty((channels, n_targets), dtype=dtype, device=device)
    for m in range(states.shape[0]):
        zeta.zero_()
        sums.start(noise_sum)
        for first, last in chunks:
            n = last - first
            normal_pair(states[m, first:last], request_key, noise_parts[:n, 0], noise_parts[:n, 1],
                        variance=variance[first:last], workspace=ws)
            zeta.index_add_(0, source[first:last], noise[:n])
            sums.add(noise[:n], first, noise_sum)
        if pad_states is not None:
            pad = ws.buffer("pad_noise", (height, width), complex_dtype)
            pad_parts = torch.view_as_real(pad).view(-1, 2)
            normal_pair(pad_states[m], pad_key, pad_parts[:, 0], pad_parts[:, 1], variance=remainder.view(-1),
                        workspace=ws)
            grid.frame(zeta).add_(pad)
        for half in range(min(2, channels - 2 * m)):
            c = 2 * m + half
            grid.frame(table_parts[:, 0]).copy_(values[c])
            table_parts[:, 1].copy_(zeta_parts[:, half])
            sums.start(pulled)
            for first, last in chunks:
                n = last - first
                torch.index_select(table, 0, source[first:last], out=gathered[:n])
                sums.add(gathered[:n].mul_(weight[first:last]), first, pulled)
            # Σ w·x + (Σ r·z − Σ w·ζ): a request of area 1 copies its source bit for bit
            torch.sub(noise_sum_parts[:, half], pulled_parts[:, 1], out=out[c]).add_(pulled_parts[:, 0])
    return out.mul_(inv_norm)


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
        warped = bridge_split(batched[b].to(dtype), requests, height * width,
                              request_key=stream_key(seed, frame, Stream.REQUEST, b),
                              pad_key=None if normalise_sources else stream_key(seed, frame, Stream.PAD, b),
                              normalise_sources=normalise_sources, workspace=ws)
        out[b] = warped.reshape(channels, height, width)
    return out if noise.ndim == 4 else out[0]
