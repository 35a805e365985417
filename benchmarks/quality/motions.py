"""Camera motions with exact backward maps: translation, rotation and zoom about the image centre.

Frame t shows the scene moved by A_t = M^k with k = t − (T−1)/2 (centred in time, so the content stays in
view), where M is a similarity per frame: q = c + s·R(θ)·(p − c) + v. Pixel q of frame t shows the scene
point p = A_t⁻¹(q); its backward map (warp contract: the position in frame t−1 of the pixel centre of frame
t) is A_{t−1}(A_t⁻¹(q)), the same map for every t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .scenes import FRAMES, SIZE, pixel_centres

CENTRE = SIZE / 2


@dataclass(frozen=True)
class Motion:
    """Per-frame similarity: ``shift`` (x, y) pixels, ``angle`` degrees, ``zoom`` factor."""

    name: str
    shift: tuple[float, float] = (0.0, 0.0)
    angle: float = 0.0
    zoom: float = 1.0

    def _apply(self, points: torch.Tensor, k: float) -> torch.Tensor:
        """A^k applied to positions [2, H, W] (k may be negative or fractional)."""
        theta = math.radians(self.angle) * k
        scale = self.zoom**k
        x, y = points[0] - CENTRE, points[1] - CENTRE
        rotated_x = scale * (math.cos(theta) * x - math.sin(theta) * y)
        rotated_y = scale * (math.sin(theta) * x + math.cos(theta) * y)
        return torch.stack([rotated_x + CENTRE + k * self.shift[0], rotated_y + CENTRE + k * self.shift[1]])

    def _inverse(self, points: torch.Tensor, k: float) -> torch.Tensor:
        """(A^k)⁻¹: undo the shift, then the rotation and zoom."""
        unshifted = torch.stack([points[0] - k * self.shift[0], points[1] - k * self.shift[1]])
        return Motion(self.name, angle=self.angle, zoom=self.zoom)._apply(unshifted, -k)

    @staticmethod
    def _power(frame: int, frames: int) -> float:
        return frame - (frames - 1) / 2

    def scene_points(self, frame: int, frames: int = FRAMES) -> torch.Tensor:
        """[2, H, W] scene positions shown at the pixel centres of ``frame``."""
        return self._inverse(pixel_centres(), self._power(frame, frames))

    def backward_maps(self, frames: int = FRAMES) -> torch.Tensor:
        """[T−1, 2, H, W]: for frame t = 1 … T−1, where each pixel centre was in frame t−1."""
        maps = [self._apply(self.scene_points(t, frames), self._power(t - 1, frames))
                for t in range(1, frames)]
        return torch.stack(maps)

    @property
    def speed(self) -> float:
        """Mean displacement per frame over the image (pixels), for tables."""
        maps = self.backward_maps(2)
        return float((pixel_centres() - maps[0]).norm(dim=0).mean())


MOTIONS = (
    Motion("shift 0.5 px", shift=(0.5 * math.cos(math.radians(30)), 0.5 * math.sin(math.radians(30)))),
    Motion("shift 2.5 px", shift=(2.5 * math.cos(math.radians(-20)), 2.5 * math.sin(math.radians(-20)))),
    Motion("rotate 4°", angle=4.0),
    Motion("zoom 1.05×", zoom=1.05),
)
