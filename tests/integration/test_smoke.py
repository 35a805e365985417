"""Smoke tests in a real ComfyUI: the pack loads, its nodes are listed, and a baseline AnimateDiff +
ControlNet graph runs with random-weight models; the harness reports errors and interrupts."""

import re

import pytest
from comfy_harness import graphs
from comfy_harness.client import ComfyClient, PromptRejected
from comfy_harness.server import PACK_ROOT, ComfyServer

import temporal_noise

RUN_TIMEOUT_S = 600.0
DISABLED_MODULE = re.compile(r"\[TemporalNoise\] nodes of (\w+)\.py are disabled")


def test_pack_imports_without_disabled_modules(comfyui: ComfyServer) -> None:
    disabled = DISABLED_MODULE.findall(comfyui.log())
    written = [name for name in disabled if (PACK_ROOT / "nodes" / f"{name}.py").is_file()]
    assert not written, (
        f"ComfyUI disabled the nodes of nodes/{', '.join(written)} because importing them failed:\n"
        + "\n".join(line for line in comfyui.log().splitlines() if "[TemporalNoise]" in line)
    )
    missing = sorted(set(disabled) - set(written))
    if missing:
        pytest.xfail(f"node modules not written yet: {missing}")


def test_object_info_lists_every_pack_node(comfy: ComfyClient) -> None:
    info = comfy.object_info()
    expected = temporal_noise.NODE_CLASS_MAPPINGS
    assert expected, "the pack registers no nodes"
    assert sorted(set(expected) - set(info)) == []
    for name in expected:
        display_name = temporal_noise.NODE_DISPLAY_NAME_MAPPINGS.get(name, name)
        assert info[name]["display_name"] == display_name, name


def test_animatediff_controlnet_graph_runs(comfy: ComfyClient) -> None:
    graph = graphs.animatediff_graph(frames=8, size=64, steps=2, cfg=1.0)
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == graph.frames
    result.assert_progress_complete(graphs.SAMPLER, total=2)


def test_invalid_graph_is_rejected_naming_the_node(comfy: ComfyClient) -> None:
    graph = graphs.animatediff_graph()
    graph.nodes[graphs.SAMPLER]["inputs"]["steps"] = 0
    with pytest.raises(PromptRejected, match=rf"node {graphs.SAMPLER} \(KSampler\):\n  - .*steps"):
        comfy.queue(graph.nodes)


def decode_only(graph: graphs.AnimateDiffGraph, latent: dict | None = None) -> dict:
    """``graph`` without sampling: ``DECODE`` decodes ``latent`` (default: the empty latent) directly."""
    if latent is not None:
        graph.nodes[graphs.EMPTY_LATENT] = latent
    graph.nodes[graphs.DECODE]["inputs"]["samples"] = graph.latent
    del graph.nodes[graphs.SAMPLER]
    return graph.nodes


def test_execution_error_reports_node_and_traceback(comfy: ComfyClient) -> None:
    # A 16-channel SD3 latent cannot go through the SD1.5 VAE's 4-channel decoder.
    sd3_latent = graphs.node("EmptySD3LatentImage", width=64, height=64, batch_size=1)
    result = comfy.run(decode_only(graphs.animatediff_graph(), sd3_latent), RUN_TIMEOUT_S)
    assert result.status == "error"
    assert result.error["node_id"] == graphs.DECODE
    assert "post_quant_conv" in result.traceback_tail()
    assert f"node {graphs.DECODE} (VAEDecode)" in result.describe()


def test_interrupt_stops_the_run_and_the_server_serves_on(comfy: ComfyClient) -> None:
    steps = 4
    graph = graphs.animatediff_graph(steps=steps, seed=1, controlnet=None)
    prompt_id = comfy.queue(graph.nodes)
    comfy.wait_for_progress(prompt_id, graphs.SAMPLER, 1, RUN_TIMEOUT_S)
    comfy.interrupt(prompt_id)
    interrupted = comfy.wait(prompt_id, RUN_TIMEOUT_S)
    assert interrupted.status == "interrupted", interrupted.describe()
    assert interrupted.images(graphs.OUTPUT) == []
    assert interrupted.progress_values(graphs.SAMPLER)[-1] < steps

    frames = 3
    result = comfy.run(decode_only(graphs.animatediff_graph(frames=frames)), RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == frames
