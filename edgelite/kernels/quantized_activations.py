"""Integer (int8 / int16) activations, bit-exact with LiteRT's builtin x86 kernels.

* LOGISTIC, TANH, ELU, GELU (8-bit): TFLite's float ``LUTPopulate`` over the
  256 possible inputs; GELU int16: the 513-point interpolated int16 LUT.
* int16 LOGISTIC / TANH: TFLite's ``sigmoid_table_uint16`` with linear
  interpolation after rescaling the input to 1/(3*4096) units (the
  general-scale path); power-of-two input scales 2^-12 (and 2^-11 for TANH)
  select LiteRT's optimized path: gemmlowp's int16 fixed-point ``logistic`` /
  ``tanh`` (exp by Taylor polynomial and barrel shifter, Newton-Raphson
  division, int16 wrap-around and saturating arithmetic as in its scalar code).
* HARD_SWISH: TFLite's reference fixed-point arithmetic (int16 intermediate
  "hires" input, reluish factor, doubling high-muls).
* LEAKY_RELU, RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1: identity (and alpha)
  multipliers to the output scale, then the clamp.
Those are unary: :class:`QuantizedTableUnary` evaluates the exact arithmetic
for every representable input once (on first use) and ``eval`` is a lookup.

* SOFTMAX / LOG_SOFTMAX with 8-bit input: the float exp table of
  ``PopulateSoftmaxLookupTable``, a sequential float32 sum per row. int16
  SOFTMAX: exp and 1/(1+x) int16 LUTs in fixed point.
* PRELU: identity and alpha branches with their own multipliers.
"""
from __future__ import annotations

import math

import numpy as np

from . import quant_math as qm
from .base import Kernel, register
from .quantized_elementwise import (FloatLutUnary, QuantizedTableUnary, broadcast_shape, check_log2,
                                    count_leading_zeros_32, down_scale_multiplier_to_int16, erfc_f64, expf, expm1f,
                                    f32, logf, lut_lookup_int16, lut_populate_int16, qparams,
                                    sat_doubling_high_mul_16, sat_rounding_doubling_high_mul_16,
                                    scalar_multiplier, store_result, tanhf, wrap16)

# ----------------------------------------------------------------------------- 8-bit float LUT activations


@register("TANH", kind="int8")
class QuantizedTanh(FloatLutUnary):
    def transform(self, x, spec_out):
        return tanhf(x)


@register("LOGISTIC", kind="int8")
class QuantizedLogistic(FloatLutUnary):
    def transform(self, x, spec_out):
        e = expf(-x)
        with np.errstate(all="ignore"):
            return (f32(1) / (f32(1) + e)).astype(np.float32)


@register("ELU", kind="int8")
class QuantizedElu(FloatLutUnary):
    def transform(self, x, spec_out):
        return np.where(x < 0, expm1f(x), x).astype(np.float32)


@register("GELU", kind="int8")
@register("GELU", kind="int16")
class QuantizedGelu(FloatLutUnary):
    def transform(self, x, spec_out):
        x = np.asarray(x, np.float32)
        if self.options.get("approximate", False):
            k = f32(math.sqrt(2.0 / math.pi))
            inner = (k * (x + f32(0.044715) * x * x * x)).astype(np.float32)
            return (f32(0.5) * x * (f32(1) + tanhf(inner))).astype(np.float32)
        arg = (x * f32(-math.sqrt(0.5))).astype(np.float32)
        erfc = erfc_f64(arg.astype(np.float64)).astype(np.float32)
        return (f32(0.5) * x * erfc).astype(np.float32)


@register("HARD_SWISH", kind="int8")
class QuantizedHardSwish(QuantizedTableUnary):
    """TFLite's reference fixed-point hard-swish, tabulated over the 256 inputs."""

    @staticmethod
    def output_multiplier(si: float, so: float) -> tuple[np.float32, int, int]:
        """(hires input scale, output multiplier, its exponent)."""
        hires_input_scale = f32(f32(1.0 / 128.0) * f32(si))
        return (hires_input_scale,) + scalar_multiplier(float(hires_input_scale / f32(so)))

    def check(self, spec_in, spec_out):
        _, out_exp = self.output_multiplier(qparams(spec_in, "input")[0], qparams(spec_out, "output")[0])[1:]
        if out_exp > 0:
            raise self.fail("output scale too small relative to the input scale for HARD_SWISH")

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        reluish_scale = f32(3.0) / f32(32768.0)
        hires_input_scale, out_mult, out_exp = self.output_multiplier(si, so)
        out_mult16 = down_scale_multiplier_to_int16(out_mult)
        rel_mult, rel_exp = scalar_multiplier(float(hires_input_scale / reluish_scale))
        rel_mult16 = down_scale_multiplier_to_int16(rel_mult)
        qmin, qmax = qm.dtype_range(spec_out.dtype)

        v = values - zi
        hires = wrap16(v * 128)
        preshift_out = sat_rounding_doubling_high_mul_16(hires, out_mult16)
        reluish = hires
        if rel_exp > 0:
            reluish = np.clip(reluish << (rel_exp - 1), -32768, 32767)
        reluish = sat_rounding_doubling_high_mul_16(reluish, rel_mult16)
        if rel_exp > 0:
            reluish = np.clip(reluish << 1, -32768, 32767)
        if rel_exp < 0:
            reluish = qm.rounding_divide_by_pot(reluish, -rel_exp)
        reluish = (reluish + (1 << 15)) >> 1
        pre = sat_doubling_high_mul_16(reluish, preshift_out)
        res = wrap16(qm.rounding_divide_by_pot(pre, -out_exp))
        res = wrap16(res + zo)
        return np.clip(res, qmin, qmax)


@register("LEAKY_RELU", kind="int8")
@register("LEAKY_RELU", kind="int16")
class QuantizedLeakyRelu(QuantizedTableUnary):
    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        alpha = f32(self.options.get("alpha", 0.0))
        m_alpha = scalar_multiplier(float(f32(f32(si) * alpha) / f32(so)))
        m_id = scalar_multiplier(float(f32(si) / f32(so)))
        qmin, qmax = qm.dtype_range(spec_out.dtype)
        v = values - zi
        pos = qm.multiply_by_quantized_multiplier(v, *m_id)
        neg = qm.multiply_by_quantized_multiplier(v, *m_alpha)
        return np.clip(np.where(v >= 0, pos, neg) + zo, qmin, qmax)


class QuantizedReluFamily(QuantizedTableUnary):
    """RELU / RELU6 / RELU_N1_TO_1 / RELU_0_TO_1: rescale to the output then clamp."""

    low: float = 0.0
    high: float = math.inf

    def table_values(self, values, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        qmin, qmax = qm.dtype_range(spec_out.dtype)
        act_min = max(qmin, zo + int(qm.round_half_away(f32(self.low) / f32(so))))
        act_max = qmax if math.isinf(self.high) else min(
            qmax, zo + int(qm.round_half_away(f32(self.high) / f32(so))))
        m = scalar_multiplier(float(f32(si) / f32(so)))
        res = qm.multiply_by_quantized_multiplier(values - zi, *m) + zo
        return np.clip(res, act_min, act_max)


@register("RELU", kind="int8")
@register("RELU", kind="int16")
class QuantizedRelu(QuantizedReluFamily):
    low, high = 0.0, math.inf


@register("RELU6", kind="int8")
@register("RELU6", kind="int16")
class QuantizedRelu6(QuantizedReluFamily):
    low, high = 0.0, 6.0


@register("RELU_N1_TO_1", kind="int8")
class QuantizedReluN1To1(QuantizedReluFamily):
    low, high = -1.0, 1.0


@register("RELU_0_TO_1", kind="int8")
class QuantizedRelu0To1(QuantizedReluFamily):
    low, high = 0.0, 1.0


# ----------------------------------------------------------------------------- SOFTMAX


def softmax_float_table(input_scale: float, beta: float) -> np.ndarray:
    """PopulateSoftmaxLookupTable: ``table[255 - v] = exp(-input_scale * beta * v)`` in float32."""
    scale = f32(-f32(input_scale) * f32(beta))
    vals = np.arange(256, dtype=np.float32)
    return expf((scale * vals).astype(np.float32))[::-1].copy()


def sequential_row_sum(values: np.ndarray) -> np.ndarray:
    """Float32 sums along the last axis, accumulated left to right as a C loop does."""
    return np.cumsum(values, axis=-1, dtype=np.float32)[..., -1:]


class ExpTableSoftmax(Kernel):
    """What 8-bit SOFTMAX and LOG_SOFTMAX share on x86: ``exp(beta * s_in * (x - row max))`` from
    the float table, and the row sums accumulated sequentially in float32."""

    uses_beta = True

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if np.dtype(x.dtype) not in (np.dtype(np.int8), np.dtype(np.uint8)):
            raise self.fail(f"quantized {self.op_desc.opcode} input must be 8-bit, not {np.dtype(x.dtype)}")
        si, _ = qparams(x, "input")
        so, zo = qparams(out, "output")
        self.table = softmax_float_table(si, self.options.get("beta", 1.0) if self.uses_beta else 1.0)
        self.in_scale = f32(si)
        self.out_scale = f32(so)
        self.out_zp = zo
        self.dtype = np.dtype(out.dtype)
        self.qmin, self.qmax = qm.dtype_range(self.dtype)
        return [x.shape]

    def exp_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x as int32, row maxima, the float32 exponentials, their float32 row sums)."""
        x = x.astype(np.int32)
        mx = x.max(axis=-1, keepdims=True)
        e = self.table[255 - mx + x]  # table[255 - max] is exp(0)
        return x, mx, e, sequential_row_sum(e)


@register("SOFTMAX", kind="int8")
@register("SOFTMAX", kind="int16")
class QuantizedSoftmax(ExpTableSoftmax):
    """8-bit input softmax on x86: float exp table, sequential float32 row sums.

    int16 input goes through :class:`QuantizedSoftmaxInt16`'s fixed-point LUT path.
    """

    def __new__(cls, node):
        if cls is QuantizedSoftmax and node.tensor(node.op.inputs[0]).numpy_dtype == np.int16:
            return super().__new__(QuantizedSoftmaxInt16)
        return super().__new__(cls)

    def eval(self, inputs, outputs):
        _, _, e, sums = self.exp_rows(inputs[0])
        inv = (f32(1.0) / (sums * self.out_scale).astype(np.float32)).astype(np.float32)
        p = (e * inv).astype(np.float32)
        q = qm.round_half_away(p).astype(np.int64) + self.out_zp
        np.clip(q, self.qmin, self.qmax, out=q)
        return store_result(outputs[0], q, self.dtype)


# ----------------------------------------------------------------------------- PRELU


@register("PRELU", kind="int8")
@register("PRELU", kind="int16")
class QuantizedPrelu(Kernel):
    """Quantized PRELU: x >= 0 rescaled by s_in/s_out, x < 0 by x * alpha * s_in*s_alpha/s_out."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs input and alpha")
        x, alpha, out = inputs[0], inputs[1], outputs[0]
        shape = broadcast_shape(x, alpha, self.fail)
        si, zi = qparams(x, "input")
        sa, za = qparams(alpha, "alpha")
        so, zo = qparams(out, "output")
        self.off_in, self.off_alpha, self.off_out = -zi, -za, zo
        self.m_identity = scalar_multiplier(float(f32(si) / f32(so)))
        self.m_alpha = scalar_multiplier(float(f32(f32(si) * f32(sa)) / f32(so)))
        self.dtype = np.dtype(out.dtype)
        self.qmin, self.qmax = qm.dtype_range(self.dtype)
        return [shape]

    def eval(self, inputs, outputs):
        v = inputs[0].astype(np.int64) + self.off_in
        a = inputs[1].astype(np.int64) + self.off_alpha
        pos = qm.multiply_by_quantized_multiplier(v, *self.m_identity)
        neg = qm.multiply_by_quantized_multiplier(v * a, *self.m_alpha)
        res = np.clip(np.where(v >= 0, pos, neg) + self.off_out, self.qmin, self.qmax)
        return store_result(outputs[0], res, self.dtype)


class QuantizedSoftmaxInt16(QuantizedSoftmax):
    """int16 softmax (TFLite's SoftmaxInt16): exp and 1/(1+x) by 513-point int16 LUTs."""

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        si, zi = qparams(x, "input")
        so, zo = qparams(out, "output")
        if zi or zo:
            raise self.fail("int16 SOFTMAX needs zero points of 0")
        span = 65535.0
        self.exp_lut = lut_populate_int16(10.0 / span, 32767, 2.0 / span, 0, np.exp, np.float64)
        self.recip_lut = lut_populate_int16(1.0 / span, -32768, 2.0 / span, 0,
                                            lambda v: 1.0 / (1.0 + v), np.float64)
        beta = float(self.options.get("beta", 1.0))
        self.mult = scalar_multiplier(float(np.float32(si)) * beta / (10.0 / 65535.0))
        return [x.shape]

    def eval(self, inputs, outputs):
        x = inputs[0].astype(np.int64)
        diff = x - x.max(axis=-1, keepdims=True)
        scaled = qm.multiply_by_quantized_multiplier(diff, *self.mult)
        sym = np.clip(scaled + 32767, -32768, 32767)
        e = lut_lookup_int16(sym, self.exp_lut).astype(np.int64)
        total = e.sum(axis=-1, keepdims=True)
        headroom_plus_one = count_leading_zeros_32(total)
        shifted = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
        sym_sum = np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767)
        recip = lut_lookup_int16(sym_sum, self.recip_lut).astype(np.int64)
        right = 31 - headroom_plus_one
        res = (e * recip + (np.int64(1) << (right - 1))) >> right
        return store_result(outputs[0], np.clip(res, 0, 32767), np.int16)


@register("LOG_SOFTMAX", kind="int8")
class QuantizedLogSoftmax(ExpTableSoftmax):
    """8-bit LOG_SOFTMAX on x86 (optimized path): float exp table, log of the float32 row sum."""

    uses_beta = False

    def eval(self, inputs, outputs):
        x, mx, _, sums = self.exp_rows(inputs[0])
        log_sum = logf(sums)
        scale = f32(self.in_scale / self.out_scale)
        precomputed = ((self.in_scale * mx.astype(np.float32)).astype(np.float32) + log_sum).astype(np.float32)
        precomputed = (precomputed / self.out_scale).astype(np.float32)
        log_prob = ((scale * x.astype(np.float32)).astype(np.float32) - precomputed).astype(np.float32)
        q = np.rint(log_prob).astype(np.int64) + self.out_zp
        return store_result(outputs[0], np.clip(q, self.qmin, self.qmax), self.dtype)


# ----------------------------------------------------------------------------- int16 LOGISTIC / TANH

# TFLite's sigmoid_table_uint16: sigmoid(i / 24) for i in 0..255 in 0.16 fixed point, as the
# int16 LOGISTIC/TANH kernels use it (the values are TFLite's; they are not plain round()s).
SIGMOID_TABLE_UINT16 = np.array("""
32768 33451 34133 34813 35493 36169 36843 37513 38180 38841 39498 40149 40794 41432 42064 42688
43304 43912 44511 45102 45683 46255 46817 47369 47911 48443 48964 49475 49975 50464 50942 51409
51865 52311 52745 53169 53581 53983 54374 54755 55125 55485 55834 56174 56503 56823 57133 57433
57724 58007 58280 58544 58800 59048 59288 59519 59743 59959 60168 60370 60565 60753 60935 61110
61279 61441 61599 61750 61896 62036 62172 62302 62428 62549 62666 62778 62886 62990 63090 63186
63279 63368 63454 63536 63615 63691 63765 63835 63903 63968 64030 64090 64148 64204 64257 64308
64357 64405 64450 64494 64536 64576 64614 64652 64687 64721 64754 64786 64816 64845 64873 64900
64926 64950 64974 64997 65019 65039 65060 65079 65097 65115 65132 65149 65164 65179 65194 65208
65221 65234 65246 65258 65269 65280 65291 65301 65310 65319 65328 65337 65345 65352 65360 65367
65374 65381 65387 65393 65399 65404 65410 65415 65420 65425 65429 65433 65438 65442 65445 65449
65453 65456 65459 65462 65465 65468 65471 65474 65476 65479 65481 65483 65485 65488 65489 65491
65493 65495 65497 65498 65500 65501 65503 65504 65505 65507 65508 65509 65510 65511 65512 65513
65514 65515 65516 65517 65517 65518 65519 65520 65520 65521 65522 65522 65523 65523 65524 65524
65525 65525 65526 65526 65526 65527 65527 65528 65528 65528 65529 65529 65529 65529 65530 65530
65530 65530 65531 65531 65531 65531 65531 65532 65532 65532 65532 65532 65532 65533 65533 65533
65533 65533 65533 65533 65533 65534 65534 65534 65534 65534 65534 65534 65534 65534 65534 65535
""".split(), dtype=np.int64)


def int16_sigmoid_input_params(scale: float) -> tuple[bool, int]:
    """(scale is a power of two, input_left_shift) as TFLite's int16 LOGISTIC/TANH prepare sees it.

    A power-of-two scale with left shift 0 (LOGISTIC) or 0/1 (TANH) selects LiteRT's
    gemmlowp path; other scales get an integer multiplier for the rescale to 1/(3*4096).
    """
    pot, log2 = check_log2(scale)
    left_shift = (15 - 3) + log2
    return pot, left_shift


# -- gemmlowp's int16 fixed point (scalar semantics: int16 wrap-around adds, saturating shifts) --------
# Values are int16 raws held in int64 arrays; a FixedPoint<int16, m> has 15 - m fractional bits.


def _w16(x):
    """C's conversion of an int value to int16 (wrap-around)."""
    return ((np.asarray(x, np.int64) + (1 << 15)) & 0xFFFF) - (1 << 15)


def _sat16(x):
    return np.clip(x, -(1 << 15), (1 << 15) - 1)


def _const16(raw32: int) -> int:
    """gemmlowp's RescaleConstantInitializer: a Q-format int32 constant rounded to 16 bits."""
    return int(qm.rounding_divide_by_pot(np.int64(raw32), 16))


_mul16 = sat_rounding_doubling_high_mul_16


def _shift_left_sat16(x, exponent: int):
    """SaturatingRoundingMultiplyByPOT<exponent> for exponent > 0 (Rescale to fewer integer bits)."""
    return _sat16(np.asarray(x, np.int64) << exponent)


def _exp_on_interval_16(a):
    """exp(a) for a in [-1/4, 0), Q0.15 in and out."""
    x = _w16(a + (1 << 12))                     # a + 1/8
    x2 = _mul16(x, x)
    x3 = _mul16(x2, x)
    x4 = _mul16(x2, x2)
    x4_over_4 = qm.rounding_divide_by_pot(x4, 2)
    poly = qm.rounding_divide_by_pot(_w16(_mul16(_w16(x4_over_4 + x3), _const16(715827883)) + x2), 1)
    c = _const16(1895147668)                    # exp(-1/8)
    return _sat16(c + _mul16(c, _w16(x + poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))


def gemmlowp_exp_on_negative_values_16(a, integer_bits: int):
    """gemmlowp's exp_on_negative_values for FixedPoint<int16, integer_bits>, result Q0.15."""
    a = np.asarray(a, np.int64)
    frac = 15 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = _w16((a & (quarter - 1)) - quarter)
    result = _exp_on_interval_16(_shift_left_sat16(a_mod, integer_bits))
    remainder = _w16(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = (remainder >> (frac + exponent)) & 1
            result = np.where(bit != 0, _mul16(result, _const16(multiplier)), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (frac + 5)), 0, result)
    return np.where(a == 0, (1 << 15) - 1, result)


def _newton_reciprocal_16(a):
    """The Newton-Raphson iterate x ~ 1 / ((1 + a) / 2) as Q2.13 (a Q0.15 in (0, 1))."""
    s = a + (1 << 15) - 1                       # RoundingHalfSum(a, One)
    half_denominator = np.where(s >= 0, (s + 1) // 2, -((-(s - 1)) // 2))
    x = _w16(_const16(1515870810) + _mul16(half_denominator, _const16(-1010580540)))
    for _ in range(3):
        one_minus = _w16((1 << 13) - _mul16(half_denominator, x))
        x = _w16(x + _shift_left_sat16(_mul16(x, one_minus), 2))
    return x


def gemmlowp_tanh_16(a, integer_bits: int = 3):
    """gemmlowp::tanh of FixedPoint<int16, integer_bits> raws, Q0.15 raws out."""
    a = np.asarray(a, np.int64)
    n = np.where(a < 0, a, _w16(-a))
    e = gemmlowp_exp_on_negative_values_16(n, integer_bits + 1)   # exp(2n)
    t = _shift_left_sat16(_w16(_newton_reciprocal_16(e) - (1 << 13)), 2)  # (1 - e) / (1 + e)
    return np.where(a == 0, 0, np.where(a < 0, _w16(-t), t))


def gemmlowp_logistic_16(a, integer_bits: int = 3):
    """gemmlowp::logistic of FixedPoint<int16, integer_bits> raws, Q0.15 raws out."""
    a = np.asarray(a, np.int64)
    positive = a > 0
    abs_input = np.where(positive, a, _w16(-a))
    e = gemmlowp_exp_on_negative_values_16(_w16(-abs_input), integer_bits)
    pos = _shift_left_sat16(_newton_reciprocal_16(e), 1)          # Rescale<0>(x / 2)
    return np.where(a == 0, _const16(1 << 30), np.where(positive, pos, _w16((1 << 15) - 1 - pos)))


class _Int16SigmoidFamily(QuantizedTableUnary):
    """int16 LOGISTIC / TANH. A power-of-two input scale whose input_left_shift is in
    ``pot_shifts`` takes LiteRT's optimized gemmlowp path (Q3.12 input after a saturating
    shift, ``gemmlowp::logistic`` / ``tanh``); other scales the interpolated uint16 table."""

    pot_shifts = (0,)

    def check(self, spec_in, spec_out):
        si, zi = qparams(spec_in, "input")
        so, zo = qparams(spec_out, "output")
        if zi or zo:
            raise self.fail("int16 LOGISTIC/TANH need zero points of 0")
        pot_out, log2_out = check_log2(so)
        if not pot_out or log2_out != -15:
            raise self.fail(f"int16 {self.op_desc.opcode} needs output scale 2^-15, got {so}")

    def table_values(self, values, spec_in, spec_out):
        si = qparams(spec_in, "input")[0]
        pot, left_shift = int16_sigmoid_input_params(si)
        if pot and left_shift in self.pot_shifts:
            return self.gemmlowp(_shift_left_sat16(values, left_shift))
        real = float(np.float32(si)) * 4096.0 * 3.0
        left_shift = 0
        while real <= 32767.0 / 2.0 and left_shift <= 30:
            left_shift += 1
            real *= 2.0
        return self.compute(values, int(real), left_shift)

    def interpolate(self, x, multiplier: int, left_shift: int) -> tuple[np.ndarray, np.ndarray]:
        """(rescaled input v, sigmoid table at |v| interpolated over ``frac_bits`` low bits, or
        ``saturated`` beyond the table)."""
        rnd = (1 << (left_shift - 1)) if left_shift > 0 else 0
        v = (x * multiplier + rnd) >> left_shift
        a = np.abs(v)
        uh = a >> self.frac_bits
        safe = np.minimum(uh, 254)
        ua, ub = SIGMOID_TABLE_UINT16[safe], SIGMOID_TABLE_UINT16[safe + 1]
        frac = a & ((1 << self.frac_bits) - 1)
        return v, np.where(uh >= 255, self.saturated, (ua << self.frac_bits) + frac * (ub - ua))


@register("LOGISTIC", kind="int16")
class QuantizedLogisticInt16(_Int16SigmoidFamily):
    pot_shifts = (0,)
    frac_bits, saturated = 9, 0x7FFF << 10
    gemmlowp = staticmethod(gemmlowp_logistic_16)

    def compute(self, x, multiplier, left_shift):
        v, res = self.interpolate(x, multiplier, left_shift)
        res = np.where(v >= 0, res + (1 << 9), (1 << (16 + 9)) - res + (1 << 9) - 1)
        return res >> 10


@register("TANH", kind="int16")
class QuantizedTanhInt16(_Int16SigmoidFamily):
    pot_shifts = (0, 1)
    frac_bits, saturated = 8, 0xFFFF << 8
    gemmlowp = staticmethod(gemmlowp_tanh_16)

    def compute(self, x, multiplier, left_shift):
        v, res = self.interpolate(x, multiplier, left_shift)
        res = np.where(v >= 0, res - (1 << (14 + 9)) + (1 << (9 - 2)),
                       -res + (1 << (14 + 9)) + (1 << (9 - 2)) - 1)
        return res >> (9 - 1)
