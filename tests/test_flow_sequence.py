"""The FLOW container: validation, resampling, composition over several frames."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from temporal_noise.kernels.motion.affine_steps import AffineSteps, apply_affine, invert_affine
from temporal_noise.kernels.motion.camera_motion import camera_motion_flow, camera_transforms
from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.motion.flow_sequence import FlowSequence


def test_flow_sequence_validation():
    flow = torch.zeros(2, 2, 4, 4)
    with pytest.raises(ValueError, match="same shape"):
        FlowSequence(flow, torch.zeros(3, 2, 4, 4), (4, 4))
    with pytest.raises(ValueError, match=r"backward flow contains NaN or infinite values \(first in frame 1\)"):
        FlowSequence(flow, flow.clone().index_put_((torch.tensor(1),), torch.tensor(float("inf"))), (4, 4))
    with pytest.raises(ValueError, match=r"\[frames - 1, 2, height, width\]"):
        FlowSequence(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4), (4, 4))
    with pytest.raises(ValueError, match="forward flow is empty"):
        FlowSequence(torch.zeros(0, 2, 4, 4), torch.zeros(0, 2, 4, 4), (4, 4))
    with pytest.raises(ValueError, match="occlusion must be a bool tensor of shape"):
        FlowSequence(flow, flow, (4, 4), occlusion=torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="frame_size"):
        FlowSequence(flow, flow, (0, 4))


def test_large_finite_flows_are_accepted_even_when_their_sum_overflows():
    """The finiteness check sums first; a sum of finite float32 values may overflow to inf without any
    element being infinite, and must not be reported (or crash) as a bad frame."""
    huge = torch.full((2, 2, 4, 4), 3e38)
    assert FlowSequence(huge, -huge, (4, 4)).frames == 3
    huge[1, 0, 2, 2] = float("nan")
    with pytest.raises(ValueError, match=r"forward flow contains NaN or infinite values \(first in frame 1\)"):
        FlowSequence(huge, -huge, (4, 4))


def test_resized_occlusion_keeps_pixels_mostly_occluded():
    occlusion = torch.zeros(1, 8, 8, dtype=torch.bool)
    occlusion[0, :4, :3] = True  # a 4×3 block: after halving, 2×1 whole pixels and 2 half pixels
    flow = FlowSequence(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8), (8, 8), occlusion)
    assert flow.resized(4, 4).occlusion[0].nonzero().tolist() == [[0, 0], [1, 0]]


def test_strided_translation_composes_exactly():
    strided = camera_motion_flow(17, 32, 48, pan_x=0.5, pan_y=-0.25).strided(4)
    exact = camera_motion_flow(5, 32, 48, pan_x=2.0, pan_y=-1.0)
    assert strided.frames == 5 and strided.frame_size == (32, 48)
    assert torch.equal(strided.backward, exact.backward) and torch.equal(strided.forward, exact.forward)


def test_strided_rotation_and_zoom_match_the_motion_over_the_span():
    """A camera flow composes its transforms: exact up to the border, where a dense flow's path would leave
    the frame (its samples are clamped there: off by up to 0.9 px in the node's 64² → 128² case)."""
    moving = camera_motion_flow(9, 64, 64, rotate_degrees=1.0, zoom=1.01)
    strided = moving.strided(4)
    exact = camera_motion_flow(3, 64, 64, rotate_degrees=4.0, zoom=1.01**4)
    torch.testing.assert_close(strided.backward, exact.backward, atol=1e-4, rtol=0)
    torch.testing.assert_close(strided.forward, exact.forward, atol=1e-4, rtol=0)
    dense = FlowSequence(moving.forward, moving.backward, moving.frame_size)
    inner = (..., slice(8, -8), slice(8, -8))  # the dense composition agrees away from the border
    torch.testing.assert_close(dense.strided(4).backward[inner], exact.backward[inner], atol=1e-4, rtol=0)


def compose_reference(flows: np.ndarray) -> np.ndarray:
    """Float64 composition of flows [k, 2, H, W] applied in order: p ← p + f_s(p), bilinear with clamped
    edges (scipy's map_coordinates; sample (c + ½, r + ½) is pixel (r, c))."""
    height, width = flows.shape[-2:]
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    x, y = xs.copy(), ys.copy()
    for flow in flows:
        at = [y - 0.5, x - 0.5]
        x, y = (x + ndimage.map_coordinates(flow[0], at, order=1, mode="nearest"),
                y + ndimage.map_coordinates(flow[1], at, order=1, mode="nearest"))
    return np.stack([x - xs, y - ys])


def test_strided_composes_smooth_non_rigid_flows_like_a_float64_reference():
    generator = torch.Generator().manual_seed(1)
    smooth = torch.nn.functional.avg_pool2d(torch.randn(6, 2, 40, 56, generator=generator) * 12, 9, 1, 4)
    flow = FlowSequence(smooth[:3], smooth[3:], (40, 56))
    strided = flow.strided(3)
    backward = compose_reference(flow.backward.double().numpy()[::-1])  # frame 3 → 2 → 1 → 0
    forward = compose_reference(flow.forward.double().numpy())  # frame 0 → 1 → 2 → 3
    np.testing.assert_allclose(strided.backward[0].numpy(), backward, atol=1e-4)
    np.testing.assert_allclose(strided.forward[0].numpy(), forward, atol=1e-4)


def test_resized_occlusion_does_not_depend_on_the_other_axis():
    """Rows 0 and 2 of 8 occluded, resized to 3 rows: output row 0 averages rows 0–2 (area mode takes the
    whole rows ⌊8i/3⌋ … ⌈8(i + 1)/3⌉ − 1), 2/3 occluded, and row 1 (rows 2–5) ¼, whether the width shrinks,
    stays or grows."""
    occlusion = torch.zeros(1, 8, 4, dtype=torch.bool)
    occlusion[0, 0] = occlusion[0, 2] = True
    flow = FlowSequence(torch.zeros(1, 2, 8, 4), torch.zeros(1, 2, 8, 4), (8, 4), occlusion)
    for width in (2, 4, 8):
        assert flow.resized(3, width).occlusion[0].tolist() == [[True] * width, [False] * width, [False] * width]


def test_strided_occlusion_is_the_union_along_each_path():
    """Content moves right 1 px per frame; pixel 3 of frame 1 is disoccluded. Frame 2's pixel 4 came from
    there, so it has no counterpart in frame 0 either; frame 2's own disocclusion (pixel 6) stays."""
    forward = torch.zeros(2, 2, 1, 10)
    forward[:, 0] = 1.0
    occlusion = torch.zeros(2, 1, 10, dtype=torch.bool)
    occlusion[0, 0, 3] = True
    occlusion[1, 0, 6] = True
    strided = FlowSequence(forward, -forward, (1, 10), occlusion).strided(2)
    assert strided.occlusion[0, 0].nonzero().flatten().tolist() == [4, 6]


def test_strided_occlusion_needs_more_than_half_of_the_bilinear_sample():
    """Content moves right ¼ px per frame; pixel 3 of frame 1 is disoccluded. Frame 2's pixel j comes from
    x = j + ¼ in frame 1: ¾ of pixel j and ¼ of pixel j − 1. So pixel 3 (¾ occluded) stays occluded and
    pixel 4 (¼) does not."""
    forward = torch.zeros(2, 2, 1, 10)
    forward[:, 0] = 0.25
    occlusion = torch.zeros(2, 1, 10, dtype=torch.bool)
    occlusion[0, 0, 3] = True
    strided = FlowSequence(forward, -forward, (1, 10), occlusion).strided(2)
    assert strided.occlusion[0, 0].nonzero().flatten().tolist() == [3]


def test_strided_drops_trailing_frames_and_refuses_short_flows():
    flow = camera_motion_flow(10, 8, 8, pan_x=1.0)
    assert flow.strided(4).frames == 3 and flow.strided(1) is flow
    assert camera_motion_flow(8, 8, 8, pan_x=1.0).strided(4).frames == 2  # frames 0 and 4; 5..7 drop out
    with pytest.raises(ValueError, match="has no span of 12 frames"):
        flow.strided(12)
    with pytest.raises(ValueError, match="step must be at least 1"):
        flow.strided(0)


def test_a_composition_that_overflows_names_the_flow_and_says_so():
    """Each flow is finite, but four steps of 3e38 pixels leave float32: the composed motion overflowed (not
    "contains NaN", which would blame the input)."""
    huge = torch.full((4, 2, 4, 4), 3e38)
    with pytest.raises(ValueError, match=r"^flow: its motion composed over 4 frames .* overflowed torch\.float32"):
        FlowSequence(huge, -huge, (4, 4)).strided(4)
    assert FlowSequence(huge, -huge, (4, 4)).strided(1).frames == 5  # one step alone composes nothing


def affine_reference(flow: FlowSequence, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Float64 forward and backward flows [T−1, 2, h, w] of an affine FLOW on a grid: ``S(F(S⁻¹q) − S⁻¹q)``
    at each grid centre q, S = grid / frame size, F the frames' transform (inverted with numpy)."""
    (height, width), (frame_h, frame_w) = grid, flow.frame_size
    scale = np.array([width / frame_w, height / frame_h])[:, None]
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    points = np.stack([xs.ravel(), ys.ravel()]) / scale
    forward, backward = [], []
    for matrix, offset in zip(flow.transforms.matrix.double().numpy(), flow.transforms.offset.double().numpy(),
                              strict=True):
        inverse = np.linalg.inv(matrix)
        for out, (m, b) in ((forward, (matrix, offset)), (backward, (inverse, -inverse @ offset))):
            out.append((scale * (m @ points + b[:, None] - points)).reshape(2, height, width))
    return np.stack(forward), np.stack(backward)


@pytest.mark.parametrize("grid", [(64, 64), (13, 18), (26, 36), (100, 150), (7, 120)])
def test_camera_flow_is_exact_on_any_grid_and_stride(grid):
    """Rasterised on the grid, the flow is the analytic one everywhere, border included (a dense flow
    resampled there is off by up to 0.4 px: area windows off-centre where the sizes do not divide, clamping
    at the border)."""
    flow = camera_motion_flow(9, 24, 40, pan_x=1.5, pan_y=-0.75, rotate_degrees=3.0, zoom=1.04)
    for motion in (flow, flow.strided(4)):
        on_grid = motion.resized(*grid)
        assert on_grid.grid_size == grid and on_grid.frame_size == (24, 40) and on_grid.frames == motion.frames
        forward, backward = affine_reference(motion, grid)
        np.testing.assert_allclose(on_grid.forward.numpy(), forward, atol=2e-5, rtol=0)
        np.testing.assert_allclose(on_grid.backward.numpy(), backward, atol=2e-5, rtol=0)
        np.testing.assert_array_equal(on_grid.backward_of(torch.tensor([1])).numpy(), on_grid.backward[1:2].numpy())


def test_camera_flow_at_the_frame_size_is_the_dense_flow_it_was():
    """At its own size a camera flow rasterises exactly as the dense flows it used to hold, so a FLOW built
    from them (as tests/test_seed_stability.py does) keeps its noise."""
    flow = camera_motion_flow(4, 24, 40, pan_x=1.5, rotate_degrees=3.0, zoom=1.04)
    matrix, offset = camera_transforms(3, pan_x=1.5, rotate_degrees=3.0, zoom=1.04, height=24, width=40)
    inverse, inverse_offset = invert_affine(matrix, offset)
    centres = identity_map(24, 40).expand(3, 2, 24, 40)
    assert torch.equal(flow.forward, apply_affine(centres, matrix, offset) - centres)
    assert torch.equal(flow.backward, apply_affine(centres, inverse, inverse_offset) - centres)


def test_affine_flows_are_checked_and_immutable():
    flow = camera_motion_flow(3, 8, 8, pan_x=1.0)
    assert flow.to("cpu").transforms is not None and flow.occlusion is None and flow.device.type == "cpu"
    with pytest.raises(AttributeError, match="immutable"):
        flow.frame_size = (4, 4)
    bad = AffineSteps(torch.eye(2).expand(2, 2, 2), torch.tensor([[0.0, 0.0], [float("nan"), 0.0]]))
    with pytest.raises(ValueError, match="forward flow contains NaN or infinite values"):
        FlowSequence.from_transforms(bad, (8, 8))
    singular = AffineSteps(torch.zeros(1, 2, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="backward flow"):
        FlowSequence.from_transforms(singular, (8, 8))
    with pytest.raises(ValueError, match="grid_size must be two positive integers"):
        flow.resized(0, 4)
