"""numba function for 8-bit SOFTMAX (loaded on first use through
``loader.compiled_module("_compiled_softmax")``).

:func:`softmax_8bit` is ``quantized_activations.QuantizedSoftmax`` (LiteRT's x86 optimized
path) row by row, in float32 with one rounding per operation and no fastmath: the row
maximum, ``e = table[255 - max + x]`` from the reference's float exp table, the row sum
accumulated left to right, ``inv = 1 / (sum * out_scale)``, then per value ``e * inv``
rounded half away from zero (``floor(p + 0.5)``, p >= 0 in practice; ``ceil(p - 0.5)``
otherwise), plus the output zero point, clamped to the output type's range.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = {"cache": True, "fastmath": False, "error_model": "numpy"}


@nb.njit(**_FLAGS)
def softmax_8bit(x, table, out_scale, zero_point, qmin, qmax, out):
    rows, depth = x.shape
    one, point5, zero = np.float32(1.0), np.float32(0.5), np.float32(0.0)
    for r in range(rows):  # 2-D indexing, no row slices: a third faster on short rows
        mx = np.int64(x[r, 0])
        for k in range(1, depth):
            mx = max(mx, np.int64(x[r, k]))
        base = 255 - mx
        total = zero
        for k in range(depth):
            total = total + table[base + np.int64(x[r, k])]
        inv = one / (total * out_scale)
        for k in range(depth):  # the exponentials looked up again (cheaper than storing them)
            p = table[base + np.int64(x[r, k])] * inv
            if p >= zero:
                q = np.int64(np.floor(p + point5))
            else:
                q = np.int64(np.ceil(p - point5))
            q += zero_point
            out[r, k] = min(max(q, qmin), qmax)
