"""Reusable scratch buffers for the per-frame warp kernels.

On the CPU, writing into a freshly allocated large tensor costs about ten times the arithmetic (page
faults on first touch); on CUDA, graph capture needs buffers whose addresses do not change. Kernels
therefore take a :class:`Workspace` and write through ``out=``/in-place ops into its named buffers,
which live as long as the workspace (one frame for a single warp, a whole sequence in
``warp_noise_sequence``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any

import torch


class Workspace:
    """Named buffers on one device, grown on demand and reused between calls."""

    def __init__(self, device: torch.device | str | None = None) -> None:
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self._storage: dict[str, torch.Tensor] = {}
        self._cached: dict[str, tuple[Hashable, Any]] = {}

    def buffer(self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """A contiguous tensor of ``shape`` backed by the buffer ``name`` (contents undefined)."""
        numel = math.prod(shape)
        flat = self._storage.get(name)
        if flat is None or flat.dtype != dtype or flat.numel() < numel:
            flat = torch.empty(max(numel, 1), dtype=dtype, device=self.device)
            self._storage[name] = flat
        return flat[:numel].view(shape)

    def zeros(self, name: str, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Like :meth:`buffer`, filled with zeros."""
        return self.buffer(name, shape, dtype).zero_()

    def cached(self, name: str, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per ``key`` (for tensors that repeat every frame of one shape)."""
        entry = self._cached.get(name)
        if entry is None or entry[0] != key:
            entry = (key, make())
            self._cached[name] = entry
        return entry[1]

    def clear(self) -> None:
        """Release every buffer."""
        self._storage.clear()
        self._cached.clear()
