"""Counter-based normals: bit-exact against an independent numpy uint64 reference, and N(0, 1)."""

import numpy as np
import pytest
import torch
from scipy import stats

from temporal_noise.kernels.warp.counter_rng import (
    Stream,
    as_int64,
    counter_normals,
    frame_noise,
    normals_from_states,
    stream_key,
    weyl_states,
)
from temporal_noise.kernels.warp.workspace import Workspace

U64 = np.uint64


def numpy_hash(counters: np.ndarray, pairs: int, key: int) -> np.ndarray:
    """SplitMix64 of key + φ·(counter·M + m) in numpy uint64, whose arithmetic wraps modulo 2⁶⁴."""
    n = counters.astype(np.uint64)[:, None] * U64(pairs) + np.arange(pairs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = n * U64(0x9E3779B97F4A7C15) + U64(key % 2**64)
        h ^= h >> U64(30)
        h *= U64(0xBF58476D1CE4E5B9)
        h ^= h >> U64(27)
        h *= U64(0x94D049BB133111EB)
        h ^= h >> U64(31)
    return h


def numpy_normals(counters: np.ndarray, channels: int, key: int) -> np.ndarray:
    """Box–Muller in float64 from the same integer fields (u₁ rounded to float32 as the kernel reads it)."""
    pairs = (channels + 1) // 2
    h = numpy_hash(counters, pairs, key)
    u1 = ((h >> U64(32)) * U64(2) + U64(1)).astype(np.float32).astype(np.float64) * 2.0**-33
    u2 = (h & U64(0xFFFFFFFF)).astype(np.float32).astype(np.float64) * 2.0**-32
    radius = np.sqrt(-2.0 * np.log(u1))
    pairs_out = np.stack((radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)), axis=2)
    return pairs_out.reshape(len(counters), 2 * pairs)[:, :channels]


def test_hash_is_bit_exact_against_numpy_uint64():
    counters = torch.tensor([0, 1, 2, 3, 2**31 - 1, 2**40 + 12345, 2**55 + 7], dtype=torch.int64)
    for key in (0, stream_key(0, 0, Stream.REQUEST), stream_key(2**64 - 1, 999, Stream.PAD, 3)):
        states = weyl_states(counters, 4)
        hashed = states.t().add(key).contiguous()
        from temporal_noise.kernels.warp.counter_rng import _fmix64_

        _fmix64_(hashed, torch.empty_like(hashed))
        expected = numpy_hash(counters.numpy(), 2, key)
        assert np.array_equal(hashed.numpy().view(np.uint64), expected)


@pytest.mark.parametrize("channels", [1, 3, 4, 16])
def test_normals_match_float64_box_muller(channels):
    counters = torch.arange(5000, dtype=torch.int64) * 7919 + 3
    key = stream_key(1234, 5, Stream.REQUEST)
    got = counter_normals(counters, channels, key).t().double().numpy()
    expected = numpy_normals(counters.numpy(), channels, key)
    # only log/sqrt/cos/sin of float32 differ from float64: a few ulps of float32
    assert np.abs(got - expected).max() < 5e-6


def test_chunking_key_tensor_and_workspace_do_not_change_the_numbers():
    counters = torch.arange(10_001)
    key = stream_key(7, 1, Stream.REQUEST)
    states = weyl_states(counters, 4)
    reference = normals_from_states(states, 4, key)
    for chunk in (1, 97, 4096, 10_001):
        assert torch.equal(normals_from_states(states, 4, key, chunk=chunk), reference)
    key_tensor = torch.tensor(key, dtype=torch.int64)
    assert torch.equal(normals_from_states(states, 4, key_tensor, workspace=Workspace()), reference)


def test_streams_are_distinct_and_reproducible():
    keys = {stream_key(s, f, p, i) for s in (0, 1) for f in (0, 1, 2) for p in Stream for i in (0, 1)}
    assert len(keys) == 2 * 3 * len(Stream) * 2
    assert stream_key(5, 3, Stream.PAD) == stream_key(5, 3, Stream.PAD)
    assert torch.equal(frame_noise(4, 8, 8, seed=3, frame=0), frame_noise(4, 8, 8, seed=3, frame=0))
    assert not torch.equal(frame_noise(4, 8, 8, seed=3, frame=0), frame_noise(4, 8, 8, seed=4, frame=0))


def test_normals_are_standard_normal_and_independent():
    z = counter_normals(torch.arange(200_000), 4, stream_key(11, 0, Stream.FRAME)).t().double()
    n = z.shape[0]
    assert z.mean(0).abs().max() < 4.5 / np.sqrt(n)
    lo, hi = stats.chi2.ppf(1e-5, n) / n, stats.chi2.ppf(1 - 1e-5, n) / n
    variance = z.square().mean(0)
    assert ((variance > lo) & (variance < hi)).all(), variance
    for c in range(4):
        assert stats.kstest(z[:, c].numpy(), "norm").pvalue > 1e-4
    corr = torch.corrcoef(z.t())
    assert (corr - torch.eye(4)).abs().max() < 4.5 / np.sqrt(n)
    lag = (z[1:] * z[:-1]).mean(0)  # neighbouring counters
    assert lag.abs().max() < 4.5 / np.sqrt(n)


def test_frame_noise_layout_and_errors():
    noise = frame_noise(3, 5, 7, seed=1, frame=2)
    assert noise.shape == (3, 5, 7) and noise.dtype == torch.float32
    pixels = counter_normals(torch.arange(35), 3, stream_key(1, 2, Stream.FRAME))
    assert torch.equal(noise[:, 2, 4], pixels[:, 2 * 7 + 4])
    with pytest.raises(ValueError, match="positive"):
        frame_noise(0, 5, 7, seed=1, frame=0)


@pytest.mark.parametrize("sizes", [(0, 5, 7), (3, 0, 7), (3, 5, 0)])
def test_frame_noise_refuses_every_empty_size(sizes):
    with pytest.raises(ValueError, match="positive"):
        frame_noise(*sizes, seed=1, frame=0)


def numpy_fmix64(value: int) -> int:
    """SplitMix64's finaliser of ``value`` mod 2⁶⁴: the numpy hash of counter 0, one pair, key ``value``."""
    return int(numpy_hash(np.zeros(1, dtype=np.int64), 1, value % 2**64)[0, 0])


@pytest.mark.parametrize(("seed", "frame", "stream", "index"), [
    (0, 0, Stream.FRAME, 0), (1234, 5, Stream.REQUEST, 0), (-1, 7, Stream.PAD, 2), (2**64 - 1, 7, Stream.PAD, 2),
    (2**70 + 3, 2**40, Stream.SUB_PIXEL, 9), (np.int64(42), 1, Stream.REQUEST, 1),
])
def test_stream_key_is_the_documented_fmix64_chain(seed, frame, stream, index):
    """key = fmix64(… fmix64(fmix64(seed) + fmix64((frame + 1)·φ)) …) over (frame, stream, index), every
    sum mod 2⁶⁴ (seeds taken mod 2⁶⁴, so −1 and 2⁶⁴ − 1 are one seed): pinned, so that a seed keeps its
    noise from one version to the next."""
    state = numpy_fmix64(int(seed))
    for part in (frame, stream, index):
        state = numpy_fmix64(state + numpy_fmix64((part + 1) * 0x9E3779B97F4A7C15))
    assert stream_key(seed, frame, stream, index) % 2**64 == state


def test_as_int64_wraps_modulo_2_64():
    assert as_int64(2**63 - 1) == 2**63 - 1
    assert as_int64(2**63) == -(2**63)
    assert as_int64(2**64 + 5) == 5
    assert as_int64(-1) == -1
    assert as_int64(-(2**64) - 3) == -3


def fmix64_inverse(value: int) -> int:
    """The word that fmix64 maps to ``value``: the xor-shifts and multiplications undone in reverse order."""
    def unshift(h: int, shift: int) -> int:
        x = h
        for _ in range(64 // shift + 1):
            x = h ^ (x >> shift)
        return x

    value = unshift(value, 31)
    value = unshift(value * pow(0x94D049BB133111EB, -1, 2**64) % 2**64, 27)
    return unshift(value * pow(0xBF58476D1CE4E5B9, -1, 2**64) % 2**64, 30)


def test_the_extreme_hashes_give_finite_normals():
    """Hashes whose high 32 bits are 0 give u₁ = 2⁻³³ (the odd field 2·0 + 1), radius √(66 ln 2), never
    u₁ = 0 and an infinite normal; the low 32 bits 0 and 2³² − 1 give u₂ = 0 and 1 (2³² − 1 rounds up in
    float32): the angles 0 and 2π."""
    key = stream_key(3, 1, Stream.REQUEST)
    hashes = [0, 2**32 - 1, 2**64 - 1]
    assert [numpy_fmix64(fmix64_inverse(h)) for h in hashes] == hashes
    states = torch.tensor([[as_int64(fmix64_inverse(h) - key) for h in hashes]], dtype=torch.int64)
    z = normals_from_states(states, 2, key).double()
    radius = np.sqrt(-2 * np.log(2.0**-33))
    big = np.sqrt(-2 * np.log(float(np.float32(2**33 - 1)) * 2.0**-33))  # u₁ rounds to 1 in float32: radius 0
    angle = 2 * np.pi * float(np.float32(2**32 - 1)) * 2.0**-32
    expected = torch.tensor([[radius, radius * np.cos(angle), big], [0.0, radius * np.sin(angle), 0.0]],
                            dtype=torch.float64)
    assert torch.isfinite(z).all()
    assert torch.allclose(z, expected, rtol=0.0, atol=5e-6), (z, expected)  # float32 angles: a few ulps


def test_states_must_have_one_row_per_channel_pair():
    states = weyl_states(torch.arange(10), 4)
    with pytest.raises(ValueError, match="2 rows, 6 channels need 3"):
        normals_from_states(states, 6, 0)
    with pytest.raises(ValueError, match="2 rows, 2 channels need 1"):
        normals_from_states(states, 2, 0)


def test_frame_noise_index_selects_its_own_stream():
    noise = frame_noise(3, 5, 7, seed=1, frame=2, index=4)
    pixels = counter_normals(torch.arange(35), 3, stream_key(1, 2, Stream.FRAME, 4))
    assert torch.equal(noise.reshape(3, -1), pixels)
    assert not torch.isclose(noise, frame_noise(3, 5, 7, seed=1, frame=2)).any()


#END
