"""Compiled float32 MEAN over the spatial axes {1, 2} of an NHWC tensor (squeeze-excite pools).

The reference (``reduce.in_order_sum`` through numpy's ``add.reduce`` over two outer axes)
gives every output channel a running float32 sum that starts from ``+0.0`` and adds the
``H*W`` pixels in memory order, then one float32 division by ``H*W``. The loop below keeps
that order exactly: one float32 accumulator per channel, the pixels added one after another
(the channel loop innermost, so it vectorises without reassociating any sum; no fastmath),
then the same correctly rounded division.
"""
from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def spatial_means(x, divisor, out):
    """x [N, H*W, C] C-contiguous float32, out [N, C]: ``sum over pixels in order / divisor``."""
    n, pixels, c = x.shape
    for b in range(n):
        acc = out[b]
        for ch in range(c):
            acc[ch] = np.float32(0.0)
        for p in range(pixels):
            xp = x[b, p]
            for ch in range(c):
                acc[ch] += xp[ch]
        for ch in range(c):
            acc[ch] = acc[ch] / divisor
