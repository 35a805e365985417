"""FLOW: the motion of a video, frame to frame, as forward and backward optical flow.

For T frames the flows are ``[T−1, 2, h, w]`` displacements in pixels of their own h×w grid (x first, as
OpenCV computes them; see the warp contract in ``flow_maps``):

- ``forward[t](p)``: where the content at pixel centre p of frame t is in frame t+1, minus p;
- ``backward[t](q)``: where the content at pixel centre q of frame t+1 was in frame t, minus q;
- ``occlusion[t](q)`` (optional, bool): pixel q of frame t+1 has no counterpart in frame t (disoccluded).

The grid may be coarser than the frames (flow computed at a reduced scale); ``frame_size`` keeps the size of
the frames the flow describes. ``resized`` resamples to any grid, rescaling the displacements:
``f'(q') = S·f(S⁻¹q')`` with ``S = diag(w'/w, h'/h)`` (``flow_maps.resize_flow``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import check_finite
from .flow_maps import identity_map, resample, resize_flow, sample_bilinear_unchecked


@dataclass(frozen=True)
class FlowSequence:
    """Forward and backward flows ``[T−1, 2, h, w]`` of a T-frame video, checked on creation; immutable."""

    forward: torch.Tensor
    backward: torch.Tensor
    frame_size: tuple[int, int]
    occlusion: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for name, flow in (("forward", self.forward), ("backward", self.backward)):
            if not isinstance(flow, torch.Tensor) or flow.ndim != 4 or flow.shape[1] != 2:
                raise ValueError(f"{name} flow must be a tensor [frames - 1, 2, height, width], got "
                                 f"{getattr(flow, 'shape', type(flow).__name__)}")
            if not flow.is_floating_point():
                raise ValueError(f"{name} flow must be floating point, got {flow.dtype}")
            if flow.shape[0] < 1 or flow.shape[2] < 1 or flow.shape[3] < 1:
                raise ValueError(f"{name} flow is empty: shape {tuple(flow.shape)}")
            check_finite(flow, f"{name} flow")
        if self.forward.shape != self.backward.shape:
            raise ValueError(f"forward flow {tuple(self.forward.shape)} and backward flow "
                             f"{tuple(self.backward.shape)} must have the same shape")
        if self.forward.device != self.backward.device:
            raise ValueError(f"forward flow is on {self.forward.device} but backward flow on {self.backward.device}")
        height, width = self.frame_size
        if int(height) != height or int(width) != width or height < 1 or width < 1:
            raise ValueError(f"frame_size must be two positive integers (height, width), got {self.frame_size}")
        object.__setattr__(self, "frame_size", (int(height), int(width)))
        if self.occlusion is not None:
            expected = (self.forward.shape[0], *self.forward.shape[2:])
            if self.occlusion.dtype != torch.bool or tuple(self.occlusion.shape) != expected:
                raise ValueError(f"occlusion must be a bool tensor of shape {expected}, got "
                                 f"{self.occlusion.dtype} {tuple(self.occlusion.shape)}")
            if self.occlusion.device != self.forward.device:
                raise ValueError(f"occlusion is on {self.occlusion.device} but the flows on {self.forward.device}")

    @property
    def frames(self) -> int:
        """Number of video frames T (one more than the number of flows)."""
        return self.forward.shape[0] + 1

    @property
    def grid_size(self) -> tuple[int, int]:
        """(height, width) of the grid the flows are sampled on."""
        return self.forward.shape[2], self.forward.shape[3]

    def resized(self, height: int, width: int) -> FlowSequence:
        """The same motion sampled on a height×width grid, in pixels of that grid (``flow_maps.resize_flow``);
        a pixel is occluded where more than half of the pixels it overlaps (``flow_maps.resample``) were."""
        if (height, width) == self.grid_size:
            return self
        occlusion = None
        if self.occlusion is not None:
            fraction = resample(self.occlusion[:, None].float(), height, width, grow_mode="nearest-exact")
            occlusion = fraction[:, 0] > 0.5
        return FlowSequence(
            forward=resize_flow(self.forward, height, width),
            backward=resize_flow(self.backward, height, width),
            frame_size=self.frame_size,
            occlusion=occlusion,
        )

    def strided(self, step: int) -> FlowSequence:
        """The motion between frames 0, k, 2k, … (k = ``step``), each flow composed over its k steps.

        Backward, from frame t to t − k: ``b(p) = Σ_{s<k} b_{t−s}(p_s)`` with ``p_0 = p`` and
        ``p_{s+1} = p_s + b_{t−s}(p_s)`` (bilinear samples); forward likewise from t − k to t. A pixel is
        occluded if it is at any step along its backward path. Frames after the last multiple of k drop out.
        """
        if step < 1:
            raise ValueError(f"step must be at least 1, got {step}")
        if step == 1:
            return self
        count = (self.frames - 1) // step
        if count == 0:
            raise ValueError(f"a flow of {self.frames} frames has no span of {step} frames")
        windows = torch.arange(count, device=self.forward.device) * step
        centres = identity_map(*self.grid_size, self.forward.device, self.forward.dtype)
        backward_position, forward_position = centres.expand(count, -1, -1, -1), centres.expand(count, -1, -1, -1)
        occluded = None if self.occlusion is None else torch.zeros(count, *self.grid_size, dtype=torch.bool,
                                                                   device=self.forward.device)
        for s in range(step):
            later, earlier = windows + step - 1 - s, windows + s
            if occluded is not None:
                occlusion = self.occlusion[later, None].to(self.forward.dtype)
                occluded |= sample_bilinear_unchecked(occlusion, backward_position)[:, 0] > 0.5
            backward_position = backward_position + sample_bilinear_unchecked(self.backward[later], backward_position)
            forward_position = forward_position + sample_bilinear_unchecked(self.forward[earlier], forward_position)
        forward, backward = forward_position - centres, backward_position - centres
        if not bool(torch.isfinite(forward).all() and torch.isfinite(backward).all()):
            peak = max(float(self.forward.abs().max()), float(self.backward.abs().max()))
            raise ValueError(
                f"flow: its motion composed over {step} frames (the VAE's temporal compression) overflowed "
                f"{self.forward.dtype}: the flow moves pixels by up to {peak:.3g} pixels a frame on a "
                f"{self.grid_size[1]}x{self.grid_size[0]} grid. Give a flow in pixels of its frames, as Optical "
                f"Flow and Camera Motion Flow make it")
        return FlowSequence(forward=forward, backward=backward, frame_size=self.frame_size, occlusion=occluded)

    def to(self, device: torch.device | str) -> FlowSequence:
        """The same flow on another device."""
        return FlowSequence(
            forward=self.forward.to(device),
            backward=self.backward.to(device),
            frame_size=self.frame_size,
            occlusion=None if self.occlusion is None else self.occlusion.to(device),
        )
