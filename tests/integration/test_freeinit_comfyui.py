"""FreeInit nodes in a real ComfyUI: an ADE-patched random-weight SD1.5 model with a ControlNet, 8 frames.

The FreeInit Sampler replaces KSampler; Noise Reinit builds the same loop with SamplerCustomAdvanced and
must reproduce the FreeInit Sampler's second pass; an interrupt during the second pass stops the run.
"""

from pathlib import Path

import torch
from comfy_harness import graphs
from comfy_harness.client import ComfyClient, RunResult
from comfy_harness.graphs import node
from comfy_harness.server import ComfyServer

RUN_TIMEOUT_S = 900.0
FRAMES, SIZE = 8, 64


def save_latent(nodes: dict, name: str, source: list) -> None:
    nodes[name] = node("SaveLatent", samples=source, filename_prefix=f"latents/{name}")


def saved_latent(server: ComfyServer, result: RunResult, name: str) -> torch.Tensor:
    from safetensors.torch import load_file  # ComfyUI's dependency: absent where these tests are skipped

    (entry,) = result.outputs[name]["latents"]
    path = Path(server.output_dir, entry["subfolder"], entry["filename"])
    return load_file(path)["latent_tensor"]


def freeinit_graph(seed: int, steps: int, iterations: int, coarse_to_fine: bool) -> graphs.AnimateDiffGraph:
    graph = graphs.animatediff_graph(frames=FRAMES, size=SIZE, steps=steps, seed=seed)
    graph.nodes = graph.with_sampler("TemporalNoiseFreeInitSampler", **graph.ksampler_inputs(), iterations=iterations,
                                     coarse_to_fine=coarse_to_fine)
    save_latent(graph.nodes, "final", [graphs.SAMPLER, 0])
    save_latent(graph.nodes, "every_pass", [graphs.SAMPLER, 1])
    return graph


def test_freeinit_sampler_replaces_ksampler(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    graph = freeinit_graph(seed=11, steps=2, iterations=2, coarse_to_fine=True)
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == FRAMES
    result.assert_progress_complete(graphs.SAMPLER, total=1 + 2)  # coarse-to-fine: 1 step, then 2
    final = saved_latent(comfyui, result, "final")
    every = saved_latent(comfyui, result, "every_pass")
    assert final.shape == (FRAMES, 4, SIZE // 8, SIZE // 8)
    assert every.shape == (FRAMES, 4, SIZE // 8, 2 * SIZE // 8)
    assert torch.isfinite(final).all() and torch.isfinite(every).all()
    assert torch.equal(every[..., SIZE // 8:], final)
    assert not torch.allclose(every[..., : SIZE // 8], final)


def test_iterations_zero_runs_the_papers_five_passes(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    """iterations 0 (the default) = the model's default passes: the paper's 5 on this SD1.5 (EPS) model."""
    graph = freeinit_graph(seed=16, steps=1, iterations=0, coarse_to_fine=False)
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    result.assert_progress_complete(graphs.SAMPLER, total=5)
    assert saved_latent(comfyui, result, "every_pass").shape == (FRAMES, 4, SIZE // 8, 5 * SIZE // 8)


def test_noise_reinit_reproduces_the_sampler_by_hand(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    """RandomNoise → SamplerCustomAdvanced → Noise Reinit → SamplerCustomAdvanced = FreeInit Sampler, 2 passes."""
    seed, steps = 12, 2
    reference = comfy.run(freeinit_graph(seed, steps, iterations=2, coarse_to_fine=False).nodes, RUN_TIMEOUT_S)
    expected = saved_latent(comfyui, reference.assert_success(), "final")

    graph = graphs.animatediff_graph(frames=FRAMES, size=SIZE, steps=steps, seed=seed)
    n = graph.nodes
    del n[graphs.SAMPLER]
    n["noise"] = node("RandomNoise", noise_seed=seed)
    n["guider"] = node("CFGGuider", model=graph.model, positive=graph.positive, negative=graph.negative, cfg=1.0)
    n["sampler_select"] = node("KSamplerSelect", sampler_name="euler")
    n["sigmas"] = node("BasicScheduler", model=graph.model, scheduler="simple", steps=steps, denoise=1.0)
    n["first_pass"] = node("SamplerCustomAdvanced", noise=["noise", 0], guider=["guider", 0],
                           sampler=["sampler_select", 0], sigmas=["sigmas", 0], latent_image=graph.latent)
    n["reinit"] = node("TemporalNoiseNoiseReinit", model=graph.model, samples=["first_pass", 0], sigmas=["sigmas", 0],
                       seed=seed, iteration=1, latent_image=graph.latent, initial_noise=["noise", 0])
    n[graphs.SAMPLER] = node("SamplerCustomAdvanced", noise=["reinit", 0], guider=["guider", 0],
                             sampler=["sampler_select", 0], sigmas=["reinit", 2], latent_image=graph.latent)
    save_latent(n, "by_hand", [graphs.SAMPLER, 0])
    result = comfy.run(n, RUN_TIMEOUT_S).assert_success()
    assert len(result.images(graphs.OUTPUT)) == FRAMES
    torch.testing.assert_close(saved_latent(comfyui, result, "by_hand"), expected, atol=1e-4, rtol=1e-4)


def test_interrupt_during_the_second_pass(comfy: ComfyClient) -> None:
    steps = 3
    graph = freeinit_graph(seed=13, steps=steps, iterations=2, coarse_to_fine=False)
    prompt_id = comfy.queue(graph.nodes)
    comfy.wait_for_progress(prompt_id, graphs.SAMPLER, steps + 1, RUN_TIMEOUT_S)  # first step of pass 2
    comfy.interrupt(prompt_id)
    interrupted = comfy.wait(prompt_id, RUN_TIMEOUT_S)
    assert interrupted.status == "interrupted", interrupted.describe()
    assert max(interrupted.progress_values(graphs.SAMPLER)) < 2 * steps
    follow_up = graphs.animatediff_graph(frames=FRAMES, size=SIZE, steps=1, seed=14, controlnet=None)
    comfy.run(follow_up.nodes, RUN_TIMEOUT_S).assert_success()


def test_freeinit_sampler_with_ade_context_windows(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    """8 frames sampled in sliding windows of 4 (overlap 2) by AnimateDiff-Evolved, on every pass."""
    graph = freeinit_graph(seed=15, steps=2, iterations=2, coarse_to_fine=False)
    graph.nodes["context"] = node("ADE_StandardUniformContextOptions", context_length=4, context_stride=1,
                                  context_overlap=2, fuse_method="pyramid", use_on_equal_length=False,
                                  start_percent=0.0, guarantee_steps=1)
    graph.nodes[graphs.ANIMATEDIFF]["inputs"]["context_options"] = ["context", 0]
    result = comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    assert "Sliding context window sampling activated" in comfyui.log()
    result.assert_progress_complete(graphs.SAMPLER, total=2 * 2)
    final = saved_latent(comfyui, result, "final")
    assert final.shape == (FRAMES, 4, SIZE // 8, SIZE // 8) and torch.isfinite(final).all()


def test_warns_when_ade_iterates_too(comfyui: ComfyServer, comfy: ComfyClient) -> None:
    graph = freeinit_graph(seed=16, steps=1, iterations=1, coarse_to_fine=False)
    graph.nodes["iteration_opts"] = node("ADE_IterationOptsDefault", iterations=2)
    graph.nodes["sample_settings"] = node("ADE_AnimateDiffSamplingSettings", batch_offset=0, noise_type="default",
                                          seed_gen="comfy", seed_offset=0, iteration_opts=["iteration_opts", 0])
    graph.nodes[graphs.ANIMATEDIFF]["inputs"]["sample_settings"] = ["sample_settings", 0]
    comfy.run(graph.nodes, RUN_TIMEOUT_S).assert_success()
    assert "iteration options run 2 iterations of their own" in comfyui.log()
