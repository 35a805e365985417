"""Run the quality benchmark: train (or load) the tiny models, then parts A (FreeInit) and B (warping).

    python benchmarks/quality/run.py [--seeds 32] [--cache DIR] [--out DIR] [--threads 2] [--parts vp flow warp]

Writes ``results.md`` (tables, timings) and PNG figures to ``--out`` (default: benchmarks/quality/results).
Models are cached in ``--cache`` (default $TEMPORAL_NOISE_QUALITY_CACHE or
~/.cache/comfyui-temporal-noise/quality), under a hash of the training code, plan and torch version.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.quality import figures, flow_training, part_freeinit, part_warp, report, training  # noqa: E402
from benchmarks.quality.sampling import image_denoiser, per_seed_noise, sample_video  # noqa: E402
from benchmarks.quality.scenes import FRAMES, SIZE, random_images  # noqa: E402
from benchmarks.quality.schedule import ddim_sample, ddim_timesteps  # noqa: E402
from benchmarks.quality.video_samplers import FlowSampler, VPSampler  # noqa: E402

DDIM_STEPS = 10
FIGURE_SEEDS = 3
FIGURE_MOTIONS = ("pan 0.5 px", "pan 2.5 px")  # fixed noise wins at the first, warped noise at the second
PARTS = ("vp", "flow", "warp")


def quality_figure(models: training.Models, out: Path) -> None:
    """Data | image UNet samples, and a few video UNet samples: do the models make discs?"""
    with torch.no_grad():
        noise = torch.randn(16, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
        images = ddim_sample(image_denoiser(models.image), noise, ddim_timesteps(DDIM_STEPS))
        videos = sample_video(models.video, per_seed_noise([100, 101], (3, FRAMES, SIZE, SIZE)), DDIM_STEPS)
    data = random_images(16, torch.Generator().manual_seed(2))
    top = figures.side_by_side(figures.image_grid(data, 4), figures.image_grid(images, 4))
    rows = figures.labelled_rows([(f"video UNet\nsample {i + 1}", video) for i, video in enumerate(videos)])
    figures.save(out / "models.png", figures.side_by_side(top, rows))


def freeinit_part(models: training.Models, seeds: list[int], out: Path) -> part_freeinit.FreeInitResults:
    """Part A with every variant, and its figure: data | baseline | FreeInit +4 for a few seeds."""
    generated = part_freeinit.generate(VPSampler(models.video), seeds, part_freeinit.variants(full=True), DDIM_STEPS)
    data = part_freeinit.data_videos(seeds)
    results = part_freeinit.compare(generated, data, part_freeinit.reference_videos(4 * len(seeds)))
    baseline, *variants = generated
    best = next(label for label in variants if label.endswith("+4"))
    rows = []
    for i in range(FIGURE_SEEDS):
        rows += [(f"data {i}", data[i]), (f"baseline {i}", generated[baseline].videos[i]),
                 (f"FreeInit +4 {i}", generated[best].videos[i])]
    figures.save(out / "freeinit.png", figures.labelled_rows(rows))
    return results


def flow_part(flow: torch.nn.Module, seeds: list[int]) -> part_freeinit.FreeInitResults:
    """Part A on the rectified-flow model: today's FreeInit, the re-noise level sweep, FreqPrior's options."""
    generated = part_freeinit.generate(FlowSampler(flow), seeds, part_freeinit.flow_variants(), DDIM_STEPS)
    return part_freeinit.compare(generated, part_freeinit.data_videos(seeds),
                                 part_freeinit.reference_videos(4 * len(seeds)))


def warp_part(models: training.Models, seeds: list[int], out: Path) -> part_warp.WarpResults:
    """Part B with every noise mode, and its figure: the noise modes side by side for two motions."""
    results = part_warp.run(models.image, seeds, list(part_warp.NOISE_MODES))
    rows = [(f"{motion}\n{mode}", video) for motion in FIGURE_MOTIONS
            for mode, video in results.examples[motion].items()]
    figures.save(out / "warp.png", figures.labelled_rows(rows))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=32, help="seeds (videos) per configuration")
    parser.add_argument("--plan", choices=("full", "ci"), default="full",
                        help="training plan: full, or the reduced test's (less training)")
    parser.add_argument("--cache", default=None, help="model cache folder")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"), help="output folder")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="torch CPU threads (default 2: CI machines have 2 cores)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="parts to run (default all; a subset writes results-<parts>.md)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    seeds = list(range(args.seeds))
    timings = {}
    load_before = os.getloadavg()
    cpu_started = time.process_time()

    started = time.perf_counter()
    plan = training.FULL_PLAN if args.plan == "full" else training.CI_PLAN
    models = training.load_or_train(plan, training.cache_dir(args.cache))
    if "flow" in args.parts:
        flow_plan = flow_training.FULL_FLOW_PLAN if args.plan == "full" else flow_training.CI_FLOW_PLAN
        flow = flow_training.load_or_train_flow(models, flow_plan, training.cache_dir(args.cache))
    timings["models (train or load)"] = time.perf_counter() - started
    lines = [
        "# Quality benchmark results",
        "",
        f"`python benchmarks/quality/run.py --seeds {args.seeds} --plan {args.plan}"
        f"{'' if args.parts == list(PARTS) else ' --parts ' + ' '.join(args.parts)}`, {datetime.date.today()}, "
        f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or platform.machine()}.",
        "",
    ]
    if "vp" in args.parts:
        quality_figure(models, out)
        started = time.perf_counter()
        freeinit = freeinit_part(models, seeds, out)
        timings["part A (FreeInit, v-prediction)"] = time.perf_counter() - started
        lines += ["## Part A: FreeInit (v-prediction video UNet, DDIM 10 steps)", "",
                  "Cells: mean (paired difference vs baseline; difference/std; seeds improved).", "",
                  report.freeinit_table(freeinit), ""]
    if "flow" in args.parts:
        started = time.perf_counter()
        flow_results = flow_part(flow, seeds)
        timings["part A (FreeInit, rectified flow)"] = time.perf_counter() - started
        lines += ["## Part A: FreeInit (rectified-flow video UNet, Euler 10 steps, shift 3)", "",
                  "Cells: mean (paired difference vs baseline; difference/std; seeds improved). keep k %: later "
                  "passes start from the previous result re-noised to the level keeping k % of it and sample the "
                  "schedule from there; without it, t = 0.999 and the whole schedule (the nodes until now).", "",
                  report.freeinit_table(flow_results), ""]
    if "warp" in args.parts:
        started = time.perf_counter()
        warp = warp_part(models, seeds, out)
        timings["part B (warping)"] = time.perf_counter() - started
        lines += ["## Part B: SDEdit with warped noise (image UNet per frame)", "",
                  "vs independent, vs fixed, detail: ratio of means (difference/std; seeds improved); PSNR and "
                  "sticking vs independent: paired difference (difference/std).", "",
                  report.warp_table(warp), ""]
    lines += [
        "## Timings",
        "",
        *(f"- {name}: {seconds:.0f} s" for name, seconds in timings.items()),
        f"- total: {sum(timings.values()):.0f} s wall, {time.process_time() - cpu_started:.0f} s CPU; load "
        f"average (1 min) {load_before[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} cores)",
    ]
    name = "results.md" if args.parts == list(PARTS) else f"results-{'-'.join(args.parts)}.md"
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
