"""Integer (int8 / int16) elementwise kernels, bit-exact with LiteRT, and the
fixed-point / lookup-table helpers the integer activations
(``quantized_activations``) share.

These follow the arithmetic of TFLite's builtin (non-XNNPACK) kernels as built
for x86, including where LiteRT's SIMD loops differ from its scalar code:

* ADD / SUB: both inputs are moved to a common scale with ``left_shift`` extra
  bits (20 for 8-bit, 15 for general-scale int16), rescaled with Q31
  multipliers, summed in int32 and requantized. The int16 power-of-two path
  (``pot_scale_int16``) shifts one input and adds with saturation. LiteRT's
  AVX2 ADD loops fold the left shift into the multiplier exponent (one rounding
  less); :func:`simd_lane_runs` tells which elements run there (blocks of 16,
  or of 8 against a broadcast scalar, following TFLite's five-fold broadcast).
* MUL: ``(x1 - zp1) * (x2 - zp2)`` requantized by ``s1*s2/so`` (float product);
  its SIMD lanes narrow to int16 before adding the output offset.
* DIV: reciprocal of the divisor by Newton-Raphson (gemmlowp), as reference Div.
* SQUARED_DIFFERENCE: like ADD with ``left_shift`` 7, the difference squared.
* comparisons: both sides rescaled with ``left_shift`` 8 by their own scale.
* 8-bit ADD, SUB, MUL, SQUARED_DIFFERENCE with outputs of 65536 elements or
  more: that is as many as there are input pairs, so the arithmetic above is
  evaluated once for every pair (per SIMD/scalar path) and ``eval`` looks the
  results up by the two input bytes (:class:`QuantizedBinary`).
* unary math ops (EXP, LOG, SQRT, ABS, RSQRT) and, through the same
  :class:`QuantizedTableUnary`, the unary activations: an 8/16-bit function has
  only 256/65536 possible inputs, so TFLite's exact per-value arithmetic (float
  ``LUTPopulate``, the int16 interpolated LUT, or the integer fixed-point code)
  is evaluated for all of them once and ``eval`` is a table lookup. Prepare
  only checks the quantization; the table is built on the first eval and
  shared by kernels with the same op, quantization and options.
"""
from __future__ import annotations

import math
import struct
import threading

import numpy as np

from . import quant_math as qm
from .base import Kernel, TensorSpec, register

# ----------------------------------------------------------------------------- helpers


_FLOAT32 = np.dtype(np.float32)
_INT16 = np.dtype(np.int16)
_INT8 = np.dtype(np.int8)
_PACK_F32 = struct.Struct("f")


def qparams(spec: TensorSpec, what: str = "tensor") -> tuple[float, int]:
    """(float32 scale as Python float, zero point) of a per-tensor quantized spec."""
    scale, zero_point = spec.scale, spec.zero_point
    if scale.size == 0:
        raise ValueError(f"{what} {spec.name!r} is not quantized")
    # .item() gives plain Python numbers without numpy scalar round trips (prepare runs per node)
    s = scale.item(0) if scale.dtype is _FLOAT32 else float(np.float32(scale.item(0)))
    return s, int(zero_point.item(0)) if zero_point.size else 0


def round_to_float32(x: float) -> float:
    """``x`` rounded to the nearest float32 (ties to even), as a Python float; +-inf past float32's range.

    A float32 +, -, * or / computed in double and rounded once is the correctly rounded
    float32 result (double has more than twice float32's precision), so chains of these
    on float32-valued Python floats reproduce numpy float32 arithmetic exactly."""
    try:
        return _PACK_F32.unpack(_PACK_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def f32(x) -> np.float32:
    return np.float32(x)


def to_int32_like_x86(values: np.ndarray) -> np.ndarray:
    """C's float -> int32 conversion on x86 (cvttss2si): truncation, and INT32_MIN when out of range or NaN."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(v) | (v >= 2.0**31) | (v < -(2.0**31))
    safe = np.where(bad, 0.0, v)
    return np.where(bad, qm.INT32_MIN, np.trunc(safe)).astype(np.int64)


def lut_populate_8bit(in_scale: float, in_zp: int, out_scale: float, out_zp: int, transform,
                      dtype=np.int8) -> np.ndarray:
    """TFLite's LUTPopulate for 8-bit types: a table indexed by ``value - qmin``.

    ``transform`` maps a float32 array to a float32 array (TFLite evaluates it in float).
    """
    qmin, qmax = qm.dtype_range(dtype)
    vals = np.arange(qmin, qmax + 1, dtype=np.int64)
    dequantized = f32(in_scale) * (vals - in_zp).astype(np.float32)
    transformed = np.asarray(transform(dequantized.astype(np.float32)), dtype=np.float32)
    inverse_scale = f32(1.0) / f32(out_scale)
    with np.errstate(over="ignore", invalid="ignore"):
        rescaled = qm.round_half_away((transformed * inverse_scale).astype(np.float32)).astype(np.float32)
        quantized = to_int32_like_x86((rescaled + f32(out_zp)).astype(np.float32))
    return np.clip(quantized, qmin, qmax).astype(dtype)


def lut_populate_int16(in_scale: float, in_zp: int, out_scale: float, out_zp: int, transform,
                       float_type=np.float32) -> np.ndarray:
    """TFLite's LUTPopulate<int16_t>: 513 interpolation points over the input range.

    ``float_type`` is the FloatT TFLite instantiates it with (float, or double for softmax).
    """
    ft = float_type
    lo, hi = -32768, 32767
    input_min = ft(ft(in_scale) * ft(lo - in_zp))
    input_max = ft(ft(in_scale) * ft(hi - in_zp))
    output_min = ft(ft(out_scale) * ft(lo - out_zp))
    output_max = ft(ft(out_scale) * ft(hi - out_zp))
    step = ft((input_max - input_min) / ft(512))
    half_step = ft(step / ft(2))
    scaling_inv = ft(ft(65536) / (output_max - output_min))
    i = np.arange(512, dtype=ft)
    xs = (input_min + i * step).astype(ft)
    xmid = (xs + half_step).astype(ft)
    xnext = (input_min + (i + ft(1)) * step).astype(ft)
    val = np.asarray(transform(xs), ft)
    val_mid = np.asarray(transform(xmid), ft)
    val_next = np.asarray(transform(xnext), ft)
    rnd = lambda a: qm.round_half_away(np.asarray(a, ft)).astype(ft)  # noqa: E731
    sample = rnd(val * scaling_inv)
    mid_interp = rnd((val_next * scaling_inv + rnd(val * scaling_inv)) / ft(2))
    mid_val = rnd(val_mid * scaling_inv)
    bias = rnd((mid_interp - mid_val) / ft(2))
    table = np.empty(513, np.int64)
    table[:512] = np.clip(sample - bias, lo, hi).astype(np.int64)
    last = rnd(np.asarray(transform(np.asarray([input_max], ft)), ft) * scaling_inv)
    table[512] = int(np.clip(last, lo, hi)[0])
    return table


def lut_lookup_int16(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """TFLite's int16 LUTLookup: 9-bit index plus 7-bit linear interpolation."""
    x = x.astype(np.int64)
    index = 256 + (x >> 7)
    offset = x & 0x7F
    base = table[index]
    slope = table[index + 1] - base
    return (base + ((slope * offset + 64) >> 7)).astype(np.int16)


def sat_rounding_doubling_high_mul_16(a, b):
    """gemmlowp's int16 SaturatingRoundingDoublingHighMul."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    s = ab + nudge
    high = np.where(s >= 0, s >> 15, -((-s) >> 15))
    return np.where((a == b) & (a == -32768), 32767, high)


def sat_doubling_high_mul_16(a, b):
    """TFLite's int16 SaturatingDoublingHighMul (truncating, no rounding nudge)."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    ab = a * b
    high = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((a == b) & (a == -32768), 32767, high)


def wrap16(x):
    """int16 wrap-around of int64-held values."""
    return ((np.asarray(x, np.int64) + (1 << 15)) & 0xFFFF) - (1 << 15)


def down_scale_multiplier_to_int16(m: int) -> int:
    if m >= qm.INT32_MAX - (1 << 15):
        return 32767
    return (int(m) + (1 << 15)) >> 16


def scalar_multiplier(real: float) -> tuple[int, int]:
    return qm.quantize_multiplier_scalar(real)


def check_log2(scale: float) -> tuple[bool, int]:
    """TFLite's CheckedLog2: (is a power of two within 1e-3 in log2, rounded log2)."""
    lg = math.log2(scale)
    rounded = int(qm.round_half_away(lg))
    return abs(lg - rounded) < 1e-3, rounded


def broadcast_shape(a: TensorSpec, b: TensorSpec, fail) -> tuple[int, ...]:
    """numpy's broadcast of the two specs' shapes (plain Python: prepare runs per node)."""
    s1, s2 = tuple(a.shape), tuple(b.shape)
    if s1 == s2:
        return s1
    if len(s1) < len(s2):
        s1 = (1,) * (len(s2) - len(s1)) + s1
    elif len(s2) < len(s1):
        s2 = (1,) * (len(s1) - len(s2)) + s2
    dims = []
    for d1, d2 in zip(s1, s2):
        if d1 == d2 or d2 == 1:
            dims.append(d1)
        elif d1 == 1:
            dims.append(d2)
        else:
            raise fail(f"inputs of shapes {a.shape} and {b.shape} do not broadcast")
    return tuple(dims)


def broadcast_layout(shape1, shape2) -> tuple[str, list[int]]:
    """TFLite's ProcessBroadcastShapes: ("none"|"generic"|"first"|"second", five-fold y0..y4)."""
    n = max(len(shape1), len(shape2))
    e1 = [1] * (n - len(shape1)) + list(shape1)
    e2 = [1] * (n - len(shape2)) + list(shape2)
    if e1 == e2:
        return "none", []
    category = "generic"
    for i in range(n - 1, -1, -1):
        if e1[i] == e2[i]:
            continue
        if e1[i] == 1:
            category = "first"
        elif e2[i] == 1:
            category = "second"
        else:
            return "generic", []
        break
    a, b = (e2, e1) if category == "second" else (e1, e2)
    y = [1, 1, 1, 1, 1]
    i = n - 1
    while i >= 0 and a[i] == b[i]:
        y[4] *= b[i]
        i -= 1
    while i >= 0 and a[i] == 1:
        y[3] *= b[i]
        i -= 1
    while i >= 0 and a[i] == b[i]:
        y[2] *= a[i]
        i -= 1
    while i >= 0 and b[i] == 1:
        y[1] *= a[i]
        i -= 1
    while i >= 0 and a[i] == b[i]:
        y[0] *= b[i]
        i -= 1
    if i >= 0:
        return "generic", []
    return category, y


def simd_lane_runs(shape1, shape2, allow_broadcast: bool = True, elementwise_block: int = 16,
                   scalar_block: int = 8) -> tuple[int, int] | None:
    """(run, block): LiteRT's SIMD loops cover the first ``run - run % block`` of every ``run``
    consecutive output elements; None when no element goes through them.

    Non-broadcast: one loop over the flat tensor in blocks of ``elementwise_block``.
    Five-fold broadcast: inner runs of y4 elements (elementwise) or, when y4 == 1,
    runs of y3 elements against a broadcast scalar (blocks of ``scalar_block``).
    Generic broadcasts use the scalar reference code everywhere.
    """
    category, y = broadcast_layout(tuple(shape1), tuple(shape2))
    if category == "none":
        run, block = math.prod(shape1), elementwise_block
    elif category == "generic" or not allow_broadcast:
        return None
    elif y[4] > 1:
        run, block = y[4], elementwise_block
    else:
        run, block = y[3], scalar_block
    if run - run % block <= 0:
        return None
    return run, block


def lane_mask(runs: tuple[int, int], out_shape) -> np.ndarray:
    """The boolean output mask of the SIMD lanes described by :func:`simd_lane_runs`."""
    run, block = runs
    size = int(np.prod(out_shape, dtype=np.int64))
    return (np.arange(size, dtype=np.int64) % run < run - run % block).reshape(out_shape)


def simd_lane_mask(shape1, shape2, out_shape, allow_broadcast: bool = True,
                   elementwise_block: int = 16, scalar_block: int = 8) -> np.ndarray | None:
    """Which output elements LiteRT computes in its SIMD loops (True) rather than the scalar tails."""
    runs = simd_lane_runs(shape1, shape2, allow_broadcast, elementwise_block, scalar_block)
    return None if runs is None else lane_mask(runs, out_shape)


class SimdLanes:
    """Which output elements of a binary op take LiteRT's SIMD path: ``none``, ``all``, the flat
    prefix before ``tail_start`` (same-shape inputs), or a ``mask`` built on first use."""

    def __init__(self, runs: tuple[int, int] | None, out_shape, same_shapes: bool):
        self.out_shape = tuple(out_shape)
        self.none = runs is None
        self.all = not self.none and runs[0] % runs[1] == 0
        self.tail_start = None
        if not self.none and not self.all and same_shapes:
            size = math.prod(self.out_shape)
            self.tail_start = size - size % runs[1]
        self._runs = runs
        self._mask = None

    @property
    def mask(self) -> np.ndarray:
        if self._mask is None:
            self._mask = lane_mask(self._runs, self.out_shape)
        return self._mask


def requantize(x, multiplier: int, shift: int, overwrite: bool = False) -> np.ndarray:
    """MultiplyByQuantizedMultiplier for int32-valued ``x`` and scalar parameters, fast.

    Same results as :func:`quant_math.multiply_by_quantized_multiplier`: the rounding
    doubling high-mul is ``(x*m + 2^30) >> 31`` (gemmlowp's nudge then truncation
    reduce to this whenever x*m is not the INT32_MIN^2 corner), and the rounding
    right shift, half away from zero, is ``(h + 2^(e-1) - (h < 0)) >> e``.
    """
    x = np.asarray(x, np.int64)
    if shift > 0:
        x, overwrite = wrap32(x << shift), True
    if multiplier == 0:
        return np.zeros_like(x)
    if overwrite and x.flags.writeable:  # the caller's temporary may be reused
        h = x
        h *= multiplier
    else:
        h = x * multiplier
    h += 1 << 30
    h >>= 31
    right = -shift if shift < 0 else 0
    if right:
        h += (1 << (right - 1))
        h -= h < (1 << (right - 1))  # subtract 1 where the high-mul result was negative
        h >>= right
    return h


def store_result(out: np.ndarray | None, values: np.ndarray, dtype):
    """A kernel's eval result: ``values`` written into the planned ``out`` (None returned), or, for a
    dynamic output (``out`` None), returned as a one-array list of ``dtype``."""
    if out is None:
        return [values.astype(dtype)]
    np.copyto(out, values, casting="unsafe")
    return None


# ----------------------------------------------------------------------------- ADD / SUB


_TABLES: dict[tuple, object] = {}  # lookup tables shared by kernels with the same op and quantization
_TABLES_MAX_BYTES = 32 << 20  # past this the cache starts afresh (kernels keep their own references)
_tables_bytes = 0
_TABLES_LOCK = threading.Lock()


def _remember(key: tuple, tables) -> None:
    """Keeps read-only ``tables`` (an array or a tuple of arrays/None) for kernels built like ``key``."""
    global _tables_bytes
    arrays = [t for t in (tables if isinstance(tables, tuple) else (tables,)) if t is not None]
    for t in arrays:
        t.flags.writeable = False
    size = sum(t.nbytes for t in arrays)
    with _TABLES_LOCK:  # interpreters in several threads share this cache of read-only tables
        if _tables_bytes + size > _TABLES_MAX_BYTES:
            _TABLES.clear()
            _tables_bytes = 0
        _TABLES[key] = tables
        _tables_bytes += size


PAIR_TABLE_SIZE = 1 << 16


class QuantizedBinary(Kernel):
    """Shared set-up of the rescaling binary ops (ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE).

    With 8-bit inputs and output an op has only 65536 possible input pairs: subclasses that
    implement :meth:`pair_values` are then evaluated, for outputs of at least as many elements,
    through a table of every pair's exact result (built on the first eval, shared by kernels with
    the same op and quantization), indexed by the two input bytes. ``lanes`` tells which output
    elements take LiteRT's SIMD path (their own table).
    """

    def setup(self, inputs, outputs) -> tuple[tuple[int, ...], tuple[float, int], tuple[float, int],
                                              tuple[float, int]]:
        """Checks both inputs, sets the offsets ``off1``/``off2``/``off_out``, ``dtype`` and the fused
        activation's clamp ``act_min``/``act_max``; returns the output shape and the
        (scale, zero point) of both inputs and the output."""
        a, b, out = inputs[0], inputs[1], outputs[0]
        if a is None or b is None:
            raise self.fail("needs two inputs")
        shape = broadcast_shape(a, b, self.fail)
        q1, q2, qo = qparams(a, "input"), qparams(b, "input"), qparams(out, "output")
        self.off1, self.off2, self.off_out = -q1[1], -q2[1], qo[1]
        self.dtype = np.dtype(out.dtype)
        qmin, qmax = qm.dtype_range(self.dtype)
        self.act_min, self.act_max = qm.activation_range(
            self.options.get("fused_activation_function", 0), qo[0], qo[1], qmin, qmax)
        self.lanes = SimdLanes(None, shape, same_shapes=False)
        self.in_dtype = in_dtype = np.dtype(a.dtype)
        self.by_table = (in_dtype.itemsize == 1 and self.dtype.itemsize == 1
                         and math.prod(shape) >= PAIR_TABLE_SIZE and np.dtype(b.dtype) == in_dtype
                         and type(self).pair_values is not QuantizedBinary.pair_values)
        self.quant_params = (q1, q2, qo)  # for the table's cache key (built with the table)
        self._tables = None
        return shape, q1, q2, qo

    def pair_values(self, x1: np.ndarray, x2: np.ndarray, vector: bool) -> np.ndarray:
        """The clamped int64 results for raw input values ``x1``, ``x2`` on the SIMD (``vector``) or
        scalar path."""
        raise NotImplementedError

    def pair_tables(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(scalar-path, SIMD-path) tables of every input byte pair's result, index ``byte1 * 256 + byte2``."""
        if self._tables is None:
            key = (type(self), self.in_dtype.str, self.dtype.str, *self.quant_params, self.act_min,
                   self.act_max, self.lanes.all, self.lanes.none)
            tables = _TABLES.get(key)
            if tables is None:
                vals = np.arange(256, dtype=np.uint8).view(self.in_dtype).astype(np.int64)
                x1, x2 = np.repeat(vals, 256), np.tile(vals, 256)
                tables = tuple(None if skip else self.pair_values(x1, x2, vector).astype(self.dtype)
                               for vector, skip in ((False, self.lanes.all), (True, self.lanes.none)))
                _remember(key, tables)
            self._tables = tables
        return self._tables

    def eval_by_table(self, x1: np.ndarray, x2: np.ndarray, out: np.ndarray | None):
        index = np.empty(self.lanes.out_shape, np.uint16)
        np.multiply(x1.view(np.uint8), np.uint16(256), out=index, dtype=np.uint16)
        np.bitwise_or(index, x2.view(np.uint8), out=index)
        return self.lookup(index, *self.pair_tables(), out)

    def lookup(self, index: np.ndarray, scalar, vector, out: np.ndarray | None):
        """Each output element from the scalar-path or SIMD-path table (``lanes``), at ``index``."""
        lanes = self.lanes
        result = None
        if out is None:
            out = np.empty(lanes.out_shape, self.dtype)
            result = [out]
        if lanes.none:
            np.take(scalar, index, out=out, mode="clip")
        elif lanes.all:
            np.take(vector, index, out=out, mode="clip")
        elif lanes.tail_start is not None:  # same shapes: only the last few flat elements are scalar
            np.take(vector, index, out=out, mode="clip")
            t = lanes.tail_start
            out.reshape(-1)[t:] = scalar[index.reshape(-1)[t:]]
        else:
            np.copyto(out, np.where(lanes.mask, vector[index], scalar[index]))
        return result

    def eval_by_lanes(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """:meth:`pair_values` of int64 inputs, each element on its path."""
        lanes = self.lanes
        if lanes.none:
            return self.pair_values(x1, x2, False)
        if lanes.all:
            return self.pair_values(x1, x2, True)
        if lanes.tail_start is not None:  # same shapes: only the last few flat elements are scalar
            res = self.pair_values(x1, x2, True).reshape(-1)
            t = lanes.tail_start
            res[t:] = self.pair_values(x1.reshape(-1)[t:], x2.reshape(-1)[t:], False)
            return res.reshape(lanes.out_shape)
        return np.where(lanes.mask, self.pair_values(x1, x2, True), self.pair_values(x1, x2, False))

    def eval(self, inputs, outputs):
        if self.by_table:
            return self.eval_by_table(inputs[0], inputs[1], outputs[0])
        res = self.eval_by_lanes(inputs[0].astype(np.int64), inputs[1].astype(np.int64))
        return store_result(outputs[0], res, self.dtype)


class QuantizedAddSub(QuantizedBinary):
    """int8/uint8/int16 ADD and SUB (general rescaling path and int16 power-of-two path)."""

    sign = 1

    def prepare(self, inputs, outputs):
        a, b, out = inputs[0], inputs[1], outputs[0]
        shape, (s1, z1), (s2, z2), (so, zo) = self.setup(inputs, outputs)
        self.pot = False
        if np.dtype(out.dtype) == np.int16:
            if z1 or z2 or zo:
                raise self.fail("int16 quantized inputs/outputs need zero points of 0")
            general = not self.options.get("pot_scale_int16", True)
            if not general:
                p1, l1 = check_log2(s1)
                p2, l2 = check_log2(s2)
                po, lo = check_log2(so)
                general = not (p1 and p2 and po)
            if not general:
                self.pot = True
                self.shift1, self.shift2 = l1 - lo, l2 - lo
                if not (self.shift1 == 0 or self.shift2 == 0) or self.shift1 > 0 or self.shift2 > 0:
                    raise self.fail("power-of-two int16 scales need one input on the output scale "
                                    "and the other on a finer one")
                return [shape]
            self.left_shift = 15
        else:
            self.left_shift = 20
        # LiteRT's x86 build runs 8-bit ADD (and non-broadcast int16 ADD) through AVX2 loops
        # that fold the input left shift into one rescale; the loop tails use the scalar code.
        runs = None
        if self.sign > 0:
            runs = simd_lane_runs(a.shape, b.shape, allow_broadcast=np.dtype(out.dtype) != np.int16)
        self.lanes = SimdLanes(runs, shape, tuple(a.shape) == tuple(b.shape))
        twice_max = 2.0 * float(max(np.float32(s1), np.float32(s2)))
        self.m1 = scalar_multiplier(s1 / twice_max)
        self.m2 = scalar_multiplier(s2 / twice_max)
        self.mo = scalar_multiplier(twice_max / (float(1 << self.left_shift) * so))
        return [shape]

    def _rescaled(self, x, m, vector: bool):
        # |x| < 2^16 and the shifts keep x << shift inside int32, as TFLite's own arithmetic does
        if vector:  # SIMD lanes fold the left shift into the multiplier's exponent
            total = m[1] + self.left_shift
            if total >= 0:
                return requantize(x << total, m[0], 0, overwrite=True)
            return requantize(x, m[0], total)
        return requantize(x << self.left_shift, *m, overwrite=True)

    def pair_values(self, x1, x2, vector: bool):
        a = self._rescaled(x1 + self.off1, self.m1, vector)
        b = self._rescaled(x2 + self.off2, self.m2, vector)
        raw = a + b if self.sign > 0 else a - b
        res = requantize(raw, *self.mo, overwrite=True)
        res += self.off_out
        np.clip(res, self.act_min, self.act_max, out=res)
        return res

    def eval(self, inputs, outputs):
        if self.pot:
            return self._eval_pot(inputs[0].astype(np.int64), inputs[1].astype(np.int64), outputs)
        return super().eval(inputs, outputs)

    def _eval_pot(self, x1, x2, outputs):
        if self.shift1 < 0:
            x1 = qm.rounding_divide_by_pot(x1, -self.shift1)
        if self.shift2 < 0:
            x2 = qm.rounding_divide_by_pot(x2, -self.shift2)
        raw = x1 + x2 if self.sign > 0 else x1 - x2
        res = np.clip(raw, -32768, 32767)
        np.clip(res, self.act_min, self.act_max, out=res)
        return store_result(outputs[0], res, self.dtype)


@register("ADD", kind="int8")
@register("ADD", kind="int16")
class QuantizedAdd(QuantizedAddSub):
    sign = 1


@register("SUB", kind="int8")
@register("SUB", kind="int16")
class QuantizedSub(QuantizedAddSub):
    sign = -1


# ----------------------------------------------------------------------------- MUL


@register("MUL", kind="int8")
@register("MUL", kind="int16")
class QuantizedMul(QuantizedBinary):
    """int8/int16 MUL: offset-corrected product requantized by s1*s2/so (computed in float32)."""

    def prepare(self, inputs, outputs):
        a, b, out = inputs[0], inputs[1], outputs[0]
        shape, (s1, z1), (s2, z2), (so, zo) = self.setup(inputs, outputs)
        if self.in_dtype == _INT16 and (z1 or z2 or zo) and self.dtype == _INT16:
            raise self.fail("int16 MUL needs zero points of 0")
        # s1 * s2 / so in float32 (the scales are float32 values; see round_to_float32)
        real = round_to_float32(round_to_float32(s1 * s2) / so) if so else float(f32(f32(s1) * f32(s2)) / f32(so))
        self.m = scalar_multiplier(real)
        # LiteRT's x86 int8 MUL narrows its SIMD lanes to int16 (saturating) before adding the
        # output offset with int16 wrap-around; only results beyond int16 see the difference.
        runs = None
        if self.dtype == _INT8 and self.m[1] > 0:
            runs = simd_lane_runs(a.shape, b.shape, scalar_block=16)
        self.lanes = SimdLanes(runs, shape, same_shapes=False)
        return [shape]

    def pair_values(self, x1, x2, vector: bool):
        scaled = requantize((x1 + self.off1) * (x2 + self.off2), *self.m, overwrite=True)
        if vector:  # int16 saturation, then the offset added with int16 wrap-around
            res = wrap16(np.clip(scaled, -32768, 32767) + self.off_out)
        else:
            res = scaled
            res += self.off_out
        np.clip(res, self.act_min, self.act_max, out=res)
        return res


# ----------------------------------------------------------------------------- SQUARED_DIFFERENCE


@register("SQUARED_DIFFERENCE", kind="int8")
class QuantizedSquaredDifference(QuantizedBinary):
    left_shift = 7

    def prepare(self, inputs, outputs):
        out = outputs[0]
        if np.dtype(out.dtype) != np.int8:
            raise self.fail(f"quantized SQUARED_DIFFERENCE supports int8 only, not {np.dtype(out.dtype)}")
        shape, (s1, _), (s2, _), (so, _) = self.setup(inputs, outputs)
        twice_max = float(f32(2) * max(f32(s1), f32(s2)))
        self.m1 = scalar_multiplier(s1 / twice_max)
        self.m2 = scalar_multiplier(s2 / twice_max)
        self.mo = scalar_multiplier((twice_max * twice_max) / (float(1 << (2 * self.left_shift)) * so))
        return [shape]

    def pair_values(self, x1, x2, vector: bool):
        a = requantize((x1 + self.off1) << self.left_shift, *self.m1)
        b = requantize((x2 + self.off2) << self.left_shift, *self.m2)
        d = a - b
        res = requantize(d * d, *self.mo) + self.off_out
        np.clip(res, -128, 127, out=res)
        return res


# ----------------------------------------------------------------------------- MAXIMUM / MINIMUM


class _RawBinary(Kernel):
    """Ops that work on the raw stored integers (TFLite requires matching quantization)."""

    func = None

    def prepare(self, inputs, outputs):
        self.dtype = outputs[0].dtype
        return [broadcast_shape(inputs[0], inputs[1], self.fail)]

    def eval(self, inputs, outputs):
        res = type(self).func(inputs[0], inputs[1])
        return store_result(outputs[0], res, self.dtype)


@register("MAXIMUM", kind="int8")
@register("MAXIMUM", kind="int16")
class QuantizedMaximum(_RawBinary):
    func = staticmethod(np.maximum)


@register("MINIMUM", kind="int8")
@register("MINIMUM", kind="int16")
class QuantizedMinimum(_RawBinary):
    func = staticmethod(np.minimum)


# ----------------------------------------------------------------------------- comparisons


class QuantizedComparison(Kernel):
    """LESS/GREATER/...: 8-bit inputs rescaled (left_shift 8, multiplier = own scale) then compared."""

    func = None

    def prepare(self, inputs, outputs):
        a, b = inputs[0], inputs[1]
        shape = broadcast_shape(a, b, self.fail)
        self.rescale = np.dtype(a.dtype) in (np.dtype(np.int8), np.dtype(np.uint8)) and a.quantized
        if self.rescale:
            s1, z1 = qparams(a, "input")
            s2, z2 = qparams(b, "input")
            self.off1, self.off2 = -z1, -z2
            self.m1 = scalar_multiplier(s1)
            self.m2 = scalar_multiplier(s2)
        return [shape]

    def eval(self, inputs, outputs):
        if self.rescale:
            x1 = requantize((inputs[0].astype(np.int64) + self.off1) << 8, *self.m1)
            x2 = requantize((inputs[1].astype(np.int64) + self.off2) << 8, *self.m2)
        else:
            x1, x2 = inputs[0], inputs[1]
        return store_result(outputs[0], type(self).func(x1, x2), np.bool_)


def _comparison(name: str, func):
    cls = type(f"Quantized{name.title().replace('_', '')}", (QuantizedComparison,),
               {"func": staticmethod(func)})
    register(name, kind="int8")(cls)
    register(name, kind="int16")(cls)
    return cls


QuantizedLess = _comparison("LESS", np.less)
QuantizedLessEqual = _comparison("LESS_EQUAL", np.less_equal)
QuantizedGreater = _comparison("GREATER", np.greater)
QuantizedGreaterEqual = _comparison("GREATER_EQUAL", np.greater_equal)
QuantizedEqual = _comparison("EQUAL", np.equal)
QuantizedNotEqual = _comparison("NOT_EQUAL", np.not_equal)


# ----------------------------------------------------------------------------- DIV


def _sat_shift_left_32(x, amount: int):
    r = np.asarray(x, np.int64) << amount
    return np.clip(r, qm.INT32_MIN, qm.INT32_MAX)


def _fp_mul(a, b):
    return qm.saturating_rounding_doubling_high_mul(a, b)


def wrap32(x):
    """int32 wrap-around of int64-held values."""
    return ((np.asarray(x, np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def one_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp's Newton-Raphson 1/(1+x) on Q0.31 raws, returning Q0.31 raws."""
    a = np.asarray(a, np.int64)
    s = a + qm.INT32_MAX
    half_denominator = np.where(s >= 0, (s + 1) // 2, -((-(s - 1)) // 2))
    c48_17 = 1515870810
    cneg32_17 = -1010580540
    one_f2 = 1 << 29
    x = wrap32(c48_17 + _fp_mul(half_denominator, cneg32_17))
    for _ in range(3):
        hdx = _fp_mul(half_denominator, x)
        one_minus = wrap32(one_f2 - hdx)
        x = wrap32(x + _sat_shift_left_32(_fp_mul(x, one_minus), 2))
    return _sat_shift_left_32(x >> 1, 2)


def count_leading_zeros_32(x):
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    out = np.full(x.shape, 32, np.int64)
    nz = x > 0
    out[nz] = 31 - np.floor(np.log2(x[nz].astype(np.float64))).astype(np.int64)
    return out


def count_leading_sign_bits_32(x):
    x = np.asarray(x, np.int64)
    pos = count_leading_zeros_32(np.where(x >= 0, x, 0)) - 1
    neg = count_leading_zeros_32(np.where(x < 0, 2 * (-x) - 1, 1))
    res = np.where(x >= 0, pos, np.where(x == qm.INT32_MIN, 0, neg))
    return np.where(x == 0, 31, res)


def rounding_divide_by_pot_x86(x, exponent):
    """gemmlowp's RoundingDivideByPOT on int32 as compiled for x86, exponents >= 32 included.

    The mask ``(1ll << e) - 1`` truncated to int32 is all ones for e >= 32, and the
    int32 arithmetic shift uses ``e mod 32``: this is what LiteRT computes for
    quotients far below one output step.
    """
    x = np.asarray(x, np.int64)
    e = np.asarray(exponent, np.int64)
    big = e >= 32
    mask = np.where(big, -1, (np.int64(1) << np.minimum(e, 31)) - 1)
    remainder = np.where(big, x, x & mask)
    threshold = (mask >> 1) + (x < 0)
    return (x >> (e & 31)) + (remainder > threshold)


@register("DIV", kind="int8")
class QuantizedDiv(QuantizedBinary):
    """int8/uint8 DIV: reciprocal of the divisor by Newton-Raphson, as TFLite's reference Div."""

    def prepare(self, inputs, outputs):
        shape, (s1, _), (s2, _), (so, _) = self.setup(inputs, outputs)
        real = float(f32(s1) / (f32(s2) * f32(so)))
        self.m = scalar_multiplier(real)
        return [shape]

    def eval(self, inputs, outputs):
        x1, x2 = np.broadcast_arrays(inputs[0].astype(np.int64) + self.off1,
                                     inputs[1].astype(np.int64) + self.off2)
        if np.any(x2 == 0):
            raise self.fail("division by zero (divisor equals its zero point)")
        # a negative divisor flips both signs so that the reciprocal multiplier stays positive
        x1 = np.where(x2 < 0, -x1, x1)
        mag = np.abs(x2)
        headroom_plus_one = count_leading_zeros_32(mag)
        recip_shift = 31 - headroom_plus_one
        shifted = wrap32((mag << headroom_plus_one) - (1 << 31))
        inv = one_over_one_plus_x_for_x_in_0_1(shifted)
        headroom = count_leading_sign_bits_32(x1)
        unscaled = qm.saturating_rounding_doubling_high_mul(wrap32(x1 << headroom), inv)
        total_shift = self.m[1] - recip_shift - headroom
        res = rounding_divide_by_pot_x86(qm.saturating_rounding_doubling_high_mul(unscaled, self.m[0]),
                                         -total_shift) + self.off_out
        np.clip(res, self.act_min, self.act_max, out=res)
        return store_result(outputs[0], res, self.dtype)


# ----------------------------------------------------------------------------- unary ops by table


class QuantizedTableUnary(Kernel):
    """Unary op on 8- or 16-bit values evaluated through a table of all possible inputs.

    Subclasses implement ``table_values(values, spec_in, spec_out)``: the exact
    TFLite result for every representable input value (int64 array in, int64 out),
    and may refuse unsupported quantization in ``check`` (run by prepare). The
    table is only needed by eval: it is built on the first eval and shared by
    every kernel of the same class, dtypes, quantization and options.
    ``domain_error`` (SQRT, RSQRT) is raised for inputs below :meth:`domain_min`.
    """

    same_shape = True
    domain_error: str | None = None

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if x is None:
            raise self.fail("missing input")
        self.in_dtype = np.dtype(x.dtype)
        self.dtype = np.dtype(out.dtype)
        self.qmin = qm.dtype_range(self.in_dtype)[0]
        self.specs = (x, out)
        self.check(x, out)
        if self.domain_error is not None:
            self.lowest = self.domain_min(x)
        self._table = None
        return [x.shape]

    def check(self, spec_in, spec_out) -> None:
        """Refuse what the table cannot represent (at prepare time)."""
        qparams(spec_in, "input")
        qparams(spec_out, "output")

    def domain_min(self, spec_in) -> int:
        """The smallest input value the op is defined for: the real value 0."""
        return int(spec_in.zero_point[0]) if spec_in.zero_point.size else 0

    def table_values(self, values, spec_in, spec_out):
        raise NotImplementedError

    def table(self) -> np.ndarray:
        """The output for every input value, indexed by ``value - qmin`` (int8: by the uint8 bit pattern)."""
        if self._table is None:
            x, out = self.specs
            options = tuple(sorted((k, v) for k, v in self.options.items()
                                   if isinstance(v, (bool, int, float, str))))
            key = (type(self), self.in_dtype.str, self.dtype.str, qparams(x), qparams(out), options)
            table = _TABLES.get(key)
            if table is None:
                qmin, qmax = qm.dtype_range(self.in_dtype)
                values = np.arange(qmin, qmax + 1, dtype=np.int64)
                table = np.asarray(self.table_values(values, x, out)).astype(self.dtype)
                if self.in_dtype == np.int8:  # 0..127, then -128..-1
                    table = np.roll(table, qmin)
                _remember(key, table)
            self._table = table
        return self._table

    def eval(self, inputs, outputs):
        x = inputs[0]
        if self.domain_error is not None and np.any(x < self.lowest):
            raise self.fail(self.domain_error)
        table = self.table()
        if self.in_dtype == np.int8:
            res = table[np.ascontiguousarray(x).view(np.uint8)]
        else:
            res = np.take(table, x.astype(np.int32) - self.qmin if self.qmin else x)
        return store_result(outputs[0], res, self.dtype)


class FloatLutUnary(QuantizedTableUnary):
    """int8: TFLite's LUTPopulate of a float function; int16: the 513-point interpolated LUT."""

    def transform(self, x: np.ndarray, spec_out) -> np.ndarray:
        raise NotImplementedError

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        fn = lambda v: self.transform(v, spec_out)  # noqa: E731
        if self.in_dtype == np.int16:
            table = lut_populate_int16(si, zi, so, zo, fn)
            return lut_lookup_int16(values, table).astype(np.int64)
        return lut_populate_8bit(si, zi, so, zo, fn, self.in_dtype).astype(np.int64)


def _f64_to_f32(fn):
    """A float32 libm-like function: computed in double and rounded once."""
    def g(x):
        with np.errstate(all="ignore"):
            return fn(np.asarray(x, np.float64)).astype(np.float32)
    return g


expf = _f64_to_f32(np.exp)
tanhf = _f64_to_f32(np.tanh)
logf = _f64_to_f32(np.log)
sqrtf = _f64_to_f32(np.sqrt)
expm1f = _f64_to_f32(np.expm1)


def erfc_f64(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erfc, otypes=[np.float64])(x)


@register("EXP", kind="int8")
@register("EXP", kind="int16")
class QuantizedExp(FloatLutUnary):
    def transform(self, x, spec_out):
        return expf(x)


@register("LOG", kind="int8")
@register("LOG", kind="int16")
class QuantizedLog(FloatLutUnary):
    def transform(self, x, spec_out):
        so, zo = qparams(spec_out)
        qmin, _ = qm.dtype_range(spec_out.dtype)
        output_min = f32(f32(qmin - zo) * f32(so))
        with np.errstate(all="ignore"):
            return np.where(x <= 0, output_min, logf(np.where(x <= 0, 1, x))).astype(np.float32)


@register("SQRT", kind="int8")
class QuantizedSqrt(QuantizedTableUnary):
    """int8 SQRT: float sqrt of the dequantized input, scaled and *truncated* (not rounded)."""

    domain_error = "Sqrt is only defined for non-negative values"

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        qmin, qmax = qm.dtype_range(spec_out.dtype)
        dequantized = (f32(si) * (values - zi).astype(np.float32)).astype(np.float32)
        root = sqrtf(np.maximum(dequantized, 0))
        scaled = (root * (f32(1) / f32(so))).astype(np.float32)
        return np.clip(to_int32_like_x86(scaled) + zo, qmin, qmax)


@register("ABS", kind="int8")
@register("ABS", kind="int16")
class QuantizedAbs(QuantizedTableUnary):
    def check(self, spec_in, spec_out):
        zi, zo = qparams(spec_in, "input")[1], qparams(spec_out, "output")[1]
        if np.dtype(spec_in.dtype) == np.int16 and (zi or zo):
            raise self.fail("int16 ABS needs zero points of 0")

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        qmin, qmax = qm.dtype_range(spec_out.dtype)
        v = np.abs(values - zi)
        if si != so:
            v = qm.multiply_by_quantized_multiplier(v, *scalar_multiplier(float(f32(si) / f32(so))))
        return np.clip(v + zo, qmin, qmax)


def inv_sqrt_multiplier_exp_vec(values) -> tuple[np.ndarray, np.ndarray]:
    """TFLite's GetInvSqrtQuantizedMultiplierExp (reverse_shift = -1), vectorised.

    Returns (multiplier, left shift) with 1/sqrt(value) ~= multiplier * 2^shift / 2^31,
    computed with the same 5 Newton-Raphson steps in Q3.28 fixed point.
    """
    v = np.asarray(values, np.int64)
    small = v <= 1
    v = np.where(small, 4, v)
    bitlen = 32 - count_leading_zeros_32(v)
    steps = np.maximum(0, (bitlen - 29 + 1) // 2)  # divisions by 4 until v < 2^29
    v = v >> (2 * steps)
    shift = 11 + steps
    pairs = ((32 - (32 - count_leading_zeros_32(v))) - 1) // 2 - 1
    shift = shift - pairs
    v = v << (2 * pairs)
    srdhm = qm.saturating_rounding_doubling_high_mul
    half_input = qm.rounding_divide_by_pot(v >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    x = np.full(v.shape, 1 << 28, np.int64)
    for _ in range(5):
        x3 = _sat_shift_left_32(srdhm(srdhm(x, x), x), 6)   # Rescale<3> of a Q9 product
        t = wrap32(srdhm(half_three, x) - srdhm(half_input, x3))
        x = _sat_shift_left_32(t, 3)                          # Rescale<3> of a Q6 product
    x = srdhm(x, 1518500250)
    neg = shift < 0
    x = np.where(neg, wrap32(x << np.where(neg, -shift, 0)), x)
    shift = np.where(neg, 0, shift)
    return np.where(small, qm.INT32_MAX, x), np.where(small, 0, -shift)


def inv_sqrt_multiplier_exp(value: int) -> tuple[int, int]:
    m, s = inv_sqrt_multiplier_exp_vec(np.asarray([value]))
    return int(m[0]), int(s[0])


@register("RSQRT", kind="int8")
class QuantizedRsqrt(QuantizedTableUnary):
    domain_error = "Rsqrt is only defined for positive values"

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        m, s = scalar_multiplier(1.0 / (math.sqrt(float(f32(si))) * so))
        k_shift = 20
        value = values - zi
        im, ish = inv_sqrt_multiplier_exp_vec(np.maximum(value, 0))
        data = qm.multiply_by_quantized_multiplier(np.ones_like(value), im, ish + k_shift)
        res = np.clip(qm.multiply_by_quantized_multiplier(data, m, s - k_shift) + zo, -128, 127)
        return np.where(value <= 0, 127, res)


@register("RSQRT", kind="int16")
class QuantizedRsqrtInt16(FloatLutUnary):
    domain_error = "Rsqrt is only defined for positive values"

    def domain_min(self, spec_in):
        return 0

    def transform(self, x, spec_out):
        so, _ = qparams(spec_out)
        with np.errstate(all="ignore"):
            r = (f32(1) / sqrtf(np.where(x <= 0, 1, x))).astype(np.float32)
        return np.where(x <= 0, f32(32767) * f32(so), r).astype(np.float32)
