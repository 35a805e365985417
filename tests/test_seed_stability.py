"""The noise of a seed is pinned: a change in the kernels that changes it must be deliberate.

ComfyUI users save workflows with their seeds and expect the same video from them after an update. These
checksums fix, for each method, the first frame and three warped frames of a small map with rotation, zoom,
content entering from outside the frame and, in the last step, a strong zoom-out (50 octagons span more
than three cells: the grid's second pass; 346 leave the frame), and the nodes' whole path from a FLOW to
latent noise. They hold to float32 rounding of log, cos and sin on any CPU and thread count. A failing
test prints the new checksums: paste them here only when the change of noise is intended, and say so in
the release notes (saved seeds then give other noise).
"""

import math

import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.motion.flow_sequence import FlowSequence
from temporal_noise.kernels.video.warped_noise import video_noise
from temporal_noise.kernels.warp.sequence import warp_noise_sequence

SEED = 20261124
SIZE = (18, 22)  # height, width
CHANNELS = 4
TOLERANCE = 1e-4  # a checksum of a frame's values weighted in [-1, 1]: far above float32 rounding

EXPECTED = {
    "grid": (-14.325336, 3.421306, -26.946351, -1.707582, -24.572018, -13.040387, 25.668103, -12.092204),
    "particle": (-14.325336, 3.421306, -27.081728, -5.755363, -25.651371, -9.338843, 33.036025, -3.873936),
}
VIDEO_EXPECTED = {
    "grid": (9.048307, -29.333442, -12.812881, 15.773912, -13.022254, -34.909644),
    "particle": (9.048307, -29.333442, -9.42783, 11.927578, -2.730724, -21.682092),
}


def scaled_rotation(scale: float, angle: float) -> torch.Tensor:
    """The backward map p ↦ scale·R(angle)·(p − centre) + centre, [2, H, W] (written here, not taken from a
    shared test helper, so that the pinned inputs never change with one)."""
    height, width = SIZE
    centre = torch.tensor([width / 2, height / 2])[:, None, None]
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    x, y = identity_map(height, width) - centre
    return torch.stack((c * x - s * y, s * x + c * y)) + centre


def checksums(frames: torch.Tensor) -> tuple[float, ...]:
    """Σ y·sin(0.7k + 0.3) and Σ y·cos(1.1k + 0.2) over each frame's values k, in float64: two weightings, so
    that no value goes unseen where one weight is near 0."""
    flat = frames.double().flatten(1)
    k = torch.arange(flat.shape[1], dtype=torch.float64)
    weights = torch.stack((torch.sin(0.7 * k + 0.3), torch.cos(1.1 * k + 0.2)), 1)
    return tuple(round(float(v), 6) for v in (flat @ weights).flatten())


@pytest.mark.parametrize("method", EXPECTED)
def test_a_seed_gives_the_noise_it_gave_before(method):
    maps = torch.stack((scaled_rotation(0.97, 0.07), scaled_rotation(1.05, -0.04), scaled_rotation(3.5, 0.2)))
    frames = warp_noise_sequence(maps, CHANNELS, seed=SEED, method=method)
    found = checksums(frames)
    assert found == pytest.approx(EXPECTED[method], abs=TOLERANCE), f"new checksums for {method}: {found}"


@pytest.mark.parametrize("method", VIDEO_EXPECTED)
def test_a_seed_gives_the_video_noise_it_gave_before(method):
    """The nodes' path (:func:`video_noise`): 9 frames at temporal factor 4, the flow's 24 × 40 grid resized
    to the 26 × 36 warp grid (one axis shrinking, the other growing), an occluded block, pooling by 2 and a
    degradation ramp."""
    flow = camera_motion_flow(9, 24, 40, pan_x=1.5, rotate_degrees=3.0, zoom=1.04)
    occlusion = torch.zeros(8, 24, 40, dtype=torch.bool)
    occlusion[:, 5:11, 20:29] = True
    flow = FlowSequence(flow.forward, flow.backward, flow.frame_size, occlusion)
    ramp = torch.linspace(0, 1, 40).expand(9, 1, 24, 40)
    noise = video_noise(flow, CHANNELS, (13, 18), seed=SEED, method=method, internal_resolution=2,
                        temporal_factor=4, degradation=0.25, degradation_mask=ramp)
    found = checksums(noise)
    assert found == pytest.approx(VIDEO_EXPECTED[method], abs=TOLERANCE), f"new checksums for {method}: {found}"
