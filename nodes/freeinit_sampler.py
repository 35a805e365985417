"""FreeInit Sampler node: KSampler with FreeInit's noise reinitialisation loop (Wu et al. 2023)."""

from __future__ import annotations

import torch

from ..kernels import (
    LowPassFilter,
    freeinit,
    iteration_seed,
    iteration_steps,
    noise_for_state,
    partial_schedule,
    seeded_noise,
)
from .comfy_model import (
    KEEP_INPUT,
    freeinit_passes,
    is_max_denoise,
    parametrisation,
    reinit_sigma,
    schedule,
    to_model_space,
    warn_about_noise_conflicts,
    warn_if_reinit_keeps_little,
)
from .frequency_filter import FILTER_TYPE
from .progress import Progress
from .sampler_latent import sampler_latent, sampler_output
from .validation import check_noise, checks_widget_inputs


def sampler_inputs() -> dict:
    """KSampler's inputs in KSampler's order, so the node can replace it in a graph."""
    import comfy.samplers

    return {
        "model": ("MODEL", {"tooltip": "The model to sample with (ADE-patched AnimateDiff models included)."}),
        "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF, "control_after_generate": True,
                         "tooltip": "Seed of the initial noise (as KSampler) and of every pass's fresh noise."}),
        "steps": ("INT", {"default": 20, "min": 1, "max": 10000, "tooltip": "Sampling steps of each full pass."}),
        "cfg": ("FLOAT", {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01,
                          "tooltip": "Classifier-free guidance scale."}),
        "sampler_name": (comfy.samplers.KSampler.SAMPLERS, {"tooltip": "The sampling algorithm."}),
        "scheduler": (comfy.samplers.KSampler.SCHEDULERS, {"tooltip": "How the noise levels are spaced."}),
        "positive": ("CONDITIONING", {"tooltip": "Positive conditioning (ControlNet included)."}),
        "negative": ("CONDITIONING", {"tooltip": "Negative conditioning."}),
        "latent_image": ("LATENT", {"tooltip": "The latent to sample: [frames, C, H, W] or [B, C, T, H, W]."}),
        "denoise": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.01, "tooltip": (
            "Fraction of the schedule to run; below 1 the first pass starts from the partially noised input, "
            "later passes from the previous result re-noised to the same level.")}),
    }


@checks_widget_inputs
class FreeInitSampler:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                **sampler_inputs(),
                "iterations": ("INT", {"default": 0, "min": 0, "max": 20, "tooltip": (
                    "Sampling passes in all (1 = plain KSampler); 0 = the model's default: the paper's 5 on "
                    "SD-based models, 3 on flow models such as Wan, where more passes cost motion. The authors' "
                    "demo: 3 with butterworth, n = 4. Gains level off after 2-3 reinitialisations.")}),
                "coarse_to_fine": ("BOOLEAN", {"default": False, "tooltip": (
                    "Fast sampling (paper Sec. 4.4): pass i of N runs ⌊steps·(i+1)/N⌋ steps, so only the last "
                    "pass runs all of them (5 passes of 25 steps cost 75 steps instead of 125).")}),
            },
            "optional": {
                "filter": (FILTER_TYPE, {"tooltip": (
                    "Low-pass filter from a Frequency Filter node. Default: gaussian, d_s = d_t = 0.25.")}),
                "initial_noise": ("NOISE", {"tooltip": (
                    "Noise of the first pass (e.g. warped noise from Integral Noise Warp). Default: ComfyUI's "
                    "noise from the seed, as KSampler makes it. Every reinitialisation re-noises with it, but "
                    "takes the high frequencies from fresh_noise.")}),
                "fresh_noise": ("NOISE", {"tooltip": (
                    "Where every reinitialisation takes its high frequencies (the same noise each pass). "
                    "Default: seeded noise, new each pass and independent per frame; with warped initial "
                    "noise, connect a second Integral Noise Warp (another seed) so the fine detail keeps "
                    "following the motion.")}),
                "keep_percent": KEEP_INPUT,
            },
        }

    RETURN_TYPES = ("LATENT", "LATENT")
    RETURN_NAMES = ("latent", "all_iterations")
    OUTPUT_TOOLTIPS = (
        "The result of the last pass.",
        "Every pass's result side by side along the width (pass 1 on the left), to decode and compare.",
    )
    FUNCTION = "sample"
    CATEGORY = "temporal_noise/freeinit"
    DESCRIPTION = (
        "KSampler with FreeInit (Wu et al. 2023): after each pass the result is diffused back with the same "
        "initial noise (to the start of the schedule, or on flow models to the level set by keep_percent); its "
        "low spatio-temporal frequencies are kept and the high ones replaced by fresh noise, then the schedule "
        "is sampled again from that level. Improves temporal consistency of AnimateDiff "
        "and video models. Works with ADE-patched models, ControlNet, EPS/V/flow models and 4-D or 5-D latents."
    )

    def sample(self, model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise,
               iterations, coarse_to_fine, filter=None, initial_noise=None, fresh_noise=None, keep_percent=0.0):
        import comfy.sample
        import comfy.utils
        import latent_preview

        if not denoise > 0:
            raise ValueError(f"denoise must be > 0 (with 0 there is nothing to sample), got {denoise}")
        lowpass = filter if filter is not None else LowPassFilter()
        warn_about_noise_conflicts("FreeInit Sampler", model)

        latent = sampler_latent(model, latent_image, "latent_image")
        if initial_noise is None:
            noise = comfy.sample.prepare_noise(latent, seed, latent_image.get("batch_index"))
        else:
            noise = initial_noise.generate_noise({**latent_image, "samples": latent})
        noise = check_noise(noise, latent, "initial_noise")
        fixed_fresh = None if fresh_noise is None else check_noise(
            fresh_noise.generate_noise({**latent_image, "samples": latent}), latent, "fresh_noise").float()

        kind = parametrisation(model)
        iterations = freeinit_passes(iterations, kind)
        step_counts = iteration_steps(steps, iterations, coarse_to_fine)
        schedules = [schedule(model, n, sampler_name, scheduler, denoise) for n in step_counts]
        reinit_sigmas = [reinit_sigma(float(sigmas[0]), kind, keep_percent) for sigmas in schedules]
        pass_sigmas = [schedules[0]] + [partial_schedule(sigmas, sigma)  # later passes restart at the level
                                        for sigmas, sigma in zip(schedules[1:], reinit_sigmas[1:], strict=True)]
        latent_in = to_model_space(model, latent)
        progress = Progress(sum(len(sigmas) - 1 for sigmas in pass_sigmas))
        previewer = latent_preview.get_previewer(model.load_device, model.model.latent_format)
        results = []

        def sample_pass(start: torch.Tensor, pass_steps: int, i: int) -> torch.Tensor:
            sigma = float(pass_sigmas[i][0])
            if i > 0:
                start = noise_for_state(start, sigma, kind, latent_in, is_max_denoise(model, sigma))
            offset = progress.done

            def callback(step, x0, x, total_steps):
                preview = previewer.decode_latent_to_preview_image("JPEG", x0) if previewer else None
                progress.advance_to(offset + step + 1, preview)

            progress.advance(0)  # honours Cancel between passes
            samples = comfy.sample.sample(  # a copy: samplers may write into the noise (core's FreeNoise does)
                model, start.to("cpu", torch.float32, copy=True), pass_steps, cfg, sampler_name, scheduler, positive,
                negative, latent, denoise=denoise, noise_mask=latent_image.get("noise_mask"), callback=callback,
                disable_pbar=not comfy.utils.PROGRESS_BAR_ENABLED, seed=seed, sigmas=pass_sigmas[i] if i else None)
            progress.advance_to(offset + pass_steps)
            results.append(samples)
            return to_model_space(model, samples)

        if iterations > 1:
            warn_if_reinit_keeps_little("FreeInit Sampler", reinit_sigmas[1], kind)

        def fresh(i: int) -> torch.Tensor:
            return seeded_noise(latent, iteration_seed(seed, i)) if fixed_fresh is None else fixed_fresh

        pass_steps = [len(sigmas) - 1 for sigmas in pass_sigmas]
        freeinit(sample_pass, noise.float(), pass_steps, fresh, reinit_sigmas, kind, lowpass)
        return (sampler_output(latent_image, results[-1]), {"samples": torch.cat(results, dim=-1)})


NODE_CLASS_MAPPINGS = {"TemporalNoiseFreeInitSampler": FreeInitSampler}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseFreeInitSampler": "FreeInit Sampler"}
