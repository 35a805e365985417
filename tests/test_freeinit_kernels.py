"""Forward diffusion, the sampler-noise inverse, coarse-to-fine steps, seeds and the FreeInit loop."""

import math

import pytest
import torch

from temporal_noise.kernels import (
    LowPassFilter,
    forward_diffuse,
    freeinit,
    iteration_seed,
    iteration_steps,
    noise_for_state,
    partial_schedule,
    reinitialise,
    seeded_noise,
    sigma_for_signal_fraction,
    signal_fraction,
    spectral_mix,
)

ALL_PASS = LowPassFilter("box", 1.0, 1.0)


def comfy_noise_scaling(parametrisation, sigma, noise, latent, max_denoise):
    """ComfyUI 0.3.64 ``model_sampling.noise_scaling`` (EPS/V and CONST), written out as the reference."""
    if parametrisation == "vp":
        return noise * (math.sqrt(1.0 + sigma**2) if max_denoise else sigma) + latent
    return sigma * noise + (1.0 - sigma) * latent


def tensors(*shape, count=2, seed=0):
    return torch.randn(count, *shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).unbind(0)


def test_vp_forward_diffusion_is_ddpm_marginal():
    """z = √ᾱ·x0 + √(1−ᾱ)·ε with ᾱ = 1/(1+σ²): at SD1.5's σ_max, ᾱ is that of t = 999."""
    x0, eps = tensors(8, 4, 8, 8)
    sigma = 14.614641
    alpha_bar = 1.0 / (1.0 + sigma**2)
    expected = math.sqrt(alpha_bar) * x0 + math.sqrt(1.0 - alpha_bar) * eps
    torch.testing.assert_close(forward_diffuse(x0, eps, sigma, "vp"), expected, atol=1e-12, rtol=0)


def test_flow_forward_diffusion_is_linear_interpolation():
    x0, eps = tensors(1, 16, 5, 8, 8)
    torch.testing.assert_close(forward_diffuse(x0, eps, 0.7, "flow"), 0.3 * x0 + 0.7 * eps, atol=1e-12, rtol=0)


@pytest.mark.parametrize("max_denoise", [True, False])
@pytest.mark.parametrize(("parametrisation", "sigma"), [("vp", 0.35), ("vp", 0.9), ("vp", 14.6), ("flow", 0.35),
                                                         ("flow", 0.9), ("flow", 1.0)])
def test_noise_for_state_inverts_comfy_noise_scaling(parametrisation, max_denoise, sigma):
    z, latent = tensors(8, 4, 6, 6, seed=1)
    noise = noise_for_state(z, sigma, parametrisation, latent, max_denoise)
    state = comfy_noise_scaling(parametrisation, sigma, noise, latent, max_denoise)
    expected_state = z * math.sqrt(1 + sigma**2) if parametrisation == "vp" else z
    torch.testing.assert_close(state, expected_state, atol=1e-10, rtol=1e-10)


def test_reinitialised_state_carries_sigma_once():
    """diffusers scales the low-frequency part by σ twice for Euler-type schedulers: we must not.

    With an all-pass filter, the state ComfyUI builds from our noise is exactly x0 + σ·ε.
    """
    x0, eps, eta = tensors(8, 4, 8, 8, count=3, seed=2)
    sigma = 14.614641
    z = reinitialise(x0, eps, eta, sigma, "vp", ALL_PASS)
    state = comfy_noise_scaling("vp", sigma, noise_for_state(z, sigma, "vp"), 0.0, True)
    torch.testing.assert_close(state, x0 + sigma * eps, atol=1e-4, rtol=0)  # float32 FFT, |state| ≈ 15


def test_flow_models_are_diffused_with_the_flow_formula():
    """AnimateDiff-Evolved diffuses with the VP formula whatever the model: wrong for flow models."""
    x0, eps, eta = tensors(1, 16, 4, 8, 8, count=3, seed=3)
    z = reinitialise(x0, eps, eta, 0.9, "flow", ALL_PASS)
    torch.testing.assert_close(z, 0.1 * x0 + 0.9 * eps, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("sigma", "parametrisation"),
                         [(0.0, "vp"), (-1.0, "vp"), (1.5, "flow"), (1.001, "flow"), (math.inf, "vp")])
def test_invalid_sigma_is_refused(sigma, parametrisation):
    with pytest.raises(ValueError, match="sigma"):
        forward_diffuse(torch.zeros(1), torch.zeros(1), sigma, parametrisation)


def test_a_flow_schedule_starting_one_float32_ulp_above_1_is_accepted():
    """ComfyUI's float32 time_snr_shift gives σ_max = 1.0000001 for many shifts (e.g. 2.91, 8.14)."""
    sigma = float(torch.tensor(1.0000001, dtype=torch.float32))
    assert sigma > 1.0
    x0, eps = torch.randn(2, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z = forward_diffuse(x0, eps, sigma, "flow")
    torch.testing.assert_close(noise_for_state(z, sigma, "flow", x0), eps, atol=1e-12, rtol=0)


def test_unknown_parametrisation_is_refused():
    with pytest.raises(ValueError, match="parametrisation"):
        forward_diffuse(torch.zeros(1), torch.zeros(1), 1.0, "x0")


@pytest.mark.parametrize(
    ("steps", "iterations", "expected"),
    [(25, 5, [5, 10, 15, 20, 25]), (10, 3, [3, 6, 10]), (20, 1, [20]), (2, 4, [1, 1, 1, 2]), (7, 2, [3, 7])],
)
def test_coarse_to_fine_steps(steps, iterations, expected):
    assert iteration_steps(steps, iterations, coarse_to_fine=True) == expected


def test_paper_cost_of_coarse_to_fine():
    """Paper: 5 iterations of 25 steps cost 75 model passes coarse-to-fine instead of 125."""
    assert sum(iteration_steps(25, 5, True)) == 75
    assert iteration_steps(25, 5, False) == [25] * 5


@pytest.mark.parametrize(("steps", "iterations", "name"), [(0, 3, "steps"), (10, 0, "iterations")])
def test_invalid_step_schedules_are_refused(steps, iterations, name):
    with pytest.raises(ValueError, match=name):
        iteration_steps(steps, iterations, True)


def test_iteration_seeds():
    seed = 0xFFFF_FFFF_FFFF_FFF0
    seeds = [iteration_seed(seed, i) for i in range(6)]
    assert seeds[0] == seed
    assert len(set(seeds)) == 6
    assert all(0 <= s < 2**64 for s in seeds)
    neighbours = {iteration_seed(seed + k, i) for k in range(1, 50) for i in range(1, 6)}
    assert not neighbours & set(seeds[1:])
    with pytest.raises(ValueError, match="iteration"):
        iteration_seed(1, -1)


def test_seeded_noise_is_comfyui_cpu_noise():
    """ComfyUI's ``prepare_noise``: ``torch.manual_seed(seed)`` then ``torch.randn`` on the CPU."""
    like = torch.zeros(8, 4, 6, 6, dtype=torch.float16)
    expected = torch.randn(like.shape, generator=torch.manual_seed(1234), dtype=torch.float32).half()
    assert torch.equal(seeded_noise(like, 1234), expected)


class RecordingSampler:
    """A deterministic stand-in for a diffusion sampler: records its starts, returns a smooth function."""

    def __init__(self):
        self.calls = []

    def __call__(self, start, steps, iteration):
        self.calls.append((start.clone(), steps, iteration))
        return torch.tanh(start * 0.5 + 0.1 * iteration)


def test_freeinit_reuses_the_initial_noise_every_iteration():
    """Paper and diffusers diffuse every iteration with the initial ε; ADE uses the previous mixed noise."""
    eps = torch.randn(8, 4, 8, 8, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    fresh = {i: torch.randn(8, 4, 8, 8, generator=torch.Generator().manual_seed(100 + i), dtype=torch.float64)
             for i in range(1, 4)}
    sampler = RecordingSampler()
    spec = LowPassFilter("gaussian", 0.25, 0.25)
    results = freeinit(sampler, eps, [3, 6, 10, 12], fresh.__getitem__, 14.6, "vp", spec)
    assert [steps for _, steps, _ in sampler.calls] == [3, 6, 10, 12]
    assert torch.equal(sampler.calls[0][0], eps)
    for i in range(1, 4):
        noisy = forward_diffuse(results[i - 1], eps, 14.6, "vp")
        fresh_part = forward_diffuse(torch.zeros_like(eps), fresh[i], 14.6, "vp")
        torch.testing.assert_close(sampler.calls[i][0], spectral_mix(noisy, fresh_part, spec), atol=1e-12, rtol=0)
    wrong = spectral_mix(forward_diffuse(results[1], sampler.calls[1][0], 14.6, "vp"), fresh[2], spec)
    assert (sampler.calls[2][0] - wrong).abs().max() > 1e-2


def test_freeinit_uses_each_iterations_sigma():
    eps = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    eta = torch.randn(4, 4, 8, 8, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    sampler = RecordingSampler()
    results = freeinit(sampler, eps, [2, 4, 6], lambda i: eta, [9.0, 3.0, 5.0], "vp", ALL_PASS)
    for i, sigma in ((1, 3.0), (2, 5.0)):
        expected = forward_diffuse(results[i - 1], eps, sigma, "vp")
        torch.testing.assert_close(sampler.calls[i][0], expected, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="sigmas"):
        freeinit(sampler, eps, [2, 4, 6], lambda i: eta, [9.0, 3.0], "vp", ALL_PASS)


def test_freeinit_with_one_iteration_is_plain_sampling():
    eps = torch.randn(4, 4, 8, 8)
    sampler = RecordingSampler()
    results = freeinit(sampler, eps, [20], lambda i: pytest.fail("no fresh noise needed"), 14.6, "vp", ALL_PASS)
    assert len(results) == 1
    assert torch.equal(results[0], torch.tanh(eps * 0.5))


def test_reinitialise_refuses_noise_of_another_shape():
    with pytest.raises(ValueError, match="initial noise"):
        reinitialise(torch.zeros(8, 4, 8, 8), torch.zeros(8, 4, 8, 6), torch.zeros(8, 4, 8, 8), 1.0, "vp", ALL_PASS)


@pytest.mark.parametrize(("parametrisation", "sigma"), [("vp", 14.614642), ("vp", 0.3), ("flow", 0.999), ("flow", 0.5)])
def test_signal_fraction_is_the_share_of_x0_in_the_diffused_state(parametrisation, sigma):
    x0 = torch.ones(3, dtype=torch.float64)
    kept = forward_diffuse(x0, torch.zeros_like(x0), sigma, parametrisation)
    assert torch.allclose(kept, torch.full_like(x0, signal_fraction(sigma, parametrisation)), rtol=1e-15, atol=0)


NAN_LATENT = torch.zeros(4, 2, 8, 8).index_fill_(0, torch.tensor([3]), float("nan"))


@pytest.mark.parametrize(("call", "message"), [
    (lambda: forward_diffuse(torch.zeros(4, 2, 8, 8), torch.zeros(1, 2, 8, 8), 1.0, "vp"),
     r"noise of shape \(1, 2, 8, 8\) does not match x0"),  # used to broadcast one noise frame over all
    (lambda: forward_diffuse(NAN_LATENT, torch.zeros(4, 2, 8, 8), 1.0, "vp"), r"x0 contains NaN .*frame 3"),
    (lambda: forward_diffuse(torch.zeros(4, 2, 8, 8), NAN_LATENT, 0.5, "flow"), r"noise contains NaN .*frame 3"),
    (lambda: noise_for_state(torch.zeros(4, 2, 8, 8), 1.0, "vp", torch.zeros(4, 2, 8, 1)),
     r"latent of shape \(4, 2, 8, 1\) does not match z"),
    (lambda: noise_for_state(NAN_LATENT, 1.0, "vp"), r"z contains NaN .*frame 3"),
    (lambda: iteration_steps(2.5, 2, False), "steps must be an integer, got 2.5"),
    (lambda: iteration_steps(10, 2.0, True), "iterations must be an integer, got 2.0"),
])
def test_bad_kernel_inputs_are_refused_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _sqrt_alpha_bar_999(betas: torch.Tensor) -> float:
    return math.sqrt(float(torch.prod(1.0 - betas)))


def test_the_share_of_x0_kept_at_t_999_is_68_per_cent_under_sd_and_4_under_animatediff():
    """README's numbers, in float64: √ᾱ_999 of SD's scaled_linear and of AnimateDiff's sqrt_linear schedule,
    and the σ that keeps them."""
    scaled_linear = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    sqrt_linear = torch.linspace(0.00085, 0.012, 1000, dtype=torch.float64)
    assert round(100 * _sqrt_alpha_bar_999(scaled_linear), 2) == 6.83
    assert round(100 * _sqrt_alpha_bar_999(sqrt_linear), 2) == 3.97
    assert sigma_for_signal_fraction(_sqrt_alpha_bar_999(scaled_linear), "vp") == pytest.approx(14.6146, abs=1e-3)


@pytest.mark.parametrize("parametrisation", ["vp", "flow"])
@pytest.mark.parametrize("kept", [1e-4, 0.01, 0.0683, 0.1, 0.2, 0.5, 0.99])
def test_sigma_for_signal_fraction_is_the_level_that_keeps_that_share(parametrisation, kept):
    """σ(k) inverts k(σ) (float64), and the state diffused to σ(k) holds exactly k·x0."""
    sigma = sigma_for_signal_fraction(kept, parametrisation)
    assert signal_fraction(sigma, parametrisation) == pytest.approx(kept, rel=1e-12, abs=0)
    x0 = torch.ones(3, dtype=torch.float64)
    state = forward_diffuse(x0, torch.zeros_like(x0), sigma, parametrisation)
    torch.testing.assert_close(state, torch.full_like(x0, kept), rtol=1e-12, atol=0)


def test_the_share_of_x0_kept_is_the_same_for_every_shift():
    """A share k names one σ = 1 − k on every flow model, whatever its shift s; t = 0.999 instead keeps
    about 0.1 %/s (shift 8: 0.0125 %)."""
    assert sigma_for_signal_fraction(0.1, "flow") == pytest.approx(0.9, abs=1e-15)
    for shift in (1.0, 3.0, 8.0):
        sigma = shift * 0.999 / (1 + (shift - 1) * 0.999)
        assert signal_fraction(sigma, "flow") == pytest.approx(0.001 / (1 + (shift - 1) * 0.999), rel=1e-9)
    assert round(100 * signal_fraction(8 * 0.999 / (1 + 7 * 0.999), "flow"), 4) == 0.0125


@pytest.mark.parametrize("kept", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_sigma_for_signal_fraction_refuses_shares_outside_0_1(kept):
    with pytest.raises(ValueError, match="share of x0 kept"):
        sigma_for_signal_fraction(kept, "flow")


def test_partial_schedule_restarts_the_schedule_at_sigma():
    sigmas = torch.tensor([1.0, 0.9, 0.5, 0.2, 0.0], dtype=torch.float64)
    assert partial_schedule(sigmas, 0.7).tolist() == [0.7, 0.5, 0.2, 0.0]
    assert partial_schedule(sigmas, 0.5).tolist() == [0.5, 0.2, 0.0]
    assert partial_schedule(sigmas, 1.0) is sigmas
    assert partial_schedule(sigmas, 3.0) is sigmas
    assert partial_schedule(sigmas, 0.7).dtype == torch.float64
    float32 = torch.tensor([1.0, 0.7, 0.4, 0.0])  # 0.7 is 0.699999988 in float32: no step of zero length
    assert partial_schedule(float32, 0.7).tolist() == pytest.approx([0.7, 0.4, 0.0], rel=1e-7)
    assert partial_schedule(float32, 1.0 - 1e-7) is float32
    with pytest.raises(ValueError, match="at least 2"):
        partial_schedule(torch.tensor([1.0]), 0.5)


@pytest.mark.parametrize(("parametrisation", "sigma"), [("flow", 0.5), ("flow", 0.9), ("vp", 2.0), ("vp", 14.6)])
def test_reinitialised_fresh_noise_sits_at_the_states_noise_level(parametrisation, sigma):
    """With x0 = 0 and the same noise as ε and η, z' is the diffused state itself: the fresh high frequencies
    carry the noise level of the state they replace (σ·η on a flow model, not η)."""
    (noise,) = tensors(1, 4, 8, 8, 8, count=1, seed=11)
    x0 = torch.zeros_like(noise)
    z = reinitialise(x0, noise, noise, sigma, parametrisation, LowPassFilter())
    torch.testing.assert_close(z, forward_diffuse(x0, noise, sigma, parametrisation), atol=1e-6, rtol=0)
