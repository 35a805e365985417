"""Preview images: the flow colour wheel and the noise colouring."""

import math

import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.kernels.motion.flow_sequence import FlowSequence
from temporal_noise.nodes.camera_motion import CameraMotionFlow
from temporal_noise.nodes.preview import flow_colour, flow_preview, noise_colour


def test_flow_colour_against_angle_formula():
    """rgb_c = 1 − S·(1 − cos(θ − φ_c))/2 with θ the on-screen angle (counter-clockwise, y up), S = speed/max,
    φ = 0°, 120°, 240°."""
    flow = torch.randn(2, 2, 5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    colour = flow_colour(flow, max_magnitude=3.0)
    theta = torch.atan2(-flow[:, 1], flow[:, 0])
    speed = (flow.norm(dim=1) / 3.0).clamp(max=1)
    for channel, degrees in enumerate((0, 120, 240)):
        expected = 1 - speed * (1 - torch.cos(theta - math.radians(degrees))) / 2
        torch.testing.assert_close(colour[..., channel], expected.clamp(0, 1))


def test_still_is_white_and_the_fastest_motion_sets_the_scale():
    flow = torch.zeros(2, 2, 3, 3)
    assert torch.equal(flow_colour(flow), torch.ones(2, 3, 3, 3))
    flow[1, 0] = 4.0
    flow[1, 0, 0, 0] = 2.0
    colour = flow_colour(flow)
    assert torch.allclose(colour[1, 1, 1], torch.tensor([1.0, 0.25, 0.25]))
    assert torch.allclose(colour[1, 0, 0], torch.tensor([1.0, 0.625, 0.625]))


def test_noise_colour_maps_two_and_a_half_sigma_to_the_range_and_repeats_pixels():
    noise = torch.tensor([[[[-2.5, 0.0], [1.25, 5.0]]]]).expand(1, 3, 2, 2)
    colour = noise_colour(noise, 4, 4)
    assert colour.shape == (1, 4, 4, 3)
    assert colour[0, :2, :2].eq(0.0).all() and colour[0, :2, 2:].eq(0.5).all()
    assert colour[0, 2:, :2].eq(0.75).all() and colour[0, 2:, 2:].eq(1.0).all()
    grey = noise_colour(torch.zeros(2, 1, 2, 2), 2, 2)
    assert grey.eq(0.5).all() and grey.shape == (2, 2, 2, 3)


def test_flow_preview_is_frame_aligned_at_the_frame_size():
    backward = torch.zeros(2, 2, 4, 4)
    backward[1, 0] = -1.0  # frame 2 came from the left: its content moved right
    occlusion = torch.zeros(2, 4, 4, dtype=torch.bool)
    occlusion[1, :, :2] = True
    preview, mask = flow_preview(FlowSequence(-backward, backward, (8, 8), occlusion))
    assert preview.shape == (3, 8, 8, 3) and mask.shape == (3, 8, 8)
    assert preview[:2].eq(1.0).all() and torch.allclose(preview[2], torch.tensor([1.0, 0.25, 0.25]).expand(8, 8, 3))
    assert mask[:2].eq(0).all() and mask[2, :, :4].eq(1).all() and mask[2, :, 4:].eq(0).all()
    subset, _ = flow_preview(FlowSequence(-backward, backward, (8, 8), occlusion), torch.tensor([2]))
    assert torch.equal(subset, preview[2:])


def test_flow_preview_shows_only_the_backward_flow():
    """The colour of frame t is the motion that arrived at its pixels (−backward flow), which differs from the
    forward flow at the same pixels as soon as the motion turns (here 20° a frame)."""
    flow = camera_motion_flow(3, 32, 32, rotate_degrees=20.0)
    preview, _ = flow_preview(flow)
    backward_only = FlowSequence(-flow.backward, flow.backward, flow.frame_size)
    assert torch.equal(preview, flow_preview(backward_only)[0])
    assert not torch.allclose(flow_preview(FlowSequence(flow.forward, -flow.forward, flow.frame_size))[0], preview,
                              atol=0.02)


def test_noise_blocks_cover_each_noise_pixels_footprint():
    """Three noise pixels over five preview pixels: each preview pixel shows the noise pixel under its centre
    (a, a, b, c, c), so the blocks stay centred on the latent grid."""
    noise = torch.tensor([-2.5, 0.0, 2.5]).reshape(1, 1, 1, 3)
    colour = noise_colour(noise, 1, 5)
    assert colour[0, 0, :, 0].tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_camera_motion_node_preview_shows_the_directions_of_its_tooltips(fake_comfy):
    """pan_y > 0 moves the picture down: (½, 0.067, 0.933) on the colour wheel. A counter-clockwise turn moves
    the top of the picture left (cyan) and the bottom right (red), at ~71 % of the corners' speed."""
    node = CameraMotionFlow()
    flow, preview = node.compute(frames=2, width=64, height=64, pan_x=0.0, pan_y=2.0, zoom=1.0, rotate=0.0)
    assert torch.allclose(flow.forward[:, 1], torch.full((1, 64, 64), 2.0)) and flow.forward[:, 0].abs().max() < 1e-5
    down = torch.tensor([0.5, 1 - (1 + math.sqrt(3) / 2) / 2, 1 - (1 - math.sqrt(3) / 2) / 2])
    assert torch.allclose(preview[1, 32, 32], down, atol=1e-4)
    _, preview = node.compute(frames=2, width=64, height=64, pan_x=0.0, pan_y=0.0, zoom=1.0, rotate=5.0)
    top, bottom = preview[1, 0, 32], preview[1, 63, 32]
    assert top[0] < 0.35 and top[1] > 0.75 and torch.isclose(top[1], top[2], atol=0.06)
    assert bottom[0] > 0.99 and bottom[1] < 0.5 and torch.isclose(bottom[1], bottom[2], atol=0.06)


def test_flows_near_the_largest_float_keep_the_preview_finite_and_in_range():
    """|f| of ±3e38 components overflows float32; the colour is scale-free, so such a flow must look like the same
    flow at any scale: right and down at full speed, still pixels white."""
    big = torch.finfo(torch.float32).max * 0.9
    backward = torch.zeros(1, 2, 2, 2)
    backward[0, :, 0, 0] = torch.tensor([-big, -big])  # arrived moving right and down
    backward[0, :, 1, 1] = torch.tensor([big, -big])  # arrived moving left and down
    preview, _ = flow_preview(FlowSequence(-backward, backward, (2, 2)))
    assert torch.isfinite(preview).all() and preview.min() >= 0 and preview.max() <= 1
    expected, _ = flow_preview(FlowSequence(-backward / big, backward / big, (2, 2)))
    torch.testing.assert_close(preview, expected)
    assert preview[1, 0, 1].eq(1).all() and preview[0].eq(1).all()
    saturated = flow_colour(backward[:, :, :1, :1], max_magnitude=3.0)  # far faster than 3: full saturation
    assert torch.equal(saturated, flow_colour(-torch.ones(1, 2, 1, 1), max_magnitude=1.0))
