"""Elementwise kernels on float, integer and bool tensors (TFLite builtin semantics).

Binary arithmetic (ADD, SUB, MUL, DIV, POW, MAXIMUM, ...) broadcasts numpy-style;
``prepare`` computes the output shape (and fails naming both shapes when they do
not broadcast) and ``eval`` writes into the preallocated output with ``out=``.
The fused activation of ADD/SUB/MUL/DIV clamps as TFLite's
``CalculateActivationRange`` does: RELU, RELU_N1_TO_1 and RELU6 clamp, every
other code leaves the result unclamped.

Integer semantics follow TFLite's C++ kernels rather than numpy's:

* DIV on integers truncates toward zero (C++ ``/``);
* FLOOR_DIV rounds toward -inf, FLOOR_MOD takes the sign of the divisor
  (``fmod``, then ``+ divisor`` when the signs differ), for floats too;
* integer division or modulo by zero raises instead of crashing;
* ROUND rounds half to even, CAST truncates floats toward zero.

Comparisons also accept asymmetric-quantized int8/uint8 inputs: like TFLite they
compare ``((q - zero_point) << 8)`` rescaled by each input's own fixed-point
multiplier, so inputs with different quantization compare by real value.
Selection, casting and filling copy raw values and work for any data kind.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..runtime.budget import check_output
from .base import Kernel, register

# ----------------------------------------------------------------------------- helpers

ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3


def broadcast_shapes(kernel: Kernel, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """numpy broadcast of ``shapes``; raises the kernel's error naming every shape.

    Plain tuple arithmetic (``np.broadcast_shapes`` builds arrays: ~10x slower, and
    prepare runs for every node at allocate_tensors).
    """
    first = tuple(shapes[0])
    if all(tuple(s) == first for s in shapes[1:]):
        return tuple(int(d) for d in first)
    rank = max(len(s) for s in shapes)
    result = [1] * rank
    for shape in shapes:
        offset = rank - len(shape)
        for i, d in enumerate(shape):
            d = int(d)
            have = result[offset + i]
            if d == have or d == 1:
                continue
            if have == 1:
                result[offset + i] = d
                continue
            listed = " and ".join(str(list(s)) for s in shapes)
            raise kernel.fail(f"input shapes {listed} are not broadcast-compatible")
    return tuple(result)


def activation_bounds(code: int, dtype: np.dtype) -> tuple | None:
    """(low, high) clamp of a fused activation, or None when it does not clamp."""
    if code == ACT_RELU:
        return 0, None
    if code == ACT_RELU_N1_TO_1:
        return -1, 1
    if code == ACT_RELU6:
        return 0, 6
    return None


def apply_bounds(out: np.ndarray, bounds: tuple | None) -> None:
    if bounds is not None:
        low, high = bounds
        np.clip(out, low, high, out=out)


def node_quantization_equal(node) -> bool:
    """``when`` predicate: every input and output has the same per-tensor quantization, or none has."""
    qs = [node.tensor(i).quantization for i in list(node.op.inputs) + list(node.op.outputs) if i >= 0]
    quantized = [q for q in qs if q is not None and not q.is_empty()]
    if not quantized:
        return True
    first = quantized[0]
    return len(quantized) == len(qs) and all(
        np.array_equal(q.scale, first.scale) and np.array_equal(q.zero_point, first.zero_point)
        for q in quantized)


def _check_nonzero(kernel: Kernel, divisor: np.ndarray, what: str) -> None:
    if divisor.dtype.kind in "iu" and not np.all(divisor):
        raise kernel.fail(f"integer {what} by zero")


# ----------------------------------------------------------------------------- binary

class BinaryKernel(Kernel):
    """Two broadcast inputs of one dtype, one output. Subclasses implement ``compute``."""

    allowed_kinds = "fiub"     # numpy dtype kinds accepted
    fused_activation = False   # op has fused_activation_function

    def prepare(self, inputs, outputs):
        if len(inputs) < 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs two inputs")
        a, b = inputs[0], inputs[1]
        if a.dtype != b.dtype:
            raise self.fail(f"input types differ: {a.dtype} and {b.dtype}")
        if a.dtype.kind not in self.allowed_kinds:
            raise self.fail(f"unsupported input type {a.dtype}")
        self.dtype = a.dtype
        self.bounds = None
        if self.fused_activation:
            self.bounds = activation_bounds(int(self.options.get("fused_activation_function", 0)),
                                            a.dtype)
        return [broadcast_shapes(self, a.shape, b.shape)]

    def eval(self, inputs, outputs):
        out = outputs[0]
        with np.errstate(all="ignore"):
            self.compute(inputs[0], inputs[1], out)
        apply_bounds(out, self.bounds)

    def bind(self, inputs, outputs):
        return _bound_binary(self.compute, inputs[0], inputs[1], outputs[0], self.bounds)

    def compute(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        raise NotImplementedError


def _bound_binary(compute, a, b, out, bounds):
    """``compute(a, b, out)`` then the clamp, as a function of no arguments (Kernel.bind)."""
    if bounds is None:
        return partial(compute, a, b, out=out)  # (np.maximum deprecates a positional out)
    low, high = bounds

    def run():
        compute(a, b, out=out)
        np.clip(out, low, high, out=out)
    return run


def _binary(op: str, ufunc, kinds: str = "fiu", fused: bool = False, kind: str = "float",
            when=None) -> type:
    """A BinaryKernel computing ``ufunc(a, b, out=out)``."""

    class _Kernel(BinaryKernel):
        allowed_kinds = kinds
        fused_activation = fused

        def compute(self, a, b, out):
            ufunc(a, b, out=out)

        def bind(self, inputs, outputs):
            # the ufunc itself, unless a subclass computes otherwise
            compute = ufunc if type(self).compute is _Kernel.compute else self.compute
            return _bound_binary(compute, inputs[0], inputs[1], outputs[0], self.bounds)

    _Kernel.__name__ = _Kernel.__qualname__ = "".join(p.title() for p in op.split("_")) + "Kernel"
    return register(op, kind=kind, when=when)(_Kernel)


AddKernel = _binary("ADD", np.add, fused=True)
SubKernel = _binary("SUB", np.subtract, fused=True)
MulKernel = _binary("MUL", np.multiply, kinds="fiuc", fused=True)
# MAXIMUM/MINIMUM compare raw values, which is exact for quantized tensors sharing parameters.
MaximumKernel = _binary("MAXIMUM", np.maximum, kind="any", when=node_quantization_equal)
MinimumKernel = _binary("MINIMUM", np.minimum, kind="any", when=node_quantization_equal)
Atan2Kernel = _binary("ATAN2", np.arctan2, kinds="f")


@register("DIV")
class DivKernel(BinaryKernel):
    """Float division; integer division truncates toward zero (C++ semantics)."""

    allowed_kinds = "fiu"
    fused_activation = True

    def compute(self, a, b, out):
        if out.dtype.kind == "f":
            np.divide(a, b, out=out)
            return
        _check_nonzero(self, b, "division")
        # C++ '/' truncates toward zero: floor quotient, plus one where it was rounded down.
        np.floor_divide(a, b, out=out)
        rounded_down = (np.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        np.add(out, rounded_down.astype(out.dtype), out=out)


@register("FLOOR_DIV")
class FloorDivKernel(BinaryKernel):
    """Division rounded toward -inf."""

    allowed_kinds = "fiu"

    def compute(self, a, b, out):
        if out.dtype.kind == "f":
            np.divide(a, b, out=out)
            np.floor(out, out=out)
            return
        _check_nonzero(self, b, "floor division")
        np.floor_divide(a, b, out=out)


@register("FLOOR_MOD")
class FloorModKernel(BinaryKernel):
    """Remainder with the sign of the divisor: ``fmod(a, b) (+ b when the signs differ)``."""

    allowed_kinds = "fiu"

    def compute(self, a, b, out):
        if out.dtype.kind != "f":
            _check_nonzero(self, b, "modulo")
        np.fmod(a, b, out=out)
        fix = (out != 0) & ((b < 0) != (out < 0))
        np.add(out, b, out=out, where=np.broadcast_to(fix, out.shape))


@register("POW")
class PowKernel(BinaryKernel):
    allowed_kinds = "fiu"

    def compute(self, a, b, out):
        if out.dtype.kind != "f" and np.any(b < 0):
            raise self.fail("integer POW with a negative exponent")
        np.power(a, b, out=out)


@register("SQUARED_DIFFERENCE")
class SquaredDifferenceKernel(BinaryKernel):
    allowed_kinds = "fiu"

    def compute(self, a, b, out):
        np.subtract(a, b, out=out)
        np.multiply(out, out, out=out)


class LogicalBinaryKernel(BinaryKernel):
    allowed_kinds = "b"


LogicalAndKernel = register("LOGICAL_AND", kind="any")(
    type("LogicalAndKernel", (LogicalBinaryKernel,),
         {"compute": lambda self, a, b, out: np.logical_and(a, b, out=out)}))
LogicalOrKernel = register("LOGICAL_OR", kind="any")(
    type("LogicalOrKernel", (LogicalBinaryKernel,),
         {"compute": lambda self, a, b, out: np.logical_or(a, b, out=out)}))


# ----------------------------------------------------------------------------- comparisons

def _quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = m * 2**(shift - 31), m in [2**30, 2**31)."""
    if real == 0.0:
        return 0, 0
    mantissa, shift = np.frexp(real)
    m = int(np.floor(float(mantissa) * (1 << 31) + 0.5))  # TfLiteRound: half away from zero
    if m == (1 << 31):
        m //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return m, int(shift)


def _rescale_like_tflite(x: np.ndarray, multiplier: int, shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplierSmallerThanOneExp on int64 values held in int32 range."""
    x = x.astype(np.int64)
    # SaturatingRoundingDoublingHighMul(x, multiplier); saturation only for INT32_MIN*INT32_MIN.
    prod = x * np.int64(multiplier)
    nudge = np.where(prod >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    total = prod + nudge
    high = np.where(total >= 0, total >> 31, -((-total) >> 31))  # C++ division truncates
    exponent = -shift
    if exponent <= 0:
        return high
    # RoundingDivideByPOT(high, exponent)
    mask = np.int64((1 << exponent) - 1)
    remainder = high & mask
    threshold = (mask >> 1) + (high < 0)
    return (high >> exponent) + (remainder > threshold)


class ComparisonKernel(Kernel):
    """Broadcast comparison producing bool; quantized int8/uint8 inputs compare by real value."""

    ufunc = None

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs two inputs")
        a, b = inputs
        if a.dtype != b.dtype:
            raise self.fail(f"input types differ: {a.dtype} and {b.dtype}")
        self.scaled = None
        if a.dtype in (np.int8, np.uint8) and (a.quantized or b.quantized):
            params = []
            for s in (a, b):
                scale = float(s.scale[0]) if s.quantized else 1.0
                zp = int(s.zero_point[0]) if s.quantized and s.zero_point.size else 0
                params.append((zp,) + _quantize_multiplier(scale))
            self.scaled = params
        return [broadcast_shapes(self, a.shape, b.shape)]

    def eval(self, inputs, outputs):
        a, b = inputs
        if self.scaled is not None:
            (za, ma, sa), (zb, mb, sb) = self.scaled
            a = _rescale_like_tflite((a.astype(np.int64) - za) << 8, ma, sa)
            b = _rescale_like_tflite((b.astype(np.int64) - zb) << 8, mb, sb)
        self.ufunc(a, b, out=outputs[0])

    def bind(self, inputs, outputs):
        if self.scaled is not None:
            return None
        return partial(self.ufunc, inputs[0], inputs[1], outputs[0])


for _op, _ufunc in (("LESS", np.less), ("LESS_EQUAL", np.less_equal), ("GREATER", np.greater),
                    ("GREATER_EQUAL", np.greater_equal), ("EQUAL", np.equal),
                    ("NOT_EQUAL", np.not_equal)):
    _cls = type("".join(p.title() for p in _op.split("_")) + "Kernel", (ComparisonKernel,),
                {"ufunc": staticmethod(_ufunc), "op": _op})
    register(_op, kind="any")(_cls)
    globals()[_cls.__name__] = _cls


# ----------------------------------------------------------------------------- unary

class UnaryKernel(Kernel):
    """One input, one output of the same shape. Subclasses implement ``compute``."""

    allowed_kinds = "f"

    def prepare(self, inputs, outputs):
        if not inputs or inputs[0] is None:
            raise self.fail("needs an input")
        x = inputs[0]
        if x.dtype.kind not in self.allowed_kinds:
            raise self.fail(f"unsupported input type {x.dtype}")
        return [tuple(x.shape)]

    def eval(self, inputs, outputs):
        with np.errstate(all="ignore"):
            self.compute(inputs[0], outputs[0])

    def bind(self, inputs, outputs):
        return partial(self.compute, inputs[0], outputs[0])

    def compute(self, x: np.ndarray, out: np.ndarray) -> None:
        raise NotImplementedError


def _unary(op: str, ufunc, kinds: str = "f", kind: str = "float") -> type:
    class _Kernel(UnaryKernel):
        allowed_kinds = kinds

        def compute(self, x, out):
            ufunc(x, out=out)

        def bind(self, inputs, outputs):
            if type(self).compute is not _Kernel.compute:
                return partial(self.compute, inputs[0], outputs[0])
            return partial(ufunc, inputs[0], outputs[0])

    _Kernel.__name__ = _Kernel.__qualname__ = "".join(p.title() for p in op.split("_")) + "Kernel"
    return register(op, kind=kind)(_Kernel)


AbsKernel = _unary("ABS", np.abs, kinds="fi")
NegKernel = _unary("NEG", np.negative, kinds="fi")
SignKernel = _unary("SIGN", np.sign, kinds="fi")
ExpKernel = _unary("EXP", np.exp)
LogKernel = _unary("LOG", np.log)
SqrtKernel = _unary("SQRT", np.sqrt)
SquareKernel = _unary("SQUARE", np.square, kinds="fi")
SinKernel = _unary("SIN", np.sin)
CosKernel = _unary("COS", np.cos)
FloorKernel = _unary("FLOOR", np.floor)
CeilKernel = _unary("CEIL", np.ceil)
RoundKernel = _unary("ROUND", np.rint)  # half to even, as TFLite's RoundToNearest
LogicalNotKernel = _unary("LOGICAL_NOT", np.logical_not, kinds="b", kind="any")


@register("RSQRT")
class RsqrtKernel(UnaryKernel):
    def compute(self, x, out):
        np.sqrt(x, out=out)
        np.divide(out.dtype.type(1), out, out=out)


@register("ZEROS_LIKE", kind="any")
class ZerosLikeKernel(UnaryKernel):
    allowed_kinds = "fiub"

    def compute(self, x, out):
        out[...] = 0


@register("CAST", kind="any")
class CastKernel(UnaryKernel):
    """Value conversion as LiteRT does it: floats to integers truncate toward zero and
    saturate (NaN becomes the maximum), integers to narrower integers wrap, nonzero -> True."""

    allowed_kinds = "fiubc"

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        if outputs[0].dtype.kind not in "fiubc":
            raise self.fail(f"unsupported output type {outputs[0].dtype}")
        return shapes

    def compute(self, x, out):
        if x.dtype.kind == "c" and out.dtype.kind != "c":
            x = x.real
        if x.dtype.kind == "f" and out.dtype.kind in "iu":
            _saturating_float_to_int(x, out)
        else:
            np.copyto(out, x, casting="unsafe")


def _saturating_float_to_int(x: np.ndarray, out: np.ndarray) -> None:
    info = np.iinfo(out.dtype)
    wide = np.trunc(x.astype(np.float64))
    too_high = (wide >= float(info.max)) | np.isnan(wide)
    too_low = wide <= float(info.min)
    np.copyto(out, np.where(too_high | too_low, 0.0, wide), casting="unsafe")
    out[too_high] = info.max
    out[too_low] = info.min


# ----------------------------------------------------------------------------- n-ary and misc

@register(("SELECT", "SELECT_V2"), kind="any")
class SelectKernel(Kernel):
    """``condition ? x : y``. SELECT_V2 broadcasts all three; SELECT also takes a rank-1
    condition that selects whole slices along the first dimension."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 3 or any(s is None for s in inputs):
            raise self.fail("needs three inputs (condition, x, y)")
        cond, x, y = inputs
        if cond.dtype != np.bool_:
            raise self.fail(f"condition must be bool, got {cond.dtype}")
        if x.dtype != y.dtype or outputs[0].dtype != x.dtype:
            raise self.fail(f"x, y and output types differ: {x.dtype}, {y.dtype}, {outputs[0].dtype}")
        self.cond_shape = None
        if self.op_desc.opcode == "SELECT":
            if x.shape != y.shape:
                raise self.fail(f"x shape {list(x.shape)} and y shape {list(y.shape)} differ")
            if cond.shape == x.shape:
                return [tuple(x.shape)]
            if len(cond.shape) == 1 and len(x.shape) >= 1 and cond.shape[0] == x.shape[0]:
                self.cond_shape = (cond.shape[0],) + (1,) * (len(x.shape) - 1)
                return [tuple(x.shape)]
            raise self.fail(f"condition shape {list(cond.shape)} does not match x shape "
                            f"{list(x.shape)} (nor its first dimension)")
        return [broadcast_shapes(self, cond.shape, x.shape, y.shape)]

    def eval(self, inputs, outputs):
        cond, x, y = inputs
        out = outputs[0]
        if self.cond_shape is not None:
            cond = cond.reshape(self.cond_shape)
        np.copyto(out, y)
        np.copyto(out, x, where=cond)


@register("ADD_N")
class AddNKernel(Kernel):
    """Sum of any number of same-shape inputs."""

    def prepare(self, inputs, outputs):
        if not inputs or any(s is None for s in inputs):
            raise self.fail("needs at least one input")
        first = inputs[0]
        for k, s in enumerate(inputs[1:], 1):
            if s.shape != first.shape or s.dtype != first.dtype:
                raise self.fail(f"input {k} is {s.dtype}{list(s.shape)}, "
                                f"input 0 is {first.dtype}{list(first.shape)}")
        return [tuple(first.shape)]

    def eval(self, inputs, outputs):
        out = outputs[0]
        np.copyto(out, inputs[0])
        for x in inputs[1:]:
            np.add(out, x, out=out)


@register("FILL", kind="any")
class FillKernel(Kernel):
    """An array of shape ``dims`` (input 0) filled with the scalar ``value`` (input 1)."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs dims and value inputs")
        dims, value = inputs
        if dims.dtype.kind not in "iu" or len(dims.shape) != 1:
            raise self.fail(f"dims must be a 1-D integer tensor, got {dims.dtype}{list(dims.shape)}")
        if value.size != 1:
            raise self.fail(f"value must be a scalar, got shape {list(value.shape)}")
        if dims.is_constant:
            return [self._shape(dims.data)]
        return [None]

    def _shape(self, dims: np.ndarray) -> tuple[int, ...]:
        shape = tuple(int(d) for d in np.asarray(dims).reshape(-1))
        if any(d < 0 for d in shape):
            raise self.fail(f"negative dimension in dims {list(shape)}")
        return shape

    def eval(self, inputs, outputs):
        dims, value = inputs
        value = np.asarray(value).reshape(())
        out = outputs[0]
        if out is None:
            shape = self._shape(dims)
            check_output(self.node, shape, value.dtype)  # dims read at run time: ask the budget
            return [np.full(shape, value, dtype=value.dtype)]
        out[...] = value
        return None
