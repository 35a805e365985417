"""Integral Noise Warp in a real ComfyUI: frames loaded by VideoHelperSuite → warped NOISE →
SamplerCustomAdvanced with an ADE-patched random-weight SD1.5 model and a ControlNet, 8 frames; the same
NOISE as FreeInit Sampler's initial noise; and a latent of the wrong length refused by name."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from comfy_harness import graphs
from comfy_harness.client import ComfyClient
from comfy_harness.graphs import node
from comfy_harness.server import ComfyServer

from benchmarks.synthetic_video import moving_texture_clip

RUN_TIMEOUT_S = 900.0
FRAMES, SIZE = 8, 64
NOISE_PREVIEW = "noise_preview"


@pytest.fixture(scope="module")
def clip_folder(comfyui: ComfyServer) -> Path:
    """PNG frames of a texture panning 4 px per frame, where VHS_LoadImagesPath reads them."""
    folder = comfyui.work_dir / "input" / "tn_warp_clip"
    folder.mkdir(parents=True, exist_ok=True)
    images, _ = moving_texture_clip(FRAMES, SIZE, SIZE, pan_x=4.0)
    for index, image in enumerate(images):
        rgb = (image.numpy() * 255).round().astype(np.uint8)
        cv2.imwrite(str(folder / f"frame_{index:03d}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return folder


def warped_graph(folder: Path, seed: int, latent_frames: int = FRAMES) -> graphs.AnimateDiffGraph:
    """The AnimateDiff + ControlNet graph whose ControlNet hint and noise both come from the loaded frames."""
    graph = graphs.animatediff_graph(frames=latent_frames, size=SIZE, steps=2, seed=seed)
    n = graph.nodes
    n["frames"] = node("VHS_LoadImagesPath", directory=str(folder), image_load_cap=0, skip_first_images=0,
                       select_every_nth=1)
    n[graphs.CONTROLNET_APPLY]["inputs"]["image"] = ["frames", 0]
    n["warp"] = node("TemporalNoiseIntegralNoiseWarp", method="grid", internal_resolution=1, seed=seed,
                     degradation=0.0, occlusion="fresh noise", flow_preset="dis_medium", channels=4, spatial_factor=8,
                     temporal_factor=0, images=["frames", 0], latent=graph.latent)
    n[NOISE_PREVIEW] = node("PreviewImage", images=["warp", 2])
    return graph


def test_warped_noise_drives_sampler_custom_advanced(clip_folder: Path, comfy: ComfyClient) -> None:
    graph = warped_graph(clip_folder, seed=21)
    n = graph.nodes
    n["guider"] = node("CFGGuider", model=graph.model, positive=graph.positive, negative=graph.negative, cfg=1.0)
    n["sampler_select"] = node("KSamplerSelect", sampler_name="euler")
    n["sigmas"] = node("BasicScheduler", model=graph.model, scheduler="simple", steps=2, denoise=1.0)
    n[graphs.SAMPLER] = node("SamplerCustomAdvanced", noise=["warp", 0], guider=["guider", 0],
                             sampler=["sampler_select", 0], sigmas=["sigmas", 0], latent_image=graph.latent)
    result = comfy.run(n, RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == FRAMES
    assert len(result.images(NOISE_PREVIEW)) == FRAMES
    result.assert_progress_complete("warp", total=(FRAMES - 1) + FRAMES)  # flow pairs, then latent frames


def test_warped_noise_seeds_the_freeinit_sampler(clip_folder: Path, comfy: ComfyClient) -> None:
    graph = warped_graph(clip_folder, seed=22)
    graph.nodes = graph.with_sampler("TemporalNoiseFreeInitSampler", **graph.ksampler_inputs(), iterations=2,
                                     coarse_to_fine=True, initial_noise=["warp", 0])
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == FRAMES
    result.assert_progress_complete(graphs.SAMPLER, total=1 + 2)


def test_a_latent_of_the_wrong_length_is_refused_by_name(clip_folder: Path, comfy: ComfyClient) -> None:
    graph = warped_graph(clip_folder, seed=23, latent_frames=FRAMES - 1)
    graph.nodes[graphs.CONTROLNET_APPLY]["inputs"]["image"] = [graphs.CONTROL_IMAGE, 0]  # 7 hints for 7 frames
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S)
    assert result.status == "error"
    assert result.error["node_id"] == "warp"
    assert f"expected a latent batch of {FRAMES}" in result.describe()
