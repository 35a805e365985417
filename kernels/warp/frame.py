"""One warp step of a noise frame, shared by the particle, grid and HIWYN variants.

A :class:`Variant` is a *request builder* — from a backward map [2, H, W] (and an optional fresh mask) it
makes the :class:`bridge.Requests` of every target pixel — and the way sources split among their requests
(normalised: particle; remainder kept: grid, HIWYN). :meth:`Variant.step` moves one frame of noise with
:func:`bridge.bridge_split`; :func:`warp_batch` checks the inputs of a warp call (clear ValueErrors naming
the input) and runs the batch, for :func:`warp_with` and any other per-item step. Batch item b of frame t
draws from the streams (seed, t, REQUEST/PAD, b).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..motion.flow_maps import check_field
from .bridge import Requests, bridge_split
from .counter_rng import Stream, stream_key
from .workspace import Workspace

RequestBuilder = Callable[[torch.Tensor, torch.Tensor | None, int, Workspace], Requests]


@dataclass(frozen=True)
class Variant:
    """A warp variant: its request builder and whether sources normalise their requests to sum 1.

    ``static_shapes``: the requests have the same shapes every frame and building them never waits for
    the device (no data-dependent sizes), so a step can be captured in a CUDA graph.
    """

    build_requests: RequestBuilder
    normalise_sources: bool
    static_shapes: bool = False

    def step(self, values: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, *,
             request_key: int | torch.Tensor, pad_key: int | torch.Tensor, workspace: Workspace,
             out: torch.Tensor | None = None) -> torch.Tensor:
        """Noise [C, H·W] of the next frame from ``values`` [C, H, W] (inputs already checked)."""
        channels, height, width = values.shape
        requests = self.build_requests(backward_map, fresh_mask, channels, workspace)
        return bridge_split(values, requests, height * width, request_key=request_key,
                            pad_key=None if self.normalise_sources else pad_key,
                            normalise_sources=self.normalise_sources, workspace=workspace, out=out)


def check_warp_inputs(noise: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Validate a warp call; return noise [B, C, H, W], maps [B, 2, H, W], masks [B, H, W] or None."""
    if not isinstance(noise, torch.Tensor) or noise.ndim not in (3, 4):
        raise ValueError("noise must be a tensor [C, H, W] or [B, C, H, W], got "
                         f"{tuple(noise.shape) if isinstance(noise, torch.Tensor) else type(noise).__name__}")
    if not noise.is_floating_point():
        raise ValueError(f"noise must be a floating-point tensor, got {noise.dtype}")
    if noise.numel() == 0:
        raise ValueError(f"noise is empty: shape {tuple(noise.shape)}")
    if not bool(torch.isfinite(noise).all()):
        raise ValueError("noise contains NaN or infinite values")
    batched = noise if noise.ndim == 4 else noise[None]
    batch, _, height, width = batched.shape
    if isinstance(backward_map, torch.Tensor) and backward_map.device != noise.device:
        raise ValueError(f"backward_map is on {backward_map.device} but noise is on {noise.device}")
    check_field(backward_map, "backward_map")
    if backward_map.ndim not in (3, 4) or backward_map.shape[-2:] != (height, width):
        raise ValueError(f"backward_map must be [2, {height}, {width}] or [B, 2, {height}, {width}] to match "
                         f"the noise, got {tuple(backward_map.shape)}")
    maps = backward_map if backward_map.ndim == 4 else backward_map[None]
    if maps.shape[0] not in (1, batch):
        raise ValueError(f"backward_map has {maps.shape[0]} maps for a batch of {batch}")
    masks = None
    if fresh_mask is not None:
        if not isinstance(fresh_mask, torch.Tensor):
            raise ValueError(f"fresh_mask must be a tensor [H, W] or [B, H, W], got {type(fresh_mask).__name__}")
        if fresh_mask.device != noise.device:
            raise ValueError(f"fresh_mask is on {fresh_mask.device} but noise is on {noise.device}")
        if fresh_mask.ndim not in (2, 3) or fresh_mask.shape[-2:] != (height, width):
            raise ValueError(f"fresh_mask must be [{height}, {width}] or [B, {height}, {width}], got "
                             f"{tuple(fresh_mask.shape)}")
        masks = (fresh_mask if fresh_mask.ndim == 3 else fresh_mask[None]).bool()
        if masks.shape[0] not in (1, batch):
            raise ValueError(f"fresh_mask has {masks.shape[0]} masks for a batch of {batch}")
    return batched.detach(), maps.detach(), masks  # no autograd: the kernels write through out=


ItemStep = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None, int], torch.Tensor]


def warp_batch(step: ItemStep, noise: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None,
               dtype: torch.dtype) -> torch.Tensor:
    """Check a warp call and warp every batch item: ``step(values [C, H, W] and map [2, H, W] in dtype, mask
    or None, item b)`` → [C, H·W]; a single map or mask serves every item. Output shaped and typed like
    ``noise``."""
    batched, maps, masks = check_warp_inputs(noise, backward_map, fresh_mask)
    maps = maps.to(dtype)
    out = torch.empty_like(batched)
    for b in range(batched.shape[0]):
        warped = step(batched[b].to(dtype), maps[min(b, maps.shape[0] - 1)],
                      None if masks is None else masks[min(b, masks.shape[0] - 1)], b)
        out[b] = warped.view_as(out[b])
    return out if noise.ndim == 4 else out[0]


def warp_with(variant: Variant, noise: torch.Tensor, backward_map: torch.Tensor, *, seed: int, frame: int,
              fresh_mask: torch.Tensor | None, workspace: Workspace | None = None,
              dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Warp ``noise`` [C, H, W] or [B, C, H, W] one frame with ``variant``; computation in ``dtype``."""
    ws = workspace or Workspace(noise.device)

    def step(values: torch.Tensor, backward_map: torch.Tensor, fresh_mask: torch.Tensor | None, b: int,
             ) -> torch.Tensor:
        return variant.step(values, backward_map, fresh_mask, request_key=stream_key(seed, frame, Stream.REQUEST, b),
                            pad_key=stream_key(seed, frame, Stream.PAD, b), workspace=ws)

    return warp_batch(step, noise, backward_map, fresh_mask, dtype)
