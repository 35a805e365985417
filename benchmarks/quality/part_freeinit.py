"""Part A: FreeInit on the tiny video UNets (v-prediction with DDIM, rectified flow with Euler on a shifted
schedule), against plain sampling, with paired statistics over seeds.

Every variant starts from the same per-seed noise; iteration 0 of every variant is the baseline itself.
Per-seed metrics: frame-0-vs-frame-k cosine (pixels, random features), low-frequency frame difference,
motion speed (data's own for reference). Set metrics against held-out data: Fréchet distance on random
features and the colour-histogram distance, with a paired bootstrap over seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from temporal_noise.kernels import LowPassFilter

from . import metrics
from .sampling import per_seed_noise, run_freeinit
from .scenes import FRAMES, SIZE, random_videos
from .stats import Paired, paired, paired_set_metric

REFERENCE_SEED = 1_000_003  # data videos for the set metrics, apart from the benchmark seeds
DEFAULT = LowPassFilter("gaussian", 0.25, 0.25)


@dataclass(frozen=True)
class Variant:
    """A FreeInit setting: ``iterations`` counts all sampling passes (1 + the extra iterations).

    ``kept``: re-noise to the level that keeps this share of x0 and sample the schedule from there (None:
    the paper's t = 999, the whole schedule). ``variance_preserving``: FreqPrior's √(1−H²) mix.
    ``partial``: every pass but the last runs this share of its steps (FreqPrior's partial sampling).
    """

    lowpass: LowPassFilter
    iterations: int
    coarse_to_fine: bool = False
    every_iteration: bool = False  # report the result of every iteration, not only the last
    kept: float | None = None
    variance_preserving: bool = False
    partial: float | None = None

    def label(self, extra: int) -> str:
        f = self.lowpass
        order = f" n={f.order}" if f.kind == "butterworth" else ""
        options = [f"+{extra}"]
        options += ["coarse-to-fine"] if self.coarse_to_fine else []
        options += [f"keep {100 * self.kept:g} %"] if self.kept is not None else []
        options += ["√(1−H²) mix"] if self.variance_preserving else []
        options += [f"partial {self.partial:g}"] if self.partial is not None else []
        return f"{f.kind}{order} d_s={f.d_s:g} d_t={f.d_t:g}, {', '.join(options)}"


def variants(full: bool) -> list[Variant]:
    """The iteration sweep (gaussian 0.25, +1 … +4), coarse-to-fine; with ``full`` also every filter kind,
    a d_s/d_t sweep and lower re-noise levels at +2 iterations, and FreqPrior's options."""
    chosen = [Variant(DEFAULT, 5, every_iteration=True), Variant(DEFAULT, 5, coarse_to_fine=True)]
    if full:
        chosen += [Variant(LowPassFilter(kind, 0.25, 0.25, 4), 3) for kind in ("butterworth", "ideal", "box")]
        chosen += [Variant(LowPassFilter("gaussian", d_s, d_t), 3)
                   for d_s, d_t in ((0.125, 0.25), (0.5, 0.25), (0.25, 0.125), (0.25, 0.5))]
        chosen += [Variant(DEFAULT, 3, kept=kept) for kept in VP_KEPT_SWEEP]
        chosen += [Variant(DEFAULT, 3, variance_preserving=True), Variant(DEFAULT, 5, partial=0.5)]
    return chosen


VP_KEPT_SWEEP = (0.1, 0.2, 0.3)  # above the paper's 6.8 % (SD's t = 999)
FLOW_KEPT_SWEEP = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)  # shares of x0 kept by the re-noised state
FLOW_KEPT = 0.3  # the flow models' default, chosen from the sweep (results/results-flow.md)


def flow_variants() -> list[Variant]:
    """For the flow model: today's t = 0.999, the re-noise level sweep (+2), the chosen level at +4, and at
    the chosen level FreqPrior's √(1−H²) mix (+2, equal evaluations) and partial sampling (+4 with half-length
    non-final passes, about the evaluations of +2)."""
    chosen = [Variant(DEFAULT, 3), Variant(DEFAULT, 5)]
    chosen += [Variant(DEFAULT, 3, kept=kept) for kept in FLOW_KEPT_SWEEP]
    chosen += [Variant(DEFAULT, 5, kept=FLOW_KEPT),
               Variant(DEFAULT, 3, kept=FLOW_KEPT, variance_preserving=True),
               Variant(DEFAULT, 5, kept=FLOW_KEPT, partial=0.5)]
    return chosen


@dataclass
class Generated:
    videos: torch.Tensor  # [B, 3, T, H, W]
    evaluations: int  # model evaluations per video


@dataclass
class Evaluation:
    """Per-seed metrics of one set of videos and its set features."""

    per_seed: dict[str, torch.Tensor]
    features: torch.Tensor  # [B, T, 64]
    histograms: torch.Tensor  # [B, bins]


PER_SEED = {  # metric: higher is better (None: neither)
    "pixel consistency": True,
    "feature consistency": True,
    "low-frequency difference": False,
    "motion (px/frame)": None,
}


def evaluate(videos: torch.Tensor) -> Evaluation:
    per_seed = {
        "pixel consistency": metrics.pixel_consistency(videos),
        "feature consistency": metrics.feature_consistency(videos),
        "low-frequency difference": metrics.low_frequency_difference(videos),
        "motion (px/frame)": metrics.motion_speed(videos),
    }
    histograms = torch.stack([metrics.colour_histogram(video) for video in videos])
    return Evaluation(per_seed, metrics.video_features(videos), histograms)


def generate(sampler, seeds: list[int], chosen: list[Variant], steps: int) -> dict[str, Generated]:
    """The baseline (``sampler``'s schedule of ``steps`` steps; the first entry) and every variant's videos,
    keyed by label."""
    noise = per_seed_noise(seeds, (3, FRAMES, SIZE, SIZE))
    with torch.no_grad():
        baseline = sampler.sample(noise, sampler.sigmas(steps))
        generated = {sampler.name: Generated(baseline, steps)}
        for variant in chosen:
            results, counts = run_freeinit(sampler, seeds, noise, variant.lowpass, variant.iterations, steps,
                                           variant.coarse_to_fine, baseline, variant.kept,
                                           variant.variance_preserving, variant.partial)
            extras = range(1, len(results)) if variant.every_iteration else [len(results) - 1]
            for extra in extras:
                generated[variant.label(extra)] = Generated(results[extra], sum(counts[: extra + 1]))
    return generated


@dataclass
class FreeInitResults:
    seeds: int
    data: dict[str, float]
    evaluations: dict[str, int]
    per_seed: dict[str, dict[str, Paired]] = field(default_factory=dict)  # variant → metric → vs baseline
    sets: dict[str, dict[str, Paired]] = field(default_factory=dict)


def compare(generated: dict[str, Generated], data: torch.Tensor, reference: torch.Tensor) -> FreeInitResults:
    """Paired comparisons of every variant with the baseline (the first entry); data's own values for
    reference."""
    reference_features = metrics.FrechetReference(metrics.video_features(reference).flatten(0, 1))
    reference_histogram = metrics.colour_histogram(reference)

    def frechet(features: torch.Tensor) -> float:
        return reference_features.distance(features.flatten(0, 1))

    def histogram(histograms: torch.Tensor) -> float:
        total = histograms.sum(dim=0)
        return metrics.histogram_distance(total / total.sum(), reference_histogram)

    data_evaluation = evaluate(data)
    results = FreeInitResults(
        seeds=data.shape[0],
        data={name: values.mean().item() for name, values in data_evaluation.per_seed.items()}
        | {"Fréchet distance": frechet(data_evaluation.features),
           "colour histogram distance": histogram(data_evaluation.histograms)},
        evaluations={name: g.evaluations for name, g in generated.items()},
    )
    evaluations = {name: evaluate(g.videos) for name, g in generated.items()}
    base = next(iter(evaluations.values()))
    for name, evaluation in evaluations.items():
        results.per_seed[name] = {metric: paired(base.per_seed[metric], evaluation.per_seed[metric], better)
                                  for metric, better in PER_SEED.items()}
        results.sets[name] = {
            "Fréchet distance": paired_set_metric(frechet, base.features, evaluation.features),
            "colour histogram distance": paired_set_metric(histogram, base.histograms, evaluation.histograms),
        }
    return results


def data_videos(seeds: list[int]) -> torch.Tensor:
    """One data video per seed (for the data row and the figures)."""
    return torch.cat([random_videos(1, torch.Generator().manual_seed(seed)) for seed in seeds])


def reference_videos(count: int) -> torch.Tensor:
    """Held-out data videos for the Fréchet and histogram distances."""
    return random_videos(count, torch.Generator().manual_seed(REFERENCE_SEED))
