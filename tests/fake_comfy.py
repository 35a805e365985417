"""A stand-in for the few ``comfy`` modules the nodes touch, for unit tests without ComfyUI.

Real behaviour is checked by the integration tests (``tests/integration``) against a real ComfyUI.
"""

from __future__ import annotations

import sys
import types
from typing import ClassVar


class ProgressBar:
    instances: ClassVar[list[ProgressBar]] = []

    def __init__(self, total: int) -> None:
        self.total = total
        self.updates: list[tuple[int, int]] = []
        ProgressBar.instances.append(self)

    def update_absolute(self, value: int, total: int | None = None, preview=None) -> None:
        self.updates.append((value, self.total if total is None else total))


class InterruptProcessingException(Exception):
    pass


def install() -> types.ModuleType:
    """Put fake ``comfy``, ``comfy.utils`` and ``comfy.model_management`` into ``sys.modules``."""
    comfy = types.ModuleType("comfy")
    utils = types.ModuleType("comfy.utils")
    utils.ProgressBar = ProgressBar
    management = types.ModuleType("comfy.model_management")
    management.interrupted = False
    management.InterruptProcessingException = InterruptProcessingException

    def throw_exception_if_processing_interrupted() -> None:
        if management.interrupted:
            management.interrupted = False
            raise InterruptProcessingException()

    management.throw_exception_if_processing_interrupted = throw_exception_if_processing_interrupted
    comfy.utils, comfy.model_management = utils, management
    sys.modules.update({"comfy": comfy, "comfy.utils": utils, "comfy.model_management": management})
    ProgressBar.instances.clear()
    return comfy
