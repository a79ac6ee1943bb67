"""numba GEMM in LiteRT's float summation order, for the float CONV_2D of hybrid models
(loaded on first use through ``loader.compiled_module("_compiled_exact_float")``).

:func:`eigen_order_gemm` computes ``out[m, o] = sum_k cols[m, k] * wt[k, o] + bias[o]`` with
every product and every sum rounded to float32 (no fastmath: LLVM neither reassociates nor
fuses a multiply-add) in exactly the order of ``kernels.exact_float.eigen_gemm``'s packet
regions (Eigen's GEBP kernels of LiteRT's x86 build, see that module):

* channels ``[0, N - N % 8)`` of every pixel, and every channel of the last ``M % 4``
  pixels: one accumulator per output, ``k = 0, 1, ...`` in order, from 0;
* channels ``[N - N % 8, N - N % 4)`` of the first ``M - M % 4`` pixels: two accumulators
  taking even and odd ``k`` below ``8 * (K // 8)``, added, then the rest in order;
* the last ``N % 4`` channels of those pixels: four accumulators taking ``k mod 4`` below
  ``4 * (K // 4)``, reduced as ``(a0 + a1) + (a2 + a3)``, then the rest in order.

Each output keeps its own order: the sequential channels of the first ``M - M % 4`` pixels run
in 4-pixel x 16-channel tiles (each weight loaded once for four pixels, the 16 channels
vectorised), the rest pixel by pixel with ``k`` outside the channel loop.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy", boundscheck=False)


@nb.njit(**_FLAGS)
def _sequential_channels(row, wt, lo, hi, acc):
    """``acc[o] = sum_k row[k] * wt[k, o]`` in k order from 0, for channels ``lo .. hi - 1``."""
    zero = np.float32(0.0)
    for o in range(lo, hi):
        acc[o] = zero
    for k in range(row.shape[0]):
        a = row[k]
        for o in range(lo, hi):
            acc[o] = acc[o] + a * wt[k, o]


@nb.njit(inline="always", **_FLAGS)
def _tile_block(r0, r1, r2, r3, wt, o0, width, tile, bias, has_bias, out, m):
    """Channels ``o0 .. o0 + width - 1`` (``width`` 16 or 8, a constant once inlined: LLVM then
    vectorises the channels) of pixels ``m .. m + 3``, each summed over k in order from 0:
    each weight loaded once for four pixels."""
    zero = np.float32(0.0)
    for i in range(4):
        for j in range(width):
            tile[i, j] = zero
    for k in range(r0.shape[0]):
        w = wt[k, o0:o0 + width]
        a0 = r0[k]
        a1 = r1[k]
        a2 = r2[k]
        a3 = r3[k]
        for j in range(width):
            wj = w[j]
            tile[0, j] = tile[0, j] + a0 * wj
            tile[1, j] = tile[1, j] + a1 * wj
            tile[2, j] = tile[2, j] + a2 * wj
            tile[3, j] = tile[3, j] + a3 * wj
    for i in range(4):
        dst = out[m + i, o0:o0 + width]
        for j in range(width):
            dst[j] = tile[i, j] + bias[o0 + j] if has_bias else tile[i, j]


@nb.njit(**_FLAGS)
def eigen_order_gemm(cols, wt, bias, has_bias, out):
    m_total, depth = cols.shape
    n = wt.shape[1]
    eights = n - n % 8
    fours = n - n % 4
    tiled = eights - eights % 16  # sequential channels in tiles of 16, then at most one of 8
    pixel_groups = m_total - m_total % 4
    depth8 = depth - depth % 8
    depth4 = depth - depth % 4
    zero = np.float32(0.0)
    acc = np.empty(n, np.float32)
    acc_b = np.empty(n, np.float32)
    acc_c = np.empty(n, np.float32)
    acc_d = np.empty(n, np.float32)
    tile = np.empty((4, 16), np.float32)
    for m in range(0, pixel_groups, 4):
        # sequential channels in 4-pixel x 16-channel tiles (inlined: LLVM then knows that the
        # tile aliases nothing)
        r0 = cols[m]
        r1 = cols[m + 1]
        r2 = cols[m + 2]
        r3 = cols[m + 3]
        for o0 in range(0, tiled, 16):
            _tile_block(r0, r1, r2, r3, wt, o0, 16, tile, bias, has_bias, out, m)
        if eights > tiled:  # one block of 8 sequential channels after the tiles of 16
            _tile_block(r0, r1, r2, r3, wt, tiled, 8, tile, bias, has_bias, out, m)
    for m in range(pixel_groups if eights == n else 0, m_total):  # what the tiles leave
        row = cols[m]
        if m >= pixel_groups:  # the last M % 4 pixels: every channel in order
            _sequential_channels(row, wt, 0, n, acc)
            for o in range(n):
                out[m, o] = acc[o] + bias[o] if has_bias else acc[o]
            continue
        # two accumulators (even, odd k) for the block of 4 channels
        for o in range(eights, fours):
            acc[o] = zero
            acc_b[o] = zero
        for k in range(0, depth8, 2):
            a0 = row[k]
            a1 = row[k + 1]
            for o in range(eights, fours):
                acc[o] = acc[o] + a0 * wt[k, o]
                acc_b[o] = acc_b[o] + a1 * wt[k + 1, o]
        for o in range(eights, fours):
            acc[o] = acc[o] + acc_b[o]
        for k in range(depth8, depth):
            a = row[k]
            for o in range(eights, fours):
                acc[o] = acc[o] + a * wt[k, o]
        # four accumulators (k mod 4) for the channels left over
        for o in range(fours, n):
            acc[o] = zero
            acc_b[o] = zero
            acc_c[o] = zero
            acc_d[o] = zero
        for k in range(0, depth4, 4):
            for o in range(fours, n):
                acc[o] = acc[o] + row[k] * wt[k, o]
                acc_b[o] = acc_b[o] + row[k + 1] * wt[k + 1, o]
                acc_c[o] = acc_c[o] + row[k + 2] * wt[k + 2, o]
                acc_d[o] = acc_d[o] + row[k + 3] * wt[k + 3, o]
        for o in range(fours, n):
            acc[o] = (acc[o] + acc_b[o]) + (acc_c[o] + acc_d[o])
        for k in range(depth4, depth):
            for o in range(fours, n):
                acc[o] = acc[o] + row[k] * wt[k, o]
        for o in range(eights, n):
            out[m, o] = acc[o] + bias[o] if has_bias else acc[o]
