"""numba function for 8-bit per-tensor DEQUANTIZE (loaded on first use through
``loader.compiled_module("_compiled_dequantize")``).

:func:`dequantize_8bit` is ``quantize.Dequantize`` for an 8-bit input with one scale: in
LiteRT's SIMD blocks of 8 (the first ``body`` values) ``float32(q) * scale + float32(-zp) *
scale`` (float32, two roundings, no FMA: no fastmath), the tail ``float32(double(scale) *
(q - zp))`` (exact in double, rounded once).
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = {"cache": True, "fastmath": False, "error_model": "numpy"}


@nb.njit(**_FLAGS)
def dequantize_8bit(x, scale32, offset32, scale64, zero_point, body, out):
    for i in range(body):
        out[i] = np.float32(x[i]) * scale32 + offset32
    for i in range(body, x.size):
        out[i] = np.float32(scale64 * np.float64(np.int64(x[i]) - zero_point))
