"""Pictures of the results with Pillow: boxes, keypoints, landmarks and skeletons, masks, and
a waveform with the spotted word. Used by the ``edgelite pose|face|hands`` CLI and examples/."""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np


def _pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("drawing pictures needs Pillow: pip install 'edgelite[vision]'") from e
    return Image, ImageDraw, ImageFont


def to_picture(image: np.ndarray):
    """A Pillow RGB image of a uint8 array."""
    Image, _, _ = _pillow()
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return Image.fromarray(np.ascontiguousarray(array[:, :, :3]))


def label(picture, xy: tuple[float, float], text: str,
          fill: tuple[int, int, int] = (0, 0, 0)) -> None:
    """White text on a filled box at ``xy``."""
    _, ImageDraw, ImageFont = _pillow()
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=fill)
    draw.text(xy, text, fill=(255, 255, 255), font=font)


def draw_detections(picture, detections, color=(255, 64, 64)) -> None:
    """Boxes (pixels), scores and keypoints (normalized) of MediaPipe-style detections."""
    _, ImageDraw, _ = _pillow()
    draw = ImageDraw.Draw(picture)
    w, h = picture.size
    for det in detections:
        box = det.bounding_box
        draw.rectangle((box.origin_x, box.origin_y, box.origin_x + box.width,
                        box.origin_y + box.height), outline=color, width=2)
        for kp in det.keypoints:
            x, y = kp.x * w, kp.y * h
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(255, 255, 0))
        label(picture, (box.origin_x + 2, max(0, box.origin_y - 13)),
              f"{det.categories[0].score:.2f}", color)


def draw_landmarks(picture, landmarks, connections: Iterable[tuple[int, int]] = (),
                   color=(0, 255, 0), point_color=(255, 0, 0), radius: float = 2.0,
                   min_visibility: Optional[float] = None) -> None:
    """Points (and lines between ``connections``) of normalized landmarks."""
    _, ImageDraw, _ = _pillow()
    draw = ImageDraw.Draw(picture)
    w, h = picture.size
    shown = [min_visibility is None or lm.visibility is None or lm.visibility >= min_visibility
             for lm in landmarks]
    xy = [(lm.x * w, lm.y * h) for lm in landmarks]
    for a, b in connections:
        if shown[a] and shown[b]:
            draw.line((xy[a], xy[b]), fill=color, width=2)
    for (x, y), visible in zip(xy, shown):
        if visible:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=point_color)


def blend_mask(picture, mask: np.ndarray, color=(0, 160, 255), alpha: float = 0.5):
    """The picture with ``color`` blended in where ``mask`` (H, W, in [0, 1]) is high."""
    Image, _, _ = _pillow()
    rgb = np.asarray(picture, dtype=np.float32)
    weight = np.clip(np.asarray(mask, dtype=np.float32), 0, 1)[:, :, None] * alpha
    out = rgb * (1 - weight) + np.asarray(color, dtype=np.float32) * weight
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8))


def draw_waveform(samples: np.ndarray, text: str, scores: Sequence[tuple[str, float]] = (),
                  size: tuple[int, int] = (480, 160)):
    """A small picture of a waveform with the detected word and the label scores."""
    Image, ImageDraw, _ = _pillow()
    width, height = size
    picture = Image.new("RGB", size, (24, 24, 32))
    draw = ImageDraw.Draw(picture)
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if samples.size:
        columns = np.array_split(samples, width)
        mid, half = height / 2, height * 0.4
        peak = max(float(np.abs(samples).max()), 1e-6)
        for x, column in enumerate(columns):
            if column.size:
                low, high = float(column.min()) / peak, float(column.max()) / peak
                draw.line((x, mid - high * half, x, mid - low * half), fill=(90, 200, 255))
    label(picture, (8, 8), text, (200, 40, 40))
    for i, (name, score) in enumerate(scores):
        label(picture, (width - 110, 8 + 15 * i), f"{name:8s} {score:.2f}", (40, 40, 40))
    return picture
