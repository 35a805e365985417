"""HIWYN as published (the upsampled noise stored): its upsampling, and the law of the counts-based HIWYN.

Tolerances: exact identities to 1e-12 in float64 (1e-5 in float32, the rounding of sums of a few normals);
the statistics as in test_warp_statistics (4.5 standard deviations of white noise, χ² bounds at
p = 10⁻⁴, KS p > 10⁻⁴).
"""

import importlib
import math

import numpy as np
import pytest
import torch
from scipy import stats
from test_warp_statistics import MOTIONS, failures, linear
from warp_maps import REVERSED_LOBE_BELOW, centre_octagon_map, wiggly_map
from warp_reference import chi2_variance_bounds, point_winding_counts

from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.warp.counter_rng import Stream, counter_normals, frame_noise, stream_key
from temporal_noise.kernels.warp.hiwyn import upsample_noise, warp_hiwyn, warp_hiwyn_upsampled
from temporal_noise.kernels.warp.polygon import cell_point_counts

F64 = {"dtype": torch.float64}
hiwyn_module = importlib.import_module("temporal_noise.kernels.warp.hiwyn")  # the module, for monkeypatching


POLYGON_KINDS = ["inside", "beyond_the_window", "negative", "self_intersecting", "vertices_on_rows"]


@pytest.mark.parametrize("kind", POLYGON_KINDS)
def test_scanline_counts_equal_point_in_polygon_counts(kind):
    """The scanline rasteriser against every centre tested against every edge (float64, random octagons,
    windows of 1–3 cells, N = 1 … 5; random x make ties in x a null event; "vertices_on_rows" puts every
    vertex at a centre's height): exactly equal."""
    g = torch.Generator().manual_seed(POLYGON_KINDS.index(kind))
    for rows, cols, n in ((1, 1, 3), (2, 2, 4), (2, 3, 5), (3, 2, 1), (3, 3, 2)):
        angles = torch.sort(torch.rand(8, 5, generator=g, dtype=torch.float64) * 2 * math.pi, 0).values
        radius = 0.3 + 0.2 * torch.rand(8, 5, generator=g, dtype=torch.float64)
        scale = torch.tensor([cols, rows], dtype=torch.float64)[:, None, None]
        vertices = scale * (0.5 + torch.stack((radius * angles.cos(), radius * angles.sin())))
        if kind == "beyond_the_window":
            vertices = vertices * 1.8 - 0.4 * scale
        elif kind == "negative":
            vertices = vertices.flip(1)
        elif kind == "self_intersecting":
            vertices = vertices[:, torch.tensor([0, 4, 1, 5, 2, 6, 3, 7])]
        elif kind == "vertices_on_rows":  # apexes at centre heights: the half-open rule decides
            vertices[1] = ((vertices[1] * n - 0.5).round() + 0.5) / n
        counts = cell_point_counts(vertices, rows, cols, n)
        for j in range(vertices.shape[-1]):
            expected = point_winding_counts(vertices[:, :, j].numpy(), rows, cols, n)
            assert np.array_equal(counts[:, :, j].numpy(), expected), (rows, cols, n, j)
        assert counts.abs().sum() > 0


@pytest.mark.parametrize("n", [2, 4])
def test_centres_on_an_edge_follow_the_half_open_rule(n):
    """Axis-aligned octagons (rectangles with edge midpoints, both orientations) whose sides pass exactly
    through sub-cell centres: a centre on a left or top side is inside, on a right or bottom side outside
    (the crossing must lie strictly right of a centre to count, half-open in y), as in the point-in-polygon
    reference, and a positively oriented rectangle counts exactly the centres of [x₀, x₁) × [y₀, y₁)."""
    g = torch.Generator().manual_seed(n)
    rows, cols = 2, 3
    ends = torch.sort(torch.randint(0, n * max(rows, cols), (40, 2, 2), generator=g), -1).values
    ends[:, :, 1] += 1  # x₀ < x₁, y₀ < y₁
    ends = ends.clamp(max=torch.tensor([[cols * n - 1], [rows * n - 1]])).double()
    low, high = (ends[:, :, 0] + 0.5) / n, (ends[:, :, 1] + 0.5) / n  # [40, 2] centre coordinates
    x0, y0, x1, y1 = low[:, 0], low[:, 1], high[:, 0], high[:, 1]
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    rectangles = torch.stack((torch.stack((x0, xm, x1, x1, x1, xm, x0, x0)),
                              torch.stack((y0, y0, y0, ym, y1, y1, y1, ym))))
    vertices = torch.cat((rectangles, rectangles.flip(1)), 2)  # [2, 8, 80]
    counts = cell_point_counts(vertices, rows, cols, n)
    centres_x = (torch.arange(cols * n, dtype=torch.float64) + 0.5) / n
    centres_y = (torch.arange(rows * n, dtype=torch.float64) + 0.5) / n
    for j in range(vertices.shape[-1]):
        expected = point_winding_counts(vertices[:, :, j].numpy(), rows, cols, n)
        assert np.array_equal(counts[:, :, j].numpy(), expected), j
        k = j % 40
        inside = ((centres_y[:, None] >= y0[k]) & (centres_y[:, None] < y1[k])
                  & (centres_x >= x0[k]) & (centres_x < x1[k]))
        cells = inside.double().view(rows, n, cols, n).sum((1, 3)).numpy()
        assert np.array_equal(expected, cells if j < 40 else -cells), j


def test_upsampling_keeps_every_pixel_and_gives_white_sub_pixels():
    """(1/N)·Σ_cell Z = x exactly; unconditionally the sub-pixels are i.i.d. N(0, 1) (Cov(Z_k, Z_l) =
    1/N² − 1/N² = 0 within a cell), so their variance, KS and lag-1 correlations across and within cells
    are those of white noise."""
    n, channels, height, width = 4, 4, 24, 20
    x = frame_noise(channels, height, width, seed=1, frame=0).double()
    z = upsample_noise(x, n, stream_key(1, 1, Stream.SUB_PIXEL))
    cells = z.view(channels, height, n, width, n).sum((2, 4)) / n
    assert torch.allclose(cells, x, rtol=0, atol=1e-12)
    values = z.numpy()
    lo, hi = chi2_variance_bounds(values.size)
    assert lo < float(np.mean(np.square(values))) < hi
    assert stats.kstest(values.ravel(), "norm").pvalue > 1e-4
    for axis in (1, 2):
        a, b = np.moveaxis(values, axis, 0)[1:], np.moveaxis(values, axis, 0)[:-1]
        assert abs(float(np.mean(a * b))) < 4.5 / math.sqrt(a.size), axis


def test_upsampling_in_bands_draws_the_same_numbers(monkeypatch):
    """Bands of a few rows (as at large sizes on the CPU) give exactly the one-pass draw: counter k is
    sub-pixel k, whatever the band."""
    n, key = 2, stream_key(2, 3, Stream.SUB_PIXEL)
    x = frame_noise(3, 7, 5, seed=4, frame=0).double()
    monkeypatch.setattr(hiwyn_module, "CPU_CHUNK", 2 * n * n * 5)  # bands of two rows
    banded = upsample_noise(x, n, key)
    u = counter_normals(torch.arange(7 * n * 5 * n), 3, key).double().view(3, 7, n, 5, n)
    expected = u - u.mean((2, 4), keepdim=True) + x[:, :, None, :, None] / n
    assert torch.allclose(banded, expected.view(3, 7 * n, 5 * n), rtol=0, atol=1e-12)


def test_identity_map_copies():
    x = frame_noise(4, 12, 9, seed=2, frame=0).double()
    y = warp_hiwyn_upsampled(x, identity_map(12, 9).double(), seed=3, frame=1, upsample=4, **F64)
    assert torch.allclose(y, x, rtol=0, atol=1e-12)


def test_a_mirror_map_copies_mirrored():
    """m(p) = (W − x, y) maps every pixel onto a cell with the orientation reversed: an injective map, so
    HIWYN copies the frame mirrored."""
    height, width = 9, 11
    m = identity_map(height, width).double()
    m[0] = width - m[0]
    x = frame_noise(4, height, width, seed=2, frame=0).double()
    y = warp_hiwyn_upsampled(x, m, seed=3, frame=1, upsample=4, **F64)
    assert torch.allclose(y, x.flip(-1), rtol=0, atol=1e-12)


def test_folds_at_the_frame_border_stay_finite():
    """A rough map (every pixel displaced by 1.5 px normal noise) folds everywhere, also across the
    frame border: a self-intersecting octagon's outside sub-pixels may count negatively; no square root of
    a negative count."""
    size = 12
    x = frame_noise(4, size, size, seed=1, frame=0)
    rough = identity_map(size, size) + 1.5 * torch.randn(2, size, size, generator=torch.Generator().manual_seed(0))
    for n in (2, 4):
        assert torch.isfinite(warp_hiwyn_upsampled(x, rough, seed=2, frame=1, upsample=n)).all(), n


def test_half_pixel_shift_sums_the_sub_pixels_and_fresh_noise_outside():
    """m(p) = p + (½, 0): P_j = [c + ½, c + 3/2) × [r, r + 1) covers the sub-pixels of columns 4c + 2 … 4c + 5
    (N = 4); the last column's octagon has 8 of its 16 outside the frame: Y = (Σ Z + √8·z_j)/4. Checks the
    random part exactly, against the upsampled noise itself."""
    n, height, width, seed, frame = 4, 5, 6, 8, 2
    x = frame_noise(2, height, width, seed=1, frame=0).double()
    y = warp_hiwyn_upsampled(x, identity_map(height, width).double() + torch.tensor([0.5, 0.0])[:, None, None],
                             seed=seed, frame=frame, upsample=n, **F64)
    z = upsample_noise(x, n, stream_key(seed, frame, Stream.SUB_PIXEL)).view(2, height, n, width * n)
    padded = torch.cat((z, torch.zeros(2, height, n, n)), 3)[..., n // 2:n // 2 + width * n]
    sums = padded.reshape(2, height, n, width, n).sum((2, 4))
    fresh = counter_normals(torch.arange(height * width), 2, stream_key(seed, frame, Stream.REQUEST)).double()
    sums[:, :, -1] += math.sqrt(n * n / 2) * fresh.view(2, height, width)[:, :, -1]
    assert torch.allclose(y, sums / n, rtol=0, atol=1e-12)


def test_a_negative_count_outside_the_frame_adds_no_fresh_noise():
    """A figure eight whose reversed lobe lies below a 3 × 3 frame (centre pixel; N = 2): more winding-weighted
    sub-pixels in the frame than in all (m_j < 0) gives no fresh part, Y = Σ_{k∈frame} w_k·Z_k / √n_j, the
    winding w_k of every sub-pixel centre from the point-in-polygon reference."""
    n = 2
    vertices = REVERSED_LOBE_BELOW
    m = centre_octagon_map(vertices)
    x = frame_noise(2, 3, 3, seed=1, frame=0).double()
    y = warp_hiwyn_upsampled(x, m, seed=3, frame=1, upsample=n, **F64)
    fine = np.array(vertices).T * n  # the octagon on the sub-pixel grid: one centre per cell
    winding = torch.from_numpy(point_winding_counts(fine, 6 * n, 3 * n, 1))  # rows 0 … 6 (all of it)
    inside, total = winding[:3 * n], winding.sum()
    assert inside.sum() > total > 0  # m_j = total − inside < 0
    z = upsample_noise(x, n, stream_key(3, 1, Stream.SUB_PIXEL))
    expected = (z * inside).sum((1, 2)) / total.sqrt()
    assert torch.allclose(y[:, 1, 1], expected, rtol=0, atol=1e-12)


def test_batch_items_are_independent_warps():
    x = frame_noise(4, 10, 8, seed=3, frame=0)
    m = MOTIONS["rotation"][:, :10, :8].contiguous()
    batch = warp_hiwyn_upsampled(torch.stack((x, x)), m, seed=5, frame=1, upsample=2)
    assert torch.equal(batch[0], warp_hiwyn_upsampled(x, m, seed=5, frame=1, upsample=2))
    assert (batch[0] - batch[1]).abs().max() > 0.1  # item 1 has its own streams


def test_an_octagon_without_a_sub_pixel_centre_is_fresh_noise():
    """A zoom in by 6 at N = 2: most octagons (1/36 of a pixel) contain no centre. They are fresh noise
    here; the counts-based reference takes the particle footprint instead (documented difference)."""
    size = 12
    m = linear([[1 / 6, 0.0], [0.0, 1 / 6]], size)
    x = frame_noise(4, size, size, seed=2, frame=0)
    y = warp_hiwyn_upsampled(x, m, seed=3, frame=1, upsample=2).view(4, -1)
    fresh = counter_normals(torch.arange(size * size), 4, stream_key(3, 1, Stream.REQUEST))
    same = (y == fresh).all(0)
    assert 0.5 < float(same.float().mean()) < 1.0
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("upsample", [2, 4])
@pytest.mark.parametrize("name", ["zoom_out_rotation", "wiggly"])
def test_linear_part_equals_the_counts_based_hiwyn(name, upsample):
    """Both are linear in x with the same random part for a seed, so Y(x) − Y(x') isolates
    Σ_i n_ij·(x_i − x'_i)/(N·√n_j): it must be the same in both (the same rasterisation, the part outside
    the frame counted alike). The maps leave the frame at the border and have no folds."""
    size = 20
    maps = {"zoom_out_rotation": linear([[1.1 * math.cos(0.3), -math.sin(0.3)], [math.sin(0.3), 1.1 * math.cos(0.3)]],
                                        size).double(),
            "wiggly": wiggly_map(size, size).double()}
    m = maps[name]
    x, x2 = (frame_noise(4, size, size, seed=s, frame=0).double() for s in (1, 2))
    upsampled = [warp_hiwyn_upsampled(v, m, seed=5, frame=1, upsample=upsample, **F64) for v in (x, x2)]
    counted = [warp_hiwyn(v, m, seed=5, frame=1, upsample=upsample, **F64) for v in (x, x2)]
    difference = upsampled[0] - upsampled[1]
    assert torch.allclose(difference, counted[0] - counted[1], rtol=0, atol=1e-12)
    assert difference.abs().max() > 0.5
    assert (upsampled[0] - counted[0]).abs().max() > 0.1  # different draws of the random part


@pytest.mark.parametrize("motion", ["rotation", "zoom_in", "zoom_out", "shear", "random_smooth"])
def test_output_is_white_noise(motion):
    x = frame_noise(4, 64, 64, seed=3, frame=0)
    bad, report = failures(warp_hiwyn_upsampled(x, MOTIONS[motion], seed=4, frame=1, upsample=4))
    assert not bad, (bad, report)


def test_fresh_mask_and_targets_outside_get_the_fresh_normal_of_their_pixel():
    """A whole-pixel shift by 3 columns: a shifted copy, the last 3 columns (from outside the frame) and
    the masked pixel fresh."""
    height, width = 10, 12
    m = identity_map(height, width) + torch.tensor([3.0, 0.0])[:, None, None]
    mask = torch.zeros(height, width, dtype=torch.bool)
    mask[3, 4] = True
    x = frame_noise(4, height, width, seed=6, frame=0)
    y = warp_hiwyn_upsampled(x, m, seed=7, frame=2, upsample=2, fresh_mask=mask)
    fresh = counter_normals(torch.arange(height * width), 4, stream_key(7, 2, Stream.REQUEST)).view_as(x)
    expected = torch.cat((x[:, :, 3:], fresh[:, :, -3:]), 2)
    expected[:, 3, 4] = fresh[:, 3, 4]
    assert torch.allclose(y, expected, rtol=0, atol=1e-5)


def test_accepts_windows_up_to_the_largest_and_refuses_beyond():
    """8 × 8 frame: windows up to 4·8 + 8 = 40 cells are accepted (a zoom out by 40 about (4, 4): octagons of
    exactly 40 × 40 cells; the four that reach the frame cover a 4 × 4 quadrant each, the rest fresh); 41 is
    refused."""
    x = frame_noise(4, 8, 8, seed=0, frame=0).double()
    m = identity_map(8, 8).double()
    y = warp_hiwyn_upsampled(x, 40.0 * (m - 4.0) + 4.0, seed=0, frame=1, upsample=1, **F64)
    quadrant = x[:, 4:, 4:].sum((1, 2)) / 40.0  # pixel (4, 4): cells 4–7 × 4–7 of its 1600, the rest fresh
    fresh = counter_normals(torch.arange(64), 4, stream_key(0, 1, Stream.REQUEST)).double()
    assert torch.allclose(y[:, 4, 4], quadrant + math.sqrt(1600 - 16) / 40.0 * fresh[:, 36], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="upsampled HIWYN"):
        warp_hiwyn_upsampled(x, 41.0 * (m - 4.0) + 4.0, seed=0, frame=1, upsample=1, **F64)


def test_refuses_absurd_maps_and_bad_upsampling():
    x = frame_noise(4, 8, 8, seed=0, frame=0)
    with pytest.raises(ValueError, match="upsampled HIWYN"):
        warp_hiwyn_upsampled(x, identity_map(8, 8) * 100.0, seed=0, frame=1)
    with pytest.raises(ValueError, match="upsample"):
        warp_hiwyn_upsampled(x, identity_map(8, 8), seed=0, frame=1, upsample=0)
