"""A fixed random-feature network: the weight-free stand-in for DINO / Inception features.

Three strided 3×3 convolutions with ReLU (3 → 32 → 64 → 64 channels, 32² → 4²), He-initialised from a
fixed seed and never trained. Random convolutional features are not semantic, but they respond to
position, colour and edges of the discs, which is what frame-to-frame consistency and sample quality need.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

FEATURE_SEED = 20231212
_CHANNELS = (3, 32, 64, 64)


def _weights() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(FEATURE_SEED)
    layers = []
    for c_in, c_out in itertools.pairwise(_CHANNELS):
        weight = torch.randn(c_out, c_in, 3, 3, generator=generator) * (2.0 / (9 * c_in)) ** 0.5
        layers.append((weight, 0.1 * torch.randn(c_out, generator=generator)))
    return layers


_LAYERS = _weights()


def feature_maps(images: torch.Tensor) -> torch.Tensor:
    """[N, 64, 4, 4] features of images [N, 3, 32, 32] in [−1, 1]."""
    h = images
    for weight, bias in _LAYERS:
        h = F.relu(F.conv2d(h, weight, bias, stride=2, padding=1))
    return h


def layout_features(images: torch.Tensor) -> torch.Tensor:
    """[N, 1024] flattened feature maps: they keep where things are, for frame-to-frame cosines."""
    return feature_maps(images).flatten(1)


def pooled_features(images: torch.Tensor) -> torch.Tensor:
    """[N, 64] spatially averaged features, for Fréchet distances over a few hundred frames."""
    return feature_maps(images).mean(dim=(2, 3))
