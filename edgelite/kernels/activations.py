"""Float activation kernels with TFLite's exact formulas.

* RELU / RELU6 / RELU_N1_TO_1 / RELU_0_TO_1 clamp; LEAKY_RELU is ``x > 0 ? x : alpha*x``;
  PRELU is ``x >= 0 ? x : x*alpha`` with ``alpha`` broadcast against the input;
  ELU is ``x < 0 ? expm1(x) : x``; HARD_SWISH is ``x * min(6, max(0, x + 3)) / 6`` with
  LiteRT's operation order (see :class:`HardSwishKernel`).
* SOFTMAX over the last axis: ``exp((x - max) * beta) / sum``; LOG_SOFTMAX:
  ``(x - max) - log(sum(exp(x - max)))``.
* GELU: ``approximate=False`` is ``0.5 * x * erfc(-x / sqrt(2))`` (TFLite writes it with
  erfc to avoid cancellation for large negative x); ``approximate=True`` is
  ``0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``. numpy has no erfc, so a
  rational/Chebyshev approximation (relative error < 1.2e-7) is evaluated in float64.
* L2_NORMALIZATION over the last axis: ``x / max(sqrt(sum x^2), 1e-6)``, the squares
  summed in order as LiteRT does (bit-exact).
* LOCAL_RESPONSE_NORMALIZATION over the last axis of a 4-D tensor:
  ``x * (bias + alpha * sum_{|c'-c| <= radius} x_c'^2) ** -beta``, the window sums
  taken from a cumulative sum of squares.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from .base import Kernel, register
from .elementwise import UnaryKernel, broadcast_shapes
from .reduce import in_order_sum

L2_NORM_EPSILON = 1e-6
_SQRT_2_OVER_PI = np.float32(np.sqrt(2.0 / np.pi))


_ERFC_COEFFS = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806,
                0.09678418, 0.37409196, 1.00002368, -1.26551223)


def erfc(x: np.ndarray, dtype=np.float64) -> np.ndarray:
    """Complementary error function (Numerical Recipes' erfcc: relative error < 1.2e-7 in float64;
    about 1e-6 when evaluated in float32), computed in ``dtype`` with in-place operations."""
    x = np.asarray(x)
    z = np.abs(x).astype(dtype)
    t = np.multiply(z, dtype(0.5))
    np.add(t, dtype(1), out=t)
    np.reciprocal(t, out=t)
    poly = np.full_like(t, _ERFC_COEFFS[0])
    for c in _ERFC_COEFFS[1:]:  # Horner over the 10 coefficients, not over elements
        np.multiply(poly, t, out=poly)
        np.add(poly, dtype(c), out=poly)
    np.square(z, out=z)
    np.subtract(poly, z, out=poly)
    np.exp(poly, out=poly)
    np.multiply(poly, t, out=poly)
    np.subtract(dtype(2), poly, out=poly, where=x < 0)
    return poly


class FloatUnary(UnaryKernel):
    allowed_kinds = "f"


@register("RELU")
class ReluKernel(FloatUnary):
    allowed_kinds = "fi"

    def compute(self, x, out):
        np.maximum(x, 0, out=out)


def _clamp_kernel(op: str, low: float, high: float) -> type:
    class _Kernel(FloatUnary):
        def compute(self, x, out):
            np.clip(x, low, high, out=out)

    _Kernel.__name__ = _Kernel.__qualname__ = "".join(p.title() for p in op.split("_")) + "Kernel"
    return register(op)(_Kernel)


Relu6Kernel = _clamp_kernel("RELU6", 0.0, 6.0)
ReluN1To1Kernel = _clamp_kernel("RELU_N1_TO_1", -1.0, 1.0)
Relu0To1Kernel = _clamp_kernel("RELU_0_TO_1", 0.0, 1.0)


@register("LOGISTIC")
class LogisticKernel(FloatUnary):
    def compute(self, x, out):
        np.negative(x, out=out)
        np.exp(out, out=out)
        np.add(out, out.dtype.type(1), out=out)
        np.reciprocal(out, out=out)


@register("TANH")
class TanhKernel(FloatUnary):
    def compute(self, x, out):
        np.tanh(x, out=out)


@register("HARD_SWISH")
class HardSwishKernel(FloatUnary):
    """LiteRT's optimized float kernel (x86 build, measured bit for bit): over the flattened
    tensor, blocks of 4 compute ``(x * (1/6)) * relu6(x + 3)``; the last ``size % 4`` values
    ``(x * relu6(x + 3)) * (1/6)``. Both round differently from ``x * relu6(x + 3) / 6``."""

    def compute(self, x, out):
        sixth = out.dtype.type(1.0 / 6.0)
        flat_x = np.ravel(x)
        flat_out = out.reshape(-1)
        np.add(flat_x, out.dtype.type(3), out=flat_out)
        np.clip(flat_out, 0, 6, out=flat_out)
        head = flat_x.size - flat_x.size % 4
        np.multiply(flat_out[:head], np.multiply(flat_x[:head], sixth), out=flat_out[:head])
        tail = flat_out[head:]
        np.multiply(tail, flat_x[head:], out=tail)
        np.multiply(tail, sixth, out=tail)


@register("LEAKY_RELU")
class LeakyReluKernel(FloatUnary):
    def __init__(self, node):
        super().__init__(node)
        self.alpha = float(self.options.get("alpha", 0.0))

    def compute(self, x, out):
        np.multiply(x, out.dtype.type(self.alpha), out=out)
        np.copyto(out, x, where=x > 0)


@register("ELU")
class EluKernel(FloatUnary):
    def compute(self, x, out):
        np.expm1(x, out=out)
        np.copyto(out, x, where=x >= 0)


@register("GELU")
class GeluKernel(FloatUnary):
    def __init__(self, node):
        super().__init__(node)
        self.approximate = bool(self.options.get("approximate", False))

    def compute(self, x, out):
        half = out.dtype.type(0.5)
        if self.approximate:
            np.multiply(x, x, out=out)
            np.multiply(out, x, out=out)
            np.multiply(out, out.dtype.type(0.044715), out=out)
            np.add(out, x, out=out)
            np.multiply(out, _SQRT_2_OVER_PI.astype(out.dtype), out=out)
            np.tanh(out, out=out)
            np.add(out, out.dtype.type(1), out=out)
        else:
            np.multiply(x, out.dtype.type(-np.sqrt(0.5)), out=out)
            np.copyto(out, erfc(out, dtype=out.dtype.type))
        np.multiply(out, x, out=out)
        np.multiply(out, half, out=out)


@register("PRELU")
class PreluKernel(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs input and alpha")
        x, alpha = inputs
        if x.dtype.kind != "f" or alpha.dtype != x.dtype:
            raise self.fail(f"needs float input and alpha of the same type, got {x.dtype}, {alpha.dtype}")
        return [broadcast_shapes(self, x.shape, alpha.shape)]

    def eval(self, inputs, outputs):
        x, alpha = inputs
        out = outputs[0]
        np.multiply(x, alpha, out=out)
        np.copyto(out, np.broadcast_to(x, out.shape), where=np.broadcast_to(x >= 0, out.shape))


class LastAxisKernel(Kernel):
    """Float kernels normalising along the last axis (input shape = output shape)."""

    min_rank = 1

    def prepare(self, inputs, outputs):
        if not inputs or inputs[0] is None:
            raise self.fail("needs an input")
        x = inputs[0]
        if x.dtype.kind != "f":
            raise self.fail(f"unsupported input type {x.dtype}")
        if len(x.shape) < self.min_rank:
            raise self.fail(f"input rank {len(x.shape)} < {self.min_rank}")
        return [tuple(x.shape)]


# SOFTMAX rows of at most this many values, when there are at least SOFTMAX_STRIDED_MIN_ROWS
# of them, are reduced with one numpy pass per position along the row instead of numpy's
# reductions along the last axis (which cost a loop call per row: 0.6 ms for unet's
# 96x96x5 output). Below 8 values numpy sums a row in order, which such passes repeat.
SOFTMAX_STRIDED_MAX_DEPTH = 7
SOFTMAX_STRIDED_MIN_ROWS = 16


def softmax_short_rows(x: np.ndarray, out: np.ndarray, beta, row: np.ndarray) -> None:
    """SOFTMAX of ``x`` into ``out`` along a last axis of 1..7 values, with ``row`` (shape
    ``x.shape[:-1] + (1,)``) as work memory: the same bits as :class:`SoftmaxKernel`'s
    reductions (a maximum in any order; the sum in order, as numpy sums fewer than 8)."""
    depth = x.shape[-1]
    np.copyto(row, x[..., :1])
    for k in range(1, depth):
        np.maximum(row, x[..., k:k + 1], out=row)
    np.subtract(x, row, out=out)
    if beta is not None:
        np.multiply(out, beta, out=out)
    np.exp(out, out=out)
    np.copyto(row, out[..., :1])
    for k in range(1, depth):
        np.add(row, out[..., k:k + 1], out=row)
    np.divide(out, row, out=out)


@register("SOFTMAX")
class SoftmaxKernel(LastAxisKernel):
    def __init__(self, node):
        super().__init__(node)
        self.beta = float(self.options.get("beta", 1.0))

    def _short_rows(self, out: np.ndarray) -> bool:
        return (out.ndim > 0 and 0 < out.shape[-1] <= SOFTMAX_STRIDED_MAX_DEPTH
                and out.size >= SOFTMAX_STRIDED_MIN_ROWS * out.shape[-1])

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.size == 0:
            return
        if self._short_rows(out):
            beta = out.dtype.type(self.beta) if self.beta != 1.0 else None
            softmax_short_rows(x, out, beta, np.empty(out.shape[:-1] + (1,), out.dtype))
            return
        np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
        if self.beta != 1.0:
            np.multiply(out, out.dtype.type(self.beta), out=out)
        np.exp(out, out=out)
        np.divide(out, out.sum(axis=-1, keepdims=True), out=out)

    def bind(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.size == 0:
            return None
        # the same reductions and passes as eval, into a row buffer made once
        rows = np.empty(out.shape[:-1] + (1,), out.dtype)
        beta = out.dtype.type(self.beta) if self.beta != 1.0 else None
        if self._short_rows(out):
            return partial(softmax_short_rows, x, out, beta, rows)
        maximum, add, subtract, multiply, exp, divide = (np.maximum.reduce, np.add.reduce, np.subtract,
                                                          np.multiply, np.exp, np.divide)

        def run():
            maximum(x, -1, None, rows, True)
            subtract(x, rows, out)
            if beta is not None:
                multiply(out, beta, out)
            exp(out, out)
            add(out, -1, None, rows, True)
            divide(out, rows, out)
        return run


@register("LOG_SOFTMAX")
class LogSoftmaxKernel(LastAxisKernel):
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.size == 0:
            return
        np.subtract(x, x.max(axis=-1, keepdims=True), out=out)
        log_sum = np.log(np.exp(out).sum(axis=-1, keepdims=True))
        np.subtract(out, log_sum, out=out)


@register("L2_NORMALIZATION")
class L2NormalizationKernel(LastAxisKernel):
    def prepare(self, inputs, outputs):
        code = int(self.options.get("fused_activation_function", 0))
        if code != 0:
            raise self.fail(f"fused activation {code} is not supported (TFLite accepts only NONE)")
        return super().prepare(inputs, outputs)

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.size == 0:
            return
        # LiteRT's order (bit-exact): squares summed one by one, then divide by the norm
        norm = np.sqrt(in_order_sum(np.square(x), (x.ndim - 1,), keepdims=True))
        np.maximum(norm, norm.dtype.type(L2_NORM_EPSILON), out=norm)
        np.divide(x, norm, out=out)


@register("LOCAL_RESPONSE_NORMALIZATION")
class LocalResponseNormalizationKernel(LastAxisKernel):
    min_rank = 4

    def __init__(self, node):
        super().__init__(node)
        self.radius = int(self.options.get("radius", 0))
        self.bias = float(self.options.get("bias", 0.0))
        self.alpha = float(self.options.get("alpha", 0.0))
        self.beta = float(self.options.get("beta", 0.0))

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        if len(inputs[0].shape) != 4:
            raise self.fail(f"input must be 4-D, got shape {list(inputs[0].shape)}")
        depth = inputs[0].shape[-1]
        channels = np.arange(depth)
        self.window_end = np.minimum(channels + self.radius + 1, depth)
        self.window_begin = np.maximum(channels - self.radius, 0)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.size == 0:
            return
        squares = np.square(x)
        cumulative = np.zeros(x.shape[:-1] + (x.shape[-1] + 1,), np.float64)
        np.cumsum(squares, axis=-1, out=cumulative[..., 1:])
        window_sums = cumulative[..., self.window_end] - cumulative[..., self.window_begin]
        scale = np.power(self.bias + self.alpha * window_sums, -self.beta)
        np.multiply(x, scale, out=out, casting="same_kind")
