"""Bad inputs get ValueErrors naming the input; extreme but valid maps are handled."""

import pytest
import torch
from warp_reference import white_noise_report

from temporal_noise.kernels.counter_rng import frame_noise
from temporal_noise.kernels.flow_maps import identity_map
from temporal_noise.kernels.hiwyn import warp_hiwyn
from temporal_noise.kernels.noise_warp import warp_noise_sequence
from temporal_noise.kernels.warp_grid import warp_grid
from temporal_noise.kernels.warp_particle import warp_particle

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
    g = torch.Generator().manual_seed(5)
    tiny = torch.tensor([[[-3.7, 1.6, 6.9], [-3.3, 2.0, 7.3]], [[-0.85, -0.85, -0.85], [3.25, 3.25, 3.25]]])
    rough = identity_map(16, 16) + 0.7 * 16 * torch.randn(2, 16, 16, generator=g)
    for m in (tiny, rough):
        noise = frame_noise(4, *m.shape[1:], seed=0, frame=0)
        out = warp(noise, m, seed=0, frame=1)
        assert torch.isfinite(out).all() and out.shape == noise.shape


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
])
def test_sequence_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        warp_noise_sequence(seed=0, **kwargs)
