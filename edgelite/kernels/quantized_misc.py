"""Integer (int8 / int16) pooling, reductions and normalization, bit-exact with LiteRT.

* AVERAGE_POOL_2D: int32 sum over the window positions inside the input,
  divided by their count rounding half away from zero (C truncating division
  of ``sum +- count/2``), then clamped to the fused activation range.
* MAX_POOL_2D: max of the raw values inside the input, then clamped.
* MEAN: two paths as in LiteRT's builtin resolver.
  - 4-D input, keep_dims, axes {1, 2} (the "fast path", optimized_integer_ops::Mean):
    raw int32 sum requantized by ``s_in / (H*W * s_out)`` (float32 arithmetic)
    plus a bias ``zo - round(zi * s_in / s_out)``; channels in whole blocks of 16
    (the SIMD loop) round the final shift half up, the others half away from zero.
  - otherwise reference QuantizedMeanOrSum: multiplier of ``s_in / s_out``
    folded with ``1/n`` in integers (``(m << k) / n``, ``k = floor(log2 n)``),
    applied to ``sum - zi * n``.
* SUM: LiteRT's optimized float path, ``round(sum * (s_in/s_out) + bias) + zo`` in float32.
* REDUCE_MAX / REDUCE_MIN: raw values (LiteRT requires equal quantization).
* L2_NORMALIZATION (int8, uint8): inverse square root of the row's sum of squares by
  TFLite's Newton-Raphson fixed point, output on the 1/128 scale. int8 rescales
  ``diff`` with the shift raised by 7, uint8 rescales ``128 * diff`` (one rounding
  fewer or more: they differ in the last bit).
"""
from __future__ import annotations

import math

import numpy as np

from . import quant_math as qm
from .base import Kernel, register
from .conv import PaddedInput
from .pooling import check_pool_memory, checked_pool_plan, separable_reduce
from .quantized_elementwise import (inv_sqrt_multiplier_exp_vec, qparams, round_to_float32, scalar_multiplier,
                                    store_result, wrap32)

_INT8 = np.dtype(np.int8)
_INT16 = np.dtype(np.int16)


class _QuantizedPool(Kernel):
    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        self.plan = plan = checked_pool_plan(self, x)
        n, h, w, c = x.shape
        self.dtype = np.dtype(out.dtype)
        qmin, qmax = qm.dtype_range(self.dtype)
        if out.quantized:
            so, zo = qparams(out, "output")
            self.act_min, self.act_max = qm.activation_range(
                self.options.get("fused_activation_function", 0), so, zo, qmin, qmax)
        else:
            self.act_min, self.act_max = qmin, qmax
        check_pool_memory(self, x.shape, plan, self.acc_dtype)
        self.padded = PaddedInput(x.shape, plan, self.acc_dtype, self.fill(x.dtype))
        self.row_buffer = np.empty((n, plan.padded_h, plan.out_w, c), self.acc_dtype)
        self.acc = np.empty((n, plan.out_h, plan.out_w, c), self.acc_dtype)
        counts = plan.valid_counts().astype(np.int64)
        if counts.size and counts.min() == 0:
            raise self.fail("a pooling window lies entirely in the padding")
        self.counts = counts[:, :, None]
        # exact division of non-negative sums below 2^23 by the counts: (v * ceil(2^40 / n)) >> 40
        self.half = self.counts // 2
        self.magic = -((-(np.int64(1) << 40)) // self.counts)
        largest_sum = (qm.dtype_range(x.dtype)[1] + 1) * int(counts.max(initial=1))
        self.exact_magic = largest_sum * int(counts.max(initial=1)) < (1 << 40)
        return [(n, plan.out_h, plan.out_w, c)]

    def eval(self, inputs, outputs):
        if self.acc.size == 0:
            return None
        acc = separable_reduce(self.padded.fill_from(inputs[0]), self.plan, self.reducer, self.row_buffer,
                               self.acc)
        res = self.finish(acc)
        np.clip(res, self.act_min, self.act_max, out=res)
        return store_result(outputs[0], res, self.dtype)

    def finish(self, acc: np.ndarray) -> np.ndarray:
        """The pooled values from the window reduction ``acc`` (may be returned, or changed, in place)."""
        return acc


@register("AVERAGE_POOL_2D", kind="int8")
@register("AVERAGE_POOL_2D", kind="int16")
class QuantizedAveragePool(_QuantizedPool):
    acc_dtype = np.int64
    reducer = staticmethod(np.add)

    def fill(self, dtype):
        return 0

    def finish(self, acc):
        # C's (acc + n/2) / n for acc > 0 and (acc - n/2) / n otherwise: round half away from zero
        negative = acc < 0
        res = np.abs(acc)
        res += self.half
        if self.exact_magic:
            res *= self.magic
            res >>= 40
        else:
            res //= self.counts
        np.negative(res, out=res, where=negative)
        return res


@register("MAX_POOL_2D", kind="int8")
@register("MAX_POOL_2D", kind="int16")
class QuantizedMaxPool(_QuantizedPool):
    acc_dtype = np.int32
    reducer = staticmethod(np.maximum)

    def fill(self, dtype):
        return int(np.iinfo(np.dtype(dtype)).min)



# ----------------------------------------------------------------------------- reductions


def _constant_axes(kernel: Kernel, spec, rank: int) -> tuple[int, ...]:
    if spec is None or spec.data is None:
        raise kernel.fail("quantized reductions need a constant axis tensor")
    axes = []
    for a in np.asarray(spec.data).reshape(-1).tolist():
        a = int(a)
        if a < -rank or a >= rank:
            raise kernel.fail(f"axis {a} out of range for rank {rank}")
        a = a + rank if a < 0 else a
        if a not in axes:
            axes.append(a)
    return tuple(axes)


class _QuantizedReduce(Kernel):
    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        rank = len(x.shape)
        self.axes = _constant_axes(self, inputs[1], rank)
        self.keep_dims = bool(self.options.get("keep_dims", False))
        self.dtype = np.dtype(out.dtype)
        self.in_shape = tuple(x.shape)
        kept = [1 if i in self.axes else d for i, d in enumerate(x.shape)]
        shape = kept if self.keep_dims else [d for i, d in enumerate(x.shape) if i not in self.axes]
        self.num = math.prod([x.shape[a] for a in self.axes])
        self.setup(x, out)
        return [tuple(shape)]

    def setup(self, x, out):
        pass

    def reduce_sum(self, x):
        return x.astype(np.int64).sum(axis=self.axes, keepdims=self.keep_dims) if self.axes \
            else x.astype(np.int64)

    def store(self, outputs, res):
        res = np.asarray(res)
        return store_result(outputs[0], res if outputs[0] is None else res.reshape(outputs[0].shape), self.dtype)


@register("MEAN", kind="int8")
@register("MEAN", kind="int16")
class QuantizedMean(_QuantizedReduce):
    compute_sum = False

    def setup(self, x, out):
        si, zi = qparams(x, "input")
        so, zo = qparams(out, "output")
        in_dtype = np.dtype(x.dtype)
        if in_dtype == _INT16 and (zi or zo):
            raise self.fail("int16 reductions need zero points of 0")
        self.zi, self.zo = zi, zo
        self.qmin, self.qmax = qm.dtype_range(self.dtype)
        self.fast = (not self.compute_sum and in_dtype == _INT8 and len(x.shape) == 4
                     and self.keep_dims and sorted(self.axes) == [1, 2])
        # float32 arithmetic on the float32 scales in Python floats (see round_to_float32)
        f32 = round_to_float32
        if self.fast:
            h, w = x.shape[1], x.shape[2]
            temp = f32(f32(f32(zi) * si) / so) if so else float(np.float32(zi) * np.float32(si) / np.float32(so))
            temp = f32(temp + 0.5) if temp > 0 else f32(temp - 0.5)
            self.bias = zo - int(math.trunc(temp))
            real = f32(si / f32(f32(float(h * w)) * so)) if so else float(np.float32(si) / np.float32(0))
            self.mult = scalar_multiplier(real)
            return
        m, s = scalar_multiplier(si / so)
        if not self.compute_sum and self.num > 0:
            k = int(self.num).bit_length() - 1
            k = min(k, 32, 31 + s)
            m = int((m << k) // self.num) if k >= 0 else int((m >> -k) // self.num)
            s = s - k
        self.mult = (m, s)

    def _fast_requantize(self, total: np.ndarray) -> np.ndarray:
        """LiteRT's x86 Mean4D: channels in whole blocks of 16 go through a SIMD loop whose
        final right shift rounds half *up*; the remaining channels use the scalar
        MultiplyByQuantizedMultiplier (half away from zero)."""
        m, shift = self.mult
        scalar = qm.multiply_by_quantized_multiplier(total, m, shift)
        channels = total.shape[-1]
        vector_channels = channels - channels % 16
        if vector_channels == 0:
            return scalar
        left, right = max(shift, 0), max(-shift, 0)
        high = qm.saturating_rounding_doubling_high_mul(wrap32(total << left), m)
        vector = (high + ((1 << right) >> 1)) >> right
        lanes = np.arange(channels) < vector_channels
        return np.where(lanes, vector, scalar)

    def eval(self, inputs, outputs):
        total = self.reduce_sum(inputs[0])
        if self.fast:
            res = self._fast_requantize(wrap32(total)) + self.bias
        else:
            shifted = wrap32(total - self.zi * self.num)
            res = qm.multiply_by_quantized_multiplier(shifted, *self.mult) + self.zo
        return self.store(outputs, np.clip(res, self.qmin, self.qmax))


@register("SUM", kind="int8")
@register("SUM", kind="int16")
class QuantizedSum(_QuantizedReduce):
    """LiteRT's optimized quantized sum: float32 ``round(sum * s_in/s_out + bias) + zo``."""

    def setup(self, x, out):
        si, zi = qparams(x, "input")
        so, zo = qparams(out, "output")
        if np.dtype(x.dtype) == np.int16 and (zi or zo):
            raise self.fail("int16 reductions need zero points of 0")
        self.scale = np.float32(np.float32(si) / np.float32(so))
        self.bias = np.float32(np.float32(np.float32(-zi) * self.scale) * np.float32(self.num))
        self.zo = zo
        self.qmin, self.qmax = qm.dtype_range(self.dtype)

    def eval(self, inputs, outputs):
        total = wrap32(self.reduce_sum(inputs[0])).astype(np.float32)
        value = (total * self.scale).astype(np.float32) + self.bias
        res = qm.round_half_away(value.astype(np.float32)).astype(np.int64) + self.zo
        return self.store(outputs, np.clip(res, self.qmin, self.qmax))


class _RawReduce(_QuantizedReduce):
    func = None

    def setup(self, x, out):
        if x.quantized and out.quantized and (
                not np.array_equal(np.float32(x.scale), np.float32(out.scale))
                or not np.array_equal(x.zero_point, out.zero_point)):
            raise self.fail("input and output quantization must match")

    def eval(self, inputs, outputs):
        x = inputs[0]
        res = type(self).func(x, axis=self.axes, keepdims=self.keep_dims) if self.axes else x
        return self.store(outputs, res)


@register("REDUCE_MAX", kind="int8", priority=1)
@register("REDUCE_MAX", kind="int16", priority=1)
class QuantizedReduceMax(_RawReduce):
    func = staticmethod(np.max)


@register("REDUCE_MIN", kind="int8", priority=1)
@register("REDUCE_MIN", kind="int16", priority=1)
class QuantizedReduceMin(_RawReduce):
    func = staticmethod(np.min)


# ----------------------------------------------------------------------------- L2 normalization


@register("L2_NORMALIZATION", kind="int8")
class QuantizedL2Normalization(Kernel):
    """int8/uint8 L2 norm over the last axis; output scale 1/128, zero point 0 (int8) or 128 (uint8)."""

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        self.dtype = np.dtype(x.dtype)
        if self.dtype not in (np.dtype(np.int8), np.dtype(np.uint8)) or np.dtype(out.dtype) != self.dtype:
            raise self.fail(f"quantized L2_NORMALIZATION supports int8 or uint8 input and output of one type, "
                            f"not {self.dtype} -> {np.dtype(out.dtype)}")
        so, zo = qparams(out, "output")
        self.out_zp = 0 if self.dtype == np.int8 else 128
        if zo != self.out_zp or abs(so - 1 / 128) > 1e-9:
            raise self.fail(f"{self.dtype} L2_NORMALIZATION output must have scale 1/128 and "
                            f"zero point {self.out_zp}")
        self.zi = qparams(x, "input")[1]
        return [x.shape]

    def eval(self, inputs, outputs):
        d = inputs[0].astype(np.int64) - self.zi
        acc = (d * d).sum(axis=-1, keepdims=True)
        m, s = inv_sqrt_multiplier_exp_vec(acc)
        if self.out_zp:  # uint8 (optimized kernel): SmallerThanOneExp rescaling of 128 * diff
            res = qm.rounding_divide_by_pot(qm.saturating_rounding_doubling_high_mul(d * 128, m),
                                            np.maximum(-s, 0)) + self.out_zp
        else:  # int8 (reference integer kernel): diff rescaled with the shift raised by 7
            res = qm.multiply_by_quantized_multiplier(d, m, s + 7)
        lo, hi = qm.dtype_range(self.dtype)
        return store_result(outputs[0], np.clip(res, lo, hi), self.dtype)
