"""Warped noise stays white N(0, 1) under every motion, after pooling, and over 300 frames.

Tolerances (fixed seeds, n values per frame): |mean| < 4.5/√n; variance inside the two-sided χ²_n
bounds at p = 10⁻⁴; KS p > 10⁻⁴; |Moran's I| and |lag-1 autocorrelation| < 4.5 standard deviations of
white noise; every ring of the radially averaged power spectrum within 5√2 standard errors of 1;
cross-channel correlations < 4.5/√(H·W). See warp_reference.white_noise_report.
"""

import math

import numpy as np
import pytest
import torch
from warp_reference import chi2_variance_bounds, white_noise_report

from temporal_noise.kernels.motion.flow_maps import identity_map, sample_bilinear
from temporal_noise.kernels.video.latent_geometry import pool_to_latent
from temporal_noise.kernels.warp.counter_rng import frame_noise
from temporal_noise.kernels.warp.grid import warp_grid
from temporal_noise.kernels.warp.hiwyn import warp_hiwyn
from temporal_noise.kernels.warp.particle import warp_particle
from temporal_noise.kernels.warp.sequence import warp_noise_sequence

SIZE = 64


def linear(matrix, size=SIZE):
    m = identity_map(size, size)
    a = torch.tensor(matrix)
    return torch.einsum("ij,jhw->ihw", a, m - size / 2) + size / 2


def random_smooth(seed, size=SIZE, amplitude=2.0):
    """Sum of four random low-frequency sine displacements (a few pixels), fixed by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    m = identity_map(size, size)
    flow = torch.zeros_like(m)
    for _ in range(4):
        k = (torch.rand(2, generator=g) - 0.5) * 2 * math.pi / 16
        phase = torch.rand(2, generator=g) * 2 * math.pi
        flow += amplitude / 2 * torch.sin(k[0] * m[0:1] + k[1] * m[1:2] + phase[:, None, None])
    return m + flow


def folding(size=SIZE):
    m = identity_map(size, size)
    m[0] = m[0] + 4 * torch.sin(2 * math.pi * m[0] / 12)  # dm_x/dx < 0 in places: the map folds
    return m


MOTIONS = {
    "rotation": linear([[math.cos(0.1), -math.sin(0.1)], [math.sin(0.1), math.cos(0.1)]]),
    "zoom_in": linear([[0.8, 0.0], [0.0, 0.8]]),
    "zoom_out": linear([[1.25, 0.0], [0.0, 1.25]]),
    "shear": linear([[1.0, 0.3], [0.0, 1.0]]),
    "random_smooth": random_smooth(3),
    "folding": folding(),
}


def failures(frame):
    report = white_noise_report(frame)
    bad = [k for k, v in report.items() if k.endswith("_ok") and not v]
    if report["ks_p"] <= 1e-4:
        bad.append("ks")
    return bad, report


@pytest.mark.parametrize("method", ["particle", "grid"])
@pytest.mark.parametrize("motion", MOTIONS)
def test_every_frame_is_white_noise_also_after_pooling(method, motion):
    maps = MOTIONS[motion][None].expand(3, 2, SIZE, SIZE)
    frames = warp_noise_sequence(maps, 4, seed=list(MOTIONS).index(motion), method=method)
    for t, frame in enumerate(frames):
        for factor in (1, 2, 4):
            bad, report = failures(pool_to_latent(frame, factor))
            assert not bad, (t, factor, bad, report)


@pytest.mark.parametrize("method", ["particle", "grid"])
def test_no_drift_over_300_frames(method):
    size, steps = 24, 300
    maps = torch.stack([random_smooth(s, size, amplitude=1.5) for s in range(4)])
    maps = maps[torch.arange(steps) % 4]
    frames = warp_noise_sequence(maps, 4, seed=7, method=method).double()
    n = frames[0].numel()
    lo, hi = chi2_variance_bounds(n, p=1e-4 / (steps + 1))  # Bonferroni over the frames
    variance = frames.square().mean((1, 2, 3)).numpy()
    assert ((variance > lo) & (variance < hi)).all()
    assert np.abs(frames.mean((1, 2, 3)).numpy()).max() < 5.5 / math.sqrt(n)
    slope = np.polyfit(np.arange(steps + 1), variance, 1)[0]
    assert abs(slope * steps) < 0.05, slope  # no trend of the variance over the sequence
    last = frames[-50:].reshape(-1, 4, size, size)
    bad, report = failures(last[-1])
    assert not bad, report


def test_strong_zoom_out_gives_white_noise_in_the_second_pass():
    """A 4.3× zoom-out: every octagon spans 5–6 cells per axis (second pass). Per-pixel variance and the
    neighbours' covariance over 4000 channels, in the pixels whose octagons lie inside the frame
    (tolerances: χ² at p = 10⁻⁴, covariance 5 sd = 5/√n)."""
    size, zoom, channels = 40, 4.3, 4000
    m = (identity_map(size, size) - size / 2) * zoom + size / 2
    noise = torch.randn(channels, size, size, generator=torch.Generator().manual_seed(0))
    inner = warp_grid(noise, m, seed=1, frame=1).double()[:, 16:24, 16:24]
    low, high = chi2_variance_bounds(inner.numel())
    assert low < inner.square().mean() < high
    for lagged in ((inner[:, :, 1:], inner[:, :, :-1]), (inner[:, 1:], inner[:, :-1])):
        covariance = (lagged[0] * lagged[1]).mean()
        assert abs(covariance) < 5 / math.sqrt(lagged[0].numel()), covariance


def test_partly_covered_border_cells_keep_their_remainder():
    """A 0.05 px shift leaves 5 % of every first-column cell unrequested; its remainder noise (kept above
    10⁻⁵) gives the first column unit variance over 20000 channels (χ² at p = 10⁻⁴)."""
    channels, size = 20000, 16
    m = identity_map(size, size) + torch.tensor([0.05, 0.0])[:, None, None]
    noise = torch.randn(channels, size, size, generator=torch.Generator().manual_seed(0))
    first_column = warp_grid(noise, m, seed=1, frame=1).double()[:, :, 0]
    low, high = chi2_variance_bounds(first_column.numel())
    assert low < first_column.square().mean() < high


def test_temporal_correlation_against_bilinear_warping():
    """corr(Y^t, bilinear resample of Y^(t−1) along the motion), per variant, for known motions.

    For a translation by (0.5, 0.3) the bridge gives Y = Σ a·X + residual, so the correlation is
    √(Σ a²) = √0.29 ≈ 0.539; bilinear warping correlates perfectly but has variance Σ a² = 0.29 and is
    spatially correlated: not white noise.
    """
    x = frame_noise(4, SIZE, SIZE, seed=1, frame=0)
    motions = {"translate(0.5,0.3)": identity_map(SIZE, SIZE) + torch.tensor([0.5, 0.3])[:, None, None],
               "rotation": MOTIONS["rotation"], "zoom_in": MOTIONS["zoom_in"], "zoom_out": MOTIONS["zoom_out"]}
    variants = {"particle": warp_particle, "grid": warp_grid,
                "hiwyn(8)": lambda *a, **k: warp_hiwyn(*a, upsample=8, **k),
                "bilinear": lambda noise, m, **k: sample_bilinear(noise, m)}
    print("\nmotion, variant: corr(Y_t, bilinear(Y_t-1)), std(Y_t), Moran's I")
    table = {}
    for motion, m in motions.items():
        inside = ((m[0] > 1) & (m[0] < SIZE - 1) & (m[1] > 1) & (m[1] < SIZE - 1))
        reference = sample_bilinear(x, m)[:, inside].flatten()
        for name, warp in variants.items():
            y = warp(x, m, seed=2, frame=1)
            rho = float(np.corrcoef(y[:, inside].flatten(), reference)[0, 1])
            report = white_noise_report(y)
            table[motion, name] = (rho, math.sqrt(report["variance"]), report["moran"])
            print(f"  {motion:20s} {name:9s} {rho:.3f}  {math.sqrt(report['variance']):.3f}  {report['moran']:+.3f}")
    for name in ("particle", "grid", "hiwyn(8)"):
        assert table["translate(0.5,0.3)", name][0] == pytest.approx(math.sqrt(0.29), abs=0.03)
        for motion in motions:
            assert table[motion, name][0] > 0.35 and abs(table[motion, name][1] - 1) < 0.03
    assert table["translate(0.5,0.3)", "bilinear"][1] == pytest.approx(math.sqrt(0.29), abs=0.02)
    assert table["translate(0.5,0.3)", "bilinear"][2] > 0.3
