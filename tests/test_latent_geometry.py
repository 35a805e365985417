"""Latent pooling (k×k sum / k), temporal compression (frame 0, then every k-th), degradation."""

import numpy as np
import pytest
import torch
from warp_reference import white_noise_report

from temporal_noise.kernels.video.latent_geometry import compress_time, degrade, latent_frame_count, pool_to_latent
from temporal_noise.kernels.warp.counter_rng import frame_noise


def test_pool_is_block_sum_over_k():
    noise = torch.arange(2 * 4 * 6, dtype=torch.float64).reshape(2, 4, 6)
    pooled = pool_to_latent(noise, 2)
    assert pooled.shape == (2, 2, 3)
    assert pooled[1, 1, 2].item() == pytest.approx(noise[1, 2:4, 4:6].sum().item() / 2)


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_pooled_white_noise_is_white_with_unit_variance(factor):
    noise = frame_noise(16, 128, 128, seed=factor, frame=0)
    report = white_noise_report(pool_to_latent(noise, factor))
    failed = [k for k, v in report.items() if k.endswith("_ok") and not v]
    assert not failed, report
    assert report["ks_p"] > 1e-4


def test_pool_rejects_indivisible_sizes():
    with pytest.raises(ValueError, match="divisible"):
        pool_to_latent(torch.zeros(4, 10, 12), 4)
    with pytest.raises(ValueError, match="8×10 is not divisible by the factor 4"):
        pool_to_latent(torch.zeros(4, 8, 10), 4)  # only the width is indivisible


@pytest.mark.parametrize(("frames", "factor", "count"), [(1, 4, 1), (16, 1, 16), (17, 4, 5), (16, 4, 4),
                                                         (49, 6, 9), (81, 8, 11), (80, 8, 10)])
def test_latent_frame_count(frames, factor, count):
    assert latent_frame_count(frames, factor) == count
    clip = torch.arange(frames).float()[:, None]
    kept = compress_time(clip, factor)
    assert kept.shape[0] == count
    assert kept[:, 0].tolist() == list(range(0, frames, factor))[:count]


def test_compress_time_along_another_axis():
    video = torch.arange(9).float().reshape(1, 1, 9, 1, 1).expand(2, 4, 9, 3, 3)
    assert compress_time(video, 4, dim=2)[0, 0, :, 0, 0].tolist() == [0.0, 4.0, 8.0]


def test_degrade_keeps_unit_variance_for_scalar_and_per_pixel_gamma():
    warped = frame_noise(4, 96, 96, seed=1, frame=0)
    fresh = frame_noise(4, 96, 96, seed=2, frame=0)
    assert torch.equal(degrade(warped, fresh, 0.0), warped)
    assert torch.allclose(degrade(warped, fresh, 1.0), fresh)
    ramp = torch.linspace(0, 1, 96)[None, None, :].expand(1, 96, 96)
    for gamma in (0.3, 0.5, ramp):
        mixed = degrade(warped, fresh, gamma)
        report = white_noise_report(mixed)
        assert report["variance_ok"] and report["mean_ok"] and report["ks_p"] > 1e-4, report
    half = degrade(warped, fresh, 0.5)
    assert np.corrcoef(half.ravel(), warped.ravel())[0, 1] == pytest.approx(np.sqrt(0.5), abs=0.02)


def test_degrade_rejects_bad_gamma_and_shapes():
    a = torch.zeros(2, 4, 4)
    with pytest.raises(ValueError, match="gamma"):
        degrade(a, a, 1.5)
    for bad in (1.01, -0.01, float("nan"), torch.tensor([0.5, float("nan")])[:, None, None]):
        with pytest.raises(ValueError, match="gamma"):  # NaN fails every comparison: it needs its own check
            degrade(a, a, bad)
    with pytest.raises(ValueError, match="shape"):
        degrade(a, torch.zeros(2, 4, 5), 0.5)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: pool_to_latent(torch.zeros(2, 4, 4), 2.0), "factor must be an integer, got 2.0"),
    (lambda: pool_to_latent(torch.zeros(2, 4, 4).index_fill_(0, torch.tensor([1]), float("inf")), 2),
     r"noise contains NaN or infinite values \(first in frame 1\)"),
    (lambda: latent_frame_count(5.5, 2), "frames must be an integer, got 5.5"),
    (lambda: latent_frame_count(5, 4.0), "factor must be an integer, got 4.0"),
    (lambda: degrade(torch.full((2, 3), float("nan")), torch.zeros(2, 3), 0.5), "warped contains NaN"),
    (lambda: degrade(torch.zeros(2, 3), torch.full((2, 3), float("inf")), 0.5), "fresh contains NaN or infinite"),
])
def test_bad_kernel_inputs_are_refused_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()
