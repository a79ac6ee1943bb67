"""QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear.

QDQ models (the usual way quantized ONNX models ship) become real TFLite quantized tensors:

* ``QuantizeLinear`` with constant scale / zero point and an int8, uint8 or int16 result is a TFLite
  ``QUANTIZE`` whose output tensor carries the scale and zero point (per tensor, or per axis with
  ``quantized_dimension`` following the layout change, e.g. NCHW axis 1 -> NHWC dimension 3).
  LiteRT's QUANTIZE rounds exact ties (x / scale = k + 0.5) half to even in its vectorised blocks but
  half away from zero in the scalar tail; ONNX always rounds half to even, so a tie can differ by one.
* ``DequantizeLinear`` of a constant (quantized weights) is folded into a float constant, so the conv /
  matmul behind it sees ordinary float weights. Of a runtime tensor carrying the same parameters (the
  output of a QUANTIZE, or a graph input, which gets them) it is a TFLite ``DEQUANTIZE``; otherwise it is
  computed exactly as ONNX defines it, ``(float(x) - zero_point) * scale``.
* Parameters computed inside the graph (e.g. by the ops of DynamicQuantizeLinear's function body) give
  the float composition ``clip(round(x / scale) + zero_point)`` (ROUND is half to even, as in ONNX).
  A scale or zero point fed as a graph input must be bound (``bind_inputs``): a TFLite QUANTIZE cannot
  take its parameters at run time.
* ``DynamicQuantizeLinear`` is composed from REDUCE_MIN/REDUCE_MAX and float arithmetic.

Refused: blocked quantization (``block_size``), 4-/2-bit and float8/float4 types (no TFLite tensor type),
uint16 / int32 QUANTIZE outputs (no TFLite kernel; composed instead when the parameters are constants).
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported
from ...ir import Quantization
from . import lowers
from .common import emit_temp, norm_axis

QUANTIZE_TYPES = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))
COMPOSED_TYPES = QUANTIZE_TYPES + (np.dtype(np.uint16), np.dtype(np.int32))
DEQUANTIZE_TYPES = QUANTIZE_TYPES + (np.dtype(np.int32),)  # TFLite DEQUANTIZE inputs


def _params(ctx, node, scale_name: str, zp_name: str | None, shape, *, runtime_ok: bool):
    """(scale, zero_point, logical axis or None) as numpy arrays, or None when they are computed at run
    time (only where ``runtime_ok``). Raises for blocked quantization and graph-input parameters."""
    if node.attr("block_size", 0):
        raise Unsupported(f"blocked {node.op_type} (block_size={node.attr('block_size')}): TFLite quantizes "
                          "per tensor or per axis only")
    names = [n for n in (scale_name, zp_name) if n]
    runtime = [n for n in names if not ctx.is_const(n)]
    if runtime:
        graph_inputs = [n for n in runtime if n in ctx.graph.inputs]
        if graph_inputs:
            raise NeedsConstant(graph_inputs[0], f"{node.op_type} scale / zero point")
        if not runtime_ok:
            raise Unsupported(f"{node.op_type} with a scale or zero point computed at run time")
        return None
    scale = np.asarray(ctx.const(scale_name), np.float32)
    zp = np.asarray(ctx.const(zp_name)) if zp_name else np.zeros((), np.int64)
    if scale.size == 1:
        if zp.size != 1:
            raise Unsupported(f"{node.op_type}: one scale but {zp.size} zero points")
        return scale.reshape(()), zp.reshape(()).astype(np.int64), None
    if scale.ndim != 1:
        raise Unsupported(f"{node.op_type} with a scale of shape {scale.shape}")
    axis = norm_axis(node.attr("axis", 1), len(shape))
    if shape[axis] != scale.size:
        raise Unsupported(f"{node.op_type}: {scale.size} scales for axis {axis} of size {shape[axis]}")
    zp = np.broadcast_to(zp.reshape(-1), scale.shape).astype(np.int64)
    return scale, zp, axis


def _quantization(scale, zp, axis, perm) -> Quantization:
    qdim = 0 if axis is None else L.physical_axis(axis, perm)
    return Quantization(scale=np.atleast_1d(scale), zero_point=np.atleast_1d(zp), quantized_dimension=qdim)


def _axis_shaped(values, axis, rank, perm, dtype):
    """Per-axis ``values`` reshaped to broadcast along logical ``axis`` of a tensor laid out as ``perm``."""
    v = np.asarray(values, dtype)
    if axis is None:
        return v.reshape(())
    shape = [1] * rank
    shape[L.physical_axis(axis, perm)] = v.size
    return v.reshape(shape)


def _out_dtype(ctx, node) -> np.dtype:
    dt = ctx.dtype(node.outputs[0])
    if dt not in COMPOSED_TYPES:
        raise Unsupported(f"{node.op_type} to {dt}")
    return dt


@lowers("QuantizeLinear")
def lower_quantize_linear(ctx, node):
    x = node.inputs[0]
    zp_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    out_dt = _out_dtype(ctx, node)
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"QuantizeLinear of {ctx.dtype(x)}")
    shape = ctx.shape(x)
    params = _params(ctx, node, node.inputs[1], zp_name, shape, runtime_ok=True)
    perm = ctx.layout(x)
    if params is None:
        _quantize_runtime(ctx, node, out_dt, zp_name)
        return
    scale, zp, axis = params
    lo, hi = np.iinfo(out_dt).min, np.iinfo(out_dt).max
    if np.any(zp < lo) or np.any(zp > hi):
        raise Unsupported(f"QuantizeLinear zero point outside the {out_dt} range")
    if not np.all(scale > 0) or not np.all(np.isfinite(scale)):
        raise Unsupported("QuantizeLinear with a scale that is not a positive finite number")
    src = ctx.input(x, perm)
    if out_dt in QUANTIZE_TYPES:
        o = ctx.output(node.outputs[0], perm, dtype=out_dt)
        ctx.sg.tensors[o].quantization = _quantization(scale, zp, axis, perm)
        ctx.emit("QUANTIZE", [src], [o])
        return
    # uint16 / int32: no QUANTIZE kernel; the ONNX formula in float32 (exact up to 2**24)
    rank = len(shape)
    pshape = L.physical_shape(shape, perm)
    s = ctx.constant(_axis_shaped(scale, axis, rank, perm, np.float32))
    z = ctx.constant(_axis_shaped(zp, axis, rank, perm, np.float32))
    _round_clip_cast(ctx, node, src, s, z, pshape, perm, out_dt)


def _round_clip_cast(ctx, node, src, s, z, pshape, perm, out_dt):
    """``CAST(clip(ROUND(src / s) + z, type range))`` into the node's output."""
    q = emit_temp(ctx, "DIV", [src, s], pshape)
    q = emit_temp(ctx, "ROUND", [q], pshape)
    q = emit_temp(ctx, "ADD", [q, z], pshape)
    info = np.iinfo(out_dt)
    q = emit_temp(ctx, "MAXIMUM", [q, ctx.constant(np.array(info.min, np.float32))], pshape)
    q = emit_temp(ctx, "MINIMUM", [q, ctx.constant(np.array(info.max, np.float32))], pshape)
    ctx.emit("CAST", [q], [ctx.output(node.outputs[0], perm, dtype=out_dt)])


def _quantize_runtime(ctx, node, out_dt, zp_name):
    """QuantizeLinear with a per-tensor scale / zero point computed in the graph."""
    x, scale_name = node.inputs[0], node.inputs[1]
    perm, rank, pshape = _runtime_param_layout(ctx, node, zp_name)
    src = ctx.input(x, perm)
    s = _scalar_float(ctx, scale_name, rank)
    z = _scalar_float(ctx, zp_name, rank) if zp_name else ctx.constant(np.zeros([1] * rank, np.float32))
    _round_clip_cast(ctx, node, src, s, z, pshape, perm, out_dt)


def _runtime_param_layout(ctx, node, zp_name) -> tuple:
    """(layout, rank, physical shape) of a Quantize/DequantizeLinear input whose scale / zero
    point are computed in the graph; those must be per-tensor (one element)."""
    x = node.inputs[0]
    for n in (node.inputs[1], zp_name):
        if n and int(np.prod(ctx.shape(n))) != 1:
            raise Unsupported(f"{node.op_type} with per-axis parameters computed at run time")
    perm = ctx.layout(x)
    return perm, ctx.rank(x), L.physical_shape(ctx.shape(x), perm)


def _scalar_float(ctx, name: str, rank: int) -> int:
    """A one-element value as a float32 tensor of shape [1] * rank (broadcastable anywhere)."""
    if ctx.is_const(name):
        return ctx.constant(np.asarray(ctx.const(name), np.float32).reshape([1] * rank))
    src = ctx.input(name, None)
    ones = [1] * rank
    if ctx.dtype(name) != np.float32:
        src = emit_temp(ctx, "CAST", [src], ctx.shape(name), np.float32)
    t = ctx.temp(ones, np.float32, "scalar")
    ctx.emit("RESHAPE", [src, ctx.constant(np.array(ones, np.int32))], [t], {"new_shape": ones})
    return t


@lowers("DequantizeLinear")
def lower_dequantize_linear(ctx, node):
    x = node.inputs[0]
    zp_name = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    in_dt = ctx.dtype(x)
    if in_dt not in COMPOSED_TYPES:
        raise Unsupported(f"DequantizeLinear of {in_dt}")
    shape = ctx.shape(x)
    params = _params(ctx, node, node.inputs[1], zp_name, shape, runtime_ok=True)
    if params is None:
        _dequantize_runtime(ctx, node, zp_name)
        return
    scale, zp, axis = params
    rank = len(shape)
    if ctx.is_const(x):  # quantized weights: fold to float
        q = np.asarray(ctx.const(x)).astype(np.float32)
        bshape = [1] * rank
        if axis is not None:
            bshape[axis] = scale.size
        ctx.graph.consts[node.outputs[0]] = ((q - zp.astype(np.float32).reshape(bshape))
                                             * scale.reshape(bshape)).astype(np.float32)
        return
    perm = ctx.layout(x)
    src = ctx.input(x, perm)
    want = _quantization(scale, zp, axis, perm)
    t = ctx.sg.tensors[src]
    if in_dt in DEQUANTIZE_TYPES and _dequantize_kernel_ok(in_dt, axis, zp):
        if t.quantization is None and src in ctx.sg.inputs:
            t.quantization = want  # a quantized graph input
        if _same_quantization(t.quantization, want):
            ctx.emit("DEQUANTIZE", [src], [ctx.output(node.outputs[0], perm, dtype=np.float32)])
            return
    # the ONNX formula: (float(x) - zero_point) * scale
    pshape = L.physical_shape(shape, perm)
    f = emit_temp(ctx, "CAST", [src], pshape, np.float32)
    f = emit_temp(ctx, "SUB", [f, ctx.constant(_axis_shaped(zp, axis, rank, perm, np.float32))], pshape)
    ctx.emit("MUL", [f, ctx.constant(_axis_shaped(scale, axis, rank, perm, np.float32))],
             [ctx.output(node.outputs[0], perm, dtype=np.float32)])


def _dequantize_kernel_ok(dt, axis, zp) -> bool:
    """What LiteRT's DEQUANTIZE accepts: per-axis only for int8; int16 and int32 only with zero point 0."""
    if axis is not None:
        return dt == np.int8
    if dt in (np.int16, np.int32):
        return not np.any(zp)
    return True


def _same_quantization(q, want) -> bool:
    if q is None or q.scale.size != want.scale.size:
        return False
    zp = q.zero_point if q.zero_point.size == q.scale.size else np.full(q.scale.size, q.zero_point[0])
    return (np.array_equal(q.scale, want.scale) and np.array_equal(zp, want.zero_point)
            and (q.scale.size == 1 or q.quantized_dimension == want.quantized_dimension))


def _dequantize_runtime(ctx, node, zp_name):
    x, scale_name = node.inputs[0], node.inputs[1]
    perm, rank, pshape = _runtime_param_layout(ctx, node, zp_name)
    f = emit_temp(ctx, "CAST", [ctx.input(x, perm)], pshape, np.float32)
    if zp_name:
        f = emit_temp(ctx, "SUB", [f, _scalar_float(ctx, zp_name, rank)], pshape)
    ctx.emit("MUL", [f, _scalar_float(ctx, scale_name, rank)],
             [ctx.output(node.outputs[0], perm, dtype=np.float32)])


@lowers("DynamicQuantizeLinear")
def lower_dynamic_quantize_linear(ctx, node):
    """uint8 quantization with scale = (max(0, max x) - min(0, min x)) / 255 and
    zero point = clip(round(-min / scale), 0, 255), then y = clip(round(x / scale) + zero point)."""
    x = node.inputs[0]
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"DynamicQuantizeLinear of {ctx.dtype(x)}")
    perm = ctx.layout(x)
    rank = ctx.rank(x)
    pshape = L.physical_shape(ctx.shape(x), perm)
    src = ctx.input(x, perm)
    ones = [1] * rank
    axes = ctx.constant(np.arange(rank, dtype=np.int32))
    zero = ctx.constant(np.zeros(ones, np.float32))
    lo = emit_temp(ctx, "REDUCE_MIN", [src, axes], ones, options={"keep_dims": True})
    lo = emit_temp(ctx, "MINIMUM", [lo, zero], ones)
    hi = emit_temp(ctx, "REDUCE_MAX", [src, axes], ones, options={"keep_dims": True})
    hi = emit_temp(ctx, "MAXIMUM", [hi, zero], ones)
    rng = emit_temp(ctx, "SUB", [hi, lo], ones)
    scale = emit_temp(ctx, "DIV", [rng, ctx.constant(np.full(ones, 255.0, np.float32))], ones)
    zpf = emit_temp(ctx, "DIV", [lo, scale], ones)
    zpf = emit_temp(ctx, "SUB", [zero, zpf], ones)  # 0 - min / scale, as the ONNX function computes it
    zpf = emit_temp(ctx, "ROUND", [zpf], ones)
    zpf = emit_temp(ctx, "MAXIMUM", [zpf, zero], ones)
    zpf = emit_temp(ctx, "MINIMUM", [zpf, ctx.constant(np.full(ones, 255.0, np.float32))], ones)
    y_name, s_name, z_name = (list(node.outputs) + ["", "", ""])[:3]
    if y_name:
        q = emit_temp(ctx, "DIV", [src, scale], pshape)
        q = emit_temp(ctx, "ROUND", [q], pshape)
        q = emit_temp(ctx, "ADD", [q, zpf], pshape)
        q = emit_temp(ctx, "MAXIMUM", [q, ctx.constant(np.array(0.0, np.float32))], pshape)
        q = emit_temp(ctx, "MINIMUM", [q, ctx.constant(np.array(255.0, np.float32))], pshape)
        ctx.emit("CAST", [q], [ctx.output(y_name, perm, dtype=np.uint8)])
    scalar = np.array(ctx.shape(s_name) if s_name else (), np.int32)
    if s_name:
        ctx.emit("RESHAPE", [scale, ctx.constant(scalar)], [ctx.output(s_name, dtype=np.float32)],
                 {"new_shape": scalar.tolist()})
    if z_name:
        zshape = list(ctx.shape(z_name))
        zr = emit_temp(ctx, "RESHAPE", [zpf, ctx.constant(np.array(zshape, np.int32))], zshape,
                       options={"new_shape": zshape})
        ctx.emit("CAST", [zr], [ctx.output(z_name, dtype=np.uint8)])
