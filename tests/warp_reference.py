"""Float64 references and white-noise statistics for the warp tests, written independently of kernels/.

Polygon areas here come from Sutherland–Hodgman clipping (Sutherland & Hodgman 1974) and the shoelace
formula in numpy float64; the kernels use fans and inclusion–exclusion in torch float32 instead.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from scipy import stats

OCTAGON = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0), (0.0, 1.0), (0.0, 0.5))


def clip_half_plane(poly: list[tuple[float, float]], axis: int, bound: float, keep_below: bool):
    """Sutherland–Hodgman: the part of ``poly`` with coordinate ``axis`` ≤ bound (or ≥ bound)."""
    def inside(p):
        return p[axis] <= bound if keep_below else p[axis] >= bound

    out = []
    for k, current in enumerate(poly):
        previous = poly[k - 1]
        if inside(current):
            if not inside(previous):
                out.append(_cross(previous, current, axis, bound))
            out.append(current)
        elif inside(previous):
            out.append(_cross(previous, current, axis, bound))
    return out


def _cross(p, q, axis, bound):
    t = (bound - p[axis]) / (q[axis] - p[axis])
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def polygon_area(poly) -> float:
    """Shoelace area of a list of (x, y), float64."""
    if len(poly) < 3:
        return 0.0
    x = np.array([p[0] for p in poly], dtype=np.float64)
    y = np.array([p[1] for p in poly], dtype=np.float64)
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def clipped_area(poly, cell_x: int, cell_y: int) -> float:
    """|poly ∩ [cell_x, cell_x+1] × [cell_y, cell_y+1]| by clipping against the cell's four sides."""
    for axis, bound, below in ((0, cell_x, False), (0, cell_x + 1, True), (1, cell_y, False), (1, cell_y + 1, True)):
        poly = clip_half_plane(poly, axis, bound, below)
        if not poly:
            return 0.0
    return polygon_area(poly)


def reference_octagons(backward_map: np.ndarray) -> np.ndarray:
    """Octagons [H, W, 8, 2] (absolute positions) by the documented rule, in float64 numpy.

    The displacement d = m − centre is extended by one pixel with 2·d[0] − d[1] on every side, then read
    at corners (mean of 4 centres) and edge midpoints (mean of 2 centres).
    """
    m = np.asarray(backward_map, dtype=np.float64)
    _, height, width = m.shape
    cy, cx = np.mgrid[0:height, 0:width] + 0.5
    d = m - np.stack((cx, cy))

    def extend(a, axis):
        first, second = np.take(a, [0], axis), np.take(a, [1], axis)
        last, before_last = np.take(a, [-1], axis), np.take(a, [-2], axis)
        return np.concatenate((2 * first - second, a, 2 * last - before_last), axis)

    d = extend(extend(d, 1), 2)

    def disp(x2, y2):  # displacement at (x2/2, y2/2) for integer or half-integer points
        x, y = x2 / 2.0, y2 / 2.0
        cols = [int(np.floor(x - 0.5)), int(np.ceil(x - 0.5))]
        rows = [int(np.floor(y - 0.5)), int(np.ceil(y - 0.5))]
        return np.mean([d[:, r + 1, c + 1] for r in set(rows) for c in set(cols)], axis=0)

    out = np.empty((height, width, 8, 2))
    for r in range(height):
        for c in range(width):
            for k, (ox, oy) in enumerate(OCTAGON):
                x, y = c + ox, r + oy
                out[r, c, k] = np.array([x, y]) + disp(round(2 * x), round(2 * y))
    return out


def reference_areas(octagon: np.ndarray, height: int, width: int) -> dict[int, float]:
    """{source cell index: area} of one octagon [8, 2] by clipping against every cell of its bbox."""
    poly = [tuple(p) for p in octagon]
    areas = {}
    x0, y0 = np.floor(octagon.min(0)).astype(int)
    x1, y1 = np.ceil(octagon.max(0)).astype(int)
    for cy in range(max(y0, 0), min(y1, height)):
        for cx in range(max(x0, 0), min(x1, width)):
            a = clipped_area(poly, cx, cy)
            if a > 0:
                areas[cy * width + cx] = a
    return areas


def point_winding_counts(polygon: np.ndarray, rows: int, cols: int, upsample: int) -> np.ndarray:
    """Winding-weighted counts [rows, cols] of the sub-cell centres ((u + (a + ½)/n, v + (b + ½)/n)) inside
    one polygon [2, K], every centre tested against every edge (crossing of the ray to +x, upward +1,
    downward −1, half-open in y): an independent point-in-polygon reference."""
    n = upsample
    ys = (np.arange(rows * n) + 0.5) / n
    xs = (np.arange(cols * n) + 0.5) / n
    winding = np.zeros((rows * n, cols * n))
    for k in range(polygon.shape[1]):
        (x0, y0), (x1, y1) = polygon[:, k], polygon[:, (k + 1) % polygon.shape[1]]
        for r, y in enumerate(ys):
            if (y0 <= y < y1) or (y1 <= y < y0):
                x = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
                winding[r] += np.where(xs < x, 1.0 if y1 > y0 else -1.0, 0.0)
    return winding.reshape(rows, n, cols, n).sum((1, 3))


# ---------------------------------------------------------------- white-noise statistics, float64 numpy

def chi2_variance_bounds(n: int, p: float = 1e-4) -> tuple[float, float]:
    """Two-sided bounds on the sample variance of n N(0, 1) values (known mean 0) at level p."""
    return stats.chi2.ppf(p / 2, n) / n, stats.chi2.ppf(1 - p / 2, n) / n


def moran_i(frame: np.ndarray) -> float:
    """Moran's I with rook weights of [C, H, W] noise (per channel, averaged); sd ≈ 1/√(edges·C)."""
    z = frame - frame.mean(axis=(1, 2), keepdims=True)
    cross = (z[:, 1:, :] * z[:, :-1, :]).sum() + (z[:, :, 1:] * z[:, :, :-1]).sum()
    channels, height, width = frame.shape
    edges = height * (width - 1) + width * (height - 1)
    return float(cross / edges / (np.square(z).sum() / (channels * height * width)) / channels)


def moran_sd(frame_shape: tuple[int, int, int]) -> float:
    channels, height, width = frame_shape
    return 1.0 / np.sqrt(channels * (height * (width - 1) + width * (height - 1)))


def lag1(frame: np.ndarray, axis: int) -> float:
    """Lag-1 autocorrelation along axis 1 (rows) or 2 (columns) of [C, H, W]."""
    a = np.take(frame, range(frame.shape[axis] - 1), axis)
    b = np.take(frame, range(1, frame.shape[axis]), axis)
    return float(np.mean(a * b) / np.mean(np.square(frame)))


def radial_spectrum(frame: np.ndarray, bins: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Mean power |FFT|²/(H·W) in rings of |k| (white noise: 1 everywhere) and the count per ring."""
    channels, height, width = frame.shape
    power = np.abs(np.fft.fft2(frame)) ** 2 / (height * width)
    ky = np.fft.fftfreq(height)[:, None]
    kx = np.fft.fftfreq(width)[None, :]
    radius = np.sqrt(kx**2 + ky**2)
    edges = np.linspace(0, 0.5, bins + 1)
    means, counts = [], []
    for lo, hi in itertools.pairwise(edges):
        ring = (radius > lo) & (radius <= hi)
        means.append(power[:, ring].mean())
        counts.append(ring.sum() * channels)
    return np.array(means), np.array(counts)


def white_noise_report(frame: torch.Tensor) -> dict[str, float]:
    """Every statistic of one [C, H, W] frame, with its tolerance check result."""
    x = frame.detach().double().cpu().numpy()
    n = x.size
    channels, height, width = x.shape
    lo, hi = chi2_variance_bounds(n)
    variance = float(np.mean(np.square(x)))
    means, counts = radial_spectrum(x)
    flat = x.reshape(channels, -1)
    corr = np.corrcoef(flat) if channels > 1 else np.ones((1, 1))
    off = np.abs(corr[~np.eye(channels, dtype=bool)]).max() if channels > 1 else 0.0
    return {
        "mean": float(x.mean()), "mean_ok": abs(x.mean()) < 4.5 / np.sqrt(n),
        "variance": variance, "variance_ok": lo < variance < hi,
        "ks_p": float(stats.kstest(x.ravel(), "norm").pvalue),
        "moran": moran_i(x), "moran_ok": abs(moran_i(x)) < 4.5 * moran_sd(x.shape),
        "lag1_rows": lag1(x, 1), "lag1_cols": lag1(x, 2),
        "lag1_ok": max(abs(lag1(x, 1)), abs(lag1(x, 2))) < 4.5 / np.sqrt(channels * height * (width - 1)),
        "spectrum_dev": float(np.max(np.abs(means - 1) * np.sqrt(counts))),
        "spectrum_ok": bool(np.all(np.abs(means - 1) < 5 * np.sqrt(2) / np.sqrt(counts))),
        "channel_corr": float(off), "channel_ok": off < 4.5 / np.sqrt(height * width),
    }
