"""Camera Motion Flow: analytic flows against an independent float64 reference, and the node."""

import math

import numpy as np
import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow, camera_transforms
from temporal_noise.kernels.video.latent_geometry import latent_frame_count, video_frame_count
from temporal_noise.nodes.camera_motion import CameraMotionFlow
from temporal_noise.nodes.preview import PREVIEW_PIXELS, preview_size


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


def test_node_outputs_flow_and_preview(fake_comfy):
    node = CameraMotionFlow()
    inputs = CameraMotionFlow.INPUT_TYPES()["required"]
    assert all("tooltip" in options for _, options in inputs.values())
    assert CameraMotionFlow.CATEGORY == "temporal_noise/flow" and CameraMotionFlow.DESCRIPTION
    flow, preview = node.compute(frames=5, width=40, height=24, pan_x=2.0, pan_y=0.0, zoom=1.0, rotate=0.0)
    assert flow.frames == 5 and flow.frame_size == (24, 40)
    assert preview.shape == (5, 24, 40, 3)
    assert torch.equal(preview[0], torch.ones(24, 40, 3))  # no motion before the first frame: white
    assert torch.allclose(preview[1], torch.tensor([1.0, 0.25, 0.25]).expand(24, 40, 3), atol=1e-6)  # right: red


def test_node_takes_frames_and_size_from_images_or_a_latent(fake_comfy):
    node = CameraMotionFlow()
    inputs = CameraMotionFlow.INPUT_TYPES()["optional"]
    assert list(inputs) == ["images", "latent", "spatial_factor", "temporal_factor"]
    assert all("tooltip" in options for _, options in inputs.values())
    widgets = {"frames": 16, "width": 512, "height": 512, "pan_x": 1.0, "pan_y": 0.0, "zoom": 1.0, "rotate": 0.0}
    cases = [
        ({"images": torch.rand(9, 40, 56, 3)}, 9, (40, 56)),
        ({"latent": {"samples": torch.zeros(12, 4, 8, 10)}}, 12, (64, 80)),  # AnimateDiff: batch = frames
        ({"latent": {"samples": torch.zeros(1, 16, 21, 6, 10)}}, 81, (48, 80)),  # Wan 2.1: 16 ch, 4x
        ({"latent": {"samples": torch.zeros(1, 48, 3, 4, 6)}, "spatial_factor": 16}, 9, (64, 96)),  # Wan 2.2 5B
        ({"latent": {"samples": torch.zeros(1, 16, 3, 4, 4)}, "temporal_factor": 8}, 17, (32, 32)),  # Cosmos
        ({"images": torch.rand(5, 32, 48, 4), "latent": {"samples": torch.zeros(1, 16, 2, 4, 6)}}, 5, (32, 48)),
    ]
    for optional, frames, size in cases:
        flow, preview = node.compute(**widgets, **optional)
        assert (flow.frames, flow.frame_size) == (frames, size)
        assert preview.shape == (frames, *preview_size(size, frames), 3)
        assert preview.shape[0] * preview.shape[1] * preview.shape[2] <= PREVIEW_PIXELS


@pytest.mark.parametrize(("optional", "message"), [
    ({"latent": {"samples": torch.zeros(1, 20, 3, 4, 4)}}, "latent has 20 channels.*set temporal_factor"),
    ({"latent": {"samples": torch.zeros(4, 4, 8, 8)}, "temporal_factor": 4}, "latent is 4-D.*temporal_factor is 4"),
    ({"latent": {"samples": torch.zeros(1, 16, 1, 8, 8)}}, "latent gives 1 video frame"),
    ({"images": torch.rand(1, 32, 32, 3)}, "images gives 1 video frame"),
    ({"images": torch.rand(6, 32, 32, 3), "latent": {"samples": torch.zeros(1, 16, 3, 4, 4)}},
     "latent has 3 latent frames but the video's 6 frames give 2"),
    ({"pan_x": 1e39}, "pan_x must be between -1024.0 and 1024.0, got 1e\\+39"),
    ({"pan_y": float("inf")}, "pan_y must be a finite number"),
    ({"zoom": 1e-39}, "zoom must be between 0.5 and 2.0, got 1e-39"),
    ({"zoom": 1e39}, "zoom must be between 0.5 and 2.0"),
    ({"rotate": float("nan")}, "rotate must be a finite number"),
])
def test_node_errors_name_the_inputs_the_user_set(fake_comfy, optional, message):
    widgets = {"frames": 16, "width": 64, "height": 64, "pan_x": 1.0, "pan_y": 0.0, "zoom": 1.0, "rotate": 0.0}
    with pytest.raises(ValueError, match=message):
        CameraMotionFlow().compute(**{**widgets, **optional})


def test_node_at_the_widget_maxima_costs_what_its_preview_costs(fake_comfy):
    """4096 frames of 16384²: the flow is 4095 transforms, the preview 8.4 M pixels (45² a frame)."""
    flow, preview = CameraMotionFlow().compute(frames=4096, width=16384, height=16384, pan_x=1.0, pan_y=0.0,
                                               zoom=1.001, rotate=0.1)
    assert flow.frames == 4096 and flow.transforms.steps == 4095 and preview.shape == (4096, 45, 45, 3)
    assert flow.resized(8, 8).backward.shape == (4095, 2, 8, 8)
    bar = fake_comfy.ProgressBar.instances[-1]
    assert bar.total == 4096 and bar.updates[-1] == (4096, 4096)


def test_node_stops_when_interrupted(fake_comfy):
    fake_comfy.model_management.interrupted = True
    with pytest.raises(fake_comfy.InterruptProcessingException):
        CameraMotionFlow().compute(frames=8, width=64, height=64, pan_x=1.0, pan_y=0.0, zoom=1.0, rotate=0.0)


def test_video_frame_count_inverts_the_latent_frame_count():
    for factor in (1, 4, 6, 8):
        for latent_frames in range(1, 12):
            frames = video_frame_count(latent_frames, factor)
            assert latent_frame_count(frames, factor) == latent_frames
            assert latent_frame_count(frames + factor, factor) == latent_frames + 1  # the longest such video


@pytest.mark.parametrize(("motion", "message"), [
    ({"pan_x": 1e39}, r"lower pan_x / pan_y or bring zoom nearer to 1 .*pan_x 1e\+39"),
    ({"zoom": 1e-39}, r"bring zoom nearer to 1 .*zoom 1e-39"),
    ({"zoom": 1e39}, "bring zoom nearer to 1"),
])
def test_a_motion_beyond_float32_names_the_motion_parameters(motion, message):
    """Past the node's widget limits (which refuse these first), the kernel itself names what to change."""
    with pytest.raises(ValueError, match=message):
        camera_motion_flow(16, 64, 64, **motion)
