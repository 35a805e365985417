"""Speed of the Optical Flow and Integral Noise Warp nodes on a 16-frame 512² synthetic clip (CPU).

    python benchmarks/flow_speed.py [--repeats 5] [--frames 16] [--size 512]

Prints markdown tables (minimum and median of the repeats, seconds per clip) and the machine's load, for
``benchmarks/RESULTS.md``. The nodes run on the fake ``comfy`` modules of the unit tests (progress bar and
interrupt check only), on the CPU.
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
from temporal_noise.kernels.optical_flow import FLOW_PRESETS, estimate_flow  # noqa: E402
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp  # noqa: E402
from temporal_noise.nodes.optical_flow import OpticalFlow  # noqa: E402


def timed(function, repeats: int) -> tuple[float, float]:
    """(minimum, median) wall time of ``function()`` over ``repeats`` runs after one warm-up run."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def load() -> str:
    return "load average {:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    comfy = fake_comfy.install()
    comfy.model_management.get_torch_device = lambda: torch.device("cpu")
    images, _ = moving_texture_clip(args.frames, args.size, args.size, pan_x=2.5, pan_y=-1.5, zoom=1.01,
                                    rotate_degrees=0.5)
    frames = images.movedim(-1, 1).contiguous()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.frames} frames {args.size}², min / median of {args.repeats}")
    print(f"before: {load()}\n")

    print("| preset | scale | flow only (s) | Optical Flow node (s) |")
    print("|---|---|---|---|")
    for preset in FLOW_PRESETS:
        for scale in (1.0, 0.5):
            kernel = timed(lambda p=preset, s=scale: estimate_flow(frames, p, s), args.repeats)
            node = timed(lambda p=preset, s=scale: OpticalFlow().compute(images, p, s), args.repeats)
            print(f"| {preset} | {scale} | {kernel[0]:.3f} / {kernel[1]:.3f} | {node[0]:.3f} / {node[1]:.3f} |")
    print(f"\nafter flow: {load()}\n")

    latent = {"samples": torch.zeros(args.frames, 4, args.size // 8, args.size // 8)}
    flow = estimate_flow(frames, "dis_medium", 0.5)
    print("| method | internal resolution | from frames (s) | from a FLOW (s) |")
    print("|---|---|---|---|")
    for method in ("grid", "particle"):
        for resolution in (1, 2, 4):
            def run(with_flow: bool, m=method, k=resolution):
                inputs = {"flow": flow} if with_flow else {"images": images}
                IntegralNoiseWarp().warp(m, k, 0, 0.0, "fresh noise", "dis_medium", 4, 8, 0, latent=latent,
                                         **inputs)
            from_frames = timed(lambda: run(False), args.repeats)
            from_flow = timed(lambda: run(True), args.repeats)
            print(f"| {method} | {resolution} | {from_frames[0]:.3f} / {from_frames[1]:.3f} | "
                  f"{from_flow[0]:.3f} / {from_flow[1]:.3f} |")
    print(f"\nafter warp: {load()}")


if __name__ == "__main__":
    main()
