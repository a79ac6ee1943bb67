"""MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv through exact float32 arithmetic.

The operands minus their zero points are small integers; their products and sums stay exact in float32 as
long as every partial sum is below 2**24, which is checked at conversion time from the operand ranges and
the contraction length (bigger products are refused, since they could round). The op is rewritten into
ONNX-level steps (Cast/Sub, float MatMul or Conv, then for the QLinear ops Mul by the combined scale, Add
the output zero point, Round half to even, Clip, Cast) that are lowered by the ordinary lowerings, so
layout handling (NHWC convolutions) is shared with float models. The output scale multiplier is the
float32 product ``a_scale * b_scale / y_scale``; ONNX's reference applies it in float64, so a result
within float32 rounding of an exact .5 tie may round the other way (off by one).
"""
from __future__ import annotations

import numpy as np

from ..context import Unsupported
from . import lowers
from .common import OnnxBuilder

EXACT = float(1 << 24)


def _centered(b: OnnxBuilder, name: str, zp_name: str | None, zp_shape=None) -> tuple[str, float]:
    """Float32 value ``x - zero_point`` and the largest magnitude it can take."""
    ctx = b.ctx
    dt = ctx.dtype(name)
    if dt not in (np.int8, np.uint8):
        raise Unsupported(f"{b.node.op_type} on {dt}")
    zp = np.zeros((), np.float32) if not zp_name else np.asarray(ctx.need_const(zp_name, "zero point"), np.float32)
    if zp_shape is not None and zp.size > 1:
        zp = zp.reshape(zp_shape)
    elif zp.size == 1:
        zp = zp.reshape(())
    shape = ctx.shape(name)
    if ctx.is_const(name):
        v = np.asarray(ctx.const(name), np.float32) - zp
        return b.value(shape, np.float32, v), float(np.max(np.abs(v))) if v.size else 0.0
    info = np.iinfo(dt)
    bound = float(max(np.max(np.abs(info.min - zp)), np.max(np.abs(info.max - zp))))
    f = b.op("Cast", [name], shape, np.float32, to=1)
    if np.any(zp):
        f = b.op("Sub", [f, b.value(zp.shape, np.float32, zp)], shape, np.float32)
    return f, bound


def _check_exact(node, k: int, ba: float, bb: float):
    if k * ba * bb >= EXACT:
        raise Unsupported(f"{node.op_type} with a contraction of {k} values of magnitude up to {ba:g} x {bb:g}: "
                          "the integer sums could exceed float32's exact range (2**24)")


def _requantize(b: OnnxBuilder, acc: str, multiplier, zp_name: str | None, out: str):
    """out = Cast(Clip(Round(acc * multiplier + zero_point))) in the output's integer type."""
    ctx = b.ctx
    shape, dt = ctx.shape(out), ctx.dtype(out)
    zp = 0.0 if not zp_name else float(np.asarray(ctx.need_const(zp_name, "output zero point")).reshape(-1)[0])
    r = b.op("Mul", [acc, b.value(np.shape(multiplier), np.float32, multiplier)], shape, np.float32)
    if zp:
        r = b.op("Add", [r, b.value((), np.float32, zp)], shape, np.float32)
    r = b.op("Round", [r], shape, np.float32)
    info = np.iinfo(dt)
    r = b.op("Clip", [r, b.value((), np.float32, info.min), b.value((), np.float32, info.max)], shape, np.float32)
    b.op("Cast", [r], shape, dt, out=out, to=int(_ONNX_TYPES[np.dtype(dt)]))


_ONNX_TYPES = {np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.int32): 6}


def _input(node, i):
    return node.inputs[i] if len(node.inputs) > i and node.inputs[i] else None


@lowers("MatMulInteger", "QLinearMatMul")
def lower_matmul_integer(ctx, node):
    b = OnnxBuilder(ctx, node)
    q = node.op_type == "QLinearMatMul"
    ia, iza, ib, izb = (0, 2, 3, 5) if q else (0, 2, 1, 3)
    a_name, b_name = node.inputs[ia], node.inputs[ib]
    sa, sb = ctx.shape(a_name), ctx.shape(b_name)
    za_shape = (-1, 1) if len(sa) >= 2 else None  # per-row zero points of A
    fa, ba = _centered(b, a_name, _input(node, iza), za_shape)
    fb, bb = _centered(b, b_name, _input(node, izb))
    _check_exact(node, sa[-1], ba, bb)
    out = node.outputs[0]
    acc_shape = ctx.shape(out)
    if not q:
        acc = b.op("MatMul", [fa, fb], acc_shape, np.float32)
        b.op("Cast", [acc], acc_shape, np.int32, out=out, to=6)
        return
    scales = [np.asarray(ctx.need_const(node.inputs[i], "scale"), np.float32) for i in (1, 4, 6)]
    if any(s.size != 1 for s in scales):
        raise Unsupported("QLinearMatMul with per-axis scales")
    a_s, b_s, y_s = (s.reshape(()) for s in scales)
    acc = b.op("MatMul", [fa, fb], acc_shape, np.float32)
    _requantize(b, acc, np.float32(a_s * b_s / y_s), _input(node, 7), out)


@lowers("ConvInteger", "QLinearConv")
def lower_conv_integer(ctx, node):
    b = OnnxBuilder(ctx, node)
    q = node.op_type == "QLinearConv"
    ix, izx, iw, izw = (0, 2, 3, 5) if q else (0, 2, 1, 3)
    x_name, w_name = node.inputs[ix], node.inputs[iw]
    ws = ctx.shape(w_name)
    ctx.need_const(w_name, f"{node.op_type} weights")
    fx, bx = _centered(b, x_name, _input(node, izx))
    fw, bw = _centered(b, w_name, _input(node, izw), (-1,) + (1,) * (len(ws) - 1))
    _check_exact(node, int(np.prod(ws[1:])), bx, bw)
    out = node.outputs[0]
    attrs = {k: v for k, v in node.attrs.items()}
    inputs = [fx, fw]
    if q and _input(node, 8):
        bias = np.asarray(ctx.need_const(node.inputs[8], "QLinearConv bias"), np.float64)
        if np.max(np.abs(bias), initial=0) >= EXACT:
            raise Unsupported("QLinearConv bias beyond float32's exact integer range")
        inputs.append(b.value(bias.shape, np.float32, bias.astype(np.float32)))
    acc_shape = ctx.shape(out)
    acc = b.op("Conv", inputs, acc_shape, np.float32, **attrs)
    if not q:
        b.op("Cast", [acc], acc_shape, np.int32, out=out, to=6)
        return
    x_s = np.asarray(ctx.need_const(node.inputs[1], "x_scale"), np.float32).reshape(())
    w_s = np.asarray(ctx.need_const(node.inputs[4], "w_scale"), np.float32).reshape(-1)
    y_s = np.asarray(ctx.need_const(node.inputs[6], "y_scale"), np.float32).reshape(())
    mult = (x_s * w_s / y_s).astype(np.float32)
    mult = mult.reshape(()) if mult.size == 1 else mult.reshape((1, -1) + (1,) * (len(acc_shape) - 2))
    _requantize(b, acc, mult, _input(node, 7), out)
