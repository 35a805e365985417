"""Markdown tables of parts A and B."""

from __future__ import annotations

from .part_freeinit import PER_SEED as FREEINIT_METRICS
from .part_freeinit import FreeInitResults
from .part_warp import WarpResults
from .stats import Paired, markdown_table


def _cell(value: float, comparison: Paired | None) -> str:
    """``mean (Δ; Δ/std; improved)``; just the mean without a comparison."""
    if comparison is None:
        return f"{value:.3f}"
    improved = "" if comparison.improved is None else f"; {comparison.improved}/{comparison.seeds}"
    return f"{value:.3f} ({comparison.difference:+.3f}; {comparison.standardised:+.1f}{improved})"


SET_METRICS = ("Fréchet distance", "colour histogram distance")


def freeinit_table(results: FreeInitResults) -> str:
    """One row per variant; cells are mean (paired difference vs baseline; difference/std; seeds improved)."""
    metrics = [*FREEINIT_METRICS, *SET_METRICS]
    header = ["variant", "model evals / video", *metrics]
    rows = [["data", "—", *(f"{results.data[m]:.3f}" for m in metrics)]]
    for name, cost in results.evaluations.items():
        compared = results.per_seed[name] | results.sets[name]
        is_base = name.startswith("baseline")
        rows.append([name, str(cost), *(_cell(compared[m].mean_b, None if is_base else compared[m])
                                        for m in metrics)])
    return markdown_table(header, rows)


def warp_table(results: WarpResults) -> str:
    """One row per motion × noise mode."""
    header = ["motion", "noise", "noise std", "warping error", "vs independent", "vs fixed", "PSNR (dB)",
              "PSNR vs independent", "sticking"]
    rows = []
    for motion, modes in results.means.items():
        rows.append([motion, f"input (data): {results.input_warping_error[motion]:.3f}", "", "", "", "", "",
                     "", ""])
        for mode, means in modes.items():
            versus = results.against_independent[motion].get(mode)
            fixed = results.against_fixed[motion].get(mode)
            rows.append([
                "", mode, f"{means['noise std']:.3f}", f"{means['warping error']:.4f}",
                _relative(versus["warping error"]) if versus else "—",
                _relative(fixed) if fixed else "—",
                f"{means['PSNR (dB)']:.2f}",
                f"{versus['PSNR (dB)'].difference:+.2f} ({versus['PSNR (dB)'].standardised:+.1f})" if versus
                else "—",
                f"{means['sticking']:+.3f}",
            ])
    return markdown_table(header, rows)


def _relative(comparison: Paired) -> str:
    """Ratio of means and (difference/std; seeds improved)."""
    ratio = comparison.mean_b / comparison.mean_a
    return f"×{ratio:.2f} ({comparison.standardised:+.1f}; {comparison.improved}/{comparison.seeds})"
