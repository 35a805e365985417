"""One ComfyUI progress bar over all the work of a node, with interrupt checks."""

from __future__ import annotations


class Progress:
    """``comfy.utils.ProgressBar`` over ``total`` units; ``advance`` also honours the Cancel button."""

    def __init__(self, total: int) -> None:
        import comfy.utils

        self.total = max(1, int(total))
        self.done = 0
        self._bar = comfy.utils.ProgressBar(self.total)

    def advance(self, units: int = 1, preview: tuple | None = None) -> None:
        """Count ``units`` done (after checking for an interrupt) and show an optional preview image."""
        self.advance_to(self.done + units, preview)

    def advance_to(self, done: int, preview: tuple | None = None) -> None:
        """Set the units done so far (after checking for an interrupt), with an optional preview image.

        The bar only hears of changes: ``advance(0)`` is a pure interrupt check.
        """
        check_interrupted()
        done = min(self.total, max(self.done, int(done)))
        if done != self.done or preview is not None:
            self.done = done
            self._bar.update_absolute(self.done, self.total, preview)


def check_interrupted() -> None:
    """Raise ComfyUI's interrupt exception if the user pressed Cancel."""
    import comfy.model_management

    comfy.model_management.throw_exception_if_processing_interrupted()
