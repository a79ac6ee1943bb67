"""Reductions (ReduceX, global pools, ArgMax/ArgMin) with axes remapped to the physical layout."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported
from . import lowers
from .common import emit_reshape, norm_axis

SIMPLE = {"ReduceMean": "MEAN", "ReduceSum": "SUM", "ReduceMax": "REDUCE_MAX", "ReduceMin": "REDUCE_MIN",
          "ReduceProd": "REDUCE_PROD"}
COMPOSED = ("ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp")
AXES_AS_INPUT_SINCE = {"ReduceSum": 13}  # the others take axes as an input from opset 18


def reduce_axes(ctx, node) -> list[int] | None:
    """Logical axes to reduce; None means 'no reduction' (noop_with_empty_axes)."""
    rank = ctx.rank(node.inputs[0])
    since = AXES_AS_INPUT_SINCE.get(node.op_type, 18)
    if ctx.graph.opset >= since:
        name = node.inputs[1] if len(node.inputs) > 1 else ""
        axes = None
        if name:
            v = ctx.const(name)
            if v is None:
                raise NeedsConstant(name, "reduction axes")
            axes = [int(a) for a in np.asarray(v).reshape(-1)]
    else:
        axes = node.attr("axes")
    if not axes:
        if node.attr("noop_with_empty_axes", 0):
            return None
        return list(range(rank))
    return sorted({norm_axis(a, rank) for a in axes})


BOOL_REDUCERS = {"ReduceMax": "REDUCE_ANY", "ReduceMin": "REDUCE_ALL"}


def _empty_identity(op: str, dt):
    """The value ONNX gives a reduction over no elements (NaN for the mean, 0 / 0)."""
    big = np.inf if dt.kind == "f" else (True if dt == np.bool_ else np.iinfo(dt).max)
    small = -np.inf if dt.kind == "f" else (False if dt == np.bool_ else np.iinfo(dt).min)
    return {"ReduceMax": small, "ReduceMin": big, "ReduceProd": 1, "ReduceMean": np.nan,
            "ReduceLogSum": -np.inf, "ReduceLogSumExp": -np.inf}.get(op, 0)


def _reduce_empty(ctx, node, dt):
    """A reduction over a zero-length axis is the identity of the reduction: a constant."""
    out_shape = ctx.shape(node.outputs[0])
    if int(np.prod(out_shape)) == 0:
        raise Unsupported(f"{node.op_type} producing an empty tensor")
    value = _empty_identity(node.op_type, np.dtype(dt))
    if np.dtype(dt).kind != "f" and isinstance(value, float) and not np.isfinite(value):
        raise Unsupported(f"{node.op_type} over an empty axis on {dt}")
    ctx.graph.consts[node.outputs[0]] = np.full(out_shape, value, ctx.dtype(node.outputs[0]))


def _emit_reduce(ctx, opcode, src, perm, in_shape, axes, keep, out_name=None, out_dtype=None, temp_hint=None):
    pax = sorted(L.physical_axis(a, perm) for a in axes)
    phys = L.physical_shape(in_shape, perm)
    if keep:
        shape = tuple(1 if i in pax else d for i, d in enumerate(phys))
        out_perm = perm
    else:
        shape = tuple(d for i, d in enumerate(phys) if i not in pax)
        out_perm = L.drop_axes(perm, axes)
    dt = out_dtype or ctx.sg.tensors[src].numpy_dtype
    if out_name is not None:
        o = ctx.output(out_name, out_perm, dtype=dt)
    else:
        o = ctx.temp(shape, dt, temp_hint or opcode.lower())
    ctx.emit(opcode, [src, ctx.constant(np.array(pax, np.int32))], [o], {"keep_dims": bool(keep)})
    return o, out_perm, shape


@lowers(*SIMPLE, *COMPOSED)
def lower_reduce(ctx, node):
    x = node.inputs[0]
    dt = ctx.dtype(x)
    logical = dt == np.bool_ and node.op_type in BOOL_REDUCERS
    if (dt.kind not in "fi" or dt == np.float64 or dt == np.float16) and not logical:
        raise Unsupported(f"{node.op_type} on {dt}")
    if ctx.rank(x) == 0:
        raise Unsupported(f"{node.op_type} of a scalar")
    axes = reduce_axes(ctx, node)
    keep = bool(node.attr("keepdims", 1))
    if axes is not None and any(ctx.shape(x)[a] == 0 for a in axes):
        _reduce_empty(ctx, node, dt)
        return
    if logical:  # max / min of booleans: any / all
        perm = ctx.layout(x)
        _emit_reduce(ctx, BOOL_REDUCERS[node.op_type], ctx.input(x, perm), perm, ctx.shape(x), axes or
                     list(range(ctx.rank(x))), keep, node.outputs[0])
        return
    perm = ctx.layout(x)
    xi = ctx.input(x, perm)
    shape = ctx.shape(x)
    if axes is None:
        ctx.alias(node.outputs[0], xi, perm)
        if node.op_type in COMPOSED:
            raise Unsupported(f"{node.op_type} with noop_with_empty_axes")
        return
    out = node.outputs[0]
    phys = L.physical_shape(shape, perm)
    op = node.op_type
    if op in SIMPLE:
        _emit_reduce(ctx, SIMPLE[op], xi, perm, shape, axes, keep, out)
        return
    if dt.kind != "f":
        raise Unsupported(f"{op} on {dt}")
    if op == "ReduceL1":
        a = ctx.temp(phys, dt, "abs")
        ctx.emit("ABS", [xi], [a])
        _emit_reduce(ctx, "SUM", a, perm, shape, axes, keep, out)
    elif op in ("ReduceL2", "ReduceSumSquare"):
        sq = ctx.temp(phys, dt, "sq")
        ctx.emit("MUL", [xi, xi], [sq])
        if op == "ReduceSumSquare":
            _emit_reduce(ctx, "SUM", sq, perm, shape, axes, keep, out)
            return
        s, op_perm, _ = _emit_reduce(ctx, "SUM", sq, perm, shape, axes, keep)
        o = ctx.output(out, op_perm)
        ctx.emit("SQRT", [s], [o])
    elif op == "ReduceLogSum":
        s, op_perm, _ = _emit_reduce(ctx, "SUM", xi, perm, shape, axes, keep)
        o = ctx.output(out, op_perm)
        ctx.emit("LOG", [s], [o])
    elif op == "ReduceLogSumExp":
        # max-shifted for stability: m + log(sum(exp(x - m)))
        m, _, _ = _emit_reduce(ctx, "REDUCE_MAX", xi, perm, shape, axes, True)
        d = ctx.temp(phys, dt, "shifted")
        ctx.emit("SUB", [xi, m], [d])
        e = ctx.temp(phys, dt, "exp")
        ctx.emit("EXP", [d], [e])
        s, op_perm, sshape = _emit_reduce(ctx, "SUM", e, perm, shape, axes, True)
        lg = ctx.temp(sshape, dt, "log")
        ctx.emit("LOG", [s], [lg])
        if keep:
            o = ctx.output(out, perm)
            ctx.emit("ADD", [lg, m], [o])
        else:
            t = ctx.temp(sshape, dt, "lse")
            ctx.emit("ADD", [lg, m], [t])
            out_perm = L.drop_axes(perm, axes)
            o = ctx.output(out, out_perm)
            oshape = L.physical_shape(ctx.shape(out), out_perm)
            emit_reshape(ctx, t, oshape, o)


@lowers("GlobalAveragePool", "GlobalMaxPool")
def lower_global_pool(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"{node.op_type} on {ctx.dtype(x)}")
    perm = ctx.layout(x) or L.channels_last(rank)
    xi = ctx.input(x, perm)
    opcode = "MEAN" if node.op_type == "GlobalAveragePool" else "REDUCE_MAX"
    _emit_reduce(ctx, opcode, xi, perm, ctx.shape(x), list(range(2, rank)), True, node.outputs[0])


@lowers("ArgMax", "ArgMin")
def lower_argmax(ctx, node):
    x = node.inputs[0]
    dt = ctx.dtype(x)
    if dt not in (np.float32, np.int32, np.int64, np.uint8, np.int8):
        raise Unsupported(f"{node.op_type} on {dt}")
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", 0), rank)
    keep = bool(node.attr("keepdims", 1))
    perm = ctx.layout(x)
    xi = ctx.input(x, perm)
    shape = ctx.shape(x)
    phys = L.physical_shape(shape, perm)
    pax = L.physical_axis(axis, perm)
    opcode = "ARG_MAX" if node.op_type == "ArgMax" else "ARG_MIN"
    opts = {"output_type": 4}  # INT64
    dropped = tuple(d for i, d in enumerate(phys) if i != pax)
    if node.attr("select_last_index", 0):
        # last index of the extremum = (n - 1) - first index in the reversed tensor
        r = ctx.temp(phys, dt, "reversed")
        ctx.emit("REVERSE_V2", [xi, ctx.constant(np.array([pax], np.int32))], [r])
        a = ctx.temp(dropped, np.int64, "arg_rev")
        ctx.emit(opcode, [r, ctx.constant(np.array([pax], np.int32))], [a], opts)
        last_shape = tuple(1 if i == pax else d for i, d in enumerate(phys)) if keep else dropped
        o = ctx.output(node.outputs[0], perm if keep else L.drop_axes(perm, [axis]))
        if keep:
            t = ctx.temp(dropped, np.int64, "arg")
            ctx.emit("SUB", [ctx.constant(np.array(phys[pax] - 1, np.int64)), a], [t])
            emit_reshape(ctx, t, last_shape, o)
        else:
            ctx.emit("SUB", [ctx.constant(np.array(phys[pax] - 1, np.int64)), a], [o])
        return
    if keep:
        t = ctx.temp(dropped, np.int64, "arg")
        ctx.emit(opcode, [xi, ctx.constant(np.array([pax], np.int32))], [t], opts)
        o = ctx.output(node.outputs[0], perm)
        kshape = tuple(1 if i == pax else d for i, d in enumerate(phys))
        emit_reshape(ctx, t, kshape, o)
    else:
        o = ctx.output(node.outputs[0], L.drop_axes(perm, [axis]))
        ctx.emit(opcode, [xi, ctx.constant(np.array([pax], np.int32))], [o], opts)
