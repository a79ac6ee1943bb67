"""TFLite's fixed-point arithmetic, vectorised over numpy arrays.

Integer kernels must reproduce LiteRT bit for bit, so these follow TFLite's
(and gemmlowp's) definitions exactly:

* ``quantize_multiplier(real)``: a real multiplier as a Q0.31 significand in
  [2^30, 2^31) and a power-of-two exponent (``frexp``, then round half away
  from zero; a significand that rounds up to 2^31 is halved and the exponent
  bumped; exponents below -31 become a zero multiplier).
* ``saturating_rounding_doubling_high_mul(a, b)``: the high 32 bits of 2*a*b,
  rounded to nearest (ties away from zero), saturating the one overflow case
  a == b == INT32_MIN. C's truncating division is emulated for negatives.
* ``rounding_divide_by_pot(x, e)``: x / 2^e rounded to nearest, ties away from zero.
* ``multiply_by_quantized_multiplier(x, m, shift)``: the usual "double
  rounding" requantization: left shift, high-mul, rounding right shift.
* ``multiply_by_quantized_multiplier_int64``: the int16x8 variant for 64-bit
  accumulators (multiplier reduced to 16 bits, single rounding shift).

All functions take int32-valued inputs in int64 arrays (so products do not
overflow) and broadcast their arguments (per-channel multipliers/shifts).
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def round_half_away(x):
    """C's ``round``: to nearest, ties away from zero (TfLiteRound)."""
    x = np.asarray(x)
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


def quantize_multiplier(real) -> tuple[np.ndarray, np.ndarray]:
    """(int32 significand, int shift) with real ~= significand * 2^(shift - 31), elementwise.

    ``frexp`` already gives (0, 0) for a zero multiplier; the rare corrections
    (significand rounding up to 2^31, exponents out of range) are applied only
    where they occur, so per-channel vectors cost a handful of array passes.
    """
    real = np.asarray(real, dtype=np.float64)
    q, shift = np.frexp(np.atleast_1d(real))
    scaled = q * float(1 << 31)
    q_fixed = np.floor(np.abs(scaled) + 0.5)  # round half away from zero, sign restored below
    np.copysign(q_fixed, scaled, out=q_fixed)
    q_fixed = q_fixed.astype(np.int64)
    shift = shift.astype(np.int64)
    bump = q_fixed == (1 << 31)
    if bump.any():
        q_fixed[bump] >>= 1
        shift[bump] += 1
    tiny = shift < -31
    if tiny.any():
        q_fixed[tiny] = 0
        shift[tiny] = 0
    big = shift > 30
    if big.any():
        q_fixed[big] = INT32_MAX
        shift[big] = 30
    return q_fixed.reshape(real.shape), shift.reshape(real.shape)


def quantize_multiplier_scalar(real: float) -> tuple[int, int]:
    """:func:`quantize_multiplier` for one Python float, in plain Python (no array overhead)."""
    q, shift = math.frexp(float(real))
    scaled = q * float(1 << 31)
    q_fixed = int(math.floor(abs(scaled) + 0.5))
    if scaled < 0:
        q_fixed = -q_fixed
    if q_fixed == (1 << 31):
        q_fixed >>= 1
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return INT32_MAX, 30
    return q_fixed, shift


def saturating_rounding_doubling_high_mul(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudged = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    # C integer division by 2^31 truncates toward zero.
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))
    overflow = (a == b) & (a == INT32_MIN)
    return np.where(overflow, INT32_MAX, high)


def rounding_divide_by_pot(x, exponent):
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier for int32 values (double rounding)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = np.asarray(x, dtype=np.int64) << left
    # int32 arithmetic in C: the shifted value wraps to 32 bits.
    x = ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), right)


def multiply_by_quantized_multiplier_int64(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier(int64_t x, ...) used by int16x8 kernels."""
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    reduced = np.where(multiplier < 0x7FFF0000, (multiplier + (1 << 15)) >> 16, 0x7FFF)
    total_shift = 15 - shift
    x = np.asarray(x, dtype=np.int64) * reduced + (np.int64(1) << (total_shift - 1))
    return x >> total_shift


def activation_range(activation: int, scale: float, zero_point: int, qmin: int, qmax: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the clamp bounds of a fused activation."""
    def q(f: float) -> int:
        v = np.float32(f) / np.float32(scale)  # float32 division and float32 rounding, as TFLite
        half = np.float32(0.5)
        return int(zero_point) + int(np.floor(v + half) if v >= 0 else np.ceil(v - half))
    if activation == 1:  # RELU
        return max(qmin, q(0.0)), qmax
    if activation == 3:  # RELU6
        return max(qmin, q(0.0)), min(qmax, q(6.0))
    if activation == 2:  # RELU_N1_TO_1
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    return qmin, qmax


_RANGES: dict[np.dtype, tuple[int, int]] = {}


def dtype_range(dtype) -> tuple[int, int]:
    """(min, max) of an integer dtype."""
    dtype = np.dtype(dtype)
    r = _RANGES.get(dtype)
    if r is None:
        info = np.iinfo(dtype)
        r = _RANGES[dtype] = (int(info.min), int(info.max))
    return r


def multiply_by_quantized_multiplier_fast(x, multiplier, shift, ties_up: bool = False):
    """Same result as :func:`multiply_by_quantized_multiplier`, in fewer array passes.

    For the hot path of integer kernels. Uses that, for a positive multiplier,
    the high-mul's "nudge then truncate" equals ``(a*b + 2^30) >> 31`` (an
    arithmetic, flooring shift) and that the rounding right shift is
    ``(h + 2^(r-1) - [h < 0]) >> r`` for r > 0. ``x`` holds int32 values
    (any integer dtype); ``multiplier`` must be non-negative (TFLite's always are).

    ``ties_up=True`` gives the variant of LiteRT's x86 SIMD int8 paths (ruy's
    GEMM kernels, the vectorised depthwise/transpose-conv output stages): the
    final rounding right shift rounds ties toward +infinity, ``(h + 2^(r-1)) >> r``.
    ``ties_up`` may also be a boolean array broadcasting like ``shift``
    (per output channel).
    """
    multiplier = np.asarray(multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    x = np.asarray(x, dtype=np.int64)
    if np.any(shift > 0):
        x = x << np.maximum(shift, 0)
        x = ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    right = np.maximum(-shift, 0)
    high = x * multiplier
    high += 1 << 30
    high >>= 31
    half = (np.int64(1) << right) >> 1
    if isinstance(ties_up, np.ndarray):
        high += half - ((high < 0) & (right > 0) & ~ties_up)
    elif ties_up:
        high += half
    elif np.all(right > 0):
        neg = high < 0
        high += half
        high -= neg
    else:
        adjust = half - ((high < 0) & (right > 0))
        high += adjust
    high >>= right
    return high
