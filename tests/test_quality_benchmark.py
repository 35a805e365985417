"""Reduced quality benchmark (benchmarks/quality): tiny models trained here, directions asserted.

Trains the CI plan of the tiny image and video UNets (a few minutes on 2 CPU cores; cached across runs
under $TEMPORAL_NOISE_QUALITY_CACHE or ~/.cache/comfyui-temporal-noise/quality, keyed by a hash of the
code), then checks with paired statistics over fixed seeds that

* FreeInit (through ``kernels.freeinit.passes``) raises frame-to-frame consistency, difference/std > 2, and lowers
  low-frequency flicker, without raising the Fréchet distance (paired bootstrap);
* on the rectified-flow model (Euler, shift 3), FreeInit at the flow default (later passes restarted at the level
  keeping ``FLOW_KEPT`` of the result) does the same and keeps at least 80 % of the baseline's motion;
* noise warped by ``kernels.warp.sequence`` beats independent noise on warping error at every motion and
  fixed noise at ≥ 2 px/frame; against independent noise, fixed noise adds sticking and warped noise removes
  it; warped noise keeps unit variance and the PSNR of independent noise (within 0.3 dB).

Checked by breaking the kernels on purpose (all-pass, all-stop or spatial-only filter, diffusing with the
fresh noise, warp returning fresh noise, a still frame, reversed maps, or noise scaled by 0.8; for the flow
model all-pass, all-stop and re-noising at σ = 1 exactly): each of those fails at least one test here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from benchmarks.quality import flow_training, part_freeinit, part_warp, training
from benchmarks.quality.video_samplers import FlowSampler, VPSampler

FREEINIT_SEEDS = list(range(24))
WARP_SEEDS = list(range(32))
WARP_MODES = ["independent", "fixed", "particle warp", "grid warp"]
WARPED = ("particle warp", "grid warp")
FAST_MOTION = "pan 2.5 px"
FLOW_ITERATIONS = 3  # 2 reinitialisations: the flow model's gain is in by then (results.md)


@pytest.fixture(scope="module")
def models() -> Iterator[training.Models]:
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))
    try:
        yield training.load_or_train(training.CI_PLAN, training.cache_dir())
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def freeinit_results(models: training.Models) -> part_freeinit.FreeInitResults:
    variant = part_freeinit.Variant(part_freeinit.DEFAULT, 5)
    generated = part_freeinit.generate(VPSampler(models.video), FREEINIT_SEEDS, [variant], steps=10)
    return part_freeinit.compare(generated, part_freeinit.data_videos(FREEINIT_SEEDS),
                                 part_freeinit.reference_videos(4 * len(FREEINIT_SEEDS)))


@pytest.fixture(scope="module")
def flow_results(models: training.Models) -> part_freeinit.FreeInitResults:
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))
    try:
        flow = flow_training.load_or_train_flow(models, flow_training.CI_FLOW_PLAN, training.cache_dir())
        variant = part_freeinit.Variant(part_freeinit.DEFAULT, FLOW_ITERATIONS, kept=part_freeinit.FLOW_KEPT)
        generated = part_freeinit.generate(FlowSampler(flow), FREEINIT_SEEDS, [variant], steps=10)
    finally:
        torch.set_num_threads(threads)
    return part_freeinit.compare(generated, part_freeinit.data_videos(FREEINIT_SEEDS),
                                 part_freeinit.reference_videos(4 * len(FREEINIT_SEEDS)))


@pytest.fixture(scope="module")
def warp_results(models: training.Models) -> part_warp.WarpResults:
    return part_warp.run(models.image, WARP_SEEDS, WARP_MODES)


def _freeinit_label(results: part_freeinit.FreeInitResults) -> str:
    return next(name for name in results.per_seed if name.endswith("+4"))


def test_freeinit_raises_temporal_consistency(freeinit_results):
    comparison = freeinit_results.per_seed[_freeinit_label(freeinit_results)]
    for metric in ("pixel consistency", "feature consistency"):
        assert comparison[metric].difference > 0, metric
    assert comparison["pixel consistency"].standardised > 2.0
    # Consistency also rises a little when every iteration keeps its own frames' low frequencies (a filter
    # without its temporal part, or an all-pass one): only the real spatio-temporal filter lowers flicker.
    flicker = comparison["low-frequency difference"]
    assert flicker.standardised < -0.5 and flicker.improved >= 2 * flicker.seeds // 3, flicker


def test_freeinit_does_not_raise_frechet_distance(freeinit_results):
    frechet = freeinit_results.sets[_freeinit_label(freeinit_results)]["Fréchet distance"]
    assert frechet.standardised < 2.0, frechet


def test_flow_freeinit_raises_temporal_consistency(flow_results):
    """On the flow model the re-noise level carries the previous pass's layout: consistency rises and the
    low-frequency flicker falls. On these seeds pixel consistency rises by 3.0 std on 24/24 seeds; an all-pass
    filter (−1.7), an all-stop one (−6.7) and re-noising to σ = 1 exactly (+1.6) fail here."""
    comparison = flow_results.per_seed[list(flow_results.per_seed)[1]]
    pixel = comparison["pixel consistency"]
    assert pixel.standardised > 2.0 and pixel.improved >= 0.85 * pixel.seeds, pixel
    assert comparison["feature consistency"].difference > 0
    flicker = comparison["low-frequency difference"]
    assert flicker.standardised < -0.5 and flicker.improved >= 2 * flicker.seeds // 3, flicker


def test_flow_freeinit_keeps_motion_and_lowers_frechet_distance(flow_results):
    """FreeInit's known failure is a still, over-smoothed video: motion stays at ≥ 80 % of the baseline's. The
    restarted passes refine the result, so the Fréchet distance falls (−2.5 std on these seeds; re-noising to
    σ = 1, which keeps nothing, raises it)."""
    label = list(flow_results.per_seed)[1]
    motion = flow_results.per_seed[label]["motion (px/frame)"]
    assert motion.mean_b >= 0.8 * motion.mean_a, motion
    frechet = flow_results.sets[label]["Fréchet distance"]
    assert frechet.difference < 0, frechet


def test_warped_noise_beats_independent_noise_at_every_motion(warp_results):
    for motion in warp_results.values:
        for mode in WARPED:
            error = warp_results.compare(motion, "independent", mode, "warping error")
            assert error.standardised < -2.0 and error.improved == error.seeds, (motion, mode, error)


def test_warped_noise_beats_fixed_noise_at_fast_motion(warp_results):
    for mode in WARPED:
        error = warp_results.compare(FAST_MOTION, "fixed", mode, "warping error")
        assert error.standardised < -1.0, (mode, error)


def test_sticking_sign(warp_results):
    """Against independent noise (whose detail only follows the content through the edit itself), fixed
    noise adds sticking (> 0) and warped noise removes it (< 0), at every motion."""
    for motion in warp_results.values:
        fixed = warp_results.compare(motion, "independent", "fixed", "sticking")
        assert fixed.standardised > 1.0, (motion, fixed)
        for mode in WARPED:
            warped = warp_results.compare(motion, "independent", mode, "sticking")
            assert warped.standardised < -1.0, (motion, mode, warped)


def test_warped_noise_keeps_unit_variance_and_psnr(warp_results):
    """Every warped frame is N(0, 1) white noise, so SDEdit quality matches independent noise: PSNR within
    0.3 dB, pooled over the motions (each has its own scenes and noise: 4× the seeds)."""
    for mode in WARPED:
        for motion in warp_results.values:
            assert abs(warp_results.mean(motion, mode, "noise std") - 1.0) < 0.02, (motion, mode)
        psnr = warp_results.compare_pooled("independent", mode, "PSNR (dB)")
        assert abs(psnr.difference) < 0.3, (mode, psnr)
