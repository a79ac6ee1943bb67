"""Data-selection ops: CumProd (masked products), Compress (a GATHER of the selected indices), Unique and
NonZero (dynamic-length outputs), Det (Leibniz formula); NonMaxSuppression is refused with its reasons.

CumProd has no TFLite builtin (and ``exp(cumsum(log x))`` breaks on zeros and negatives), so along an axis
of length n it is a REDUCE_PROD over an [..., n, n] tensor that holds ``x[j]`` where j is included in output
i's product and 1 elsewhere: ``SELECT_V2(mask[i, j], x[..., None, j], 1)``; the mask encodes
``exclusive`` / ``reverse``. It costs n^2 per row, so it is lowered for axes up to ``MAX_CUMPROD``.
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import emit_temp, layout_with_axis_last, norm_axis

MAX_CUMPROD = 1024


@lowers("CumProd")
def lower_cumprod(ctx, node):
    x, ax = node.inputs
    dt = ctx.dtype(x)
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"CumProd on {dt}")
    shape = ctx.shape(x)
    rank = len(shape)
    if rank + 1 > 6:
        raise Unsupported(f"CumProd on a rank-{rank} tensor (needs a rank-{rank + 1} intermediate; TFLite: 6)")
    axis = norm_axis(int(np.asarray(ctx.need_const(ax, "CumProd axis")).reshape(-1)[0]), rank)
    n = shape[axis]
    if n > MAX_CUMPROD:
        raise Unsupported(f"CumProd along an axis of {n} (lowered up to {MAX_CUMPROD})")
    i, j = np.arange(n)[:, None], np.arange(n)[None, :]
    reverse, exclusive = bool(node.attr("reverse", 0)), bool(node.attr("exclusive", 0))
    if reverse:
        mask = j > i if exclusive else j >= i
    else:
        mask = j < i if exclusive else j <= i
    perm = layout_with_axis_last(ctx, x, axis)
    pshape = L.physical_shape(shape, perm)
    src = ctx.input(x, perm)
    row = pshape[:-1] + (1, n)
    xr = emit_temp(ctx, "RESHAPE", [src, ctx.constant(np.array(row, np.int32))], row, dt,
                   {"new_shape": list(row)})
    sel = emit_temp(ctx, "SELECT_V2", [ctx.constant(mask), xr, ctx.constant(np.array(1, dt))],
                    pshape[:-1] + (n, n), dt)
    ctx.emit("REDUCE_PROD", [sel, ctx.constant(np.array([rank], np.int32))],
             [ctx.output(node.outputs[0], perm)], {"keep_dims": False})


@lowers("Compress")
def lower_compress(ctx, node):
    x, cond = node.inputs
    c = np.asarray(ctx.need_const(cond, "Compress condition")).reshape(-1).astype(bool)
    shape = ctx.shape(x)
    axis = node.attr("axis")
    if axis is None:
        flat = (int(np.prod(shape)),)
        src = emit_temp(ctx, "RESHAPE", [ctx.input(x, None), ctx.constant(np.array(flat, np.int32))], flat,
                        ctx.dtype(x), {"new_shape": list(flat)})
        axis, size = 0, flat[0]
    else:
        axis = norm_axis(axis, len(shape))
        src, size = ctx.input(x, None), shape[axis]
    idx = np.nonzero(c[:size])[0].astype(np.int32)
    if idx.size == 0:
        raise Unsupported("Compress selecting nothing (an empty tensor)")
    ctx.emit("GATHER", [src, ctx.constant(idx)], [ctx.output(node.outputs[0])], {"axis": axis, "batch_dims": 0})


@lowers("Unique")
def lower_unique(ctx, node):
    """Unique of the flattened input (no ``axis``), outputs of value-dependent length (dynamic tensors).

    TFLite UNIQUE lists values in order of first appearance, which is ONNX's ``sorted=0``; for
    ``sorted=1`` the input is first sorted descending with TOPK_V2 and the UNIQUE result reversed (its
    indices become ``count - 1 - index`` and are scattered back to the original positions). First-occurrence
    ``indices`` and ``counts`` are UNSORTED_SEGMENT_MIN / _SUM over the inverse indices."""
    x = node.inputs[0]
    if node.attr("axis") is not None:
        raise Unsupported("Unique along an axis (unique sub-tensors): TFLite's UNIQUE takes 1-D values")
    dt = ctx.dtype(x)
    if dt not in (np.float32, np.int32, np.int64, np.int8, np.uint8):
        raise Unsupported(f"Unique on {dt}")
    n = int(np.prod(ctx.shape(x)))
    flat = emit_temp(ctx, "RESHAPE", [ctx.input(x, None), ctx.constant(np.array([n], np.int32))], (n,), dt,
                     {"new_shape": [n]})
    outs = list(node.outputs) + [""] * 4
    i32 = np.int32
    sorted_ = bool(node.attr("sorted", 1))
    if sorted_:
        desc = emit_temp(ctx, "TOPK_V2", [flat, ctx.constant(np.array(n, i32))], (n,), dt)
        order = ctx.temp((n,), i32, "topk_idx")
        ctx.sg.operators[-1].outputs.append(order)
        src = desc
    else:
        src = flat
    values = ctx.output(outs[0], dtype=dt, shape=(n,)) if outs[0] and not sorted_ else ctx.temp((n,), dt, "unique")
    ctx.sg.tensors[values].shape_signature = (-1,)
    idx = ctx.temp((n,), i32, "unique_idx")
    ctx.emit("UNIQUE", [src], [values, idx], {"idx_out_type": 2})
    count = emit_temp(ctx, "REDUCE_MAX", [idx, ctx.constant(np.array([0], i32))], (), i32, {"keep_dims": False})
    count = emit_temp(ctx, "ADD", [count, ctx.constant(np.array(1, i32))], (), i32)
    if sorted_:
        if outs[0]:
            y = ctx.output(outs[0], dtype=dt, shape=(n,))
            ctx.sg.tensors[y].shape_signature = (-1,)
            ctx.emit("REVERSE_V2", [values, ctx.constant(np.array([0], i32))], [y])
        asc = emit_temp(ctx, "SUB", [emit_temp(ctx, "SUB", [count, ctx.constant(np.array(1, i32))], (), i32), idx],
                        (n,), i32)
        pos = emit_temp(ctx, "RESHAPE", [order, ctx.constant(np.array([n, 1], i32))], (n, 1), i32,
                        {"new_shape": [n, 1]})
        idx = emit_temp(ctx, "SCATTER_ND", [pos, asc, ctx.constant(np.array([n], i32))], (n,), i32)
    if outs[2]:  # one entry per input element: a static length
        ctx.graph.shapes[outs[2]] = (n,)
        ctx.emit("CAST", [idx], [ctx.output(outs[2], dtype=np.int64, shape=(n,))])
    for name, op, data in ((outs[1], "UNSORTED_SEGMENT_MIN", np.arange(n, dtype=i32)),
                           (outs[3], "UNSORTED_SEGMENT_SUM", np.ones(n, i32))):
        if not name:
            continue
        seg = ctx.temp((n,), i32, op.lower())
        ctx.sg.tensors[seg].shape_signature = (-1,)
        ctx.emit(op, [ctx.constant(data), idx, count], [seg])
        o = ctx.output(name, dtype=np.int64, shape=(n,))
        ctx.sg.tensors[o].shape_signature = (-1,)
        ctx.emit("CAST", [seg], [o])


@lowers("NonMaxSuppression")
def lower_non_max_suppression(ctx, node):
    """Refused with the reasons: TFLite's NON_MAX_SUPPRESSION_V4/V5 is not an exact equivalent."""
    raise Unsupported("NonMaxSuppression: TFLite's NON_MAX_SUPPRESSION_V4/V5 suppresses at IoU >= threshold "
                      "(ONNX: >), pops equal scores in heap order (ONNX: lowest index first) and re-selects "
                      "zero-area boxes, so results differ; not lowered")


@lowers("Det")
def lower_det(ctx, node):
    """Leibniz formula for matrices up to 4 x 4: GATHER the n! permutation products' factors from the
    flattened matrix, REDUCE_PROD them, weight by the permutation signs and SUM."""
    import itertools
    x = node.inputs[0]
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"Det on {ctx.dtype(x)}")
    shape = ctx.shape(x)
    n = shape[-1]
    if len(shape) < 2 or shape[-2] != n or not 1 <= n <= 4:
        raise Unsupported(f"Det of shape {shape} (square matrices up to 4 x 4 are lowered)")
    perms = list(itertools.permutations(range(n)))
    idx = np.array([[i * n + p[i] for i in range(n)] for p in perms], np.int32)
    sign = np.array([np.linalg.det(np.eye(n)[list(p)]) for p in perms], np.float32).round()
    batch = shape[:-2]
    flat = emit_temp(ctx, "RESHAPE", [ctx.input(x, None), ctx.constant(np.array(batch + (n * n,), np.int32))],
                     batch + (n * n,), options={"new_shape": list(batch + (n * n,))})
    factors = emit_temp(ctx, "GATHER", [flat, ctx.constant(idx)], batch + idx.shape,
                        options={"axis": len(batch), "batch_dims": 0})
    prods = emit_temp(ctx, "REDUCE_PROD", [factors, ctx.constant(np.array([len(batch) + 1], np.int32))],
                      batch + (len(perms),), options={"keep_dims": False})
    signed = emit_temp(ctx, "MUL", [prods, ctx.constant(sign)], batch + (len(perms),))
    ctx.emit("SUM", [signed, ctx.constant(np.array([len(batch)], np.int32))], [ctx.output(node.outputs[0])],
             {"keep_dims": False})


@lowers("NonZero")
def lower_nonzero(ctx, node):
    """WHERE (coordinates of the true elements, [count, rank] int64, row-major as ONNX) transposed to ONNX's
    [rank, count]; the count depends on the data, so the output is a dynamic tensor."""
    x = node.inputs[0]
    shape = ctx.shape(x)
    rank, n = len(shape), int(np.prod(shape))
    if rank == 0:
        raise Unsupported("NonZero of a scalar")
    src = ctx.input(x, None)
    if ctx.dtype(x) != np.bool_:
        dt = ctx.dtype(x)
        if dt not in (np.float32, np.int32, np.int64):
            raise Unsupported(f"NonZero on {dt}")
        src = emit_temp(ctx, "NOT_EQUAL", [src, ctx.constant(np.array(0, dt))], shape, np.bool_)
    coords = ctx.temp((n, rank), np.int64, "where")
    ctx.sg.tensors[coords].shape_signature = (-1, rank)
    ctx.emit("WHERE", [src], [coords])
    o = ctx.output(node.outputs[0], dtype=np.int64, shape=(rank, n))
    ctx.sg.tensors[o].shape_signature = (rank, -1)
    ctx.emit("TRANSPOSE", [coords, ctx.constant(np.array([1, 0], np.int32))], [o])
