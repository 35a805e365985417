"""PNG grids a person can look at: a labelled row per video, frames left to right (OpenCV, no matplotlib).

Frames are shown at 2× (nearest neighbour); colours are stored with 5 bits per channel, which keeps the
committed figures small without a visible change.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

GAP = 2
COLOUR_STEP = 8  # 5 bits per channel
LABEL_WIDTH = 150
BACKGROUND = 255


def _frames_strip(video: torch.Tensor, scale: int) -> np.ndarray:
    """[3, T, H, W] in [−1, 1] → BGR uint8 [H·s, T·(W·s + GAP), 3]."""
    pixels = ((video.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 3, 0).numpy()[..., ::-1]
    tiles = []
    for frame in pixels:
        tile = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        tiles += [tile, np.full((tile.shape[0], GAP, 3), BACKGROUND, np.uint8)]
    return np.concatenate(tiles[:-1], axis=1)


def labelled_rows(rows: list[tuple[str, torch.Tensor]], scale: int = 2) -> np.ndarray:
    """Stack labelled rows; each row is (label, video [3, T, H, W])."""
    out = []
    for label, video in rows:
        strip = _frames_strip(video, scale)
        margin = np.full((strip.shape[0], LABEL_WIDTH, 3), BACKGROUND, np.uint8)
        for line, text in enumerate(label.split("\n")):
            cv2.putText(margin, text, (4, 14 + 14 * line), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                        cv2.LINE_AA)
        out += [np.concatenate([margin, strip], axis=1),
                np.full((GAP, LABEL_WIDTH + strip.shape[1], 3), BACKGROUND, np.uint8)]
    return np.concatenate(out[:-1], axis=0)


def image_grid(images: torch.Tensor, columns: int, scale: int = 2) -> np.ndarray:
    """Images [N, 3, H, W] as a grid of ``columns`` (rows of frames without labels)."""
    rows = [_frames_strip(images[i:i + columns].transpose(0, 1), scale)
            for i in range(0, len(images), columns)]
    gap = np.full((GAP, rows[0].shape[1], 3), BACKGROUND, np.uint8)
    return np.concatenate([part for row in rows for part in (row, gap)][:-1], axis=0)


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 12) -> np.ndarray:
    height = max(left.shape[0], right.shape[0])

    def pad(image: np.ndarray) -> np.ndarray:
        return np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0)), constant_values=BACKGROUND)

    return np.concatenate([pad(left), np.full((height, gap, 3), BACKGROUND, np.uint8), pad(right)], axis=1)


def save(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    quantised = (image // COLOUR_STEP) * COLOUR_STEP + COLOUR_STEP // 2
    cv2.imwrite(str(path), np.where(image == BACKGROUND, image, quantised), [cv2.IMWRITE_PNG_COMPRESSION, 9])
