"""Per-frame affine motion: the transforms of a camera move, composed, inverted and rasterised on any grid.

Step t moves the content of frame t to frame t+1 by ``p' = M_t p + b_t`` (points in pixel units of the
frames, x first, pixel centres at (c + ½, r + ½); see ``flow_maps``). On an h×w grid over frames of H×W
pixels, grid point q stands for the frame point S⁻¹q with ``S = diag(w/W, h/H)``, so the same motion there is
``q' = (S M S⁻¹) q + S b``, and the flow at each grid centre q is ``q' − q``: the flow of the frames resampled
to the grid, exact at every grid point (no interpolation, no border). k steps compose to
``M = M_{t+k−1} ⋯ M_t``, and the backward motion is the inverse ``p = M⁻¹ p' − M⁻¹ b``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .flow_maps import identity_map

FLOAT32_MAX = torch.finfo(torch.float32).max


def invert_affine(matrix: torch.Tensor, offset: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of ``p' = M p + b``: ``p = M⁻¹ p' − M⁻¹ b``."""
    inverse = torch.linalg.inv(matrix)
    return inverse, -(inverse @ offset[..., None])[..., 0]


def apply_affine(points: torch.Tensor, matrix: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """``M p + b`` for points ``[N, 2, H, W]`` (x first) and transforms ``M [N, 2, 2]``, ``b [N, 2]``."""
    return torch.einsum("nij,njhw->nihw", matrix.to(points), points) + offset.to(points)[:, :, None, None]


@dataclass(frozen=True)
class AffineSteps:
    """Forward transforms ``M [N, 2, 2]``, ``b [N, 2]`` of N frame steps, in pixels of the frames; immutable."""

    matrix: torch.Tensor
    offset: torch.Tensor

    def __post_init__(self) -> None:
        if self.matrix.ndim != 3 or self.matrix.shape[1:] != (2, 2) or self.matrix.shape[0] < 1:
            raise ValueError(f"matrix must be [steps, 2, 2] with at least one step, got {tuple(self.matrix.shape)}")
        if tuple(self.offset.shape) != (self.matrix.shape[0], 2):
            raise ValueError(f"offset must be [{self.matrix.shape[0]}, 2], got {tuple(self.offset.shape)}")
        if not (self.matrix.is_floating_point() and self.offset.is_floating_point()):
            raise ValueError(f"transforms must be floating point, got {self.matrix.dtype} and {self.offset.dtype}")
        if self.matrix.device != self.offset.device:
            raise ValueError(f"matrix is on {self.matrix.device} but offset on {self.offset.device}")

    @property
    def steps(self) -> int:
        return self.matrix.shape[0]

    @property
    def device(self) -> torch.device:
        return self.matrix.device

    def inverse(self) -> AffineSteps:
        """The backward motion of every step, in the transforms' dtype."""
        return AffineSteps(*invert_affine(self.matrix, self.offset))

    def strided(self, step: int) -> AffineSteps:
        """The motion over steps [ik, (i+1)k) for every whole window i (composed in float64)."""
        count = self.steps // step
        matrix = self.matrix.double()[: count * step].unflatten(0, (count, step))
        offset = self.offset.double()[: count * step].unflatten(0, (count, step))
        total, shift = matrix[:, 0], offset[:, 0]
        for s in range(1, step):
            total, shift = matrix[:, s] @ total, (matrix[:, s] @ shift[..., None])[..., 0] + offset[:, s]
        return AffineSteps(total, shift)

    def on_grid(self, frame_size: tuple[int, int], grid_size: tuple[int, int]) -> AffineSteps:
        """The same motion in pixels of a grid of ``grid_size`` over the frames: ``S M S⁻¹``, ``S b``."""
        if tuple(grid_size) == tuple(frame_size):
            return self
        scale = torch.tensor([grid_size[1] / frame_size[1], grid_size[0] / frame_size[0]], dtype=torch.float64,
                             device=self.device)
        matrix = self.matrix.double() * scale[:, None] / scale
        return AffineSteps(matrix.to(self.matrix.dtype), (self.offset.double() * scale).to(self.offset.dtype))

    def displacements(self, height: int, width: int, steps: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Flow ``[n, 2, height, width]`` (float32) of the chosen steps: ``M q + b − q`` at every grid centre."""
        centres = identity_map(height, width, device=self.device)
        matrix, offset = self.matrix[steps], self.offset[steps]
        return apply_affine(centres.expand(matrix.shape[0], 2, height, width), matrix, offset) - centres

    def largest_displacement(self, height: int, width: int) -> float:
        """The largest displacement component |M q + b − q| over the pixel centres of a height×width grid
        (float64): it is at a corner, an affine function's absolute value being convex."""
        corners = torch.tensor([[0.5, 0.5], [width - 0.5, 0.5], [0.5, height - 0.5], [width - 0.5, height - 0.5]],
                               dtype=torch.float64, device=self.device)
        moved = torch.einsum("nij,kj->nki", self.matrix.double(), corners) + self.offset.double()[:, None]
        return float((moved - corners).abs().amax())

    def to(self, device: torch.device | str) -> AffineSteps:
        return AffineSteps(self.matrix.to(device), self.offset.to(device))
