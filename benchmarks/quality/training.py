"""Train the tiny image and video UNets on code-made data, cached outside the repository.

The image UNet learns still scenes; the video UNet is the image UNet, frozen, plus a motion module trained
on moving-disc videos (AnimateDiff's recipe). Loss: plain v-prediction MSE over uniform timesteps, as Stable
Diffusion 2's v-models were trained (min-SNR weighting, tried, gave cleaner images but a model that relies
less on the low-frequency signal leak at t ≈ 999, the behaviour FreeInit is about); Adam with warm-up and
cosine decay; the exponential moving average of the weights is what gets sampled.

Trained weights go to ``<cache>/<key>/`` where the key hashes this package's training code, the plan, the
seed and the torch version, so a second run loads them and any change retrains.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from . import scenes, schedule, unet
from .scenes import random_images, random_videos
from .schedule import TRAIN_STEPS, diffuse
from .unet import TinyUNet

CACHE_ENV = "TEMPORAL_NOISE_QUALITY_CACHE"
DEFAULT_CACHE = Path.home() / ".cache" / "comfyui-temporal-noise" / "quality"


@dataclass(frozen=True)
class TrainingPlan:
    """How long and how to train both models; part of the cache key."""

    image_steps: int = 1200
    video_steps: int = 800
    image_batch: int = 32  # images per step
    video_batch: int = 4  # videos per step (× 8 frames)
    learning_rate: float = 3e-3
    warmup: int = 50
    ema_decay: float = 0.995
    seed: int = 0


Objective = Callable[[torch.Tensor, torch.Tensor, int, torch.Generator],
                     tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (x0, noise, frames) -> input, t, target


FULL_PLAN = TrainingPlan()
CI_PLAN = TrainingPlan(image_steps=1000, video_steps=400)  # the reduced test's models: less training


@dataclass
class Models:
    image: TinyUNet
    video: TinyUNet


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``override``, else $TEMPORAL_NOISE_QUALITY_CACHE, else ~/.cache/…/quality."""
    if override is not None:
        return Path(override)
    return Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else DEFAULT_CACHE


def cache_key(plan: TrainingPlan) -> str:
    """SHA-256 (first 16 hex digits) of the training code, the plan and the torch version."""
    digest = hashlib.sha256()
    for module in (scenes, schedule, unet):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(repr(sorted(asdict(plan).items())).encode())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:16]


def v_prediction_pair(x0: torch.Tensor, noise: torch.Tensor, frames: int,
                      generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training input x_t, timesteps and v target, one uniform timestep per group of ``frames`` items."""
    timesteps = torch.randint(0, TRAIN_STEPS, (x0.shape[0] // frames,), generator=generator)
    timesteps = timesteps.repeat_interleave(frames)
    x_t, target = diffuse(x0, noise, timesteps)
    return x_t, timesteps, target


def train(model: TinyUNet, parameters: list[torch.nn.Parameter], batches: Iterator[torch.Tensor], steps: int,
          frames: int, plan: TrainingPlan, generator: torch.Generator, log: Callable[[str], None],
          name: str, objective: Objective = v_prediction_pair) -> TinyUNet:
    """Optimise ``parameters`` of ``model`` for ``steps`` steps on ``objective``'s pairs; return the EMA copy
    (eval mode)."""
    average = copy.deepcopy(model).requires_grad_(False)
    optimiser = torch.optim.Adam(parameters, lr=plan.learning_rate)

    def rate(step: int) -> float:
        if step < plan.warmup:
            return (step + 1) / plan.warmup
        return 0.5 * (1 + math.cos(math.pi * (step - plan.warmup) / max(1, steps - plan.warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    started, running = time.perf_counter(), None
    for step in range(steps):
        x0 = next(batches)
        noise = torch.randn(x0.shape, generator=generator)
        x_t, timesteps, target = objective(x0, noise, frames, generator)
        loss = (model(x_t, timesteps, frames) - target).pow(2).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        scheduler.step()
        decay = min(plan.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for kept, current in zip(average.parameters(), model.parameters(), strict=True):
                kept.lerp_(current, 1 - decay)
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if (step + 1) % 250 == 0 or step + 1 == steps:
            elapsed = time.perf_counter() - started
            log(f"  {name} step {step + 1}/{steps}: loss {running:.4f}, {elapsed:.0f} s")
    return average.eval()


def image_batches(plan: TrainingPlan, generator: torch.Generator) -> Iterator[torch.Tensor]:
    while True:
        yield random_images(plan.image_batch, generator)


def video_batches(plan: TrainingPlan, generator: torch.Generator) -> Iterator[torch.Tensor]:
    while True:  # [B, 3, T, H, W] → frames [B·T, 3, H, W]
        yield random_videos(plan.video_batch, generator).transpose(1, 2).flatten(0, 1)


def train_image(plan: TrainingPlan, generator: torch.Generator, log: Callable[[str], None]) -> TinyUNet:
    """The image UNet trained on still scenes."""
    image = TinyUNet()
    return train(image, list(image.parameters()), image_batches(plan, generator), plan.image_steps, 1, plan,
                 generator, log, "image UNet")


def train_video(image: TinyUNet, plan: TrainingPlan, generator: torch.Generator,
                log: Callable[[str], None]) -> TinyUNet:
    """The frozen image UNet plus a motion module trained on moving-disc videos."""
    video = TinyUNet(temporal=True)
    missing, unexpected = video.load_state_dict(image.state_dict(), strict=False)
    if unexpected or not all(key.startswith("motion.") for key in missing):
        raise RuntimeError(f"image weights do not fit the video UNet: {unexpected or missing}")
    video.requires_grad_(False)
    motion = list(video.motion.parameters())
    for parameter in motion:
        parameter.requires_grad_(True)
    video = train(video, motion, video_batches(plan, generator), plan.video_steps, scenes.FRAMES, plan,
                  generator, log, "video UNet motion module")
    return video.requires_grad_(False)


def train_models(plan: TrainingPlan, log: Callable[[str], None] = print) -> Models:
    """Train the image UNet, then the motion module of the video UNet on top of it."""
    torch.manual_seed(plan.seed)
    generator = torch.Generator().manual_seed(plan.seed)
    image = train_image(plan, generator, log)
    return Models(image=image, video=train_video(image, plan, generator, log))


def load_or_train(plan: TrainingPlan, folder: Path, log: Callable[[str], None] = print) -> Models:
    """The models of ``plan`` from ``folder``/<key>, training and saving them first if absent."""
    target = folder / cache_key(plan)
    paths = {name: target / f"{name}.pt" for name in ("image", "video")}
    if all(path.exists() for path in paths.values()):
        log(f"models: cached in {target}")
        image, video = TinyUNet(), TinyUNet(temporal=True)
        image.load_state_dict(torch.load(paths["image"], weights_only=True))
        video.load_state_dict(torch.load(paths["video"], weights_only=True))
        return Models(image=image.eval().requires_grad_(False), video=video.eval().requires_grad_(False))
    log(f"models: training (cache {target})")
    models = train_models(plan, log)
    target.mkdir(parents=True, exist_ok=True)
    for name, model in (("image", models.image), ("video", models.video)):
        partial = paths[name].with_suffix(".tmp")
        torch.save(model.state_dict(), partial)
        partial.replace(paths[name])
    return models
