"""Paired statistics over seeds and markdown tables.

Every method runs on the same seeds (same scenes, same initial noise), so methods are compared seed by
seed: for a metric m and methods A (reference) and B, d_s = m_B(s) − m_A(s). A table row gives the means,
the mean paired difference d̄, its standardised size d̄ / std(d) (a per-seed effect size, not a t statistic:
multiply by √n for that) and how many seeds improved. Set metrics (Fréchet distance, histogram distance)
have one value per method; their spread comes from a paired bootstrap over seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 7


@dataclass(frozen=True)
class Paired:
    """B against A on one metric: means, mean difference, difference/std, seeds improved."""

    mean_a: float
    mean_b: float
    difference: float
    standardised: float
    improved: int | None
    seeds: int


def paired(a: torch.Tensor, b: torch.Tensor, higher_is_better: bool | None) -> Paired:
    """Paired comparison of per-seed values a, b [n]; ``higher_is_better=None`` for neutral metrics."""
    a, b = a.double(), b.double()
    difference = b - a
    spread = difference.std().item() if difference.numel() > 1 else 0.0
    standardised = difference.mean().item() / spread if spread > 0 else 0.0
    improved = None
    if higher_is_better is not None:
        improved = int(((difference > 0) if higher_is_better else (difference < 0)).sum())
    return Paired(a.mean().item(), b.mean().item(), difference.mean().item(), standardised, improved,
                  difference.numel())


def paired_set_metric(metric: Callable[[torch.Tensor], float], a: torch.Tensor, b: torch.Tensor) -> Paired:
    """A set metric of per-seed items a, b [n, ...], with a paired bootstrap over seeds for the spread."""
    generator = torch.Generator().manual_seed(BOOTSTRAP_SEED)
    n = a.shape[0]
    differences = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = torch.randint(0, n, (n,), generator=generator)
        differences.append(metric(b[pick]) - metric(a[pick]))
    value_a, value_b = metric(a), metric(b)
    spread = torch.tensor(differences).std().item()
    difference = value_b - value_a
    return Paired(value_a, value_b, difference, difference / spread if spread > 0 else 0.0, None, n)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)

