"""Speed of the Optical Flow and Integral Noise Warp nodes on a 16-frame 512² synthetic clip (CPU).

    python benchmarks/flow_speed.py [--repeats 10] [--frames 16] [--size 512] [--part flow|warp|all]

Prints markdown tables (seconds per clip: minimum and median wall time and minimum CPU time of the
repeats) and the machine's load, for ``benchmarks/RESULTS.md``. The nodes run on the fake ``comfy``
modules of the unit tests (progress bar and interrupt check only), on the CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from standalone import load_pack  # noqa: E402

load_pack()

import fake_comfy  # noqa: E402

from benchmarks.synthetic_video import moving_texture_clip  # noqa: E402
from temporal_noise.kernels.motion.optical_flow import FLOW_PRESETS, estimate_flow  # noqa: E402
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp  # noqa: E402
from temporal_noise.nodes.optical_flow import OpticalFlow  # noqa: E402


def timed(functions: dict[str, object], repeats: int) -> dict[str, tuple[float, float, float]]:
    """(minimum wall, median wall, minimum CPU) seconds of each function over ``repeats`` rounds.

    One warm-up call each, then rounds that call every function once, so a burst of load from other
    processes spreads over all of them instead of spoiling one. CPU time (all threads of this process)
    moves less than wall time when other processes share the cores."""
    walls = {name: [] for name in functions}
    cpus = {name: [] for name in functions}
    for function in functions.values():
        function()
    for _ in range(repeats):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            walls[name].append(time.perf_counter() - wall)
            cpus[name].append(time.process_time() - cpu)
    return {name: (min(walls[name]), statistics.median(walls[name]), min(cpus[name])) for name in functions}


def cells(timing: tuple[float, float, float]) -> str:
    return f"{timing[0]:.3f} / {timing[1]:.3f} / {timing[2]:.3f}"


def load() -> str:
    return "load average {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--part", choices=("flow", "warp", "all"), default="all")
    args = parser.parse_args()
    comfy = fake_comfy.install()
    comfy.model_management.get_torch_device = lambda: torch.device("cpu")
    images, _ = moving_texture_clip(args.frames, args.size, args.size, pan_x=2.5, pan_y=-1.5, zoom=1.01,
                                    rotate_degrees=0.5)
    frames = images.movedim(-1, 1).contiguous()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.frames} frames {args.size}²; wall min / wall median / CPU min "
          f"of {args.repeats}")
    print(f"before: {load()}\n")

    if args.part in ("flow", "all"):
        flow_table(images, frames, args.repeats)
    if args.part in ("warp", "all"):
        warp_table(images, frames, args.size, args.repeats)


def flow_table(images: torch.Tensor, frames: torch.Tensor, repeats: int) -> None:
    configs = [(preset, scale) for preset in FLOW_PRESETS for scale in (1.0, 0.5)]
    functions = {}
    for preset, scale in configs:
        functions[("flow", preset, scale)] = lambda p=preset, s=scale: estimate_flow(frames, p, s)
        functions[("node", preset, scale)] = lambda p=preset, s=scale: OpticalFlow().compute(images, p, s)
    results = timed(functions, repeats)
    print("| preset | scale | flow only (s) | Optical Flow node (s) |")
    print("|---|---|---|---|")
    for preset, scale in configs:
        print(f"| {preset} | {scale} | {cells(results['flow', preset, scale])} | "
              f"{cells(results['node', preset, scale])} |")
    print(f"\nafter flow: {load()}\n")


def warp_table(images: torch.Tensor, frames: torch.Tensor, size: int, repeats: int) -> None:
    latent = {"samples": torch.zeros(frames.shape[0], 4, size // 8, size // 8)}
    flow = estimate_flow(frames, "dis_medium", 0.5)
    configs = [(method, k) for method in ("grid", "particle") for k in (1, 2, 4)]

    def run(method: str, k: int, inputs: dict) -> None:
        IntegralNoiseWarp().warp(method, k, 0, 0.0, "fresh noise", "dis_medium", 4, 8, 0, latent=latent, **inputs)

    functions = {}
    for method, k in configs:
        functions[("frames", method, k)] = lambda m=method, k=k: run(m, k, {"images": images})
        functions[("flow", method, k)] = lambda m=method, k=k: run(m, k, {"flow": flow})
    results = timed(functions, repeats)
    print("| method | internal resolution | from frames (s) | from a FLOW (s) |")
    print("|---|---|---|---|")
    for method, k in configs:
        print(f"| {method} | {k} | {cells(results['frames', method, k])} | {cells(results['flow', method, k])} |")
    print(f"\nafter warp: {load()}")


if __name__ == "__main__":
    main()
