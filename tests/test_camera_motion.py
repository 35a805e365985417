"""Camera Motion Flow: analytic flows against an independent float64 reference, and the node."""

import math

import numpy as np
import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow, camera_transforms
from temporal_noise.nodes.camera_motion import CameraMotionFlow


def reference_flows(height, width, pan_x, pan_y, zoom, degrees):
    """Forward and backward flow [2, H, W] in float64 from 3×3 homogeneous matrices.

    Rotation is built in y-up maths coordinates (counter-clockwise positive) and conjugated by the y flip.
    """
    flip = np.diag([1.0, -1.0, 1.0])
    angle = math.radians(degrees)
    rotation = np.array([[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]])
    about_centre = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1.0]])
    back = np.linalg.inv(about_centre)
    shift = np.array([[1, 0, pan_x], [0, 1, pan_y], [0, 0, 1.0]])
    forward = shift @ back @ np.diag([zoom, zoom, 1.0]) @ flip @ rotation @ flip @ about_centre
    backward = np.linalg.inv(forward)
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    points = np.stack([xs, ys, np.ones_like(xs)]).reshape(3, -1)
    flows = []
    for matrix in (forward, backward):
        flows.append(((matrix @ points)[:2] - points[:2]).reshape(2, height, width))
    return flows


@pytest.mark.parametrize(("pan_x", "pan_y", "zoom", "degrees"), [
    (3.5, -2.25, 1.0, 0.0), (0.0, 0.0, 1.05, 0.0), (0.0, 0.0, 1.0, 7.0), (1.5, 4.0, 0.97, -3.0),
])
def test_flows_match_homogeneous_reference(pan_x, pan_y, zoom, degrees):
    height, width = 48, 80
    flow = camera_motion_flow(3, height, width, pan_x=pan_x, pan_y=pan_y, zoom=zoom, rotate_degrees=degrees)
    forward, backward = reference_flows(height, width, pan_x, pan_y, zoom, degrees)
    assert flow.forward.shape == flow.backward.shape == (2, 2, height, width)
    assert flow.frame_size == (height, width) and flow.occlusion is None
    for t in range(2):
        np.testing.assert_allclose(flow.forward[t].double().numpy(), forward, atol=2e-4)
        np.testing.assert_allclose(flow.backward[t].double().numpy(), backward, atol=2e-4)


def test_translation_is_exact_and_signs_follow_the_tooltips():
    flow = camera_motion_flow(2, 8, 8, pan_x=2.0, pan_y=-1.0)
    assert torch.equal(flow.forward[0, 0], torch.full((8, 8), 2.0))  # picture moves right
    assert torch.equal(flow.forward[0, 1], torch.full((8, 8), -1.0))  # picture moves up
    assert torch.equal(flow.backward, -flow.forward)


def test_rotation_is_counter_clockwise_on_screen_and_zoom_enlarges():
    # 90° counter-clockwise: the pixel right of the centre goes to above the centre (y points down).
    flow = camera_motion_flow(2, 9, 9, rotate_degrees=90.0)
    right_of_centre = torch.tensor([8.5, 4.5])
    assert torch.allclose(right_of_centre + flow.forward[0, :, 4, 8], torch.tensor([4.5, 0.5]), atol=1e-5)
    zoomed = camera_motion_flow(2, 9, 9, zoom=2.0)
    assert torch.allclose(right_of_centre + zoomed.forward[0, :, 4, 8], torch.tensor([12.5, 4.5]), atol=1e-5)


def test_per_frame_schedules_are_used_in_order():
    flow = camera_motion_flow(4, 4, 4, pan_x=[1.0, 2.0, 3.0])
    assert flow.forward[:, 0, 0, 0].tolist() == [1.0, 2.0, 3.0]
    matrix, _ = camera_transforms(3, zoom=[1.0, 2.0, 0.5], height=4, width=4)
    assert matrix[:, 0, 0].tolist() == [1.0, 2.0, 0.5]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"frames": 1}, "frames must be at least 2"),
    ({"zoom": 0.0}, "zoom must be positive"),
    ({"pan_x": [1.0, 2.0]}, "pan_x must be one value or one per frame step"),
    ({"rotate_degrees": float("nan")}, "rotate_degrees must be finite"),
    ({"height": 0}, "height and width must be positive"),
])
def test_bad_camera_parameters_raise(kwargs, message):
    arguments = {"frames": 4, "height": 8, "width": 8, **kwargs}
    with pytest.raises(ValueError, match=message):
        camera_motion_flow(arguments.pop("frames"), arguments.pop("height"), arguments.pop("width"), **arguments)


def test_resizing_a_camera_flow_equals_the_flow_computed_at_that_size():
    """Camera flows are affine in the position, so bilinear resampling is exact away from the border, and
    the same motion at twice the size is twice the pan with the same zoom and rotation."""
    small = camera_motion_flow(2, 32, 48, pan_x=1.5, pan_y=-0.5, zoom=1.02, rotate_degrees=2.0)
    large = camera_motion_flow(2, 64, 96, pan_x=3.0, pan_y=-1.0, zoom=1.02, rotate_degrees=2.0)
    for resized, exact, margin in ((small.resized(64, 96), large, 2), (large.resized(32, 48), small, 2)):
        inner = (..., slice(margin, -margin), slice(margin, -margin))
        torch.testing.assert_close(resized.forward[inner], exact.forward[inner], atol=1e-4, rtol=0)
        torch.testing.assert_close(resized.backward[inner], exact.backward[inner], atol=1e-4, rtol=0)


def test_node_outputs_flow_and_preview():
    node = CameraMotionFlow()
    inputs = CameraMotionFlow.INPUT_TYPES()["required"]
    assert all("tooltip" in options for _, options in inputs.values())
    assert CameraMotionFlow.CATEGORY == "temporal_noise/flow" and CameraMotionFlow.DESCRIPTION
    flow, preview = node.compute(frames=5, width=40, height=24, pan_x=2.0, pan_y=0.0, zoom=1.0, rotate=0.0)
    assert flow.frames == 5 and flow.frame_size == (24, 40)
    assert preview.shape == (5, 24, 40, 3)
    assert torch.equal(preview[0], torch.ones(24, 40, 3))  # no motion before the first frame: white
    assert torch.allclose(preview[1], torch.tensor([1.0, 0.25, 0.25]).expand(24, 40, 3), atol=1e-6)  # right: red
