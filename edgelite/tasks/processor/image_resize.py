"""Image resizing exactly as libyuv's ``ARGBScale`` (the Task Library's image pre-processing).

tflite-support resizes RGB and RGBA frames with ``libyuv::ARGBScale(..., kFilterBilinear)``, whose
fixed-point arithmetic is reproduced here so that model inputs are bit-identical:

- ``ScaleFilterReduce`` lowers the filter when an axis is unscaled or scaled by exactly 1/3
  (bilinear -> linear -> point);
- ``ScaleSlope`` gives 16.16 fixed-point steps: ``dx = (src << 16) / dst`` with the first sample
  centred at ``dx / 2 - 0.5`` when shrinking, ``((src << 16) - 0x10001) / (dst - 1)`` from 0 when
  enlarging;
- integer even factors average 2x2 boxes (``ScaleARGBDown2`` / ``ScaleARGBDownEven``, whose x86
  rows average rows then columns with ``pavgb``), integer odd factors point-sample;
- an unscaled width only blends rows (``ScalePlaneVertical``);
- otherwise shrinking blends two rows with an 8-bit fraction (``(a*(256-f) + b*f + 128) >> 8``)
  and then two columns with a 7-bit fraction (``(a*(127-f) + b*f) >> 7``, libyuv's weights sum to
  127); enlarging vertically filters the columns of each source row first, then blends rows.

Channels are independent, so any number of channels is resized the same way.
"""
from __future__ import annotations

import numpy as np

NONE, LINEAR, BILINEAR = 0, 1, 2


def _fixed_div(num: int, div: int) -> int:
    return (num << 16) // div


def _fixed_div1(num: int, div: int) -> int:
    return ((num << 16) - 0x00010001) // (div - 1)


def _centerstart(dx: int, s: int) -> int:
    return (dx >> 1) + s


def filter_reduce(src_w: int, src_h: int, dst_w: int, dst_h: int, filtering: int) -> int:
    """libyuv ``ScaleFilterReduce`` (for the bilinear, linear and point filters)."""
    if filtering == BILINEAR:
        if src_h == 1 or dst_h == src_h or dst_h * 3 == src_h:
            filtering = LINEAR
        if src_w == 1:
            filtering = NONE
    if filtering == LINEAR:
        if src_w == 1 or dst_w == src_w or dst_w * 3 == src_w:
            filtering = NONE
    return filtering


def scale_slope(src_w: int, src_h: int, dst_w: int, dst_h: int, filtering: int):
    """libyuv ``ScaleSlope``: (x, y, dx, dy) in 16.16 fixed point."""
    x = y = dx = dy = 0
    if filtering in (BILINEAR, LINEAR):
        if dst_w <= src_w:
            dx = _fixed_div(src_w, dst_w)
            x = _centerstart(dx, -32768)
        elif src_w > 1 and dst_w > 1:
            dx = _fixed_div1(src_w, dst_w)
        if filtering == LINEAR:
            dy = _fixed_div(src_h, dst_h)
            y = dy >> 1
        elif dst_h <= src_h:
            dy = _fixed_div(src_h, dst_h)
            y = _centerstart(dy, -32768)
        elif src_h > 1 and dst_h > 1:
            dy = _fixed_div1(src_h, dst_h)
    else:
        dx = _fixed_div(src_w, dst_w)
        dy = _fixed_div(src_h, dst_h)
        x = _centerstart(dx, 0)
        y = _centerstart(dy, 0)
    return x, y, dx, dy


def _filter_cols(rows: np.ndarray, x: int, dx: int, dst_w: int) -> np.ndarray:
    """``ScaleARGBFilterCols``: 7-bit horizontal blend of each row (int32 in, int32 out)."""
    xs = x + np.arange(dst_w, dtype=np.int64) * dx
    xi = (xs >> 16).astype(np.intp)
    xf = ((xs >> 9) & 0x7F).astype(np.int32)
    last = rows.shape[1] - 1
    a = rows[:, np.minimum(xi, last)]
    b = rows[:, np.minimum(xi + 1, last)]
    f = xf[None, :, None]
    return (a * (0x7F ^ f) + b * f) >> 7


def _interpolate_rows(r0: np.ndarray, r1: np.ndarray, yf: np.ndarray) -> np.ndarray:
    """``InterpolateRow``: 8-bit vertical blend with rounding (int32)."""
    f = yf[:, None, None]
    return (r0 * (256 - f) + r1 * f + 128) >> 8


def argb_scale(src: np.ndarray, dst_w: int, dst_h: int, filtering: int = BILINEAR) -> np.ndarray:
    """Resize an ``(H, W, C)`` uint8 image to ``(dst_h, dst_w, C)`` as ``libyuv::ARGBScale``."""
    src_h, src_w = src.shape[:2]
    if src_w <= 0 or src_h <= 0 or dst_w <= 0 or dst_h <= 0:
        raise ValueError(f"cannot resize {src_w}x{src_h} to {dst_w}x{dst_h}")
    filtering = filter_reduce(src_w, src_h, dst_w, dst_h, filtering)
    x, y, dx, dy = scale_slope(src_w, src_h, dst_w, dst_h, filtering)
    img = src.astype(np.int32)
    if ((dx | dy) & 0xFFFF) == 0:
        if not dx or not dy:
            filtering = NONE
        elif not (dx & 0x10000) and not (dy & 0x10000):
            # Even integer factors: 2x2 boxes (a horizontal pair for the linear filter).
            xi = (x >> 16) + np.arange(dst_w) * (dx >> 16)
            yi = (y >> 16) + np.arange(dst_h) * (dy >> 16)
            if filtering == NONE:
                return src[yi][:, xi].copy()
            # libyuv's x86 box rows (pavgb): average the two rows, then the two columns, each
            # rounding up; the linear filter averages a row with itself.
            top = img[yi]
            bottom = img[yi + 1] if filtering == BILINEAR else top
            left = (top[:, xi] + bottom[:, xi] + 1) >> 1
            right = (top[:, xi + 1] + bottom[:, xi + 1] + 1) >> 1
            return ((left + right + 1) >> 1).astype(np.uint8)
        elif (dx & 0x10000) and (dy & 0x10000):
            filtering = NONE
    if filtering == NONE:
        xi = ((x + np.arange(dst_w, dtype=np.int64) * dx) >> 16).astype(np.intp)
        yi = ((y + np.arange(dst_h, dtype=np.int64) * dy) >> 16).astype(np.intp)
        return src[np.minimum(yi, src_h - 1)][:, np.minimum(xi, src_w - 1)].copy()
    if dx == 0x10000 and (x & 0xFFFF) == 0:
        # ScalePlaneVertical: columns unscaled, rows blended (clamped just above the last row).
        max_y = ((src_h - 1) << 16) - 1 if src_h > 1 else 0
        ys = np.minimum(y + np.arange(dst_h, dtype=np.int64) * dy, max_y)
        yi = (ys >> 16).astype(np.intp)
        yf = ((ys >> 8) & 255).astype(np.int32) if filtering == BILINEAR else np.zeros_like(yi)
        cols = img[:, (x >> 16):(x >> 16) + dst_w]
        out = _interpolate_rows(cols[yi], cols[np.minimum(yi + 1, src_h - 1)], yf)
        return out.astype(np.uint8)
    max_y = (src_h - 1) << 16
    ys = np.minimum(y + np.arange(dst_h, dtype=np.int64) * dy, max_y)
    yi = (ys >> 16).astype(np.intp)
    yf = ((ys >> 8) & 255).astype(np.int32)
    below = np.minimum(yi + 1, src_h - 1)
    if dy < 65536:
        # ScaleARGBBilinearUp: filter the columns of the source rows, then blend the rows.
        cols = _filter_cols(img, x, dx, dst_w)
        if filtering == LINEAR:
            out = cols[yi]
        else:
            out = _interpolate_rows(cols[yi], cols[below], yf)
    else:
        # ScaleARGBBilinearDown: blend the rows, then filter the columns.
        if filtering == LINEAR:
            rows = img[yi]
        else:
            rows = _interpolate_rows(img[yi], img[below], yf)
        out = _filter_cols(rows, x, dx, dst_w)
    return out.astype(np.uint8)
