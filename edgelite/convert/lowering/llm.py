"""Ops of LLM exports: RotaryEmbedding, TensorScatter (KV-cache update), CausalConvWithState.

RotaryEmbedding rotates pairs of the head dimension by (cos, sin) taken from the caches (GATHERed by
``position_ids`` when given). Written as ``x * C + (x P) * S``: P is a constant signed permutation of the
head dimension (the pair partner, negated for the first member of a pair; zero outside the rotary part),
applied with one FULLY_CONNECTED, and C / S are the caches spread over the head dimension by a constant
GATHER (cos padded with 1 and sin with 0 outside the rotary part). Same float32 products and sums as the
ONNX definition.

TensorScatter writes ``update`` into the cache along ``axis`` at ``write_indices[b]`` (mod the cache
length in circular mode). For every cache slot m of batch b the source row is ``j = m - write_indices[b]``
(FLOOR_MOD in circular mode); rows 0 <= j < sequence_length come from a batched GATHER of the update, the
others keep the past cache (SELECT_V2). Works for runtime write indices, without a loop over the batch.
"""
from __future__ import annotations

import numpy as np

from ..context import Unsupported
from . import lowers
from .common import OnnxBuilder, emit_temp, norm_axis


def _rotary_tables(head: int, rot: int, interleaved: bool):
    """(P [head, head] with swapped[k] = sum_i x[i] P[i, k], column map of C/S into the half-size cache)."""
    half = rot // 2
    p = np.zeros((head, head), np.float32)
    cols = np.full(head, half, np.int32)  # index ``half`` = the padding column (cos 1, sin 0)
    for i in range(half):
        a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + half)
        p[b, a] = -1.0  # out[a] = cos x[a] - sin x[b]
        p[a, b] = 1.0   # out[b] = sin x[a] + cos x[b]
        cols[a] = cols[b] = i
    return p, cols


@lowers("RotaryEmbedding")
def lower_rotary_embedding(ctx, node):
    x, cos, sin = node.inputs[:3]
    pos = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else None
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"RotaryEmbedding on {ctx.dtype(x)}")
    shape = ctx.shape(x)
    if len(shape) == 4:
        batch, _heads, seq, head = shape
        work_shape = shape
        cs_shape = (batch, 1, seq, head)
    elif len(shape) == 3:
        heads = int(node.attr("num_heads", 0))
        if not heads or shape[2] % heads:
            raise Unsupported("3-D RotaryEmbedding needs num_heads dividing the hidden size")
        batch, seq, head = shape[0], shape[1], shape[2] // heads
        work_shape = (batch, seq, heads, head)
        cs_shape = (batch, seq, 1, head)
    else:
        raise Unsupported(f"RotaryEmbedding input of rank {len(shape)}")
    rot = int(node.attr("rotary_embedding_dim", 0)) or head
    if rot % 2 or rot > head:
        raise Unsupported(f"rotary_embedding_dim {rot} for head size {head}")
    half = rot // 2
    p, cols = _rotary_tables(head, rot, bool(node.attr("interleaved", 0)))
    src = ctx.input(x, None)
    if work_shape != shape:
        src = emit_temp(ctx, "RESHAPE", [src, ctx.constant(np.array(work_shape, np.int32))], work_shape,
                        options={"new_shape": list(work_shape)})
    spread = []
    for cache, pad in ((cos, 1.0), (sin, 0.0)):
        c = ctx.input(cache, None)
        cshape = ctx.shape(cache)
        if cshape[-1] != half:
            raise Unsupported(f"RotaryEmbedding cache of width {cshape[-1]} for rotary dimension {rot}")
        if pos is not None:
            c = emit_temp(ctx, "GATHER", [c, ctx.input(pos, None)], (batch, seq, half),
                          options={"axis": 0, "batch_dims": 0})
        elif tuple(cshape) != (batch, seq, half):
            raise Unsupported(f"RotaryEmbedding cache of shape {cshape} without position_ids")
        c = emit_temp(ctx, "CONCATENATION", [c, ctx.constant(np.full((batch, seq, 1), pad, np.float32))],
                      (batch, seq, half + 1), options={"axis": 2, "fused_activation_function": 0})
        c = emit_temp(ctx, "GATHER", [c, ctx.constant(cols)], (batch, seq, head), options={"axis": 2, "batch_dims": 0})
        spread.append(emit_temp(ctx, "RESHAPE", [c, ctx.constant(np.array(cs_shape, np.int32))], cs_shape,
                                options={"new_shape": list(cs_shape)}))
    swapped = emit_temp(ctx, "FULLY_CONNECTED", [src, ctx.constant(np.ascontiguousarray(p.T)), -1], work_shape,
                        options={"fused_activation_function": 0, "weights_format": 0, "keep_num_dims": True,
                                 "asymmetric_quantize_inputs": False})
    a = emit_temp(ctx, "MUL", [src, spread[0]], work_shape)
    b = emit_temp(ctx, "MUL", [swapped, spread[1]], work_shape)
    if work_shape == shape:
        ctx.emit("ADD", [a, b], [ctx.output(node.outputs[0])])
        return
    r = emit_temp(ctx, "ADD", [a, b], work_shape)
    ctx.emit("RESHAPE", [r, ctx.constant(np.array(shape, np.int32))], [ctx.output(node.outputs[0])],
             {"new_shape": list(shape)})


@lowers("TensorScatter")
def lower_tensor_scatter(ctx, node):
    past, update = node.inputs[:2]
    widx = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    shape, ushape = ctx.shape(past), ctx.shape(update)
    rank = len(shape)
    axis = norm_axis(node.attr("axis", -2), rank)
    if axis == 0:
        raise Unsupported("TensorScatter along the batch axis")
    mode = node.attr("mode", "linear")
    if isinstance(mode, bytes):
        mode = mode.decode()
    batch, length, seq = shape[0], shape[axis], ushape[axis]
    dt = ctx.dtype(past)
    slots = ctx.constant(np.arange(length, dtype=np.int32).reshape(1, length))
    if widx is None:
        j = emit_temp(ctx, "RESHAPE", [slots, ctx.constant(np.array([1, length], np.int32))], (1, length), np.int32,
                      {"new_shape": [1, length]})
        jshape = (1, length)
    else:
        w = ctx.input(widx, None)
        if ctx.dtype(widx) != np.int32:
            w = emit_temp(ctx, "CAST", [w], (batch,), np.int32)
        w = emit_temp(ctx, "RESHAPE", [w, ctx.constant(np.array([batch, 1], np.int32))], (batch, 1), np.int32,
                      {"new_shape": [batch, 1]})
        j = emit_temp(ctx, "SUB", [slots, w], (batch, length), np.int32)
        jshape = (batch, length)
        if mode == "circular":
            j = emit_temp(ctx, "FLOOR_MOD", [j, ctx.constant(np.array(length, np.int32))], jshape, np.int32)
    ge = emit_temp(ctx, "GREATER_EQUAL", [j, ctx.constant(np.array(0, np.int32))], jshape, np.bool_)
    lt = emit_temp(ctx, "LESS", [j, ctx.constant(np.array(seq, np.int32))], jshape, np.bool_)
    hit = emit_temp(ctx, "LOGICAL_AND", [ge, lt], jshape, np.bool_)
    jc = emit_temp(ctx, "MAXIMUM", [j, ctx.constant(np.array(0, np.int32))], jshape, np.int32)
    jc = emit_temp(ctx, "MINIMUM", [jc, ctx.constant(np.array(seq - 1, np.int32))], jshape, np.int32)
    if jshape[0] != batch:
        jc = emit_temp(ctx, "BROADCAST_TO", [jc, ctx.constant(np.array([batch, length], np.int32))],
                       (batch, length), np.int32)
    rows = emit_temp(ctx, "GATHER", [ctx.input(update, None), jc], shape, dt, {"axis": axis, "batch_dims": 1})
    mshape = [jshape[0]] + [1] * (axis - 1) + [length] + [1] * (rank - axis - 1)
    mask = emit_temp(ctx, "RESHAPE", [hit, ctx.constant(np.array(mshape, np.int32))], mshape, np.bool_,
                     {"new_shape": mshape})
    ctx.emit("SELECT_V2", [mask, rows, ctx.input(past, None)], [ctx.output(node.outputs[0])])


@lowers("CausalConvWithState")
def lower_causal_conv_with_state(ctx, node):
    """Concat(past_state or zeros, input) -> depthwise Conv (VALID, group = channels) [-> x * sigmoid(x)];
    present_state = the last k - 1 positions of the concatenation. Written as ONNX ops and lowered by the
    Concat / Conv / Sigmoid / Mul / Slice lowerings."""
    x, w = node.inputs[:2]
    bias = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    past = node.inputs[3] if len(node.inputs) > 3 and node.inputs[3] else None
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"CausalConvWithState on {ctx.dtype(x)}")
    batch, channels, length = ctx.shape(x)
    k = ctx.shape(w)[2]
    act = node.attr("activation", "none")
    act = act.decode() if isinstance(act, bytes) else act
    if act not in ("none", "silu", "swish"):
        raise Unsupported(f"CausalConvWithState activation {act!r}")
    outs = list(node.outputs) + ["", ""]
    if outs[1] and k == 1:
        raise Unsupported("CausalConvWithState with kernel size 1: present_state is an empty tensor")
    b = OnnxBuilder(ctx, node)
    f32 = np.float32
    full_len = length + k - 1
    if k > 1:
        state = past if past else b.value((batch, channels, k - 1), f32, np.zeros((batch, channels, k - 1), f32))
        full = b.op("Concat", [state, x], (batch, channels, full_len), f32, axis=2)
    else:
        full = x
    conv_in = [full, w] + ([bias] if bias else [])
    y_shape = (batch, channels, length)
    if act == "none":
        b.op("Conv", conv_in, y_shape, f32, out=outs[0] or None, group=channels)
    else:
        y = b.op("Conv", conv_in, y_shape, f32, group=channels)
        gate = b.op("Sigmoid", [y], y_shape, f32)
        b.op("Mul", [y, gate], y_shape, f32, out=outs[0] or None)
    if outs[1]:
        i64 = np.int64
        b.op("Slice", [full, b.value((1,), i64, [length]), b.value((1,), i64, [full_len]), b.value((1,), i64, [2])],
             (batch, channels, k - 1), f32, out=outs[1])


MAX_LINEAR_ATTENTION_STEPS = 256


@lowers("LinearAttention")
def lower_linear_attention(ctx, node):
    """The recurrence unrolled over the (static) sequence, as ONNX defines it, per token t:
    gated: ``S *= exp(g_t)``; delta: ``v_t = beta_t * (v_t - S^T k_t)``; then ``S += k_t (x) v_t`` and
    ``o_t = scale * q_t^T S`` (query heads grouped over the key/value heads for GQA). BATCH_MATMUL for the
    products with S, MUL for the outer product, CONCATENATION of the per-token outputs."""
    names = list(node.inputs) + [""] * 6
    q, k, v, past, decay, beta = names[:6]
    rule = node.attr("update_rule", "gated_delta")
    rule = rule.decode() if isinstance(rule, bytes) else rule
    if rule not in ("linear", "gated", "delta", "gated_delta"):
        raise Unsupported(f"LinearAttention update_rule {rule!r}")
    gating, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
    if gating != bool(decay) or delta != bool(beta):
        raise Unsupported(f"LinearAttention {rule!r} with decay={bool(decay)} beta={bool(beta)}")
    hq, hkv = int(node.attr("q_num_heads", 0)), int(node.attr("kv_num_heads", 0))
    if not hq or not hkv or hq % hkv:
        raise Unsupported("LinearAttention needs q_num_heads a multiple of kv_num_heads")
    if ctx.dtype(q) != np.float32:
        raise Unsupported(f"LinearAttention on {ctx.dtype(q)}")
    b, t, qd = ctx.shape(q)
    dk, dv, grp = qd // hq, ctx.shape(v)[2] // hkv, hq // hkv
    if t > MAX_LINEAR_ATTENTION_STEPS:
        raise Unsupported(f"LinearAttention over {t} tokens (unrolled up to {MAX_LINEAR_ATTENTION_STEPS})")
    scale = float(node.attr("scale", 0.0) or 0.0) or 1.0 / np.sqrt(dk)
    f32, i32 = np.float32, np.int32

    def split_heads(name, heads, width):  # [B, T, H*W] -> [B, T, H, W]
        shp = (b, t, heads, width)
        return emit_temp(ctx, "RESHAPE", [ctx.input(name, None), ctx.constant(np.array(shp, i32))], shp,
                         options={"new_shape": list(shp)})

    def step(tensor, i, shape):  # token i of a [B, T, ...] tensor -> [B, ...]
        return emit_temp(ctx, "GATHER", [tensor, ctx.constant(np.array(i, i32))], shape,
                         options={"axis": 1, "batch_dims": 0})

    q4 = split_heads(q, hkv, grp * dk)  # query heads grouped per key/value head
    k4, v4 = split_heads(k, hkv, dk), split_heads(v, hkv, dv)
    if gating:
        dw = ctx.shape(decay)[2] // hkv
        if dw not in (1, dk):
            raise Unsupported(f"LinearAttention decay of shape {ctx.shape(decay)}")
        g4 = split_heads(decay, hkv, dw)
    if delta:
        hb = ctx.shape(beta)[2]
        if hb not in (1, hkv):
            raise Unsupported(f"LinearAttention beta of shape {ctx.shape(beta)}")
        b4 = split_heads(beta, hb, 1)
    s_shape = (b, hkv, dk, dv)
    state = ctx.input(past, None) if past else ctx.constant(np.zeros(s_shape, f32))
    outs = []
    out_names = list(node.outputs) + ["", ""]
    for i in range(t):
        if gating:
            g = emit_temp(ctx, "EXP", [step(g4, i, (b, hkv, dw))], (b, hkv, dw))
            g = emit_temp(ctx, "RESHAPE", [g, ctx.constant(np.array((b, hkv, dw, 1), i32))], (b, hkv, dw, 1),
                          options={"new_shape": [b, hkv, dw, 1]})
            state = emit_temp(ctx, "MUL", [state, g], s_shape)
        kt = step(k4, i, (b, hkv, dk))
        vt = step(v4, i, (b, hkv, dv))
        if delta:
            krow = emit_temp(ctx, "RESHAPE", [kt, ctx.constant(np.array((b, hkv, 1, dk), i32))], (b, hkv, 1, dk),
                             options={"new_shape": [b, hkv, 1, dk]})
            got = emit_temp(ctx, "BATCH_MATMUL", [krow, state], (b, hkv, 1, dv),
                            options={"adj_x": False, "adj_y": False, "asymmetric_quantize_inputs": False})
            got = emit_temp(ctx, "RESHAPE", [got, ctx.constant(np.array((b, hkv, dv), i32))], (b, hkv, dv),
                            options={"new_shape": [b, hkv, dv]})
            vt = emit_temp(ctx, "SUB", [vt, got], (b, hkv, dv))
            vt = emit_temp(ctx, "MUL", [step(b4, i, (b, hb, 1)), vt], (b, hkv, dv))
        kcol = emit_temp(ctx, "RESHAPE", [kt, ctx.constant(np.array((b, hkv, dk, 1), i32))], (b, hkv, dk, 1),
                         options={"new_shape": [b, hkv, dk, 1]})
        vrow = emit_temp(ctx, "RESHAPE", [vt, ctx.constant(np.array((b, hkv, 1, dv), i32))], (b, hkv, 1, dv),
                         options={"new_shape": [b, hkv, 1, dv]})
        outer = emit_temp(ctx, "MUL", [kcol, vrow], s_shape)
        last = i == t - 1
        state = emit_temp(ctx, "ADD", [state, outer], s_shape) if not (last and out_names[1]) else \
            _emit_to(ctx, "ADD", [state, outer], ctx.output(out_names[1]))
        qt = step(q4, i, (b, hkv, grp * dk))
        qt = emit_temp(ctx, "RESHAPE", [qt, ctx.constant(np.array((b, hkv, grp, dk), i32))], (b, hkv, grp, dk),
                       options={"new_shape": [b, hkv, grp, dk]})
        o = emit_temp(ctx, "BATCH_MATMUL", [qt, state], (b, hkv, grp, dv),
                      options={"adj_x": False, "adj_y": False, "asymmetric_quantize_inputs": False})
        o = emit_temp(ctx, "MUL", [o, ctx.constant(np.array(scale, f32))], (b, hkv, grp, dv))
        outs.append(emit_temp(ctx, "RESHAPE", [o, ctx.constant(np.array((b, 1, hq * dv), i32))], (b, 1, hq * dv),
                              options={"new_shape": [b, 1, hq * dv]}))
    if out_names[0]:
        o = ctx.output(out_names[0])
        if len(outs) == 1:
            ctx.emit("RESHAPE", [outs[0], ctx.constant(np.array((b, t, hq * dv), i32))], [o],
                     {"new_shape": [b, t, hq * dv]})
        else:
            ctx.emit("CONCATENATION", outs, [o], {"axis": 1, "fused_activation_function": 0})


def _emit_to(ctx, opcode, inputs, out: int) -> int:
    ctx.emit(opcode, inputs, [out])
    return out
