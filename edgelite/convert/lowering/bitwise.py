"""BitCast, BitwiseNot, BitwiseAnd, BitwiseOr.

TFLite has BITCAST and BITWISE_XOR (int8/uint8/int16/uint16/int32/uint32) but no AND / OR / NOT, so:

* ``BitwiseNot(x) = x XOR all-ones``;
* ``a AND b`` and ``a OR b`` use the identity ``a + b = (a XOR b) + 2 (a AND b)`` on integers (it holds for
  two's complement values of any width, sign-extended): ``AND = (a + b - (a XOR b)) / 2`` and
  ``OR = (a + b + (a XOR b)) / 2``. 8/16-bit values are widened to int32, where the sums cannot overflow.
  int32 values are split into a high half ``floor(v / 2**16)`` and a low half ``v mod 2**16`` (FLOOR_DIV /
  FLOOR_MOD), combined half by half and joined as ``high * 2**16 + low``, which never overflows either.
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import broadcast_input, emit_temp, pick_layout

XOR_TYPES = {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32)}


@lowers("BitCast")
def lower_bitcast(ctx, node):
    x, out = node.inputs[0], node.outputs[0]
    src_dt, dst_dt = ctx.dtype(x), ctx.dtype(out)
    if src_dt.itemsize != dst_dt.itemsize:
        # float64 / float16 values are computed as float32 by the converter, so their bits are not kept
        raise Unsupported(f"BitCast {src_dt} -> {dst_dt}: float64/float16 values are held as float32 in TFLite")
    if src_dt == dst_dt:
        ctx.forward(out, x)
        return
    perm = ctx.layout(x)
    o = ctx.output(out, perm, dtype=dst_dt)
    ctx.emit("BITCAST", [ctx.input(x, perm)], [o])


@lowers("BitwiseNot")
def lower_bitwise_not(ctx, node):
    x = node.inputs[0]
    dt = ctx.dtype(x)
    if dt not in XOR_TYPES:
        raise Unsupported(f"BitwiseNot on {dt}: TFLite's BITWISE_XOR takes 8/16/32-bit integers only")
    perm = ctx.layout(x)
    ones = np.array(-1 if dt.kind == "i" else np.iinfo(dt).max, dt)
    o = ctx.output(node.outputs[0], perm)
    ctx.emit("BITWISE_XOR", [ctx.input(x, perm), ctx.constant(ones)], [o])


@lowers("BitwiseAnd", "BitwiseOr")
def lower_bitwise_and_or(ctx, node):
    a, b = node.inputs
    dt = ctx.dtype(a)
    if dt not in XOR_TYPES or dt == np.uint32:
        raise Unsupported(f"{node.op_type} on {dt}: composed from BITWISE_XOR and int32 arithmetic, "
                          "which covers 8/16/32-bit signed and 8/16-bit unsigned integers")
    out = node.outputs[0]
    rank = ctx.rank(out)
    perm = pick_layout(ctx, [a, b], rank)
    shape = L.physical_shape(ctx.shape(out), perm)
    ta, tb = (broadcast_input(ctx, n, perm, rank) for n in (a, b))
    sign = 1 if node.op_type == "BitwiseOr" else -1
    if dt.itemsize < 4:
        wa = emit_temp(ctx, "CAST", [ta], ctx.sg.tensors[ta].shape, np.int32)
        wb = emit_temp(ctx, "CAST", [tb], ctx.sg.tensors[tb].shape, np.int32)
        r = _combine(ctx, wa, wb, shape, sign)
        ctx.emit("CAST", [r], [ctx.output(out, perm)])
        return
    c16 = ctx.constant(np.array(1 << 16, np.int32))
    halves = []
    for op in ("FLOOR_DIV", "FLOOR_MOD"):
        ha = emit_temp(ctx, op, [ta, c16], ctx.sg.tensors[ta].shape, np.int32)
        hb = emit_temp(ctx, op, [tb, c16], ctx.sg.tensors[tb].shape, np.int32)
        halves.append(_combine(ctx, ha, hb, shape, sign))
    hi = emit_temp(ctx, "MUL", [halves[0], c16], shape, np.int32)
    ctx.emit("ADD", [hi, halves[1]], [ctx.output(out, perm)])


def _combine(ctx, a: int, b: int, shape, sign: int) -> int:
    """``(a + b + sign * (a XOR b)) / 2`` in int32: a AND b (sign -1) or a OR b (sign +1)."""
    x = emit_temp(ctx, "BITWISE_XOR", [a, b], shape, np.int32)
    s = emit_temp(ctx, "ADD", [a, b], shape, np.int32)
    s = emit_temp(ctx, "ADD" if sign > 0 else "SUB", [s, x], shape, np.int32)
    return emit_temp(ctx, "RIGHT_SHIFT", [s, ctx.constant(np.array(1, np.int32))], shape, np.int32)
