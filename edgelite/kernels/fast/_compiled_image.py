"""numba functions for 8-bit RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (loaded on first use
through ``loader.compiled_module("_compiled_image")``).

Each is the reference kernel's arithmetic (``kernels/image.py``) per output element, from the
per-axis tables the reference's ``plan`` computed, written straight into the output instead
of through numpy's fancy-indexed temporaries:

* :func:`bilinear_fixed`: int8 / int16, TFLite's reference fixed-point path: weights in
  1/1024 units, ``(top(x0) wx0 + top(x1) wx1) wy0 + (bottom(x0) wx0 + bottom(x1) wx1) wy1``
  in int64, ``2^19`` added with the sign of the sum, C division (towards zero) by ``2^20``.
* :func:`bilinear_float_to_uint8`: uint8, LiteRT's optimized path: the four corners times
  their float32 corner weight, added left to right in float32 (no fastmath: no FMA, no
  reassociation), plus 0.5, truncated and clamped to 0..255.
* :func:`nearest`: a gather of rows and columns (any dtype).
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = {"cache": True, "fastmath": False, "error_model": "numpy"}


@nb.njit(**_FLAGS)
def bilinear_fixed(x, y0, y1, wy0, wy1, x0, x1, wx0, wx1, out):
    n_, oh, ow, c = out.shape
    half = np.int64(1) << 19
    for n in range(n_):
        for oy in range(oh):
            top = x[n, y0[oy]]
            bottom = x[n, y1[oy]]
            a, b = wy0[oy], wy1[oy]
            for ox in range(ow):
                l, r = x0[ox], x1[ox]
                wl, wr = wx0[ox], wx1[ox]
                dst = out[n, oy, ox]
                tl, tr, bl, br = top[l], top[r], bottom[l], bottom[r]
                for k in range(c):
                    acc = ((np.int64(tl[k]) * wl + np.int64(tr[k]) * wr) * a
                           + (np.int64(bl[k]) * wl + np.int64(br[k]) * wr) * b)
                    if acc > 0:
                        acc = (acc + half) >> 20
                    else:  # C division of a non-positive sum: truncate towards zero
                        acc = -((half - acc) >> 20)
                    dst[k] = acc


@nb.njit(**_FLAGS)
def bilinear_float_to_uint8(x, y0, y1, x0, x1, w00, w01, w10, w11, out):
    n_, oh, ow, c = out.shape
    point5, zero, top_value = np.float32(0.5), np.float32(0.0), np.float32(255.0)
    for n in range(n_):
        for oy in range(oh):
            top = x[n, y0[oy]]
            bottom = x[n, y1[oy]]
            for ox in range(ow):
                l, r = x0[ox], x1[ox]
                a, b, d, e = w00[oy, ox], w01[oy, ox], w10[oy, ox], w11[oy, ox]
                dst = out[n, oy, ox]
                tl, tr, bl, br = top[l], top[r], bottom[l], bottom[r]
                for k in range(c):
                    v = np.float32(tl[k]) * a
                    v = v + np.float32(tr[k]) * b
                    v = v + np.float32(bl[k]) * d
                    v = v + np.float32(br[k]) * e
                    v = v + point5
                    if v < zero:
                        v = zero
                    elif v > top_value:
                        v = top_value
                    dst[k] = np.uint8(v)  # truncation of a value in 0..255


@nb.njit(**_FLAGS)
def nearest(x, rows, cols, out):
    n_, oh, ow, _ = out.shape
    for n in range(n_):
        for oy in range(oh):
            src = x[n, rows[oy]]
            for ox in range(ow):
                out[n, oy, ox, :] = src[cols[ox]]
