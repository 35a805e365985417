"""Bad input through every node: one table of cases, each refused with a ValueError that names the input.

Every case calls a node class (ComfyUI faked: tests/fake_comfy.py) with small valid inputs and one input
replaced. Number widgets get a case at and just past each limit and for non-finite values; the other kinds of
input (IMAGE, FLOW, LATENT, NOISE, MASK, SIGMAS, choices, booleans) are listed by hand, with wrong ranks,
dtypes, sizes and a "meta" tensor (a shape without data) for a tensor on a device the node cannot read.
Left to other fixes: OpenCV crashes, uint8 images, camera memory, empty or nested latents.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import fake_comfy
import numpy as np
import pytest
import torch

from temporal_noise.kernels.motion.camera_motion import camera_motion_flow
from temporal_noise.kernels.motion.flow_sequence import FlowSequence
from temporal_noise.nodes.camera_motion import CameraMotionFlow
from temporal_noise.nodes.freeinit_sampler import FreeInitSampler
from temporal_noise.nodes.frequency_filter import FreeInitFrequencyFilter
from temporal_noise.nodes.integral_noise_warp import IntegralNoiseWarp
from temporal_noise.nodes.noise_reinit import FreeInitNoiseReinit
from temporal_noise.nodes.optical_flow import OpticalFlow

NAN, INF = float("nan"), float("inf")
NODES = {"filter": FreeInitFrequencyFilter, "sampler": FreeInitSampler, "reinit": FreeInitNoiseReinit,
         "optical_flow": OpticalFlow, "camera": CameraMotionFlow, "warp": IntegralNoiseWarp}
# Every number widget of every node, with its kind (test_the_table_covers_every_number_widget keeps it whole).
NUMBER_WIDGETS = {
    "filter": {"d_s": "FLOAT", "d_t": "FLOAT", "order": "INT", "preview_frames": "INT", "preview_size": "INT"},
    "sampler": {"seed": "INT", "steps": "INT", "cfg": "FLOAT", "denoise": "FLOAT", "iterations": "INT",
                "keep_percent": "FLOAT"},
    "reinit": {"seed": "INT", "iteration": "INT", "keep_percent": "FLOAT"},
    "optical_flow": {"scale": "FLOAT"},
    "camera": {"frames": "INT", "width": "INT", "height": "INT", "pan_x": "FLOAT", "pan_y": "FLOAT",
               "zoom": "FLOAT", "rotate": "FLOAT", "spatial_factor": "INT", "temporal_factor": "INT"},
    "warp": {"internal_resolution": "INT", "seed": "INT", "degradation": "FLOAT", "channels": "INT",
             "spatial_factor": "INT", "temporal_factor": "INT"},
}
FRAMES, SIZE = 2, 32  # the video of the warp cases
MOTION = camera_motion_flow(FRAMES, SIZE, SIZE, pan_x=1.0)
LATENT = (FRAMES, 4, 8, 8)  # the latent of the FreeInit cases
IMAGES = (FRAMES, 64, 64, 3)  # the video of the Optical Flow cases
# Inputs that let a widget at its limit run: spatial_factor 128 needs 128 pixels for one latent pixel; scale 0.05
# needs 320 for the 16 pixels optical flow takes.
AT_LIMIT_INPUTS = {
    ("warp", "spatial_factor", "max"): {"flow": camera_motion_flow(FRAMES, 128, 128, pan_x=1.0)},
    ("optical_flow", "scale", "min"): {"images": torch.rand(FRAMES, 320, 320, 3)},
}


def valid_inputs(node: str) -> dict:
    """Small inputs the node accepts (each case replaces one)."""
    model = fake_comfy.FakeModel()
    if node == "filter":
        return dict(filter_type="gaussian", d_s=0.25, d_t=0.25, order=4, preview_frames=4, preview_size=8)
    if node == "sampler":
        return dict(model=model, seed=0, steps=2, cfg=7.0, sampler_name="euler", scheduler="normal", positive=[],
                    negative=[], latent_image={"samples": torch.zeros(LATENT)}, denoise=1.0, iterations=2,
                    coarse_to_fine=False)
    if node == "reinit":
        return dict(model=model, samples={"samples": torch.zeros(LATENT)},
                    sigmas=fake_comfy.KSampler(model, 2, "cpu").sigmas, seed=0, iteration=1)
    if node == "optical_flow":
        return dict(images=torch.rand(IMAGES, generator=torch.Generator().manual_seed(0)),
                    preset="dis_ultrafast", scale=0.5)
    if node == "camera":
        return dict(frames=2, width=16, height=16, pan_x=0.0, pan_y=0.0, zoom=1.0, rotate=0.0)
    return dict(method="grid", internal_resolution=1, seed=0, degradation=0.0, occlusion="fresh noise",
                flow_preset="dis_ultrafast", channels=4, spatial_factor=16, temporal_factor=0, flow=MOTION)


@dataclass(frozen=True)
class Limit:
    """A number widget's ``end`` ("min" or "max") as INPUT_TYPES gives it, or the nearest value past it."""

    end: str
    past: bool = False

    def value(self, kind: str, options: dict) -> int | float:
        limit = options[self.end]
        if not self.past:
            return limit
        outwards = 1 if self.end == "max" else -1
        return limit + outwards if kind == "INT" else math.nextafter(limit, outwards * math.inf)


def run(node: str, **overrides):
    """The node's FUNCTION on the valid inputs with ``overrides`` (Limit values resolved from INPUT_TYPES)."""
    node_class = NODES[node]
    widgets = {name: spec for section in node_class.INPUT_TYPES().values() for name, spec in section.items()}
    inputs = valid_inputs(node)
    for name, value in overrides.items():
        inputs[name] = value.value(widgets[name][0], widgets[name][1]) if isinstance(value, Limit) else value
    return getattr(node_class(), node_class.FUNCTION)(**inputs)


def noise_of(tensor):
    """A NOISE that generates ``tensor``."""
    return types.SimpleNamespace(seed=0, generate_noise=lambda latent: tensor)


def with_value(shape, index, value, **kwargs) -> torch.Tensor:
    """Zeros of ``shape`` with ``value`` at ``index``."""
    tensor = torch.zeros(shape, **kwargs)
    tensor[index] = value
    return tensor


def number_cases():
    """(node, overrides, input name) of every number widget past its limits, non-finite or not a number."""
    for node, widgets in NUMBER_WIDGETS.items():
        for name, kind in widgets.items():
            bad = [Limit("min", past=True), Limit("max", past=True), NAN, INF, -INF, "1"]
            bad += [2.5, 2.0] if kind == "INT" else []
            for value in bad:
                yield pytest.param(node, {name: value}, name, id=f"{node}-{name}-{value}")


CASES = [
    *number_cases(),
    # IMAGE: rank, channels, empty, non-finite, not a tensor, no data, one frame, too small, disagreeing with flow
    ("optical_flow", {"images": torch.zeros(IMAGES[1:])}, "images"),
    ("optical_flow", {"images": torch.zeros(*IMAGES[:3], 2)}, "images"),
    ("optical_flow", {"images": torch.zeros(0, *IMAGES[1:])}, "images"),
    ("optical_flow", {"images": with_value(IMAGES, (1, 5, 5, 0), NAN)}, "images"),
    ("optical_flow", {"images": with_value(IMAGES, (0, 5, 5, 2), INF)}, "images"),
    ("optical_flow", {"images": np.zeros(IMAGES, dtype=np.float32)}, "images"),
    ("optical_flow", {"images": torch.zeros(IMAGES, device="meta")}, "images"),
    ("optical_flow", {"images": torch.zeros(1, *IMAGES[1:])}, "images"),
    ("warp", {"images": torch.zeros(FRAMES, 8, 8, 3), "flow": None, "spatial_factor": 1}, "images"),
    ("warp", {"images": torch.zeros(FRAMES + 1, SIZE, SIZE, 3)}, "images"),
    ("warp", {"images": torch.zeros(FRAMES, SIZE, SIZE // 2, 3)}, "images"),
    ("warp", {"images": with_value((FRAMES, SIZE, SIZE, 3), (1, 0, 0, 0), NAN)}, "images"),
    ("warp", {"images": torch.zeros(FRAMES, SIZE, SIZE, 3, device="meta")}, "images"),
    # FLOW: missing, not a FLOW, no data, a finite motion that overflows when composed over the VAE's time step
    ("warp", {"flow": None}, "flow"),
    ("warp", {"flow": MOTION.forward}, "flow"),
    ("warp", {"flow": types.SimpleNamespace(forward=MOTION.forward, backward=MOTION.backward)}, "flow"),
    ("warp", {"flow": FlowSequence(torch.full((4, 2, 8, 8), 3e38), torch.full((4, 2, 8, 8), -3e38), (8, 8)),
              "temporal_factor": 4, "spatial_factor": 1}, "flow"),
    # LATENT: rank, dtype, non-finite, empty, not a tensor, no data, shape against the other inputs
    ("sampler", {"latent_image": {"samples": torch.zeros(4, 8, 8)}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": torch.zeros(LATENT, dtype=torch.int64)}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": with_value(LATENT, (1, 2, 3, 4), NAN)}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": with_value(LATENT, (1, 2, 3, 4), -INF)}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": torch.zeros(0, 4, 8, 8)}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": [[0.0]]}}, "latent_image"),
    ("sampler", {"latent_image": {"samples": torch.zeros(LATENT, device="meta")}}, "latent_image"),
    ("reinit", {"samples": {"samples": torch.zeros(1, 1, 4, 8, 8, 1)}}, "samples"),
    ("reinit", {"samples": {"samples": with_value(LATENT, (0, 0, 0, 0), NAN)}}, "samples"),
    ("reinit", {"samples": {"samples": torch.zeros(LATENT, device="meta")}}, "samples"),
    ("reinit", {"latent_image": {"samples": torch.zeros(FRAMES, 4, 8, 6)}}, "latent_image"),
    ("warp", {"latent": {"samples": torch.zeros(4, 8, 8)}}, "latent"),
    ("warp", {"latent": {"samples": with_value((FRAMES, 4, 8, 8), (0, 0, 0, 0), NAN)}}, "latent"),
    ("warp", {"latent": {"samples": torch.zeros(FRAMES, 4, 8, 8, dtype=torch.int32)}}, "latent"),
    ("warp", {"latent": {"samples": torch.zeros(FRAMES, 4, 8, 8, device="meta")}}, "latent"),
    ("warp", {"latent": {"samples": torch.zeros(FRAMES + 1, 4, 8, 8)}}, "latent"),
    ("warp", {"latent": {"samples": torch.zeros(FRAMES, 4, 8, 4)}}, "latent"),
    # NOISE: shape, non-finite, dtype, not a tensor, no data
    ("sampler", {"initial_noise": noise_of(torch.zeros(FRAMES, 4, 8, 6))}, "initial_noise"),
    ("sampler", {"initial_noise": noise_of(with_value(LATENT, (1, 1, 1, 1), NAN))}, "initial_noise"),
    ("sampler", {"initial_noise": noise_of(torch.zeros(LATENT, dtype=torch.int64))}, "initial_noise"),
    ("sampler", {"initial_noise": noise_of(np.zeros(LATENT))}, "initial_noise"),
    ("sampler", {"initial_noise": noise_of(torch.zeros(LATENT, device="meta"))}, "initial_noise"),
    ("sampler", {"fresh_noise": noise_of(with_value(LATENT, (0, 3, 7, 7), INF))}, "fresh_noise"),
    ("sampler", {"fresh_noise": noise_of(torch.zeros(1, *LATENT))}, "fresh_noise"),
    ("reinit", {"initial_noise": noise_of(with_value(LATENT, (1, 1, 1, 1), NAN))}, "initial_noise"),
    ("reinit", {"fresh_noise": noise_of(torch.zeros(FRAMES, 3, 8, 8))}, "fresh_noise"),
    ("reinit", {"fresh_noise": noise_of(torch.zeros(LATENT, device="meta"))}, "fresh_noise"),
    # MASK: rank, size, frame count, non-finite, no data
    ("warp", {"degradation_mask": torch.zeros(1, FRAMES, SIZE, SIZE)}, "degradation_mask"),
    ("warp", {"degradation_mask": torch.zeros(SIZE, SIZE // 2)}, "degradation_mask"),
    ("warp", {"degradation_mask": torch.zeros(FRAMES + 1, SIZE, SIZE)}, "degradation_mask"),
    ("warp", {"degradation_mask": with_value((SIZE, SIZE), (3, 3), NAN)}, "degradation_mask"),
    ("warp", {"degradation_mask": torch.zeros(SIZE, SIZE, device="meta")}, "degradation_mask"),
    # SIGMAS: rank, length, first sigma non-finite, zero, or above a flow model's range
    ("reinit", {"sigmas": torch.ones(2, 2)}, "sigmas"),
    ("reinit", {"sigmas": torch.tensor([1.0])}, "sigmas"),
    ("reinit", {"sigmas": torch.tensor([NAN, 0.0])}, "sigmas"),
    ("reinit", {"sigmas": torch.tensor([INF, 0.0])}, "sigmas"),
    ("reinit", {"sigmas": torch.tensor([0.0, 0.0])}, "sigmas"),
    ("reinit", {"model": fake_comfy.FakeModel(fake_comfy.CONST()), "sigmas": torch.tensor([14.6, 0.0])}, "sigmas"),
    # choices and booleans
    ("filter", {"filter_type": "lanczos"}, "filter_type"),
    ("sampler", {"sampler_name": "euler_x"}, "sampler_name"),
    ("sampler", {"scheduler": "karras_x"}, "scheduler"),
    ("sampler", {"coarse_to_fine": "false"}, "coarse_to_fine"),
    ("optical_flow", {"preset": "raft"}, "preset"),
    ("warp", {"method": "bilinear"}, "method"),
    ("warp", {"occlusion": "fresh"}, "occlusion"),
    ("warp", {"flow_preset": "raft"}, "flow_preset"),
]


@pytest.mark.parametrize(("node", "overrides", "name"), CASES)
def test_bad_input_is_refused_naming_it(fake_comfy, node, overrides, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b") as error:
        run(node, **overrides)
    assert error.type is ValueError


@pytest.mark.parametrize(("node", "name"), [(node, name) for node, widgets in NUMBER_WIDGETS.items()
                                            for name in widgets])
@pytest.mark.parametrize("end", ["min", "max"])
def test_number_widgets_accept_their_limits(fake_comfy, node, name, end):
    """At its min and max every number widget is accepted and the node runs, but for denoise = 0, which
    FreeInit Sampler refuses as KSampler's "nothing to sample" (the widget allows 0 like KSampler's)."""
    if (node, name, end) == ("sampler", "denoise", "min"):
        with pytest.raises(ValueError, match="denoise must be > 0"):
            run(node, **{name: Limit(end)})
        return
    assert run(node, **{name: Limit(end)}, **AT_LIMIT_INPUTS.get((node, name, end), {}))


def test_the_table_covers_every_number_widget(fake_comfy):
    for node, node_class in NODES.items():
        numbers = {name: spec[0] for section in node_class.INPUT_TYPES().values()
                   for name, spec in section.items() if spec[0] in ("INT", "FLOAT")}
        assert numbers == NUMBER_WIDGETS[node], node
