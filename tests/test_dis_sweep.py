"""Every flow preset on frame sizes and scales around DIS's pyramid limits, each preset in a child process.

Unless the pack picks DIS's pyramid levels itself (``optical_flow._dis``), OpenCV (4.5-5.1) kills the
process with SIGSEGV for frames of 16-31 rows and 80-512 columns and raises a resize error from 640 columns,
with the ultrafast and fast presets. In ComfyUI that ends the server; here the child dies and the test fails.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from temporal_noise.kernels.motion.optical_flow import FLOW_PRESETS

ROOT = Path(__file__).resolve().parents[1]
SHORT_SIDES = (16, 20, 31, 32)  # 16 is the smallest the pack accepts; DIS's fast presets need 32 to fit
LONG_SIDES = (16, 45, 64, 80, 90, 91, 128, 200, 320, 512, 640, 1024)  # the crashes start at 80, errors at 640
# (height, width, scale): every short × long side in both orientations at scale 1; frames that scale into
# the crash region (320×96 at 0.25 gives 24×80; Integral Noise Warp picks 0.25 for 1024×64, giving 16×256);
# and an ordinary size.
CASES = sorted({(s, n, 1.0) for s in SHORT_SIDES for n in LONG_SIDES}
               | {(n, s, 1.0) for s in SHORT_SIDES for n in LONG_SIDES}
               | {(96, 320, 0.25), (64, 1024, 0.25), (40, 2000, 0.5), (128, 128, 1.0)})
PAN = (1.7, -0.6)  # pixels per frame: each case is the top-left corner of one panning clip, same flow everywhere
BOUND = 0.4  # mean end-point error (px) 3 px inside the border; measured ≤ 0.27 (ultrafast on 91×32)

# Prints each case before computing it (so a crash names the case), then its grid size and error.
CHILD = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
import torch
from benchmarks.synthetic_video import moving_texture_clip
from temporal_noise.kernels.motion.optical_flow import estimate_flow
preset, cases, pan = sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
wide = moving_texture_clip(2, 128, 2000, pan_x=pan[0], pan_y=pan[1])[0].movedim(-1, 1)
tall = moving_texture_clip(2, 1024, 32, pan_x=pan[0], pan_y=pan[1])[0].movedim(-1, 1)
for height, width, scale in cases:
    print("case", height, width, scale, flush=True)
    frames = (wide if height <= 128 else tall)[..., :height, :width]
    flow = estimate_flow(frames, preset, scale)
    rows, columns = flow.grid_size
    truth = torch.tensor([pan[0] * columns / width, pan[1] * rows / height]).view(1, 2, 1, 1)
    inner = (..., slice(3, -3), slice(3, -3))
    error = max((flow.forward - truth)[inner].norm(dim=1).mean().item(),
                (flow.backward + truth)[inner].norm(dim=1).mean().item())
    print("done", rows, columns, error, flush=True)
"""


def start_child(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, str(ROOT), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def sweeps():
    """One child per preset, all started at once so that they share the cores."""
    children = {preset: start_child(CHILD, preset, json.dumps(CASES), json.dumps(PAN)) for preset in FLOW_PRESETS}
    yield children
    for child in children.values():
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.parametrize("preset", FLOW_PRESETS)
def test_every_preset_survives_every_size_and_follows_the_motion(sweeps, preset):
    stdout, stderr = sweeps[preset].communicate(timeout=300)
    lines = stdout.splitlines()
    assert sweeps[preset].returncode == 0, f"exit {sweeps[preset].returncode} at {lines[-1:]}: {stderr[-2000:]}"
    results = [line.split()[1:] for line in lines if line.startswith("done")]
    assert len(results) == len(CASES)
    for (height, width, scale), (grid_height, grid_width, error) in zip(CASES, results, strict=True):
        assert (int(grid_height), int(grid_width)) == (round(height * scale), round(width * scale))
        assert float(error) < BOUND, (preset, height, width, scale, error)


NODES_CHILD = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
import torch
import fake_comfy
from standalone import load_pack
load_pack()
fake_comfy.install()
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp
from temporal_noise.nodes.optical_flow import OpticalFlow
torch.manual_seed(0)
for preset in ("dis_ultrafast", "dis_fast"):
    OpticalFlow().compute(torch.rand(2, 96, 320, 3), preset, 0.25)
    OpticalFlow().compute(torch.rand(2, 20, 200, 3), preset, 1.0)
    noise, latent, preview = IntegralNoiseWarp().warp("grid", 1, 0, 0.0, "fresh noise", preset, 4, 8, 0,
                                                      images=torch.rand(2, 64, 1024, 3))
    assert latent["samples"].shape == (2, 4, 8, 128)
    IntegralNoiseWarp().warp("grid", 1, 0, 0.0, "fresh noise", preset, 4, 8, 0, images=torch.rand(2, 16, 4000, 3))
print("survived")
"""


def test_the_reported_node_inputs_survive():
    """Optical Flow on a 320×96 clip at scale 0.25 and on 200×20 frames at scale 1, and Integral Noise Warp
    on a 1024×64 clip (it picks scale 0.25 itself), with the fast presets: each killed ComfyUI; and Integral
    Noise Warp on 4000×16 frames, which it used to shrink to 500×2 and refuse."""
    child = start_child(NODES_CHILD)
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0 and stdout.strip() == "survived", (child.returncode, stderr[-2000:])
