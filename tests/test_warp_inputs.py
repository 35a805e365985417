"""Bad inputs get ValueErrors naming the input; extreme but valid maps are handled."""

import numpy as np
import pytest
import torch
from warp_maps import rough_map
from warp_reference import chi2_variance_bounds, white_noise_report

from temporal_noise.kernels.motion.flow_maps import identity_map, sample_bilinear
from temporal_noise.kernels.warp.counter_rng import Stream, counter_normals, frame_noise, stream_key
from temporal_noise.kernels.warp.frame import warp_with
from temporal_noise.kernels.warp.grid import GRID, warp_grid
from temporal_noise.kernels.warp.hiwyn import warp_hiwyn
from temporal_noise.kernels.warp.particle import PARTICLE, warp_particle
from temporal_noise.kernels.warp.sequence import warp_noise_sequence
from temporal_noise.kernels.warp.workspace import Workspace

WARPS = [warp_particle, warp_grid, lambda *a, **k: warp_hiwyn(*a, upsample=2, **k)]
NOISE = frame_noise(4, 8, 10, seed=0, frame=0)
MAP = identity_map(8, 10)


def nan_map():
    m = MAP.clone()
    m[0, 3, 4] = float("nan")
    return m


@pytest.mark.parametrize("warp", WARPS)
@pytest.mark.parametrize(("noise", "backward_map", "fresh_mask", "match"), [
    (NOISE, torch.zeros(3, 8, 10), None, "backward_map"),
    (NOISE, torch.zeros(2, 8, 11), None, "backward_map"),
    (NOISE, torch.zeros(5, 2, 8, 10), None, "backward_map"),
    (NOISE[None].expand(2, 4, 8, 10), torch.zeros(3, 2, 8, 10), None, "backward_map"),
    (NOISE, nan_map(), None, "backward_map contains NaN"),
    (NOISE, MAP + float("inf"), None, "backward_map contains NaN or infinite"),
    (NOISE, MAP.to("meta"), None, "backward_map is on meta"),
    (NOISE.index_fill(1, torch.tensor([3]), float("nan")), MAP, None, "noise contains NaN"),
    (NOISE.index_fill(0, torch.tensor([1]), float("-inf")), MAP, None, "noise contains NaN or infinite"),
    (torch.zeros(4, 0, 10), torch.zeros(2, 0, 10), None, "noise is empty"),
    (torch.zeros(8, 10), MAP, None, "noise must be"),
    (NOISE.long(), MAP, None, "noise must be a floating"),
    (NOISE, MAP, torch.zeros(8, 9, dtype=torch.bool), "fresh_mask"),
    (NOISE, MAP, torch.zeros(8, 10).numpy(), "fresh_mask must be a tensor"),
    (NOISE, MAP.long(), None, "backward_map must be a floating-point"),
    (NOISE, MAP[None, None], None, "backward_map must be \\[2, 8, 10\\]"),
    (NOISE, MAP, torch.zeros(1, 1, 8, 10, dtype=torch.bool), "fresh_mask must be \\[8, 10\\]"),
    (NOISE, MAP, torch.zeros(3, 8, 10, dtype=torch.bool), "fresh_mask has 3 masks for a batch of 1"),
    (NOISE, MAP, torch.zeros(8, 10, dtype=torch.bool, device="meta"), "fresh_mask is on meta"),
])
def test_bad_inputs_name_the_input(warp, noise, backward_map, fresh_mask, match):
    with pytest.raises(ValueError, match=match):
        warp(noise, backward_map, seed=0, frame=1, fresh_mask=fresh_mask)


@pytest.mark.parametrize("warp", WARPS)
def test_huge_displacements_give_fresh_noise(warp):
    m = MAP.clone()
    m[:, :4] += 1e30
    m[:, 4:6] -= 3e7
    out = warp(NOISE, m, seed=0, frame=1)
    assert torch.isfinite(out).all()
    assert torch.equal(out[:, 6:], NOISE[:, 6:])  # rows 6.. still map onto themselves
    assert not torch.isclose(out[:, :6], NOISE[:, :6]).any()


@pytest.mark.parametrize("warp", WARPS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_finite_maps_beyond_float32_range_give_fresh_noise(warp, dtype):
    """Displacements near the dtype's largest value (the octagons' extrapolated corners would overflow to
    inf, and inf − inf is NaN) are as far outside as any other."""
    m = MAP.to(dtype, copy=True)
    m[:, :3] = 0.75 * torch.finfo(dtype).max
    out = warp(NOISE.to(dtype), m, seed=0, frame=1, **({} if warp is warp_particle else {"dtype": dtype}))
    assert torch.isfinite(out).all()
    assert torch.equal(out[:, 4:], NOISE.to(dtype)[:, 4:])  # rows 4.. (and their corners) still map onto themselves
    assert not torch.isclose(out[:, :3], NOISE.to(dtype)[:, :3]).any()


@pytest.mark.parametrize("warp", WARPS)
def test_inputs_that_require_grad_are_warped_like_plain_ones(warp):
    expected = warp(NOISE, MAP + 0.3, seed=0, frame=1)
    out = warp(NOISE.clone().requires_grad_(), (MAP + 0.3).requires_grad_(), seed=0, frame=1)
    assert torch.equal(out, expected)


def test_the_map_is_used_in_the_compute_dtype():
    """dtype=float64 computes with the map in float64 (a float32 map gives the float64 result of its values),
    and a half-precision map is warped like its float32 values."""
    m = (MAP - 5) * 1.37 + 5.29
    reference = warp_grid(NOISE.double(), m.double(), seed=1, frame=1, dtype=torch.float64)
    assert torch.equal(warp_grid(NOISE.double(), m, seed=1, frame=1, dtype=torch.float64), reference)
    for warp in WARPS:
        assert torch.equal(warp(NOISE, m.half(), seed=1, frame=1), warp(NOISE, m.half().float(), seed=1, frame=1))


@pytest.mark.parametrize("seed", [1.5, torch.tensor(3), "7", True])
def test_a_seed_that_is_not_an_integer_is_refused(seed):
    with pytest.raises(ValueError, match="seed must be an integer"):
        warp_grid(NOISE, MAP, seed=seed, frame=1)


@pytest.mark.parametrize("frame", [1.5, True, torch.tensor(2)])
def test_a_frame_that_is_not_an_integer_is_refused(frame):
    with pytest.raises(ValueError, match="frame must be an integer"):
        warp_particle(NOISE, MAP, seed=1, frame=frame)


def test_numpy_integers_are_integers():
    assert torch.equal(warp_particle(NOISE, MAP + 0.3, seed=np.int64(1), frame=np.int64(2)),
                       warp_particle(NOISE, MAP + 0.3, seed=1, frame=2))


@pytest.mark.parametrize("offset", [(32.3, 4.5), (32.45, 4.123)])
def test_thin_wide_octagons_in_the_frame_take_the_particle_footprint(offset):
    """Octagons 12 cells wide and 10⁻⁵ tall, wholly inside the frame: area 1.2·10⁻⁴ (above the fold
    tolerance), every cell's share below the second pass's rounding threshold. Without the fallback they
    keep no request (0/0 = NaN) or only their rounding-level "outside" part (fresh noise, blind to the
    motion). With it they follow the motion: correlated with the bilinear sample of the source (1000
    channels: fresh noise would give 0 ± 0.03)."""
    m = identity_map(8, 64)
    m = torch.stack(((m[0] - 32) * 12 + offset[0], (m[1] - 4) * 1e-5 + offset[1]))
    noise = frame_noise(1000, 8, 64, seed=0, frame=0)
    out = warp_grid(noise, m, seed=0, frame=1)
    assert torch.isfinite(out).all()
    centre = out[:, :, 30:34].double()  # the octagons that lie wholly inside the frame
    low, high = chi2_variance_bounds(centre.numel())
    assert low < centre.square().mean() < high
    source = sample_bilinear(noise, m)[:, :, 30:34].double()
    correlation = (centre * source).mean(0) / (centre.square().mean(0) * source.square().mean(0)).sqrt()
    assert correlation.min() > 0.15, correlation


@pytest.mark.parametrize("warp", WARPS)
def test_collapsing_and_folding_maps_keep_unit_variance(warp):
    noise = frame_noise(4, 48, 48, seed=0, frame=0)
    collapse = torch.full((2, 48, 48), 20.3)  # every pixel maps to one point
    fold = identity_map(48, 48)
    fold[0] = 24 + 10 * torch.sin(fold[0] / 3)  # x ↦ non-injective, orientation flips every 3π px
    for m in (collapse, fold):
        report = white_noise_report(warp(noise, m, seed=0, frame=1))
        assert report["variance_ok"] and report["mean_ok"] and report["ks_p"] > 1e-4, report


@pytest.mark.parametrize("warp", WARPS)
def test_random_strongly_contracting_maps_are_handled(warp):
    """Random rough maps whose octagons span more than 3 cells with window origins far left of or above
    the frame (their fixed request slots must stay inside the padded grid), on a tiny and a small frame."""
    tiny = torch.tensor([[[-3.7, 1.6, 6.9], [-3.3, 2.0, 7.3]], [[-0.85, -0.85, -0.85], [3.25, 3.25, 3.25]]])
    for m in (tiny, rough_map(16, 16, 0.7 * 16, seed=5)):
        noise = frame_noise(4, *m.shape[1:], seed=0, frame=0)
        out = warp(noise, m, seed=0, frame=1)
        assert torch.isfinite(out).all() and out.shape == noise.shape


@pytest.mark.parametrize("warp", WARPS)
def test_batch_items_take_their_own_map_mask_and_streams(warp):
    """Item b of a batch is warped with map b and mask b (or the single one) and its own normals: identical
    items of a batch get different fresh noise, and each item equals that of a batch that repeats its map and
    mask."""
    noise = NOISE[None].expand(2, 4, 8, 10)
    maps = torch.stack((MAP + 0.3, MAP - torch.tensor([1.0, 0.0])[:, None, None]))
    masks = torch.zeros(2, 8, 10, dtype=torch.bool)
    masks[0, 2:5, 3:7] = True
    masks[1, 5:, :2] = True
    out = warp(noise, maps, seed=3, frame=1, fresh_mask=masks)
    for b in range(2):
        alone = warp(noise, maps[b].expand(2, 2, 8, 10), seed=3, frame=1, fresh_mask=masks[b].expand(2, 8, 10))
        assert torch.equal(out[b], alone[b])
    fresh = warp(noise, MAP, seed=3, frame=1, fresh_mask=masks[0])
    assert not torch.isclose(fresh[0][:, masks[0]], fresh[1][:, masks[0]]).any()


def test_warp_items_draw_from_their_own_request_and_pad_streams():
    """Item b of a batch warped at (seed, frame) is the variant's step with the keys of streams REQUEST and
    PAD at (seed, frame, b): a 0.3 px shift leaves a remainder in the first row and column (pad noise)."""
    noise = torch.stack((frame_noise(4, 9, 8, seed=0, frame=0), frame_noise(4, 9, 8, seed=0, frame=0)))
    m = identity_map(9, 8) + torch.tensor([0.3, 0.3])[:, None, None]
    out = warp_grid(noise, m, seed=5, frame=3)
    for b in range(2):
        step = GRID.step(noise[b], m, None, request_key=stream_key(5, 3, Stream.REQUEST, b),
                         pad_key=stream_key(5, 3, Stream.PAD, b), workspace=Workspace())
        assert torch.equal(out[b].reshape(4, -1), step)
    other_pad = GRID.step(noise[0], m, None, request_key=stream_key(5, 3, Stream.REQUEST, 0),
                          pad_key=stream_key(5, 3, Stream.REQUEST, 1), workspace=Workspace()).view(4, 9, 8)
    assert not torch.equal(other_pad[:, :2, :2], out[0, :, :2, :2])  # the pad stream is really read
    assert not torch.isclose(out[0], out[1]).all((1, 2)).any()


@pytest.mark.parametrize("warp", WARPS)
def test_fresh_masks_of_any_dtype_are_read_as_booleans(warp):
    mask = torch.zeros(8, 10, dtype=torch.bool)
    mask[2:5, 3:7] = True
    expected = warp(NOISE, MAP + 0.3, seed=3, frame=1, fresh_mask=mask)
    for dtype in (torch.uint8, torch.float32):
        assert torch.equal(warp(NOISE, MAP + 0.3, seed=3, frame=1, fresh_mask=mask.to(dtype)), expected)


def test_sequence_occlusion_of_any_dtype_is_read_as_booleans():
    maps = (MAP + 0.3)[None].expand(2, 2, 8, 10)
    occlusion = torch.zeros(2, 8, 10, dtype=torch.bool)
    occlusion[1, 2:5, 3:7] = True
    for method in ("grid", "particle"):
        expected = warp_noise_sequence(maps, 4, seed=1, method=method, occlusion=occlusion)
        assert torch.equal(warp_noise_sequence(maps, 4, seed=1, method=method, occlusion=occlusion.float()), expected)


@pytest.mark.parametrize("variant", [PARTICLE, GRID], ids=["particle", "grid"])
def test_float64_warps_compute_in_float64(variant):
    """A (0.25, 0.5) px translation: targets away from the border take four cells that are fully requested
    (weights λ·a = a in both variants), so the linear part Y(x) − Y(0) is the bilinear sample Σ a·x with
    a = (3/8, 1/8, 3/8, 1/8), to float64 rounding (1e-12; float32 arithmetic anywhere would leave about 1e-7)."""
    x = torch.randn(4, 8, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    m = MAP + torch.tensor([0.25, 0.5])[:, None, None]

    def warp(values: torch.Tensor) -> torch.Tensor:
        return warp_with(variant, values, m, seed=2, frame=1, fresh_mask=None, dtype=torch.float64)

    linear = (warp(x) - warp(torch.zeros_like(x)))[:, 1:-1, 1:-1]
    expected = 0.375 * x[:, 1:-1, 1:-1] + 0.125 * x[:, 1:-1, 2:] + 0.375 * x[:, 2:, 1:-1] + 0.125 * x[:, 2:, 2:]
    assert linear.dtype == torch.float64
    assert (linear - expected).abs().max() < 1e-12, (linear - expected).abs().max()


def test_a_source_cell_with_only_tiny_requests_still_hands_on_its_whole_value():
    """Particle variant: a cell whose only request has weight 10⁻⁴ is normalised to weight 1 (λ = 1/s for any
    s > 0), so target 0, which takes cells 0 and 1 with weights 1 − 10⁻⁴ and 10⁻⁴ (each its only requester),
    is (x₀ + x₁)/√2 plus noise. Targets 1.. map far outside."""
    m = torch.tensor([[0.5 + 1e-4, -50.0, -50.0, -50.0], [0.5, 0.5, 0.5, 0.5]])[:, None, :]
    unit = torch.zeros(2, 1, 4)
    unit[0, 0, 0], unit[1, 0, 1] = 1.0, 1.0  # channel 0 sees x₀ = 1, channel 1 sees x₁ = 1
    linear = warp_particle(unit, m, seed=0, frame=1) - warp_particle(torch.zeros_like(unit), m, seed=0, frame=1)
    assert torch.allclose(linear[:, 0, 0], torch.full((2,), 0.5**0.5), rtol=0.0, atol=1e-5), linear[:, 0, 0]


@pytest.mark.parametrize("method", ["particle", "grid"])
def test_a_workspace_reused_for_other_channel_counts_and_dtypes_gives_fresh_results(method):
    warp = {"particle": PARTICLE, "grid": GRID}[method]
    ws = Workspace()
    m = MAP + 0.3
    cases = [(NOISE[:2], torch.float32), (NOISE, torch.float32), (NOISE[:2], torch.float32),
             (NOISE.double(), torch.float64), (NOISE, torch.float32)]
    for noise, dtype in cases:
        expected = warp_with(warp, noise, m, seed=1, frame=1, fresh_mask=None, dtype=dtype)
        assert torch.equal(warp_with(warp, noise, m, seed=1, frame=1, fresh_mask=None, workspace=ws, dtype=dtype),
                           expected)


def test_particles_outside_the_frame_take_their_own_bilinear_fresh_noise():
    """A particle whose four cells all lie outside the frame is Σ_k √a_k·z_k: its bilinear weights a_k (float64
    here, of the point clamped to [−2, W + 1] × [−2, H + 1] after the −½) on the normals of its own slots
    (counters 9j + 0, 1, 3, 4 of the REQUEST stream), not those of a particle moved elsewhere."""
    height, width = 6, 7
    g = torch.Generator().manual_seed(1)
    u = torch.rand(2, height, width, generator=g, dtype=torch.float64)
    m = torch.stack((u[0] * 1.4 - 1.9, u[1] * (height + 3.0) - 1.5))  # x left of the frame, q_x ∈ [−2.4, −1]
    right = torch.rand(height, width, generator=g) < 0.5
    m[0] = torch.where(right, width + 0.6 + 1.3 * u[0], m[0])  # or right of it: q_x ∈ [W + 0.1, W + 1.4]
    bottom = torch.rand(height, width, generator=g) < 0.3
    m[1] = torch.where(bottom, height + 0.6 + 1.3 * u[1], m[1])
    noise = frame_noise(4, height, width, seed=0, frame=0)
    out = warp_particle(noise, m.float(), seed=2, frame=1).reshape(4, -1).double()
    q = m.float().double().reshape(2, -1) - 0.5
    q[0], q[1] = q[0].clamp(-2.0, width + 1.0), q[1].clamp(-2.0, height + 1.0)  # the documented clamp
    f = q - q.floor()
    weights = torch.stack(((1 - f[0]) * (1 - f[1]), f[0] * (1 - f[1]), (1 - f[0]) * f[1], f[0] * f[1]))
    targets = torch.arange(height * width)
    key = stream_key(2, 1, Stream.REQUEST)
    expected = sum(weights[k].sqrt() * counter_normals(9 * targets + slot, 4, key).double()
                   for k, slot in enumerate((0, 1, 3, 4)))
    assert torch.allclose(out, expected, rtol=0.0, atol=1e-5), (out - expected).abs().max()


def test_fresh_mask_forces_fresh_noise():
    mask = torch.zeros(8, 10, dtype=torch.bool)
    mask[2:5, 3:7] = True
    for warp in WARPS:
        out = warp(NOISE, MAP, seed=3, frame=1, fresh_mask=mask)
        assert torch.equal(out[:, ~mask], NOISE[:, ~mask])
        assert not torch.isclose(out[:, mask], NOISE[:, mask]).any()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"backward_maps": torch.zeros(2, 8, 10), "channels": 4}, "backward_maps"),
    ({"backward_maps": torch.zeros(3, 2, 8, 10), "channels": 0}, "channels"),
    ({"backward_maps": torch.zeros(3, 2, 8, 10), "channels": 4, "method": "bilinear"}, "method"),
    ({"backward_maps": torch.zeros(3, 2, 8, 10), "channels": 4, "occlusion": torch.zeros(2, 8, 10)}, "occlusion"),
    ({"backward_maps": torch.full((3, 2, 8, 10), float("nan")), "channels": 4}, "backward_maps"),
    ({"backward_maps": torch.full((1, 2, 8, 10), float("nan")), "channels": 4}, "backward_maps contains NaN"),
    ({"backward_maps": torch.zeros(1, 2, 8, 10), "channels": 4, "occlusion": np.zeros((1, 8, 10), bool)},
     "occlusion must be a tensor"),
])
def test_sequence_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        warp_noise_sequence(seed=0, **kwargs)
