"""Video noise from a FLOW (the nodes' path): VAE time steps, settings, the backward map, the degradation mask."""

import numpy as np
import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow, camera_transforms
from temporal_noise.kernels.motion.flow_maps import map_from_backward_flow
from temporal_noise.kernels.video.latent_geometry import pool_to_latent
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


def analytic_maps(frames: int, frame_size: tuple[int, int], grid: tuple[int, int], step: int, **motion) -> torch.Tensor:
    """Float64 backward maps [windows, 2, h, w] of a camera motion over every ``step`` frames on a grid:
    q ↦ S·F⁻¹(S⁻¹q), F the composed forward transform of the window (numpy), S = grid / frame size."""
    matrix, offset = camera_transforms(frames - 1, height=frame_size[0], width=frame_size[1], **motion)
    matrix, offset = matrix.double().numpy(), offset.double().numpy()
    scale = np.array([grid[1] / frame_size[1], grid[0] / frame_size[0]])[:, None]
    ys, xs = np.mgrid[0 : grid[0], 0 : grid[1]] + 0.5
    points = np.stack([xs.ravel(), ys.ravel()]) / scale
    maps = []
    for start in range(0, frames - step, step):
        total, shift = np.eye(2), np.zeros(2)
        for t in range(start, start + step):
            total, shift = matrix[t] @ total, matrix[t] @ shift + offset[t]
        inverse = np.linalg.inv(total)
        maps.append((scale * (inverse @ points - (inverse @ shift)[:, None])).reshape(2, *grid))
    return torch.from_numpy(np.stack(maps))


@pytest.mark.parametrize("method", ["grid", "particle"])
def test_camera_noise_is_warped_along_the_analytic_motion(method):
    """The nodes' path with a camera flow (9 frames of 40 × 24, temporal factor 4, a 26 × 36 warp grid: one axis
    shrinking, the other growing) gives the noise of float64 analytic maps, up to float32 rounding of the
    maps (1.3e-3 at most here). The dense flow it used to be, composed and resampled, was up to 0.39 px off
    at the border and 0.1 px inside (off-centre area windows), which changed about 60 % of the latent pixels
    by up to 2.9 σ."""
    motion = {"pan_x": 1.5, "rotate_degrees": 3.0, "zoom": 1.04}
    flow = camera_motion_flow(9, 24, 40, **motion)
    maps = analytic_maps(9, (24, 40), (26, 36), 4, **motion)
    expected = pool_to_latent(warp_noise_sequence(maps.float(), 4, seed=11, method=method), 2)
    noise = video_noise(flow, 4, (13, 18), seed=11, method=method, internal_resolution=2, temporal_factor=4)
    torch.testing.assert_close(noise, expected, atol=5e-3, rtol=0)
