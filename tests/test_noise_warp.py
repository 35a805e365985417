"""Sequences: frame 0 from the seed, frame t the warp of frame t − 1, occlusion, reproducibility."""

import pytest
import torch

from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.warp.counter_rng import frame_noise
from temporal_noise.kernels.warp.grid import warp_grid
from temporal_noise.kernels.warp.particle import warp_particle
from temporal_noise.kernels.warp.sequence import warp_noise_sequence

WARPS = {"grid": warp_grid, "particle": warp_particle}


def rotating_maps(steps, size, angle=0.07, zoom=0.97):
    m = identity_map(size, size)
    c, s = torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))
    a = torch.stack((torch.stack((c, -s)), torch.stack((s, c)))) * zoom
    rotated = torch.einsum("ij,jhw->ihw", a, m - size / 2) + size / 2
    return rotated[None].expand(steps, 2, size, size).contiguous()


@pytest.mark.parametrize("method", WARPS)
def test_sequence_is_frame_noise_then_successive_warps(method):
    maps = rotating_maps(4, 20)
    occlusion = torch.zeros(4, 20, 20, dtype=torch.bool)
    occlusion[2, 5:9, 5:9] = True
    frames = warp_noise_sequence(maps, 4, seed=21, method=method, occlusion=occlusion)
    assert frames.shape == (5, 4, 20, 20)
    assert torch.equal(frames[0], frame_noise(4, 20, 20, seed=21, frame=0))
    for t in range(1, 5):
        expected = WARPS[method](frames[t - 1], maps[t - 1], seed=21, frame=t, fresh_mask=occlusion[t - 1])
        assert torch.equal(frames[t], expected)
    assert torch.equal(frames, warp_noise_sequence(maps, 4, seed=21, method=method, occlusion=occlusion))
    assert not torch.equal(frames[1:], warp_noise_sequence(maps, 4, seed=22, method=method)[1:])


def test_single_frame_and_identity_sequences():
    assert warp_noise_sequence(torch.zeros(0, 2, 6, 7), 3, seed=1).shape == (1, 3, 6, 7)
    frames = warp_noise_sequence(identity_map(6, 7)[None].expand(3, 2, 6, 7), 3, seed=1, method="particle")
    assert all(torch.equal(frames[t], frames[0]) for t in range(4))


def test_on_frame_reports_each_warped_frame_in_order():
    done = []
    warp_noise_sequence(rotating_maps(3, 8), 2, seed=4, on_frame=done.append)
    assert done == [1, 2, 3]


#END
