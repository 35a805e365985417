"""Free memory of the compute device, and refusing work that would not fit in it."""

from __future__ import annotations

import torch


def free_memory(device: torch.device) -> int | None:
    """Bytes free on ``device``: ComfyUI's ``get_free_memory`` (free VRAM plus torch's reusable cache, or free
    RAM); without it, CUDA's ``mem_get_info`` or the kernel's MemAvailable. None if nothing says."""
    try:
        from comfy.model_management import get_free_memory
    except ImportError:
        pass
    else:
        return int(get_free_memory(device))
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type == "cpu":
        try:
            with open("/proc/meminfo") as meminfo:
                fields = dict(line.split(":", 1) for line in meminfo)
            return int(fields["MemAvailable"].split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            return None
    return None


def check_fits(needed: int, device: torch.device, what: str, lower: str) -> None:
    """Raise a ValueError before ``what`` allocates ``needed`` bytes that ``device`` does not have free,
    saying which inputs to ``lower``."""
    free = free_memory(device)
    if free is not None and needed > free:
        raise ValueError(f"{what} would need about {needed / 2**30:.1f} GiB on {device} but {free / 2**30:.1f} GiB "
                         f"are free: {lower}")
