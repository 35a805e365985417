"""A tiny UNet for 32×32 RGB that predicts v; the video variant adds temporal convolutions.

The image UNet works on 2×2 pixel-unshuffled input (12 channels at 16×16), one residual block per level
at 16×16, 8×8 and 4×4 with widths 32/64/96, time embedded sinusoidally. The video UNet is the same network
plus a motion module, as AnimateDiff adds one to an image model: after every residual block a
zero-initialised temporal convolution (kernel 3 over frames, per pixel) mixes neighbouring frames; spatial
processing stays per frame. Video latents enter as [B·T, C, H, W] with ``frames = T``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

WIDTHS = (32, 64, 96)
EMBEDDING = 64
GROUPS = 8


class ResidualBlock(nn.Module):
    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, padding=1)
        self.time = nn.Linear(EMBEDDING, channels_out)
        self.norm2 = nn.GroupNorm(GROUPS, channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, padding=1)
        self.skip = nn.Conv2d(channels_in, channels_out, 1) if channels_in != channels_out else nn.Identity()

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.time(embedding)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class TemporalConvolution(nn.Module):
    """h + conv_t(norm(h)): a kernel-3 convolution over frames at every pixel, zero at initialisation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(GROUPS, channels)
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, h: torch.Tensor, frames: int) -> torch.Tensor:
        n, c, height, width = h.shape
        per_pixel = self.norm(h).view(n // frames, frames, c, height, width).permute(0, 3, 4, 2, 1)
        mixed = self.conv(per_pixel.reshape(-1, c, frames)).view(n // frames, height, width, c, frames)
        return h + mixed.permute(0, 4, 3, 1, 2).reshape(n, c, height, width)


def timestep_embedding(timesteps: torch.Tensor) -> torch.Tensor:
    """[N, EMBEDDING] sinusoidal embedding of integer timesteps (periods 1 … 10⁴)."""
    half = EMBEDDING // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half) / half)
    angles = timesteps.float()[:, None] * frequencies[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class TinyUNet(nn.Module):
    """v-prediction UNet for [N, 3, 32, 32]; ``temporal=True`` adds the motion module."""

    def __init__(self, temporal: bool = False) -> None:
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(EMBEDDING, EMBEDDING), nn.SiLU(),
                                   nn.Linear(EMBEDDING, EMBEDDING))
        self.stem = nn.Conv2d(12, WIDTHS[0], 3, padding=1)
        self.encoder = nn.ModuleList()
        self.downsample = nn.ModuleList()
        width = WIDTHS[0]
        for level, out in enumerate(WIDTHS):
            self.encoder.append(ResidualBlock(width, out))
            width = out
            if level + 1 < len(WIDTHS):
                self.downsample.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
        self.middle = ResidualBlock(width, width)
        self.decoder = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(WIDTHS))):
            self.decoder.append(ResidualBlock(width + WIDTHS[level], WIDTHS[level]))
            width = WIDTHS[level]
            if level > 0:
                self.upsample.append(nn.Conv2d(width, WIDTHS[level - 1], 3, padding=1))
                width = WIDTHS[level - 1]
        self.head = nn.Sequential(nn.GroupNorm(GROUPS, width), nn.SiLU(), nn.Conv2d(width, 12, 3, padding=1))
        self.temporal = temporal
        if temporal:  # after every encoder block, the middle and every decoder block
            self.motion = nn.ModuleList(TemporalConvolution(c) for c in (*WIDTHS, WIDTHS[-1], *reversed(WIDTHS)))

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, frames: int = 1) -> torch.Tensor:
        embedding = self.embed(timestep_embedding(timesteps))
        motion = iter(self.motion) if self.temporal else None

        def mix(h: torch.Tensor) -> torch.Tensor:
            return next(motion)(h, frames) if motion is not None else h

        h = self.stem(F.pixel_unshuffle(x, 2))
        skips = []
        for level, block in enumerate(self.encoder):
            h = block(h, embedding)
            h = mix(h)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        h = mix(self.middle(h, embedding))
        for i, block in enumerate(self.decoder):
            h = block(torch.cat([h, skips.pop()], dim=1), embedding)
            h = mix(h)
            if i < len(self.upsample):
                h = self.upsample[i](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return F.pixel_shuffle(self.head(h), 2)
