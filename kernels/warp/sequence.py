"""Warped noise for a whole video: frame 0 fresh from the seed, frame t the warp of frame t − 1.

Y⁰ = fresh noise (stream FRAME of (seed, 0)); Yᵗ = warp(Yᵗ⁻¹, mᵗ) with the normals of (seed, t), where mᵗ
is the backward map of frame t (:mod:`flow_maps`). Pixels marked in the occlusion mask of frame t get
fresh noise (Deng et al. 2024, Sec. 4.3: disocclusion). Every frame is N(0, 1) white noise; consecutive
frames are correlated along the motion.

The per-frame step keeps its scratch tensors in one :class:`Workspace` for the whole sequence. On CUDA,
the particle step has fixed shapes and no host synchronisation, so it is captured once in a CUDA graph
and replayed every frame with the new map, mask and stream key copied into its static inputs. The grid
step compacts its requests (their number depends on the map), so it runs eagerly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..motion.flow_maps import check_field
from .counter_rng import Stream, as_int64, frame_noise, stream_key
from .frame import Variant
from .grid import GRID
from .particle import PARTICLE
from .workspace import Workspace

METHODS = {"grid": GRID, "particle": PARTICLE}


class FrameStep:
    """One warp step of a fixed variant (or method name) and frame size, reusing its buffers and CUDA graph."""

    def __init__(self, variant: Variant | str, channels: int, height: int, width: int, device: torch.device,
                 use_cuda_graph: bool = True) -> None:
        if isinstance(variant, str):
            if variant not in METHODS:
                raise ValueError(f"method must be one of {tuple(METHODS)}, got {variant!r}")
            variant = METHODS[variant]
        self.variant, self.channels, self.pixels = variant, channels, height * width
        self.workspace = Workspace(device)
        self.use_graph = use_cuda_graph and device.type == "cuda" and variant.static_shapes
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static: dict[str, torch.Tensor] = {}

    def compute(self, state: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                request_key: int | torch.Tensor, pad_key: int | torch.Tensor,
                out: torch.Tensor | None = None) -> torch.Tensor:
        """Eager step: noise [C, H, W] of frame t − 1 → frame t [C, H·W]."""
        return self.variant.step(state, backward_map, fresh_mask, request_key=request_key, pad_key=pad_key,
                                 workspace=self.workspace, out=out)

    def __call__(self, state: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                 seed: int, frame: int, out: torch.Tensor) -> torch.Tensor:
        """Write frame ``frame`` into ``out`` [C, H·W], warped from ``state`` [C, H, W] (frame − 1)."""
        request_key = stream_key(seed, frame, Stream.REQUEST)
        pad_key = stream_key(seed, frame, Stream.PAD)
        if not self.use_graph:
            return self.compute(state, backward_map, fresh_mask, request_key, pad_key, out=out)
        if self.graph is None:
            self._capture(state, backward_map)
        static = self.static
        static["state"].copy_(state)
        static["map"].copy_(backward_map)
        if fresh_mask is None:
            static["mask"].zero_()
        else:
            static["mask"].copy_(fresh_mask)
        static["key"].fill_(as_int64(request_key))
        self.graph.replay()
        return out.copy_(static["out"])

    def _capture(self, state: torch.Tensor, backward_map: torch.Tensor) -> None:
        """Warm up on a side stream, then capture the particle step on static buffers."""
        static = self.static
        static["state"] = state.clone()
        static["map"] = backward_map.clone()
        static["mask"] = torch.zeros(backward_map.shape[-2:], dtype=torch.bool, device=state.device)
        static["key"] = torch.zeros((), dtype=torch.int64, device=state.device)
        static["out"] = torch.empty((self.channels, self.pixels), device=state.device)

        def step() -> None:
            self.compute(static["state"], static["map"], static["mask"], static["key"], 0, out=static["out"])

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                step()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            step()


def warp_noise_sequence(backward_maps: torch.Tensor, channels: int, *, seed: int, method: str = "grid",
                        occlusion: torch.Tensor | None = None, device: torch.device | str | None = None,
                        use_cuda_graph: bool = True, on_frame: Callable[[int], None] | None = None) -> torch.Tensor:
    """Noise [T, C, H, W] for T frames from T − 1 backward maps [T−1, 2, H, W] (map t−1 leads to frame t).

    ``occlusion`` [T−1, H, W] (True = fresh noise in that pixel of frame t), ``method`` "grid" or
    "particle", ``device`` where to compute (default: the maps' device). ``on_frame(t)`` is called after
    frame t is warped (progress bars; it may raise to stop).
    """
    if not isinstance(backward_maps, torch.Tensor) or backward_maps.ndim != 4:
        got = tuple(backward_maps.shape) if isinstance(backward_maps, torch.Tensor) else type(backward_maps).__name__
        raise ValueError(f"backward_maps must be a tensor [T-1, 2, H, W], got {got}")
    if backward_maps.shape[0] > 0:
        check_field(backward_maps, "backward_maps")
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
    steps, _, height, width = backward_maps.shape
    if height < 1 or width < 1:
        raise ValueError(f"backward_maps has an empty frame: shape {tuple(backward_maps.shape)}")
    device = torch.device(device) if device is not None else backward_maps.device
    if occlusion is not None:
        if not isinstance(occlusion, torch.Tensor):
            raise ValueError(f"occlusion must be a tensor [T-1, H, W] (True = fresh noise), got "
                             f"{type(occlusion).__name__}")
        if tuple(occlusion.shape) != (steps, height, width):
            raise ValueError(f"occlusion must be [{steps}, {height}, {width}] like the maps, got "
                             f"{tuple(occlusion.shape)}")
        occlusion = occlusion.to(device=device, dtype=torch.bool)
    maps = backward_maps.detach().to(device=device, dtype=torch.float32)
    frames = torch.empty((steps + 1, channels, height, width), device=device)
    frames[0] = frame_noise(channels, height, width, seed=seed, frame=0, device=device)
    step = FrameStep(METHODS[method], channels, height, width, device, use_cuda_graph)
    for t in range(1, steps + 1):
        step(frames[t - 1], maps[t - 1], None if occlusion is None else occlusion[t - 1], seed, t,
             out=frames[t].view(channels, -1))
        if on_frame is not None:
            on_frame(t)
    return frames
