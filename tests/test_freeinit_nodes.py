"""FreeInit nodes as adapters, with ComfyUI's sampling formulas faked (tests/fake_comfy.py).

What these cannot show (real models, ADE, ControlNet, previews) is checked in tests/integration.
"""

import logging
import types

import fake_comfy
import pytest
import torch
from workflow_defs import widget_defaults

from temporal_noise.kernels import LowPassFilter, forward_diffuse, iteration_seed, seeded_noise, spectral_mix
from temporal_noise.nodes.comfy_model import FLOW_DEFAULT_KEEP, to_model_space
from temporal_noise.nodes.freeinit_sampler import FreeInitSampler
from temporal_noise.nodes.frequency_filter import FreeInitFrequencyFilter
from temporal_noise.nodes.noise_reinit import FreeInitNoiseReinit

SIGMA_MAX = fake_comfy.EPS.sigma_max


def fresh_at(eta, sigma, parametrisation):
    """The fresh noise η at the state's noise level σ, as the reinitialisation mixes it in."""
    return forward_diffuse(torch.zeros_like(eta), eta, sigma, parametrisation)


def run_sampler(latent, **overrides):
    arguments = dict(model=fake_comfy.FakeModel(), seed=42, steps=10, cfg=7.0, sampler_name="euler",
                     scheduler="normal", positive=[], negative=[], latent_image={"samples": latent}, denoise=1.0,
                     iterations=3, coarse_to_fine=False)
    arguments.update(overrides)
    return FreeInitSampler().sample(**arguments)


def wan_like(sampling):
    """A model with Wan 2.1's latent format (16 channels, [B, C, T, H, W])."""
    return fake_comfy.FakeModel(sampling, latent_format=fake_comfy.Wan21())


def test_every_input_has_a_tooltip_and_every_node_a_description(fake_comfy):
    for node in (FreeInitSampler, FreeInitFrequencyFilter, FreeInitNoiseReinit):
        inputs = node.INPUT_TYPES()
        for section in inputs.values():
            for name, spec in section.items():
                assert spec[1].get("tooltip"), f"{node.__name__}.{name} has no tooltip"
        assert node.DESCRIPTION and node.CATEGORY.startswith("temporal_noise/")
        assert len(node.OUTPUT_TOOLTIPS) == len(node.RETURN_TYPES)


def test_sampler_inputs_start_like_ksampler(fake_comfy):
    """Same names in the same order as KSampler, so widget values carry over when swapping nodes."""
    names = list(FreeInitSampler.INPUT_TYPES()["required"])
    assert names[:10] == ["model", "seed", "steps", "cfg", "sampler_name", "scheduler", "positive", "negative",
                          "latent_image", "denoise"]


def test_one_iteration_is_ksampler(fake_comfy):
    latent = torch.zeros(8, 4, 8, 8)
    final, _ = run_sampler(latent, iterations=1)
    expected = fake_comfy.sample.sample(fake_comfy.FakeModel(), fake_comfy.prepare_noise(latent, 42), 10, 7.0,
                                        "euler", "normal", [], [], latent)
    assert torch.equal(final["samples"], expected)


def test_passes_start_from_reinitialised_states(fake_comfy):
    """Pass i ≥ 1 starts at state √(1+σ²)·z' with z' the paper's reinitialised latent (same ε every pass)."""
    latent = torch.zeros(8, 4, 8, 8)
    final, every = run_sampler(latent, iterations=3)
    calls = fake_comfy.SAMPLE_CALLS
    eps = fake_comfy.prepare_noise(latent, 42)
    assert torch.equal(calls[0]["noise"], eps)
    spec = LowPassFilter()
    previous = torch.tanh(calls[0]["state"] / (1.0 + SIGMA_MAX))  # pass 0's result in model space
    for i in (1, 2):
        eta = seeded_noise(latent, iteration_seed(42, i))
        z = spectral_mix(forward_diffuse(previous, eps, SIGMA_MAX, "vp"), fresh_at(eta, SIGMA_MAX, "vp"), spec)
        torch.testing.assert_close(calls[i]["state"], z * (1 + SIGMA_MAX**2) ** 0.5, atol=1e-4, rtol=1e-5)
        previous = torch.tanh(calls[i]["state"] / (1.0 + SIGMA_MAX))
    assert every["samples"].shape == (8, 4, 8, 24)
    assert torch.equal(every["samples"][..., 16:], final["samples"])


def test_one_progress_bar_counts_every_step_of_every_pass(fake_comfy):
    run_sampler(torch.zeros(8, 4, 8, 8), steps=10, iterations=3, coarse_to_fine=True)
    (bar,) = fake_comfy.utils.ProgressBar.instances
    assert bar.total == 3 + 6 + 10
    assert [value for value, _ in bar.updates] == list(range(1, 20))
    assert {total for _, total in bar.updates} == {19}
    assert [call["steps"] for call in fake_comfy.SAMPLE_CALLS] == [3, 6, 10]


def test_interrupt_stops_between_passes(fake_comfy):
    real_sample = fake_comfy.sample.sample

    def interrupt_after_first_pass(*args, **kwargs):
        result = real_sample(*args, **kwargs)
        fake_comfy.model_management.interrupted = True
        return result

    fake_comfy.sample.sample = interrupt_after_first_pass
    with pytest.raises(fake_comfy.model_management.InterruptProcessingException):
        run_sampler(torch.zeros(8, 4, 8, 8))
    assert len(fake_comfy.SAMPLE_CALLS) == 1


def test_deterministic_for_a_seed_and_different_across_seeds(fake_comfy):
    latent = torch.zeros(4, 4, 8, 8)
    first = run_sampler(latent, seed=7)[0]["samples"]
    again = run_sampler(latent, seed=7)[0]["samples"]
    other = run_sampler(latent, seed=8)[0]["samples"]
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


@pytest.mark.parametrize(("model", "latent", "passes"), [
    (fake_comfy.FakeModel(fake_comfy.EPS()), torch.zeros(2, 4, 8, 8), 5),
    (wan_like(fake_comfy.CONST()), torch.zeros(1, 16, 2, 8, 8), 3)], ids=["EPS", "CONST"])
def test_iterations_zero_runs_the_models_default_passes(fake_comfy, model, latent, passes):
    """0 = the paper's 5 passes on VP models, 3 on flow models (DEFAULT_PASSES, from the benchmark)."""
    _, every = run_sampler(latent, model=model, iterations=0, steps=2)
    assert len(fake_comfy.SAMPLE_CALLS) == passes and every["samples"].shape[-1] == 8 * passes


def test_video_latents_and_flow_models(fake_comfy):
    latent = torch.zeros(1, 16, 5, 8, 8)
    final, every = run_sampler(latent, model=wan_like(fake_comfy.CONST()), iterations=2)
    assert final["samples"].shape == latent.shape and every["samples"].shape == (1, 16, 5, 8, 16)
    # schedule starts at σ = 1; the flow model is re-noised to the level keeping FLOW_DEFAULT_KEEP of the result
    # and pass 2 samples the schedule from there
    calls = fake_comfy.SAMPLE_CALLS
    eps = calls[0]["noise"]
    previous = torch.tanh(calls[0]["state"] / 2.0)
    sigma = 1.0 - FLOW_DEFAULT_KEEP
    full = fake_comfy.KSampler(fake_comfy.FakeModel(fake_comfy.CONST()), 10, "cpu").sigmas
    assert calls[1]["sigmas"].tolist() == pytest.approx([sigma, *full[full < sigma].tolist()], rel=1e-6)
    expected = spectral_mix(forward_diffuse(previous, eps, sigma, "flow"),
                            fresh_at(seeded_noise(latent, iteration_seed(42, 1)), sigma, "flow"), LowPassFilter())
    torch.testing.assert_close(calls[1]["state"], expected, atol=1e-5, rtol=1e-5)


def test_initial_noise_input_is_used(fake_comfy):
    latent = torch.zeros(8, 4, 8, 8)
    warped = torch.randn(8, 4, 8, 8, generator=torch.Generator().manual_seed(3))
    noise = types.SimpleNamespace(seed=1, generate_noise=lambda latent_dict: warped.clone())
    run_sampler(latent, initial_noise=noise, iterations=1)
    assert torch.equal(fake_comfy.SAMPLE_CALLS[0]["noise"], warped)


def test_fresh_noise_input_gives_every_reinitialisation_its_high_frequencies(fake_comfy):
    """With fresh_noise (e.g. a second warped noise) every pass ≥ 2 mixes the re-noised result's low band with
    that noise's high band, instead of seeded noise that is independent per frame."""
    latent = torch.zeros(1, 16, 5, 8, 8)
    fresh = torch.randn(latent.shape, generator=torch.Generator().manual_seed(7))
    noise = types.SimpleNamespace(seed=2, generate_noise=lambda latent_dict: fresh.clone())
    run_sampler(latent, model=wan_like(fake_comfy.CONST()), iterations=3, fresh_noise=noise)
    calls = fake_comfy.SAMPLE_CALLS
    sigma = 1.0 - FLOW_DEFAULT_KEEP
    for i in (1, 2):
        previous = torch.tanh(calls[i - 1]["state"] / (1.0 + float(calls[i - 1]["sigmas"][0])))
        expected = spectral_mix(forward_diffuse(previous, calls[0]["noise"], sigma, "flow"),
                                fresh_at(fresh, sigma, "flow"), LowPassFilter())
        torch.testing.assert_close(calls[i]["state"], expected, atol=1e-5, rtol=1e-5)


def test_warns_when_the_reinitialisation_keeps_almost_nothing_of_the_result(fake_comfy, caplog):
    """Re-noising that keeps under 1 % of the result (a flow model at keep_percent 0.03, as at t = 0.999 with
    shift 3) is warned about; the defaults (SD-like EPS: 6.8 %, flow: FLOW_DEFAULT_KEEP) are not."""
    latent = torch.zeros(1, 16, 5, 8, 8)
    flow = wan_like(fake_comfy.CONST())
    with caplog.at_level(logging.WARNING):
        run_sampler(latent, model=wan_like(fake_comfy.EPS()), iterations=2)
        run_sampler(latent, model=flow, iterations=2)
    assert "gains little" not in caplog.text
    with caplog.at_level(logging.WARNING):
        run_sampler(latent, model=flow, iterations=2, keep_percent=0.03)
    assert "keeps 0.03 % of each pass's result" in caplog.text and "gains little" in caplog.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"iterations": -1}, "iterations"),
     ({"denoise": 0.0}, "denoise"),
     ({"latent_image": {"samples": torch.zeros(4, 8, 8)}}, "latent_image"),
     ({"latent_image": {"samples": torch.full((4, 4, 8, 8), float("nan"))}}, "latent_image"),
     ({"latent_image": {"samples": torch.zeros(0, 4, 8, 8)}}, "latent_image"),
     ({"initial_noise": types.SimpleNamespace(seed=0, generate_noise=lambda d: torch.zeros(4, 4, 8, 6))},
      "initial_noise"),
     ({"model": fake_comfy.FakeModel(fake_comfy.IMG_TO_IMG())}, "model")],
)
def test_bad_inputs_name_the_input(fake_comfy, overrides, message):
    overrides.setdefault("latent_image", {"samples": torch.zeros(4, 4, 8, 8)})
    with pytest.raises(ValueError, match=message):
        run_sampler(overrides.pop("latent_image")["samples"], **overrides)


def test_warns_when_ade_iterates_or_replaces_noise(fake_comfy, caplog):
    settings = types.SimpleNamespace(iteration_opts=types.SimpleNamespace(iterations=2), batch_offset=0,
                                     seed_offset=0, seed_override=None, noise_type="FreeNoise", seed_gen="comfy",
                                     noise_layers=types.SimpleNamespace(layers=[]))
    model = fake_comfy.FakeModel(attachments={"ADE_sample_settings": settings})
    with caplog.at_level(logging.WARNING):
        run_sampler(torch.zeros(4, 4, 8, 8), model=model, iterations=1)
    assert "iteration options run 2 iterations" in caplog.text
    assert "noise_type" in caplog.text


def test_default_ade_settings_do_not_warn(fake_comfy, caplog):
    settings = types.SimpleNamespace(iteration_opts=types.SimpleNamespace(iterations=1), batch_offset=0,
                                     seed_offset=0, seed_override=None, noise_type="default", seed_gen="comfy",
                                     noise_layers=types.SimpleNamespace(layers=[]))
    with caplog.at_level(logging.WARNING):
        run_sampler(torch.zeros(4, 4, 8, 8), model=fake_comfy.FakeModel(attachments={"ADE_sample_settings": settings}),
                    iterations=1)
    assert "AnimateDiff-Evolved" not in caplog.text


def test_hand_built_loop_reproduces_the_sampler(fake_comfy):
    """RandomNoise → pass → Noise Reinit (iteration 1) → pass gives FreeInit Sampler's second pass."""
    latent = torch.zeros(8, 4, 8, 8)
    model = fake_comfy.FakeModel()
    run_sampler(latent, iterations=2)
    sampler_states = [call["state"] for call in fake_comfy.SAMPLE_CALLS]
    fake_comfy.SAMPLE_CALLS.clear()
    first = fake_comfy.sample.sample(model, fake_comfy.prepare_noise(latent, 42), 10, 7.0, "euler", "normal", [], [],
                                     latent)
    sigmas = fake_comfy.KSampler(model, 10, "cpu").sigmas
    noise, noise_latent, _ = FreeInitNoiseReinit().reinit(model, {"samples": first}, sigmas, 42, 1)
    fake_comfy.sample.sample(model, noise.generate_noise({"samples": latent}), 10, 7.0, "euler", "normal", [], [],
                             latent)
    assert torch.equal(fake_comfy.SAMPLE_CALLS[-1]["state"], sampler_states[1])
    assert torch.equal(noise_latent["samples"], noise.generate_noise({"samples": latent}))


def test_noise_reinit_bad_inputs(fake_comfy):
    model = fake_comfy.FakeModel()
    samples = {"samples": torch.zeros(8, 4, 8, 8)}
    sigmas = torch.linspace(SIGMA_MAX, 0, 11)
    node = FreeInitNoiseReinit()
    with pytest.raises(ValueError, match="sigmas"):
        node.reinit(model, samples, torch.tensor([0.0]), 0, 1)
    with pytest.raises(ValueError, match=r"sigmas must be .* finite"):
        node.reinit(model, samples, torch.tensor([float("inf"), 0.0]), 0, 1)
    with pytest.raises(ValueError, match=r"sigmas start at 14\.6146 but this flow model's sigmas lie in"):
        node.reinit(fake_comfy.FakeModel(fake_comfy.CONST()), samples, sigmas, 0, 1)
    # a shifted float32 flow schedule may start one ulp above 1: accepted
    node.reinit(fake_comfy.FakeModel(fake_comfy.CONST()), samples, torch.tensor([1.0000001, 0.5, 0.0]), 0, 1)
    with pytest.raises(ValueError, match="latent_image"):
        node.reinit(model, samples, sigmas, 0, 1, latent_image={"samples": torch.zeros(4, 4, 8, 8)})
    with pytest.raises(ValueError, match="samples"):
        node.reinit(model, {"samples": torch.full((8, 4, 8, 8), float("inf"))}, sigmas, 0, 1)
    with pytest.raises(ValueError, match="the latent it is used with"):
        noise, _, _ = node.reinit(model, samples, sigmas, 0, 1)
        noise.generate_noise({"samples": torch.zeros(16, 4, 8, 8)})


def test_frequency_filter_node_builds_the_filter_and_a_preview():
    lowpass, preview = FreeInitFrequencyFilter().build("butterworth", 0.3, 0.2, 6, 16, 32)
    assert lowpass == LowPassFilter("butterworth", 0.3, 0.2, 6)
    assert preview.shape == (1, 32, 68, 3)
    assert preview.min() >= 0 and preview.max() <= 1
    assert preview[0, 16, 16, 0] == 1.0  # DC in the middle of the spatial slice
    with pytest.raises(ValueError, match="d_s"):
        FreeInitFrequencyFilter().build("gaussian", 0.0, 0.2, 4, 16, 32)


def test_noise_reinit_warns_when_a_partial_schedule_has_no_latent_image(fake_comfy, caplog):
    """Below σ_max the noise depends on the latent being sampled: without latent_image it is computed for an
    empty one, wrong for an input video (the input would be added twice)."""
    model, samples = fake_comfy.FakeModel(), {"samples": torch.zeros(8, 4, 8, 8)}
    with caplog.at_level(logging.WARNING):
        FreeInitNoiseReinit().reinit(model, samples, torch.linspace(SIGMA_MAX, 0, 11), 0, 1)
    assert "latent_image is not connected" not in caplog.text
    with caplog.at_level(logging.WARNING):
        FreeInitNoiseReinit().reinit(model, samples, torch.linspace(7.3, 0, 11), 0, 1)
    assert "sigmas start at 7.3, below the model's largest sigma" in caplog.text


def test_partial_denoise_passes_start_from_the_input_renoised_to_each_schedules_first_sigma(fake_comfy):
    """denoise < 1 with an input video: pass i ≥ 1 starts at state √(1+σ_i²)·z' with σ_i the first sigma of its
    own partial schedule (coarse-to-fine: 3, 6, 10 steps of a 0.3 schedule start at different sigmas) and z'
    the reinitialised latent; ComfyUI adds the processed input itself, so the noise must not contain it."""
    latent = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    _, every = run_sampler(latent, denoise=0.3, steps=10, iterations=3, coarse_to_fine=True)
    calls = fake_comfy.SAMPLE_CALLS
    assert [call["steps"] for call in calls] == [3, 6, 10]
    sigmas = [float(fake_comfy.KSampler(fake_comfy.FakeModel(), n, "cpu", denoise=0.3).sigmas[0]) for n in (3, 6, 10)]
    assert sigmas[1] != sigmas[2] and max(sigmas) < SIGMA_MAX
    eps = fake_comfy.prepare_noise(latent, 42)
    torch.testing.assert_close(calls[0]["state"], eps * sigmas[0] + latent * 0.18215)
    for i in (1, 2):
        previous = every["samples"][..., 8 * (i - 1) : 8 * i] * 0.18215  # pass i-1's result in model space
        eta = seeded_noise(latent, iteration_seed(42, i))
        z = spectral_mix(forward_diffuse(previous, eps, sigmas[i], "vp"), fresh_at(eta, sigmas[i], "vp"),
                         LowPassFilter())
        torch.testing.assert_close(calls[i]["state"], z * (1 + sigmas[i] ** 2) ** 0.5, atol=1e-4, rtol=1e-5)


def test_every_pass_gets_the_seed_the_noise_mask_and_keeps_the_latents_other_entries(fake_comfy):
    """As KSampler: the seed goes to the sampler (SDE samplers draw their noise from it), the noise_mask
    (inpainting) limits every pass, and the output LATENT keeps the input's other entries."""
    latent = torch.zeros(4, 4, 8, 8)
    mask = torch.ones(4, 1, 8, 8)
    masks = []
    real_sample = fake_comfy.sample.sample

    def recording_sample(*args, **kwargs):
        masks.append(kwargs.get("noise_mask"))
        return real_sample(*args, **kwargs)

    fake_comfy.sample.sample = recording_sample
    final, _ = run_sampler(latent, latent_image={"samples": latent, "noise_mask": mask, "batch_index": [0, 1, 2, 3]})
    assert [call["seed"] for call in fake_comfy.SAMPLE_CALLS] == [42, 42, 42]
    assert len(masks) == 3 and all(m is mask for m in masks)
    assert final["noise_mask"] is mask and final["batch_index"] == [0, 1, 2, 3]


def test_sampler_fills_the_latent_that_comfyui_fixes_for_the_model(fake_comfy):
    """ComfyUI's fix_empty_latent_channels gives an empty latent the model's channels (e.g. 4 → 16): the noise
    and the result must have the fixed shape."""
    final, _ = run_sampler(torch.zeros(4, 4, 8, 8), iterations=2,
                           model=fake_comfy.FakeModel(latent_format=fake_comfy.SD3()))
    assert fake_comfy.SAMPLE_CALLS[0]["noise"].shape == (4, 16, 8, 8)
    assert final["samples"].shape == (4, 16, 8, 8)


def noise_of(tensor):
    """A NOISE that generates ``tensor``."""
    return types.SimpleNamespace(seed=0, generate_noise=lambda d: tensor)


def nan_noise(shape):
    return noise_of(torch.full(shape, float("nan")))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"initial_noise": nan_noise((4, 4, 8, 8))}, "initial_noise contains NaN"),
     ({"fresh_noise": nan_noise((4, 4, 8, 8))}, "fresh_noise contains NaN"),
     ({"fresh_noise": noise_of(torch.zeros(4, 4, 8, 6))}, "fresh_noise has shape")],
)
def test_bad_noise_inputs_name_the_input(fake_comfy, overrides, message):
    with pytest.raises(ValueError, match=message):
        run_sampler(torch.zeros(4, 4, 8, 8), **overrides)


def test_defaults_are_the_papers(fake_comfy):
    """FreeInit Sampler defaults to the model's passes (the paper's 5 on VP models, below) at full step count,
    and an unchanged Frequency Filter node is the filter the FreeInit nodes use when none is connected
    (gaussian, d_s = d_t = 0.25)."""
    required = FreeInitSampler.INPUT_TYPES()["required"]
    assert required["iterations"][1]["default"] == 0 and required["coarse_to_fine"][1]["default"] is False
    lowpass, _ = FreeInitFrequencyFilter().build(**widget_defaults(FreeInitFrequencyFilter))
    assert lowpass == LowPassFilter()


def test_hand_built_loop_reproduces_the_sampler_at_partial_denoise(fake_comfy):
    """As test_hand_built_loop_reproduces_the_sampler, for an input video at denoise 0.5 with latent_image
    connected to Noise Reinit: the second pass starts from the same state."""
    latent = torch.randn(8, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    model = fake_comfy.FakeModel()
    run_sampler(latent, iterations=2, denoise=0.5)
    sampler_state = fake_comfy.SAMPLE_CALLS[1]["state"]
    first = fake_comfy.sample.sample(model, fake_comfy.prepare_noise(latent, 42), 10, 7.0, "euler", "normal", [], [],
                                     latent, denoise=0.5)
    sigmas = fake_comfy.KSampler(model, 10, "cpu", denoise=0.5).sigmas
    noise, _, _ = FreeInitNoiseReinit().reinit(model, {"samples": first}, sigmas, 42, 1,
                                               latent_image={"samples": latent})
    fake_comfy.sample.sample(model, noise.generate_noise({"samples": latent}), 10, 7.0, "euler", "normal", [], [],
                             latent, denoise=0.5)
    torch.testing.assert_close(fake_comfy.SAMPLE_CALLS[-1]["state"], sampler_state, atol=1e-5, rtol=1e-5)


def test_noise_reinit_keeps_the_seed_and_refuses_bad_noise_and_schedules(fake_comfy):
    """The NOISE carries the seed (SamplerCustomAdvanced passes it to the sampler); a one-value schedule, a
    wrong-shaped or non-finite fresh_noise are refused by name."""
    model, samples = fake_comfy.FakeModel(), {"samples": torch.zeros(8, 4, 8, 8)}
    sigmas = torch.linspace(SIGMA_MAX, 0, 11)
    node = FreeInitNoiseReinit()
    noise, _, _ = node.reinit(model, samples, sigmas, 1234, 1)
    assert noise.seed == 1234
    with pytest.raises(ValueError, match="sigmas must be a schedule of at least 2 values"):
        node.reinit(model, samples, torch.tensor([SIGMA_MAX]), 0, 1)
    with pytest.raises(ValueError, match="fresh_noise has shape"):
        node.reinit(model, samples, sigmas, 0, 1, fresh_noise=noise_of(torch.zeros(8, 4, 8, 6)))
    with pytest.raises(ValueError, match="fresh_noise contains NaN"):
        node.reinit(model, samples, sigmas, 0, 1, fresh_noise=nan_noise((8, 4, 8, 8)))


@pytest.mark.parametrize("first_sigma", [SIGMA_MAX * (1 - 5e-6), 20.0])
def test_noise_reinit_follows_comfyuis_max_denoise_rule(fake_comfy, caplog, first_sigma):
    """ComfyUI treats a schedule starting within 1e-5 of σ_max, or above it, as max denoise: the noise is
    z' itself (noise_scaling multiplies it by √(1+σ²)) and no latent_image is needed."""
    model, samples = fake_comfy.FakeModel(), {"samples": torch.zeros(8, 4, 8, 8)}
    with caplog.at_level(logging.WARNING):
        _, noise_latent, _ = FreeInitNoiseReinit().reinit(model, samples, torch.tensor([first_sigma, 1.0, 0.0]), 42, 1)
    assert "latent_image is not connected" not in caplog.text
    latent = samples["samples"]
    z = spectral_mix(forward_diffuse(latent, fake_comfy.prepare_noise(latent, 42), first_sigma, "vp"),
                     fresh_at(seeded_noise(latent, iteration_seed(42, 1)), first_sigma, "vp"), LowPassFilter())
    torch.testing.assert_close(noise_latent["samples"], z, atol=1e-5, rtol=1e-5)


def test_warns_for_a_zero_terminal_snr_like_schedule(fake_comfy, caplog):
    """σ_max = 150 keeps 1/√(1+150²) ≈ 0.67 % of the result, below the 1 % at which FreeInit stops helping."""
    model = fake_comfy.FakeModel(type("HighSigmaEPS", (fake_comfy.EPS,), {"sigma_max": 150.0})())
    with caplog.at_level(logging.WARNING):
        run_sampler(torch.zeros(4, 4, 8, 8), model=model, iterations=2, steps=2)
    assert "keeps 0.67 % of each pass's result" in caplog.text


def test_empty_latents_stay_zero_in_model_space(fake_comfy):
    """As ComfyUI's samplers: process_latent_in only for a latent with content, so an empty latent stays empty
    even for latent formats with a shift (SD3, Flux, Wan)."""
    model = fake_comfy.FakeModel()
    model.get_model_object = lambda name: (lambda x: (x - 0.1) * 0.5) if name == "process_latent_in" else model.sampling
    assert torch.equal(to_model_space(model, torch.zeros(2, 4, 8, 8)), torch.zeros(2, 4, 8, 8))
    assert torch.equal(to_model_space(model, torch.ones(2, 4, 8, 8)), torch.full((2, 4, 8, 8), 0.45))


def test_warns_when_ade_noise_layers_replace_the_noise(fake_comfy, caplog):
    settings = types.SimpleNamespace(iteration_opts=types.SimpleNamespace(iterations=1), batch_offset=0,
                                     seed_offset=0, seed_override=None, noise_type="default", seed_gen="comfy",
                                     noise_layers=types.SimpleNamespace(layers=[object()]))
    with caplog.at_level(logging.WARNING):
        run_sampler(torch.zeros(4, 4, 8, 8), model=fake_comfy.FakeModel(attachments={"ADE_sample_settings": settings}),
                    iterations=1)
    assert "sample settings (noise_layers) replace the noise" in caplog.text


def test_progress_never_passes_the_total_when_a_sampler_reports_extra_steps(fake_comfy):
    """Adaptive samplers (dpm_adaptive) may call back more often than ``steps``: the bar stays within its total
    and never goes back."""
    real_sample = fake_comfy.sample.sample

    def overshooting_sample(*args, callback=None, **kwargs):
        result = real_sample(*args, **kwargs)
        for step in range(args[2] + 5):
            callback(step, result, result, args[2])
        return result

    fake_comfy.sample.sample = overshooting_sample
    run_sampler(torch.zeros(4, 4, 8, 8), steps=4, iterations=2)
    (bar,) = fake_comfy.utils.ProgressBar.instances
    values = [value for value, _ in bar.updates]
    assert values == sorted(values) and max(values) == bar.total == 8


def test_outputs_are_named_for_what_they_hold(fake_comfy):
    """The output called latent is the last pass's LATENT, all_iterations the passes side by side."""
    outputs = dict(zip(FreeInitSampler.RETURN_NAMES, run_sampler(torch.zeros(4, 4, 8, 8), iterations=2), strict=True))
    assert outputs["latent"]["samples"].shape == (4, 4, 8, 8)
    assert outputs["all_iterations"]["samples"].shape == (4, 4, 8, 16)
    reinit = dict(zip(FreeInitNoiseReinit.RETURN_NAMES, FreeInitNoiseReinit.RETURN_TYPES, strict=True))
    assert reinit == {"noise": "NOISE", "noise_latent": "LATENT", "sigmas": "SIGMAS"}


@pytest.mark.parametrize(("sampling", "keep_percent", "sigma"),
                         [("EPS", 20.0, (1 - 0.2**2) ** 0.5 / 0.2), ("CONST", 0.0, 1.0 - FLOW_DEFAULT_KEEP),
                          ("CONST", 5.0, 0.95)])
def test_keep_percent_restarts_later_passes_at_that_level(fake_comfy, sampling, keep_percent, sigma):
    """Pass i ≥ 1 starts at the state keeping keep_percent % of the previous result, and samples the schedule
    from that level: the level, then the schedule's sigmas below it."""
    model = fake_comfy.FakeModel(getattr(fake_comfy, sampling)())
    kind = "vp" if sampling == "EPS" else "flow"
    latent = torch.zeros(8, 4, 8, 8)
    run_sampler(latent, model=model, iterations=2, keep_percent=keep_percent)
    calls = fake_comfy.SAMPLE_CALLS
    full = fake_comfy.KSampler(model, 10, "cpu").sigmas
    assert calls[1]["sigmas"].tolist() == pytest.approx([sigma, *full[full < sigma].tolist()], rel=1e-6)
    previous = to_model_space(model, run_sampler(latent, model=model, iterations=1)[0]["samples"])
    eps, eta = calls[0]["noise"], seeded_noise(latent, iteration_seed(42, 1))
    z = spectral_mix(forward_diffuse(previous, eps, sigma, kind), fresh_at(eta, sigma, kind), LowPassFilter())
    scale = (1 + sigma**2) ** 0.5 if kind == "vp" else 1.0
    torch.testing.assert_close(calls[1]["state"], z * scale, atol=1e-4, rtol=1e-5)
    (bar,) = fake_comfy.utils.ProgressBar.instances[:1]
    assert bar.total == 10 + len(calls[1]["sigmas"]) - 1


@pytest.mark.parametrize("keep_percent", [0.0, 3.0, 20.0])
def test_hand_built_flow_loop_with_a_two_model_split_reproduces_the_sampler(fake_comfy, keep_percent):
    """Wan 2.2 by hand: pass 2 runs the high-noise part restarted by Noise Reinit, then the low-noise part as
    SplitSigmas gave it; together they are FreeInit Sampler's second pass when the level lies in the high part
    or at the hand-over (σ = 0.7: the default 30 %, where the high-noise sampler only adds the noise)."""
    latent = torch.zeros(1, 16, 5, 8, 8)
    model = wan_like(fake_comfy.CONST())
    run_sampler(latent, model=model, iterations=2, keep_percent=keep_percent)
    first_pass, second_pass = fake_comfy.SAMPLE_CALLS[:2]
    full = fake_comfy.KSampler(model, 10, "cpu").sigmas
    high, low = full[:4], full[3:]  # SplitSigmas at step 3
    result = torch.tanh(first_pass["state"] / 2.0) / 0.18215
    noise, _, high_restarted = FreeInitNoiseReinit().reinit(model, {"samples": result}, high, 42, 1,
                                                            keep_percent=keep_percent)
    assert torch.cat([high_restarted[:-1], low]).tolist() == second_pass["sigmas"].tolist()
    state = model.sampling.noise_scaling(float(high_restarted[0]), noise.generate_noise({"samples": latent}), 0.0)
    torch.testing.assert_close(state, second_pass["state"], atol=1e-6, rtol=0)


def test_noise_reinit_refuses_a_level_below_the_part_it_restarts(fake_comfy):
    """Keeping 40 % puts the level (σ = 0.6) below the high-noise part of a split schedule (which ends at 0.7):
    that part has nothing to sample, and the error says to restart the low-noise part instead."""
    model = wan_like(fake_comfy.CONST())
    samples = {"samples": torch.zeros(1, 16, 5, 8, 8)}
    full = fake_comfy.KSampler(model, 10, "cpu").sigmas
    with pytest.raises(ValueError, match=r"keep_percent.*below the end of these sigmas.*low-noise"):
        FreeInitNoiseReinit().reinit(model, samples, full[:4], 42, 1, keep_percent=40.0)
    *_, restarted = FreeInitNoiseReinit().reinit(model, samples, full[3:], 42, 1, keep_percent=40.0)
    assert restarted.tolist() == pytest.approx([0.6, *full[full < 0.6].tolist()], rel=1e-6)
