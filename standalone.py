"""Import this pack outside ComfyUI (tests, demo, benchmarks) under the fixed name ``temporal_noise``.

ComfyUI imports the pack folder as a package whatever the folder is called (``ComfyUI-TemporalNoise``,
``comfyui-temporal-noise``, ...). A script cannot import a name with dashes, so it loads the folder here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACK_NAME = "temporal_noise"
PACK_ROOT = Path(__file__).resolve().parent


def load_pack() -> ModuleType:
    """Import the pack as ``temporal_noise`` (once) and return it."""
    if PACK_NAME in sys.modules:
        return sys.modules[PACK_NAME]
    spec = importlib.util.spec_from_file_location(
        PACK_NAME, PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACK_NAME] = module
    spec.loader.exec_module(module)
    return module
