"""ScatterND / ScatterElements with reduction ``min``, ``max`` or ``mul`` (constant indices).

SCATTER_ND can only sum, so the updates that land on the same element are combined first: with the
indices known at conversion time, the K distinct target elements and, for each, the (at most m) update
positions that hit it form a constant [K, m] table (short rows padded with an index of a neutral value:
1 for ``mul``, a repeat of the row's first update for ``min`` / ``max``). Then

    GATHER(updates, table) -> REDUCE_{MIN,MAX,PROD} over m -> combine with GATHER_ND(data, targets)
    -> SCATTER_ND (distinct targets: no sums) -> SELECT_V2(written mask, scattered, data)
"""
from __future__ import annotations

import numpy as np

from ..context import Unsupported
from .common import emit_temp

REDUCERS = {"min": ("REDUCE_MIN", "MINIMUM"), "max": ("REDUCE_MAX", "MAXIMUM"), "mul": ("REDUCE_PROD", "MUL")}


def scatter_reduce(ctx, node, data: str, coords: np.ndarray, updates: str, reduction: str) -> None:
    """Write node.outputs[0] = ``data`` with the flattened ``updates`` (in the order of ``coords``, an
    [N, rank] array of full element coordinates) combined into it by ``reduction``."""
    if reduction not in REDUCERS:
        raise Unsupported(f"{node.op_type} reduction={reduction}")
    dt = ctx.dtype(data)
    if dt not in (np.float32, np.int32, np.int64):
        raise Unsupported(f"{node.op_type} reduction={reduction} on {dt}")
    shape = ctx.shape(data)
    n = coords.shape[0]
    targets, inverse = np.unique(coords, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    k = targets.shape[0]
    rows = [np.nonzero(inverse == t)[0] for t in range(k)]
    m = max(len(r) for r in rows)
    neutral = n  # the extra element appended to the updates (1 for mul)
    table = np.array([np.concatenate([r, np.full(m - len(r), neutral if reduction == "mul" else r[0])])
                      for r in rows], np.int32)
    reduce_op, combine_op = REDUCERS[reduction]
    flat = emit_temp(ctx, "RESHAPE", [ctx.input(updates, None), ctx.constant(np.array([n], np.int32))], (n,), dt,
                     {"new_shape": [n]})
    if reduction == "mul":
        flat = emit_temp(ctx, "CONCATENATION", [flat, ctx.constant(np.ones(1, dt))], (n + 1,), dt,
                         {"axis": 0, "fused_activation_function": 0})
    grouped = emit_temp(ctx, "GATHER", [flat, ctx.constant(table)], (k, m), dt, {"axis": 0, "batch_dims": 0})
    combined = emit_temp(ctx, reduce_op, [grouped, ctx.constant(np.array([1], np.int32))], (k,), dt,
                         {"keep_dims": False})
    src = ctx.input(data, None)
    tgt = ctx.constant(targets.astype(np.int32))
    old = emit_temp(ctx, "GATHER_ND", [src, tgt], (k,), dt)
    new = emit_temp(ctx, combine_op, [old, combined], (k,), dt)
    scattered = emit_temp(ctx, "SCATTER_ND", [tgt, new, ctx.constant(np.array(shape, np.int32))], shape, dt)
    mask = np.zeros(shape, bool)
    mask[tuple(targets.T)] = True
    ctx.emit("SELECT_V2", [ctx.constant(mask), scattered, src], [ctx.output(node.outputs[0])])
