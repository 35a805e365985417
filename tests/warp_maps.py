"""Backward maps for the warp tests: affine, smooth, rough, and one with a chosen octagon."""

import torch

from temporal_noise.kernels.motion.flow_maps import identity_map
from temporal_noise.kernels.warp.grid import OCTAGON_OFFSETS

# the centre pixel's octagon of a 3 × 3 frame (centre_octagon_map): a figure eight spanning 5 cells whose
# lobes cross at (1.5, 3.2), the reversed one below the frame
REVERSED_LOBE_BELOW = [(0.1, 0.1), (1.5, 0.1), (2.9, 0.1), (1.5, 3.2), (0.9, 5.0), (1.5, 5.0), (2.1, 5.0), (1.5, 3.2)]


def affine_map(height, width, matrix, shift=(0.0, 0.0), dtype=torch.float32):
    """m(p) = A·(p − centre) + centre + shift."""
    m = identity_map(height, width, dtype=dtype)
    centre = torch.tensor([width / 2, height / 2], dtype=dtype)[:, None, None]
    a = torch.as_tensor(matrix, dtype=dtype)
    return torch.einsum("ij,jhw->ihw", a, m - centre) + centre + torch.tensor(shift, dtype=dtype)[:, None, None]


def wiggly_map(height, width):
    """A smooth injective map: rotation, zoom and a gentle sine displacement."""
    m = affine_map(height, width, [[0.93, -0.21], [0.24, 0.88]], (0.37, -0.61), torch.float64)
    wiggle = torch.stack((0.15 * torch.sin(m[1] / 2.3), 0.12 * torch.cos(m[0] / 1.9)))
    return (m + wiggle).float()


def rough_map(height, width, amplitude, seed=0):
    """Every pixel displaced at random: windows of every size, in the frame and beyond it."""
    g = torch.Generator().manual_seed(seed)
    return identity_map(height, width) + amplitude * torch.randn(2, height, width, generator=g)


def centre_octagon_map(vertices):
    """A [2, 3, 3] float64 map whose centre pixel has the octagon ``vertices`` (8 absolute (x, y), in the
    order of OCTAGON_OFFSETS): its centre keeps its place, the other centres solve the documented
    interpolation (midpoints are means of 2 centres, corners of 4)."""
    offsets = torch.tensor(OCTAGON_OFFSETS, dtype=torch.float64)
    v = torch.tensor(vertices, dtype=torch.float64) - 1.0 - offsets
    d = torch.zeros(3, 3, 2, dtype=torch.float64)  # displacement at centre [row, col]
    for k, (row, col) in ((1, (0, 1)), (3, (1, 2)), (5, (2, 1)), (7, (1, 0))):  # midpoints
        d[row, col] = 2 * v[k]
    for k, (row, col) in ((0, (0, 0)), (2, (0, 2)), (4, (2, 2)), (6, (2, 0))):  # corners
        d[row, col] = 4 * v[k] - d[row, 1] - d[1, col]
    return identity_map(3, 3, dtype=torch.float64) + d.permute(2, 0, 1)
