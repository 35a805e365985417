"""CPU == CUDA for the same seed, and the CUDA-graph particle step == the eager step (needs a GPU)."""

import pytest
import torch

from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.warp.counter_rng import Stream, _fmix64_, counter_normals, stream_key, weyl_states
from temporal_noise.kernels.warp.grid import warp_grid
from temporal_noise.kernels.warp.particle import warp_particle
from temporal_noise.kernels.warp.sequence import warp_noise_sequence

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def rotation(size: int, device: str) -> torch.Tensor:
    m = identity_map(size, size, device=device)
    a = torch.tensor([[0.99, -0.05], [0.05, 0.99]], device=device)
    return torch.einsum("ij,jhw->ihw", a, m - size / 2) + size / 2


def test_hash_is_bit_identical_and_normals_agree_to_float32_rounding():
    counters = torch.arange(1 << 20) * 7 + 11
    key = stream_key(5, 2, Stream.REQUEST)
    hashes = []
    for device in ("cpu", "cuda"):
        h = weyl_states(counters.to(device), 4).add(key)
        _fmix64_(h, torch.empty_like(h))
        hashes.append(h.cpu())
    assert torch.equal(hashes[0], hashes[1])
    cpu = counter_normals(counters, 4, key)
    cuda = counter_normals(counters.cuda(), 4, key).cpu()
    assert (cpu - cuda).abs().max() < 1e-4


def tiled_squeeze(size: int, device: str) -> torch.Tensor:
    """x ↦ 12·x mod W: the frame squeezed 12× and tiled; over 13 grid requests per target, so the CUDA
    bridge runs in several passes (more than nine per target)."""
    m = identity_map(size, size, device=device)
    m[0] = (m[0] * 12) % size
    return m


@pytest.mark.parametrize("warp", [warp_particle, warp_grid])
@pytest.mark.parametrize("motion", [rotation, tiled_squeeze])
def test_warps_agree_on_cpu_and_cuda(warp, motion):
    noise = torch.randn(4, 96, 96)
    m = motion(96, "cpu")
    cpu = warp(noise, m, seed=3, frame=1)
    cuda = warp(noise.cuda(), m.cuda(), seed=3, frame=1).cpu()
    assert (cpu - cuda).abs().max() < 1e-3  # float32 rounding of atomics and transcendentals


def test_cuda_graph_sequence_matches_eager():
    maps = rotation(64, "cuda")[None].expand(5, 2, 64, 64)
    graph = warp_noise_sequence(maps, 4, seed=9, method="particle", use_cuda_graph=True)
    eager = warp_noise_sequence(maps, 4, seed=9, method="particle", use_cuda_graph=False)
    assert (graph - eager).abs().max() < 1e-4
    cpu = warp_noise_sequence(maps.cpu(), 4, seed=9, method="particle")
    assert (graph.cpu() - cpu).abs().max() < 1e-3
