"""Speed and memory of the noise warps: particle, grid and HIWYN(N = 2, 4, 8), per device.

    python benchmarks/warp_speed.py            # 256², 512², 1024² × 4 and 16 channels, then the drift check
    python benchmarks/warp_speed.py --quick    # smoke run: 128² and 256², 4 channels, 100-frame drift
    python benchmarks/warp_speed.py --no-drift --rounds 3 --sizes 1024 --channels 4   # 3 rounds, round-robin
    python benchmarks/warp_speed.py --paired 6 --sizes 1024 --channels 4   # both HIWYN(8)/grid, paired frames

Every configuration runs in a fresh subprocess (so that its peak memory is its own: on the CPU how far the
process's RSS high-water mark rises above its start-up (Python and torch excluded; inputs, workspace and
temporaries included), ``torch.cuda.max_memory_allocated`` on CUDA) and warps a sequence with one
workspace, as ``warp_noise_sequence`` does: a warm-up frame, then the timed frames; the table gives the
minimum and the median wall ms per frame, and the minimum process CPU time per frame (all threads; on a
busy machine the single-thread CPU time is the better estimate of the unloaded speed). With ``--rounds R``
each size's configurations run R times in turn (a VM's speed can drift by 50 % within minutes; taking
the best of rounds spread over the same period keeps the ratios side by side); ``--paired N`` compares
HIWYN(8) with the grid frame against frame instead (each HIWYN(8) frame between two grid frames, in one
process), which cancels the drift. The motion is a rotation by 2° with a 3 % zoom about the centre (the
official code was measured on "rotation + zoom"). The ratios compare the grid with HIWYN(8) measured in the
same run, in both forms: ``hiwyn8``, the counts-based reference of this pack (the same law; the sub-pixel
noise is never drawn), and ``hiwyn8-upsampled``, HIWYN as published (the N²·C·H·W upsampled noise drawn
and stored, every octagon's sub-pixels summed: 4.3 GiB at 1024² × 16; ``--paired`` reports both); and they
compare the particle warp with the official Taichi implementation's figures (2-core CPU, 4 channels,
papers.md). The drift check warps 1000 frames (100 with --quick) of 48² × 4 noise and reports every frame's
variance against its χ² bounds, the variance trend, and the last frame's KS p-value and lag-1
autocorrelation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from standalone import load_pack  # noqa: E402

load_pack()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy import stats  # noqa: E402

from temporal_noise.kernels.motion.flow_maps import identity_map  # noqa: E402
from temporal_noise.kernels.warp.counter_rng import frame_noise  # noqa: E402
from temporal_noise.kernels.warp.frame import Variant  # noqa: E402
from temporal_noise.kernels.warp.hiwyn import hiwyn_variant, warp_hiwyn_upsampled  # noqa: E402
from temporal_noise.kernels.warp.sequence import METHODS, FrameStep, warp_noise_sequence  # noqa: E402
from temporal_noise.kernels.warp.workspace import Workspace  # noqa: E402

TAICHI_MS = {256: (51.0, 29.0), 512: (208.0, 115.0), 1024: (841.0, 457.0)}  # (f64, f32), 4 channels
VARIANTS = ("particle", "grid", "hiwyn2", "hiwyn4", "hiwyn8", "hiwyn8-upsampled")
REFERENCES = {"hiwyn8": "HIWYN(8)", "hiwyn8-upsampled": "upsampled HIWYN(8)"}
Step = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None, int, int, torch.Tensor], torch.Tensor]


def rotation_zoom(size: int, degrees: float = 2.0, zoom: float = 0.97, device: str = "cpu") -> torch.Tensor:
    """Backward map of a rotation by ``degrees`` and a zoom by ``zoom`` about the frame centre."""
    angle = math.radians(degrees)
    m = identity_map(size, size, device=device)
    a = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], device=device)
    return torch.einsum("ij,jhw->ihw", a / zoom, m - size / 2) + size / 2


def variant_of(method: str) -> Variant:
    """The warp variant of a method name of VARIANTS."""
    return hiwyn_variant(int(method[5:])) if method.startswith("hiwyn") else METHODS[method]


def step_of(method: str, channels: int, size: int, device: torch.device) -> Step:
    """The per-frame step of a method of VARIANTS, (state, map, mask, seed, frame, out) → out, with its
    buffers kept between frames."""
    if method != "hiwyn8-upsampled":
        return FrameStep(variant_of(method), channels, size, size, device)
    workspace = Workspace(device)

    def upsampled(state: torch.Tensor, backward_map: torch.Tensor, mask: torch.Tensor | None, seed: int, frame: int,
                  out: torch.Tensor) -> torch.Tensor:
        warped = warp_hiwyn_upsampled(state, backward_map, seed=seed, frame=frame, upsample=8, fresh_mask=mask,
                                      workspace=workspace)
        return out.copy_(warped.view_as(out))

    return upsampled


def timed(call: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """Wall and process CPU seconds of ``call()``, the device synchronised around it."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, cpu_start = time.perf_counter(), time.process_time()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu_start


def measure(method: str, size: int, channels: int, frames: int, device: str) -> dict:
    """ms per frame (each timed frame) and peak memory of one configuration, in this process."""
    dev = torch.device(device)
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    step = step_of(method, channels, size, dev)
    buffers = [frame_noise(channels, size, size, seed=0, frame=0, device=dev), torch.empty(channels, size, size,
                                                                                           device=dev)]
    backward_map = rotation_zoom(size, device=device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, cpu_times = [], []
    for frame in range(1, frames + 2):  # frame 1 warms up
        wall, cpu = timed(lambda f=frame: step(buffers[(f - 1) % 2], backward_map, None, 0, f,
                                               out=buffers[f % 2].view(channels, -1)), dev)
        if frame > 1:
            times.append(wall * 1e3)
            cpu_times.append(cpu * 1e3)
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - start_rss
    return {"min_ms": min(times), "median_ms": statistics.median(times), "cpu_ms": min(cpu_times), "peak_mib": peak}


def paired_ratio(size: int, channels: int, pairs: int, device: str) -> list[str]:
    """Each HIWYN(8) reference / grid in one process: each reference frame between two grid frames, the ratio
    of its time to their mean; the median over ``pairs`` frames is robust to a VM whose speed drifts."""
    dev = torch.device(device)
    backward_map = rotation_zoom(size, device=device)
    noise = frame_noise(channels, size, size, seed=0, frame=0, device=dev)
    out = torch.empty(channels, size * size, device=dev)
    steps = {name: step_of(name, channels, size, dev) for name in ("grid", *REFERENCES)}

    def wall(name: str, frame: int) -> float:
        return timed(lambda: steps[name](noise, backward_map, None, 0, frame, out), dev)[0]

    for name in steps:
        wall(name, 1)  # warm-up
    ratios: dict[str, list[float]] = {name: [] for name in REFERENCES}
    for frame in range(2, pairs + 2):
        for name in REFERENCES:
            before, reference, after = wall("grid", frame), wall(name, frame), wall("grid", frame)
            ratios[name].append(reference / ((before + after) / 2))
    return [f"{size}² × {channels}, {pairs} pairs: {label}/grid median {statistics.median(ratios[name]):.1f}×, "
            f"min {min(ratios[name]):.1f}×, max {max(ratios[name]):.1f}×" for name, label in REFERENCES.items()]


def run_isolated(method: str, size: int, channels: int, frames: int, device: str, threads: int) -> dict:
    """:func:`measure` in a fresh Python process (clean peak memory) with ``threads`` torch threads."""
    command = [sys.executable, __file__, "--threads", str(threads), "--single", method, str(size), str(channels),
               str(frames), device]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def frames_for(method: str, size: int, quick: bool) -> int:
    if method.startswith("hiwyn"):
        return 1 if size >= 512 or quick else 2
    return 3 if quick else (5 if size >= 1024 else 8)


def merge(runs: list[dict]) -> dict:
    """One row from repeated runs: the best minimum and CPU time, the median of the medians, the largest peak."""
    return {"min_ms": min(r["min_ms"] for r in runs), "median_ms": statistics.median(r["median_ms"] for r in runs),
            "cpu_ms": min(r["cpu_ms"] for r in runs), "peak_mib": max(r["peak_mib"] for r in runs)}


def speed_table(device: str, sizes: list[int], channel_counts: list[int], quick: bool, threads: int,
                rounds: int = 1) -> list[str]:
    rows = ["| size | C | method | min ms/frame | median ms/frame | CPU ms/frame | peak MiB over start | "
            "ratios (min ms) |", "|---|---|---|---|---|---|---|---|"]
    print("\n".join(rows), flush=True)
    for size in sizes:
        for channels in channel_counts:
            runs: dict[str, list[dict]] = {method: [] for method in VARIANTS}
            for _ in range(rounds):  # round-robin, so that every method sees the machine's slow and fast spells
                for method in VARIANTS:
                    runs[method].append(run_isolated(method, size, channels, frames_for(method, size, quick), device,
                                                     threads))
            results = {method: merge(found) for method, found in runs.items()}
            for method in VARIANTS:
                r = results[method]
                ratio = ""
                if method == "grid":
                    ratio = "; ".join(f"{label}/grid = {results[name]['min_ms'] / r['min_ms']:.1f}×"
                                      for name, label in REFERENCES.items())
                elif method == "particle":
                    ratio = f"grid/particle = {results['grid']['min_ms'] / r['min_ms']:.1f}×"
                    if channels == 4 and size in TAICHI_MS and device == "cpu":
                        f64, f32 = TAICHI_MS[size]
                        ratio += f"; Taichi f64/f32 = {f64 / r['min_ms']:.1f}× / {f32 / r['min_ms']:.1f}×"
                rows.append(f"| {size}² | {channels} | {method} | {r['min_ms']:.1f} | {r['median_ms']:.1f} | "
                            f"{r['cpu_ms']:.1f} | {r['peak_mib']:.0f} | {ratio} |")
                print(rows[-1], flush=True)
    return rows


def drift_check(frames: int, device: str) -> list[str]:

    size, channels = 48, 4
    rows = ["| method | frames | variance min / max | χ² bounds (p = 10⁻⁴/frames) | variance trend over the run | "
            "last frame KS p | last frame lag-1 |", "|---|---|---|---|---|---|---|"]
    print("\n".join(rows), flush=True)
    maps = rotation_zoom(size, degrees=3.0, zoom=0.99, device=device)[None].expand(frames - 1, 2, size, size)
    n = channels * size * size
    lo, hi = (stats.chi2.ppf(q, n) / n for q in (1e-4 / frames / 2, 1 - 1e-4 / frames / 2))
    for method in ("particle", "grid"):
        video = warp_noise_sequence(maps, channels, seed=1, method=method, device=device).double().cpu()
        variance = video.square().mean((1, 2, 3)).numpy()
        slope = float(np.polyfit(np.arange(frames), variance, 1)[0])
        last = video[-1]
        lag = float((last[:, :, 1:] * last[:, :, :-1]).mean() / last.square().mean())
        rows.append(f"| {method} | {frames} | {variance.min():.4f} / {variance.max():.4f} | {lo:.4f} – {hi:.4f} | "
                    f"{slope * frames:+.4f} | {stats.kstest(last.numpy().ravel(), 'norm').pvalue:.3f} | {lag:+.4f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 4 channels, 100 frames drift")
    parser.add_argument("--no-drift", action="store_true", help="skip the drift check")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch threads (default: all)")
    parser.add_argument("--sizes", type=int, nargs="+", help="frame sizes (default: 256 512 1024)")
    parser.add_argument("--channels", type=int, nargs="+", help="channel counts (default: 4 16)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat every size's configurations this many times, round-robin (noisy machines)")
    parser.add_argument("--paired", type=int, metavar="N",
                        help="only HIWYN(8)/grid, N HIWYN(8) frames each between two grid frames, in one process")
    parser.add_argument("--single", nargs=5, metavar=("METHOD", "SIZE", "C", "FRAMES", "DEVICE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.single:
        method, size, channels, frames, device = args.single
        print(json.dumps(measure(method, int(size), int(channels), int(frames), device)))
        return
    sizes, channels = ([128, 256], [4]) if args.quick else ([256, 512, 1024], [4, 16])
    sizes, channels = args.sizes or sizes, args.channels or channels
    if args.paired:
        for size in sizes:
            for count in channels:
                for line in paired_ratio(size, count, args.paired, "cuda" if torch.cuda.is_available() else "cpu"):
                    print(line, flush=True)
        return
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"# warp speed — {time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    for device in devices:
        name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
        print(f"\n## {device}: {name}\n")
        speed_table(device, sizes, channels, args.quick, args.threads, args.rounds)
    if not args.no_drift:
        print("\n## drift (cpu)\n")
        drift_check(100 if args.quick else 1000, "cpu")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
