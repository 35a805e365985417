"""The FreeInit nodes and the NOISE on the ComfyUI users run: 0.3.64's APIs and 0.33's (``fake_comfy.use_033``):
core's FreeNoise, empty latents resized to the model's grid, nested audio+video latents, every prediction type,
and latents checked before core reshapes them."""

import logging

import pytest
import torch

from temporal_noise.kernels import LowPassFilter, forward_diffuse, iteration_seed, seeded_noise, spectral_mix
from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.nodes.comfy_model import parametrisation
from temporal_noise.nodes.freeinit_sampler import FreeInitSampler
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp
from temporal_noise.nodes.noise import TensorNoise
from temporal_noise.nodes.noise_reinit import FreeInitNoiseReinit

SIGMA_MAX = 14.614642


def run_sampler(fake, latent_image, **overrides):
    arguments = dict(model=fake.FakeModel(), seed=42, steps=4, cfg=7.0, sampler_name="euler", scheduler="normal",
                     positive=[], negative=[], latent_image=latent_image, denoise=1.0, iterations=2,
                     coarse_to_fine=False)
    arguments.update(overrides)
    return FreeInitSampler().sample(**arguments)


def video_model(fake, sampling=None, latent_format=None, **kwargs):
    return fake.FakeModel(sampling, latent_format=latent_format or fake.Wan21(), **kwargs)


# 1. Core's FreeNoise (context windows) writes into the noise it is handed.

def test_a_sampler_that_shuffles_its_noise_in_place_leaves_freeinits_noise_alone(fake_comfy, caplog):
    """With FreeNoise on, core rewrites the noise tensor it gets (on the CPU, the very tensor we pass): FreeInit
    must still re-noise every pass with the initial noise it drew, and say that FreeNoise scrambles it."""
    latent = torch.zeros(1, 16, 6, 8, 8)
    model = video_model(fake_comfy, context_handler=fake_comfy.ContextHandler(freenoise=True))
    with caplog.at_level(logging.WARNING):
        run_sampler(fake_comfy, {"samples": latent}, model=model)
    calls = fake_comfy.SAMPLE_CALLS
    eps = fake_comfy.prepare_noise(latent, 42)
    assert torch.equal(calls[0]["noise"], eps)
    previous = torch.tanh(calls[0]["state"] / (1.0 + SIGMA_MAX))
    eta = seeded_noise(latent, iteration_seed(42, 1))
    fresh = forward_diffuse(torch.zeros_like(eta), eta, SIGMA_MAX, "vp")  # η at the state's noise level
    expected = spectral_mix(forward_diffuse(previous, eps, SIGMA_MAX, "vp"), fresh, LowPassFilter())
    torch.testing.assert_close(calls[1]["noise"], expected, atol=1e-5, rtol=1e-5)
    assert "FreeInit Sampler: core context windows with freenoise on" in caplog.text
    assert "Set freenoise to false" in caplog.text


def test_noise_reinit_warns_about_freenoise_and_ade_settings(fake_comfy, caplog):
    import types

    settings = types.SimpleNamespace(iteration_opts=None, batch_offset=0, seed_offset=1, seed_override=None,
                                     noise_type="default", seed_gen="comfy", noise_layers=None)
    model = video_model(fake_comfy, context_handler=fake_comfy.ContextHandler(freenoise=True),
                        attachments={"ADE_sample_settings": settings})
    samples = {"samples": torch.zeros(1, 16, 6, 8, 8)}
    with caplog.at_level(logging.WARNING):
        FreeInitNoiseReinit().reinit(model, samples, torch.linspace(SIGMA_MAX, 0, 5), 0, 1)
    assert "Noise Reinit: core context windows with freenoise on" in caplog.text
    assert ("Noise Reinit: AnimateDiff-Evolved is active on this MODEL and its sample settings (seed_offset)"
            in caplog.text)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        FreeInitNoiseReinit().reinit(video_model(fake_comfy, context_handler=fake_comfy.ContextHandler(False)),
                                     samples, torch.linspace(SIGMA_MAX, 0, 5), 0, 1)
    assert "freenoise" not in caplog.text


def test_warped_noise_says_once_what_freenoise_does_to_it(fake_comfy, caplog):
    """The warp's NOISE cannot see the MODEL: the first time it is used it logs what FreeNoise does to it."""
    flow = camera_motion_flow(5, 64, 64, pan_x=2.0)
    latent = {"samples": torch.zeros(1, 16, 2, 8, 8)}
    noise, _, _ = IntegralNoiseWarp().warp("grid", 1, 0, 0.0, "fresh noise", "dis_medium", 4, 8, 0, flow=flow,
                                           latent=latent)
    with caplog.at_level(logging.INFO):
        noise.generate_noise(latent)
        noise.generate_noise(latent)
    assert caplog.text.count("set freenoise to false") == 1


# 2. Empty latents resized to the model's grid as core resizes them.

def wan22_empty_latent():
    """Empty Hunyuan Latent Video of 9 frames at 128 x 192 (0.33 records that it is 8 pixels per latent pixel)."""
    return {"samples": torch.zeros(1, 16, 3, 16, 24), "downscale_ratio_spacial": 8}


def test_sampler_resizes_an_empty_latent_to_the_models_grid_as_core_does(fake_comfy):
    """0.33: Wan 2.2 5B (16 pixels per latent pixel, 48 channels) samples an 8x empty latent at half the size per
    side, as KSampler does, and the output drops the ratio keys as core's samplers do."""
    fake_comfy.use_033()
    model = video_model(fake_comfy, latent_format=fake_comfy.Wan22())
    latent = wan22_empty_latent()
    core = fake_comfy.fix_empty_latent_channels_033(model, latent["samples"], 8, None)
    final, _ = run_sampler(fake_comfy, latent, model=model)
    assert core.shape == (1, 48, 3, 8, 12)
    assert all(call["noise"].shape == core.shape for call in fake_comfy.SAMPLE_CALLS)
    assert final["samples"].shape == core.shape
    assert set(final) == {"samples"}


def test_on_0_3_64_the_latent_keeps_its_grid_and_its_keys(fake_comfy):
    """0.3.64's fix_empty_latent_channels takes no ratios: core samples the latent at its own grid, and keeps
    every key of the LATENT."""
    model = video_model(fake_comfy, latent_format=fake_comfy.Wan22())
    final, _ = run_sampler(fake_comfy, wan22_empty_latent(), model=model)
    assert final["samples"].shape == (1, 48, 3, 16, 24)
    assert final["downscale_ratio_spacial"] == 8


def test_noise_reinit_fits_the_next_pass_of_a_resized_empty_latent(fake_comfy):
    """0.33: the previous pass sampled the resized latent; Noise Reinit resizes latent_image the same way."""
    fake_comfy.use_033()
    model = video_model(fake_comfy, fake_comfy.CONST(), latent_format=fake_comfy.Wan22())
    previous = {"samples": torch.randn(1, 48, 3, 8, 12, generator=torch.Generator().manual_seed(0))}
    noise, noise_latent, _ = FreeInitNoiseReinit().reinit(model, previous, torch.linspace(1, 0, 5), 3, 1,
                                                       latent_image=wan22_empty_latent())
    assert noise_latent["samples"].shape == (1, 48, 3, 8, 12)
    resized = fake_comfy.fix_empty_latent_channels_033(model, wan22_empty_latent()["samples"], 8, None)
    assert noise.generate_noise({"samples": resized}).shape == (1, 48, 3, 8, 12)


# 3. Nested (audio+video) latents.

def nested_latent(fake):
    return fake.NestedTensor((torch.zeros(1, 24, 3, 8, 8), torch.zeros(1, 32, 2, 15)))


def test_freeinit_nodes_refuse_nested_latents_by_name(fake_comfy):
    fake_comfy.use_033()
    model = video_model(fake_comfy, latent_format=fake_comfy.MiniMaxH3AV())
    with pytest.raises(ValueError, match=r"latent_image is an audio\+video latent \(nested streams "
                                         r"\(1, 24, 3, 8, 8\), \(1, 32, 2, 15\)"):
        run_sampler(fake_comfy, {"samples": nested_latent(fake_comfy)}, model=model)
    with pytest.raises(ValueError, match=r"samples is an audio\+video latent"):
        FreeInitNoiseReinit().reinit(model, {"samples": nested_latent(fake_comfy)}, torch.linspace(1, 0, 3), 0, 1)


def test_an_empty_latent_that_core_makes_nested_is_refused_by_name(fake_comfy):
    """MiniMax H3 AV's latent format turns an empty video latent into video + audio streams."""
    fake_comfy.use_033()
    model = video_model(fake_comfy, latent_format=fake_comfy.MiniMaxH3AV())
    with pytest.raises(ValueError, match=r"latent_image is an audio\+video latent"):
        run_sampler(fake_comfy, {"samples": torch.zeros(1, 24, 3, 8, 8)}, model=model)


def test_noise_for_a_nested_latent_is_ours_for_video_and_cores_for_audio(fake_comfy):
    """Our NOISE fills the video stream; the audio stream gets what RandomNoise of the same seed gives it."""
    fake_comfy.use_033()
    video = torch.randn(1, 24, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    latent = {"samples": nested_latent(fake_comfy)}
    noise = TensorNoise(video, 5, "test").generate_noise(latent)
    assert noise.is_nested
    assert torch.equal(noise.unbind()[0], video)
    assert torch.equal(noise.unbind()[1], fake_comfy.prepare_noise_033(latent["samples"], 5).unbind()[1])


def test_warp_takes_the_shape_of_a_nested_latents_video_stream(fake_comfy):
    fake_comfy.use_033()
    flow = camera_motion_flow(9, 64, 64, pan_x=2.0)
    latent = {"samples": fake_comfy.NestedTensor((torch.zeros(1, 16, 3, 8, 8), torch.zeros(1, 32, 2, 15)))}
    noise, noise_latent, _ = IntegralNoiseWarp().warp("grid", 1, 0, 0.0, "fresh noise", "dis_medium", 4, 8, 0,
                                                      flow=flow, latent=latent)
    assert noise_latent["samples"].shape == (1, 16, 3, 8, 8)
    generated = noise.generate_noise(latent)
    assert [tuple(s.shape) for s in generated.unbind()] == [(1, 16, 3, 8, 8), (1, 32, 2, 15)]


# 4. Every prediction type of core's model_sampling.

VP = ("EPS", "V_PREDICTION", "EDM", "X0", "V_PREDICTION_DDPM")
REFUSED = ("IMG_TO_IMG", "IMG_TO_IMG_FLOW", "IMG_TO_IMG_VELOCITY", "COSMOS_RFLOW")


@pytest.mark.parametrize("name", [*VP, "CONST", *REFUSED])
def test_every_prediction_type_is_supported_or_refused_by_name(fake_comfy, name):
    """Core builds model_sampling as ``ModelSampling(schedule, prediction)``: the message names the
    prediction type, not ModelSampling."""
    fake_comfy.use_current()
    model = fake_comfy.FakeModel(fake_comfy.composite_sampling(getattr(fake_comfy, name)))
    if name in REFUSED:
        with pytest.raises(ValueError, match=rf"model: .*\({name}\)|samples with {name},"):
            parametrisation(model)
    else:
        assert parametrisation(model) == ("flow" if name == "CONST" else "vp")


def test_cogvideox_v_prediction_ddpm_samples_as_eps(fake_comfy):
    """V_PREDICTION_DDPM has EPS's noise maths: FreeInit hands the sampler the same noise as for EPS."""
    fake_comfy.use_033()
    latent = {"samples": torch.zeros(1, 16, 4, 8, 8)}
    run_sampler(fake_comfy, latent, model=video_model(fake_comfy, fake_comfy.EPS()))
    eps_noise = [call["noise"] for call in fake_comfy.SAMPLE_CALLS]
    fake_comfy.SAMPLE_CALLS.clear()
    run_sampler(fake_comfy, latent, model=video_model(fake_comfy, fake_comfy.V_PREDICTION_DDPM()))
    assert all(torch.equal(a, call["noise"]) for a, call in zip(eps_noise, fake_comfy.SAMPLE_CALLS, strict=True))


def test_wan_flowrvs_is_refused_naming_its_type(fake_comfy):
    """IMG_TO_IMG_FLOW is a CONST subclass on a discrete schedule (σ up to 14.6): not a flow model to FreeInit."""
    fake_comfy.use_033()
    model = video_model(fake_comfy, fake_comfy.composite_sampling(fake_comfy.IMG_TO_IMG_FLOW))
    with pytest.raises(ValueError, match=r"model: this model is an image-to-image predictor \(IMG_TO_IMG_FLOW\)"):
        run_sampler(fake_comfy, {"samples": torch.zeros(1, 16, 4, 8, 8)}, model=model)


def scaled_flow(fake, scale):
    sampling = fake.CONST()
    sampling.noise_scale = scale
    return video_model(fake, sampling)


def test_a_flow_models_noise_scale_is_applied_once(fake_comfy):
    """0.33's CONST with noise_scale s samples (1−σ)·x0 + σ·s·n: pass 2 starts at s times the reinitialised
    state of x0 / s (FreeInit in units of the model's noise), not at one whose x0 part is s times too large.
    At denoise 0.5 the schedule starts at σ ≈ 0.6, where x0 is a large part of the state."""
    fake_comfy.use_033()
    latent = torch.randn(1, 16, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    run_sampler(fake_comfy, {"samples": latent}, model=scaled_flow(fake_comfy, 8.0), denoise=0.5)
    calls = fake_comfy.SAMPLE_CALLS
    sigma = float(fake_comfy.KSampler(fake_comfy.FakeModel(fake_comfy.CONST()), 4, "cpu", denoise=0.5).sigmas[0])
    previous = torch.tanh(calls[0]["state"] / (1.0 + sigma))  # pass 1's result in the sampler's space
    eta = seeded_noise(latent, iteration_seed(42, 1))
    z = spectral_mix(forward_diffuse(previous / 8.0, calls[0]["noise"], sigma, "flow"),
                     forward_diffuse(torch.zeros_like(eta), eta, sigma, "flow"), LowPassFilter())
    torch.testing.assert_close(calls[1]["state"], 8.0 * z, atol=1e-4, rtol=1e-5)


def test_noise_reinit_reproduces_the_sampler_with_a_noise_scale(fake_comfy):
    fake_comfy.use_033()
    model, latent = scaled_flow(fake_comfy, 8.0), torch.zeros(1, 16, 4, 8, 8)
    run_sampler(fake_comfy, {"samples": latent}, model=model)
    first, second = fake_comfy.SAMPLE_CALLS[0], fake_comfy.SAMPLE_CALLS[1]
    previous = torch.tanh(first["state"] / 2.0) / 0.18215
    sigmas = fake_comfy.KSampler(model, 4, "cpu").sigmas
    noise, *_ = FreeInitNoiseReinit().reinit(model, {"samples": previous}, sigmas, 42, 1)
    torch.testing.assert_close(noise.generate_noise({"samples": latent}), second["noise"], atol=1e-5, rtol=1e-5)


# Issue 19: the latent is checked before core reshapes it, and against the model's latent format.

@pytest.mark.parametrize("shape", [(64,), (8, 64), (2, 8, 64)])
def test_latents_of_other_ranks_are_refused_with_their_own_shape(fake_comfy, shape):
    with pytest.raises(ValueError, match=rf"latent_image must be 4-D .* got shape {tuple(shape)}".replace("(", r"\(")
                       .replace(")", r"\)")):
        run_sampler(fake_comfy, {"samples": torch.zeros(shape)})


@pytest.mark.parametrize(("model_format", "samples", "message"), [
    ("LatentFormat", (4, 16, 8, 8), r"latent_image has 16 channels \(shape \(4, 16, 8, 8\)\) but this model "
                                     r"\(LatentFormat latents\) has 4"),
    ("LatentFormat", (1, 4, 3, 8, 8), r"latent_image is 5-D .* samples \[B, C, H, W\] latents"),
    ("Wan21", (1, 48, 3, 8, 8), r"latent_image has 48 channels .* \(Wan21 latents\) has 16"),
])
def test_a_latent_that_does_not_fit_the_model_names_both(fake_comfy, model_format, samples, message):
    """A latent with content keeps its channels through core's fix: without this check a conv fails."""
    model = fake_comfy.FakeModel(latent_format=getattr(fake_comfy, model_format)())
    with pytest.raises(ValueError, match=message):
        run_sampler(fake_comfy, {"samples": torch.ones(samples)}, model=model)
