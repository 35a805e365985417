"""Pure-torch core of the pack: FreeInit and integral noise warping. No ComfyUI import here."""

from .diffusion import PARAMETRISATIONS, forward_diffuse, noise_for_state
from .freeinit import freeinit, iteration_seed, iteration_steps, reinitialise, seeded_noise
from .layout import frame_count, time_axis
from .lowpass import FILTER_KINDS, LowPassFilter
from .spectral_mix import spectral_mix

__all__ = [
    "FILTER_KINDS",
    "PARAMETRISATIONS",
    "LowPassFilter",
    "forward_diffuse",
    "frame_count",
    "freeinit",
    "iteration_seed",
    "iteration_steps",
    "noise_for_state",
    "reinitialise",
    "seeded_noise",
    "spectral_mix",
    "time_axis",
]
