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
Sources whose requests add up to s_i get the weights w = λ_i·a with

* ``normalise_sources=True`` (particle variant, Deng et al. Alg. 3): λ_i = 1/s_i, no remainder;
* ``normalise_sources=False`` (grid variant, Alg. 2): λ_i = 1 and remainder π_i = 1 − s_i when s_i is
  within 10⁻⁵ of 1 or below (π_i = 0 within 10⁻⁵: the float32 rounding of a fully covered cell);
  λ_i = 1/s_i and π_i = 0 above. Exact areas of a non-folding map never exceed 1 per cell; overlapping
  (folded) regions do, and are then split as the particle variant splits them, which keeps every Y_j of
  unit variance. Without such a cell, w = a: no gather of λ.

Requests that fall outside the previous frame see fresh noise of their area: border cells have λ = 1
and count as x = ζ = 0, so such a request's terms reduce to √a·z. With r_e = √w_e the warp is
evaluated, channel by channel, as

    ζ_i = Σ_{e→i} r_e z_e + √π_i·z̃_i
    Y_j = [Σ_{e→j} w_e·x_{i(e)} + Σ_{e→j} (r_e z_e − w_e·ζ_{i(e)})] / √(Σ_{e→j} r_e²)

in that order of operations, so that a request of area 1 copies its source exactly (the second sum is
z − z = 0 bit for bit). Normals come from :mod:`counter_rng`: every request has a counter (9j + slot
for the windows of target j) in stream REQUEST, the remainder of frame pixel i counter i of stream PAD.

Layout, for speed on CPU and CUDA alike: every scatter and gather runs along the requests with indices
shared by all channels, one row per channel pair (rows go to different threads): channels go in pairs (the
two normals of one hash), and a pair's ζ_i, x_i and sums are complex elements (complex64, complex128 in
float64; channel 2m the real part, 2m + 1 the imaginary part) that only ever add, so the channels never mix.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .counter_rng import CPU_CHUNK, GOLDEN, as_int64, normal_pair, weyl_states
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

    With ``slots`` (K of them) the first K·P requests form a fixed block laid out [K, P]: request k of
    target j is entry k·P + j, with counter 9j + slots[k]; ``target`` and ``counter`` then describe the
    requests after the block (None if there are none). Without ``slots`` they describe every request.
    """

    source: torch.Tensor  # [E] int64 source cell of the SourceGrid
    area: torch.Tensor  # [E] float, ≥ 0
    slots: tuple[int, ...] | None = None
    target: torch.Tensor | None = None  # int64 target pixel index r·W + c
    counter: torch.Tensor | None = None  # int64 counter of the request's normals (stream REQUEST)

    @property
    def per_target(self) -> int | None:
        return None if self.slots is None else len(self.slots)


class _Chunks:
    """Cache-sized chunks of the requests: their arrays, normals' Weyl states and per-target sums.

    A chunk of the fixed block is a range [j₀, j₁) of targets, i.e. K row slices, copied into contiguous
    [K, n] buffers; its counters are 9j₀ + (those of targets [0, n)), so its Weyl states are a cached
    pattern plus a constant folded into the key (nothing of size E is read for them), and its per-target
    sums add K rows. After the block, chunks are plain ranges of requests summed by scatter-adds, their
    Weyl states computed chunk by chunk (nothing of size C·E).
    """

    def __init__(self, requests: Requests, n_targets: int, channels: int, preferred: int, ws: Workspace) -> None:
        self.requests, self.n_targets, self.ws = requests, n_targets, ws
        self.k = requests.per_target or 0
        self.fixed = self.k * n_targets
        total = requests.source.numel()
        per = max(1, preferred // max(self.k, 1))
        self.chunks = ([(True, j, min(n_targets, j + per)) for j in range(0, n_targets, per)] if self.k else []) + [
            (False, e, min(total, e + preferred)) for e in range(self.fixed, total, preferred)]
        self.size = max([(last - first) * (self.k if fixed else 1) for fixed, first, last in self.chunks], default=1)
        self.pairs = (channels + 1) // 2
        self.channels = channels

    def take(self, array: torch.Tensor, chunk: tuple[bool, int, int], name: str) -> torch.Tensor:
        """The chunk's part of a per-request array, contiguous."""
        fixed, first, last = chunk
        if not fixed:
            return array[first:last]
        if first == 0 and last == self.n_targets:  # one chunk for the whole block (CUDA)
            return array[:self.fixed]
        n = last - first
        out = self.ws.buffer(name, (self.k * n,), array.dtype)
        out.view(self.k, n).copy_(array[:self.fixed].view(self.k, self.n_targets)[:, first:last])
        return out

    def states(self, chunk: tuple[bool, int, int], key: int | torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Weyl states [pairs, n] of the chunk's requests, and the key to use with them."""
        fixed, first, last = chunk
        if not fixed:
            counters = self.requests.counter[first - self.fixed:last - self.fixed]
            out = self.ws.buffer("extra_states", (self.pairs, last - first), torch.int64)
            return weyl_states(counters, self.channels, out=out), key
        n = last - first
        device = self.requests.source.device
        pattern = self.ws.cached(f"weyl_pattern_{n}", (self.requests.slots, self.channels, str(device)),
                                 lambda: weyl_states(_fixed_counters(self.requests.slots, n, device), self.channels))
        offset = as_int64(GOLDEN * self.pairs * WINDOW**2 * first)
        return pattern, as_int64(key + offset) if isinstance(key, int) else key + offset

    def lookup(self, table: torch.Tensor, index: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``out[e] = table[index[e]]`` for every request (the block's rows in parallel)."""
        if self.k:
            rows = index[:self.fixed].view(self.k, -1)
            torch.gather(table.expand(self.k, -1), 1, rows, out=out[:self.fixed].view_as(rows))
        torch.index_select(table, 0, index[self.fixed:], out=out[self.fixed:])
        return out

    def start(self, out: torch.Tensor) -> None:
        """Prepare ``out`` [..., P] for a pass over the chunks in order (the fixed block assigns, the rest
        adds)."""
        if not self.k:
            out.zero_()

    def scatter_add(self, out: torch.Tensor, index: torch.Tensor, values: torch.Tensor,
                    chunk: tuple[bool, int, int]) -> None:
        """``out[index[e]] += values[e]`` over the chunk's requests, row by row of the block (no copies)."""
        fixed, first, last = chunk
        if not fixed:
            out.scatter_add_(0, index[first:last], values[first:last])
            return
        rows = (index[:self.fixed].view(self.k, -1), values[:self.fixed].view(self.k, -1))
        for row_index, row_values in zip(*rows, strict=True):
            out.scatter_add_(0, row_index[first:last], row_values[first:last])

    def add(self, values: torch.Tensor, chunk: tuple[bool, int, int], out: torch.Tensor) -> None:
        """Add the per-target sums of the chunk's ``values`` [..., n] into ``out`` [..., P] (rows of a
        two-dimensional ``out`` in parallel)."""
        fixed, first, last = chunk
        if fixed:
            torch.sum(values.view(*values.shape[:-1], self.k, last - first), -2, out=out[..., first:last])
        else:
            target = self.requests.target[first - self.fixed:last - self.fixed]
            out.scatter_add_(-1, target.expand_as(values), values)


def _fixed_counters(slots: tuple[int, ...], targets: int, device: torch.device) -> torch.Tensor:
    """Counters 9j + slot of the fixed block's targets [0, ``targets``), slot-major."""
    return (torch.tensor(slots, device=device)[:, None] + torch.arange(targets, device=device) * WINDOW**2).reshape(-1)


def bridge_split(values: torch.Tensor, requests: Requests, n_targets: int, *, request_key: int | torch.Tensor,
                 pad_key: int | torch.Tensor | None = None, normalise_sources: bool,
                 workspace: Workspace | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Warped pixels [C, n_targets] from the source frame ``values`` [C, H, W] (see module docstring).

    ``pad_key`` is the stream of the cells' unrequested remainders (grid variant); without it there is no
    remainder term. Every target must have requests of positive total area. Intermediate tensors live in
    ``workspace``; the result goes to ``out`` when given. On the CPU the requests are processed in
    cache-sized chunks: a channel pair's normals never leave the cache. Elsewhere they go in one pass
    unless there are more than nine per target (strong contraction), so that the per-request normals
    [C, chunk] stay O(C·H·W).
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
    chunk_size = CPU_CHUNK if device.type == "cpu" else WINDOW**2 * n_targets
    chunks = _Chunks(requests, n_targets, channels, chunk_size, ws)

    total = ws.zeros("total", (grid.size,), dtype)
    for chunk in chunks.chunks:  # a chunk's cells stay in the cache while its rows of the block add to them
        chunks.scatter_add(total, source, area, chunk)
    scale = ws.buffer("scale", (grid.size,), dtype)
    if normalise_sources:
        torch.clamp(total, min=_TINY, out=scale).reciprocal_()
    else:
        torch.reciprocal(total, out=scale).masked_fill_(total <= 1.0 + _COVERED, 1.0)
    scale.masked_fill_(outside, 1.0)
    if normalise_sources or (scale != 1.0).any():
        weight = chunks.lookup(scale, source, out=ws.buffer("weight", (n_requests,), dtype)).mul_(area)
    else:
        weight = area  # λ = 1 everywhere
    pairs = chunks.pairs
    noise = ws.buffer("request_noise", (pairs, chunks.size), complex_dtype)  # r_e·z_e of every channel pair
    zeta = ws.zeros("zeta", (pairs, grid.size), complex_dtype)  # ζ_i of every channel pair
    noise_sum = ws.buffer("noise_sum", (pairs, n_targets), complex_dtype)  # Σ_e r_e z_e per target
    inv_norm = ws.buffer("norm", (n_targets,), dtype)
    for totals in (inv_norm, noise_sum):
        chunks.start(totals)
    for chunk in chunks.chunks:  # the requests' arrays are read once for all channels
        cells = chunks.take(source, chunk, "chunk_source")
        chunk_weight = chunks.take(weight, chunk, "chunk_weight")
        n = cells.numel()
        chunks.add(chunk_weight, chunk, inv_norm)
        states, key = chunks.states(chunk, request_key)
        normal_pair(states, key, noise[:, :n], variance=chunk_weight, workspace=ws)
        zeta.scatter_add_(1, cells.expand(pairs, n), noise[:, :n])  # one pair per thread
        chunks.add(noise[:, :n], chunk, noise_sum)
    inv_norm.sqrt_().reciprocal_()

    if pad_key is not None:
        remainder = grid.frame(total).neg().add_(1.0)
        remainder.masked_fill_(remainder < _COVERED, 0.0)
        uncovered = torch.nonzero(remainder.view(-1)).squeeze(1)  # pixel indices: often a strip, or none
        if uncovered.numel():
            pad = ws.buffer("pad_noise", (pairs, uncovered.numel()), complex_dtype)
            states = weyl_states(uncovered, channels, out=ws.buffer("pad_states", pad.shape, torch.int64))
            normal_pair(states, pad_key, pad, variance=remainder.view(-1)[uncovered], workspace=ws)
            cells = grid.index(uncovered % width, uncovered.div(width, rounding_mode="floor"))
            zeta.index_add_(1, cells, pad)

    zeta.masked_fill_(outside, 0.0)
    sources = ws.cached("source_pairs", (pairs, height, width, complex_dtype, str(device)),  # border cells stay 0
                        lambda: torch.zeros((pairs, grid.size), dtype=complex_dtype, device=device))
    source_parts = torch.view_as_real(sources)  # [pairs, cells, 2]: x_i of channels 2m and 2m + 1, like ζ_i
    for c in range(channels):
        grid.frame(source_parts[c // 2, :, c % 2]).copy_(values[c])
    pulled_x = ws.buffer("pulled_x", (pairs, n_targets), complex_dtype)  # Σ_e w_e·x_i(e) per target
    pulled_zeta = ws.buffer("pulled_zeta", (pairs, n_targets), complex_dtype)  # Σ_e w_e·ζ_i(e) per target
    pair_weight = ws.buffer("pair_weight", (chunks.size, 2), dtype)  # (w, w): the weight of both channels
    for pulled in (pulled_x, pulled_zeta):
        chunks.start(pulled)
    for chunk in chunks.chunks:
        cells = chunks.take(source, chunk, "chunk_source")
        n = cells.numel()
        chunk_weight = chunks.take(weight, chunk, "chunk_weight")
        torch.stack((chunk_weight, chunk_weight), 1, out=pair_weight[:n])
        for table, pulled in ((sources, pulled_x), (zeta, pulled_zeta)):
            # pairs in parallel, into the buffer of the requests' normals (spent by now)
            gathered = torch.gather(table, 1, cells.expand(pairs, n), out=noise[:, :n])
            torch.view_as_real(gathered).view(pairs, 2 * n).mul_(pair_weight[:n].view(-1))  # channels never mix
            chunks.add(gathered, chunk, pulled)

    # Σ w·x + (Σ r·z − Σ w·ζ): a request of area 1 copies its source bit for bit
    sums, zeta_part, x_part = (torch.view_as_real(t) for t in (noise_sum, pulled_zeta, pulled_x))
    warped = torch.sub(sums, zeta_part, out=zeta_part).add_(x_part)  # [pairs, P, 2]
    if out is None:
        out = torch.empty((channels, n_targets), dtype=dtype, device=device)
    for c in range(channels):
        torch.mul(warped[c // 2, :, c % 2], inv_norm, out=out[c])
    return out
