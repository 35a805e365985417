"""Counter-based Gaussian noise: the same numbers on every device and in any evaluation order.

Every normal the warp kernels draw is a pure function of (seed, frame, stream, counter), computed with
plain torch integer ops (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3", the
counter-based idea; Steele et al. 2014, SplitMix64, the mixer):

    key     = stream_key(seed, frame, stream)                          (Python integers, exact)
    h       = fmix64(key + GOLDEN·n)   mod 2⁶⁴,   n = counter·M + m,  m < M = ⌈C/2⌉
    fmix64:   h ^= h ≫ 30; h *= 0xBF58476D1CE4E5B9; h ^= h ≫ 27; h *= 0x94D049BB133111EB; h ^= h ≫ 31
    u₁      = (2·⌊h / 2³²⌋ + 1) / 2³³ ∈ (0, 1],   u₂ = (h mod 2³²) / 2³²
    channel 2m:    √(−2 ln u₁)·cos(2π u₂)        channel 2m + 1: √(−2 ln u₁)·sin(2π u₂)  (Box–Muller)

Why it is device-independent: the integer stage is exact two's-complement arithmetic on int64 (torch has
no uint64 shifts, so the logical shift ``≫`` is an arithmetic shift followed by a mask; wrapping
multiplication is what int64 ``mul`` does on CPU and CUDA), so CPU and CUDA produce the same bits; the
conversion of an integer below 2³³ to float32 is correctly rounded on both, the scalings are by powers of
two (exact), and only log, sqrt, cos and sin may differ, by an ulp or two of float32. Why it is
order-free: no state is consumed; a request's normals depend on its counter only, never on which thread
or which scatter got there first.
"""

from __future__ import annotations

import math
import numbers
from enum import IntEnum

import torch

from .workspace import Workspace

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
_SHIFTS = ((30, MIX1), (27, MIX2), (31, None))
CPU_CHUNK = 1 << 18  # elements per pass on the CPU: few ops per frame, the scratch still in the last-level cache


class Stream(IntEnum):
    """What a block of normals is for; part of the key so that streams never share numbers."""

    FRAME = 1  # the noise of a whole frame, one counter per pixel (frame 0 of a sequence)
    REQUEST = 2  # one counter per (target pixel, source cell) request of the Brownian-bridge split
    PAD = 3  # one counter per source cell: the unrequested remainder of the cell (grid variant)
    SUB_PIXEL = 4  # one counter per sub-pixel of the explicitly upsampled noise (HIWYN reference)


def as_int64(value: int) -> int:
    """The int64 with the same 64 bits as ``value`` modulo 2⁶⁴."""
    value &= MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def fmix64(value: int) -> int:
    """SplitMix64's finaliser on a Python integer, modulo 2⁶⁴ (a bijection of 64-bit words)."""
    value &= MASK64
    for shift, multiplier in _SHIFTS:
        value ^= value >> shift
        if multiplier is not None:
            value = (value * multiplier) & MASK64
    return value


def stream_key(seed: int, frame: int, stream: int, index: int = 0) -> int:
    """Key of one stream: fmix64 chained over (seed, frame, stream, index), as an int64 value.

    ``index`` separates independent items of a batch that share a frame number.
    """
    for name, value in (("seed", seed), ("frame", frame), ("stream", stream), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    state = fmix64(int(seed))
    for part in (frame, stream, index):
        state = fmix64(state + fmix64((int(part) + 1) * GOLDEN))
    return as_int64(state)


def weyl_states(counters: torch.Tensor, channels: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """GOLDEN·(counter·M + m) mod 2⁶⁴ for m < M = ⌈C/2⌉: the key-free part of the hash input, [M, n].

    It depends only on the counters, so a kernel whose counters repeat every frame computes it once.
    """
    pairs = (channels + 1) // 2
    if out is None:
        out = torch.empty((pairs, counters.numel()), dtype=torch.int64, device=counters.device)
    out.copy_(counters.reshape(1, -1).expand(pairs, -1))
    out.mul_(pairs).add_(torch.arange(pairs, device=counters.device)[:, None])
    return out.mul_(as_int64(GOLDEN))


def _fmix64_(h: torch.Tensor, scratch: torch.Tensor) -> None:
    """In-place fmix64 on int64 words; ≫ is logical: arithmetic shift, then clear the copied sign bits."""
    for shift, multiplier in _SHIFTS:
        torch.bitwise_right_shift(h, shift, out=scratch)
        scratch.bitwise_and_((1 << (64 - shift)) - 1)
        h.bitwise_xor_(scratch)
        if multiplier is not None:
            h.mul_(as_int64(multiplier))


def normal_pair(states: torch.Tensor, key: int | torch.Tensor, out: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
                *, variance: torch.Tensor | None = None, workspace: Workspace | None = None,
                chunk: int | None = None) -> None:
    """The two normals of every Weyl state [..., n], times √variance (broadcast) when given.

    Radius √(−2 ln u₁) from the high 32 bits of the hash, angle 2π·u₂ from the low 32 bits; the cosine
    normal goes to the real part of a complex ``out`` [..., n] (or to ``out[0]`` of a pair of real
    tensors), the sine normal to the imaginary part (or ``out[1]``). ``key`` may be a 0-d int64 tensor (a
    captured CUDA graph changes it between replays). Work runs in chunks of ``chunk`` states along the
    last axis (CPU default: cache-sized; CUDA default: all at once).
    """
    lead, n = states.shape[:-1], states.shape[-1]
    ws = workspace or Workspace(states.device)
    if chunk is None:
        chunk = CPU_CHUNK // max(1, states[..., 0].numel()) if states.device.type == "cpu" else n
    size = max(1, min(chunk, n))
    h = ws.buffer("rng_h", (*lead, size), torch.int64)
    scratch = ws.buffer("rng_scratch", (*lead, size), torch.int64)
    radius = ws.buffer("rng_radius", (*lead, size))
    angle = ws.buffer("rng_angle", (*lead, size))
    pair = ws.buffer("rng_pair", (2, *lead, size), out.real.dtype) if isinstance(out, torch.Tensor) else None
    for start in range(0, n, size):
        stop = min(n, start + size)
        k = stop - start
        hk, scratch_k, radius_k, angle_k = h[..., :k], scratch[..., :k], radius[..., :k], angle[..., :k]
        torch.add(states[..., start:stop], key, out=hk)
        _fmix64_(hk, scratch_k)
        torch.bitwise_right_shift(hk, 31, out=scratch_k)
        scratch_k.bitwise_and_((1 << 33) - 1).bitwise_or_(1)  # 2·(h ≫ 32) + 1: odd, below 2³³
        radius_k.copy_(scratch_k)
        radius_k.mul_(2.0**-33).log_().mul_(-2.0)
        if variance is not None:
            radius_k.mul_(variance[..., start:stop])
        radius_k.sqrt_()
        hk.bitwise_and_((1 << 32) - 1)
        angle_k.copy_(hk)
        angle_k.mul_(2.0 * math.pi * 2.0**-32)
        if pair is not None:
            cos_out, sin_out = pair[0, ..., :k], pair[1, ..., :k]
        else:
            cos_out, sin_out = out[0][..., start:stop], out[1][..., start:stop]
        torch.cos(angle_k, out=cos_out).mul_(radius_k)
        torch.sin(angle_k, out=sin_out).mul_(radius_k)
        if pair is not None:
            torch.complex(cos_out, sin_out, out=out[..., start:stop])


def normals_from_states(states: torch.Tensor, channels: int, key: int | torch.Tensor, *,
                        out: torch.Tensor | None = None, workspace: Workspace | None = None,
                        chunk: int | None = None) -> torch.Tensor:
    """N(0, 1) normals [C, n], channel-major, from Weyl states [⌈C/2⌉, n] and a stream key.

    Row 2m holds the cosine and row 2m + 1 the sine normal of state row m (see :func:`normal_pair`).
    """
    pairs, n = states.shape
    device = states.device
    if pairs != (channels + 1) // 2:
        raise ValueError(f"states have {pairs} rows, {channels} channels need {(channels + 1) // 2}")
    if out is None:
        out = torch.empty((channels, n), dtype=torch.float32, device=device)
    ws = workspace or Workspace(device)
    full = out if channels == 2 * pairs else ws.buffer("rng_full", (2 * pairs, n))
    normal_pair(states, key, (full[0::2], full[1::2]), workspace=ws, chunk=chunk)
    if full is not out:
        out.copy_(full[:channels])
    return out


def counter_normals(counters: torch.Tensor, channels: int, key: int | torch.Tensor, *,
                    out: torch.Tensor | None = None, workspace: Workspace | None = None) -> torch.Tensor:
    """N(0, 1) normals [C, n]: column r is the stream ``key`` at counter ``counters[r]`` (any int64 ≥ 0)."""
    ws = workspace or Workspace(counters.device)
    states = weyl_states(counters, channels, out=ws.buffer("rng_states", ((channels + 1) // 2, counters.numel()),
                                                            torch.int64))
    return normals_from_states(states, channels, key, out=out, workspace=ws)


def frame_noise(channels: int, height: int, width: int, *, seed: int, frame: int, index: int = 0,
                device: torch.device | str | None = None) -> torch.Tensor:
    """A whole frame of N(0, 1) noise [C, H, W]: counter = pixel index r·W + c of stream FRAME."""
    if channels < 1 or height < 1 or width < 1:
        raise ValueError(f"frame noise needs positive sizes, got channels={channels}, height={height}, "
                         f"width={width}")
    counters = torch.arange(height * width, device=device)
    key = stream_key(seed, frame, Stream.FRAME, index)
    return counter_normals(counters, channels, key).reshape(channels, height, width)
