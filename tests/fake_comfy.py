"""A stand-in for the few ``comfy`` modules the nodes touch, for unit tests without ComfyUI.

The formulas (``noise_scaling``, ``prepare_noise``, ``max_denoise``) are ComfyUI 0.3.64's; the "model" is a
deterministic function. Real behaviour is checked by the integration tests against a real ComfyUI.
"""

from __future__ import annotations

import math
import sys
import types
from typing import ClassVar

import torch

MODULES = ("comfy", "comfy.utils", "comfy.model_management", "comfy.samplers", "comfy.sample",
           "comfy.model_sampling", "latent_preview")


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
        return sigma * noise + (1.0 - sigma) * latent_image

    def percent_to_sigma(self, percent):
        shift = 3.0
        t = 1.0 - percent
        return shift * t / (1 + (shift - 1) * t)


class IMG_TO_IMG(EPS):
    pass


class FakeModel:
    """A MODEL whose sampling is EPS or CONST and whose latent space is scaled by 0.18215 (as SD1.5)."""

    load_device = "cpu"
    model_options: ClassVar[dict] = {}

    def __init__(self, sampling=None, attachments=None) -> None:
        self.sampling = sampling if sampling is not None else EPS()
        self.attachments = attachments or {}
        self.model = types.SimpleNamespace(latent_format=None)

    def get_model_object(self, name):
        if name == "model_sampling":
            return self.sampling
        if name == "process_latent_in":
            return lambda x: x * 0.18215
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
    state = model.sampling.noise_scaling(sigma, noise.float(), latent_in, max_denoise)
    SAMPLE_CALLS.append({"noise": noise.clone(), "steps": steps, "state": state, "seed": seed, "sigmas": sigmas})
    for step in range(steps):
        if callback is not None:
            callback(step, state, state, steps)
    return torch.tanh(state / (1.0 + sigma)) / 0.18215


def prepare_noise(latent_image, seed, noise_inds=None):
    generator = torch.manual_seed(seed)
    return torch.randn(latent_image.size(), dtype=latent_image.dtype, generator=generator, device="cpu")


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
    sample_module.fix_empty_latent_channels = lambda model, latent: latent
    model_sampling = types.ModuleType("comfy.model_sampling")
    model_sampling.EPS, model_sampling.CONST, model_sampling.IMG_TO_IMG = EPS, CONST, IMG_TO_IMG
    previews = types.ModuleType("latent_preview")
    previews.get_previewer = lambda device, latent_format: None
    comfy.utils, comfy.model_management, comfy.samplers = utils, management, samplers
    comfy.sample, comfy.model_sampling = sample_module, model_sampling
    sys.modules.update(dict(zip(MODULES, (comfy, utils, management, samplers, sample_module, model_sampling,
                                          previews), strict=True)))
    ProgressBar.instances.clear()
    SAMPLE_CALLS.clear()
    this = sys.modules[__name__]
    this.utils, this.model_management, this.samplers, this.sample = utils, management, samplers, sample_module
    return this
