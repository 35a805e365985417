"""Input checks shared by the kernels: a ValueError naming the input instead of NaN in a result or a failure
deep inside torch. Each costs at most one pass over the data per call, never one per element in a loop."""

from __future__ import annotations

import numbers

import torch


def check_integers(**values: object) -> None:
    """Raise a ValueError naming the first of ``values`` (name=value) that is not an integer: sizes, counts and
    factors of 2.5 would otherwise give fractional shapes or a TypeError deep inside torch."""
    for name, value in values.items():
        if not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")


def check_has_values(values: torch.Tensor, name: str) -> None:
    """Raise a ValueError if ``values`` is a meta tensor: a shape without data, which no kernel can read."""
    if values.is_meta:
        raise ValueError(f"{name} is on the meta device (a shape without values): give a tensor with data")


def check_finite(values: torch.Tensor, name: str) -> None:
    """Raise a ValueError naming the first frame (index on axis 0) of ``values`` holding NaN or ±inf.

    A finite sum proves every element finite (NaN and ±inf propagate), so clean data costs one reduction.
    """
    check_has_values(values, name)
    if torch.isfinite(values.sum()):
        return
    bad = (~torch.isfinite(values)).flatten(1).any(1).nonzero()
    if len(bad):
        raise ValueError(f"{name} contains NaN or infinite values (first in frame {bad[0, 0].item()})")
