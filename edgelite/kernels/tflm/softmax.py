"""SOFTMAX with int8 input as TFLM computes it: TFLite's reference fixed-point softmax.

Per row: ``diff = x - max`` (int32); where ``diff >= diff_min`` it is rescaled to a Q5.26 value by
``MultiplyByQuantizedMultiplierGreaterThanOne(diff, beta multiplier, left shift)`` and turned into
``exp`` (Q0.31) by gemmlowp's ``exp_on_negative_values`` (a Taylor polynomial on [-1/4, 0) and a
barrel shifter of exp(-2^k) constants). The row sum is accumulated in Q12.19, its reciprocal comes
from ``GetReciprocal`` (Newton-Raphson ``one_over_one_plus_x_for_x_in_0_1``), and each output is
``RoundingDivideByPOT(SRDHM(reciprocal, exp), bits_over_unit + 31 - output_bits) + output_min``.
LiteRT's builtin kernel instead uses a float exp table and float32 sums.

An int8 input has only 256 possible differences, so ``exp`` is tabulated once in ``prepare``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import quant_math as qm
from ..base import register
from ..quantized_activations import QuantizedSoftmax
from ..quantized_elementwise import (count_leading_zeros_32, one_over_one_plus_x_for_x_in_0_1, qparams,
                                     store_result, wrap32)
from .common import TFLM_PRIORITY, is_tflm

_SCALED_DIFF_INTEGER_BITS = 5
_ACCUMULATION_INTEGER_BITS = 12


def _srdhm(a, b):
    return qm.saturating_rounding_doubling_high_mul(a, b)


def _exp_on_interval_between_negative_one_quarter_and_0_excl(a: np.ndarray) -> np.ndarray:
    constant_term = 1895147668  # exp(-1/8) in Q0.31
    constant_1_over_3 = 715827883
    x = wrap32(a + (1 << 28))  # a + 1/8
    x2 = _srdhm(x, x)
    x3 = _srdhm(x2, x)
    x4 = _srdhm(x2, x2)
    x4_over_4 = qm.rounding_divide_by_pot(x4, 2)
    poly = qm.rounding_divide_by_pot(wrap32(_srdhm(wrap32(x4_over_4 + x3), constant_1_over_3) + x2), 1)
    return wrap32(constant_term + _srdhm(constant_term, wrap32(x + poly)))


def exp_on_negative_values_q5(a: np.ndarray) -> np.ndarray:
    """gemmlowp ``exp_on_negative_values`` of Q5.26 raws (<= 0), as Q0.31 raws."""
    a = np.asarray(a, np.int64)
    fractional_bits = 31 - _SCALED_DIFF_INTEGER_BITS
    one_quarter = 1 << (fractional_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_one_quarter = wrap32((a & mask) - one_quarter)
    rescaled = np.clip(a_mod_quarter_minus_one_quarter << _SCALED_DIFF_INTEGER_BITS, qm.INT32_MIN, qm.INT32_MAX)
    result = _exp_on_interval_between_negative_one_quarter_and_0_excl(rescaled)
    remainder = wrap32(a_mod_quarter_minus_one_quarter - a)
    for exponent, multiplier in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                                 (2, 39332535), (3, 720401), (4, 242)):
        if _SCALED_DIFF_INTEGER_BITS > exponent:
            bit = 1 << (fractional_bits + exponent)
            result = np.where(remainder & bit, _srdhm(result, multiplier), result)
    return np.where(a == 0, qm.INT32_MAX, result)


def softmax_input_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(multiplier, left shift, diff_min): PreprocessSoftmaxScaling and CalculateInputRadius."""
    real = min(beta * input_scale * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    multiplier, shift = qm.quantize_multiplier_scalar(real)
    max_input_rescaled = (1.0 * ((1 << _SCALED_DIFF_INTEGER_BITS) - 1)
                          * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)) / (1 << shift))
    return int(multiplier), int(shift), -int(math.floor(max_input_rescaled))


def _tflm_int8_input(node) -> bool:
    return is_tflm(node) and node.tensor(node.op.inputs[0]).numpy_dtype == np.int8


@register("SOFTMAX", kind="int8", priority=TFLM_PRIORITY, when=_tflm_int8_input)
@register("SOFTMAX", kind="int16", priority=TFLM_PRIORITY, when=_tflm_int8_input)  # int8 -> int16
class TFLMSoftmax(QuantizedSoftmax):
    """reference_ops::Softmax for int8 input (int8 or int16 output)."""

    def __new__(cls, node):
        return object.__new__(cls)

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        self.dtype = np.dtype(out.dtype)
        if self.dtype not in (np.dtype(np.int8), np.dtype(np.int16)):
            raise self.fail(f"int8 SOFTMAX output must be int8 or int16, not {self.dtype}")
        si, _ = qparams(x, "input")
        beta = float(np.float32(self.options.get("beta", 1.0)))
        mult, shift, diff_min = softmax_input_params(beta, float(np.float32(si)))
        diffs = np.arange(-255, 1, dtype=np.int64)  # every int8 difference from the row maximum
        rescaled = _srdhm(diffs << shift, mult)
        exps = exp_on_negative_values_q5(rescaled)
        self.used = diffs >= diff_min
        self.exp_table = np.where(self.used, exps, 0)
        self.acc_table = np.where(self.used, qm.rounding_divide_by_pot(exps, _ACCUMULATION_INTEGER_BITS), 0)
        self.out_bits = self.dtype.itemsize * 8
        self.qmin, self.qmax = qm.dtype_range(self.dtype)
        return [x.shape]

    def eval(self, inputs, outputs):
        x = inputs[0].astype(np.int64)
        idx = x - x.max(axis=-1, keepdims=True) + 255
        sums = wrap32(self.acc_table[idx].sum(axis=-1, keepdims=True))
        headroom_plus_one = count_leading_zeros_32(sums)
        bits_over_unit = _ACCUMULATION_INTEGER_BITS - headroom_plus_one
        shifted_minus_one = wrap32(((sums & 0xFFFFFFFF) << headroom_plus_one) - (1 << 31))
        reciprocal = one_over_one_plus_x_for_x_in_0_1(shifted_minus_one)
        prod = _srdhm(reciprocal, self.exp_table[idx])
        res = qm.rounding_divide_by_pot(prod, bits_over_unit + 31 - self.out_bits) + self.qmin
        res = np.where(self.used[idx], np.clip(res, self.qmin, self.qmax), self.qmin)
        return store_result(outputs[0], res, self.dtype)
