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
    for index, (name, cost) in enumerate(results.evaluations.items()):
        compared = results.per_seed[name] | results.sets[name]
        is_base = index == 0
        rows.append([name, str(cost), *(_cell(compared[m].mean_b, None if is_base else compared[m])
                                        for m in metrics)])
    return markdown_table(header, rows)


def _versus(results: WarpResults, motion: str, reference: str, mode: str, metric: str) -> Paired | None:
    """``mode`` against ``reference``; None for a mode against itself, or independent against fixed."""
    if reference in (mode, *(["fixed"] if mode == "independent" else [])) or reference not in results.values[motion]:
        return None
    return results.compare(motion, reference, mode, metric)


def warp_table(results: WarpResults) -> str:
    """One row per motion × noise mode; comparisons are paired over seeds."""
    header = ["motion", "noise", "noise std", "warping error", "vs independent", "vs fixed", "PSNR (dB)",
              "PSNR vs independent", "sticking", "sticking vs independent", "detail vs independent"]
    rows = []
    for motion, modes in results.values.items():
        rows.append([motion, f"input itself: {results.input_warping_error[motion]:.4f}", *[""] * 9])
        for mode in modes:
            psnr = _versus(results, motion, "independent", mode, "PSNR (dB)")
            sticking = _versus(results, motion, "independent", mode, "sticking")
            rows.append([
                "", mode, f"{results.mean(motion, mode, 'noise std'):.3f}",
                f"{results.mean(motion, mode, 'warping error'):.4f}",
                _relative(_versus(results, motion, "independent", mode, "warping error")),
                _relative(_versus(results, motion, "fixed", mode, "warping error")),
                f"{results.mean(motion, mode, 'PSNR (dB)'):.2f}",
                f"{psnr.difference:+.2f} ({psnr.standardised:+.1f})" if psnr else "—",
                f"{results.mean(motion, mode, 'sticking'):+.3f}",
                f"{sticking.difference:+.3f} ({sticking.standardised:+.1f})" if sticking else "—",
                _relative(_versus(results, motion, "independent", mode, "detail")),
            ])
    table = markdown_table(header, rows)
    modes = next(iter(results.values.values()))
    if "independent" in modes:
        pooled = [f"{mode} {results.compare_pooled('independent', mode, 'PSNR (dB)').difference:+.2f} dB"
                  for mode in modes if mode != "independent"]
        table += "\n\nPSNR against independent noise, pooled over motions: " + ", ".join(pooled) + "."
    return table


def _relative(comparison: Paired | None) -> str:
    """Ratio of means and (difference/std; seeds improved)."""
    if comparison is None:
        return "—"
    ratio = comparison.mean_b / comparison.mean_a
    improved = "" if comparison.improved is None else f"; {comparison.improved}/{comparison.seeds}"
    return f"×{ratio:.2f} ({comparison.standardised:+.1f}{improved})"
