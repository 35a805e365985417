"""The two video models as ComfyUI samples them: a list of noise levels per pass, in the kernels' σ.

* ``VPSampler``: the v-prediction video UNet, DDIM over integer timesteps (σ = √((1−ᾱ)/ᾱ)).
* ``FlowSampler``: the rectified-flow video UNet, Euler on the shifted schedule (``flow``).

``sample(start, sigmas)`` runs a pass through ``sigmas`` (ending at 0) from the unit-variance state ``start``
at ``sigmas[0]``; a list that jumps to 0 early stops the pass there with the model's clean estimate (both
samplers' last step is x₀), which is FreqPrior's partial sampling.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from temporal_noise.kernels import sigma_for_signal_fraction

from .flow import euler_sample, flow_sigmas, shifted
from .sampling import video_denoiser
from .schedule import ALPHAS_CUMPROD, TRAIN_STEPS, ddim_sample, ddim_timesteps, sigma_at
from .unet import TinyUNet

VP_SIGMAS = ((1 - ALPHAS_CUMPROD.double()) / ALPHAS_CUMPROD.double()).sqrt()  # σ of t = 0 … 999
PAPER_PERCENT = 0.001  # FreeInit re-noises to t = 999 of 1000; ComfyUI's percent_to_sigma(0.001) on flow models


@dataclass
class VPSampler:
    model: TinyUNet
    parametrisation: str = "vp"
    name: str = "baseline (DDIM)"

    def sigmas(self, steps: int) -> list[float]:
        return [*(sigma_at(t) for t in ddim_timesteps(steps)), 0.0]

    def paper_level(self, steps: int) -> float:
        """σ of t = 999: the start of the schedule."""
        return sigma_at(TRAIN_STEPS - 1)

    def level(self, kept: float) -> float:
        """σ of the timestep nearest to keeping ``kept`` of x0 (the model knows integer timesteps only)."""
        return sigma_at(self._timestep(sigma_for_signal_fraction(kept, "vp")))

    @staticmethod
    def _timestep(sigma: float) -> int:
        return int((VP_SIGMAS - sigma).abs().argmin())

    def sample(self, start: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
        return ddim_sample(video_denoiser(self.model), start, [self._timestep(s) for s in sigmas[:-1]])


@dataclass
class FlowSampler:
    model: TinyUNet
    parametrisation: str = "flow"
    name: str = "baseline (Euler, shift 3)"

    def sigmas(self, steps: int) -> list[float]:
        return flow_sigmas(steps)

    def paper_level(self, steps: int) -> float:
        """σ of t = 0.999, where the nodes re-noise flow models to today."""
        return float(shifted(1.0 - PAPER_PERCENT))

    def level(self, kept: float) -> float:
        return sigma_for_signal_fraction(kept, "flow")

    def sample(self, start: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
        return euler_sample(video_denoiser(self.model), start, sigmas)
