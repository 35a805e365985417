"""Peak memory and time of Camera Motion Flow → Integral Noise Warp for a Wan 2.1 latent (CPU).

    python benchmarks/camera_memory.py [--cases 81x832x480 121x1280x720] [--internal-resolution 1]

Each case runs in a fresh Python process (so one case's peak never hides another's): the two nodes as
ComfyUI would run them, on the fake ``comfy`` modules of the unit tests, with both nodes' outputs kept (as
ComfyUI's cache keeps them). The Wan latent is 16 channels, ÷8 spatial, ÷4 temporal: ``[1, 16, (T − 1)//4 + 1,
H/8, W/8]``. The motion is a pan with a slow zoom and rotation. Peak RSS is ``ru_maxrss`` of the child
process; "after import" is its RSS before the nodes run (torch and the pack). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOTION = {"pan_x": 2.0, "pan_y": -0.5, "zoom": 1.002, "rotate": 0.1}


def run_case(frames: int, width: int, height: int, internal_resolution: int) -> dict:
    """The two nodes in this process; returns seconds per node and RSS in MiB (after import, peak)."""
    import resource
    import time

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from standalone import load_pack

    load_pack()
    import fake_comfy
    import torch

    from temporal_noise.nodes.camera_motion import CameraMotionFlow
    from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp

    fake_comfy.install()
    latent = {"samples": torch.zeros(1, 16, (frames - 1) // 4 + 1, height // 8, width // 8)}
    imported = rss_mib()
    start = time.perf_counter()
    flow, preview = CameraMotionFlow().compute(frames=frames, width=width, height=height, **MOTION)
    camera = time.perf_counter() - start
    start = time.perf_counter()
    outputs = IntegralNoiseWarp().warp("grid", internal_resolution, 0, 0.0, "fresh noise", "dis_medium", 16, 8, 0,
                                       flow=flow, latent=latent)
    warp = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"camera_s": camera, "warp_s": warp, "imported_mib": imported, "peak_mib": peak,
            "noise": list(outputs[1]["samples"].shape), "preview": list(preview.shape),
            "warp_preview": list(outputs[2].shape), "threads": torch.get_num_threads(), "torch": torch.__version__}


def rss_mib() -> float:
    """Resident set size of this process now, in MiB (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=["81x832x480", "121x1280x720"],
                        help="FRAMESxWIDTHxHEIGHT")
    parser.add_argument("--internal-resolution", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(*map(int, args.child.split("x")), args.internal_resolution)))
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; commit {commit.stdout.strip()}; "
          f"motion {MOTION}; grid warp, internal_resolution {args.internal_resolution}\n")
    print("| frames | size | latent | Camera Motion Flow (s) | Integral Noise Warp (s) | RSS after import (MiB) "
          "| peak RSS (MiB) | previews |")
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        frames, width, height = map(int, case.split("x"))
        child = subprocess.run([sys.executable, __file__, "--child", case, "--internal-resolution",
                                str(args.internal_resolution)], capture_output=True, text=True)
        if child.returncode:
            print(f"| {frames} | {width}x{height} | failed: {child.stderr.strip().splitlines()[-1]} |")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"| {frames} | {width}x{height} | {r['noise']} | {r['camera_s']:.2f} | {r['warp_s']:.2f} | "
              f"{r['imported_mib']:.0f} | {r['peak_mib']:.0f} | {r['preview']}, {r['warp_preview']} |")


if __name__ == "__main__":
    main()
