"""Elementwise ONNX ops with no TFLite builtin, written as short chains of builtin ops
(hyperbolic / inverse trigonometric functions, Swish, Celu, Shrink, IsInf, Hardmax, LpNormalization,
CenterCropPad)."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import Expr, emit_reshape, norm_axis, require_dtype


def _sqrt1mx2(e):  # sqrt(1 - x^2)
    return e.op("SQRT", e.op("SUB", 1.0, e.op("MUL", e.x, e.x)))


@lowers("Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Asin", "Acos", "Swish", "Celu", "Shrink", "IsInf")
def lower_composite(ctx, node):
    e = Expr(ctx, node, node.inputs[0], require=np.float32)
    x, t = e.x, node.op_type
    if t in ("Sinh", "Cosh"):
        a, b = e.op("EXP", x), e.op("EXP", e.op("NEG", x))
        e.done("MUL", e.op("SUB" if t == "Sinh" else "ADD", a, b), 0.5)
    elif t == "Asinh":
        e.done("LOG", e.op("ADD", x, e.op("SQRT", e.op("ADD", e.op("MUL", x, x), 1.0))))
    elif t == "Acosh":
        e.done("LOG", e.op("ADD", x, e.op("SQRT", e.op("SUB", e.op("MUL", x, x), 1.0))))
    elif t == "Atanh":
        e.done("MUL", e.op("LOG", e.op("DIV", e.op("ADD", x, 1.0), e.op("SUB", 1.0, x))), 0.5)
    elif t == "Asin":
        e.done("ATAN2", x, _sqrt1mx2(e))
    elif t == "Acos":
        e.done("ATAN2", _sqrt1mx2(e), x)
    elif t == "Swish":
        alpha = float(node.attr("alpha", 1.0))
        e.done("MUL", x, e.op("LOGISTIC", e.op("MUL", x, alpha) if alpha != 1.0 else x))
    elif t == "Celu":
        alpha = float(node.attr("alpha", 1.0))
        neg = e.op("MINIMUM", 0.0, e.op("MUL", e.op("SUB", e.op("EXP", e.op("DIV", x, alpha)), 1.0), alpha))
        e.done("ADD", e.op("RELU", x), neg)
    elif t == "Shrink":
        lambd, bias = float(node.attr("lambd", 0.5)), float(node.attr("bias", 0.0))
        lo = e.op("LESS", x, -lambd, dtype=np.bool_)
        hi = e.op("GREATER", x, lambd, dtype=np.bool_)
        inner = e.op("SELECT_V2", hi, e.op("SUB", x, bias), 0.0)
        e.done("SELECT_V2", lo, e.op("ADD", x, bias), inner)
    elif t == "IsInf":
        pos, neg = node.attr("detect_positive", 1), node.attr("detect_negative", 1)
        parts = []
        if pos:
            parts.append(e.op("EQUAL", x, float("inf"), dtype=np.bool_))
        if neg:
            parts.append(e.op("EQUAL", x, float("-inf"), dtype=np.bool_))
        o = ctx.output(node.outputs[0], e.perm)
        if len(parts) == 2:
            ctx.emit("LOGICAL_OR", parts, [o])
        elif parts:
            ctx.emit("LOGICAL_AND", [parts[0], parts[0]], [o])
        else:  # detects nothing: all false
            nan = e.op("NOT_EQUAL", x, x, dtype=np.bool_)
            ctx.emit("LOGICAL_AND", [nan, ctx.constant(np.array(False))], [o])


@lowers("SwiGLU")
def lower_swiglu(ctx, node):
    """``Y = A * sigmoid(alpha * A) * B`` (Swish of the gate times the value input)."""
    a, b = node.inputs
    if ctx.shape(a) != ctx.shape(b):
        raise Unsupported(f"SwiGLU inputs of shapes {ctx.shape(a)} and {ctx.shape(b)}")
    e = Expr(ctx, node, a, require=np.float32)
    alpha = float(node.attr("alpha", 1.0))
    gate = e.op("MUL", e.x, e.op("LOGISTIC", e.op("MUL", e.x, alpha) if alpha != 1.0 else e.x))
    e.done("MUL", gate, ctx.input(b, e.perm))


@lowers("Hardmax")
def lower_hardmax(ctx, node):
    x = node.inputs[0]
    require_dtype(ctx, node, x)
    shape = ctx.shape(x)
    rank = len(shape)
    if ctx.graph.opset < 13:
        axis = norm_axis(node.attr("axis", 1), rank)
        flat = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        src = ctx.temp(flat, np.float32, "flat")
        emit_reshape(ctx, ctx.input(x, None), flat, src)
        work_shape, axis = flat, 1
    else:
        axis = norm_axis(node.attr("axis", -1), rank)
        src, work_shape = ctx.input(x, None), shape
    red = tuple(d for i, d in enumerate(work_shape) if i != axis)
    am = ctx.temp(red, np.int32, "argmax")
    ctx.emit("ARG_MAX", [src, ctx.constant(np.array([axis], np.int32))], [am], {"output_type": 2})
    depth = ctx.constant(np.array(work_shape[axis], np.int32))
    on, off = ctx.constant(np.array(1.0, np.float32)), ctx.constant(np.array(0.0, np.float32))
    if work_shape == shape:
        ctx.emit("ONE_HOT", [am, depth, on, off], [ctx.output(node.outputs[0])], {"axis": axis})
        return
    oh = ctx.temp(work_shape, np.float32, "onehot")
    ctx.emit("ONE_HOT", [am, depth, on, off], [oh], {"axis": axis})
    emit_reshape(ctx, oh, shape, ctx.output(node.outputs[0]))


@lowers("LpNormalization")
def lower_lp_normalization(ctx, node):
    e = Expr(ctx, node, node.inputs[0], require=np.float32)
    rank = ctx.rank(node.inputs[0])
    axis = norm_axis(node.attr("axis", -1), rank)
    p = int(node.attr("p", 2))
    if p not in (1, 2):
        raise Unsupported(f"LpNormalization with p={p}")
    pax = L.physical_axis(axis, e.perm)
    red = tuple(1 if i == pax else d for i, d in enumerate(e.shape))
    mag = e.op("ABS", e.x) if p == 1 else e.op("MUL", e.x, e.x)
    s = e.op("SUM", mag, ctx.constant(np.array([pax], np.int32)), shape=red, opts={"keep_dims": True})
    norm = s if p == 1 else e.op("SQRT", s, shape=red)
    zero = e.op("EQUAL", norm, 0.0, dtype=np.bool_, shape=red)
    safe = e.op("SELECT_V2", zero, 1.0, norm, shape=red)
    e.done("SELECT_V2", zero, 0.0, e.op("DIV", e.x, safe))


@lowers("CenterCropPad")
def lower_center_crop_pad(ctx, node):
    x, shape_name = node.inputs[:2]
    target = [int(v) for v in ctx.need_const(shape_name, "CenterCropPad shape").reshape(-1)]
    shape = ctx.shape(x)
    rank = len(shape)
    axes = [norm_axis(a, rank) for a in node.attr("axes", list(range(rank)))]
    begin, size, pads = [0] * rank, list(shape), [[0, 0] for _ in range(rank)]
    for a, t in zip(axes, target):
        if t < shape[a]:
            begin[a], size[a] = (shape[a] - t) // 2, t
        elif t > shape[a]:
            extra = t - shape[a]
            pads[a] = [extra // 2, extra - extra // 2]
    src = ctx.input(x, None)
    dt = ctx.dtype(x)
    if begin != [0] * rank or size != list(shape):
        t = ctx.temp(size, dt, "crop")
        ctx.emit("SLICE", [src, ctx.constant(np.array(begin, np.int32)), ctx.constant(np.array(size, np.int32))],
                 [t])
        src = t
    o = ctx.output(node.outputs[0])
    if any(p != [0, 0] for p in pads):
        ctx.emit("PAD", [src, ctx.constant(np.array(pads, np.int32))], [o])
    else:
        emit_reshape(ctx, src, size, o)
