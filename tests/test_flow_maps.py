"""Map and flow conventions: centres, x first, backward maps, occlusion, resizing."""

import numpy as np
import pytest
import torch

from temporal_noise.kernels.motion.flow_maps import (
    check_field,
    identity_map,
    map_from_backward_flow,
    map_from_forward_flow,
    occlusion_from_flows,
    resize_flow,
    sample_bilinear,
)


def test_identity_map_is_pixel_centres_x_first():
    m = identity_map(3, 4)
    assert m.shape == (2, 3, 4)
    assert m[0, 2, 3] == 3.5 and m[1, 2, 3] == 2.5  # (c + ½, r + ½) of row 2, column 3
    assert torch.equal(m[0, 0], torch.tensor([0.5, 1.5, 2.5, 3.5]))


def test_maps_from_flows():
    flow = torch.zeros(2, 4, 5)
    flow[0] = 1.5  # everything moved 1.5 px to the right
    forward = map_from_forward_flow(flow)
    backward = map_from_backward_flow(-flow)
    assert torch.equal(forward, backward)
    assert torch.equal(forward[0, 0], torch.tensor([-1.0, 0.0, 1.0, 2.0, 3.0]))


def test_sample_bilinear_reads_values_at_centres_and_between():
    field = torch.arange(12.0).reshape(1, 3, 4)
    assert torch.allclose(sample_bilinear(field, identity_map(3, 4)), field, atol=1e-5)
    point = torch.tensor([[[2.0]], [[1.0]]])  # between columns 1 and 2 and rows 0 and 1
    assert sample_bilinear(field, point).item() == pytest.approx(np.mean([1, 2, 5, 6]))


def test_occlusion_marks_the_disoccluded_strip_of_a_moving_square():
    # frame t-1: a square at columns 4..7 moves right by 3; background static
    height, width = 12, 16
    forward = torch.zeros(2, height, width)
    forward[0, 4:8, 4:8] = 3.0
    backward = torch.zeros(2, height, width)
    backward[0, 4:8, 7:11] = -3.0  # the square's new place points back
    occluded = occlusion_from_flows(forward, backward)
    # columns 4..6 of rows 4..7 were covered by the square and are now background: backward flow 0
    # points to the square in t-1 whose forward flow is 3: inconsistent
    assert occluded[4:8, 4:7].all()
    assert not occluded[0:3].any() and not occluded[4:8, 7:11].any()


def test_resize_flow_scales_vectors():
    flow = torch.ones(2, 8, 12)
    flow[1] *= 2
    small = resize_flow(flow, 4, 3)
    assert small.shape == (2, 4, 3)
    assert torch.allclose(small[0], torch.full((4, 3), 0.25)) and torch.allclose(small[1], torch.full((4, 3), 1.0))
    assert torch.allclose(resize_flow(small, 8, 12)[0], torch.ones(8, 12))


def test_resize_flow_averages_a_shrinking_axis_and_interpolates_a_growing_one():
    """9 × 4 → 3 × 8. Along the width (growing) x interpolates bilinearly (align_corners=False: sample j reads
    column (j + ½)/2 − ½, clamped at the edges) and doubles; along the height (shrinking) y averages rows in
    threes and is divided by 3, so a spike in row 0 gives 1/3·(3 + 0 + 0)/3 (a bilinear sample would read
    row 1 alone: 0)."""
    spike = torch.zeros(9, 4)
    spike[0] = 3.0
    resized = resize_flow(torch.stack((torch.arange(4.0).expand(9, 4), spike)), 3, 8)
    expected_x = 2.0 * torch.tensor([0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0])
    torch.testing.assert_close(resized[0], expected_x.expand(3, 8), atol=1e-6, rtol=0)
    torch.testing.assert_close(resized[1], torch.tensor([1 / 3, 0.0, 0.0])[:, None].expand(3, 8), atol=1e-6, rtol=0)


@pytest.mark.parametrize(("field", "message"), [
    (torch.zeros(3, 4, 4), "2, H, W"),
    (torch.zeros(2, 0, 4), "empty"),
    (torch.full((2, 4, 4), float("nan")), "NaN"),
    (torch.full((2, 4, 4), float("inf")), "infinite"),
    (torch.zeros(2, 4, 4, dtype=torch.int64), "floating"),
])
def test_check_field_errors_name_the_input(field, message):
    with pytest.raises(ValueError, match=message):
        check_field(field, "my_map")
    with pytest.raises(ValueError, match="my_map"):
        check_field(field, "my_map")


def test_a_translation_is_consistent_up_to_the_frame_edge():
    """A uniform shift of 10.25 px: target column j comes from x = j − 9.75, so columns 0..9 leave the frame
    and every other column is consistent, column 10 included (its source x = 0.25 lies in the outer half of
    pixel 0, where the forward flow is read with clamped edges, not faded towards zero)."""
    forward = torch.zeros(2, 3, 32)
    forward[0] = 10.25
    occluded = occlusion_from_flows(forward, -forward)
    assert torch.equal(occluded, (torch.arange(32) < 10).expand(3, 32))


NAN = float("nan")


@pytest.mark.parametrize(("field", "points", "message"), [
    (torch.zeros(1, 3, 4), torch.full((3, 4), 1.5), r"points must have shape \[\.\.\., 2, H, W\]"),  # rank 2
    (torch.zeros(1, 3, 4), torch.tensor([[[NAN]], [[1.0]]]), "points contains NaN"),  # was a border value
    (torch.zeros(1, 3, 4), torch.tensor([[[float("inf")]], [[1.0]]]), "points contains NaN or infinite"),
    (torch.zeros(1, 3, 4), torch.ones(2, 1, 1, dtype=torch.int64), "points must be a floating-point"),
    (torch.zeros(1, 3, 4), torch.ones(2, 1, 1, device="meta"), "points is on the meta device"),
    (torch.zeros(1, 3, 4, device="meta"), torch.ones(2, 1, 1), "field is on the meta device"),
    (torch.zeros(3, 4), torch.ones(2, 1, 1), r"field must be a floating-point tensor \[\.\.\., K, H, W\]"),
    (torch.zeros(1, 0, 4), torch.ones(2, 1, 1), "field has no values"),
    (torch.zeros(2, 1, 3, 4), torch.ones(3, 2, 1, 1), "points .* do not broadcast to the field"),
])
def test_sample_bilinear_refuses_what_it_would_read_wrongly(field, points, message):
    with pytest.raises(ValueError, match=message):
        sample_bilinear(field, points)


def test_sample_bilinear_broadcasts_points_over_the_fields_leading_axes():
    field = torch.arange(24.0).reshape(2, 1, 3, 4)
    assert torch.allclose(sample_bilinear(field, identity_map(3, 4)), field, atol=1e-5)


@pytest.mark.parametrize(("alpha", "beta", "name"), [(NAN, 0.5, "alpha"), (0.01, NAN, "beta"),
                                                     (-1.0, 0.5, "alpha"), (0.01, float("inf"), "beta")])
def test_occlusion_thresholds_must_be_finite_and_non_negative(alpha, beta, name):
    """A NaN threshold compares false everywhere: nothing would be marked occluded, silently."""
    flow = torch.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match=f"{name} must be a finite number >= 0"):
        occlusion_from_flows(flow, flow, alpha=alpha, beta=beta)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: identity_map(2.5, 3), "height must be an integer, got 2.5"),
    (lambda: resize_flow(torch.zeros(2, 4, 4), 4, 3.0), "width must be an integer, got 3.0"),
])
def test_sizes_must_be_integers(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_flow_that_overflows_when_scaled_up_names_the_flow_and_says_so():
    """A finite flow near float32's largest value doubles past it on a grid twice as fine: that is an overflow
    of the scaling, not NaN in the input."""
    huge = torch.full((2, 4, 4), 3e38)
    with pytest.raises(ValueError, match=r"^flow: its displacements .* overflowed torch\.float32 when scaled from "
                                         r"its 4x4 grid to 8x8"):
        resize_flow(huge, 8, 8)


def test_flows_near_the_largest_float_shrink_without_overflow():
    """Area averaging sums before it divides: four pixels of 3e38 overflowed to inf. The mean of a power-of-two
    fraction is exact, so the result is the same as at any scale."""
    huge = torch.full((2, 4, 4), 3e38)
    huge[1, :, :2] = -3e38
    expected = resize_flow(huge / 2**20, 2, 2) * 2**20
    assert torch.equal(resize_flow(huge, 2, 2), expected)
    assert torch.equal(expected[0], torch.full((2, 2), 1.5e38))
    assert torch.equal(expected[1, :, 0], torch.full((2,), -1.5e38))
