"""Elementwise ONNX ops: unary math, activations, binary arithmetic/comparison/logic, Where, Clip."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported
from . import lowers
from .common import Expr, broadcast_input, elementwise, emit_temp, pick_layout, unary

UNARY = {"Abs": "ABS", "Neg": "NEG", "Exp": "EXP", "Log": "LOG", "Sqrt": "SQRT", "Sin": "SIN", "Cos": "COS",
         "Tanh": "TANH", "Sigmoid": "LOGISTIC", "Relu": "RELU", "Floor": "FLOOR", "Ceil": "CEIL",
         "Round": "ROUND", "Sign": "SIGN", "Not": "LOGICAL_NOT", "Elu": None, "HardSwish": "HARD_SWISH"}
BINARY = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV", "Pow": "POW", "Equal": "EQUAL",
          "Greater": "GREATER", "Less": "LESS", "GreaterOrEqual": "GREATER_EQUAL", "LessOrEqual": "LESS_EQUAL",
          "And": "LOGICAL_AND", "Or": "LOGICAL_OR", "Xor": "NOT_EQUAL", "BitwiseXor": "BITWISE_XOR"}
COMPARISONS = {"Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Xor"}


def _is_float(dt) -> bool:
    return np.dtype(dt).kind == "f"


@lowers(*[k for k, v in UNARY.items() if v])
def lower_unary(ctx, node):
    if node.op_type in ("Round", "Exp", "Log", "Sqrt", "Sin", "Cos", "Tanh", "Sigmoid") \
            and not _is_float(ctx.dtype(node.inputs[0])):
        raise Unsupported(f"{node.op_type} on {ctx.dtype(node.inputs[0])}")
    if ctx.dtype(node.inputs[0]) == np.float64:
        raise Unsupported("float64 math has no TFLite kernels")
    unary(ctx, node, UNARY[node.op_type])


@lowers("Identity")
def lower_identity(ctx, node):
    ctx.forward(node.outputs[0], node.inputs[0])


ARITH_TYPES = {np.dtype(np.float32), np.dtype(np.int32), np.dtype(np.int64)}
# Small integer types have no (unquantized) TFLite arithmetic kernels: compute them in a wider type.
WIDER = {np.dtype(np.int8): np.int32, np.dtype(np.uint8): np.int32, np.dtype(np.int16): np.int32,
         np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64}


def widened(ctx, node, opcode, inputs, wide):
    """CAST inputs to ``wide``, run ``opcode`` there, CAST back (comparisons give bool directly)."""
    out = node.outputs[0]
    rank = ctx.rank(out)
    perm = pick_layout(ctx, inputs, rank)
    tensors = []
    for n in inputs:
        if ctx.is_const(n):
            tensors.append(broadcast_input(ctx, n, perm, rank, wide))
            continue
        src = broadcast_input(ctx, n, perm, rank)
        t = ctx.temp(ctx.sg.tensors[src].shape, wide, "widened")
        ctx.emit("CAST", [src], [t])
        tensors.append(t)
    out_dt = ctx.dtype(out)
    if out_dt == np.bool_:
        ctx.emit(opcode, tensors, [ctx.output(out, perm)])
        return
    r = ctx.temp(L.physical_shape(ctx.shape(out), perm), wide, opcode.lower())
    ctx.emit(opcode, tensors, [r])
    ctx.emit("CAST", [r], [ctx.output(out, perm)])


LOGIC_TYPES = {np.dtype(bool)}


def check_types(node, dt, allowed=ARITH_TYPES):
    if np.dtype(dt) not in allowed:
        raise Unsupported(f"{node.op_type} on {np.dtype(dt)}: no TFLite kernel for this type "
                          "(8/16-bit integers need quantization parameters)")


@lowers(*BINARY)
def lower_binary(ctx, node):
    dt = ctx.dtype(node.inputs[0])
    if node.op_type in ("And", "Or", "Xor"):
        check_types(node, dt, LOGIC_TYPES)
    elif node.op_type == "Equal" and dt not in WIDER:
        check_types(node, dt, ARITH_TYPES | LOGIC_TYPES)
    elif node.op_type == "BitwiseXor":
        check_types(node, dt, {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                                    np.uint32)})
    elif node.op_type == "Pow":
        check_types(node, dt, {np.dtype(np.float32), np.dtype(np.int32)})
    elif dt in WIDER and not (node.op_type == "Div" and WIDER[dt] == np.int64):
        widened(ctx, node, BINARY[node.op_type], node.inputs, WIDER[dt])
        return
    else:
        check_types(node, dt)
    op = BINARY[node.op_type]
    # ONNX integer division truncates toward zero; FLOOR_DIV differs for negatives -> use DIV (int32 only)
    if node.op_type == "Div" and dt.kind in "iu" and dt != np.int32:
        runtime = [n for n in node.inputs if not ctx.is_const(n)]
        if dt == np.int64 and runtime:  # int64 division is shape arithmetic in practice: it must fold
            raise NeedsConstant(runtime[0], "operand of an int64 Div (TFLite has no int64 division)")
        raise Unsupported(f"integer Div on {dt}")
    if node.op_type == "Pow" and ctx.dtype(node.inputs[1]) != dt:
        raise Unsupported(f"Pow with mixed types {dt} and {ctx.dtype(node.inputs[1])}")
    elementwise(ctx, node, op)


@lowers("Max", "Min", "Sum", "Mean")
def lower_variadic(ctx, node):
    dt = ctx.dtype(node.outputs[0])
    ins = [i for i in node.inputs if i]
    if dt in WIDER and len(ins) == 2 and node.op_type in ("Max", "Min", "Sum"):
        widened(ctx, node, {"Max": "MAXIMUM", "Min": "MINIMUM", "Sum": "ADD"}[node.op_type], ins, WIDER[dt])
        return
    check_types(node, dt)
    op = {"Max": "MAXIMUM", "Min": "MINIMUM", "Sum": "ADD", "Mean": "ADD"}[node.op_type]
    if len(ins) == 1:  # a single operand is passed through
        ctx.forward(node.outputs[0], ins[0])
        return
    out = node.outputs[0]
    shape = ctx.shape(out)
    perm = pick_layout(ctx, ins, len(shape))
    acc = broadcast_input(ctx, ins[0], perm, len(shape))
    dt = ctx.dtype(out)
    for k, n in enumerate(ins[1:]):
        last = k == len(ins) - 2 and node.op_type != "Mean"
        o = ctx.output(out, perm) if last else ctx.temp(L.physical_shape(shape, perm), dt, op.lower())
        ctx.emit(op, [acc, broadcast_input(ctx, n, perm, len(shape))], [o])
        acc = o
    if node.op_type == "Mean":
        o = ctx.output(out, perm)
        ctx.emit("MUL", [acc, ctx.constant(np.array(1.0 / len(ins), dt))], [o])


@lowers("Where")
def lower_where(ctx, node):
    elementwise(ctx, node, "SELECT_V2")


@lowers("Mod")
def lower_mod(ctx, node):
    # fmod=0: the result takes the divisor's sign, which is FLOOR_MOD; fmod=1 (truncated) has no builtin
    dt = ctx.dtype(node.inputs[0])
    if node.attr("fmod", 0):
        _lower_fmod(ctx, node, dt)
        return
    if dt in WIDER:
        widened(ctx, node, "FLOOR_MOD", node.inputs, WIDER[dt])
        return
    check_types(node, dt)
    elementwise(ctx, node, "FLOOR_MOD")


def _lower_fmod(ctx, node, dt):
    """fmod (the remainder takes the dividend's sign) from FLOOR_MOD (the divisor's sign):
    ``r = floor_mod(x, y); fmod = r - y`` where r != 0 and x, y have different signs, else r. Exact."""
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"Mod fmod=1 on {dt}")
    x, y = node.inputs
    out = node.outputs[0]
    rank = ctx.rank(out)
    perm = pick_layout(ctx, [x, y], rank)
    tx, ty = broadcast_input(ctx, x, perm, rank), broadcast_input(ctx, y, perm, rank)
    shape = L.physical_shape(ctx.shape(out), perm)
    zero = ctx.constant(np.array(0, dt))
    r = emit_temp(ctx, "FLOOR_MOD", [tx, ty], shape, dt)
    nonzero = emit_temp(ctx, "NOT_EQUAL", [r, zero], shape, np.bool_)
    xneg = emit_temp(ctx, "LESS", [tx, zero], ctx.sg.tensors[tx].shape, np.bool_)
    yneg = emit_temp(ctx, "LESS", [ty, zero], ctx.sg.tensors[ty].shape, np.bool_)
    differ = emit_temp(ctx, "NOT_EQUAL", [xneg, yneg], shape, np.bool_)
    fix = emit_temp(ctx, "LOGICAL_AND", [nonzero, differ], shape, np.bool_)
    shifted = emit_temp(ctx, "SUB", [r, ty], shape, dt)
    ctx.emit("SELECT_V2", [fix, shifted, r], [ctx.output(out, perm)])


@lowers("BitShift")
def lower_bitshift(ctx, node):
    """ONNX BitShift (opset 11 unsigned, opset 26 signed too). Amounts outside [0, bits) give 0, or -1 for a
    negative value shifted RIGHT; LEFT wraps like the unsigned type of the same width.

    RIGHT: two RIGHT_SHIFTs, by ``s`` (or ``bits - 1`` when out of range) and then by 0 (or 1 when out of
    range), which yields 0 / -1 for out-of-range amounts without a SELECT on narrow types.
    LEFT: ``x * 2**s`` with ``2**s`` taken from a GATHER table, in int32 (8/16-bit) or int64 (32/64-bit),
    out-of-range amounts selected to 0, then a wrapping CAST back."""
    dt = ctx.dtype(node.inputs[0])
    left = node.attr("direction") != "RIGHT"
    if dt.kind not in "iu" or dt == np.uint64 or not left and dt.itemsize > 4:
        raise Unsupported(f"BitShift {node.attr('direction')} on {dt}")
    x, s = node.inputs
    out = node.outputs[0]
    rank = ctx.rank(out)
    perm = pick_layout(ctx, [x, s], rank)
    shape = L.physical_shape(ctx.shape(out), perm)
    tx, ts = broadcast_input(ctx, x, perm, rank), broadcast_input(ctx, s, perm, rank)
    s_shape = ctx.sg.tensors[ts].shape
    bits = dt.itemsize * 8
    if dt == np.int64:  # bring huge amounts into int32 range first
        ts = emit_temp(ctx, "MAXIMUM", [ts, ctx.constant(np.array(-1, np.int64))], s_shape, np.int64)
        ts = emit_temp(ctx, "MINIMUM", [ts, ctx.constant(np.array(bits, np.int64))], s_shape, np.int64)
    s32 = ts if dt == np.int32 else emit_temp(ctx, "CAST", [ts], s_shape, np.int32)
    ge0 = emit_temp(ctx, "GREATER_EQUAL", [s32, ctx.constant(np.array(0, np.int32))], s_shape, np.bool_)
    lt = emit_temp(ctx, "LESS", [s32, ctx.constant(np.array(bits, np.int32))], s_shape, np.bool_)
    valid = emit_temp(ctx, "LOGICAL_AND", [ge0, lt], s_shape, np.bool_)
    if not left:
        amount = emit_temp(ctx, "SELECT_V2", [valid, s32, ctx.constant(np.array(bits - 1, np.int32))],
                           s_shape, np.int32)
        extra = emit_temp(ctx, "SELECT_V2", [valid, ctx.constant(np.array(0, np.int32)),
                                             ctx.constant(np.array(1, np.int32))], s_shape, np.int32)
        if dt != np.int32:
            amount = emit_temp(ctx, "CAST", [amount], s_shape, dt)
            extra = emit_temp(ctx, "CAST", [extra], s_shape, dt)
        r = emit_temp(ctx, "RIGHT_SHIFT", [tx, amount], shape, dt)
        ctx.emit("RIGHT_SHIFT", [r, extra], [ctx.output(out, perm)])
        return
    wide = np.int32 if dt.itemsize <= 2 else np.int64
    idx = emit_temp(ctx, "MAXIMUM", [s32, ctx.constant(np.array(0, np.int32))], s_shape, np.int32)
    idx = emit_temp(ctx, "MINIMUM", [idx, ctx.constant(np.array(bits - 1, np.int32))], s_shape, np.int32)
    table = np.array([1 << k for k in range(bits)], np.uint64).view(np.int64).astype(wide)
    p2 = emit_temp(ctx, "GATHER", [ctx.constant(table), idx], s_shape, wide, {"axis": 0, "batch_dims": 0})
    xw = tx if dt == wide else emit_temp(ctx, "CAST", [tx], ctx.sg.tensors[tx].shape, wide)
    prod = emit_temp(ctx, "MUL", [xw, p2], shape, wide)
    if dt == wide:
        ctx.emit("SELECT_V2", [valid, prod, ctx.constant(np.array(0, wide))], [ctx.output(out, perm)])
        return
    sel = emit_temp(ctx, "SELECT_V2", [valid, prod, ctx.constant(np.array(0, wide))], shape, wide)
    ctx.emit("CAST", [sel], [ctx.output(out, perm)])


@lowers("LeakyRelu")
def lower_leaky(ctx, node):
    unary(ctx, node, "LEAKY_RELU", {"alpha": float(node.attr("alpha", 0.01))})


def _elu_terms(e: Expr, alpha: float) -> tuple[int, int]:
    """alpha * (exp(min(x, 0)) - 1) and max(x, 0): ELU(x) is their sum."""
    neg = e.op("MINIMUM", e.x, 0.0)
    pos = e.op("RELU", e.x)
    return e.op("MUL", e.op("SUB", e.op("EXP", neg), 1.0), alpha), pos


@lowers("Elu")
def lower_elu(ctx, node):
    alpha = float(node.attr("alpha", 1.0))
    if alpha == 1.0:
        unary(ctx, node, "ELU")
        return
    e = Expr(ctx, node, node.inputs[0])
    e.done("ADD", *_elu_terms(e, alpha))


@lowers("Selu")
def lower_selu(ctx, node):
    alpha = float(node.attr("alpha", 1.67326319217681884765625))
    gamma = float(node.attr("gamma", 1.05070102214813232421875))
    e = Expr(ctx, node, node.inputs[0])
    e.done("MUL", e.op("ADD", *_elu_terms(e, alpha)), gamma)


@lowers("PRelu")
def lower_prelu(ctx, node):
    x = node.inputs[0]
    if ctx.dtype(x).kind != "f":  # TFLite's PRELU kernel is float (or quantized) only
        raise Unsupported(f"PRelu on {ctx.dtype(x)}")
    elementwise(ctx, node, "PRELU")


@lowers("Reciprocal")
def lower_reciprocal(ctx, node):
    e = Expr(ctx, node, node.inputs[0])
    e.done("DIV", 1.0, e.x)


@lowers("Softplus")
def lower_softplus(ctx, node):  # log(exp(x) + 1)
    e = Expr(ctx, node, node.inputs[0])
    e.done("LOG", e.op("ADD", e.op("EXP", e.x), 1.0))


@lowers("Softsign")
def lower_softsign(ctx, node):  # x / (|x| + 1)
    e = Expr(ctx, node, node.inputs[0])
    e.done("DIV", e.x, e.op("ADD", e.op("ABS", e.x), 1.0))


@lowers("Mish")
def lower_mish(ctx, node):  # x * tanh(log(exp(x) + 1))
    e = Expr(ctx, node, node.inputs[0])
    e.done("MUL", e.op("TANH", e.op("LOG", e.op("ADD", e.op("EXP", e.x), 1.0))), e.x)


@lowers("HardSigmoid")
def lower_hard_sigmoid(ctx, node):  # clamp(alpha * x + beta, 0, 1)
    alpha, beta = float(node.attr("alpha", 0.2)), float(node.attr("beta", 0.5))
    e = Expr(ctx, node, node.inputs[0])
    e.done("RELU_0_TO_1", e.op("ADD", e.op("MUL", e.x, alpha), beta))


@lowers("ThresholdedRelu")
def lower_thresholded_relu(ctx, node):  # x if x > alpha else 0
    e = Expr(ctx, node, node.inputs[0])
    mask = e.op("GREATER", e.x, float(node.attr("alpha", 1.0)), dtype=np.bool_)
    e.done("SELECT_V2", mask, e.x, 0.0)


@lowers("IsNaN")
def lower_isnan(ctx, node):  # x != x
    e = Expr(ctx, node, node.inputs[0], require=np.float32)
    e.done("NOT_EQUAL", e.x, e.x)


@lowers("Tan")
def lower_tan(ctx, node):  # sin(x) / cos(x)
    e = Expr(ctx, node, node.inputs[0])
    sin = e.op("SIN", e.x)
    e.done("DIV", sin, e.op("COS", e.x))


@lowers("Atan")
def lower_atan(ctx, node):  # atan2(x, 1); ATAN2 does not broadcast, so the 1 is full-shaped
    e = Expr(ctx, node, node.inputs[0])
    e.done("ATAN2", e.x, ctx.constant(np.ones(e.shape, e.dt)))


@lowers("Clip")
def lower_clip(ctx, node):
    x = node.inputs[0]
    dt = ctx.dtype(x)
    if ctx.graph.opset < 11 or (len(node.inputs) == 1 and ("min" in node.attrs or "max" in node.attrs)):
        lo, hi = node.attr("min"), node.attr("max")
        lo_name = hi_name = None
    else:
        lo_name = node.inputs[1] if len(node.inputs) > 1 and node.inputs[1] else None
        hi_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
        lo = ctx.const(lo_name) if lo_name else None
        hi = ctx.const(hi_name) if hi_name else None
        if (lo_name and lo is None) or (hi_name and hi is None):
            raise NeedsConstant(lo_name if lo is None and lo_name else hi_name, "Clip bound")
    lo = None if lo is None else float(np.asarray(lo))
    hi = None if hi is None else float(np.asarray(hi))
    if dt.kind == "f":
        for (a, b), op in (((0.0, 6.0), "RELU6"), ((-1.0, 1.0), "RELU_N1_TO_1"), ((0.0, 1.0), "RELU_0_TO_1")):
            if lo == a and hi == b:
                unary(ctx, node, op)
                return
        if lo == 0.0 and hi is None:
            unary(ctx, node, "RELU")
            return
    e = Expr(ctx, node, x)
    if lo is not None and hi is not None:
        e.done("MINIMUM", e.op("MAXIMUM", e.x, lo), hi)
    elif lo is not None:
        e.done("MAXIMUM", e.x, lo)
    elif hi is not None:
        e.done("MINIMUM", e.x, hi)
    else:
        ctx.alias(node.outputs[0], e.x, e.perm)


@lowers("Gelu")
def lower_gelu(ctx, node):
    unary(ctx, node, "GELU", {"approximate": node.attr("approximate", "none") == "tanh"})


# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7
_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


@lowers("Erf")
def lower_erf(ctx, node):
    """TFLite has no ERF: sign(x) * (1 - poly(t) * t * exp(-x^2)), t = 1 / (1 + p|x|)."""
    e = Expr(ctx, node, node.inputs[0], require=np.float32)
    x = e.x
    t = e.op("DIV", 1.0, e.op("ADD", e.op("MUL", e.op("ABS", x), _ERF_P), 1.0))
    poly = e.c(_ERF_A[0])
    for a in _ERF_A[1:]:
        poly = e.op("ADD", e.op("MUL", poly, t), a)
    gauss = e.op("EXP", e.op("NEG", e.op("MUL", x, x)))
    y = e.op("SUB", 1.0, e.op("MUL", e.op("MUL", poly, t), gauss))
    e.done("MUL", y, e.op("SIGN", x))


@lowers("Cast")
def lower_cast(ctx, node, dst=None):
    x = node.inputs[0]
    src = ctx.dtype(x)
    dst = np.dtype(dst) if dst is not None else ctx.dtype(node.outputs[0])
    if ctx.is_const(x):
        ctx.graph.consts[node.outputs[0]] = np.asarray(ctx.const(x)).astype(dst)
        return
    if src == dst:
        ctx.forward(node.outputs[0], x)
        return
    if dst.kind in "OUS" or src.kind in "OUS" or dst == np.float64 and src == np.float16:
        raise Unsupported(f"Cast {src} -> {dst}")
    unary(ctx, node, "CAST", out_dtype=dst)


@lowers("CastLike")
def lower_castlike(ctx, node):
    lower_cast(ctx, node, dst=ctx.dtype(node.inputs[1]))
