"""numba function for integer MAX_POOL_2D (loaded on first use through
``loader.compiled_module("_compiled_pool")``).

:func:`max_pool` is ``quantized_misc.QuantizedMaxPool``: the maximum of the raw values of
each window's positions inside the input (the reference pads with the type's minimum, which
never wins over a position inside: every window holds one, ``prepare`` checks it), then the
clamp to the fused activation range. Integer maxima: any order gives the same bits.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = {"cache": True, "fastmath": False, "error_model": "numpy"}


@nb.njit(**_FLAGS)
def max_pool(x, kh, kw, sh, sw, pt, pl, lo, hi, acc, out):
    n_, h, w, c = x.shape
    _, oh, ow, _ = out.shape
    for n in range(n_):
        for oy in range(oh):
            y0 = oy * sh - pt
            ys, ye = max(y0, 0), min(y0 + kh, h)
            for ox in range(ow):
                x0 = ox * sw - pl
                xs, xe = max(x0, 0), min(x0 + kw, w)
                first = x[n, ys, xs]
                for k in range(c):
                    acc[k] = first[k]
                for iy in range(ys, ye):
                    row = x[n, iy]
                    for ix in range(xs, xe):
                        src = row[ix]
                        for k in range(c):
                            acc[k] = max(acc[k], np.int32(src[k]))
                dst = out[n, oy, ox]
                for k in range(c):
                    dst[k] = min(max(acc[k], lo), hi)
