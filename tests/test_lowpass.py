"""FreeInit low-pass filters against an independent float64 reference, and the anchors' known defects."""

import itertools
import math

import numpy as np
import pytest
import torch

from temporal_noise.kernels import LowPassFilter


def reference_response(kind, d_s, d_t, order, frames, height, width):
    """H per bin from the paper's formulas, bin by bin in float64 (fft order, DC at index 0)."""
    out = np.zeros((frames, height, width))
    for t, h, w in itertools.product(range(frames), range(height), range(width)):
        # signed frequency in units of Nyquist: bin k of N is k/N cycles per sample if k < N/2, else (k-N)/N
        f_t, f_h, f_w = (2.0 * ((k if k < -(-n // 2) else k - n) / n)
                         for k, n in ((t, frames), (h, height), (w, width)))
        d = math.sqrt((d_s / d_t * f_t) ** 2 + f_h**2 + f_w**2)
        if kind == "gaussian":
            out[t, h, w] = math.exp(-(d**2) / (2 * d_s**2))
        elif kind == "butterworth":
            out[t, h, w] = 1.0 / (1.0 + (d / d_s) ** (2 * order))
        elif kind == "ideal":
            out[t, h, w] = float(d <= d_s)
        else:
            out[t, h, w] = float(abs(f_t) <= d_t and abs(f_h) <= d_s and abs(f_w) <= d_s)
    return out


SHAPES = [(16, 8, 8), (15, 9, 11), (1, 8, 12), (7, 6, 5), (2, 3, 3)]
KINDS = ["gaussian", "butterworth", "ideal", "box"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cutoffs", [(0.25, 0.25), (0.4, 0.15), (1.0, 1.0)])
def test_response_matches_float64_reference(kind, shape, cutoffs):
    spec = LowPassFilter(kind, *cutoffs, order=3)
    got = spec.response(*shape).double().numpy()
    np.testing.assert_allclose(got, reference_response(kind, *cutoffs, 3, *shape), atol=2e-7)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_dc_gain_is_exactly_one(kind, shape):
    """Odd sizes included: the official '2i/N − 1' centring misses DC by half a bin there."""
    assert LowPassFilter(kind, 0.1, 0.05).response(*shape)[0, 0, 0].item() == 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_single_frame_keeps_the_spatial_low_pass(kind):
    """T = 1 must not collapse the DC gain (which would silently turn FreeInit into a reseed)."""
    spec = LowPassFilter(kind, 0.25, 0.25)
    one = spec.response(1, 16, 16)
    assert one[0, 0, 0].item() == 1.0
    torch.testing.assert_close(one, spec.response(9, 16, 16)[:1])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_response_is_symmetric_about_dc(kind, shape):
    """H(f) = H(−f): a real filter, centred on DC for odd and even sizes."""
    response = LowPassFilter(kind, 0.3, 0.2).response(*shape)
    mirrored = torch.roll(torch.flip(response, dims=(0, 1, 2)), shifts=(1, 1, 1), dims=(0, 1, 2))
    # the Nyquist bin of an even size is its own mirror only through |f|; compare on |f| < 1 bins
    keep = torch.ones_like(response, dtype=torch.bool)
    for axis, n in enumerate(shape):
        if n % 2 == 0:
            keep.index_fill_(axis, torch.tensor([n // 2]), False)
    torch.testing.assert_close(response[keep], mirrored[keep])


def test_ideal_radius_is_the_cutoff():
    """Official code and diffusers test d² ≤ 2·d_s, a radius of ≈ 0.71 for d_s = 0.25."""
    response = LowPassFilter("ideal", 0.25, 0.25).response(1, 1, 40)[0, 0]
    frequencies = 2.0 * torch.fft.fftfreq(40)
    assert torch.equal(response.bool(), frequencies.abs() <= 0.25)
    assert response[8].item() == 0.0  # f = 0.4 lies outside radius 0.25, inside the buggy 0.71


def test_box_uses_each_axis_half_width():
    """Official code reuses the height's half-width for the width: wrong for non-square latents."""
    response = LowPassFilter("box", 0.25, 0.5).response(8, 16, 40)
    assert int(response[0, :, 0].sum()) == 2 * (16 // 8) + 1
    assert int(response[0, 0, :].sum()) == 2 * (40 // 8) + 1
    assert int(response[:, 0, 0].sum()) == 2 * (8 // 4) + 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width", [8, 9])
def test_onesided_layout_is_the_first_half_of_the_full_one(kind, width):
    spec = LowPassFilter(kind, 0.3, 0.3)
    full = spec.response(5, 6, width)
    torch.testing.assert_close(spec.response(5, 6, width, onesided=True), full[..., : width // 2 + 1])


def test_butterworth_order_sharpens_towards_ideal():
    ideal = LowPassFilter("ideal", 0.25, 0.25).response(8, 32, 32)
    errors = [(LowPassFilter("butterworth", 0.25, 0.25, order=n).response(8, 32, 32) - ideal).abs().mean()
              for n in (1, 2, 4, 8, 32)]
    assert all(later < earlier for earlier, later in itertools.pairwise(errors))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"d_s": 0.0}, "d_s"), ({"d_s": 1.5}, "d_s"), ({"d_t": -0.1}, "d_t"), ({"d_t": float("nan")}, "d_t"),
     ({"kind": "butterworth", "order": 0}, "order"), ({"kind": "butterworth", "order": 2.5}, "order"),
     ({"kind": "butterworth", "order": float("inf")}, "order"),
     ({"kind": "butterworth", "order": float("nan")}, "order"),
     ({"kind": "lanczos"}, "kind")],
)
def test_invalid_parameters_name_the_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LowPassFilter(**kwargs)


def test_empty_block_is_refused():
    with pytest.raises(ValueError, match="frames"):
        LowPassFilter().response(0, 8, 8)
