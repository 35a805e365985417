"""Every bundled workflow runs in a real ComfyUI (``--cpu``), as a user would queue it after picking models.

Each ``workflows/*.json`` is converted to the API prompt the frontend would send (tools/workflows/workflow_api.py, with
the live server's ``/object_info``), then shrunk to CPU size (8 frames, 64 px, 2 steps, 2 FreeInit passes);
model file names are replaced by the harness's random-weight files and the input video by a generated clip.
The run must succeed and every output node must have written its files, with the frames and sizes the
shrunk graph asks for (ComfyUI runs the valid part of a partly invalid prompt, so every output is checked).
Wall times are printed (run with ``-s``) and recorded as ``wall_s`` properties.

A workflow that loads models the harness cannot generate is skipped, naming them. The Wan workflows run
(9 frames, 3 latent frames) when the Wan 2.1 random-weight files are in the model folder (the 1.3B model stands
in for both of Wan 2.2's 14B models, so workflow 7 runs its two-sampler split and Noise Reinit for real): they
take 9.8 GB, so the harness generates them only when asked (``python -m comfy_harness.model_files COMFYUI ROOT
wan21_t2v_1_3b umt5_xxl_fp8_scaled wan21_vae`` from this folder); without them those workflows are skipped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from comfy_harness.client import ComfyClient
from comfy_harness.model_files import (
    MODEL_FILES,
    MOTION_MODULE_V3,
    SD15_CHECKPOINT,
    SD15_CONTROLNET,
    UMT5_XXL_FP8_SCALED,
    WAN21_T2V_1_3B,
    WAN21_VAE,
    is_current,
)
from comfy_harness.server import ComfyServer
from workflow_api import to_api
from workflow_defs import fixture_object_info, inputs, pack_object_info

from temporal_noise import NODE_CLASS_MAPPINGS

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.json"))
RUN_TIMEOUT_S = 1200.0
FRAMES = 8
VIDEO_MODEL_FRAMES = 9  # native video latents take 4k + 1 frames (Wan, Hunyuan: 4x temporal compression)
SIZE = 64
STEPS = 2
PASSES = 2
INPUT_VIDEO = "tn_workflow_input.mp4"

# (class_type, input) → value: what makes a workflow fit a 2-core CPU. Linked inputs are left alone.
SHRINK = {
    ("EmptyLatentImage", "width"): SIZE,
    ("EmptyLatentImage", "height"): SIZE,
    ("EmptyLatentImage", "batch_size"): FRAMES,
    ("EmptyHunyuanLatentVideo", "width"): SIZE,
    ("EmptyHunyuanLatentVideo", "height"): SIZE,
    ("EmptyHunyuanLatentVideo", "length"): VIDEO_MODEL_FRAMES,
    ("VHS_LoadVideo", "custom_width"): SIZE,
    ("VHS_LoadVideo", "custom_height"): SIZE,
    ("VHS_LoadVideo", "frame_load_cap"): FRAMES,
    ("VHS_LoadVideo", "video"): INPUT_VIDEO,
    ("KSampler", "steps"): STEPS,
    ("BasicScheduler", "steps"): STEPS,
    ("SplitSigmas", "step"): STEPS // 2,  # Wan 2.2's hand-over stays inside the shrunk schedule
    ("TemporalNoiseFreeInitSampler", "steps"): STEPS,
    ("TemporalNoiseFreeInitSampler", "iterations"): PASSES,
    ("TemporalNoiseFrequencyFilter", "preview_frames"): FRAMES,
    ("TemporalNoiseFrequencyFilter", "preview_size"): 16,
    ("TemporalNoiseCameraMotionFlow", "width"): SIZE,
    ("TemporalNoiseCameraMotionFlow", "height"): SIZE,
    ("CheckpointLoaderSimple", "ckpt_name"): SD15_CHECKPOINT.name,
    ("ADE_LoadAnimateDiffModel", "model_name"): MOTION_MODULE_V3.name,
    ("ACN_ControlNetLoaderAdvanced", "cnet"): SD15_CONTROLNET.name,
    ("UNETLoader", "unet_name"): WAN21_T2V_1_3B.name,
    ("CLIPLoader", "clip_name"): UMT5_XXL_FP8_SCALED.name,
    ("VAELoader", "vae_name"): WAN21_VAE.name,
}


def video_frames(prompt: dict) -> int:
    """The shrunk graph's video length: a camera flow must describe as many frames as the latent holds."""
    native = any(entry["class_type"] == "EmptyHunyuanLatentVideo" for entry in prompt.values())
    return VIDEO_MODEL_FRAMES if native else FRAMES


def shrink(prompt: dict) -> dict:
    rules = {**SHRINK, ("TemporalNoiseCameraMotionFlow", "frames"): video_frames(prompt)}
    for entry in prompt.values():
        for name, value in entry["inputs"].items():
            if not isinstance(value, list) and (entry["class_type"], name) in rules:
                entry["inputs"][name] = rules[(entry["class_type"], name)]
    return prompt


def models_not_generated(prompt: dict) -> list[str]:
    """Model files the workflow loads that the harness does not generate (no SHRINK rule names a file)."""
    definitions = fixture_object_info()
    missing = []
    for entry in prompt.values():
        for item in inputs(definitions.get(entry["class_type"], {"name": "", "input": {}})):
            if item.is_file and (entry["class_type"], item.name) not in SHRINK:
                missing.append(f"{entry['class_type']}.{item.name} = {entry['inputs'].get(item.name)!r}")
    return missing


def models_not_present(prompt: dict, model_root: Path) -> list[str]:
    """Generated files the workflow loads that are not (yet) in ``model_root``, such as the Wan 2.1 ones."""
    by_name = {model.name: model for model in MODEL_FILES}
    return [
        value
        for entry in prompt.values()
        for value in entry["inputs"].values()
        if isinstance(value, str) and value in by_name and not is_current(by_name[value].path(model_root))
    ]


def write_input_video(path: Path, frames: int = 2 * FRAMES, size: int = 96) -> None:
    """A clip with known motion: a smooth random texture sliding 2 px right per frame."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 256, (size, size * 2, 3), dtype=np.uint8), (0, 0), 3)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 8, (size, size))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in range(frames):
        writer.write(np.ascontiguousarray(texture[:, 2 * frame:2 * frame + size]))
    writer.release()


def video_shape(path: Path) -> tuple[int, int, int]:
    """(frames, height, width) of a video file, counting the frames that decode."""
    capture = cv2.VideoCapture(str(path))
    count, shape = 0, (0, 0)
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, shape = count + 1, frame.shape[:2]
    capture.release()
    return count, *shape


@pytest.fixture(scope="module")
def live_definitions(comfyui: ComfyServer) -> dict:
    """The server's /object_info; also puts the input video into the server's input folder."""
    write_input_video(comfyui.work_dir / "input" / INPUT_VIDEO)  # the server's --input-directory
    with comfyui.client() as client:
        return client.object_info()


def test_our_node_definitions_match_the_live_server(live_definitions: dict) -> None:
    """The CI checks build our nodes' /object_info entries themselves: they must be what ComfyUI serves. Core's
    sampler and scheduler lists grow between releases, so they are taken from the live KSampler, and FreeInit
    Sampler must offer exactly KSampler's."""
    ours = pack_object_info(live_definitions)
    for name in NODE_CLASS_MAPPINGS:
        for key in ("input", "input_order", "output", "output_name", "output_is_list", "category"):
            assert ours[name][key] == live_definitions[name][key], f"{name} {key}"
    ksampler = live_definitions["KSampler"]["input"]["required"]
    freeinit = live_definitions["TemporalNoiseFreeInitSampler"]["input"]["required"]
    for name in ("sampler_name", "scheduler"):
        assert freeinit[name][0] == ksampler[name][0], name


def expected_width(prompt: dict, video_id: str) -> int:
    """Frame width a video should have: FreeInit's all_iterations output puts the passes side by side."""
    node = prompt[video_id]
    while node["class_type"] != "VAEDecode":  # back through CreateVideo etc. to the decoder
        node = prompt[node["inputs"]["images" if "images" in node["inputs"] else "video"][0]]
    origin, slot = node["inputs"]["samples"]
    side_by_side = prompt[origin]["class_type"] == "TemporalNoiseFreeInitSampler" and slot == 1
    return SIZE * PASSES if side_by_side else SIZE


def written_videos(class_type: str, reported: dict, output_dir: Path) -> list[Path]:
    """The video files a Video Combine (``gifs``) or a core SaveVideo (``images``, animated) reported."""
    key = "gifs" if class_type == "VHS_VideoCombine" else "images"
    return [output_dir / item["subfolder"] / item["filename"] for item in reported.get(key, [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_workflow_runs(path: Path, comfy: ComfyClient, comfyui: ComfyServer, live_definitions: dict,
                       model_root: Path, record_property) -> None:
    prompt = shrink(to_api(json.loads(path.read_text(encoding="utf-8")), live_definitions))
    if missing := models_not_generated(prompt):
        pytest.skip(f"no random-weight files for {missing}")
    if absent := models_not_present(prompt, model_root):
        pytest.skip(f"random-weight files not generated (see this file's docstring): {absent}")
    started = time.monotonic()
    result = comfy.run(prompt, RUN_TIMEOUT_S)
    wall = time.monotonic() - started
    record_property("wall_s", round(wall, 1))
    print(f"\n{path.name}: {result.status} in {wall:.1f} s")
    result.assert_success()

    output_dir = comfyui.output_dir
    for node_id, entry in prompt.items():
        if not live_definitions[entry["class_type"]]["output_node"]:
            continue
        reported = result.outputs.get(node_id, {})
        if entry["class_type"] in ("VHS_VideoCombine", "SaveVideo"):
            videos = written_videos(entry["class_type"], reported, output_dir)
            assert videos, f"node {node_id} ({entry['class_type']}) wrote no video"
            assert videos[0].is_file() and videos[0].stat().st_size > 0, videos[0]
            expected = (video_frames(prompt), SIZE, expected_width(prompt, node_id))
            assert video_shape(videos[0]) == expected, videos[0].name
        else:
            images = reported.get("images", [])
            assert images, f"node {node_id} ({entry['class_type']}) reported no images"
