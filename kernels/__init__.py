"""Pure-torch core of the pack: FreeInit and integral noise warping. No ComfyUI import here."""

from .freeinit.diffusion import (
    FLOW_SIGMA_MAX,
    PARAMETRISATIONS,
    forward_diffuse,
    noise_for_state,
    partial_schedule,
    sigma_for_signal_fraction,
    signal_fraction,
)
from .freeinit.lowpass import FILTER_KINDS, LowPassFilter
from .freeinit.passes import freeinit, iteration_seed, iteration_steps, reinitialise, seeded_noise
from .freeinit.spectral_mix import spectral_mix
from .layout import frame_count, time_axis
from .motion.flow_maps import (
    identity_map,
    map_from_backward_flow,
    map_from_forward_flow,
    occlusion_from_flows,
    resize_flow,
    sample_bilinear,
)
from .video.latent_geometry import compress_time, degrade, latent_frame_count, pool_to_latent
from .warp.counter_rng import frame_noise
from .warp.grid import warp_grid
from .warp.hiwyn import warp_hiwyn, warp_hiwyn_upsampled
from .warp.particle import warp_particle
from .warp.sequence import METHODS as WARP_METHODS
from .warp.sequence import FrameStep, warp_noise_sequence
from .warp.workspace import Workspace

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
    "partial_schedule",
    "pool_to_latent",
    "reinitialise",
    "resize_flow",
    "sample_bilinear",
    "seeded_noise",
    "sigma_for_signal_fraction",
    "signal_fraction",
    "spectral_mix",
    "time_axis",
    "warp_grid",
    "warp_hiwyn",
    "warp_hiwyn_upsampled",
    "warp_noise_sequence",
    "warp_particle",
]
