"""Which latent a video's noise fills: layouts, temporal compression by model family, errors."""

import pytest
import torch

from temporal_noise.nodes.latent_shape import LatentShape, shape_from_factors, shape_of_latent, video_stream


@pytest.mark.parametrize(("samples", "frames", "size", "expected", "factor"), [
    ((16, 4, 64, 64), 16, (512, 512), (16, 4, 64, 64), 1),  # AnimateDiff: EmptyLatentImage, batch = frames
    ((1, 16, 5, 60, 104), 17, (480, 832), (1, 16, 5, 60, 104), 4),  # Wan 2.1 / HunyuanVideo
    ((2, 48, 5, 44, 80), 17, (704, 1280), (2, 48, 5, 44, 80), 4),  # Wan 2.2 TI2V-5B, batch of 2
    ((1, 128, 3, 16, 24), 17, (512, 768), (1, 128, 3, 16, 24), 8),  # LTX-Video
    ((1, 12, 4, 60, 106), 19, (480, 848), (1, 12, 4, 60, 106), 6),  # Mochi
    ((1, 32, 9, 32, 32), 9, (256, 256), (1, 32, 9, 32, 32), 1),  # unknown family, no compression
])
def test_shape_of_latent_follows_the_model_family(samples, frames, size, expected, factor):
    shape = shape_of_latent(torch.zeros(samples), frames, size)
    assert shape.shape == expected and shape.temporal_factor == factor


def test_explicit_temporal_factor_overrides_the_channel_table():
    shape = shape_of_latent(torch.zeros(1, 16, 9, 8, 8), 17, (64, 64), temporal_factor=2)
    assert shape.temporal_factor == 2 and shape.frames == 9
    cosmos = shape_of_latent(torch.zeros(1, 16, 3, 88, 160), 17, (704, 1280), temporal_factor=8)
    assert cosmos.shape == (1, 16, 3, 88, 160) and cosmos.temporal_factor == 8


def test_auto_never_guesses_a_second_family_of_the_same_channels():
    """A Wan latent of length 33 (9 latent frames) with a 65-frame video fits only at 8x (Cosmos): auto refuses
    it (else the noise would move twice as fast as the model's frames) and says which factor to set."""
    with pytest.raises(ValueError, match="give 17 at 4x temporal compression; make the latent with length 65; "
                                         "the frames fit at 8x: set temporal_factor to 8 if this is a Cosmos"):
        shape_of_latent(torch.zeros(1, 16, 9, 60, 104), 65, (480, 832))


@pytest.mark.parametrize(("samples", "frames", "size", "kwargs", "message"), [
    ((15, 4, 64, 64), 16, (512, 512), {}, "latent has 15 frames .* expected a latent batch of 16"),
    ((1, 16, 13, 60, 104), 81, (480, 832), {},
     "latent has 13 latent frames but the video's 81 frames give 21 at 4x temporal compression; make the latent "
     "with length 81 or set temporal_factor$"),
    ((1, 16, 13, 60, 104), 81, (480, 832), {"temporal_factor": 4}, "with length 81$"),
    ((1, 128, 3, 16, 24), 25, (512, 768), {}, "give 4 at 8x temporal compression"),
    ((16, 4, 64, 64), 16, (512, 512), {"temporal_factor": 4}, "latent is 4-D .* temporal_factor is 4"),
    ((16, 4, 64, 96), 16, (512, 512), {}, "different aspect ratios"),
    ((0, 4, 64, 64), 16, (512, 512), {}, "latent is empty"),
    ((4, 64, 64), 16, (512, 512), {}, "latent must be 4-D"),
])
def test_latents_that_cannot_fit_the_video_name_the_expected_count(samples, frames, size, kwargs, message):
    with pytest.raises(ValueError, match=message):
        shape_of_latent(torch.zeros(samples), frames, size, **kwargs)


@pytest.mark.parametrize(("frames", "size", "channels", "spatial", "temporal", "expected"), [
    (16, (512, 512), 4, 8, 0, (16, 4, 64, 64)),  # AnimateDiff
    (17, (480, 832), 16, 8, 4, (1, 16, 5, 60, 104)),  # Wan 2.1 / Hunyuan
    (17, (704, 1280), 48, 16, 4, (1, 48, 5, 44, 80)),  # Wan 2.2 5B
    (17, (512, 768), 128, 32, 8, (1, 128, 3, 16, 24)),  # LTX
    (16, (500, 500), 4, 8, 1, (16, 4, 62, 62)),  # floor, as ComfyUI's empty latents
])
def test_shape_from_factors(frames, size, channels, spatial, temporal, expected):
    assert shape_from_factors(frames, size, channels, spatial, temporal).shape == expected


def test_shape_from_factors_refuses_frames_smaller_than_a_latent_pixel():
    with pytest.raises(ValueError, match="smaller than one latent pixel"):
        shape_from_factors(4, (16, 16), 4, 32, 1)


def test_arrange_puts_batch_major_channels_into_the_video_layout():
    shape = LatentShape(channels=3, height=2, width=2, frames=4, temporal_factor=4, batch=2)
    noise = torch.randn(4, 6, 2, 2)
    arranged = shape.arrange(noise)
    assert arranged.shape == (2, 3, 4, 2, 2)
    assert torch.equal(arranged[1, 2, 3], noise[3, 1 * 3 + 2])
    animatediff = LatentShape(channels=4, height=2, width=2, frames=4, temporal_factor=1, batch=None)
    assert torch.equal(animatediff.arrange(noise[:, :4]), noise[:, :4])


@pytest.mark.parametrize(("samples", "frames", "factor"), [
    ((1, 32, 4, 8, 8), 19, 6),  # fits only at 6x
    ((1, 32, 1, 8, 8), 5, 6),  # fits at 6x and 8x: the first of 1, 4, 6, 8
    ((1, 32, 2, 8, 8), 5, 4),
])
def test_unknown_channel_count_takes_the_first_factor_that_fits(samples, frames, factor):
    assert shape_of_latent(torch.zeros(samples), frames, (64, 64)).temporal_factor == factor


def test_a_latent_longer_than_the_video_is_refused():
    with pytest.raises(ValueError, match=r"latent has 17 frames .* expected a latent batch of 16"):
        shape_of_latent(torch.zeros(17, 4, 64, 64), 16, (512, 512))


def test_aspect_ratios_may_differ_by_at_most_five_percent():
    """A latent of 64x60 for 512x512 frames (6.7 % wider) is refused; 64x62 (3.2 %, rounding of a 500 px side)
    is accepted."""
    with pytest.raises(ValueError, match="different aspect ratios"):
        shape_of_latent(torch.zeros(16, 4, 60, 64), 16, (512, 512))
    assert shape_of_latent(torch.zeros(16, 4, 62, 64), 16, (512, 512)).shape == (16, 4, 62, 64)


@pytest.mark.parametrize("size", [(64, 16), (16, 64)])
def test_shape_from_factors_refuses_either_side_below_a_latent_pixel(size):
    with pytest.raises(ValueError, match="smaller than one latent pixel"):
        shape_from_factors(4, size, 4, 32, 1)


def test_a_nested_latents_noise_takes_the_shape_of_its_video_stream(fake_comfy):
    """ComfyUI 0.33's audio+video latents (LTX-2, MiniMax H3 AV) nest the video stream first."""
    nested = fake_comfy.NestedTensor((torch.zeros(1, 16, 5, 60, 104), torch.zeros(1, 8, 2, 40)))
    assert video_stream(nested, "latent").shape == (1, 16, 5, 60, 104)
    plain = torch.zeros(1, 16, 5, 60, 104)
    assert video_stream(plain, "latent") is plain
    with pytest.raises(ValueError, match=r"latent is a nested latent whose first stream is not a video latent"):
        video_stream(fake_comfy.NestedTensor((torch.zeros(1, 8, 2, 40), torch.zeros(1, 16, 5, 8, 8))), "latent")
