"""Video noise from a FLOW (the nodes' path): VAE time steps, settings, the backward map, the degradation mask."""

import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.kernels.motion.flow_maps import map_from_backward_flow
from temporal_noise.kernels.video.warped_noise import DEGRADATION_INDEX, video_noise
from temporal_noise.kernels.warp.counter_rng import frame_noise
from temporal_noise.kernels.warp.sequence import warp_noise_sequence


def test_video_of_exactly_one_vae_time_step_gives_one_latent_frame():
    """k frames of a causal VAE with temporal factor k encode to (k − 1)//k + 1 = 1 latent frame: frame 0."""
    flow = camera_motion_flow(4, 16, 16, pan_x=1.0)
    noise = video_noise(flow, 3, (16, 16), seed=5, temporal_factor=4)
    assert torch.equal(noise, frame_noise(3, 16, 16, seed=5, frame=0)[None])
    assert video_noise(flow, 3, (16, 16), seed=5, temporal_factor=3).shape == (2, 3, 16, 16)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"temporal_factor": 0}, "internal_resolution and temporal_factor must be at least 1"),
    ({"internal_resolution": 0}, "internal_resolution and temporal_factor must be at least 1"),
    ({"degradation": 1.5, "degradation_mask": torch.zeros(3, 1, 16, 16)}, r"degradation must be in \[0, 1\]"),
    ({"degradation": -0.5}, r"degradation must be in \[0, 1\]"),
])
def test_video_noise_refuses_bad_settings_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        video_noise(camera_motion_flow(3, 16, 16, pan_x=1.0), 2, (16, 16), seed=0, **kwargs)


def test_video_noise_warps_with_the_exact_backward_map():
    """Under rotation and zoom the backward flow differs from the negated forward flow (the anchors'
    approximation): the video noise must be the sequence warped by the backward map, bit for bit."""
    flow = camera_motion_flow(3, 16, 16, rotate_degrees=12.0, zoom=1.15)
    expected = warp_noise_sequence(map_from_backward_flow(flow.backward), 2, seed=3)
    assert torch.equal(video_noise(flow, 2, (16, 16), seed=3), expected)


def test_degradation_mask_is_compressed_in_time_like_the_noise():
    """Temporal factor 2 keeps video frames 0, 2, 4: γ of latent frame i is the mask of video frame 2i."""
    flow = camera_motion_flow(5, 16, 16, pan_x=1.0)
    on_kept = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0])[:, None, None, None].expand(5, 1, 16, 16)
    fresh = torch.stack([frame_noise(2, 16, 16, seed=9, frame=t, index=DEGRADATION_INDEX) for t in range(3)])
    warped = video_noise(flow, 2, (16, 16), seed=9, temporal_factor=2)
    assert torch.equal(video_noise(flow, 2, (16, 16), seed=9, temporal_factor=2, degradation=1.0,
                                   degradation_mask=on_kept), fresh)
    assert torch.equal(video_noise(flow, 2, (16, 16), seed=9, temporal_factor=2, degradation=1.0,
                                   degradation_mask=1.0 - on_kept), warped)
