"""API-format graphs for the integration tests, built around named node ids so tests can rewire them.

An API-format graph maps a node id to ``{"class_type": ..., "inputs": {...}}``; an input is a widget
value or a link ``[node_id, output_index]``. Input names follow ComfyUI 0.3.64, AnimateDiff-Evolved and
Advanced-ControlNet as their ``/object_info`` lists them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .model_files import MOTION_MODULE_V2, SD15_CHECKPOINT, SD15_CONTROLNET

# Node ids of the AnimateDiff graph.
CHECKPOINT = "checkpoint"
MOTION_MODEL = "motion_model"
APPLY_MOTION = "apply_motion_model"
ANIMATEDIFF = "animatediff_model"
POSITIVE_TEXT = "positive_text"
NEGATIVE_TEXT = "negative_text"
CONTROL_IMAGE = "control_image"
CONTROLNET_LOADER = "controlnet_loader"
CONTROLNET_APPLY = "controlnet_apply"
EMPTY_LATENT = "empty_latent"
SAMPLER = "sampler"
DECODE = "decode"
OUTPUT = "output"


def node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


@dataclass
class AnimateDiffGraph:
    """A graph and the links a sampler node takes: swap ``SAMPLER`` for another node that outputs a LATENT.

    ``model`` is the ADE-patched MODEL, ``positive``/``negative`` the (ControlNet-applied) CONDITIONING,
    ``latent`` the empty LATENT of ``frames`` frames, ``vae`` the checkpoint's VAE. ``DECODE`` decodes
    output 0 of ``SAMPLER`` and ``OUTPUT`` (PreviewImage) reports the frames.
    """

    nodes: dict[str, dict]
    model: list
    positive: list
    negative: list
    latent: list
    vae: list
    frames: int

    def ksampler_inputs(self) -> dict:
        """A copy of the KSampler's inputs (links and widgets), to pass on to a replacement sampler."""
        return copy.deepcopy(self.nodes[SAMPLER]["inputs"])

    def with_sampler(self, class_type: str, **inputs: object) -> dict:
        """A copy of the graph with the ``SAMPLER`` node replaced by ``class_type(**inputs)``."""
        nodes = copy.deepcopy(self.nodes)
        nodes[SAMPLER] = node(class_type, **inputs)
        return nodes


def animatediff_graph(
    *,
    frames: int = 8,
    size: int = 64,
    steps: int = 2,
    cfg: float = 1.0,
    seed: int = 0,
    sampler_name: str = "euler",
    scheduler: str = "simple",
    checkpoint: str = SD15_CHECKPOINT.name,
    motion_module: str = MOTION_MODULE_V2.name,
    controlnet: str | None = SD15_CONTROLNET.name,
) -> AnimateDiffGraph:
    """SD1.5 checkpoint → ADE Gen2 motion model → (Advanced-ControlNet on a grey control image batch) →
    KSampler over ``frames`` frames of ``size``² pixels → VAE decode → PreviewImage.

    ``controlnet=None`` leaves ControlNet out.
    """
    nodes = {
        CHECKPOINT: node("CheckpointLoaderSimple", ckpt_name=checkpoint),
        MOTION_MODEL: node("ADE_LoadAnimateDiffModel", model_name=motion_module),
        APPLY_MOTION: node("ADE_ApplyAnimateDiffModelSimple", motion_model=[MOTION_MODEL, 0]),
        ANIMATEDIFF: node(
            "ADE_UseEvolvedSampling",
            model=[CHECKPOINT, 0], beta_schedule="autoselect", m_models=[APPLY_MOTION, 0],
        ),
        POSITIVE_TEXT: node("CLIPTextEncode", text="a red ball rolling on grass", clip=[CHECKPOINT, 1]),
        NEGATIVE_TEXT: node("CLIPTextEncode", text="", clip=[CHECKPOINT, 1]),
        EMPTY_LATENT: node("EmptyLatentImage", width=size, height=size, batch_size=frames),
    }  # fmt: skip
    positive, negative = [POSITIVE_TEXT, 0], [NEGATIVE_TEXT, 0]
    if controlnet is not None:
        nodes[CONTROL_IMAGE] = node("EmptyImage", width=size, height=size, batch_size=frames, color=0x808080)
        nodes[CONTROLNET_LOADER] = node("ControlNetLoaderAdvanced", control_net_name=controlnet)
        nodes[CONTROLNET_APPLY] = node(
            "ACN_AdvancedControlNetApply_v2",
            positive=positive, negative=negative, control_net=[CONTROLNET_LOADER, 0],
            image=[CONTROL_IMAGE, 0], strength=1.0, start_percent=0.0, end_percent=1.0,
        )  # fmt: skip
        positive, negative = [CONTROLNET_APPLY, 0], [CONTROLNET_APPLY, 1]
    graph = AnimateDiffGraph(
        nodes, [ANIMATEDIFF, 0], positive, negative, [EMPTY_LATENT, 0], [CHECKPOINT, 2], frames
    )
    nodes[SAMPLER] = node(
        "KSampler",
        model=graph.model, seed=seed, steps=steps, cfg=cfg, sampler_name=sampler_name, scheduler=scheduler,
        positive=positive, negative=negative, latent_image=graph.latent, denoise=1.0,
    )  # fmt: skip
    nodes[DECODE] = node("VAEDecode", samples=[SAMPLER, 0], vae=graph.vae)
    nodes[OUTPUT] = node("PreviewImage", images=[DECODE, 0])
    return graph
