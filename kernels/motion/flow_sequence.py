"""FLOW: the motion of a video, frame to frame, as forward and backward optical flow.

For T frames the flows are ``[T−1, 2, h, w]`` displacements in pixels of their own h×w grid (x first, as
OpenCV computes them; see the warp contract in ``flow_maps``):

- ``forward[t](p)``: where the content at pixel centre p of frame t is in frame t+1, minus p;
- ``backward[t](q)``: where the content at pixel centre q of frame t+1 was in frame t, minus q;
- ``occlusion[t](q)`` (optional, bool): pixel q of frame t+1 has no counterpart in frame t (disoccluded).

The grid may be coarser than the frames (flow computed at a reduced scale); ``frame_size`` keeps the size of
the frames the flow describes. ``resized`` resamples to any grid, rescaling the displacements:
``f'(q') = S·f(S⁻¹q')`` with ``S = diag(w'/w, h'/h)`` (``flow_maps.resize_flow``).

A FLOW holds either those dense flows (Optical Flow) or, for a motion given by formula (Camera Motion Flow),
one affine transform per frame step (``affine_steps``). Then ``forward`` and ``backward`` are rasterised on
each access at the grid size, ``resized`` only changes that size, and ``strided`` composes the transforms, so
the flow costs memory only at the size its consumer asks for, and is exact there.
"""

from __future__ import annotations

import torch

from ..checks import check_finite
from .affine_steps import FLOAT32_MAX, AffineSteps
from .flow_maps import identity_map, resample, resize_flow, sample_bilinear_unchecked


class FlowSequence:
    """Forward and backward flows ``[T−1, 2, h, w]`` of a T-frame video, dense or as per-step transforms
    (:meth:`from_transforms`); checked on creation; immutable."""

    def __init__(self, forward: torch.Tensor, backward: torch.Tensor, frame_size: tuple[int, int],
                 occlusion: torch.Tensor | None = None) -> None:
        for name, flow in (("forward", forward), ("backward", backward)):
            if not isinstance(flow, torch.Tensor) or flow.ndim != 4 or flow.shape[1] != 2:
                raise ValueError(f"{name} flow must be a tensor [frames - 1, 2, height, width], got "
                                 f"{getattr(flow, 'shape', type(flow).__name__)}")
            if not flow.is_floating_point():
                raise ValueError(f"{name} flow must be floating point, got {flow.dtype}")
            if flow.shape[0] < 1 or flow.shape[2] < 1 or flow.shape[3] < 1:
                raise ValueError(f"{name} flow is empty: shape {tuple(flow.shape)}")
            check_finite(flow, f"{name} flow")
        if forward.shape != backward.shape:
            raise ValueError(f"forward flow {tuple(forward.shape)} and backward flow "
                             f"{tuple(backward.shape)} must have the same shape")
        if forward.device != backward.device:
            raise ValueError(f"forward flow is on {forward.device} but backward flow on {backward.device}")
        if occlusion is not None:
            expected = (forward.shape[0], *forward.shape[2:])
            if occlusion.dtype != torch.bool or tuple(occlusion.shape) != expected:
                raise ValueError(f"occlusion must be a bool tensor of shape {expected}, got "
                                 f"{occlusion.dtype} {tuple(occlusion.shape)}")
            if occlusion.device != forward.device:
                raise ValueError(f"occlusion is on {occlusion.device} but the flows on {forward.device}")
        self._set(forward=forward, backward=backward, frame_size=_size(frame_size, "frame_size"),
                  occlusion=occlusion, transforms=None, grid=(forward.shape[2], forward.shape[3]))

    @classmethod
    def from_transforms(cls, transforms: AffineSteps, frame_size: tuple[int, int],
                        grid_size: tuple[int, int] | None = None) -> FlowSequence:
        """The flow of per-step affine transforms (pixels of ``frame_size`` frames), rasterised on access on a
        ``grid_size`` grid (default: the frame size). No occlusion: an affine motion hides nothing."""
        if not isinstance(transforms, AffineSteps):
            raise ValueError(f"transforms must be AffineSteps, got {type(transforms).__name__}")
        frame_size = _size(frame_size, "frame_size")
        if not (torch.linalg.det(transforms.matrix) != 0).all():
            raise ValueError("backward flow is undefined: a step's transform is singular (maps the frame to a line)")
        for name, motion in (("forward", transforms), ("backward", transforms.inverse())):
            if not torch.isfinite(motion.matrix).all() or not torch.isfinite(motion.offset).all():
                raise ValueError(f"{name} flow contains NaN or infinite values")
            if not motion.largest_displacement(*frame_size) < FLOAT32_MAX:
                raise ValueError(f"{name} flow moves pixels beyond the float32 range")
        flow = object.__new__(cls)
        flow._set(forward=None, backward=None, frame_size=frame_size, occlusion=None, transforms=transforms,
                  grid=frame_size if grid_size is None else _size(grid_size, "grid_size"))
        return flow

    def _set(self, **fields) -> None:
        for name, value in fields.items():
            object.__setattr__(self, "_" + name, value)

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"FlowSequence is immutable: cannot set {name}")

    @property
    def transforms(self) -> AffineSteps | None:
        """The per-step forward transforms of an affine flow (pixels of the frames), else None."""
        return self._transforms

    @property
    def frame_size(self) -> tuple[int, int]:
        """(height, width) of the frames the flow describes."""
        return self._frame_size

    @property
    def occlusion(self) -> torch.Tensor | None:
        return self._occlusion

    @property
    def device(self) -> torch.device:
        return self._forward.device if self._transforms is None else self._transforms.device

    @property
    def forward(self) -> torch.Tensor:
        """Forward flows ``[T−1, 2, h, w]`` (an affine flow's are rasterised on each access)."""
        return self.forward_of(slice(None))

    @property
    def backward(self) -> torch.Tensor:
        """Backward flows ``[T−1, 2, h, w]`` (an affine flow's are rasterised on each access)."""
        return self.backward_of(slice(None))

    def forward_of(self, steps: torch.Tensor | slice) -> torch.Tensor:
        """The forward flows of the chosen steps (indices or a slice along the first axis)."""
        if self._transforms is None:
            return self._forward[steps]
        return self._transforms.on_grid(self.frame_size, self.grid_size).displacements(*self.grid_size, steps)

    def backward_of(self, steps: torch.Tensor | slice) -> torch.Tensor:
        """The backward flows of the chosen steps; an affine flow rasterises only those."""
        if self._transforms is None:
            return self._backward[steps]
        inverse = AffineSteps(self._transforms.matrix[steps], self._transforms.offset[steps]).inverse()
        return inverse.on_grid(self.frame_size, self.grid_size).displacements(*self.grid_size)

    @property
    def frames(self) -> int:
        """Number of video frames T (one more than the number of flows)."""
        return (self._forward.shape[0] if self._transforms is None else self._transforms.steps) + 1

    @property
    def grid_size(self) -> tuple[int, int]:
        """(height, width) of the grid the flows are sampled on."""
        return self._grid

    def resized(self, height: int, width: int) -> FlowSequence:
        """The same motion sampled on a height×width grid, in pixels of that grid (``flow_maps.resize_flow``);
        a pixel is occluded where more than half of the pixels it overlaps (``flow_maps.resample``) were."""
        if (height, width) == self.grid_size:
            return self
        if self._transforms is not None:
            return FlowSequence.from_transforms(self._transforms, self.frame_size, (height, width))
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

        Dense flows, backward, from frame t to t − k: ``b(p) = Σ_{s<k} b_{t−s}(p_s)`` with ``p_0 = p`` and
        ``p_{s+1} = p_s + b_{t−s}(p_s)`` (bilinear samples); forward likewise from t − k to t. A pixel is
        occluded if it is at any step along its backward path. An affine flow composes its transforms
        exactly (no sampling, no border). Frames after the last multiple of k drop out.
        """
        if step < 1:
            raise ValueError(f"step must be at least 1, got {step}")
        if step == 1:
            return self
        count = (self.frames - 1) // step
        if count == 0:
            raise ValueError(f"a flow of {self.frames} frames has no span of {step} frames")
        if self._transforms is not None:
            return FlowSequence.from_transforms(self._transforms.strided(step), self.frame_size, self.grid_size)
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
        if self._transforms is not None:
            return FlowSequence.from_transforms(self._transforms.to(device), self.frame_size, self.grid_size)
        return FlowSequence(
            forward=self.forward.to(device),
            backward=self.backward.to(device),
            frame_size=self.frame_size,
            occlusion=None if self.occlusion is None else self.occlusion.to(device),
        )


def _size(size: tuple[int, int], name: str) -> tuple[int, int]:
    """(height, width) as two positive Python integers, or a ValueError naming ``name``."""
    height, width = size
    if int(height) != height or int(width) != width or height < 1 or width < 1:
        raise ValueError(f"{name} must be two positive integers (height, width), got {size}")
    return int(height), int(width)

