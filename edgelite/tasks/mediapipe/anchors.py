"""SSD anchors as MediaPipe's ``SsdAnchorsCalculator`` generates them.

The anchors of the BlazeFace / BlazePalm / BlazePose detectors: for each layer (stride), a
``ceil(input / stride)`` grid; consecutive layers with the same stride share one grid and each
contributes one anchor per aspect ratio (plus one interpolated-scale anchor when
``interpolated_scale_aspect_ratio > 0``). With ``fixed_anchor_size`` every anchor is 1 x 1 (the
decoder then scales by the input size only). Anchors are ``(x_center, y_center, w, h)`` rows,
normalized to the input tensor, in the order the model's outputs use.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np


@dataclasses.dataclass(frozen=True)
class SsdAnchorsOptions:
    """The fields of ``SsdAnchorsCalculatorOptions`` the MediaPipe detectors use."""

    input_size_width: int
    input_size_height: int
    strides: Sequence[int]
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset_x: float = 0.5
    anchor_offset_y: float = 0.5
    aspect_ratios: Sequence[float] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = True
    reduce_boxes_in_lowest_layer: bool = False


def _scale(min_scale: float, max_scale: float, index: int, count: int) -> float:
    if count == 1:
        return (min_scale + max_scale) * 0.5
    return min_scale + (max_scale - min_scale) * index / (count - 1.0)


def generate_anchors(options: SsdAnchorsOptions) -> np.ndarray:
    """The ``(num_anchors, 4)`` float32 array of ``(x_center, y_center, w, h)``."""
    strides = list(options.strides)
    if not strides:
        raise ValueError("SsdAnchorsOptions.strides is empty")
    rows: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        heights: list[float] = []
        widths: list[float] = []
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            scale = _scale(options.min_scale, options.max_scale, last, len(strides))
            if last == 0 and options.reduce_boxes_in_lowest_layer:
                pairs = [(1.0, 0.1), (2.0, scale), (0.5, scale)]
            else:
                pairs = [(ratio, scale) for ratio in options.aspect_ratios]
                if options.interpolated_scale_aspect_ratio > 0.0:
                    scale_next = 1.0 if last == len(strides) - 1 else _scale(
                        options.min_scale, options.max_scale, last + 1, len(strides))
                    pairs.append((options.interpolated_scale_aspect_ratio,
                                  math.sqrt(scale * scale_next)))
            for ratio, s in pairs:
                heights.append(s / math.sqrt(ratio))
                widths.append(s * math.sqrt(ratio))
            last += 1
        stride = strides[layer]
        grid_h = math.ceil(options.input_size_height / stride)
        grid_w = math.ceil(options.input_size_width / stride)
        ys, xs = np.meshgrid(np.arange(grid_h, dtype=np.float32),
                             np.arange(grid_w, dtype=np.float32), indexing="ij")
        per_cell = len(heights)
        centers_x = np.repeat(((xs + options.anchor_offset_x) / grid_w).reshape(-1), per_cell)
        centers_y = np.repeat(((ys + options.anchor_offset_y) / grid_h).reshape(-1), per_cell)
        if options.fixed_anchor_size:
            w = np.ones_like(centers_x)
            h = np.ones_like(centers_y)
        else:
            w = np.tile(np.asarray(widths, dtype=np.float32), grid_h * grid_w)
            h = np.tile(np.asarray(heights, dtype=np.float32), grid_h * grid_w)
        rows.append(np.stack([centers_x, centers_y, w, h], axis=1))
        layer = last
    return np.concatenate(rows).astype(np.float32)
