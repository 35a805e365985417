"""Noise Reinit node: one FreeInit reinitialisation as a NOISE, to build the loop with SamplerCustomAdvanced."""

from __future__ import annotations

import logging
import math

import torch

from ..kernels import (
    FLOW_SIGMA_MAX,
    LowPassFilter,
    iteration_seed,
    noise_for_state,
    partial_schedule,
    reinitialise,
    seeded_noise,
)
from .comfy_model import (
    KEEP_INPUT,
    is_max_denoise,
    parametrisation,
    reinit_sigma,
    to_model_space,
    warn_about_noise_conflicts,
    warn_if_reinit_keeps_little,
)
from .frequency_filter import FILTER_TYPE
from .noise import TensorNoise
from .sampler_latent import refuse_nested, sampler_latent
from .validation import check_latent, check_noise, checks_widget_inputs


@checks_widget_inputs
class FreeInitNoiseReinit:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "model": ("MODEL", {"tooltip": "The model of the next pass (for its schedule and latent space)."}),
                "samples": ("LATENT", {"tooltip": "The clean result of the previous pass (a sampler's output)."}),
                "sigmas": ("SIGMAS", {"tooltip": (
                    "The schedule of the next pass: the result is re-noised to its first sigma, or lower as "
                    "keep_percent sets; give the next sampler this node's sigmas output.")}),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True,
                                 "tooltip": (
                    "The first pass's noise seed. Without initial_noise the re-noising uses ComfyUI's noise of "
                    "this seed (= RandomNoise with this seed); without fresh_noise the high frequencies come from "
                    "a seed derived from it and the iteration, as in FreeInit Sampler.")}),
                "iteration": ("INT", {"default": 1, "min": 1, "max": 100, "tooltip": (
                    "Which reinitialisation this is (1 before the second pass, 2 before the third, ...): picks "
                    "the fresh noise seed, so a hand-built loop reproduces FreeInit Sampler.")}),
            },
            "optional": {
                "filter": (FILTER_TYPE, {"tooltip": "Low-pass filter. Default: gaussian, d_s = d_t = 0.25."}),
                "latent_image": ("LATENT", {"tooltip": (
                    "The latent the next pass starts from (the latent_image of its sampler). Default: an empty "
                    "latent. Needed for partial denoise of an input video.")}),
                "initial_noise": ("NOISE", {"tooltip": (
                    "The noise the first pass started from; FreeInit re-noises every pass with it.")}),
                "fresh_noise": ("NOISE", {"tooltip": "Where the high frequencies come from. Default: seeded noise."}),
                "keep_percent": KEEP_INPUT,
            },
        }

    RETURN_TYPES = ("NOISE", "LATENT", "SIGMAS")
    RETURN_NAMES = ("noise", "noise_latent", "sigmas")
    OUTPUT_TOOLTIPS = (
        "NOISE for SamplerCustomAdvanced: starts the next pass from the reinitialised latent.",
        "The same noise as a LATENT (unscaled), to preview or add by hand.",
        "The next pass's schedule from the re-noise level on (the input sigmas below it, after it): give it to "
        "the sampler that takes this noise (with a Wan 2.2 split: the high-noise part's sampler).",
    )
    FUNCTION = "reinit"
    CATEGORY = "temporal_noise/freeinit"
    DESCRIPTION = (
        "One FreeInit noise reinitialisation (Wu et al. 2023): re-noise the previous pass's result with the "
        "initial noise to the start of the next schedule (flow models: to the level keep_percent sets, with the "
        "schedule from there as the sigmas output), keep its low spatio-temporal frequencies, take the high "
        "ones from fresh noise. Chain SamplerCustomAdvanced → Noise Reinit → SamplerCustomAdvanced to build "
        "FreeInit by hand."
    )

    def reinit(self, model, samples, sigmas, seed, iteration, filter=None, latent_image=None, initial_noise=None,
               fresh_noise=None, keep_percent=0.0):
        import comfy.sample

        lowpass = filter if filter is not None else LowPassFilter()
        warn_about_noise_conflicts("Noise Reinit", model)
        refuse_nested(samples["samples"], "samples")
        x0 = to_model_space(model, check_latent(samples["samples"], "samples"))
        start = latent_image if latent_image is not None else {"samples": torch.zeros_like(samples["samples"])}
        latent = sampler_latent(model, start, "latent_image")
        check_noise(latent, x0, "latent_image")
        if sigmas.ndim != 1 or len(sigmas) < 2 or not (float(sigmas[0]) > 0 and math.isfinite(float(sigmas[0]))):
            raise ValueError(f"sigmas must be a schedule of at least 2 values starting at a finite sigma above 0, "
                             f"got {sigmas.tolist()}")
        first_sigma = float(sigmas[0])
        kind = parametrisation(model)
        if kind == "flow" and first_sigma > FLOW_SIGMA_MAX:
            raise ValueError(f"sigmas start at {first_sigma:.6g} but this flow model's sigmas lie in (0, 1]: use a "
                             f"schedule made for this model")
        sigma = reinit_sigma(first_sigma, kind, keep_percent)
        if sigma < float(sigmas[-1]):
            raise ValueError(f"keep_percent {keep_percent:g} puts the re-noise level (sigma {sigma:.4g}) below the end "
                             f"of these sigmas ({float(sigmas[-1]):.4g}, the high-noise part of a split schedule): "
                             f"that part has nothing to sample. Give this node the low-noise part's sigmas and skip "
                             f"the high-noise sampler in this pass, or lower keep_percent")
        if latent_image is None and not is_max_denoise(model, first_sigma):
            logging.warning("[TemporalNoise] Noise Reinit: sigmas start at %.6g, below the model's largest sigma "
                            "(partial denoise), but latent_image is not connected: the noise is computed for an "
                            "empty latent. Connect the latent the next pass starts from.", first_sigma)

        if initial_noise is None:
            eps = comfy.sample.prepare_noise(latent, seed, start.get("batch_index"))
        else:
            eps = initial_noise.generate_noise({**start, "samples": latent})
        eta = (seeded_noise(latent, iteration_seed(seed, iteration)) if fresh_noise is None
               else fresh_noise.generate_noise({**start, "samples": latent}))
        eps = check_noise(eps, x0, "initial_noise").float()
        eta = check_noise(eta, x0, "fresh_noise").float()

        warn_if_reinit_keeps_little("Noise Reinit", sigma, kind)
        z = reinitialise(x0, eps, eta, sigma, kind, lowpass)
        noise = noise_for_state(z, sigma, kind, to_model_space(model, latent), is_max_denoise(model, sigma))
        return TensorNoise(noise, seed, "Noise Reinit"), {"samples": noise}, partial_schedule(sigmas, sigma)


NODE_CLASS_MAPPINGS = {"TemporalNoiseNoiseReinit": FreeInitNoiseReinit}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseNoiseReinit": "Noise Reinit"}
