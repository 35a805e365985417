"""Spectral mixing of FreeInit against a float64 numpy reference, for both latent layouts."""

import numpy as np
import pytest
import torch

from temporal_noise.kernels import LowPassFilter, spectral_mix


def reference_mix(low, high, response):
    """F⁻¹(F(low)·H + F(high)·(1−H)) over (T, H, W) = the last three axes, float64, full complex FFT."""
    axes = (-3, -2, -1)
    mixed = np.fft.fftn(low, axes=axes) * response + np.fft.fftn(high, axes=axes) * (1.0 - response)
    return np.fft.ifftn(mixed, axes=axes).real


@pytest.mark.parametrize("kind", ["gaussian", "butterworth", "ideal", "box"])
@pytest.mark.parametrize("shape", [(16, 4, 8, 8), (15, 4, 9, 11), (1, 4, 8, 6)])
def test_frames_first_layout_matches_reference(kind, shape):
    generator = torch.Generator().manual_seed(0)
    low, high = torch.randn(2, *shape, generator=generator).unbind(0)
    spec = LowPassFilter(kind, 0.3, 0.2)
    frames, _, height, width = shape
    response = spec.response(frames, height, width).double().numpy()
    # reference works on [C, T, H, W]
    expected = reference_mix(low.permute(1, 0, 2, 3).double().numpy(), high.permute(1, 0, 2, 3).double().numpy(),
                             response)
    got = spectral_mix(low, high, spec).permute(1, 0, 2, 3).double().numpy()
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_video_layout_matches_frames_first_layout():
    generator = torch.Generator().manual_seed(1)
    low, high = torch.randn(2, 2, 16, 5, 12, 10, generator=generator).unbind(0)  # [B, C, T, H, W]
    spec = LowPassFilter("butterworth", 0.25, 0.25)
    video = spectral_mix(low, high, spec)
    for b in range(2):
        frames_first = spectral_mix(low[b].permute(1, 0, 2, 3), high[b].permute(1, 0, 2, 3), spec)
        torch.testing.assert_close(video[b], frames_first.permute(1, 0, 2, 3), atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(16, 4, 8, 8), (1, 16, 5, 9, 7)])
def test_mixing_a_latent_with_itself_returns_it(shape):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(spectral_mix(x, x, LowPassFilter()), x, atol=1e-6, rtol=0)


def test_full_box_keeps_everything_of_the_low_source():
    low, high = torch.randn(2, 8, 4, 6, 6, generator=torch.Generator().manual_seed(3)).unbind(0)
    torch.testing.assert_close(spectral_mix(low, high, LowPassFilter("box", 1.0, 1.0)), low, atol=1e-6, rtol=0)


def test_low_frequencies_come_from_the_low_source():
    """The spatio-temporal mean (DC) of the result is exactly the low source's, whatever the filter."""
    low, high = torch.randn(2, 16, 4, 8, 8, generator=torch.Generator().manual_seed(4)).unbind(0)
    for kind in ("gaussian", "butterworth", "ideal", "box"):
        mixed = spectral_mix(low, high, LowPassFilter(kind, 0.25, 0.25))
        torch.testing.assert_close(mixed.mean(dim=(0, 2, 3)), low.mean(dim=(0, 2, 3)), atol=1e-6, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_mixed_in_float32_and_cast_back(dtype):
    """Half-precision FFTs need power-of-two sizes or are unsupported: 15 frames × 9 × 11 must work."""
    low, high = torch.randn(2, 15, 4, 9, 11, generator=torch.Generator().manual_seed(5)).unbind(0)
    spec = LowPassFilter("gaussian", 0.25, 0.25)
    got = spectral_mix(low.to(dtype), high.to(dtype), spec)
    assert got.dtype == dtype
    expected = spectral_mix(low.to(dtype).float(), high.to(dtype).float(), spec)
    torch.testing.assert_close(got.float(), expected, atol=2e-2, rtol=2e-2)


def test_mismatched_shapes_and_ranks_are_refused():
    spec = LowPassFilter()
    with pytest.raises(ValueError, match="shapes"):
        spectral_mix(torch.zeros(8, 4, 8, 8), torch.zeros(8, 4, 8, 6), spec)
    with pytest.raises(ValueError, match="4-D"):
        spectral_mix(torch.zeros(4, 8, 8), torch.zeros(4, 8, 8), spec)
    with pytest.raises(ValueError, match="empty"):
        spectral_mix(torch.zeros(0, 4, 8, 8), torch.zeros(0, 4, 8, 8), spec)


def test_tensors_on_different_devices_are_refused():
    """The device check must fire before any FFT: a meta tensor stands in for another device."""
    with pytest.raises(ValueError, match="cannot mix frequencies of tensors on cpu and meta"):
        spectral_mix(torch.zeros(4, 2, 8, 8), torch.zeros(4, 2, 8, 8, device="meta"), LowPassFilter())


@pytest.mark.parametrize(("bad", "name"), [("low", "low"), ("high", "high")])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_inputs_are_refused_naming_them(bad, name, value):
    """One NaN spreads over the whole spectrum of its (batch, channel) slice; refuse it instead."""
    latents = {"low": torch.zeros(4, 2, 8, 8), "high": torch.zeros(4, 2, 8, 8)}
    latents[bad][2, 1, 3, 3] = value
    with pytest.raises(ValueError, match=rf"{name} contains NaN or infinite values \(first in frame 2\)"):
        spectral_mix(latents["low"], latents["high"], LowPassFilter())


@pytest.mark.parametrize("lowpass", [LowPassFilter("gaussian", 0.5, 0.5), LowPassFilter("butterworth", 0.5, 0.5, 2)])
def test_variance_preserving_mix_keeps_unit_variance(lowpass):
    """FreqPrior's z·H + η·√(1−H²) of two white unit-variance inputs has unit variance; FreeInit's
    z·H + η·(1−H) has the mean over all bins of H² + (1−H)² (Parseval), below 1."""
    shape = (64, 4, 8, 16, 16)
    low, high = torch.randn(2, *shape, generator=torch.Generator().manual_seed(3)).unbind(0)
    gain = lowpass.response(8, 16, 16).double()
    expected_plain = float((gain**2 + (1 - gain) ** 2).mean())
    assert expected_plain < 0.9
    assert spectral_mix(low, high, lowpass, variance_preserving=True).var().item() == pytest.approx(1.0, abs=0.01)
    assert spectral_mix(low, high, lowpass).var().item() == pytest.approx(expected_plain, abs=0.01)
