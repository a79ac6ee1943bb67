"""numba functions for small float32 ops of the compiled tier (loaded on first use through
``loader.compiled_module("_compiled_float")``).

Each one is the reference kernel's float32 arithmetic, element by element, in the same
order -- one rounding per multiply and per add, no fastmath (LLVM then neither
reassociates nor contracts a multiply-add into an FMA) -- written as a flat loop
without data-dependent trip counts, so that LLVM vectorises it:

* :func:`hard_swish`: ``activations.HardSwishKernel`` (LiteRT's x86 kernel): in blocks
  of 4 over the flattened tensor ``(x * (1/6)) * relu6(x + 3)``, the last ``size % 4``
  values ``(x * relu6(x + 3)) * (1/6)``; relu6 keeps a NaN as ``np.clip`` does.
* :func:`gelu_erfc_head`: ``fast.activations``' GELU step before numpy's ``exp``, with
  the ten Horner coefficients of ``activations.erfc`` unrolled (the reference's loop over
  a coefficient array kept the element loop scalar).
* :func:`softmax_shift` / :func:`softmax_normalise`: SOFTMAX around numpy's ``exp``:
  row maximum, ``x - max`` (times ``beta`` unless it is 1), and after the ``exp`` the
  row sums in numpy's own pairwise order (:func:`numpy_pairwise_sum`, what
  ``ndarray.sum`` does along a contiguous axis) and the division.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy")


@nb.njit(**_FLAGS)
def hard_swish(x, out):
    sixth, three, six, zero = np.float32(1.0 / 6.0), np.float32(3.0), np.float32(6.0), np.float32(0.0)
    n = x.size
    head = n - n % 4
    for i in range(head):
        v = x[i]
        r = v + three
        if r < zero:
            r = zero
        elif r > six:
            r = six
        out[i] = (v * sixth) * r
    for i in range(head, n):
        v = x[i]
        r = v + three
        if r < zero:
            r = zero
        elif r > six:
            r = six
        out[i] = (v * r) * sixth


@nb.njit(**_FLAGS)
def gelu_erfc_head(x, c_arg, c, t_out, out):
    half, one = np.float32(0.5), np.float32(1.0)
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]
    for i in range(x.size):
        z = abs(x[i] * c_arg)
        t = one / (z * half + one)
        poly = c0 * t + c1
        poly = poly * t + c2
        poly = poly * t + c3
        poly = poly * t + c4
        poly = poly * t + c5
        poly = poly * t + c6
        poly = poly * t + c7
        poly = poly * t + c8
        poly = poly * t + c9
        t_out[i] = t
        out[i] = poly - z * z


@nb.njit(**_FLAGS)
def softmax_shift(x, beta, scaled, out):
    """Rows of ``x`` (2-D, contiguous) minus their maximum (NaN-propagating, as
    ``np.maximum.reduce``), times ``beta`` when ``scaled``."""
    rows, n = x.shape
    for r in range(rows):
        m = x[r, 0]
        for i in range(1, n):
            v = x[r, i]
            if v > m or v != v:  # numpy's maximum propagates NaN
                m = v
            if m != m:
                break
        for i in range(n):
            out[r, i] = x[r, i] - m
        if scaled:
            for i in range(n):
                out[r, i] = out[r, i] * beta


@nb.njit(**_FLAGS)
def numpy_pairwise_sum(a, start, n):
    """numpy's ``pairwise_sum`` of ``a[start:start + n]`` (float32): below 8 values in order,
    up to 128 in 8 interleaved partial sums combined as ((0+1)+(2+3))+((4+5)+(6+7)) then the
    remainder in order, above that the two halves (split at a multiple of 8) summed apart."""
    if n < 8:
        res = np.float32(0.0)
        for i in range(n):
            res += a[start + i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
        r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
        body = n - n % 8
        for i in range(8, body, 8):
            j = start + i
            r0 += a[j]
            r1 += a[j + 1]
            r2 += a[j + 2]
            r3 += a[j + 3]
            r4 += a[j + 4]
            r5 += a[j + 5]
            r6 += a[j + 6]
            r7 += a[j + 7]
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for i in range(body, n):
            res += a[start + i]
        return res
    half = n // 2
    half -= half % 8
    return numpy_pairwise_sum(a, start, half) + numpy_pairwise_sum(a, start + half, n - half)


@nb.njit(**_FLAGS)
def softmax_normalise(out):
    """Each row of ``out`` (2-D, contiguous, after ``exp``) divided by its pairwise sum."""
    rows, n = out.shape
    flat = out.reshape(-1)
    for r in range(rows):
        s = numpy_pairwise_sum(flat, r * n, n)
        for i in range(n):
            out[r, i] = out[r, i] / s
