"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR, as LiteRT's builtin kernels compute them.

Both resize the H and W axes of an NHWC tensor to the ``size`` input. Source
coordinates and weights depend only on shapes, so prepare computes them per
axis; eval gathers rows and columns with fancy indexing and blends.

Bilinear (TFLite ``ComputeInterpolationValues``), per output index ``v``:

* scale = in / out, or (in - 1) / (out - 1) with align_corners (out > 1); in float32.
* source = v * scale, or (v + 0.5) * scale - 0.5 with half_pixel_centers;
  low = max(floor(source), 0), high = min(ceil(source), in - 1); the weight
  of ``high`` is ``source - low`` (not clamped: the two weights still add to 1).
* float: LiteRT's order, bit-exact: the corners (y0, x0), (y0, x1), (y1, x0),
  (y1, x1) times their weight ``wy * wx`` (one float32 product each) added left
  to right. Exact 2x upsampling without align_corners / half_pixel_centers
  takes LiteRT's ResizeBilinear2x2 path instead: means of neighbours (x1 and y1
  clamped to the edge). int8 and int16: the reference
  fixed-point path with 10 fractional bits (scale rounded to 1/1024, C truncating divisions),
  the sum rounded half away from zero at 2^20. uint8: LiteRT's optimized
  "small channel" path, the float blend above plus 0.5, truncated (bit-exact too).

Nearest neighbour (TFLite ``GetNearestNeighbor``): source = (v + offset) * scale
in float32 with offset 0.5 under half_pixel_centers; align_corners rounds half
away from zero, otherwise floor; clamped to in - 1 (and to 0 with half pixels).
LiteRT's optimized uint8 kernel, used when neither flag is set, instead
computes ``(v * ((in << 16) // out + 1)) >> 16``.
"""
from __future__ import annotations

import numpy as np

from ..runtime.budget import check_output
from .base import register
from .shape_ops import PlannedKernel, int_vector

F32 = np.float32


def _resize_scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return F32(in_size - 1) / F32(out_size - 1)
    return F32(in_size) / F32(out_size)


def bilinear_float_axis(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(low, high, weight of high) per output position, float32 as TFLite computes them."""
    scale = _resize_scale(in_size, out_size, align_corners)
    v = np.arange(out_size, dtype=F32)
    src = ((v + F32(0.5)) * scale - F32(0.5)) if half_pixel else v * scale
    src = src.astype(F32)
    low = np.maximum(np.floor(src), 0).astype(np.int64)
    high = np.minimum(np.ceil(src).astype(np.int64), in_size - 1)
    return low, high, (src - low.astype(F32)).astype(F32)


def bilinear_fixed_axis(in_size: int, out_size: int, align_corners: bool, half_pixel: bool):
    """(low, high, weight of low, weight of high) in 1/1024 units: TFLite's int8 reference."""
    one = 1 << 10
    if align_corners and out_size > 1:
        scale = (one * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    else:
        scale = (one * in_size + out_size // 2) // out_size
    v = np.arange(out_size, dtype=np.int64)
    src = v * scale + (scale // 2 - (1 << 9) if half_pixel else 0)
    low = np.maximum(_c_div(src, one), 0)
    high = np.minimum(_c_div(src + one - 1, one), in_size - 1)
    frac = src - one * low
    return low, high, one - frac, frac


def _c_div(a: np.ndarray, b: int) -> np.ndarray:
    """C integer division (truncates toward zero)."""
    return np.where(a >= 0, a // b, -((-a) // b))


def nearest_axis(in_size: int, out_size: int, align_corners: bool, half_pixel: bool) -> np.ndarray:
    scale = _resize_scale(in_size, out_size, align_corners)
    v = np.arange(out_size, dtype=F32)
    src = ((v + F32(0.5)) if half_pixel else v) * scale
    src = src.astype(F32)
    if align_corners:
        idx = np.where(src >= 0, np.floor(src + F32(0.5)), np.ceil(src - F32(0.5))).astype(np.int64)
    else:
        idx = np.floor(src).astype(np.int64)
    idx = np.minimum(idx, in_size - 1)
    return np.maximum(idx, 0) if half_pixel else idx


def nearest_axis_uint8_fast(in_size: int, out_size: int) -> np.ndarray:
    scale = (in_size << 16) // out_size + 1
    return np.minimum((np.arange(out_size, dtype=np.int64) * scale) >> 16, in_size - 1)


class _Resize(PlannedKernel):
    value_inputs = (1,)

    def setup(self, inputs, outputs):
        if len(inputs[0].shape) != 4:
            raise self.fail(f"input must be 4-D NHWC, got shape {list(inputs[0].shape)}")
        self.align_corners = bool(self.options.get("align_corners", False))
        self.half_pixel = bool(self.options.get("half_pixel_centers", False))
        if self.align_corners and self.half_pixel:
            raise self.fail("align_corners and half_pixel_centers cannot both be set")
        self.dtype = inputs[0].dtype

    def plan(self, shapes, values):
        size = int_vector(self, values[1], "size")
        if len(size) != 2 or size[0] <= 0 or size[1] <= 0:
            raise self.fail(f"size must hold two positive values, got {size}")
        n, h, w, c = shapes[0]
        check_output(self.node, (n, size[0], size[1], c), self.dtype)  # before the per-axis tables
        self.plan_axes(h, w, size[0], size[1])
        return [(n, size[0], size[1], c)]


@register("RESIZE_BILINEAR", kind="any")
class ResizeBilinear(_Resize):
    def plan_axes(self, h, w, oh, ow):
        ac, hp = self.align_corners, self.half_pixel
        self.doubling = False
        if self.dtype in (np.int8, np.int16):
            y0, y1, wy0, wy1 = bilinear_fixed_axis(h, oh, ac, hp)
            x0, x1, wx0, wx1 = bilinear_fixed_axis(w, ow, ac, hp)
            self.rows = (y0, y1)
            self.cols = (x0, x1)
            self.wy = (wy0[None, :, None, None], wy1[None, :, None, None])
            self.wx = (wx0[None, None, :, None], wx1[None, None, :, None])
            return
        if self.dtype == F32 and not ac and not hp and (oh, ow) == (2 * h, 2 * w):
            # LiteRT's float 2x upsampling kernel (ResizeBilinear2x2): neighbours averaged
            self.doubling = True
            self.rows = np.minimum(np.arange(h) + 1, h - 1)
            self.cols = np.minimum(np.arange(w) + 1, w - 1)
            return
        y0, y1, dy = bilinear_float_axis(h, oh, ac, hp)
        x0, x1, dx = bilinear_float_axis(w, ow, ac, hp)
        self.rows = (y0, y1)
        self.cols = (x0, x1)
        wy = ((F32(1) - dy)[None, :, None, None], dy[None, :, None, None])
        wx = ((F32(1) - dx)[None, None, :, None], dx[None, None, :, None])
        # corner weights (y0, x0), (y0, x1), (y1, x0), (y1, x1), each one float32 product
        self.corner_weights = tuple(a * b for a in wy for b in wx)

    def compute(self, inputs):
        x = inputs[0]
        if self.doubling:
            return [self.upsample_twice(x)]
        (y0, y1), (x0, x1) = self.rows, self.cols
        if self.dtype in (np.int8, np.int16):
            xi = x.astype(np.int64)
            top, bottom = xi[:, y0], xi[:, y1]
            acc = ((top[:, :, x0] * self.wx[0] + top[:, :, x1] * self.wx[1]) * self.wy[0]
                   + (bottom[:, :, x0] * self.wx[0] + bottom[:, :, x1] * self.wx[1]) * self.wy[1])
            acc += np.where(acc > 0, 1 << 19, -(1 << 19))
            return [_c_div(acc, 1 << 20).astype(self.dtype)]
        xf = x if x.dtype == F32 else x.astype(F32)
        top, bottom = xf[:, y0], xf[:, y1]
        w00, w01, w10, w11 = self.corner_weights
        # LiteRT's order (bit-exact): the four corners added left to right
        out = top[:, :, x0] * w00
        out += top[:, :, x1] * w01
        out += bottom[:, :, x0] * w10
        out += bottom[:, :, x1] * w11
        if self.dtype == F32:
            return [out]
        if self.dtype == np.uint8:
            out += F32(0.5)  # LiteRT's optimized uint8 path rounds by adding 0.5 before truncation
        info = np.iinfo(self.dtype)
        return [np.clip(np.trunc(out), info.min, info.max).astype(self.dtype)]

    def upsample_twice(self, x: np.ndarray) -> np.ndarray:
        """Float 2x upsampling as LiteRT's ResizeBilinear2x2: each input pixel gives a 2x2
        block of itself, the mean with its right neighbour, the mean with the one below, and
        the mean of that with the mean of the right and lower-right neighbours."""
        n, h, w, c = x.shape
        right = x[:, :, self.cols]
        below = x[:, self.rows]
        out = np.empty((n, h, 2, w, 2, c), F32)
        half = F32(0.5)
        out[:, :, 0, :, 0] = x
        np.multiply(np.add(x, right), half, out=out[:, :, 0, :, 1])
        bottom_left = out[:, :, 1, :, 0]
        np.multiply(np.add(x, below), half, out=bottom_left)
        lower_right = np.add(right, below[:, :, self.cols])  # x1y0 + x1y1
        np.multiply(lower_right, half, out=lower_right)
        np.add(bottom_left, lower_right, out=lower_right)
        np.multiply(lower_right, half, out=out[:, :, 1, :, 1])
        return out.reshape(n, 2 * h, 2 * w, c)


@register("RESIZE_NEAREST_NEIGHBOR", kind="any")
class ResizeNearestNeighbor(_Resize):
    def plan_axes(self, h, w, oh, ow):
        if self.dtype == np.uint8 and not self.align_corners and not self.half_pixel:
            self.rows, self.cols = nearest_axis_uint8_fast(h, oh), nearest_axis_uint8_fast(w, ow)
        else:
            self.rows = nearest_axis(h, oh, self.align_corners, self.half_pixel)
            self.cols = nearest_axis(w, ow, self.align_corners, self.half_pixel)

    def compute(self, inputs):
        return [inputs[0][:, self.rows][:, :, self.cols]]
