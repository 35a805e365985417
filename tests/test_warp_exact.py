"""Exact properties of the warps: copies, shifts, areas against float64 clipping, the bridge's law."""

import importlib
import math
from collections import defaultdict

import numpy as np
import pytest
import torch
from warp_maps import REVERSED_LOBE_BELOW, affine_map, centre_octagon_map, rough_map, wiggly_map
from warp_reference import clipped_area, polygon_area, reference_areas, reference_octagons

from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.warp.bridge import Requests, SourceGrid, bridge_split
from temporal_noise.kernels.warp.counter_rng import Stream, counter_normals, frame_noise, stream_key
from temporal_noise.kernels.warp.grid import GRID, grid_requests, octagons, warp_grid
from temporal_noise.kernels.warp.hiwyn import hiwyn_requests, warp_hiwyn
from temporal_noise.kernels.warp.particle import PARTICLE, particle_requests, warp_particle
from temporal_noise.kernels.warp.polygon import cell_areas
from temporal_noise.kernels.warp.workspace import Workspace

grid_module = importlib.import_module("temporal_noise.kernels.warp.grid")  # the module, not the function
WARPS = {"particle": warp_particle, "grid": warp_grid,
         "hiwyn4": lambda *a, **k: warp_hiwyn(*a, upsample=4, **k)}


def targets_of(requests: Requests, n_targets: int) -> torch.Tensor:
    """The target of every request (implicit in the fixed [K, P] block)."""
    if requests.per_target is None:
        return requests.target
    fixed = torch.arange(n_targets).repeat(requests.per_target)
    return fixed if requests.target is None else torch.cat((fixed, requests.target))


def frame_pixels(source: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Frame pixel index y·W + x of SourceGrid cells, −1 for cells outside the frame."""
    grid = SourceGrid(height, width)
    x = source % grid.padded_width - grid.PAD
    y = source // grid.padded_width - grid.PAD
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    return torch.where(inside, y * width + x, -1)


def area_table(requests: Requests, height: int, width: int) -> dict[tuple[int, int], float]:
    """{(target, frame pixel): area}, outside requests summed under −1 (same-size frames)."""
    table = defaultdict(float)
    targets = targets_of(requests, height * width).tolist()
    sources = frame_pixels(requests.source, height, width).tolist()
    for j, i, a in zip(targets, sources, requests.area.tolist(), strict=True):
        table[(j, i)] += a
    return table


@pytest.mark.parametrize("method", WARPS)
def test_identity_map_copies_bit_for_bit(method):
    noise = frame_noise(4, 12, 9, seed=0, frame=0)
    assert torch.equal(WARPS[method](noise, identity_map(12, 9), seed=1, frame=1), noise)
    batch = torch.stack((noise, -noise))
    assert torch.equal(WARPS[method](batch, identity_map(12, 9), seed=1, frame=1), batch)


@pytest.mark.parametrize("method", WARPS)
@pytest.mark.parametrize(("height", "width", "dx", "dy"), [(10, 13, -3, 2), (1, 9, 2, 0), (9, 1, 0, -4), (1, 1, 0, 0)])
def test_whole_pixel_translation_is_an_exact_shift_with_fresh_border(method, height, width, dx, dy):
    noise = frame_noise(4, height, width, seed=0, frame=0)
    shifted = identity_map(height, width) + torch.tensor([dx, dy], dtype=torch.float32)[:, None, None]
    out = WARPS[method](noise, shifted, seed=5, frame=1)
    kept = (slice(max(0, -dy), height - max(0, dy)), slice(max(0, -dx), width - max(0, dx)))
    source = (slice(max(0, dy), height - max(0, -dy)), slice(max(0, dx), width - max(0, -dx)))
    assert torch.equal(out[:, kept[0], kept[1]], noise[:, source[0], source[1]])
    # the border is fresh noise: the slot-0 normals (counter 9j) of the frame's request stream
    border = torch.ones(height, width, dtype=torch.bool)
    border[kept] = False
    targets = torch.nonzero(border.reshape(-1)).squeeze(1)
    if targets.numel():
        fresh = counter_normals(targets * 9, 4, stream_key(5, 1, Stream.REQUEST))
        assert torch.equal(out.reshape(4, -1)[:, targets], fresh)


@pytest.mark.parametrize("method", WARPS)
@pytest.mark.parametrize("channels", [1, 3, 5])
def test_odd_channel_counts_match_the_next_even_count(method, channels):
    """Channels 2m and 2m + 1 share the normals of one hash, so C odd channels warp exactly as the first C
    of C + 1 (the last pair's spare half is never seen); a rotating zoom-in with a border to refill."""
    noise = frame_noise(channels + 1, 14, 11, seed=4, frame=0)
    m = affine_map(14, 11, [[0.7, -0.3], [0.25, 0.75]], (0.4, -0.2))
    full = WARPS[method](noise, m, seed=6, frame=2)
    assert torch.equal(WARPS[method](noise[:channels], m, seed=6, frame=2), full[:channels])


@pytest.mark.parametrize("variant", [PARTICLE, GRID], ids=["particle", "grid"])
def test_a_channel_never_reaches_its_pair_partner(variant):
    """Channels 2m and 2m + 1 travel as one complex number that is only ever added, so even an infinite
    value (the warps reject such noise; a step does not check) stays in its own channel."""
    noise = frame_noise(4, 9, 8, seed=1, frame=0)
    noise[1, 4, 4] = float("inf")
    m = affine_map(9, 8, [[0.9, 0.1], [-0.1, 0.9]], (0.3, 0.2))
    out = variant.step(noise, m, None, request_key=1, pad_key=2, workspace=Workspace()).view(4, 9, 8)
    assert torch.isfinite(out[[0, 2, 3]]).all()
    assert not torch.isfinite(out[1]).all()


@pytest.mark.parametrize("method", ["particle", "grid"])
def test_a_workspace_reused_for_another_frame_shape_keeps_no_stale_values(method):
    """3 × 7 and 7 × 3 frames have padded grids of the same size: a warp that sends requests outside the
    frame must see zeros there, not the previous frame's values."""
    warp, ws = WARPS[method], Workspace()
    warp(torch.full((4, 3, 7), 100.0), identity_map(3, 7), seed=0, frame=1, workspace=ws)
    noise, m = frame_noise(4, 7, 3, seed=2, frame=0), identity_map(7, 3) + 2.5
    assert torch.equal(warp(noise, m, seed=0, frame=1, workspace=ws), warp(noise, m, seed=0, frame=1))


@pytest.mark.parametrize(("shift", "exact"), [((0.25, -0.625), True), ((0.3, 0.1), False)])
def test_fractional_translation_grid_equals_particle(shift, exact):
    """Unit squares shifted by a fraction overlap 4 cells with exactly the bilinear weights."""
    height, width = 16, 20
    noise = frame_noise(4, height, width, seed=0, frame=0)
    m = identity_map(height, width) + torch.tensor(shift)[:, None, None]
    grid = warp_grid(noise, m, seed=9, frame=3)[:, 2:-2, 2:-2]
    particle = warp_particle(noise, m, seed=9, frame=3)[:, 2:-2, 2:-2]
    if exact:  # dyadic fractions: every area and sum exact in float32
        assert torch.equal(grid, particle)
    else:
        assert torch.allclose(grid, particle, atol=2e-5)
    ws = Workspace()
    g = area_table(grid_requests(m, None, 4, ws), height, width)
    p = area_table(particle_requests(m, None, 4, Workspace()), height, width)
    interior = [(j, i) for (j, i) in p if 2 <= j // width < height - 2 and 2 <= j % width < width - 2]
    assert max(abs(g.get(key, 0.0) - p[key]) for key in interior) < 1e-6


def test_grid_areas_match_float64_clipping_on_an_injective_map():
    height, width = 9, 11
    m = wiggly_map(height, width)
    table = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    octs = reference_octagons(m.numpy())
    worst_area, worst_total = 0.0, 0.0
    for r in range(height):
        for c in range(width):
            j = r * width + c
            expected = reference_areas(octs[r, c], height, width)
            total = polygon_area([tuple(p) for p in octs[r, c]])
            got = {i: a for (t, i), a in table.items() if t == j and i >= 0}
            if not expected:  # entirely outside the frame: fresh noise, one outside request
                assert not got and table[(j, -1)] == 1.0
                continue
            for i in set(expected) | set(got):
                worst_area = max(worst_area, abs(got.get(i, 0.0) - expected.get(i, 0.0)))
            outside = table.get((j, -1), 0.0)
            worst_total = max(worst_total, abs(sum(got.values()) + outside - total))
    assert worst_area < 2e-5, worst_area  # |P_j ∩ A_i|, float32 against float64
    assert worst_total < 5e-5, worst_total  # Σ_i a_ij (outside part included) = shoelace |P_j|


def clipped_cell_areas(vertices: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """[rows, cols, N] areas of polygons [2, K, N] in the cells (row v, column u) of a window, by float64
    clipping."""
    return torch.tensor([[[clipped_area(list(zip(*polygon.tolist(), strict=True)), u, v)
                           for polygon in vertices.permute(2, 0, 1)] for u in range(cols)]
                         for v in range(rows)], dtype=torch.float64)


@pytest.mark.parametrize(("rows", "cols"), [(2, 2), (3, 3), (2, 3), (3, 2), (1, 2), (2, 1), (1, 1)])
def test_window_areas_match_clipping_for_any_polygon(rows, cols):
    """Cell areas of rows × cols windows (the contained route, and the route that takes the lattice lines on the
    window's border too) against Sutherland–Hodgman clipping in float64: star-shaped octagons about a
    point near the window's centre, self-intersecting vertex orders (winding-weighted areas, negative parts
    included), and vertices snapped to half-integers so that edges lie on the lattice lines or run parallel
    to them; polygons that spill out of the window (only the uncontained route) lose their outside parts."""
    g = torch.Generator().manual_seed(7)
    angles = torch.linspace(0, 2 * torch.pi, 9)[:-1] + torch.rand(200, 1, generator=g)
    radius = 0.2 + 0.7 * torch.rand(200, 8, generator=g)
    centre = 0.95 + 0.1 * torch.rand(200, 2, 1, generator=g)  # inside [0.05, 1.95]²
    star = centre + radius[:, None] * torch.stack((angles.cos(), angles.sin()), 1)
    tangled = 2 * torch.rand(200, 2, 8, generator=g)
    snapped = (4 * torch.rand(200, 2, 8, generator=g)).round() / 2  # x, y ∈ {0, ½, 1, 3/2, 2}
    scale = torch.tensor([cols / 2, rows / 2], dtype=torch.float64)[:, None, None]
    vertices = torch.cat((star, tangled, snapped)).double().permute(1, 2, 0) * scale  # [2, 8, N] in the window
    clipped = clipped_cell_areas(vertices, rows, cols)
    assert (clipped < -0.01).any()  # some tangles run against the orientation in a cell
    for contained in (True, False):
        areas = cell_areas(vertices, rows, cols, contained=contained)
        assert torch.allclose(areas, clipped, rtol=0.0, atol=1e-12), (contained, (areas - clipped).abs().max())
    spilling = (3 * torch.rand(200, 2, 8, generator=g).double() - 1).permute(1, 2, 0) * scale  # 1½ windows wide
    clipped = clipped_cell_areas(spilling, rows, cols)
    areas = cell_areas(spilling, rows, cols)
    assert torch.allclose(areas, clipped, rtol=0.0, atol=1e-12), (areas - clipped).abs().max()


def test_edges_a_hair_off_the_lattice_lines_keep_float64_accuracy():
    """Vertices 10⁻⁹–10⁻⁶ off the half-integers: edges nearly on or parallel to the lattice lines (|Δx| or
    |Δy| far below any tolerance but not 0) still get their exact shares, in both routes (float64 against
    clipping to 1e-12)."""
    g = torch.Generator().manual_seed(5)
    snapped = (4 * torch.rand(100, 2, 8, generator=g, dtype=torch.float64)).round() / 2
    hair = torch.randint(0, 2, (100, 2, 8), generator=g) * torch.randn(100, 2, 8, generator=g, dtype=torch.float64)
    vertices = (snapped + 10 ** torch.empty(100, 1, 1, dtype=torch.float64).uniform_(-9, -6, generator=g) * hair)
    vertices = vertices.clamp(0.0, 2.0).permute(1, 2, 0)  # [2, 8, N], in a 2 × 2 window
    clipped = clipped_cell_areas(vertices, 2, 2)
    for contained in (True, False):
        areas = cell_areas(vertices, 2, 2, contained=contained)
        assert torch.allclose(areas, clipped, rtol=0.0, atol=1e-12), (contained, (areas - clipped).abs().max())


def test_large_window_areas_keep_float32_accuracy():
    """A strong contraction's octagons span a 24 × 24 window: float32 cell areas against float64 clipping
    stay within 1e-5 (the inclusion–exclusion of quadrant areas, which grow with the window, lost 6e-5
    here; the per-edge combination loses about the window's side times ε)."""
    g = torch.Generator().manual_seed(3)
    unit = torch.tensor([[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [0.5, 1], [0, 1], [0, 0.5]],
                        dtype=torch.float64) - 0.5
    angle = 6.28 * torch.rand(16, 1, 1, generator=g, dtype=torch.float64)
    rotation = torch.cat((torch.cat((angle.cos(), -angle.sin()), 2), torch.cat((angle.sin(), angle.cos()), 2)), 1)
    vertices = ((unit @ rotation.transpose(1, 2)) * 16.9 + 12.0).permute(2, 1, 0)  # [2, 8, 16], in [0, 24]²
    areas = cell_areas(vertices.float(), 24, 24).double()
    error = (areas - clipped_cell_areas(vertices, 24, 24)).abs().max()
    assert error < 1e-5, error
    # a 128 × 128 window (too many cells for Python clipping): against the float64 areas, which match
    # clipping to 1e-12 in the tests above (shares rounded at each corner, not overlapped, lost 5.6e-5 here)
    angle = torch.linspace(0, 2 * torch.pi, 9, dtype=torch.float64)[:-1] + 0.3
    octagon = torch.stack((64 + 57.6 * angle.cos(), 64 + 57.6 * angle.sin()))[:, :, None]
    error = (cell_areas(octagon.float(), 128, 128).double() - cell_areas(octagon, 128, 128)).abs().max()
    assert error < 1e-5, error


def test_only_cells_an_octagon_reaches_get_requests():
    """Octagons in 3 × 3 windows (a rotating zoom-out): a cell the octagon does not reach has area 0 in
    float64 clipping, and its float32 area (inclusion–exclusion rounding, about 1e-7) makes no request."""
    height, width = 14, 15
    m = affine_map(height, width, [[1.3, -0.2], [0.25, 1.2]], (0.37, -0.61))
    requests = grid_requests(m, None, 4, Workspace())
    assert requests.target is not None and requests.target.numel() > 100  # 3 × 3 windows
    table = area_table(requests, height, width)
    octs = reference_octagons(m.numpy())
    exact = [reference_areas(octs[j // width, j % width], height, width) for j in range(height * width)]
    spurious = [(j, i) for (j, i), area in table.items() if i >= 0 and area > 0 and exact[j].get(i, 0.0) == 0.0]
    assert not spurious, spurious[:5]


def test_rounding_threshold_follows_the_dtype():
    """A shift of 2e-8 px gives every target a sliver of area 2e-8 in the next column: real in float64,
    where the rounding threshold is 8 ε = 1.8e-15, so it is requested, not dropped as float32 rounding."""
    height, width = 6, 7
    m = identity_map(height, width, dtype=torch.float64) + torch.tensor([2e-8, 0.0], dtype=torch.float64)[:, None, None]
    table = area_table(grid_module.polygon_requests(m, None, grid_module.cell_areas, Workspace()), height, width)
    slivers = [table.get((r * width + c, r * width + c + 1), 0.0) for r in range(height) for c in range(width - 1)]
    assert all(abs(area - 2e-8) < 1e-14 for area in slivers), slivers[:3]


def test_float32_slivers_above_eight_epsilon_are_requested():
    """A float32 shift of 3·10⁻⁶ px gives every target a sliver of about that area in the next column: above
    the threshold 8 ε = 9.5·10⁻⁷, so requested (to the float32 resolution of the coordinates, 4.8·10⁻⁷)."""
    height, width = 4, 5
    m = identity_map(height, width) + torch.tensor([3e-6, 0.0])[:, None, None]
    table = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    slivers = [table.get((r * width + c, r * width + c + 1), 0.0) for r in range(height) for c in range(width - 1)]
    assert all(2e-6 < area < 4e-6 for area in slivers), slivers


def test_octagons_follow_the_documented_interpolation():
    m = wiggly_map(6, 7)
    got = octagons(m).permute(2, 1, 0).reshape(6, 7, 8, 2).double().numpy()
    corners = np.stack(np.meshgrid(np.arange(7), np.arange(6), indexing="xy"), -1)[:, :, None, :]
    assert np.abs(got + corners - reference_octagons(m.numpy())).max() < 1e-5


def test_octagons_of_large_displacements_follow_the_documented_interpolation():
    """Displacements of up to 10⁵ px (far below the ±10³⁰ clamp) are interpolated and extrapolated as is."""
    g = torch.Generator().manual_seed(11)
    m = identity_map(5, 6, dtype=torch.float64) + 1e5 * (2 * torch.rand(2, 5, 6, generator=g, dtype=torch.float64) - 1)
    got = octagons(m).permute(2, 1, 0).reshape(5, 6, 8, 2).numpy()
    corners = np.stack(np.meshgrid(np.arange(6), np.arange(5), indexing="xy"), -1)[:, :, None, :]
    assert np.abs(got + corners - reference_octagons(m.numpy())).max() < 1e-8


@pytest.mark.parametrize("method", ["grid", "hiwyn4"])
def test_alternating_displacements_near_the_float32_limit_stay_finite(method):
    """Rows 0–2 map to ±0.75 of float32's largest value in a checkerboard: the extrapolated and summed
    displacements of opposite signs would overflow to ±inf and give inf − inf = NaN without the clamp to
    ±10³⁰. Row 1's inner octagons are their own pixels (every corner and midpoint is the mean of centres of
    opposite displacements: 0); the other octagons of rows 0–2 reach far outside (fresh noise or the particle
    footprint clamped outside); rows 4.. copy their own pixels."""
    m = identity_map(6, 6)
    sign = ((torch.arange(3)[:, None] + torch.arange(6)) % 2 * 2 - 1).float()
    m[:, :3] = 0.75 * torch.finfo(torch.float32).max * sign
    noise = frame_noise(4, 6, 6, seed=0, frame=0)
    out = WARPS[method](noise, m, seed=0, frame=1)
    assert torch.isfinite(out).all()
    assert torch.equal(out[:, 4:], noise[:, 4:])
    assert torch.equal(out[:, 1, 1:5], noise[:, 1, 1:5])
    moved = torch.ones(3, 6, dtype=torch.bool)
    moved[1, 1:5] = False
    assert not torch.isclose(out[:, :3][:, moved], noise[:, :3][:, moved]).any()


@pytest.mark.parametrize("matrix", [[[0.8, -0.3], [0.3, 0.8]], [[0.6, 0.0], [0.0, 0.6]], [[2.5, 0.0], [0.0, 1.7]],
                                    [[1.0, 0.6], [0.0, 1.0]], [[7.3, 0.0], [0.0, 7.3]]])
def test_affine_maps_give_parallelograms_of_area_det(matrix, monkeypatch):
    """Rotation, zoom in/out, shear and a strong zoom-out whose octagons span ~8 cells (second pass)."""
    monkeypatch.setattr(grid_module, "_CHUNK_ELEMENTS", 4096)  # several chunks in the second pass
    height, width = 24, 26
    m = affine_map(height, width, matrix, (0.31, -0.17))
    vertices = octagons(m).permute(2, 1, 0).double()  # [P, 8, 2]
    a = torch.tensor(matrix, dtype=torch.float64)
    unit = torch.tensor([[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [0.5, 1], [0, 1], [0, 0.5]], dtype=torch.float64)
    expected_edges = (unit.roll(-1, 0) - unit) @ a.t()
    assert torch.allclose(vertices.roll(-1, 1) - vertices, expected_edges.expand_as(vertices), atol=1e-4)
    table = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    totals = torch.zeros(height * width, dtype=torch.float64)
    in_frame = torch.zeros(height * width, dtype=torch.bool)
    for (j, i), area in table.items():
        totals[j] += area
        in_frame[j] |= i >= 0
    det = abs(float(torch.det(a)))
    assert in_frame.sum() >= 12
    assert torch.allclose(totals[in_frame], torch.full_like(totals[in_frame], det), rtol=2e-5, atol=2e-5)
    assert (totals[~in_frame] == 1.0).all()  # entirely outside: fresh noise


def test_strong_contraction_areas_are_exact_in_the_second_pass(monkeypatch):
    monkeypatch.setattr(grid_module, "_CHUNK_ELEMENTS", 2048)
    height, width = 12, 12
    m = affine_map(height, width, [[4.1, 1.3], [-0.9, 3.7]], (0.2, 0.4))
    table = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    octs = reference_octagons(m.numpy())
    worst, wide = 0.0, 0
    for r in range(height):
        for c in range(width):
            expected = reference_areas(octs[r, c], height, width)
            wide += len(expected) > 9
            for i in set(expected) | {i for (t, i) in table if t == r * width + c and i >= 0}:
                worst = max(worst, abs(table.get((r * width + c, i), 0.0) - expected.get(i, 0.0)))
    assert wide >= 4  # octagons in more than a 3 × 3 window went through the chunked second pass
    assert worst < 1e-4, worst


@pytest.mark.parametrize("shape", ["twice_around", "figure_eight", "reversed_lobe_outside"])
def test_self_intersecting_octagons_take_the_particle_footprint(shape):
    """A square wound twice (winding 2: a cell area above 1, the total positive), an unbalanced figure eight
    (a lobe of reversed orientation: a negative cell area, the total positive) and a figure eight spanning 5
    cells (second pass) whose reversed lobe lies below the 3 × 3 frame (every cell in the frame in [0, 1],
    but more area in the frame than the total) are folds: the centre pixel's requests are its particle
    footprint (here all of cell (1, 1)), not its winding-weighted areas."""
    low, high = 0.1, 1.9
    if shape == "twice_around":
        corners = [(low, low), (high, low), (high, high), (low, high)]
        vertices = corners + corners
    elif shape == "figure_eight":  # top lobe x ∈ [0.1, 1.9], bottom lobe x ∈ [0.7, 1.3], crossing at x = 1
        vertices = [(low, low), (1.0, low), (high, low), (1.0, 1.0), (0.7, high), (1.0, high), (1.3, high), (1.0, 1.0)]
    else:
        vertices = REVERSED_LOBE_BELOW
    m = centre_octagon_map(vertices)
    octagon = reference_octagons(m.numpy())[1, 1]
    assert np.abs(octagon - np.array(vertices)).max() < 1e-12
    cells = [clipped_area([tuple(p) for p in octagon], u, v) for u in range(3) for v in range(3)]
    total = polygon_area([tuple(p) for p in octagon])
    assert total > 0.1  # not a collapse
    if shape == "twice_around":
        assert max(cells) > 1.1
    elif shape == "figure_eight":
        assert min(cells) < -0.01
    else:
        assert 0.0 <= min(cells) and max(cells) <= 1.0 and sum(cells) > total + 0.5
    table = area_table(grid_requests(m, None, 4, Workspace()), 3, 3)
    got = {i: a for (j, i), a in table.items() if j == 4 and a != 0.0}
    assert got == {4: 1.0}, got


@pytest.mark.parametrize("name", ["strong_zoom_out", "rotated_zoom_out", "rough"])
def test_requests_of_positive_area_never_share_a_counter(name):
    """Two requests with one counter would draw the same normals (correlated targets): the fixed slots
    9j + slot, the other cells of 3-cell windows 9j + u + 3v and the second pass 9P + j·P + i must differ."""
    height, width = 20, 20
    m = {"strong_zoom_out": affine_map(height, width, [[4.3, 0.0], [0.0, 4.3]]),  # second pass
         "rotated_zoom_out": affine_map(height, width, [[1.3, -0.2], [0.25, 1.2]], (0.37, -0.61)),  # 3-cell windows
         "rough": rough_map(height, width, 3.0)}[name]
    requests = grid_requests(m, None, 4, Workspace())
    fixed = (torch.tensor(requests.slots)[:, None] + 9 * torch.arange(height * width)).reshape(-1)
    counters = fixed if requests.counter is None else torch.cat((fixed, requests.counter))
    used = counters[requests.area > 0]
    assert requests.counter is not None and used.unique().numel() == used.numel()


@pytest.mark.parametrize("name", ["rotated_zoom_out", "strong_zoom_out"])
def test_request_counters_follow_the_documented_layout(name):
    """Explicit requests: a cell (u, v) of a 3-cell window at the octagon's origin (floor of its vertices)
    has counter 9j + u + 3v (never a fixed slot), a second-pass cell in the frame 9P + j·P + i (i the frame
    pixel), and a second-pass octagon's part outside the frame is one request outside with counter 9j."""
    height, width = 14, 15
    n = height * width
    matrix = {"rotated_zoom_out": [[1.3, -0.2], [0.25, 1.2]], "strong_zoom_out": [[4.3, 0.4], [-0.3, 4.1]]}[name]
    m = affine_map(height, width, matrix, (0.37, -0.61))
    requests = grid_requests(m, None, 4, Workspace())
    explicit = requests.area.numel() - requests.target.numel()
    target, counter = requests.target, requests.counter
    source = frame_pixels(requests.source[explicit:], height, width)
    positive = requests.area[explicit:] > 0
    target, counter, source = target[positive], counter[positive], source[positive]
    octs = reference_octagons(m.numpy()).reshape(n, 8, 2)
    origin = np.floor(octs.min(1)).astype(int)  # (x, y) of every target's window
    second = torch.from_numpy((np.ceil(octs.max(1)) - origin).max(1) > 3)[target]  # octagons of the second pass
    assert second.all() if name == "strong_zoom_out" else not second.any()
    for j, c, i in zip(target[~second].tolist(), counter[~second].tolist(), source[~second].tolist(), strict=True):
        assert c // 9 == j and c % 9 not in (0, 1, 3, 4), (j, c)
        if i >= 0:
            u, v = i % width - origin[j, 0], i // width - origin[j, 1]
            assert c % 9 == u + 3 * v, (j, c, i, u, v)
    target, counter, source = target[second], counter[second], source[second]
    lone = counter < 9 * n
    assert torch.equal(counter[lone], 9 * target[lone]) and (source[lone] < 0).all()
    assert target[lone].unique().numel() == target[lone].numel() >= (10 if name == "strong_zoom_out" else 0)
    assert torch.equal(counter[~lone], 9 * n + target[~lone] * n + source[~lone]) and (source[~lone] >= 0).all()


def test_second_pass_chunks_stay_within_their_budget(monkeypatch):
    """Every second-pass call of the area function holds at most _CHUNK_ELEMENTS (vertex, cell) pairs,
    unless it is a single octagon: windows of every shape and size mixed (a rough map)."""
    calls = []

    def recording(vertices, rows, cols, contained=False):
        if not contained:
            calls.append((rows, cols, vertices.shape[-1]))
        return cell_areas(vertices, rows, cols, contained)

    monkeypatch.setattr(grid_module, "_CHUNK_ELEMENTS", 1 << 14)
    grid_module.polygon_requests(rough_map(48, 48, 6.0), None, recording, Workspace())
    assert len(calls) > 3
    assert all(8 * rows * cols * n <= 1 << 14 or n == 1 for rows, cols, n in calls), calls


@pytest.mark.parametrize("matrix", [[[0.93, -0.21], [0.24, 0.88]], [[1.7, 0.3], [-0.2, 1.5]],
                                    [[-1.0, 0.0], [0.0, 1.0]]])
def test_dense_runs_give_the_same_requests_as_selected_octagons(matrix, monkeypatch):
    """The 2 × 2 areas over contiguous runs (grid) equal those of the selected octagons only (HIWYN's way),
    with octagons outside the frame, in 3 × 3 windows and folded (a mirrored map) mixed in: the same
    requests, areas to float32 rounding (strided and gathered operands may take different SIMD paths)."""
    monkeypatch.setattr(grid_module, "_POLYGON_CHUNK", 37)  # several runs, none aligned with a row
    height, width = 13, 15
    m = affine_map(height, width, matrix, (0.37, -0.61))
    dense = grid_module.polygon_requests(m, None, grid_module.cell_areas, Workspace(), dense_runs=True)
    selected = grid_module.polygon_requests(m, None, grid_module.cell_areas, Workspace(), dense_runs=False)
    for name in ("source", "target", "counter"):
        a, b = getattr(dense, name), getattr(selected, name)
        assert (a is None and b is None) or torch.equal(a, b), name
    assert torch.allclose(dense.area, selected.area, rtol=0.0, atol=1e-6)
    if matrix[0][0] > 1.0:
        assert dense.target is not None  # the expanding map has octagons in 3 × 3 windows


@pytest.mark.parametrize("method", ["particle", "grid"])
def test_cache_sized_chunks_give_the_warp_of_a_single_pass(method, monkeypatch):
    """The CPU's chunked bridge (fixed block by target ranges, extra requests by ranges, normals keyed per
    chunk) equals one pass over all requests (as on CUDA), up to the order of the ζ scatter-adds."""
    bridge_module = importlib.import_module("temporal_noise.kernels.warp.bridge")
    height, width = 23, 29
    noise = frame_noise(4, height, width, seed=0, frame=0)
    m = affine_map(height, width, [[1.3, -0.2], [0.25, 1.2]], (0.37, -0.61))  # 3 × 3 windows: extra requests
    monkeypatch.setattr(bridge_module, "CPU_CHUNK", 1 << 30)
    single = WARPS[method](noise, m, seed=4, frame=2)
    monkeypatch.setattr(bridge_module, "CPU_CHUNK", 300)  # 75 targets per chunk, not a divisor of a row
    chunked = WARPS[method](noise, m, seed=4, frame=2)
    assert torch.allclose(chunked, single, rtol=0.0, atol=1e-5)


def test_bridge_linear_part_is_the_area_weighted_mean():
    """Y(x) − Y(0) (same seed) = Σ_i w_ij x_i / √(Σ_i r_ij²), recomputed from the requests in float64."""
    height, width = 10, 12
    m = wiggly_map(height, width)
    x = frame_noise(4, height, width, seed=2, frame=0)
    n = height * width
    for warp, build, normalise in ((warp_grid, grid_requests, False), (warp_particle, particle_requests, True)):
        diff = (warp(x, m, seed=1, frame=1) - warp(torch.zeros_like(x), m, seed=1, frame=1)).reshape(4, -1)
        req = build(m, None, 4, Workspace())
        src = frame_pixels(req.source, height, width).numpy()
        src[src < 0] = n  # one "outside" cell
        tgt, area = targets_of(req, n).numpy(), req.area.double().numpy()
        totals = np.bincount(src, weights=area, minlength=n + 1)
        scale = 1 / np.maximum(totals, 1e-300) if normalise else 1 / np.maximum(totals, 1.0)
        w = np.where(src == n, 0.0, area * scale[src])
        norm = np.sqrt(np.bincount(tgt, weights=np.where(src == n, area, w), minlength=n))
        xs = np.concatenate((x.reshape(4, -1).double().numpy(), np.zeros((4, 1))), 1)  # outside: x = 0
        expected = np.stack([np.bincount(tgt, weights=w * xs[c, src], minlength=n) for c in range(4)]) / norm
        assert np.abs(diff.double().numpy() - expected).max() < 2e-5


@pytest.mark.parametrize("normalise", [False, True])
def test_bridge_increments_have_the_brownian_bridge_law(normalise):
    """One source split in areas a = (0.2, 0.3, 0.1) (+ remainder 0.4, or normalised to 1): 40000 copies."""
    copies, x = 40_000, 0.7
    a = torch.tensor([0.2, 0.3, 0.1])
    w = a / a.sum() if normalise else a
    cells = SourceGrid(1, copies).index(torch.arange(copies), torch.zeros(copies, dtype=torch.int64))
    requests = Requests(source=cells.repeat_interleave(3), area=a.repeat(copies), target=torch.arange(3 * copies),
                        counter=torch.arange(3 * copies))
    values = torch.full((1, 1, copies), x)
    y = bridge_split(values, requests, 3 * copies, request_key=stream_key(1, 1, Stream.REQUEST),
                     pad_key=None if normalise else stream_key(1, 1, Stream.PAD), normalise_sources=normalise)
    increments = (y.reshape(copies, 3).double() * w.sqrt().double()).numpy()  # I_k = √w_k·Y, one channel
    se = 4.5 / np.sqrt(copies)
    assert np.abs(increments.mean(0) - w.numpy() * x).max() < se * 0.6
    cov = np.cov(increments.T)
    expected = np.diag(w.numpy()) - np.outer(w.numpy(), w.numpy())
    assert np.abs(cov - expected).max() < se * 0.6, (cov, expected)


def test_hiwyn_coefficients_and_values_converge_to_the_grid():
    height, width = 12, 12
    m = wiggly_map(height, width).double()
    grid = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    x = frame_noise(4, height, width, seed=3, frame=0).double()
    reference = warp_grid(x, m, seed=4, frame=1, dtype=torch.float64)
    errors = []
    for upsample in (2, 4, 8, 16, 32):
        hiwyn = area_table(hiwyn_requests(m, None, 4, Workspace(), upsample=upsample), height, width)
        coefficient = max(abs(hiwyn.get(k, 0.0) - grid.get(k, 0.0)) for k in set(grid) | set(hiwyn))
        values = warp_hiwyn(x, m, seed=4, frame=1, upsample=upsample, dtype=torch.float64)
        errors.append((upsample, coefficient, float((values - reference).square().mean().sqrt())))
    print("\nHIWYN(N) -> grid: N, max |a_ij(N) - a_ij|, RMS(Y_N - Y_grid)")
    for upsample, coefficient, rms in errors:
        print(f"  {upsample:3d}  {coefficient:.5f}  {rms:.5f}")
    coefficients = [e[1] for e in errors]
    rms = [e[2] for e in errors]
    assert coefficients[-1] < 0.02 and rms[-1] < 0.03
    assert coefficients[-1] < coefficients[1] / 4 and rms[-1] < rms[1] / 4


@pytest.mark.parametrize(("zoom", "exact"), [(0.02, True), (0.005, False)])
def test_the_fold_tolerance_separates_strong_zoom_ins_from_collapses(zoom, exact):
    """A zoom in by 50 gives octagons of area 4·10⁻⁴, above the fold tolerance 10⁻⁴: exact areas, which sum
    to det A per target. A zoom in by 200 (area 2.5·10⁻⁵) takes the particle footprint: weights summing to 1."""
    height, width = 6, 7
    m = affine_map(height, width, [[zoom, 0.0], [0.0, zoom]], (0.3, -0.2))
    table = area_table(grid_requests(m, None, 4, Workspace()), height, width)
    totals = torch.zeros(height * width, dtype=torch.float64)
    for (j, _), area in table.items():
        totals[j] += area
    expected = zoom * zoom if exact else 1.0
    assert torch.allclose(totals, torch.full_like(totals, expected), rtol=1e-4, atol=0.0), totals[:4]


def test_absurd_windows_start_beyond_four_frames_plus_eight_cells():
    """On an 8 × 8 frame the largest window is 4·8 + 8 = 40 cells. A zoom out by 40 about the frame's centre
    (4, 4), a pixel corner, maps pixel corners to integers, so its octagons span exactly 40 cells: still exact (the four
    octagons that reach the frame cover a 4 × 4 quadrant each, the rest of their 1600 outside). A zoom out by
    50 spans more: every octagon takes the particle footprint, the requests of the particle variant."""
    size = 8
    m = affine_map(size, size, [[40.0, 0.0], [0.0, 40.0]])
    table = area_table(grid_requests(m, None, 4, Workspace()), size, size)
    for r in range(size):
        for c in range(size):
            j = r * size + c
            got = {i: a for (t, i), a in table.items() if t == j and a > 0}
            if r in (3, 4) and c in (3, 4):
                rows = range(0, 4) if r == 3 else range(4, 8)
                cols = range(0, 4) if c == 3 else range(4, 8)
                expected = {y * size + x: 1.0 for y in rows for x in cols} | {-1: 1600.0 - 16.0}
                assert got.keys() == expected.keys(), (r, c)
                assert all(abs(got[i] - a) < 1e-3 for i, a in expected.items()), (r, c, got)
            else:
                assert got == {-1: 1.0}, (r, c, got)  # entirely outside: fresh noise
    m = affine_map(size, size, [[50.0, 0.0], [0.0, 50.0]], (0.3, 0.1))
    grid = area_table(grid_requests(m, None, 4, Workspace()), size, size)
    particle = area_table(particle_requests(m, None, 4, Workspace()), size, size)
    assert {k for k, a in grid.items() if a > 0} == {k for k, a in particle.items() if a > 0}
    assert max(abs(grid[k] - particle[k]) for k in particle) < 1e-6


def grid_steps_with_two_pad_keys(shift, size):
    """Grid steps of one frame shifted by ``shift`` with pad keys 2 and 3 ([C, size, size] each), and the
    first column / row that a positive shift leaves partly uncovered."""
    noise = frame_noise(4, size, size, seed=0, frame=0)
    m = identity_map(size, size) + torch.tensor(shift)[:, None, None]
    out = [GRID.step(noise, m, None, request_key=1, pad_key=key, workspace=Workspace()).view(4, size, size)
           for key in (2, 3)]
    edge = torch.zeros(size, size, dtype=torch.bool)
    edge[:, 0] = shift[0] > 0
    edge[0, :] |= shift[1] > 0
    return out, edge


@pytest.mark.parametrize("shift", [(5e-4, 3e-4), (2e-3, 0.0), (0.0, 4e-5)])
def test_only_remainders_above_the_rounding_threshold_draw_pad_noise(shift):
    """A shift of a fraction of a pixel leaves that fraction of the first column's (row's) cells unrequested:
    kept when above 10⁻⁵ (the cell's pad normal is read by the targets of that column or row), while the
    float32 rounding left in fully covered cells draws none (the other targets do not depend on the pad key)."""
    out, edge = grid_steps_with_two_pad_keys(shift, 12)
    assert torch.equal(out[0][:, ~edge], out[1][:, ~edge])
    assert not torch.isclose(out[0][:, edge], out[1][:, edge], rtol=0.0, atol=1e-7).any()


@pytest.mark.parametrize(("shift", "area"), [((0.7, 0.0), 0.3), ((0.0, 0.45), 0.55)])
def test_the_remainder_of_a_cell_is_its_pad_normal_times_the_uncovered_root(shift, area):
    """A shift by a fraction f requests only 1 − f of every first-column (row) cell, from its own target:
    that target's Y changes with the pad key by exactly −(1 − f)·√f·(z̃_A − z̃_B), z̃ the normals of counter
    i (the pixel index) of the two PAD streams; nothing else changes (weights sum to 1 in every target)."""
    size = 10
    out, edge = grid_steps_with_two_pad_keys(shift, size)
    pixels = torch.nonzero(edge.reshape(-1)).squeeze(1)
    pad = [counter_normals(pixels, 4, key).double() for key in (2, 3)]
    expected = -area * math.sqrt(1 - area) * (pad[0] - pad[1])
    assert torch.allclose((out[0] - out[1])[:, edge].double(), expected, rtol=0.0, atol=1e-5)
    assert torch.equal(out[0][:, ~edge], out[1][:, ~edge])


@pytest.mark.parametrize(("excess", "normalised"), [(4e-6, False), (-3e-6, False), (1e-4, True), (0.3, True)])
def test_only_overlaps_beyond_the_rounding_threshold_are_normalised(excess, normalised):
    """Grid variant, float64: two targets request 0.5 and 0.5 + excess of one cell. An excess within 10⁻⁵ is
    rounding of a fully covered cell: the weights stay the areas (linear part √a·x); beyond it the cell is
    split as the particle variant splits it (weights a/s, linear part √(a/s)·x), to float64 rounding."""
    grid = SourceGrid(1, 1)
    area = torch.tensor([0.5, 0.5 + excess], dtype=torch.float64)
    cell = grid.index(torch.zeros(2, dtype=torch.int64), torch.zeros(2, dtype=torch.int64))
    requests = Requests(source=cell, area=area, target=torch.arange(2), counter=torch.arange(2))
    x = torch.tensor([[[1.0]], [[0.0]]], dtype=torch.float64)  # channel 0: x = 1, channel 1: x = 0 (its pair)

    def split(values: torch.Tensor) -> torch.Tensor:
        return bridge_split(values, requests, 2, request_key=5, pad_key=6, normalise_sources=False)

    linear = (split(x) - split(torch.zeros_like(x)))[0]
    weights = area / area.sum() if normalised else area
    assert torch.allclose(linear, weights.sqrt(), rtol=1e-12, atol=0.0), (linear, weights.sqrt())
