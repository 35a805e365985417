"""Pure-torch core of the pack: FreeInit and integral noise warping. No ComfyUI import here."""

from .counter_rng import frame_noise
from .diffusion import FLOW_SIGMA_MAX, PARAMETRISATIONS, forward_diffuse, noise_for_state, signal_fraction
from .flow_maps import (
    identity_map,
    map_from_backward_flow,
    map_from_forward_flow,
    occlusion_from_flows,
    resize_flow,
    sample_bilinear,
)
from .freeinit import freeinit, iteration_seed, iteration_steps, reinitialise, seeded_noise
from .hiwyn import warp_hiwyn, warp_hiwyn_upsampled
from .latent_geometry import compress_time, degrade, latent_frame_count, pool_to_latent
from .layout import frame_count, time_axis
from .lowpass import FILTER_KINDS, LowPassFilter
from .noise_warp import METHODS as WARP_METHODS
from .noise_warp import FrameStep, warp_noise_sequence
from .spectral_mix import spectral_mix
from .warp_grid import warp_grid
from .warp_particle import warp_particle
from .workspace import Workspace

__all__ = [
    "FILTER_KINDS",
    "FLOW_SIGMA_MAX",
    "PARAMETRISATIONS",
    "WARP_METHODS",
    "FrameStep",
    "LowPassFilter",
    "Workspace",
    "compress_time",
    "degrade",
    "forward_diffuse",
    "frame_count",
    "frame_noise",
    "freeinit",
    "identity_map",
    "iteration_seed",
    "iteration_steps",
    "latent_frame_count",
    "map_from_backward_flow",
    "map_from_forward_flow",
    "noise_for_state",
    "occlusion_from_flows",
    "pool_to_latent",
    "reinitialise",
    "resize_flow",
    "sample_bilinear",
    "seeded_noise",
    "signal_fraction",
    "spectral_mix",
    "time_axis",
    "warp_grid",
    "warp_hiwyn",
    "warp_hiwyn_upsampled",
    "warp_noise_sequence",
    "warp_particle",
]
