"""The rectified-flow video UNet, trained like the v-prediction one with the flow-matching objective.

Recipe (``training``'s, warm-started so that it fits the benchmark's time budget): the image UNet starts from
the v-prediction image UNet's weights and is trained on the still scenes with ``flow.flow_pair`` (as flow
fine-tunes of diffusion models are made); then it is frozen and the motion module, started from the
v-prediction video UNet's, is trained on the moving-disc videos with the same objective.

Cached in ``<cache>/<key>/flow.pt`` beside the v-prediction models; the key hashes the v-prediction models' key,
this file, ``flow.py`` and the flow plan, so changing the flow model never retrains the v-prediction ones.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from . import flow, scenes, training
from .unet import TinyUNet


@dataclass(frozen=True)
class FlowPlan:
    """Steps of the two flow stages; the rest (batches, learning rate, EMA) is the base plan's."""

    base: training.TrainingPlan
    image_steps: int
    video_steps: int


FULL_FLOW_PLAN = FlowPlan(training.FULL_PLAN, image_steps=300, video_steps=300)
CI_FLOW_PLAN = FlowPlan(training.CI_PLAN, image_steps=200, video_steps=200)


def cache_key(plan: FlowPlan) -> str:
    """SHA-256 (first 16 hex digits) of the base models' key, the flow code and the flow plan."""
    digest = hashlib.sha256(training.cache_key(plan.base).encode())
    for module in (flow, training):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(repr(sorted(asdict(plan).items())).encode())
    return digest.hexdigest()[:16]


def train_flow(models: training.Models, plan: FlowPlan, log: Callable[[str], None] = print) -> TinyUNet:
    """The rectified-flow video UNet, warm-started from the v-prediction models."""
    generator = torch.Generator().manual_seed(plan.base.seed + 1)
    image = copy.deepcopy(models.image).requires_grad_(True).train()
    image = training.train(image, list(image.parameters()), training.image_batches(plan.base, generator),
                           plan.image_steps, 1, plan.base, generator, log, "flow image UNet", flow.flow_pair)
    video = copy.deepcopy(models.video)
    video.load_state_dict(image.state_dict(), strict=False)
    video.requires_grad_(False).train()
    motion = list(video.motion.parameters())
    for parameter in motion:
        parameter.requires_grad_(True)
    video = training.train(video, motion, training.video_batches(plan.base, generator), plan.video_steps,
                           scenes.FRAMES, plan.base, generator, log, "flow video UNet motion module", flow.flow_pair)
    return video.requires_grad_(False)


def load_or_train_flow(models: training.Models, plan: FlowPlan, folder: Path,
                       log: Callable[[str], None] = print) -> TinyUNet:
    """The flow video UNet of ``plan`` from ``folder``/<key>/flow.pt, training and saving it first if absent."""
    path = folder / cache_key(plan) / "flow.pt"
    if path.exists():
        log(f"flow model: cached in {path.parent}")
        model = TinyUNet(temporal=True)
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval().requires_grad_(False)
    log(f"flow model: training (cache {path.parent})")
    model = train_flow(models, plan, log)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    torch.save(model.state_dict(), partial)
    partial.replace(path)
    return model
