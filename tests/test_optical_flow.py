"""Optical flow on synthetic clips with known motion, occlusion, and the Optical Flow node."""

import importlib.util
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from benchmarks.synthetic_video import moving_texture_clip, occlusion_clip
from temporal_noise.kernels.motion.optical_flow import (
    _DIS_PRESETS,
    FLOW_PRESETS,
    dis_coarsest_level,
    estimate_flow,
    grey_frames,
)
from temporal_noise.nodes.optical_flow import OpticalFlow

MARGIN = 12  # pixels near the border see content entering the frame: no flow can be right there


def endpoint_error(estimate: torch.Tensor, truth: torch.Tensor) -> float:
    """Mean Euclidean distance between flows [N, 2, H, W] away from the border."""
    inner = (..., slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    return (estimate[inner] - truth[inner]).norm(dim=1).mean().item()


# Mean end-point errors measured on 128² clips (pixels), Farnebäck / DIS medium / fast / ultrafast:
# translation 0.01 / 0.05 / 0.14 / 0.15, rotation 0.05 / 0.05 / 0.15 / 0.21, zoom 0.05 / 0.05 / 0.12 / 0.18;
# the bounds leave 1.4× to 2.5× headroom.
@pytest.mark.parametrize(("motion", "bound"), [
    ({"pan_x": 3.4, "pan_y": -2.3}, {"dis_ultrafast": 0.25, "dis_fast": 0.2, "dis_medium": 0.12, "farneback": 0.03}),
    ({"rotate_degrees": 2.0}, {"dis_ultrafast": 0.4, "dis_fast": 0.3, "dis_medium": 0.1, "farneback": 0.12}),
    ({"zoom": 1.03}, {"dis_ultrafast": 0.4, "dis_fast": 0.3, "dis_medium": 0.1, "farneback": 0.12}),
])
@pytest.mark.parametrize("preset", FLOW_PRESETS)
def test_flow_recovers_known_motion(motion, bound, preset):
    images, truth = moving_texture_clip(4, 128, 128, **motion)
    flow = estimate_flow(images.movedim(-1, 1), preset, scale=1.0)
    assert flow.frames == 4 and flow.frame_size == (128, 128) and flow.grid_size == (128, 128)
    assert endpoint_error(flow.forward, truth.forward) < bound[preset]
    assert endpoint_error(flow.backward, truth.backward) < bound[preset]
    assert flow.occlusion[..., MARGIN:-MARGIN, MARGIN:-MARGIN].float().mean() < 0.01  # rigid motion: no occlusion


def test_flow_at_half_scale_is_in_pixels_of_the_half_grid():
    images, truth = moving_texture_clip(3, 128, 160, pan_x=4.0, pan_y=2.0)
    flow = estimate_flow(images.movedim(-1, 1), "dis_medium", scale=0.5)
    assert flow.grid_size == (64, 80) and flow.frame_size == (128, 160)
    half = truth.resized(64, 80)
    assert torch.allclose(half.forward[..., 32, 40], torch.tensor([2.0, 1.0]))
    assert endpoint_error(flow.forward, half.forward) < 0.1
    assert endpoint_error(flow.resized(128, 160).forward, truth.forward) < 0.2


def test_occlusion_marks_the_strip_a_moving_square_uncovers():
    """A textured square slides 8 px per frame over a still background; in each next frame the strip its
    left edge leaves behind is disoccluded. Measured (dis_medium, full scale): 89 % of that strip is marked
    and 0.08 % of the pixels away from the square's edges."""
    images, disoccluded = occlusion_clip(6, 128, 128, square=48, speed=8)
    flow = estimate_flow(images.movedim(-1, 1), "dis_medium", scale=1.0)
    recall = (flow.occlusion & disoccluded).sum() / disoccluded.sum()
    changed = (images[1:] - images[:-1]).abs().sum(-1) > 0
    near_edges = F.max_pool2d(changed.float()[:, None], 9, 1, 4)[:, 0] > 0
    false_alarms = (flow.occlusion & ~near_edges).float().mean()
    assert recall > 0.7
    assert false_alarms < 0.005


def test_grey_conversion_and_channel_count():
    images, _ = moving_texture_clip(2, 64, 64, pan_x=1.0)
    colour = estimate_flow(images.movedim(-1, 1), "dis_fast")
    grey_input = (images @ torch.tensor([0.299, 0.587, 0.114]))[:, None]
    grey = estimate_flow(grey_input, "dis_fast")
    assert torch.equal(colour.forward, grey.forward)


@pytest.mark.parametrize(("rgb", "level"), [
    ((1.0, 0.0, 0.0), 76), ((0.0, 1.0, 0.0), 150), ((0.0, 0.0, 1.0), 29),  # 76.245, 149.685, 29.07 rounded
    ((0.5, 0.5, 0.5), 128), ((1.5, 1.5, 1.5), 255), ((-0.2, -0.2, -0.2), 0),  # 127.5 rounds, not truncated
])
def test_grey_frames_are_rounded_clamped_bt601_luma(rgb, level):
    frames = torch.tensor(rgb)[None, :, None, None].expand(2, 3, 16, 20)
    grey = grey_frames(frames, 1.0)
    assert grey.dtype == np.uint8 and grey.shape == (2, 16, 20)
    assert (grey == level).all(), grey[0, 0, 0]


@pytest.mark.parametrize(("frames", "kwargs", "message"), [
    (torch.rand(1, 3, 32, 32), {}, "at least 2 frames"),
    (torch.rand(2, 2, 32, 32), {}, r"1 or 3 channels"),
    (torch.rand(3, 3, 32, 32).index_put_((torch.tensor(2),), torch.tensor(float("nan"))), {}, "frame 2"),
    (torch.rand(2, 3, 32, 32), {"preset": "raft"}, "preset must be one of"),
    (torch.rand(2, 3, 32, 32), {"scale": 0.25}, "at least 16 pixels"),
    (torch.rand(2, 3, 24, 128), {"scale": 0.5}, "give 12x64; optical flow needs at least 16"),
    (torch.rand(2, 3, 32, 32), {"scale": 1.5}, r"scale must be in \(0, 1\]"),
])
def test_bad_frames_raise(frames, kwargs, message):
    with pytest.raises(ValueError, match=message):
        estimate_flow(frames, **kwargs)


@pytest.mark.parametrize("preset", ["dis_ultrafast", "dis_fast", "dis_medium"])
@pytest.mark.parametrize("size", [(256, 256), (64, 96), (32, 91), (480, 832)])
def test_dis_presets_are_unchanged_where_their_pyramid_fits(preset, size):
    """Bit-identical to OpenCV's preset on sizes whose coarsest level is at least the preset's finest."""
    import cv2

    images, _ = moving_texture_clip(2, *size, pan_x=2.5, pan_y=-1.0)
    grey = grey_frames(images.movedim(-1, 1), 1.0)
    plain = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset]).calc(grey[0], grey[1], None)
    flow = estimate_flow(images.movedim(-1, 1), preset)
    assert torch.equal(flow.forward[0], torch.from_numpy(plain).permute(2, 0, 1))


@pytest.mark.parametrize(("size", "level"), [
    ((256, 256), 3), ((20, 200), 1), ((16, 1024), 1), ((90, 32), 1), ((91, 32), 2), ((16, 45), 0), ((16, 46), 1),
])
def test_dis_coarsest_level_is_opencvs(size, level):
    """OpenCV's min(round(log2(long / 32)), ⌊log2 ⌊short / 8⌋⌋) for patch 8, at the fast presets' limits
    (coarsest 2 from 32×91) and medium's (coarsest 1 from 16×46)."""
    assert dis_coarsest_level(*size, 8) == level


@pytest.mark.parametrize("preset", ["dis_ultrafast", "dis_fast", "dis_medium"])
@pytest.mark.parametrize("size", [(20, 40), (24, 64), (64, 24), (16, 16)])
def test_small_frames_get_the_same_flow_for_the_same_pair(preset, size):
    """Where a preset's levels do not fit, OpenCV used to re-pick them on the first call only (and keep the
    new finest level), so the first pair got another flow than a later identical pair."""
    images, _ = moving_texture_clip(2, *size, pan_x=1.5, pan_y=0.5)
    flow = estimate_flow(images[[0, 1, 0, 1]].movedim(-1, 1), preset)
    assert torch.equal(flow.forward[0], flow.forward[2])


def test_on_pair_reports_each_pair_in_order():
    images, _ = moving_texture_clip(4, 32, 32, pan_x=1.0)
    done = []
    estimate_flow(images.movedim(-1, 1), "dis_ultrafast", on_pair=done.append)
    assert done == [0, 1, 2]


OPENCV_HINT = r"optical flow needs OpenCV.*pip install opencv-python.*apt-get install libgl1"


def test_kernel_loads_without_opencv_and_says_what_to_install(monkeypatch):
    """A fresh copy of the kernel module executes while ``import cv2`` fails: OpenCV is only needed to
    compute, and then the error names the package (and libgl1, which opencv-python needs on bare Linux)."""
    monkeypatch.setitem(sys.modules, "cv2", None)
    path = Path(__file__).resolve().parents[1] / "kernels/motion/optical_flow.py"
    spec = importlib.util.spec_from_file_location("temporal_noise.kernels.motion._without_cv2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ImportError, match=OPENCV_HINT):
        module.estimate_flow(torch.rand(2, 3, 32, 32))


def test_without_opencv_the_optical_flow_node_is_disabled_with_the_reason(monkeypatch, caplog):
    """nodes/__init__ logs why Optical Flow is missing; Integral Noise Warp stays (it can take a FLOW)."""
    monkeypatch.setitem(sys.modules, "cv2", None)
    monkeypatch.delitem(sys.modules, "temporal_noise.nodes.optical_flow")
    path = Path(__file__).resolve().parents[1] / "nodes" / "__init__.py"
    spec = importlib.util.spec_from_file_location("temporal_noise.nodes", path)
    with caplog.at_level(logging.ERROR):
        spec.loader.exec_module(nodes := importlib.util.module_from_spec(spec))
    assert "TemporalNoiseOpticalFlow" not in nodes.NODE_CLASS_MAPPINGS
    assert "TemporalNoiseIntegralNoiseWarp" in nodes.NODE_CLASS_MAPPINGS
    assert re.search("nodes of optical_flow.py are disabled: ImportError: " + OPENCV_HINT, caplog.text)


def test_node_runs_with_progress_and_returns_frame_aligned_outputs(fake_comfy):
    images, _ = moving_texture_clip(5, 64, 96, pan_x=3.0)
    node = OpticalFlow()
    required = OpticalFlow.INPUT_TYPES()["required"]
    assert all("tooltip" in options for _, options in required.values())
    assert OpticalFlow.CATEGORY == "temporal_noise/flow" and OpticalFlow.DESCRIPTION
    flow, preview, occlusion = node.compute(images, "dis_medium", 0.5)
    assert flow.frames == 5 and flow.grid_size == (32, 48) and flow.frame_size == (64, 96)
    assert preview.shape == (5, 64, 96, 3) and occlusion.shape == (5, 64, 96)
    assert torch.equal(preview[0], torch.ones(64, 96, 3)) and not occlusion[0].any()
    red = preview[1:, MARGIN:-MARGIN, MARGIN:-MARGIN]  # picture moves right: red, green = blue below ½
    assert (red[..., 0] > 0.99).all() and (red[..., 1:] < 0.5).all()
    assert ((red[..., 1] - red[..., 2]).abs() < 0.05).all()
    bar = fake_comfy.utils.ProgressBar.instances[-1]
    assert bar.updates[-1] == (5, 5) and len(bar.updates) == 5


def test_node_stops_when_interrupted(fake_comfy):
    images, _ = moving_texture_clip(4, 32, 32, pan_x=1.0)
    fake_comfy.model_management.interrupted = True
    with pytest.raises(fake_comfy.model_management.InterruptProcessingException):
        OpticalFlow().compute(images, "dis_fast", 1.0)
    assert fake_comfy.utils.ProgressBar.instances[-1].updates == []


@pytest.mark.parametrize(("images", "message"), [
    (torch.rand(1, 32, 32, 3), "images has 1 frame"),
    (torch.rand(0, 32, 32, 3), "images is empty"),
    (torch.rand(2, 32, 32), r"IMAGE batch \[frames, height, width, 3\]"),
    (torch.randint(0, 256, (2, 32, 32, 3), dtype=torch.uint8), r"images has dtype torch.uint8, but a ComfyUI IMAGE "
                                                               r"holds floats in \[0, 1\]"),
    (torch.rand(3, 32, 32, 3).index_put_((torch.tensor(1),), torch.tensor(float("nan"))),
     r"images contains NaN or infinite values \(first in frame 1\)"),
    (torch.rand(2, 12, 64, 3), r"images are 64x12 \(width x height\): too small for optical flow, which needs 16"),
])
def test_node_bad_images_name_the_input(fake_comfy, images, message):
    with pytest.raises(ValueError, match=message):
        OpticalFlow().compute(images, "dis_fast", 1.0)


@pytest.mark.parametrize(("size", "scale", "shrunk", "least"), [
    ((24, 128), 0.5, "64x12", 0.67),
    ((96, 320), 0.15, "48x14", 0.17),
])
def test_node_names_the_scale_that_shrinks_images_too_far(fake_comfy, size, scale, shrunk, least):
    message = (f"scale {scale} shrinks the {size[1]}x{size[0]} images (width x height) to {shrunk}, but optical flow "
               f"needs 16 pixels per side: set scale to at least {least}")
    with pytest.raises(ValueError, match=re.escape(message)):
        OpticalFlow().compute(torch.rand(2, *size, 3), "dis_fast", scale)
    flow, _, _ = OpticalFlow().compute(torch.rand(2, *size, 3), "dis_fast", least)
    assert min(flow.grid_size) == 16
