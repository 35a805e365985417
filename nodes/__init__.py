"""ComfyUI nodes: thin adapters over ``kernels``.

Each module defines ``NODE_CLASS_MAPPINGS`` and ``NODE_DISPLAY_NAME_MAPPINGS``. A module that fails to
import (a missing optional dependency such as OpenCV) disables its own nodes with a logged reason and
never stops ComfyUI from starting.
"""

import importlib
import logging

NODE_MODULES = (
    "frequency_filter",
    "noise_reinit",
    "freeinit_sampler",
    "optical_flow",
    "camera_motion",
    "integral_noise_warp",
)

NODE_CLASS_MAPPINGS: dict[str, type] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}

for _name in NODE_MODULES:
    try:
        _module = importlib.import_module(f".{_name}", __package__)
    except Exception as error:  # any import failure only disables these nodes
        logging.error("[TemporalNoise] nodes of %s.py are disabled: %s: %s", _name, type(error).__name__, error)
        continue
    NODE_CLASS_MAPPINGS.update(_module.NODE_CLASS_MAPPINGS)
    NODE_DISPLAY_NAME_MAPPINGS.update(_module.NODE_DISPLAY_NAME_MAPPINGS)
