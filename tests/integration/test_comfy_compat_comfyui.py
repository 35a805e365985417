"""The pack on the ComfyUI users run (0.3.64, 0.33 and later), in a real server: core's FreeNoise leaves
FreeInit's noise alone and is warned about; latents are prepared exactly as KSampler prepares them; nested
audio+video latents are split by stream or refused by name. A test that needs a node only newer ComfyUIs
have skips when the server's /object_info lacks it."""

from pathlib import Path

import pytest
import torch
from comfy_harness import graphs
from comfy_harness.client import ComfyClient
from comfy_harness.graphs import node
from comfy_harness.server import ComfyServer

RUN_TIMEOUT_S = 900.0
FRAMES, SIZE = 8, 64
WAN21_UNET = "wan2.1_t2v_1.3B_fp16.safetensors"  # the harness's random-weight Wan 2.1, when generated
WAN21_TEXT_ENCODER = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
FREENOISE_WARNING = "core context windows with freenoise on"


def saved_latent(server: ComfyServer, result, name: str) -> torch.Tensor:
    from safetensors.torch import load_file  # ComfyUI's dependency: absent where these tests are skipped

    (entry,) = result.outputs[name]["latents"]
    return load_file(Path(server.output_dir, entry["subfolder"], entry["filename"]))["latent_tensor"]


def save_latent(nodes: dict, name: str, source: list) -> None:
    nodes[name] = node("SaveLatent", samples=source, filename_prefix=f"latents/{name}")


def widget_defaults(info: dict, class_type: str, **overrides: object) -> dict:
    """The required widget inputs of a node at their defaults (a combo at its default or first option), as
    this server lists them, with ``overrides``; inputs that take a link are left to the caller."""
    values = {}
    for name, spec in info[class_type]["input"]["required"].items():
        kind, options = spec[0], spec[1] if len(spec) > 1 else {}
        if isinstance(kind, list) or kind == "COMBO":
            values[name] = options.get("default", choices(info, class_type, name)[0])
        elif kind in ("INT", "FLOAT", "BOOLEAN", "STRING"):
            values[name] = options.get("default")
    return {**values, **overrides}


def choices(info: dict, class_type: str, name: str) -> list:
    """A combo input's options, in either form /object_info writes them."""
    kind, *rest = info[class_type]["input"]["required"][name]
    return kind if isinstance(kind, list) else rest[0].get("options", [])


def requires(info: dict, class_type: str, *inputs: str) -> None:
    """Skip unless this server has ``class_type`` with ``inputs``."""
    if class_type not in info:
        pytest.skip(f"this ComfyUI has no {class_type}")
    listed = {**info[class_type]["input"]["required"], **info[class_type]["input"].get("optional", {})}
    if missing := [name for name in inputs if name not in listed]:
        pytest.skip(f"this ComfyUI's {class_type} has no input {missing}")


@pytest.fixture(scope="module")
def object_info(comfyui: ComfyServer) -> dict:
    with comfyui.client() as client:
        return client.object_info()


# 1. Core's FreeNoise.

def test_freenoise_leaves_freeinits_noise_alone_and_is_warned_about(comfyui: ComfyServer, comfy: ComfyClient,
                                                                    object_info: dict) -> None:
    """SD1.5 with core context windows (windows of 4 frames over the batch, freenoise on): FreeNoise shuffles
    the noise each pass is handed; FreeInit Sampler must still re-noise with the noise it drew (on the CPU
    core shuffles the very tensor it is given), so the hand-built loop, which draws it afresh, gives the same
    result. Both nodes warn."""
    requires(object_info, "ContextWindowsManual", "freenoise", "dim")
    seed, steps = 31, 2
    graph = graphs.animatediff_graph(frames=FRAMES, size=SIZE, steps=steps, seed=seed, controlnet=None)
    context = ["context", 0]
    graph.nodes["context"] = node("ContextWindowsManual", **widget_defaults(
        object_info, "ContextWindowsManual", context_length=4, context_overlap=2, dim=0, freenoise=True),
        model=[graphs.CHECKPOINT, 0])
    for unused in (graphs.MOTION_MODEL, graphs.APPLY_MOTION, graphs.ANIMATEDIFF):
        del graph.nodes[unused]

    sampler = graph.with_sampler("TemporalNoiseFreeInitSampler", **{**graph.ksampler_inputs(), "model": context},
                                 iterations=2, coarse_to_fine=False)
    save_latent(sampler, "freeinit", [graphs.SAMPLER, 0])
    expected = saved_latent(comfyui, comfy.run(sampler, RUN_TIMEOUT_S).assert_success(), "freeinit")
    assert f"FreeInit Sampler: {FREENOISE_WARNING}" in comfyui.log()

    n = graph.nodes
    del n[graphs.SAMPLER]
    n["noise"] = node("RandomNoise", noise_seed=seed)
    n["guider"] = node("CFGGuider", model=context, positive=graph.positive, negative=graph.negative, cfg=1.0)
    n["sampler_select"] = node("KSamplerSelect", sampler_name="euler")
    n["sigmas"] = node("BasicScheduler", model=context, scheduler="simple", steps=steps, denoise=1.0)
    n["first_pass"] = node("SamplerCustomAdvanced", noise=["noise", 0], guider=["guider", 0],
                           sampler=["sampler_select", 0], sigmas=["sigmas", 0], latent_image=graph.latent)
    n["reinit"] = node("TemporalNoiseNoiseReinit", model=context, samples=["first_pass", 0], sigmas=["sigmas", 0],
                       seed=seed, iteration=1, latent_image=graph.latent, initial_noise=["noise", 0])
    n[graphs.SAMPLER] = node("SamplerCustomAdvanced", noise=["reinit", 0], guider=["guider", 0],
                             sampler=["sampler_select", 0], sigmas=["sigmas", 0], latent_image=graph.latent)
    save_latent(n, "by_hand", [graphs.SAMPLER, 0])
    by_hand = saved_latent(comfyui, comfy.run(n, RUN_TIMEOUT_S).assert_success(), "by_hand")
    assert f"Noise Reinit: {FREENOISE_WARNING}" in comfyui.log()
    torch.testing.assert_close(by_hand, expected, atol=1e-4, rtol=1e-4)


def test_warped_noise_logs_what_freenoise_does_to_it(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    graph = graphs.animatediff_graph(frames=FRAMES, size=SIZE, steps=1, seed=32, controlnet=None)
    n = graph.nodes
    n["flow"] = node("TemporalNoiseCameraMotionFlow", frames=FRAMES, width=SIZE, height=SIZE, pan_x=2.0, pan_y=0.0,
                     zoom=1.0, rotate=0.0)
    n["warp"] = node("TemporalNoiseIntegralNoiseWarp", method="grid", internal_resolution=1, seed=32,
                     degradation=0.0, occlusion="fresh noise", flow_preset="dis_medium", channels=4, spatial_factor=8,
                     temporal_factor=0, flow=["flow", 0], latent=graph.latent)
    n["guider"] = node("CFGGuider", model=graph.model, positive=graph.positive, negative=graph.negative, cfg=1.0)
    n["sampler_select"] = node("KSamplerSelect", sampler_name="euler")
    n["sigmas"] = node("BasicScheduler", model=graph.model, scheduler="simple", steps=1, denoise=1.0)
    n[graphs.SAMPLER] = node("SamplerCustomAdvanced", noise=["warp", 0], guider=["guider", 0],
                             sampler=["sampler_select", 0], sigmas=["sigmas", 0], latent_image=graph.latent)
    comfy.run(n, RUN_TIMEOUT_S).assert_success()
    assert "noise from Integral Noise Warp: if the MODEL has core context windows with freenoise on" in comfyui.log()


# 2. Latents prepared as KSampler prepares them.

@pytest.mark.parametrize("empty_latent", [
    node("EmptyLatentImage", width=SIZE, height=SIZE, batch_size=4),
    node("EmptySD3LatentImage", width=SIZE, height=SIZE, batch_size=4),  # 16 channels: core gives it SD1.5's 4
], ids=lambda entry: entry["class_type"])
def test_one_freeinit_pass_is_ksampler_for_every_empty_latent(comfyui: ComfyServer, comfy: ComfyClient,
                                                              empty_latent: dict) -> None:
    graph = graphs.animatediff_graph(frames=4, size=SIZE, steps=2, seed=33, controlnet=None)
    graph.nodes[graphs.EMPTY_LATENT] = empty_latent
    save_latent(graph.nodes, "ksampler", [graphs.SAMPLER, 0])
    ksampler = saved_latent(comfyui, comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success(), "ksampler")
    nodes = graph.with_sampler("TemporalNoiseFreeInitSampler", **graph.ksampler_inputs(), iterations=1,
                               coarse_to_fine=False)
    save_latent(nodes, "freeinit", [graphs.SAMPLER, 0])
    freeinit = saved_latent(comfyui, comfy.run(nodes, RUN_TIMEOUT_S).assert_success(), "freeinit")
    assert freeinit.shape == ksampler.shape
    torch.testing.assert_close(freeinit, ksampler, atol=1e-4, rtol=1e-4)


def wan21_graph(info: dict, empty_latent: dict, seed: int) -> tuple[dict, dict]:
    """Nodes loading the harness's random-weight Wan 2.1 files with empty prompts and ``empty_latent``, and
    KSampler's inputs for them (1 euler step, cfg 1); skips when the files were not generated."""
    if WAN21_UNET not in choices(info, "UNETLoader", "unet_name"):
        pytest.skip(f"no {WAN21_UNET} in this server's diffusion_models (generate the harness's Wan 2.1 files)")
    nodes = {
        "unet": node("UNETLoader", unet_name=WAN21_UNET, weight_dtype="default"),
        "clip": node("CLIPLoader", clip_name=WAN21_TEXT_ENCODER, type="wan"),
        "positive": node("CLIPTextEncode", text="", clip=["clip", 0]),
        "negative": node("CLIPTextEncode", text="", clip=["clip", 0]),
        "empty": empty_latent,
    }
    sampling = dict(model=["unet", 0], seed=seed, steps=1, cfg=1.0, sampler_name="euler", scheduler="simple",
                    positive=["positive", 0], negative=["negative", 0], latent_image=["empty", 0], denoise=1.0)
    return nodes, sampling


def test_an_empty_latent_of_another_grid_is_resized_as_ksampler_resizes_it(comfyui: ComfyServer, comfy: ComfyClient,
                                                                            object_info: dict) -> None:
    """ComfyUI 0.33+: Empty HunyuanVideo 1.5 Latent (16 pixels per latent pixel) sampled by Wan 2.1 (8) is
    sampled at twice its size per side by KSampler; FreeInit Sampler and Noise Reinit must do the same.
    Needs the harness's random-weight Wan 2.1 files."""
    requires(object_info, "EmptyHunyuanVideo15Latent")
    nodes, sampling = wan21_graph(object_info, node("EmptyHunyuanVideo15Latent", width=64, height=64, length=5,
                                                    batch_size=1), seed=34)
    nodes["ksampler"] = node("KSampler", **sampling)
    nodes["freeinit"] = node("TemporalNoiseFreeInitSampler", **sampling, iterations=2, coarse_to_fine=False)
    nodes["sigmas"] = node("BasicScheduler", model=["unet", 0], scheduler="simple", steps=1, denoise=1.0)
    nodes["reinit"] = node("TemporalNoiseNoiseReinit", model=["unet", 0], samples=["ksampler", 0],
                           sigmas=["sigmas", 0], seed=34, iteration=1, latent_image=["empty", 0])
    for name in ("ksampler", "freeinit"):
        save_latent(nodes, f"{name}_out", [name, 0])
    save_latent(nodes, "reinit_out", ["reinit", 1])
    result = comfy.run(nodes, RUN_TIMEOUT_S).assert_success()
    ksampler = saved_latent(comfyui, result, "ksampler_out")
    assert ksampler.shape == (1, 16, 2, 8, 8)  # 32 → 16 channels, 4x4 → 8x8
    assert saved_latent(comfyui, result, "freeinit_out").shape == ksampler.shape
    assert saved_latent(comfyui, result, "reinit_out").shape == ksampler.shape


def test_freeinit_sampler_runs_three_passes_on_a_flow_model_by_default(comfyui: ComfyServer, comfy: ComfyClient,
                                                                      object_info: dict) -> None:
    """iterations 0 = the model's default passes: 3 on Wan (CONST, a flow model), where the benchmark found
    that 5 cost motion (the paper's 5 on SD1.5: test_freeinit_comfyui). Needs the harness's Wan 2.1 files."""
    nodes, sampling = wan21_graph(object_info, node("EmptyHunyuanLatentVideo", width=64, height=64, length=5,
                                                    batch_size=1), seed=37)
    nodes["freeinit"] = node("TemporalNoiseFreeInitSampler", **sampling, iterations=0, coarse_to_fine=False)
    save_latent(nodes, "every_pass", ["freeinit", 1])
    result = comfy.run(nodes, RUN_TIMEOUT_S).assert_success()
    result.assert_progress_complete("freeinit", total=3)
    assert saved_latent(comfyui, result, "every_pass").shape == (1, 16, 2, 8, 3 * 8)


# 3. Nested audio+video latents (LTXVConcatAVLatent wraps any two latents, no model needed).

def nested_latent_nodes(frames: int) -> dict:
    return {
        "video_latent": node("EmptyHunyuanLatentVideo", width=SIZE, height=SIZE, length=frames, batch_size=1),
        "audio_latent": node("EmptyLatentImage", width=SIZE, height=SIZE, batch_size=1),
        "av_latent": node("LTXVConcatAVLatent", video_latent=["video_latent", 0], audio_latent=["audio_latent", 0]),
    }


def test_warp_fills_the_video_stream_of_a_nested_latent(comfyui: ComfyServer, comfy: ComfyClient,
                                                        object_info: dict) -> None:
    requires(object_info, "LTXVConcatAVLatent")
    frames = 9
    nodes = nested_latent_nodes(frames)
    nodes["flow"] = node("TemporalNoiseCameraMotionFlow", frames=frames, width=SIZE, height=SIZE, pan_x=2.0,
                         pan_y=0.0, zoom=1.0, rotate=0.0)
    nodes["warp"] = node("TemporalNoiseIntegralNoiseWarp", method="grid", internal_resolution=1, seed=35,
                         degradation=0.0, occlusion="fresh noise", flow_preset="dis_medium", channels=4,
                         spatial_factor=8, temporal_factor=0, flow=["flow", 0], latent=["av_latent", 0])
    save_latent(nodes, "warped", ["warp", 1])
    result = comfy.run(nodes, RUN_TIMEOUT_S).assert_success()
    assert saved_latent(comfyui, result, "warped").shape == (1, 16, 3, SIZE // 8, SIZE // 8)


def test_freeinit_nodes_refuse_a_nested_latent_by_name(comfy: ComfyClient, object_info: dict) -> None:
    requires(object_info, "LTXVConcatAVLatent")
    graph = graphs.animatediff_graph(frames=4, size=SIZE, steps=1, seed=36, controlnet=None)
    graph.nodes.update(nested_latent_nodes(5))
    nodes = graph.with_sampler("TemporalNoiseFreeInitSampler", **{**graph.ksampler_inputs(),
                                                                  "latent_image": ["av_latent", 0]},
                               iterations=2, coarse_to_fine=False)
    result = comfy.run(nodes, RUN_TIMEOUT_S)
    assert result.status == "error" and result.error["node_id"] == graphs.SAMPLER, result.describe()
    assert "latent_image is an audio+video latent" in result.describe()

    nodes = graph.with_sampler("TemporalNoiseNoiseReinit", model=graph.model, samples=["av_latent", 0],
                               sigmas=["sigmas", 0], seed=36, iteration=1)
    nodes["sigmas"] = node("BasicScheduler", model=graph.model, scheduler="simple", steps=1, denoise=1.0)
    nodes[graphs.DECODE]["inputs"]["samples"] = [graphs.SAMPLER, 1]
    result = comfy.run(nodes, RUN_TIMEOUT_S)
    assert result.status == "error" and result.error["node_id"] == graphs.SAMPLER, result.describe()
    assert "samples is an audio+video latent" in result.describe()
