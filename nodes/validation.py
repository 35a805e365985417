"""Input checks shared by the nodes: a clear error naming the input instead of a failure deep in torch.

ComfyUI types: LATENT samples ``[T,C,H,W]`` or ``[B,C,T,H,W]``, IMAGE ``[frames, H, W, 3]`` in [0, 1],
MASK ``[H, W]`` or ``[N, H, W]``.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers

import torch

from ..kernels import time_axis
from ..kernels.checks import check_finite


def check_latent(samples: torch.Tensor, name: str) -> torch.Tensor:
    """A 4-D ``[T,C,H,W]`` or 5-D ``[B,C,T,H,W]`` floating-point latent, non-empty and finite."""
    time_axis(samples, name)
    if not samples.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {samples.dtype}")
    if samples.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(samples.shape)})")
    check_finite(samples, name)
    return samples


def check_noise(noise: torch.Tensor, samples: torch.Tensor, name: str) -> torch.Tensor:
    """Noise of the latent's shape, floating point and finite."""
    if not isinstance(noise, torch.Tensor):
        raise ValueError(f"{name} must be a tensor, got {type(noise).__name__}")
    if not noise.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {noise.dtype}")
    if tuple(noise.shape) != tuple(samples.shape):
        raise ValueError(f"{name} has shape {tuple(noise.shape)} but the latent has shape {tuple(samples.shape)}")
    check_finite(noise, name)
    return noise


def frames_from_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """IMAGE ``[F, H, W, C]`` → float frames ``[F, 3, H, W]`` (RGB; alpha dropped), checked.

    A floating-point IMAGE only: integer pixels (0-255) would be clamped to [0, 1] into black and white."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{name} must be an IMAGE batch [frames, height, width, 3], got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    if not images.is_floating_point():
        raise ValueError(f"{name} has dtype {images.dtype}, but a ComfyUI IMAGE holds floats in [0, 1]: convert "
                         f"the frames before this node (0-255 pixels divided by 255)")
    if 0 in images.shape:
        raise ValueError(f"{name} is empty: shape {tuple(images.shape)}")
    check_finite(images, name)
    rgb = images[..., :3] if images.shape[-1] != 1 else images.expand(-1, -1, -1, 3)
    return rgb.movedim(-1, 1).float()


def frames_of_mask(mask: torch.Tensor, frames: int, frame_size: tuple[int, int], name: str = "mask") -> torch.Tensor:
    """MASK ``[H, W]`` or ``[N, H, W]`` (N = 1 or ``frames``) → float ``[frames, 1, H, W]``, checked."""
    if not isinstance(mask, torch.Tensor) or mask.ndim not in (2, 3):
        raise ValueError(f"{name} must be a MASK [frames, height, width] or [height, width], got "
                         f"{getattr(mask, 'shape', type(mask).__name__)}")
    mask = mask if mask.ndim == 3 else mask[None]
    if tuple(mask.shape[-2:]) != tuple(frame_size):
        raise ValueError(f"{name} is {mask.shape[-1]}x{mask.shape[-2]} (width x height) but the frames are "
                         f"{frame_size[1]}x{frame_size[0]}; give a mask of the frame size")
    if mask.shape[0] not in (1, frames):
        raise ValueError(f"{name} has {mask.shape[0]} frames; give 1 (for all frames) or {frames} (one per frame)")
    check_finite(mask, name)
    return mask.float().expand(frames, -1, -1)[:, None]


def checks_widget_inputs(node: type) -> type:
    """Class decorator: the node's FUNCTION first refuses every widget value its INPUT_TYPES does not allow
    (:func:`check_widgets`). ComfyUI checks the range of a typed-in number but lets NaN through, and checks
    nothing that arrives over a link."""
    function = getattr(node, node.FUNCTION)
    signature = inspect.signature(function)

    @functools.wraps(function)
    def checked(self, *args, **kwargs):
        check_widgets(type(self).INPUT_TYPES(), signature.bind(self, *args, **kwargs).arguments)
        return function(self, *args, **kwargs)

    setattr(node, node.FUNCTION, checked)
    return node


def check_widgets(input_types: dict, values: dict) -> None:
    """Raise a ValueError naming the first widget of ``input_types`` (a node's ``INPUT_TYPES()``) whose value in
    ``values`` it does not allow: an INT or FLOAT that is not a finite number (a whole one for INT) within the
    widget's min and max, a BOOLEAN that is not a bool, a choice that is not one of the list."""
    for section in input_types.values():
        for name, (kind, *options) in section.items():
            value = values.get(name)
            if value is None:
                continue
            if kind in ("INT", "FLOAT"):
                check_number(value, name, kind == "INT", options[0] if options else {})
            elif kind == "BOOLEAN" and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
            elif isinstance(kind, list | tuple) and value not in kind:
                raise ValueError(f"{name} must be one of {list(kind)}, got {value!r}")


def check_number(value: object, name: str, whole: bool, limits: dict) -> None:
    """``value`` is a finite number (an integer if ``whole``) within ``limits["min"]`` and ``limits["max"]``."""
    if not isinstance(value, numbers.Integral if whole else numbers.Real) or not (
            isinstance(value, numbers.Integral) or math.isfinite(value)):
        raise ValueError(f"{name} must be a finite {'whole ' if whole else ''}number, got {value!r}")
    low, high = limits.get("min", -math.inf), limits.get("max", math.inf)
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
