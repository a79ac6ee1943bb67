"""MaxPool / AveragePool / LpPool of any rank, dilation, padding and ceil_mode, one spatial axis at a time
(the fallback behind MAX_POOL_2D / AVERAGE_POOL_2D).

A pooling window is a product of per-axis windows, so pooling is separable: along each spatial axis a
constant index table ``idx[o, t] = o * stride + t * dilation - pad_begin`` GATHERs the k taps of every
output position (the tensor grows a tap axis), taps outside the input are masked (SELECT_V2 with -inf for
max, 0 for sums) and the tap axis is reduced (REDUCE_MAX or SUM). For the average, each axis divides by
its own tap count (the taps inside the input for count_include_pad=0, inside the padded input for
count_include_pad=1); the counts of a product window multiply, so the result is the window average. LpPool
sums |x|^p axis by axis and takes the p-th root at the end.
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from .common import emit_temp

MAX_GROWTH = 1 << 24  # elements of the largest intermediate (one axis with its taps)


def pool_by_gathers(ctx, node, kernel, strides, dil, pads) -> None:
    x, out = node.inputs[0], node.outputs[0]
    dt = ctx.dtype(x)
    op = node.op_type
    integer = dt in (np.int8, np.uint8) and op == "MaxPool"  # computed in int32, cast back at the end
    if dt != np.float32 and not integer:
        raise Unsupported(f"{node.op_type} on {dt}")
    wdt = np.int32 if integer else np.float32
    xs, ys = ctx.shape(x), ctx.shape(out)
    nsp = len(kernel)
    p = float(node.attr("p", 2)) if op == "LpPool" else None
    include_pad = bool(node.attr("count_include_pad", 0))
    perm = ctx.layout(x)
    t = ctx.input(x, perm)
    logical = list(xs)
    if integer:
        t = emit_temp(ctx, "CAST", [t], L.physical_shape(logical, perm), wdt)
    if op == "LpPool":
        phys = L.physical_shape(logical, perm)
        t = emit_temp(ctx, "ABS", [t], phys)
        if p != 1:
            t = emit_temp(ctx, "POW", [t, ctx.constant(np.array(p, np.float32))], phys)
    for d in range(nsp):
        axis = 2 + d
        n_in, n_out, k = xs[axis], ys[axis], kernel[d]
        idx = np.arange(n_out)[:, None] * strides[d] + np.arange(k)[None, :] * dil[d] - pads[d]
        inside = (idx >= 0) & (idx < n_in)
        if not inside.any(axis=1).all() and op == "MaxPool":
            raise Unsupported(f"{op} with a window entirely in the padding")
        pa = L.physical_axis(axis, perm)
        phys = L.physical_shape(logical, perm)
        tapped = phys[:pa] + (n_out, k) + phys[pa + 1:]
        if int(np.prod(tapped)) > MAX_GROWTH:
            raise Unsupported(f"{op} window gathering of {int(np.prod(tapped))} elements")
        g = emit_temp(ctx, "GATHER", [t, ctx.constant(np.clip(idx, 0, n_in - 1).astype(np.int32))], tapped, wdt,
                      options={"axis": pa, "batch_dims": 0})
        mshape = [1] * len(tapped)
        mshape[pa], mshape[pa + 1] = n_out, k
        fill = (np.iinfo(wdt).min if integer else np.finfo(np.float32).min) if op == "MaxPool" else 0.0
        if not inside.all():
            g = emit_temp(ctx, "SELECT_V2", [ctx.constant(inside.reshape(mshape)), g,
                                             ctx.constant(np.array(fill, wdt))], tapped, wdt)
        logical[axis] = n_out
        phys = L.physical_shape(logical, perm)
        reduce_op = "REDUCE_MAX" if op == "MaxPool" else "SUM"
        last = d == nsp - 1 and op == "MaxPool" and not integer
        r = ctx.output(out, perm) if last else ctx.temp(phys, wdt, "pooled")
        ctx.emit(reduce_op, [g, ctx.constant(np.array([pa + 1], np.int32))], [r], {"keep_dims": False})
        t = r
        if op == "AveragePool":
            if include_pad:
                counts = ((idx >= -pads[d]) & (idx < n_in + pads[nsp + d])).sum(1)
            else:
                counts = inside.sum(1)
            cshape = [1] * len(phys)
            cshape[pa] = n_out
            last = d == nsp - 1
            r = ctx.output(out, perm) if last else ctx.temp(phys, np.float32, "avg")
            ctx.emit("DIV", [t, ctx.constant(counts.astype(np.float32).reshape(cshape))], [r])
            t = r
    if integer:
        ctx.emit("CAST", [t], [ctx.output(out, perm)])
    if op == "LpPool":
        o = ctx.output(out, perm)
        if p == 1:
            ctx.emit("RELU", [t], [o])
        elif p == 2:
            ctx.emit("SQRT", [t], [o])
        else:
            ctx.emit("POW", [t, ctx.constant(np.array(1.0 / p, np.float32))], [o])


def max_pool_with_indices(ctx, node, kernel, strides, dil, pads) -> None:
    """2-D MaxPool with its Indices output: both window axes gathered at once ([N, C, oh, ow, kh * kw]),
    REDUCE_MAX for the values and ARG_MAX (the first maximum, as the reference's strict ``>`` scan) for the
    tap, which a constant table turns into the flat input index ``(n * C + c) * H * W + h * W + w`` (or
    ``... + h + w * H`` for storage_order 1)."""
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    if len(xs) != 4 or ctx.dtype(x) != np.float32:
        raise Unsupported(f"MaxPool indices output for a rank-{len(xs)} {ctx.dtype(x)} input (2-D float32 only)")
    n, c, h, w = xs
    oh, ow = ys[2:]
    kh, kw = kernel
    if n * c * h * w >= 2 ** 31:
        raise Unsupported("MaxPool indices beyond int32")
    ih = np.arange(oh)[:, None] * strides[0] + np.arange(kh)[None, :] * dil[0] - pads[0]
    iw = np.arange(ow)[:, None] * strides[1] + np.arange(kw)[None, :] * dil[1] - pads[1]
    vh, vw = (ih >= 0) & (ih < h), (iw >= 0) & (iw < w)
    src = ctx.input(x, None)
    g1 = emit_temp(ctx, "GATHER", [src, ctx.constant(np.clip(ih, 0, h - 1).astype(np.int32))], (n, c, oh, kh, w),
                   options={"axis": 2, "batch_dims": 0})
    g2 = emit_temp(ctx, "GATHER", [g1, ctx.constant(np.clip(iw, 0, w - 1).astype(np.int32))],
                   (n, c, oh, kh, ow, kw), options={"axis": 4, "batch_dims": 0})
    valid = (vh[:, :, None, None] & vw[None, None, :, :]).reshape(1, 1, oh, kh, ow, kw)
    if not valid.all():
        g2 = emit_temp(ctx, "SELECT_V2", [ctx.constant(valid), g2, ctx.constant(np.array(-np.inf, np.float32))],
                       (n, c, oh, kh, ow, kw))
    moved = emit_temp(ctx, "TRANSPOSE", [g2, ctx.constant(np.array([0, 1, 2, 4, 3, 5], np.int32))],
                      (n, c, oh, ow, kh, kw))
    taps = emit_temp(ctx, "RESHAPE", [moved, ctx.constant(np.array([n, c, oh, ow, kh * kw], np.int32))],
                     (n, c, oh, ow, kh * kw), options={"new_shape": [n, c, oh, ow, kh * kw]})
    last = ctx.constant(np.array([4], np.int32))
    ctx.emit("REDUCE_MAX", [taps, last], [ctx.output(node.outputs[0])], {"keep_dims": False})
    tap = emit_temp(ctx, "ARG_MAX", [taps, ctx.constant(np.array(4, np.int32))], (n, c, oh, ow), np.int32,
                    {"output_type": 2})
    hh = np.repeat(ih[:, None, :, None], ow, 1).repeat(kw, 3)   # [oh, ow, kh, kw]
    ww = np.repeat(iw[None, :, None, :], oh, 0).repeat(kh, 2)
    pos = hh * w + ww if not node.attr("storage_order", 0) else hh + ww * h
    table = ctx.constant(pos.reshape(-1).astype(np.int32))
    base = (np.arange(oh * ow).reshape(1, 1, oh, ow) * (kh * kw)).astype(np.int32)
    flat = emit_temp(ctx, "ADD", [tap, ctx.constant(base)], (n, c, oh, ow), np.int32)
    within = emit_temp(ctx, "GATHER", [table, flat], (n, c, oh, ow), np.int32, {"axis": 0, "batch_dims": 0})
    plane = (np.arange(n * c).reshape(n, c, 1, 1) * (h * w)).astype(np.int32)
    full = emit_temp(ctx, "ADD", [within, ctx.constant(plane)], (n, c, oh, ow), np.int32)
    ctx.emit("CAST", [full], [ctx.output(node.outputs[1], dtype=np.int64)])
