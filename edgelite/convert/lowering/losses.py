"""NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (inference form) from ONE_HOT, MUL and SUM.

The picked log-probability is ``sum_c(input * one_hot(target) * w)`` over the class axis, with the
class weights ``w`` (all ones by default) zeroed at ``ignore_index`` so ignored targets weigh 0.
"""
from __future__ import annotations

import numpy as np

from ..context import Unsupported
from . import lowers
from .common import require_dtype


def _op(ctx, opcode, ins, shape, opts=None, dtype=np.float32, out=None):
    t = out if out is not None else ctx.temp(shape, dtype, opcode.lower())
    ctx.emit(opcode, ins, [t], opts)
    return t


def _nll(ctx, node, logp, in_shape, target, weight_name, out_name):
    if ctx.dtype(target) not in (np.int32, np.int64):
        raise Unsupported(f"targets of type {ctx.dtype(target)}")
    n_cls = in_shape[1]
    rank = len(in_shape)
    w = np.ones(n_cls, np.float32)
    if weight_name:
        wc = ctx.need_const(weight_name, "class weights")
        w = np.asarray(wc, np.float32).copy()
    ignore = node.attr("ignore_index")
    if ignore is not None and 0 <= ignore < n_cls:
        w[ignore] = 0.0
    onehot = _op(ctx, "ONE_HOT", [ctx.input(target, None), ctx.constant(np.array(n_cls, np.int32)),
                                  ctx.constant(np.array(1.0, np.float32)), ctx.constant(np.array(0.0, np.float32))],
                 in_shape, {"axis": 1})
    wsel = _op(ctx, "MUL", [onehot, ctx.constant(w.reshape((1, n_cls) + (1,) * (rank - 2)))], in_shape)
    prod = _op(ctx, "MUL", [logp, wsel], in_shape)
    red = (in_shape[0],) + tuple(in_shape[2:])
    axis = ctx.constant(np.array([1], np.int32))
    picked = _op(ctx, "SUM", [prod, axis], red, {"keep_dims": False})
    reduction = node.attr("reduction", "mean")
    if reduction == "none":
        _op(ctx, "NEG", [picked], None, out=ctx.output(out_name))
        return
    all_axes = ctx.constant(np.arange(len(red), dtype=np.int32))
    total = _op(ctx, "SUM", [picked, all_axes], (), {"keep_dims": False})
    if reduction == "sum":
        _op(ctx, "NEG", [total], None, out=ctx.output(out_name))
        return
    if reduction != "mean":
        raise Unsupported(f"reduction {reduction!r}")
    wsum = _op(ctx, "SUM", [_op(ctx, "SUM", [wsel, axis], red, {"keep_dims": False}), all_axes], (),
               {"keep_dims": False})
    neg = _op(ctx, "NEG", [total], ())
    _op(ctx, "DIV", [neg, wsum], None, out=ctx.output(out_name))


@lowers("NegativeLogLikelihoodLoss")
def lower_nll(ctx, node):
    x, target = node.inputs[:2]
    require_dtype(ctx, node, x)
    weight = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    _nll(ctx, node, ctx.input(x, None), ctx.shape(x), target, weight, node.outputs[0])


@lowers("SoftmaxCrossEntropyLoss")
def lower_sce(ctx, node):
    x, target = node.inputs[:2]
    require_dtype(ctx, node, x)
    shape = ctx.shape(x)
    axis = ctx.constant(np.array([1], np.int32))
    red = (shape[0], 1) + tuple(shape[2:])
    xi = ctx.input(x, None)
    # log_softmax over the class axis (axis 1) without moving it: x - max - log(sum(exp(x - max)))
    m = _op(ctx, "REDUCE_MAX", [xi, axis], red, {"keep_dims": True})
    s = _op(ctx, "SUB", [xi, m], shape)
    lse = _op(ctx, "LOG", [_op(ctx, "SUM", [_op(ctx, "EXP", [s], shape), axis], red, {"keep_dims": True})], red)
    lp_name = node.outputs[1] if len(node.outputs) > 1 and node.outputs[1] else None
    logp = _op(ctx, "SUB", [s, lse], shape, out=ctx.output(lp_name) if lp_name else None)
    weight = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    _nll(ctx, node, logp, shape, target, weight, node.outputs[0])
