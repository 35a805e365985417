"""Integral Noise Warp node: latent shapes of the model families, statistics, motion, occlusion, errors."""

import math
import os
import sys

import pytest
import torch
from scipy import stats
from workflow_defs import widget_defaults

from benchmarks.synthetic_video import moving_texture_clip
from temporal_noise import NODE_CLASS_MAPPINGS
from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.kernels.motion.flow_sequence import FlowSequence
from temporal_noise.kernels.video.warped_noise import video_noise_bytes
from temporal_noise.nodes import integral_noise_warp as warp_node_module
from temporal_noise.nodes import preview as preview_module
from temporal_noise.nodes.camera_motion import CameraMotionFlow
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp
from temporal_noise.nodes.memory import free_memory
from temporal_noise.nodes.noise import TensorNoise


def run(fake_comfy, *, method="grid", internal_resolution=1, seed=0, degradation=0.0, occlusion="fresh noise",
        flow_preset="dis_medium", channels=4, spatial_factor=8, temporal_factor=0, **inputs):
    return IntegralNoiseWarp().warp(method, internal_resolution, seed, degradation, occlusion, flow_preset,
                                    channels, spatial_factor, temporal_factor, **inputs)


def test_node_declares_tooltips_and_is_registered():
    inputs = IntegralNoiseWarp.INPUT_TYPES()
    assert all("tooltip" in options for group in inputs.values() for _, options in group.values())
    assert IntegralNoiseWarp.CATEGORY == "temporal_noise/warp" and IntegralNoiseWarp.DESCRIPTION
    assert len(IntegralNoiseWarp.OUTPUT_TOOLTIPS) == len(IntegralNoiseWarp.RETURN_TYPES) == 3
    assert NODE_CLASS_MAPPINGS["TemporalNoiseIntegralNoiseWarp"] is IntegralNoiseWarp


# (video frames, frame size, latent from the graph, explicit channels / spatial / temporal factors)
FAMILIES = {
    "animatediff": (16, (128, 128), (16, 4, 16, 16), (4, 8, 1)),
    "wan_hunyuan": (17, (128, 192), (1, 16, 5, 16, 24), (16, 8, 4)),
    "wan22_5b": (17, (128, 192), (1, 48, 5, 8, 12), (48, 16, 4)),
    "ltx": (17, (128, 192), (1, 128, 3, 4, 6), (128, 32, 8)),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_noise_takes_the_latent_shape_of_each_model_family(fake_comfy, family):
    frames, (height, width), latent_shape, (channels, spatial, temporal) = FAMILIES[family]
    flow = camera_motion_flow(frames, height, width, pan_x=3.0, zoom=1.01)
    noise, latent, preview = run(fake_comfy, flow=flow, latent={"samples": torch.zeros(latent_shape)})
    assert noise.samples.shape == latent["samples"].shape == latent_shape
    assert torch.equal(noise.generate_noise({"samples": torch.zeros(latent_shape)}), latent["samples"])
    latent_frames = latent_shape[0] if len(latent_shape) == 4 else latent_shape[2]
    assert preview.shape == (latent_frames, height, 2 * width, 3)
    _, explicit, _ = run(fake_comfy, flow=flow, channels=channels, spatial_factor=spatial, temporal_factor=temporal)
    assert torch.equal(explicit["samples"], latent["samples"])  # the same noise either way


def test_noise_refuses_a_latent_of_another_shape_naming_both(fake_comfy):
    flow = camera_motion_flow(16, 64, 64, pan_x=1.0)
    noise, _, _ = run(fake_comfy, flow=flow, latent={"samples": torch.zeros(16, 4, 8, 8)})
    with pytest.raises(ValueError, match=r"shape \(16, 4, 8, 8\) .* shape \(16, 16, 8, 8\)"):
        noise.generate_noise({"samples": torch.zeros(16, 16, 8, 8)})  # e.g. fix_empty_latent_channels to 16
    assert noise.generate_noise({"samples": torch.zeros(16, 4, 1, 8, 8)}).shape == (16, 4, 1, 8, 8)



def test_noise_never_reorders_frames_and_channels():
    """Noise [T, C, h, w] with T = C has the size of a latent [1, C, T, h, w]; reshaping it would swap frames and
    channels, so only the frame axis that ComfyUI adds to a 4-D latent may differ."""
    noise = TensorNoise(torch.randn(16, 16, 8, 8), 0, "a test")
    with pytest.raises(ValueError, match=r"shape \(16, 16, 8, 8\) .* shape \(1, 16, 16, 8, 8\)"):
        noise.generate_noise({"samples": torch.zeros(1, 16, 16, 8, 8)})
    video = TensorNoise(torch.randn(2, 4, 1, 8, 8), 0, "a test")
    assert torch.equal(video.generate_noise({"samples": torch.zeros(2, 4, 8, 8)}), video.samples[:, :, 0])

def ks_and_variance(values: torch.Tensor) -> tuple[float, float]:
    """(KS p-value against N(0, 1), variance) of a sample."""
    flat = values.double().flatten()
    return stats.kstest(flat.numpy(), "norm").pvalue, flat.var().item()


@pytest.mark.parametrize(("method", "internal_resolution", "degradation"), [
    ("grid", 1, 0.0), ("grid", 2, 0.3), ("particle", 2, 0.0), ("particle", 1, 0.6),
])
def test_latent_output_is_standard_normal_in_every_frame(fake_comfy, method, internal_resolution, degradation):
    """Per frame (4×64×64 = 16384 values): KS p > 10⁻⁴ against N(0, 1) and the variance within the 99.99 %
    chi-square interval (about 1 ± 0.043), under rotation + zoom + pan and an optional degradation mask
    (thresholds Bonferroni-sized for the 32 frames tested). Measured: smallest p 0.0055, variances 0.980 to
    1.012."""
    flow = camera_motion_flow(8, 512, 512, pan_x=2.5, pan_y=-1.0, zoom=1.02, rotate_degrees=1.5)
    mask = torch.zeros(512, 512)
    mask[:, 256:] = 1.0
    _, latent, _ = run(fake_comfy, flow=flow, method=method, internal_resolution=internal_resolution,
                       degradation=degradation, degradation_mask=mask, seed=7)
    samples = latent["samples"]
    assert samples.shape == (8, 4, 64, 64) and samples.dtype == torch.float32
    n = samples[0].numel()
    low, high = (stats.chi2.ppf(q, n - 1) / (n - 1) for q in (0.00005, 0.99995))
    for frame in samples:
        p_value, variance = ks_and_variance(frame)
        assert p_value > 1e-4
        assert low < variance < high
        assert abs(frame.mean().item()) < 4 / math.sqrt(n)


def test_same_seed_same_noise_other_seed_other_noise(fake_comfy):
    flow = camera_motion_flow(4, 256, 256, rotate_degrees=3.0)
    first = run(fake_comfy, flow=flow, seed=3)[1]["samples"]
    assert torch.equal(first, run(fake_comfy, flow=flow, seed=3)[1]["samples"])
    other = run(fake_comfy, flow=flow, seed=4)[1]["samples"]
    # frame 0 holds 4×32×32 independent values per seed: |r| < 0.1 is over 6 standard deviations
    assert abs(torch.corrcoef(torch.stack([first[0].flatten(), other[0].flatten()]))[0, 1]) < 0.1


def shifted_correlation(noise: torch.Tensor, shift: int) -> float:
    """Mean correlation of frame t+1 with frame t moved right by ``shift`` latent pixels (interior)."""
    values = []
    for t in range(noise.shape[0] - 1):
        after, before = noise[t + 1, :, 2:-2, shift + 2 : -2], noise[t, :, 2:-2, 2 : -2 - shift]
        values.append(torch.corrcoef(torch.stack([after.flatten(), before.flatten()]))[0, 1].item())
    return sum(values) / len(values)


def test_noise_follows_the_motion_of_a_video(fake_comfy):
    """A texture sliding right 8 px per frame (one latent pixel), flow estimated from the frames: each noise
    frame matches the previous one moved by one latent pixel (measured correlation 0.99998); independent
    noise does not (-0.011)."""
    images, _ = moving_texture_clip(6, 256, 256, pan_x=8.0)
    _, latent, _ = run(fake_comfy, images=images, internal_resolution=2)
    warped = shifted_correlation(latent["samples"], 1)
    independent = shifted_correlation(torch.randn(6, 4, 32, 32, generator=torch.Generator().manual_seed(0)), 1)
    assert warped > 0.99
    assert abs(independent) < 0.05


def test_half_pixel_motion_splits_each_noise_pixel_between_two(fake_comfy):
    """At 4 px per frame (half a latent pixel) a latent pixel covers half of each of two previous pixels, so
    E[Y_j | X] = (X_j + X_{j-1})/2 and Corr(Y_j, X_j) = Corr(Y_j, X_{j-1}) = 1/2 (measured 0.49 and 0.50)."""
    images, _ = moving_texture_clip(6, 256, 256, pan_x=4.0)
    _, latent, _ = run(fake_comfy, images=images, method="particle", internal_resolution=2)
    assert abs(shifted_correlation(latent["samples"], 0) - 0.5) < 0.04
    assert abs(shifted_correlation(latent["samples"], 1) - 0.5) < 0.04


def test_video_latent_frames_follow_the_motion_over_the_vae_time_step(fake_comfy):
    """Wan-style 4x temporal compression, 4 px per frame (half a latent pixel): consecutive latent frames are
    16 px = 2 latent pixels apart, and the noise follows in one composed step (measured correlation 1.0;
    warping every frame and keeping every 4th would keep only about 6/16)."""
    flow = camera_motion_flow(17, 128, 128, pan_x=4.0)
    _, latent, _ = run(fake_comfy, flow=flow, latent={"samples": torch.zeros(1, 16, 5, 16, 16)})
    frames = latent["samples"][0].movedim(1, 0)
    assert shifted_correlation(frames, 2) > 0.99


def test_fresh_noise_replaces_only_occluded_pixels(fake_comfy):
    forward = torch.zeros(1, 2, 16, 16)
    occlusion = torch.zeros(1, 16, 16, dtype=torch.bool)
    occlusion[0, 4:8, 8:12] = True
    flow = FlowSequence(forward, forward, (128, 128), occlusion)
    fresh = run(fake_comfy, flow=flow, occlusion="fresh noise")[1]["samples"]
    stretched = run(fake_comfy, flow=flow, occlusion="stretch")[1]["samples"]
    assert torch.equal(fresh[0], stretched[0]) and torch.equal(stretched[1], stretched[0])
    changed = (fresh[1] != stretched[1]).any(0)
    assert torch.equal(changed, occlusion[0])


def test_degradation_blends_fresh_noise_and_the_mask_limits_it(fake_comfy):
    flow = camera_motion_flow(4, 256, 256, pan_x=2.0)
    strict = run(fake_comfy, flow=flow)[1]["samples"]
    mask = torch.zeros(256, 256)
    mask[:, 128:] = 1.0
    blended = run(fake_comfy, flow=flow, degradation=0.5, degradation_mask=mask)[1]["samples"]
    assert torch.equal(blended[..., :16], strict[..., :16])
    right = torch.corrcoef(torch.stack([blended[..., 16:].flatten(), strict[..., 16:].flatten()]))[0, 1]
    assert abs(right.item() - 1 / math.sqrt(2)) < 0.03  # (1-γ)/√((1-γ)² + γ²) at γ = ½


def test_preview_shows_the_frames_of_each_latent_frame_beside_the_noise(fake_comfy):
    images, _ = moving_texture_clip(9, 64, 96, pan_x=2.0)
    _, latent, preview = run(fake_comfy, images=images, channels=16, temporal_factor=4)
    assert latent["samples"].shape == (1, 16, 3, 8, 12)
    assert preview.shape == (3, 64, 192, 3)
    assert torch.equal(preview[:, :, :96], images[[0, 4, 8]])
    first_noise_pixel = (0.5 + latent["samples"][0, :3, 0, 0, 0] / 5).clamp(0, 1)
    assert torch.allclose(preview[0, 0, 96], first_noise_pixel)


def test_progress_counts_flow_and_warp_and_honours_interrupt(fake_comfy):
    images, _ = moving_texture_clip(5, 64, 64, pan_x=2.0)
    run(fake_comfy, images=images)
    updates = fake_comfy.utils.ProgressBar.instances[-1].updates
    assert updates == [(value, 9) for value in range(1, 10)]  # 4 flow pairs, 4 warped frames, 1 finish
    run(fake_comfy, images=images, channels=16, temporal_factor=4)
    assert fake_comfy.utils.ProgressBar.instances[-1].updates[-1] == (6, 6)  # 4 flow pairs, 1 warp (2 latent frames)
    fake_comfy.model_management.interrupted = True
    with pytest.raises(fake_comfy.model_management.InterruptProcessingException):
        run(fake_comfy, images=images)


def nan_frames():
    images = torch.rand(4, 64, 64, 3)
    images[2, 5, 5, 1] = float("nan")
    return images


@pytest.mark.parametrize(("inputs", "message"), [
    ({}, "connect images .* or a flow"),
    ({"images": torch.rand(1, 64, 64, 3)}, "images has 1 frame: there is nothing to warp"),
    ({"images": torch.rand(4, 64, 64, 3), "flow": camera_motion_flow(4, 64, 80)},
     "images are 64x64 but the flow is for 80x64 frames"),
    ({"images": torch.rand(5, 64, 64, 3), "flow": camera_motion_flow(4, 64, 64)},
     "images has 5 frames but the flow describes 4"),
    ({"flow": camera_motion_flow(16, 64, 64), "latent": {"samples": torch.zeros(13, 4, 8, 8)}},
     "expected a latent batch of 16"),
    ({"flow": camera_motion_flow(49, 64, 64), "latent": {"samples": torch.zeros(1, 16, 12, 8, 8)}},
     "video's 49 frames give 13 at 4x"),
    ({"images": torch.ones(4, 64, 64, 3, dtype=torch.uint8)}, r"images has dtype torch.uint8, but .* floats in"),
    ({"images": nan_frames()}, r"images contains NaN or infinite values \(first in frame 2\)"),
    ({"images": torch.rand(4, 8, 8, 3)}, "images are 8x8 .* too small for optical flow, .*; give larger images or "
                                         "connect a flow"),
    ({"flow": camera_motion_flow(4, 64, 64), "degradation_mask": torch.ones(32, 32)},
     "degradation_mask is 32x32 .* frames are 64x64"),
    ({"flow": camera_motion_flow(4, 64, 64), "degradation_mask": torch.ones(3, 64, 64)},
     "degradation_mask has 3 frames; give 1 .* or 4"),
    ({"flow": torch.zeros(3, 2, 64, 64)}, "flow must be a FLOW"),
    ({"flow": camera_motion_flow(4, 64, 64), "latent": {"samples": torch.zeros(4, 4, 8, 16)}},
     "different aspect ratios"),
])
def test_bad_inputs_name_the_input(fake_comfy, inputs, message):
    with pytest.raises(ValueError, match=message):
        run(fake_comfy, **inputs)


def test_fresh_nodes_give_a_still_camera_and_sd15_animatediff_noise(fake_comfy):
    """Camera Motion Flow as added: 16 still frames of 512x512. Integral Noise Warp as added: grid warping of
    4-channel noise at 1/8 of the frame size, no degradation, fresh noise in occlusions (SD1.5 AnimateDiff);
    with a Wan latent the temporal factor comes from its channels."""
    flow, _ = CameraMotionFlow().compute(**widget_defaults(CameraMotionFlow))
    assert flow.frames == 16 and flow.frame_size == (512, 512)
    assert not flow.forward.any() and not flow.backward.any()
    settings = widget_defaults(IntegralNoiseWarp)
    assert (settings["flow_preset"], settings["seed"]) == ("dis_medium", 0)
    moving = camera_motion_flow(3, 128, 128, pan_x=3.0, rotate_degrees=2.0)
    _, latent, _ = IntegralNoiseWarp().warp(**settings, flow=moving)
    _, documented, _ = run(fake_comfy, flow=moving, method="grid", internal_resolution=1, degradation=0.0,
                           occlusion="fresh noise", channels=4, spatial_factor=8)
    assert latent["samples"].shape == (3, 4, 16, 16)
    assert torch.equal(latent["samples"], documented["samples"])
    wan = camera_motion_flow(17, 64, 64, pan_x=1.0)
    _, latent, _ = IntegralNoiseWarp().warp(**settings, flow=wan, latent={"samples": torch.zeros(1, 16, 5, 8, 8)})
    assert latent["samples"].shape == (1, 16, 5, 8, 8)


@pytest.mark.parametrize(("size", "internal_resolution", "scale"), [
    ((512, 512), 1, 0.5),  # a 64-pixel grid: flow on 256 pixels, the minimum
    ((512, 512), 6, 0.75),  # a 384-pixel warp grid
    ((64, 96), 1, 1.0),  # never above the frame size
    ((16, 4000), 1, 1.0),  # never below 16 pixels on the short side: 0.125 would give 2x500
    ((32, 2048), 1, 0.5),  # 0.125 would give 4x256
])
def test_flow_is_computed_at_the_warp_grids_size_but_on_at_least_256_and_16_pixels(fake_comfy, monkeypatch, size,
                                                                            internal_resolution, scale):
    scales = []

    def fake_estimate_flow(frames, preset, scale, on_pair):
        scales.append(scale)
        return camera_motion_flow(frames.shape[0], *frames.shape[-2:])

    monkeypatch.setattr(warp_node_module, "estimate_flow", fake_estimate_flow)
    run(fake_comfy, images=torch.rand(2, *size, 3), internal_resolution=internal_resolution, channels=1)
    assert scales == [pytest.approx(scale)]


def test_preview_shows_the_first_batch_entrys_noise(fake_comfy):
    flow = camera_motion_flow(5, 64, 64, pan_x=1.0)
    _, latent, preview = run(fake_comfy, flow=flow, latent={"samples": torch.zeros(2, 16, 2, 8, 8)})
    expected = (0.5 + latent["samples"][0, :3, :, 0, 0].T / 5).clamp(0, 1)
    torch.testing.assert_close(preview[:, 0, 64], expected)


def test_noise_hands_out_copies(fake_comfy):
    """A sampler may add to the noise in place: the NOISE must give the same tensor the next time."""
    noise, _, _ = run(fake_comfy, flow=camera_motion_flow(4, 64, 64, pan_x=1.0))
    first = noise.generate_noise({"samples": torch.zeros(4, 4, 8, 8)})
    expected = first.clone()
    first.add_(1.0)
    assert torch.equal(noise.generate_noise({"samples": torch.zeros(4, 4, 8, 8)}), expected)


def test_only_a_missing_single_frame_axis_is_tolerated():
    noise = TensorNoise(torch.randn(2, 4, 8, 8), 0, "a test")
    with pytest.raises(ValueError, match=r"shape \(2, 4, 8, 8\) .* shape \(2, 4, 3, 8, 8\)"):
        noise.generate_noise({"samples": torch.zeros(2, 4, 3, 8, 8)})


def test_rgba_frames_drop_alpha_and_masks_follow_the_frame_orientation(fake_comfy):
    """The alpha channel of RGBA frames is dropped (the preview shows the RGB); a degradation mask must be
    height x width of the frames, not transposed, and finite."""
    images, _ = moving_texture_clip(3, 64, 96, pan_x=2.0)
    rgba = torch.cat([images, torch.ones(*images.shape[:-1], 1)], dim=-1)
    _, _, preview = run(fake_comfy, images=rgba, flow=camera_motion_flow(3, 64, 96))
    assert torch.equal(preview[:, :, :96], images)
    flow = camera_motion_flow(3, 64, 96, pan_x=1.0)
    with pytest.raises(ValueError, match=r"degradation_mask is 64x96 .* frames are 96x64"):
        run(fake_comfy, flow=flow, degradation=0.5, degradation_mask=torch.ones(96, 64))
    with pytest.raises(ValueError, match="degradation_mask contains NaN"):
        run(fake_comfy, flow=flow, degradation=0.5, degradation_mask=torch.full((64, 96), float("nan")))


def test_without_opencv_frames_need_a_flow_and_the_error_says_what_to_install(fake_comfy, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    run(fake_comfy, flow=camera_motion_flow(3, 64, 64, pan_x=1.0))
    with pytest.raises(ImportError, match=r"needs OpenCV.*pip install opencv-python.*apt-get install libgl1"):
        run(fake_comfy, images=torch.rand(3, 64, 64, 3))


def test_images_with_two_channels_are_refused(fake_comfy):
    with pytest.raises(ValueError, match=r"images must be an IMAGE batch \[frames, height, width, 3\]"):
        run(fake_comfy, images=torch.rand(4, 64, 64, 2))


def test_a_flow_near_the_largest_float_gives_finite_noise_and_preview(fake_comfy):
    """Every pixel leaves the frame, so every frame is fresh noise; shrinking the flow to the latent grid (area
    means whose sums overflowed) and its colour wheel (|f| overflowed) must stay finite."""
    huge = torch.full((3, 2, 64, 64), 3e38)
    huge[:, 1] = -3e38
    _, latent, preview = run(fake_comfy, flow=FlowSequence(huge, -huge, (64, 64)))
    assert torch.isfinite(latent["samples"]).all() and latent["samples"].shape == (4, 4, 8, 8)
    assert torch.isfinite(preview).all() and preview.min() >= 0 and preview.max() <= 1


def test_work_that_does_not_fit_the_free_memory_is_refused_naming_the_inputs(fake_comfy):
    """ComfyUI's get_free_memory decides; the estimate (video_noise_bytes) is checked before any allocation."""
    flow = camera_motion_flow(4, 64, 64, pan_x=1.0)
    needed = video_noise_bytes(4, 64, (8, 8), 2)
    asked = []
    fake_comfy.model_management.get_free_memory = lambda device: asked.append(device) or needed - 1
    with pytest.raises(ValueError, match=r"Integral Noise Warp would need about .* GiB on cpu but .* are free: "
                                         r"lower internal_resolution \(2; .*\), channels \(64\)"):
        run(fake_comfy, flow=flow, channels=64, internal_resolution=2)
    with pytest.raises(ValueError, match=r"connect a smaller or shorter latent \(now \[4, 64, 8, 8\]\)"):
        run(fake_comfy, flow=flow, internal_resolution=2, latent={"samples": torch.zeros(4, 64, 8, 8)})
    fake_comfy.model_management.get_free_memory = lambda device: needed
    noise, _, _ = run(fake_comfy, flow=flow, channels=64, internal_resolution=2)
    assert noise.generate_noise({"samples": torch.zeros(4, 64, 8, 8)}).shape == (4, 64, 8, 8)
    assert asked == [torch.device("cpu")] * 2


def test_memory_estimates_keep_realistic_cases_and_refuse_the_unbounded_ones():
    """A 720p Wan 2.1 latent at internal_resolution 8 (its warped frames alone 1.7 GiB) fits in 4 GiB;
    1024 channels of 16 frames of 512² at internal_resolution 8 (16 GiB of frames, and a step's scratch of
    10 GiB) more than the 24 GiB of the machine that reported it."""
    wan = video_noise_bytes(31, 16, (90, 160), 8)
    assert 4 * 31 * 16 * 720 * 1280 < wan < 4 * 2**30
    assert video_noise_bytes(16, 1024, (64, 64), 8) > 24 * 2**30


def test_free_memory_without_comfyui_reads_the_system(fake_comfy):
    assert not hasattr(fake_comfy.model_management, "get_free_memory")  # the fake has none: as without ComfyUI
    free = free_memory(torch.device("cpu"))
    assert free is not None and 0 < free <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_preview_of_a_flow_is_bounded(fake_comfy, monkeypatch):
    """Without frames the preview is drawn at preview_size: here a budget of 5000 pixels for 5 latent frames
    side by side with their noise gives 18 x 27 per half."""
    monkeypatch.setattr(preview_module, "PREVIEW_PIXELS", 5000)
    _, _, preview = run(fake_comfy, flow=camera_motion_flow(5, 64, 96, pan_x=1.0),
                        latent={"samples": torch.zeros(5, 4, 8, 12)})
    assert preview.shape == (5, 18, 54, 3)
    assert torch.equal(preview[0, :, :27], torch.ones(18, 27, 3))  # the first frame is still: white
