"""ONNX lowerings of the TFLite elementwise, activation, reduction, softmax, layout/shape,
concat/split, gather, pad and (de)quantize ops.

Shapes are static (see :mod:`edgelite.export_onnx.builder`), so RESHAPE, SQUEEZE,
EXPAND_DIMS and the shrink of STRIDED_SLICE become one Reshape to the known output shape,
and nodes whose outputs edgelite computed from shapes (SHAPE and the index arithmetic on
it) become constants before any lowering here runs.
"""
from __future__ import annotations

import numpy as np

from ..schema import TENSOR_DTYPES
from .builder import BIG, MS_DOMAIN, ONNX_TYPES, LoweringError, OnnxBuilder

_BINARY = {"ADD": "Add", "SUB": "Sub", "MUL": "Mul", "DIV": "Div", "MAXIMUM": "Max", "MINIMUM": "Min",
           "POW": "Pow", "LESS": "Less", "GREATER": "Greater", "EQUAL": "Equal", "LESS_EQUAL": "LessOrEqual",
           "GREATER_EQUAL": "GreaterOrEqual", "LOGICAL_AND": "And", "LOGICAL_OR": "Or"}
_UNARY = {"ABS": "Abs", "NEG": "Neg", "EXP": "Exp", "LOG": "Log", "SQRT": "Sqrt", "SIN": "Sin", "COS": "Cos",
          "FLOOR": "Floor", "CEIL": "Ceil", "TANH": "Tanh", "LOGISTIC": "Sigmoid", "RELU": "Relu",
          "ELU": "Elu", "HARD_SWISH": "HardSwish", "LOGICAL_NOT": "Not", "SIGN": "Sign", "ROUND": "Round"}
_REDUCE = {"MEAN": "ReduceMean", "SUM": "ReduceSum", "REDUCE_MAX": "ReduceMax", "REDUCE_MIN": "ReduceMin",
           "REDUCE_PROD": "ReduceProd"}


def _binary(op, b: OnnxBuilder) -> None:
    y = b.one(_BINARY[op.opcode], [b.get(op.inputs[0]), b.get(op.inputs[1])])
    b.set(op.outputs[0], b.activation(y, op.opt("fused_activation_function", 0), op))


def _squared_difference(op, b: OnnxBuilder) -> None:
    d = b.one("Sub", [b.get(op.inputs[0]), b.get(op.inputs[1])])
    b.set(op.outputs[0], b.one("Mul", [d, d]))


def _not_equal(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("Not", [b.one("Equal", [b.get(op.inputs[0]), b.get(op.inputs[1])])]))


def _unary(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one(_UNARY[op.opcode], [b.get(op.inputs[0])]))


def _rsqrt(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("Reciprocal", [b.one("Sqrt", [b.get(op.inputs[0])])]))


def _square(op, b: OnnxBuilder) -> None:
    x = b.get(op.inputs[0])
    b.set(op.outputs[0], b.one("Mul", [x, x]))


def _clip(lo: float, hi: float):
    def lower(op, b: OnnxBuilder) -> None:
        b.set(op.outputs[0], b.one("Clip", [b.get(op.inputs[0]), b.const(np.float32(lo)),
                                            b.const(np.float32(hi))]))
    return lower


def _leaky_relu(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("LeakyRelu", [b.get(op.inputs[0])], alpha=float(op.opt("alpha", 0.2))))


def _prelu(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("PRelu", [b.get(op.inputs[0]), b.get(op.inputs[1])]))


def _gelu(op, b: OnnxBuilder) -> None:
    x = b.get(op.inputs[0])
    if op.opt("approximate", False):  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = b.one("Mul", [b.one("Mul", [x, x]), x])
        inner = b.one("Add", [x, b.one("Mul", [x3, b.const(np.float32(0.044715))])])
        t = b.one("Tanh", [b.one("Mul", [inner, b.const(np.float32(np.sqrt(2 / np.pi)))])])
    else:  # x (1 + erf(x / sqrt(2))) 0.5: the form ONNX Runtime fuses into one Gelu kernel
        t = b.one("Erf", [b.one("Div", [x, b.const(np.float32(np.sqrt(2)))])])
        y = b.one("Mul", [b.one("Mul", [x, b.one("Add", [t, b.const(np.float32(1))])]), b.const(np.float32(0.5))])
        return b.set(op.outputs[0], y)
    half_x = b.one("Mul", [x, b.const(np.float32(0.5))])
    b.set(op.outputs[0], b.one("Mul", [half_x, b.one("Add", [t, b.const(np.float32(1))])]))


def _cast(op, b: OnnxBuilder) -> None:
    to = ONNX_TYPES.get(b.tensor(op.outputs[0]).dtype)
    if to is None:
        raise b.fail(op, f"cast to {b.tensor(op.outputs[0]).type_name} is not supported")
    b.set(op.outputs[0], b.one("Cast", [b.get(op.inputs[0])], to=to))


def _reduce(op, b: OnnxBuilder) -> None:
    axes = b.const_int(op, op.inputs[1])
    rank = len(b.shape(op.inputs[0]))
    axes = sorted({a % rank for a in axes}) if rank else []
    if op.opcode == "MEAN" and b.quantized(op.inputs[0]) and b.quantized(op.outputs[0]) \
            and b.tensor(op.inputs[0]).numpy_dtype == np.int8:
        if len(b.shape(op.inputs[0])) == 4 and axes == [1, 2] and b.contrib_ops \
                and b.shifted(op.inputs[0]) and b.shifted(op.outputs[0]):
            return _spatial_qlinear_mean(op, b)
        if len(b.shape(op.inputs[0])) == 4 and op.opt("keep_dims", False) and axes == [1, 2]:
            return _spatial_integer_mean(op, b)
        return _integer_mean(op, b, axes)
    # (nothing is emitted before this point: ONNX Runtime keeps and runs unused nodes)
    y = b.one(_REDUCE[op.opcode], [b.get(op.inputs[0]), b.const(np.array(axes, np.int64))],
              keepdims=int(bool(op.opt("keep_dims", False))))
    if op.opcode in ("MEAN", "SUM"):
        b.set_round_half_away(op.outputs[0], y)
    else:
        b.set(op.outputs[0], y)


def _integer_mean(op, b: OnnxBuilder, axes: list[int]) -> None:
    """LiteRT's reference int8 MEAN (QuantizedMeanOrSum): the exact integer sum minus
    ``zi * n``, times the multiplier of ``s_in / s_out`` folded with ``1/n`` in integers
    (``(m << k) // n``), rounded half away from zero; computed in float64 (exact sums)."""
    from ..kernels.quantized_elementwise import scalar_multiplier
    x, out = op.inputs[0], op.outputs[0]
    (si,), (zi,) = b.qparams(x)[0], b.qparams(x)[1]
    (so,), (zo,) = b.qparams(out)[0], b.qparams(out)[1]
    shape = b.shape(x)
    n = int(np.prod([shape[a] for a in axes])) if axes else 1
    m, sh = scalar_multiplier(float(si) / float(so))
    if n > 0:
        k = min(int(n).bit_length() - 1, 32, 31 + sh)
        m = int((m << k) // n) if k >= 0 else int((m >> -k) // n)
        sh -= k
    shift_out = 128 if b.shifted(out) else 0
    total = _raw_sum(b, x, axes, int(bool(op.opt("keep_dims", False))), n)
    v = b.one("Sub", [total, b.const(int(zi) * n, dtype=np.int64)])
    r = multiply_by_quantized_multiplier(b, v, m, sh)
    info = np.iinfo(b.tensor(out).numpy_dtype)
    q = b.one("Clip", [b.one("Add", [r, b.const(int(zo) + shift_out, dtype=np.int64)]),
                       b.const(info.min + shift_out, dtype=np.int64), b.const(info.max + shift_out, dtype=np.int64)])
    b.set_raw(out, b.one("Cast", [q], to=2 if shift_out else ONNX_TYPES[b.tensor(out).dtype]))


def _raw_sum(b: OnnxBuilder, x: int, axes: list[int], keepdims: int, n: int) -> str:
    """The exact int64 sum of tensor ``x``'s int8 values over ``axes`` (storage shift removed):
    summed in float32 while that is exact (n * 256 <= 2^24; faster), else in int64."""
    shape = b.shape(x)
    if len(shape) == 4 and axes == [1, 2] and n * 256 <= 1 << 22:
        # GlobalAveragePool (fast in NCHW) times n, rounded: the exact sum, since the two
        # float32 roundings stay below 0.5 while |sum| < 2^22
        avg = b.one("GlobalAveragePool", [b.to_nchw(b.one("Cast", [b.raw(x)], to=1))])
        total = b.one("Round", [b.one("Mul", [avg, b.const(np.float32(n))])])
        total = b.to_nhwc(total) if keepdims else b.reshape(total, [shape[0], shape[3]])
        total = b.one("Cast", [total], to=7)
        if b.shifted(x):
            total = b.one("Sub", [total, b.const(128 * n, dtype=np.int64)])
        return total
    exact_in_float = n * 256 <= 1 << 24
    total = b.one("ReduceSum", [b.one("Cast", [b.raw(x)], to=1 if exact_in_float else 7),
                                b.const(np.array(axes, np.int64))], keepdims=keepdims)
    if exact_in_float:
        total = b.one("Cast", [total], to=7)
    if b.shifted(x):
        total = b.one("Sub", [total, b.const(128 * n, dtype=np.int64)])
    return total


def _spatial_integer_mean(op, b: OnnxBuilder) -> None:
    """LiteRT's int8 MEAN over H and W with keep_dims (optimized_integer_ops::Mean): the raw sum
    requantized by ``s_in / (H*W * s_out)`` (float32) plus ``zo - round(zi * s_in / s_out)``;
    channels in whole blocks of 16 (its SIMD loop) round the final shift half up, the others
    half away from zero — as edgelite's kernel (kernels/quantized_misc.py) does, exactly."""
    from ..kernels.quantized_elementwise import round_to_float32 as f32
    from ..kernels.quantized_elementwise import scalar_multiplier
    x, out = op.inputs[0], op.outputs[0]
    (si,), (zi,) = b.qparams(x)[0], b.qparams(x)[1]
    (so,), (zo,) = b.qparams(out)[0], b.qparams(out)[1]
    _, h, w, c = b.shape(x)
    temp = f32(f32(f32(float(zi)) * float(si)) / float(so))
    temp = f32(temp + 0.5) if temp > 0 else f32(temp - 0.5)
    bias = int(zo) - int(np.trunc(temp))
    m, shift = scalar_multiplier(f32(float(si) / f32(f32(float(h * w)) * float(so))))
    total = _raw_sum(b, x, [1, 2], 1, h * w)
    scalar = multiply_by_quantized_multiplier(b, total, m, shift)
    vector_channels = c - c % 16
    res = scalar
    if vector_channels and shift < 0:  # (with no right shift both lanes are the same)
        i64 = lambda v: b.const(int(v), dtype=np.int64)  # noqa: E731
        high = _high_mul(b, total, m)
        right = -shift
        up = b.one("Add", [high, i64(1 << (right - 1))])
        floor_div = b.one("Div", [b.one("Sub", [up, b.one("BitwiseAnd", [up, i64((1 << right) - 1)])]),
                                  i64(1 << right)])
        lanes = b.const((np.arange(c) < vector_channels).reshape(1, 1, 1, c))
        res = b.one("Where", [lanes, floor_div, scalar])
    info = np.iinfo(np.int8)
    shift_out = 128 if b.shifted(out) else 0
    q = b.one("Clip", [b.one("Add", [res, b.const(bias + shift_out, dtype=np.int64)]),
                       b.const(info.min + shift_out, dtype=np.int64), b.const(info.max + shift_out, dtype=np.int64)])
    b.set_raw(out, b.one("Cast", [q], to=2 if shift_out else 3))


def _spatial_qlinear_mean(op, b: OnnxBuilder) -> None:
    """int8 MEAN over H and W as ONNX Runtime's QLinearGlobalAveragePool on the NHWC uint8
    storage (one node instead of the ~20 of the exact integer form: 28% of
    efficientnet_b0_int8's time in ORT went to them). Its exact integer sum is requantized
    in float with one rounding (LiteRT folds the zero-point term into a separately rounded
    bias): off by one step on some channels, never more."""
    x, out = op.inputs[0], op.outputs[0]
    y = b.node("QLinearGlobalAveragePool", [b.raw(x), *b.scalar_qparams(x), *b.scalar_qparams(out)], 1,
               channels_last=1, domain=MS_DOMAIN)[0]
    if not op.opt("keep_dims", False):
        y = b.reshape(y, b.shape(out))
    b.set_raw(out, y)


def _high_mul(b: OnnxBuilder, x: str, multiplier: int) -> str:
    """SaturatingRoundingDoublingHighMul(x, multiplier) on int64 values holding int32 ones."""
    i64 = lambda v: b.const(int(v), dtype=np.int64)  # noqa: E731
    xm = b.one("Mul", [x, i64(multiplier)])
    nudge = b.one("Where", [b.one("GreaterOrEqual", [xm, i64(0)]), i64(1 << 30), i64(1 - (1 << 30))])
    return b.one("Div", [b.one("Add", [xm, nudge]), i64(1 << 31)])


def multiply_by_quantized_multiplier(b: OnnxBuilder, x: str, multiplier: int, shift: int) -> str:
    """TFLite's MultiplyByQuantizedMultiplier on int64 values holding int32 ones, exactly:
    SaturatingRoundingDoublingHighMul (nudge, truncating division by 2^31), then
    RoundingDivideByPOT (halves away from zero). ONNX's integer Div truncates toward zero
    and BitShift is unsigned only, so the shifts are exact divisions."""
    i64 = lambda v: b.const(int(v), dtype=np.int64)  # noqa: E731
    if shift > 0:
        x = b.one("Mul", [x, i64(1 << shift)])
    high = _high_mul(b, x, multiplier)
    right = max(-shift, 0)
    if right == 0:
        return high
    mask = (1 << right) - 1
    remainder = b.one("BitwiseAnd", [high, i64(mask)])
    threshold = b.one("Add", [i64(mask >> 1), b.one("Cast", [b.one("Less", [high, i64(0)])], to=7)])
    floor_div = b.one("Div", [b.one("Sub", [high, remainder]), i64(1 << right)])
    return b.one("Add", [floor_div, b.one("Cast", [b.one("Greater", [remainder, threshold])], to=7)])


def _arg(op, b: OnnxBuilder) -> None:
    axis = b.const_int(op, op.inputs[1])[0]
    y = b.one("ArgMax" if op.opcode == "ARG_MAX" else "ArgMin", [b.get(op.inputs[0])], axis=axis, keepdims=0)
    if TENSOR_DTYPES[b.tensor(op.outputs[0]).dtype] != np.int64:
        y = b.one("Cast", [y], to=6)
    b.set(op.outputs[0], y)


def _softmax(op, b: OnnxBuilder) -> None:
    x = b.get(op.inputs[0])
    beta = float(op.opt("beta", 1.0))
    if beta != 1.0:
        x = b.one("Mul", [x, b.const(np.float32(beta))])
    b.set(op.outputs[0], b.one("Softmax", [x], axis=-1))


def _log_softmax(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("LogSoftmax", [b.get(op.inputs[0])], axis=-1))


def _to_static_shape(op, b: OnnxBuilder) -> None:
    """RESHAPE, SQUEEZE, EXPAND_DIMS: a Reshape to the known output shape."""
    b.set(op.outputs[0], b.reshape(b.get(op.inputs[0]), b.shape(op.outputs[0])))


def _transpose(op, b: OnnxBuilder) -> None:
    perm = b.const_int(op, op.inputs[1])
    b.set(op.outputs[0], b.one("Transpose", [b.get(op.inputs[0])], perm=perm))


def _concatenation(op, b: OnnxBuilder) -> None:
    rank = len(b.shape(op.outputs[0]))
    axis = int(op.opt("axis", 0)) % max(rank, 1)
    y = b.one("Concat", [b.get(t) for t in op.inputs], axis=axis)
    b.set(op.outputs[0], b.activation(y, op.opt("fused_activation_function", 0), op))


def _split_into(op, b: OnnxBuilder, x: int, axis: int) -> None:
    rank = len(b.shape(x))
    axis %= rank
    sizes = [b.shape(t)[axis] for t in op.outputs]
    outs = b.node("Split", [b.get(x), b.const(np.array(sizes, np.int64))], len(op.outputs), axis=axis)
    for t, name in zip(op.outputs, outs):
        b.set(t, name)


def _split(op, b: OnnxBuilder) -> None:
    _split_into(op, b, op.inputs[1], b.const_int(op, op.inputs[0])[0])


def _split_v(op, b: OnnxBuilder) -> None:
    _split_into(op, b, op.inputs[0], b.const_int(op, op.inputs[2])[0])


def _pack(op, b: OnnxBuilder) -> None:
    rank = len(b.shape(op.outputs[0]))
    axis = int(op.opt("axis", 0)) % rank
    # a Reshape to the known shape (ONNX Runtime 1.2x returned [2, 1] for Unsqueeze+Concat of scalars)
    parts = [b.reshape(b.get(t), [*b.shape(t)[:axis], 1, *b.shape(t)[axis:]]) for t in op.inputs]
    b.set(op.outputs[0], parts[0] if len(parts) == 1 else b.one("Concat", parts, axis=axis))


def _unpack(op, b: OnnxBuilder) -> None:
    x = op.inputs[0]
    rank = len(b.shape(x))
    axis = int(op.opt("axis", 0)) % rank
    n = len(op.outputs)
    outs = b.node("Split", [b.get(x), b.const(np.ones(n, np.int64))], n, axis=axis)
    for t, name in zip(op.outputs, outs):
        b.set(t, b.reshape(name, b.shape(t)))


def _gather(op, b: OnnxBuilder) -> None:
    if op.opt("batch_dims", 0):
        raise b.fail(op, "batch_dims is not supported")
    rank = len(b.shape(op.inputs[0]))
    axis = int(op.opt("axis", 0)) % rank
    b.set(op.outputs[0], b.one("Gather", [b.get(op.inputs[0]), b.get(op.inputs[1])], axis=axis))


def _pad(op, b: OnnxBuilder) -> None:
    pads = np.array(b.const_int(op, op.inputs[1]), np.int64).reshape(-1, 2)
    inputs = [b.get(op.inputs[0]), b.const(np.concatenate([pads[:, 0], pads[:, 1]]))]
    attrs = {}
    if op.opcode == "MIRROR_PAD":
        if op.opt("mode", 0) != 0:
            raise b.fail(op, "only REFLECT mirror padding has an ONNX equivalent")
        attrs["mode"] = "reflect"
    elif op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = b.real_value(op.inputs[2])
        if value is None:
            raise b.fail(op, "the padding value must be constant")
        inputs.append(b.const(np.asarray(value).reshape(()).astype(np.float32)
                              if b.quantized(op.inputs[0]) else np.asarray(value).reshape(())))
    b.set(op.outputs[0], b.one("Pad", inputs, **attrs))


def _tile(op, b: OnnxBuilder) -> None:
    reps = b.const_int(op, op.inputs[1])
    b.set(op.outputs[0], b.one("Tile", [b.get(op.inputs[0]), b.const(np.array(reps, np.int64))]))


def _slice(op, b: OnnxBuilder) -> None:
    x = op.inputs[0]
    shape = b.shape(x)
    begin, size = b.const_int(op, op.inputs[1]), b.const_int(op, op.inputs[2])
    end = [d if s == -1 else bg + s for bg, s, d in zip(begin, size, shape)]
    y = b.one("Slice", [b.get(x), b.const(np.array(begin, np.int64)), b.const(np.array(end, np.int64)),
                        b.const(np.arange(len(begin), dtype=np.int64))])
    b.set(op.outputs[0], y)


def _strided_slice(op, b: OnnxBuilder) -> None:
    x = op.inputs[0]
    shape = b.shape(x)
    begin, end = b.const_int(op, op.inputs[1]), b.const_int(op, op.inputs[2])
    strides = b.const_int(op, op.inputs[3]) if len(op.inputs) > 3 and op.inputs[3] >= 0 else [1] * len(begin)
    if op.opt("ellipsis_mask", 0) or op.opt("new_axis_mask", 0):
        raise b.fail(op, "ellipsis and new-axis masks are not supported")
    if len(begin) > len(shape):
        raise b.fail(op, "more slice dimensions than the input has")
    bm, em, sm = op.opt("begin_mask", 0), op.opt("end_mask", 0), op.opt("shrink_axis_mask", 0)
    offset = op.opt("offset", False)
    starts, ends = [], []
    for i, (bg, e, s) in enumerate(zip(begin, end, strides)):
        if s == 0:
            raise b.fail(op, "stride 0")
        if offset:
            e = bg + e
        if sm >> i & 1:
            bg = bg + shape[i] if bg < 0 else bg
            starts.append(bg)
            ends.append(bg + 1)
            continue
        starts.append((-BIG if s > 0 else BIG) if bm >> i & 1 else bg)
        ends.append((BIG if s > 0 else -BIG) if em >> i & 1 else e)
    if sm:
        strides = [1 if sm >> i & 1 else s for i, s in enumerate(strides)]
    y = b.one("Slice", [b.get(x), b.const(np.array(starts, np.int64)), b.const(np.array(ends, np.int64)),
                        b.const(np.arange(len(starts), dtype=np.int64)), b.const(np.array(strides, np.int64))])
    out_shape = b.shape(op.outputs[0])
    b.set(op.outputs[0], b.reshape(y, out_shape) if sm else y)


def _select(op, b: OnnxBuilder) -> None:
    b.set(op.outputs[0], b.one("Where", [b.get(t) for t in op.inputs[:3]]))


def _identity_value(op, b: OnnxBuilder) -> None:
    """QUANTIZE and DEQUANTIZE: the float view of the input, (re)quantized by set() if needed;
    a DEQUANTIZE of a constant (float16 or int8 weights) becomes a float32 constant."""
    if op.opcode == "DEQUANTIZE" and b.const_value(op.inputs[0]) is not None:
        b.values[op.outputs[0]] = b.real_value(op.inputs[0]).astype(np.float32)
        return
    b.set(op.outputs[0], b.get(op.inputs[0]))


LOWERINGS = {
    **{name: _binary for name in _BINARY}, "SQUARED_DIFFERENCE": _squared_difference, "NOT_EQUAL": _not_equal,
    **{name: _unary for name in _UNARY}, "RSQRT": _rsqrt, "SQUARE": _square,
    "RELU6": _clip(0, 6), "RELU_N1_TO_1": _clip(-1, 1), "RELU_0_TO_1": _clip(0, 1), "LEAKY_RELU": _leaky_relu,
    "PRELU": _prelu, "GELU": _gelu, "CAST": _cast,
    **{name: _reduce for name in _REDUCE}, "ARG_MAX": _arg, "ARG_MIN": _arg,
    "SOFTMAX": _softmax, "LOG_SOFTMAX": _log_softmax,
    "RESHAPE": _to_static_shape, "SQUEEZE": _to_static_shape, "EXPAND_DIMS": _to_static_shape,
    "TRANSPOSE": _transpose, "CONCATENATION": _concatenation, "SPLIT": _split, "SPLIT_V": _split_v,
    "PACK": _pack, "UNPACK": _unpack, "GATHER": _gather, "PAD": _pad, "PADV2": _pad, "MIRROR_PAD": _pad,
    "TILE": _tile, "SLICE": _slice, "STRIDED_SLICE": _strided_slice, "SELECT": _select, "SELECT_V2": _select,
    "QUANTIZE": _identity_value, "DEQUANTIZE": _identity_value,
}

__all__ = ["LOWERINGS", "LoweringError"]
