"""Data-movement ONNX ops: Reshape/Flatten/Squeeze/Unsqueeze, Transpose (free relabel), Concat, Split,
Slice, Gather family, Expand, Tile, Pad, CumSum, TopK, OneHot, Trilu, ConstantOfShape, Range."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported
from . import lowers
from .scatter_reduce import scatter_reduce
from .common import emit_reshape, layout_with_axis_last, norm_axis, pick_layout


def _reshape_to_output(ctx, node, src_name=None):
    x = src_name or node.inputs[0]
    out = node.outputs[0]
    shape = ctx.shape(out)
    if ctx.is_const(x):
        ctx.graph.consts[out] = np.asarray(ctx.const(x)).reshape(shape)
        return
    o = ctx.output(out)
    emit_reshape(ctx, ctx.input(x, None), shape, o)


@lowers("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def lower_reshape(ctx, node):
    if node.op_type == "Reshape" and len(node.inputs) > 1 and not ctx.is_const(node.inputs[1]):
        s = ctx.graph.shapes.get(node.outputs[0])
        if s is None or None in s:
            raise NeedsConstant(node.inputs[1], "Reshape shape")
    _reshape_to_output(ctx, node)


@lowers("Transpose")
def lower_transpose(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    perm = node.attr("perm") or list(range(rank))[::-1]
    new = L.after_transpose(ctx.layout(x), perm)
    ctx.alias(node.outputs[0], ctx.input(x, ctx.layout(x)), new)


@lowers("Concat")
def lower_concat(ctx, node):
    ins = [i for i in node.inputs if i and 0 not in ctx.shape(i)]
    out = node.outputs[0]
    rank = ctx.rank(out)
    axis = norm_axis(node.attr("axis"), rank)
    dt = ctx.dtype(out)
    if dt == np.float64:
        raise Unsupported("Concat on float64")
    if len(ins) == 1:
        ctx.forward(out, ins[0])
        return
    perm = pick_layout(ctx, ins, rank)
    tensors = [ctx.input(n, perm) for n in ins]
    o = ctx.output(out, perm)
    ctx.emit("CONCATENATION", tensors, [o], {"axis": L.physical_axis(axis, perm)})


@lowers("Split")
def lower_split(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", 0), rank)
    perm = ctx.layout(x)
    sizes = [ctx.shape(o)[axis] for o in node.outputs]
    outs = [ctx.output(o, perm) if o else ctx.temp(L.physical_shape(ctx.shape(x)[:axis] + (s,) + ctx.shape(x)[axis + 1:],
                                                               perm), ctx.dtype(x), "unused")
            for o, s in zip(node.outputs, sizes)]
    pax = L.physical_axis(axis, perm)
    if len(outs) == 1:
        ctx.values.pop(node.outputs[0], None)
        ctx.alias(node.outputs[0], ctx.input(x, perm), perm)
        return
    ctx.emit("SPLIT_V", [ctx.input(x, perm), ctx.constant(np.array(sizes, np.int32)),
                         ctx.constant(np.array(pax, np.int32))], outs, {"num_splits": len(outs)})


@lowers("Slice")
def lower_slice(ctx, node):
    x = node.inputs[0]
    shape = ctx.shape(x)
    rank = len(shape)
    if ctx.graph.opset < 10:
        starts, ends = node.attr("starts"), node.attr("ends")
        axes = node.attr("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts = ctx.need_const(node.inputs[1], "Slice starts").tolist()
        ends = ctx.need_const(node.inputs[2], "Slice ends").tolist()
        axes = (ctx.need_const(node.inputs[3], "Slice axes").tolist() if len(node.inputs) > 3 and node.inputs[3]
                else list(range(len(starts))))
        steps = (ctx.need_const(node.inputs[4], "Slice steps").tolist() if len(node.inputs) > 4 and node.inputs[4]
                 else [1] * len(starts))
    begin, end, stride = [0] * rank, list(shape), [1] * rank
    end_mask = 0
    for s, e, a, st in zip(starts, ends, axes, steps):
        a = norm_axis(a, rank)
        dim = shape[a]
        s = int(max(min(s, 2**62), -2**62))
        e = int(max(min(e, 2**62), -2**62))
        b, en, sp = slice(s, e, int(st)).indices(dim)
        begin[a], end[a], stride[a] = b, en, sp
    perm = ctx.layout(x)
    pb = list(L.physical_shape(begin, perm))
    pe = list(L.physical_shape(end, perm))
    ps = list(L.physical_shape(stride, perm))
    for i in range(rank):
        if ps[i] < 0 and pe[i] < 0:
            end_mask |= 1 << i
            pe[i] = 0
    if 0 in ctx.shape(node.outputs[0]):
        raise Unsupported("Slice producing an empty tensor")
    o = ctx.output(node.outputs[0], perm)
    ctx.emit("STRIDED_SLICE", [ctx.input(x, perm), ctx.constant(np.array(pb, np.int32)),
                               ctx.constant(np.array(pe, np.int32)), ctx.constant(np.array(ps, np.int32))], [o],
             {"end_mask": end_mask})


def _index_tensor(ctx, name, dim):
    """Indices with negatives wrapped (constant: folded; runtime: FLOOR_MOD by dim)."""
    c = ctx.const(name)
    if c is not None:
        c = np.asarray(c).astype(np.int64)
        c = np.where(c < 0, c + dim, c)
        return ctx.constant(c.astype(np.int32))
    idx = ctx.input(name, None)
    dt = ctx.dtype(name)
    t = ctx.temp(ctx.shape(name), dt, "wrapped_idx")
    ctx.emit("FLOOR_MOD", [idx, ctx.constant(np.array(dim, dt))], [t])
    return t


@lowers("Gather")
def lower_gather(ctx, node):
    x, idx = node.inputs
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", 0), rank)
    dim = ctx.shape(x)[axis]
    if ctx.dtype(x) == np.float64:
        raise Unsupported("Gather on float64")
    irank = ctx.rank(idx)
    perm = ctx.layout(x) if irank <= 1 else None
    it = _index_tensor(ctx, idx, dim)
    out_perm = perm if irank == 1 else L.drop_axes(perm, [axis]) if irank == 0 else None
    o = ctx.output(node.outputs[0], out_perm)
    ctx.emit("GATHER", [ctx.input(x, perm), it], [o], {"axis": L.physical_axis(axis, perm)})


@lowers("GatherElements")
def lower_gather_elements(ctx, node):
    x, idx = node.inputs
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", 0), rank)
    ishape = ctx.shape(idx)
    it = _index_tensor(ctx, idx, ctx.shape(x)[axis])
    if ctx.sg.tensors[it].numpy_dtype != np.int32:
        t = ctx.temp(ishape, np.int32, "idx32")
        ctx.emit("CAST", [it], [t])
        it = t
    grids = np.meshgrid(*[np.arange(d, dtype=np.int32) for d in ishape], indexing="ij")
    parts = [it if a == axis else ctx.constant(grids[a]) for a in range(rank)]
    coords = ctx.temp(ishape + (rank,), np.int32, "coords")
    ctx.emit("PACK", parts, [coords], {"values_count": rank, "axis": rank})
    o = ctx.output(node.outputs[0])
    ctx.emit("GATHER_ND", [ctx.input(x, None), coords], [o])


@lowers("GatherND")
def lower_gather_nd(ctx, node):
    x, idx = node.inputs
    if node.attr("batch_dims", 0):
        raise Unsupported("GatherND with batch_dims")
    c = ctx.const(idx)
    if c is not None:
        shape = ctx.shape(x)
        c = np.asarray(c).astype(np.int64)
        c = np.where(c < 0, c + np.array(shape[:c.shape[-1]]), c)
        it = ctx.constant(c.astype(np.int32))
    else:
        it = ctx.input(idx, None)
    o = ctx.output(node.outputs[0])
    ctx.emit("GATHER_ND", [ctx.input(x, None), it], [o])


@lowers("ScatterND")
def lower_scatter_nd(ctx, node):
    data, idx, upd = node.inputs
    reduction = node.attr("reduction", "none")
    c = ctx.need_const(idx, "ScatterND indices")
    shape = ctx.shape(data)
    c = np.asarray(c).astype(np.int64)
    c = np.where(c < 0, c + np.array(shape[:c.shape[-1]]), c)
    if reduction not in ("none", "add"):  # full coordinates of every update element
        q = c.shape[-1]
        inner = (np.indices(shape[q:]).reshape(len(shape) - q, -1).T if q < len(shape)
                 else np.zeros((1, 0), np.int64))
        lead = c.reshape(-1, q)
        coords = np.concatenate([np.repeat(lead, len(inner), 0), np.tile(inner, (len(lead), 1))], 1)
        scatter_reduce(ctx, node, data, coords, upd, reduction)
        return
    # mask of written positions (constant), SCATTER_ND of the updates, then SELECT
    mask = np.zeros(shape, bool)
    mask[tuple(np.moveaxis(c, -1, 0))] = True
    dt = ctx.dtype(data)
    sc = ctx.temp(shape, dt, "scattered")
    ctx.emit("SCATTER_ND", [ctx.constant(c.astype(np.int32)), ctx.input(upd, None),
                            ctx.constant(np.array(shape, np.int32))], [sc])
    o = ctx.output(node.outputs[0])
    if reduction == "add":  # SCATTER_ND sums duplicate indices; untouched positions get + 0
        ctx.emit("ADD", [ctx.input(data, None), sc], [o])
        return
    ctx.emit("SELECT_V2", [ctx.constant(mask), sc, ctx.input(data, None)], [o])


@lowers("Expand")
def lower_expand(ctx, node):
    x = node.inputs[0]
    out_shape = ctx.shape(node.outputs[0])
    if ctx.shape(x) == out_shape:
        ctx.alias(node.outputs[0], ctx.input(x, ctx.layout(x)), ctx.layout(x))
        return
    o = ctx.output(node.outputs[0])
    ctx.emit("BROADCAST_TO", [ctx.input(x, None), ctx.constant(np.array(out_shape, np.int32))], [o], version=2)


@lowers("Tile")
def lower_tile(ctx, node):
    x, reps = node.inputs
    r = ctx.const(reps)
    perm = ctx.layout(x) if r is not None else None
    rt = ctx.constant(np.asarray(L.physical_shape(list(np.asarray(r).reshape(-1)), perm), np.int32)) \
        if r is not None else ctx.input(reps, None)
    o = ctx.output(node.outputs[0], perm)
    ctx.emit("TILE", [ctx.input(x, perm), rt], [o])


@lowers("Pad")
def lower_pad(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    mode = node.attr("mode", "constant")
    if ctx.graph.opset < 11:
        pads = list(node.attr("pads"))
        value = float(node.attr("value", 0.0))
    else:
        pads = ctx.need_const(node.inputs[1], "Pad pads").astype(np.int64).tolist()
        value = ctx.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else 0
        if len(node.inputs) > 2 and node.inputs[2] and value is None:
            raise NeedsConstant(node.inputs[2], "Pad value")
        value = np.asarray(value).reshape(-1)[0] if np.size(value) else 0
    axes = list(range(rank))
    if len(node.inputs) > 3 and node.inputs[3]:
        axes = [norm_axis(a, rank) for a in ctx.need_const(node.inputs[3], "Pad axes").tolist()]
    spec = [[0, 0] for _ in range(rank)]
    n = len(axes)
    for i, a in enumerate(axes):
        spec[a] = [int(pads[i]), int(pads[i + n])]
    if any(p < 0 for pair in spec for p in pair):
        raise Unsupported(f"negative pads {pads}")
    perm = ctx.layout(x)
    pspec = [spec[p] for p in perm] if perm else spec
    pt = ctx.constant(np.array(pspec, np.int32))
    xi = ctx.input(x, perm)
    o = ctx.output(node.outputs[0], perm)
    dt = ctx.dtype(x)
    if mode == "constant":
        if value == 0:
            ctx.emit("PAD", [xi, pt], [o])
        else:
            ctx.emit("PADV2", [xi, pt, ctx.constant(np.array(value, dt))], [o])
    elif mode == "reflect":
        ctx.emit("MIRROR_PAD", [xi, pt], [o], {"mode": 0})
    else:
        raise Unsupported(f"Pad mode {mode!r}")


@lowers("CumSum")
def lower_cumsum(ctx, node):
    x, ax = node.inputs
    rank = ctx.rank(x)
    axis = norm_axis(int(np.asarray(ctx.need_const(ax, "CumSum axis")).reshape(-1)[0]), rank)
    dt = ctx.dtype(x)
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"CumSum on {dt}")
    perm = ctx.layout(x)
    o = ctx.output(node.outputs[0], perm)
    ctx.emit("CUMSUM", [ctx.input(x, perm), ctx.constant(np.array(L.physical_axis(axis, perm), np.int32))], [o],
             {"exclusive": bool(node.attr("exclusive", 0)), "reverse": bool(node.attr("reverse", 0))})


@lowers("TopK")
def lower_topk(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", -1), rank)
    if ctx.graph.opset < 10:
        k = int(node.attr("k"))
    else:
        k = int(np.asarray(ctx.need_const(node.inputs[1], "TopK k")).reshape(-1)[0])
    if not node.attr("sorted", 1):
        raise Unsupported("TopK with sorted=0")
    dt = ctx.dtype(x)
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"TopK on {dt}")
    perm = layout_with_axis_last(ctx, x, axis)
    xi = ctx.input(x, perm)
    phys = L.physical_shape(ctx.shape(node.outputs[0]), perm)
    largest = bool(node.attr("largest", 1))
    if not largest:
        if dt != np.float32:
            raise Unsupported("TopK largest=0 on integers")
        t = ctx.temp(L.physical_shape(ctx.shape(x), perm), dt, "neg")
        ctx.emit("NEG", [xi], [t])
        xi = t
    vals = ctx.output(node.outputs[0], perm) if largest else ctx.temp(phys, dt, "negvals")
    idx32 = ctx.temp(phys, np.int32, "idx32")
    ctx.emit("TOPK_V2", [xi, ctx.constant(np.array(k, np.int32))], [vals, idx32])
    if not largest:
        v = ctx.output(node.outputs[0], perm)
        ctx.emit("NEG", [vals], [v])
    io = ctx.output(node.outputs[1], perm)
    ctx.emit("CAST", [idx32], [io])


@lowers("OneHot")
def lower_onehot(ctx, node):
    idx, depth, values = node.inputs
    d = int(np.asarray(ctx.need_const(depth, "OneHot depth")).reshape(-1)[0])
    vals = ctx.need_const(values, "OneHot values")
    out_rank = ctx.rank(node.outputs[0])
    axis = norm_axis(node.attr("axis", -1), out_rank)
    dt = ctx.dtype(node.outputs[0])
    # negative indices count from the end; other out-of-range indices give an all-"off" row
    c = ctx.const(idx)
    if c is not None:
        c = np.asarray(c).astype(np.int64)
        it = ctx.constant(np.where(c < 0, c + d, c).astype(np.int32))
    else:
        raw = ctx.input(idx, None)
        idt = ctx.dtype(idx)
        ishape = ctx.shape(idx)
        neg = ctx.temp(ishape, np.bool_, "neg")
        ctx.emit("LESS", [raw, ctx.constant(np.array(0, idt))], [neg])
        shifted = ctx.temp(ishape, idt, "shifted")
        ctx.emit("ADD", [raw, ctx.constant(np.array(d, idt))], [shifted])
        it = ctx.temp(ishape, idt, "wrapped")
        ctx.emit("SELECT_V2", [neg, shifted, raw], [it])
    if ctx.sg.tensors[it].numpy_dtype not in (np.int32, np.int64):
        t = ctx.temp(ctx.shape(idx), np.int32, "idx32")
        ctx.emit("CAST", [it], [t])
        it = t
    o = ctx.output(node.outputs[0])
    ctx.emit("ONE_HOT", [it, ctx.constant(np.array(d, np.int32)), ctx.constant(np.array(vals[1], dt)),
                         ctx.constant(np.array(vals[0], dt))], [o], {"axis": axis})


@lowers("Trilu")
def lower_trilu(ctx, node):
    x = node.inputs[0]
    shape = ctx.shape(x)
    k = int(np.asarray(ctx.need_const(node.inputs[1], "Trilu k")).reshape(-1)[0]) \
        if len(node.inputs) > 1 and node.inputs[1] else 0
    if 0 in shape:
        raise Unsupported("Trilu on an empty tensor")
    ones = np.ones(shape[-2:], bool)
    mask = np.triu(ones, k) if node.attr("upper", 1) else np.tril(ones, k)
    o = ctx.output(node.outputs[0])
    ctx.emit("SELECT_V2", [ctx.constant(mask), ctx.input(x, None), ctx.constant(np.array(0, ctx.dtype(x)))], [o])


@lowers("EyeLike")
def lower_eyelike(ctx, node):
    shape = ctx.shape(node.inputs[0])
    dt = np.dtype(ctx.dtype(node.outputs[0]))
    ctx.graph.consts[node.outputs[0]] = np.eye(shape[0], shape[1], k=int(node.attr("k", 0)), dtype=dt)


@lowers("ConstantOfShape")
def lower_constant_of_shape(ctx, node):
    shape = ctx.shape(node.outputs[0])
    v = node.attr("value")
    dt = ctx.dtype(node.outputs[0])
    v = np.zeros(1, dt) if v is None else np.asarray(v).reshape(-1).astype(dt)
    o = ctx.output(node.outputs[0])
    ctx.emit("FILL", [ctx.input(node.inputs[0], None, np.int32), ctx.constant(np.array(v[0], dt))], [o])
    ctx.sg.tensors[o].shape = shape


@lowers("Range")
def lower_range(ctx, node):
    dt = ctx.dtype(node.outputs[0])
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"Range on {dt}")
    s = ctx.graph.shapes.get(node.outputs[0])
    if s is None or None in s:
        runtime = [n for n in node.inputs if not ctx.is_const(n)]
        raise NeedsConstant(runtime[0], "Range bound: the output length must be static")
    o = ctx.output(node.outputs[0])
    ctx.emit("RANGE", [ctx.input(n, None) for n in node.inputs], [o])


@lowers("Shape", "Size")
def lower_shape(ctx, node):
    raise Unsupported(f"{node.op_type} of a tensor whose shape is not static")


@lowers("ReverseSequence")
def lower_reverse_sequence(ctx, node):
    x, lens = node.inputs
    o = ctx.output(node.outputs[0])
    ctx.emit("REVERSE_SEQUENCE", [ctx.input(x, None), ctx.input(lens, None)], [o],
             {"seq_dim": int(node.attr("time_axis", 0)), "batch_dim": int(node.attr("batch_axis", 1))})


@lowers("ScatterElements", "Scatter")
def lower_scatter_elements(ctx, node):
    """Constant indices: full coordinates for SCATTER_ND, then SELECT against the data tensor."""
    data, idx, upd = node.inputs
    reduction = node.attr("reduction", "none")
    shape = ctx.shape(data)
    rank = len(shape)
    axis = norm_axis(node.attr("axis", 0), rank)
    c = np.asarray(ctx.need_const(idx, f"{node.op_type} indices")).astype(np.int64)
    c = np.where(c < 0, c + shape[axis], c)
    grids = np.meshgrid(*[np.arange(d) for d in c.shape], indexing="ij")
    coords = np.stack([c if a == axis else grids[a] for a in range(rank)], axis=-1).reshape(-1, rank)
    if reduction not in ("none", "add"):
        scatter_reduce(ctx, node, data, coords, upd, reduction)
        return
    mask = np.zeros(shape, bool)
    mask[tuple(coords.T)] = True
    dt = ctx.dtype(data)
    flat_upd = ctx.temp((coords.shape[0],), dt, "updates")
    ctx.emit("RESHAPE", [ctx.input(upd, None), ctx.constant(np.array([coords.shape[0]], np.int32))], [flat_upd],
             {"new_shape": [coords.shape[0]]})
    sc = ctx.temp(shape, dt, "scattered")
    ctx.emit("SCATTER_ND", [ctx.constant(coords.astype(np.int32)), flat_upd, ctx.constant(np.array(shape, np.int32))],
             [sc])
    if reduction == "add":  # SCATTER_ND sums duplicate indices; untouched positions get + 0
        ctx.emit("ADD", [ctx.input(data, None), sc], [ctx.output(node.outputs[0])])
        return
    ctx.emit("SELECT_V2", [ctx.constant(mask), sc, ctx.input(data, None)], [ctx.output(node.outputs[0])])
