"""A stand-in for the few ``comfy`` modules the nodes touch, for unit tests without ComfyUI.

The formulas (``noise_scaling``, ``prepare_noise``, ``max_denoise``, ``fix_empty_latent_channels``) are
ComfyUI 0.3.64's; ``use_033()`` switches to 0.33's APIs where they changed (``fix_empty_latent_channels`` with
the latent's downscale ratios, nested audio+video latents, the FreeNoise sampler wrapper of core context
windows). The "model" is a deterministic function. Real behaviour is checked by the integration tests against
a real ComfyUI.
"""

from __future__ import annotations

import math
import sys
import types
from typing import ClassVar

import torch

MODULES = ("comfy", "comfy.utils", "comfy.model_management", "comfy.samplers", "comfy.sample",
           "comfy.model_sampling", "comfy.nested_tensor", "latent_preview")


class ProgressBar:
    instances: ClassVar[list[ProgressBar]] = []

    def __init__(self, total: int) -> None:
        self.total = total
        self.updates: list[tuple[int, int]] = []
        ProgressBar.instances.append(self)

    def update_absolute(self, value: int, total: int | None = None, preview=None) -> None:
        self.updates.append((value, self.total if total is None else total))


class InterruptProcessingException(Exception):
    pass


class EPS:
    sigma_max = 14.614642

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        return noise * (math.sqrt(1.0 + sigma**2) if max_denoise else sigma) + latent_image

    def percent_to_sigma(self, percent):
        return self.sigma_max * (1.0 - percent)


class CONST:
    sigma_max = 1.0

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        scale = getattr(self, "noise_scale", 1.0)  # 0.33's ModelSamplingDiscreteFlow sets it; 0.3.64 has none
        return sigma * (scale * noise) + (1.0 - sigma) * latent_image

    def percent_to_sigma(self, percent):
        shift = 3.0
        t = 1.0 - percent
        return shift * t / (1 + (shift - 1) * t)


class V_PREDICTION(EPS):
    pass


class EDM(V_PREDICTION):
    pass


class X0(EPS):
    pass


class IMG_TO_IMG(X0):
    """Lotus: an image-to-image predictor on a discrete (σ up to 14.6) schedule."""


class V_PREDICTION_DDPM:
    """CogVideoX (0.33): not an EPS subclass, but EPS's noise_scaling."""

    sigma_max = EPS.sigma_max
    noise_scaling = EPS.noise_scaling
    percent_to_sigma = EPS.percent_to_sigma


class COSMOS_RFLOW:
    sigma_max = 80.0

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        return noise * sigma + latent_image


class IMG_TO_IMG_FLOW(CONST):
    """Wan FlowRVS (0.33): a CONST subclass on a discrete schedule whose noise_scaling ignores the noise."""

    sigma_max = EPS.sigma_max

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        return latent_image


class IMG_TO_IMG_VELOCITY(CONST):
    """After 0.33: another CONST subclass whose noise_scaling ignores the noise."""

    sigma_max = EPS.sigma_max

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        return latent_image


class ScheduleModule(torch.nn.Module):
    """Stands for core's schedules (ModelSamplingDiscrete, ...), which are torch modules."""


def composite_sampling(prediction: type):
    """A model_sampling built as core builds it: ``class ModelSampling(schedule, prediction)``."""
    return type("ModelSampling", (ScheduleModule, prediction), {})()


class LatentFormat:
    """``comfy.latent_formats.LatentFormat``: SD1.5's values unless a subclass says otherwise."""

    latent_channels = 4
    latent_dimensions = 2
    spacial_downscale_ratio = 8
    temporal_downscale_ratio = 1

    def fix_empty_latent(self, latent):
        return latent


class SD3(LatentFormat):
    latent_channels = 16


class Wan21(LatentFormat):
    latent_channels = 16
    latent_dimensions = 3
    temporal_downscale_ratio = 4


class Wan22(Wan21):
    latent_channels = 48
    spacial_downscale_ratio = 16


class MiniMaxH3AV(LatentFormat):
    """0.33: an empty video latent becomes a nested (video, audio) latent in ``fix_empty_latent``."""

    latent_channels = 32
    latent_dimensions = 3
    spacial_downscale_ratio = 16
    temporal_downscale_ratio = 4

    def fix_empty_latent(self, latent):
        audio = latent.new_zeros((latent.shape[0], 32, 2, 5 * latent.shape[2]))
        return NestedTensor((latent[:, :24].clone(), audio))


class NestedTensor:
    """``comfy.nested_tensor.NestedTensor`` (0.33): a list of tensors, its shape the first one's."""

    is_nested = True

    def __init__(self, tensors) -> None:
        self.tensors = list(tensors)

    def unbind(self):
        return self.tensors

    @property
    def shape(self):
        return self.tensors[0].shape

    @property
    def ndim(self):
        return max(t.ndim for t in self.tensors)

    @property
    def dtype(self):
        return self.tensors[0].dtype


class ContextHandler:
    """``comfy.context_windows.IndexListContextHandler``'s FreeNoise settings, on ``model_options``."""

    def __init__(self, freenoise: bool, context_length: int = 2, context_overlap: int = 1, dim: int = 2) -> None:
        self.freenoise, self.context_length, self.context_overlap, self.dim = (freenoise, context_length,
                                                                               context_overlap, dim)

    def shuffle(self, noise: torch.Tensor, seed: int) -> None:
        """FreeNoise as core applies it: frames after the first window overwritten, in place, with
        shuffled earlier frames."""
        generator = torch.Generator().manual_seed(seed)
        frames, step = noise.shape[self.dim], self.context_length - self.context_overlap
        for start in range(0, frames - self.context_length, step):
            place = start + self.context_length
            count = min(step, frames - place)
            source = torch.randperm(count, generator=generator) + start
            noise.narrow(self.dim, place, count).copy_(noise.index_select(self.dim, source))


class FakeModel:
    """A MODEL whose sampling is EPS or CONST and whose latent space is scaled by 0.18215 (as SD1.5); its
    latent format is SD1.5's unless given; ``context_handler`` is core context windows' handler."""

    load_device = "cpu"

    def __init__(self, sampling=None, attachments=None, latent_format=None, context_handler=None) -> None:
        self.sampling = sampling if sampling is not None else EPS()
        self.attachments = attachments or {}
        self.model = types.SimpleNamespace(latent_format=latent_format or LatentFormat())
        self.model_options = {} if context_handler is None else {"context_handler": context_handler}

    def get_model_object(self, name):
        if name == "model_sampling":
            return self.sampling
        if name == "process_latent_in":
            return lambda x: x * 0.18215
        if name == "latent_format":
            return self.model.latent_format
        raise KeyError(name)

    def get_attachment(self, key):
        return self.attachments.get(key)


class KSampler:
    SAMPLERS: ClassVar[list[str]] = ["euler", "ddim"]
    SCHEDULERS: ClassVar[list[str]] = ["normal", "karras"]

    def __init__(self, model, steps, device, sampler=None, scheduler=None, denoise=1.0, model_options=None):
        top = model.sampling.sigma_max
        full = max(1, int(steps / denoise))
        sigmas = torch.linspace(top, 0.0, full + 1)
        self.sigmas = sigmas[-(steps + 1):]


SAMPLE_CALLS: list[dict] = []


def _sample(model, noise, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=1.0,
           noise_mask=None, callback=None, disable_pbar=False, seed=None, sigmas=None, **kwargs):
    """A deterministic 'sampler': the start state through a fixed smooth map, with step callbacks; ``sigmas``
    replaces the schedule of ``steps`` and ``denoise`` (as in ComfyUI)."""
    sigmas = KSampler(model, steps, "cpu", denoise=denoise).sigmas if sigmas is None else sigmas
    steps = len(sigmas) - 1
    sigma = float(sigmas[0])
    max_denoise = math.isclose(model.sampling.sigma_max, sigma, rel_tol=1e-5) or sigma > model.sampling.sigma_max
    latent_in = latent_image * 0.18215 if torch.count_nonzero(latent_image) else latent_image
    handed = noise.clone()
    noise = noise.to("cpu", torch.float32)  # as core's outer_sample: the same tensor for CPU float32 noise
    handler = model.model_options.get("context_handler")
    if handler is not None and handler.freenoise:
        handler.shuffle(noise, seed)
    state = model.sampling.noise_scaling(sigma, noise, latent_in, max_denoise)
    SAMPLE_CALLS.append({"noise": handed, "steps": steps, "state": state, "seed": seed, "sigmas": sigmas})
    for step in range(steps):
        if callback is not None:
            callback(step, state, state, steps)
    return torch.tanh(state / (1.0 + sigma)) / 0.18215


def prepare_noise(latent_image, seed, noise_inds=None):
    generator = torch.manual_seed(seed)
    return torch.randn(latent_image.size(), dtype=latent_image.dtype, generator=generator, device="cpu")


def prepare_noise_033(latent_image, seed, noise_inds=None):
    """0.33: a nested latent gets one noise per stream, from one generator in stream order."""
    if not latent_image.is_nested:
        return prepare_noise(latent_image, seed, noise_inds)
    generator = torch.manual_seed(seed)
    return NestedTensor([torch.randn(t.shape, generator=generator).to(t.dtype) for t in latent_image.unbind()])


def repeat_to_batch_size(tensor, batch_size, dim=0):
    """``comfy.utils.repeat_to_batch_size``: cut or tile ``tensor`` along ``dim`` to ``batch_size``."""
    if tensor.shape[dim] >= batch_size:
        return tensor.narrow(dim, 0, batch_size)
    tiles = [1] * tensor.ndim
    tiles[dim] = math.ceil(batch_size / tensor.shape[dim])
    return tensor.repeat(tiles).narrow(dim, 0, batch_size)


def fix_empty_latent_channels(model, latent_image):
    """0.3.64: an empty latent gets the model's channels; a 4-D latent of a video model a frame axis."""
    latent_format = model.get_model_object("latent_format")
    if latent_format.latent_channels != latent_image.shape[1] and torch.count_nonzero(latent_image) == 0:
        latent_image = repeat_to_batch_size(latent_image, latent_format.latent_channels, dim=1)
    if latent_format.latent_dimensions == 3 and latent_image.ndim == 4:
        latent_image = latent_image.unsqueeze(2)
    return latent_image


def fix_empty_latent_channels_033(model, latent_image, downscale_ratio_spacial=None, downscale_ratio_temporal=None):
    """0.33: an empty latent is also resized from the grid it was made for (its downscale ratios) to the
    model's, and handed to the latent format's ``fix_empty_latent``; nested latents are left alone."""
    if latent_image.is_nested:
        return latent_image
    latent_format = model.get_model_object("latent_format")
    empty = torch.count_nonzero(latent_image) == 0
    if empty:
        latent_image = repeat_to_batch_size(latent_image, latent_format.latent_channels, dim=1)
        if downscale_ratio_spacial is not None:
            ratio = downscale_ratio_spacial / latent_format.spacial_downscale_ratio
            size = (round(latent_image.shape[-2] * ratio), round(latent_image.shape[-1] * ratio))
            latent_image = latent_image.new_zeros((*latent_image.shape[:-2], *size))  # nearest-exact of zeros
    if latent_format.latent_dimensions == 3 and latent_image.ndim == 4:
        latent_image = latent_image.unsqueeze(2)
    if empty and downscale_ratio_temporal is not None:
        ratio = downscale_ratio_temporal / latent_format.temporal_downscale_ratio
        latent_image = repeat_to_batch_size(latent_image, max(1, round(latent_image.shape[2] * ratio)), dim=2)
    return latent_format.fix_empty_latent(latent_image) if empty else latent_image


def use_033() -> None:
    """Switch the installed fakes to ComfyUI 0.33's APIs where they differ from 0.3.64's."""
    sys.modules["comfy.sample"].fix_empty_latent_channels = fix_empty_latent_channels_033
    sys.modules["comfy.sample"].prepare_noise = prepare_noise_033
    for name in ("V_PREDICTION_DDPM", "IMG_TO_IMG_FLOW"):
        setattr(sys.modules["comfy.model_sampling"], name, globals()[name])


def use_current() -> None:
    """ComfyUI after 0.33: 0.33's APIs and the IMG_TO_IMG_VELOCITY prediction type."""
    use_033()
    sys.modules["comfy.model_sampling"].IMG_TO_IMG_VELOCITY = IMG_TO_IMG_VELOCITY


def install() -> types.ModuleType:
    """Put the fake modules into ``sys.modules``, reset their records, return this helper module.

    The fakes are also reachable from here: ``utils``, ``model_management``, ``samplers``, ``sample``.
    """
    comfy = types.ModuleType("comfy")
    utils = types.ModuleType("comfy.utils")
    utils.ProgressBar = ProgressBar
    utils.PROGRESS_BAR_ENABLED = False
    management = types.ModuleType("comfy.model_management")
    management.interrupted = False
    management.InterruptProcessingException = InterruptProcessingException

    def throw_exception_if_processing_interrupted() -> None:
        if management.interrupted:
            management.interrupted = False
            raise InterruptProcessingException()

    management.throw_exception_if_processing_interrupted = throw_exception_if_processing_interrupted
    management.get_torch_device = lambda: torch.device("cpu")
    samplers = types.ModuleType("comfy.samplers")
    samplers.KSampler = KSampler
    sample_module = types.ModuleType("comfy.sample")
    sample_module.sample = _sample
    sample_module.prepare_noise = prepare_noise
    sample_module.fix_empty_latent_channels = fix_empty_latent_channels
    model_sampling = types.ModuleType("comfy.model_sampling")
    for prediction in (EPS, V_PREDICTION, EDM, CONST, X0, IMG_TO_IMG, COSMOS_RFLOW):  # 0.3.64's types
        setattr(model_sampling, prediction.__name__, prediction)
    nested = types.ModuleType("comfy.nested_tensor")
    nested.NestedTensor = NestedTensor
    previews = types.ModuleType("latent_preview")
    previews.get_previewer = lambda device, latent_format: None
    comfy.utils, comfy.model_management, comfy.samplers = utils, management, samplers
    comfy.sample, comfy.model_sampling, comfy.nested_tensor = sample_module, model_sampling, nested
    sys.modules.update(dict(zip(MODULES, (comfy, utils, management, samplers, sample_module, model_sampling,
                                          nested, previews), strict=True)))
    ProgressBar.instances.clear()
    SAMPLE_CALLS.clear()
    this = sys.modules[__name__]
    this.utils, this.model_management, this.samplers, this.sample = utils, management, samplers, sample_module
    return this
