"""Per-video metrics (one value per seed, for paired statistics) and set metrics (against data).

Videos are [B, 3, T, H, W] in [−1, 1]; backward maps follow the warp contract ([..., 2, H, W], x first,
pixel centres at c + ½): the position in frame t−1 of every pixel centre of frame t.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from temporal_noise.kernels.motion.flow_maps import sample_bilinear

from .features import layout_features, pooled_features

PEAK_TO_PEAK = 2.0  # values lie in [−1, 1]
LOW_FREQUENCY_POOL = 4  # 4×4 average pooling: spatial frequencies below 1/4 of Nyquist
HISTOGRAM_BINS = 8
FRECHET_RIDGE = 1e-6


def _frames(videos: torch.Tensor) -> torch.Tensor:
    """[B, 3, T, H, W] → [B, T, 3, H, W]."""
    return videos.transpose(1, 2)


def _first_frame_cosine(vectors: torch.Tensor) -> torch.Tensor:
    """Mean over k ≥ 1 of cos(v_0, v_k) for vectors [B, T, D]."""
    return F.cosine_similarity(vectors[:, :1], vectors[:, 1:], dim=-1).mean(dim=1)


def pixel_consistency(videos: torch.Tensor) -> torch.Tensor:
    """[B] mean cosine similarity of frame 0 and frame k (k = 1 … T−1) as pixel vectors."""
    return _first_frame_cosine(_frames(videos).flatten(2))


def feature_consistency(videos: torch.Tensor) -> torch.Tensor:
    """[B] the same cosine on random features (``features.layout_features``), the DINO-score analogue."""
    frames = _frames(videos)
    return _first_frame_cosine(layout_features(frames.flatten(0, 1)).view(*frames.shape[:2], -1))


def low_frequency_difference(videos: torch.Tensor) -> torch.Tensor:
    """[B] RMS difference of consecutive frames after 4×4 average pooling (flicker of colours/layout)."""
    frames = _frames(videos)
    pooled = F.avg_pool2d(frames.flatten(0, 1), LOW_FREQUENCY_POOL).view(*frames.shape[:3], -1)
    return (pooled[:, 1:] - pooled[:, :-1]).pow(2).mean(dim=(1, 2, 3)).sqrt()


def motion_speed(videos: torch.Tensor, upscale: int = 4) -> torch.Tensor:
    """[B] mean optical-flow speed (pixels/frame) between consecutive frames where the frames change.

    DIS optical flow (OpenCV, medium preset) on luma upscaled ``upscale``× so that sub-pixel motion is
    measurable, averaged with weights |frame t − frame t−1| (blurred), so the still background, where flow
    is undefined, does not count. On moving-disc data it tracks the discs' true mean speed within ~20 %.
    """
    luma = _frames(videos).mean(dim=2).clamp(-1, 1)
    size = luma.shape[-1] * upscale
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    speeds = []
    for video in luma.numpy():
        frames = [cv2.resize(((f + 1) * 127.5).astype(np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
                  for f in video]
        total = weight_sum = 0.0
        for previous, current in itertools.pairwise(frames):
            field = flow.calc(previous, current, None)
            change = np.abs(current.astype(np.float32) - previous.astype(np.float32))
            weight = cv2.GaussianBlur(change, (0, 0), upscale)
            total += float((np.hypot(field[..., 0], field[..., 1]) * weight).sum())
            weight_sum += float(weight.sum())
        speeds.append(total / max(weight_sum, 1e-12) / upscale)
    return torch.tensor(speeds)


class FrechetReference:
    """Gaussian fit of reference features [N, D], for Fréchet distances to many feature sets.

    d² = ‖μ − μ_r‖² + Tr(Σ + Σ_r − 2(Σ_r^½ Σ Σ_r^½)^½); the eigenvalues of the symmetric Σ_r^½ Σ Σ_r^½ give
    the trace of the root (they equal those of Σ Σ_r), with Σ_r^½ computed once. A small ridge keeps
    covariances of dead random features non-singular. In torch float64: in the bootstrap, numpy's OpenBLAS
    threads spinning beside torch's made these small products about 15× slower on 2 cores.
    """

    def __init__(self, features: torch.Tensor) -> None:
        self.mean, self.cov = self._fit(features)
        values, vectors = torch.linalg.eigh(self.cov)
        self.root = (vectors * values.clamp(min=0).sqrt()) @ vectors.T

    @staticmethod
    def _fit(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = features.double()
        return x.mean(dim=0), torch.cov(x.T) + FRECHET_RIDGE * torch.eye(x.shape[1], dtype=torch.float64)

    def distance(self, features: torch.Tensor) -> float:
        """Fréchet distance of the Gaussian fit of ``features`` [N, D] to the reference."""
        mean, cov = self._fit(features)
        product = torch.linalg.eigvalsh(self.root @ cov @ self.root).clamp(min=0)
        return float((mean - self.mean).pow(2).sum() + cov.trace() + self.cov.trace() - 2.0 * product.sqrt().sum())


def colour_histogram(videos: torch.Tensor) -> torch.Tensor:
    """Joint RGB histogram (8³ bins over [−1, 1]) of all pixels of ``videos``, normalised to sum 1."""
    bins = ((videos.clamp(-1, 1) + 1) / 2 * HISTOGRAM_BINS).long().clamp(max=HISTOGRAM_BINS - 1)
    index = (bins[:, 0] * HISTOGRAM_BINS + bins[:, 1]) * HISTOGRAM_BINS + bins[:, 2]
    histogram = torch.bincount(index.flatten(), minlength=HISTOGRAM_BINS**3).double()
    return histogram / histogram.sum()


def histogram_distance(histogram_a: torch.Tensor, histogram_b: torch.Tensor) -> float:
    """Total variation distance ½·Σ|p − q| between two normalised histograms."""
    return float(0.5 * (histogram_a - histogram_b).abs().sum())


def video_features(videos: torch.Tensor) -> torch.Tensor:
    """[B, T, 64] pooled random features of every frame (for Fréchet distances over seeds)."""
    frames = _frames(videos)
    return pooled_features(frames.flatten(0, 1)).view(*frames.shape[:2], -1)


def visible(positions: torch.Tensor) -> torch.Tensor:
    """[N, 1, H, W] mask of back-mapped positions inside the previous frame's pixel centres."""
    height, width = positions.shape[-2:]
    x, y = positions[:, 0], positions[:, 1]
    return ((x >= 0.5) & (x <= width - 0.5) & (y >= 0.5) & (y <= height - 0.5)).unsqueeze(1)


def _follow(videos: torch.Tensor, backward_maps: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frames t ≥ 1, frames t−1 warped onto them along the motion, and the visibility mask."""
    frames = _frames(videos)
    batch, count = frames.shape[:2]
    maps = backward_maps.expand(batch, count - 1, *backward_maps.shape[-3:]).flatten(0, 1)
    previous = sample_bilinear(frames[:, :-1].flatten(0, 1), maps).view(batch, count - 1, *frames.shape[2:])
    return frames[:, 1:], previous, visible(maps).view(batch, count - 1, 1, *frames.shape[-2:])


def warping_error(videos: torch.Tensor, backward_maps: torch.Tensor) -> torch.Tensor:
    """[B] RMS of frame t minus frame t−1 warped by the known motion, over visible pixels."""
    current, previous, mask = _follow(videos, backward_maps)
    squared = ((current - previous) ** 2 * mask).sum(dim=(1, 2, 3, 4))
    return (squared / (mask.sum(dim=(1, 2, 3, 4)) * current.shape[2])).sqrt()


def detail(videos: torch.Tensor) -> torch.Tensor:
    """[B] RMS of the 3×3 high-pass (frame minus its 3×3 box mean, edges replicated) of every frame."""
    frames = _frames(videos).flatten(0, 1)
    smooth = F.avg_pool2d(F.pad(frames, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    return (frames - smooth).pow(2).view(videos.shape[0], -1).mean(dim=1).sqrt()


def psnr(videos: torch.Tensor, references: torch.Tensor) -> torch.Tensor:
    """[B] PSNR in dB of every frame against its reference, averaged over frames (peak-to-peak 2)."""
    mse = (_frames(videos) - _frames(references)).pow(2).mean(dim=(2, 3, 4))
    return (10.0 * torch.log10(PEAK_TO_PEAK**2 / mse)).mean(dim=1)


def _masked_correlation(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B] Pearson correlation of a and b [B, T, C, H, W] over the masked pixels of every video."""
    mask = mask.expand_as(a).float()
    count = mask.sum(dim=(1, 2, 3, 4))

    def centred(x: torch.Tensor) -> torch.Tensor:
        return (x - (x * mask).sum(dim=(1, 2, 3, 4), keepdim=True) / count.view(-1, 1, 1, 1, 1)) * mask

    a, b = centred(a), centred(b)
    dims = (1, 2, 3, 4)
    return (a * b).sum(dim=dims) / ((a * a).sum(dim=dims) * (b * b).sum(dim=dims)).sqrt()


def sticking(videos: torch.Tensor, references: torch.Tensor, backward_maps: torch.Tensor) -> torch.Tensor:
    """[B] correlation of consecutive frames' added detail at the same screen pixel minus along the motion.

    The added detail is output − input. Positive: the detail stays on the screen while the content moves
    (texture sticking); negative: the detail moves with the content.
    """
    detail = _frames(videos - references)
    current, previous, mask = _follow(videos - references, backward_maps)
    screen = _masked_correlation(detail[:, 1:], detail[:, :-1], mask)
    return screen - _masked_correlation(current, previous, mask)
