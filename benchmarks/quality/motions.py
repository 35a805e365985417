"""Camera motions with exact backward maps: pan, rotation and zoom about the image centre.

The motion between consecutive frames is the pack's camera motion (``kernels.motion.camera_motion``: a similarity
p' = A(p − c) + c + d per frame step), so the backward maps are those its FLOW gives the warp nodes. Frame t
shows the scene at P_t(q) for its pixel centres q, where P_t maps frame t to the middle frame r = T // 2
(P_r = id, P_t = P_{t−1} ∘ back for t > r, P_t = P_{t+1} ∘ step for t < r): the content moves through the
view instead of out of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from temporal_noise.kernels.motion.camera_motion import (
    apply_affine,
    camera_motion_flow,
    camera_transforms,
    invert_affine,
)
from temporal_noise.kernels.motion.flow_maps import identity_map

from .scenes import FRAMES, SIZE

Affine = tuple[torch.Tensor, torch.Tensor]  # (M [2, 2], b [2]): p ↦ M p + b


def _compose(outer: Affine, inner: Affine) -> Affine:
    """outer ∘ inner."""
    return outer[0] @ inner[0], outer[0] @ inner[1] + outer[1]


@dataclass(frozen=True)
class Motion:
    """Per-frame-step camera motion: content pan (pixels), rotation (degrees), zoom factor."""

    name: str
    pan: tuple[float, float] = (0.0, 0.0)
    rotate_degrees: float = 0.0
    zoom: float = 1.0

    def _camera(self) -> dict[str, float]:
        return {"pan_x": self.pan[0], "pan_y": self.pan[1], "zoom": self.zoom, "rotate_degrees": self.rotate_degrees}

    def backward_maps(self, frames: int = FRAMES) -> torch.Tensor:
        """[T−1, 2, H, W]: for frame t = 1 … T−1, where each pixel centre was in frame t−1."""
        flow = camera_motion_flow(frames, SIZE, SIZE, **self._camera())
        return identity_map(SIZE, SIZE) + flow.backward

    def scene_points(self, frames: int = FRAMES) -> torch.Tensor:
        """[T, 2, H, W]: the scene position each pixel centre of each frame shows."""
        matrix, offset = camera_transforms(1, height=SIZE, width=SIZE, **self._camera())
        step = (matrix[0].double(), offset[0].double())
        back = invert_affine(*step)
        middle = frames // 2
        identity = (torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))
        to_middle: dict[int, Affine] = {middle: identity}
        for t in range(middle + 1, frames):
            to_middle[t] = _compose(to_middle[t - 1], back)
        for t in range(middle - 1, -1, -1):
            to_middle[t] = _compose(to_middle[t + 1], step)
        matrices = torch.stack([to_middle[t][0] for t in range(frames)])
        offsets = torch.stack([to_middle[t][1] for t in range(frames)])
        centres = identity_map(SIZE, SIZE, dtype=torch.float64).expand(frames, 2, SIZE, SIZE)
        return apply_affine(centres, matrices, offsets).float()

    @property
    def speed(self) -> float:
        """Mean displacement per frame over the image (pixels), for tables."""
        return float((self.backward_maps(2) - identity_map(SIZE, SIZE)).norm(dim=1).mean())


MOTIONS = (
    Motion("pan 0.5 px", pan=(0.433, 0.25)),
    Motion("pan 2.5 px", pan=(2.35, -0.855)),
    Motion("rotate 4°", rotate_degrees=4.0),
    Motion("zoom 1.05×", zoom=1.05),
)
