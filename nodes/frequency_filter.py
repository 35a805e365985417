"""Frequency Filter node: choose FreeInit's spatio-temporal low-pass filter and look at it."""

from __future__ import annotations

import torch

from ..kernels import FILTER_KINDS, LowPassFilter
from .validation import checks_widget_inputs

FILTER_TYPE = "FREEINIT_FILTER"


def filter_preview(lowpass: LowPassFilter, frames: int, size: int) -> torch.Tensor:
    """IMAGE ``[1, size, 2·size + 4, 3]``: the spatial slice (left) and the temporal slice (right), DC centred."""
    spatial, temporal = lowpass.centred_slices(frames, size, size)
    temporal = torch.nn.functional.interpolate(temporal[None, None], size=(size, size), mode="nearest")[0, 0]
    gap = torch.full((size, 4), 0.5)
    picture = torch.cat([spatial, gap, temporal], dim=1)
    return picture[None, :, :, None].expand(-1, -1, -1, 3).contiguous()


@checks_widget_inputs
class FreeInitFrequencyFilter:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "filter_type": (list(FILTER_KINDS), {"default": "gaussian", "tooltip": (
                    "Low-pass filter shape. gaussian: the paper's default (smooth, may over-smooth motion). "
                    "butterworth: the authors' demo choice, between gaussian and ideal. ideal: sharp cut, "
                    "can ring. box: keeps a rectangular block of frequencies.")}),
                "d_s": ("FLOAT", {"default": 0.25, "min": 0.01, "max": 1.0, "step": 0.01, "tooltip": (
                    "Spatial cutoff as a fraction of the Nyquist frequency. Lower keeps less of the previous "
                    "result's layout; the paper uses 0.25.")}),
                "d_t": ("FLOAT", {"default": 0.25, "min": 0.01, "max": 1.0, "step": 0.01, "tooltip": (
                    "Temporal cutoff as a fraction of the Nyquist frequency (across frames); the paper uses "
                    "0.25.")}),
                "order": ("INT", {"default": 4, "min": 1, "max": 32, "tooltip": (
                    "Butterworth order n: higher is sharper (towards ideal). Ignored by the other filters. "
                    "The authors' demo uses 4.")}),
                "preview_frames": ("INT", {"default": 16, "min": 1, "max": 256, "tooltip": (
                    "Frame count of the preview's temporal slice; the filter itself adapts to the latent.")}),
                "preview_size": ("INT", {"default": 64, "min": 8, "max": 512, "step": 8, "tooltip": (
                    "Height and width of the preview, in frequency bins.")}),
            }
        }

    RETURN_TYPES = (FILTER_TYPE, "IMAGE")
    RETURN_NAMES = ("filter", "preview")
    OUTPUT_TOOLTIPS = (
        "The low-pass filter, for FreeInit Sampler and Noise Reinit.",
        "Left: gain over spatial frequencies (f_h × f_w) at temporal DC. Right: gain over temporal × "
        "horizontal frequencies (f_t × f_w). White = kept from the previous result, black = fresh noise.",
    )
    FUNCTION = "build"
    CATEGORY = "temporal_noise/freeinit"
    DESCRIPTION = (
        "FreeInit's spatio-temporal low-pass filter (Wu et al. 2023). Low frequencies of the re-noised "
        "previous result are kept, high frequencies come from fresh noise. Centred exactly on DC for odd and "
        "even sizes; a single frame keeps the spatial low-pass."
    )

    def build(self, filter_type, d_s, d_t, order, preview_frames, preview_size):
        lowpass = LowPassFilter(filter_type, d_s, d_t, order)
        return (lowpass, filter_preview(lowpass, preview_frames, preview_size))


NODE_CLASS_MAPPINGS = {"TemporalNoiseFrequencyFilter": FreeInitFrequencyFilter}
NODE_DISPLAY_NAME_MAPPINGS = {"TemporalNoiseFrequencyFilter": "Frequency Filter"}
