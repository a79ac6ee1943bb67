"""ONNX ``Attention`` (opset 23+) as BATCH_MATMUL + SOFTMAX building blocks.

Q/K/V (3-D with q_num_heads/kv_num_heads, or 4-D), KV cache (past_key/past_value ->
present_key/present_value), boolean or additive masks (padded to the total KV length),
causal and sliding-window masks aligned bottom-right to the cache, grouped-query attention
(K/V heads repeated with GATHER), softcap, the four ``qk_matmul_output_mode`` outputs and
the "fully masked row gives 0" rule of the spec.
"""
from __future__ import annotations

import numpy as np

from ..context import NeedsConstant, Unsupported
from . import lowers
from .common import emit_temp

NEG_INF = np.float32(-np.inf)


def _opt(node, i):
    return node.inputs[i] if len(node.inputs) > i and node.inputs[i] else None


class _B:
    def __init__(self, ctx):
        self.ctx = ctx

    def op(self, opcode, ins, shape, opts=None, dtype=np.float32, out=None):
        if out is None:
            return emit_temp(self.ctx, opcode, ins, shape, dtype, opts)
        self.ctx.emit(opcode, ins, [out], opts)
        return out

    def c(self, v, dt=np.float32):
        return self.ctx.constant(np.asarray(v, dt))


def _to_heads(ctx, b, name, heads):
    """(B, S, H*D) -> (B, H, S, D); 4-D passes through."""
    s = ctx.shape(name)
    t = ctx.input(name, None)
    if len(s) == 4:
        return t, s
    bsz, seq, hid = s
    d = hid // heads
    r = b.op("RESHAPE", [t, b.c([bsz, seq, heads, d], np.int32)], (bsz, seq, heads, d),
             {"new_shape": [bsz, seq, heads, d]})
    shape = (bsz, heads, seq, d)
    return b.op("TRANSPOSE", [r, b.c([0, 2, 1, 3], np.int32)], shape), shape


@lowers("Attention")
def lower_attention(ctx, node):
    q_name, k_name, v_name = node.inputs[:3]
    if ctx.dtype(q_name) != np.float32:
        raise Unsupported(f"Attention on {ctx.dtype(q_name)}")
    sp = node.attr("softmax_precision")
    if sp not in (None, 1, 11):  # float32 (or float64, computed in float32 within tolerance)
        raise Unsupported(f"Attention softmax_precision={sp}")
    b = _B(ctx)
    rank = ctx.rank(q_name)
    qh, kvh = node.attr("q_num_heads"), node.attr("kv_num_heads")
    Q, qs = _to_heads(ctx, b, q_name, qh)
    K, ks = _to_heads(ctx, b, k_name, kvh)
    V, vs = _to_heads(ctx, b, v_name, kvh)
    mask_name, pk, pv = _opt(node, 3), _opt(node, 4), _opt(node, 5)
    nonpad = _opt(node, 6)
    bsz, n_q_heads, q_len, dh = qs
    past_len = 0
    if pk is not None:
        pks, pvs = ctx.shape(pk), ctx.shape(pv)
        past_len = pks[2]
        ks = (ks[0], ks[1], pks[2] + ks[2], ks[3])
        vs = (vs[0], vs[1], pvs[2] + vs[2], vs[3])
        K = b.op("CONCATENATION", [ctx.input(pk, None), K], ks, {"axis": 2})
        V = b.op("CONCATENATION", [ctx.input(pv, None), V], vs, {"axis": 2})
    outs = list(node.outputs) + [""] * 4
    for name, t in ((outs[1], K), (outs[2], V)):
        if name:
            o = ctx.output(name)
            b.op("RESHAPE", [t, b.c(ctx.shape(name), np.int32)], None, {"new_shape": list(ctx.shape(name))}, out=o)
    kv_len = ks[2]
    n_kv_heads = ks[1]
    if n_q_heads != n_kv_heads:
        if n_q_heads % n_kv_heads:
            raise Unsupported(f"Attention with {n_q_heads} query heads and {n_kv_heads} KV heads")
        idx = b.c(np.repeat(np.arange(n_kv_heads), n_q_heads // n_kv_heads), np.int32)
        ks = (ks[0], n_q_heads, ks[2], ks[3])
        vs = (vs[0], n_q_heads, vs[2], vs[3])
        K = b.op("GATHER", [K, idx], ks, {"axis": 1})
        V = b.op("GATHER", [V, idx], vs, {"axis": 1})
    bias, bias_shape = _bias(ctx, b, node, mask_name, nonpad, q_len, kv_len, past_len, bsz)
    scale = node.attr("scale")
    scale = float(1 / np.sqrt(dh)) if scale is None else float(scale)
    qk_shape = (max(qs[0], ks[0]), n_q_heads, q_len, kv_len)
    qk = b.op("BATCH_MATMUL", [Q, K], qk_shape, {"adj_y": True})
    qk = b.op("MUL", [qk, b.c(scale)], qk_shape)
    softcap = node.attr("softcap")
    if softcap is not None and softcap > 0:
        t = b.op("TANH", [b.op("DIV", [qk, b.c(softcap)], qk_shape)], qk_shape)
        qk = b.op("MUL", [t, b.c(softcap)], qk_shape)
    mode = int(node.attr("qk_matmul_output_mode", 0) or 0)
    qk_out = qk
    if bias is not None:
        full = tuple(np.broadcast_shapes(qk_shape, bias_shape))
        qk = b.op("ADD", [qk, bias], full)
        qk_shape = full
    if mode == 2:
        qk_out = qk
    probs = b.op("SOFTMAX", [qk], qk_shape, {"beta": 1.0})
    if bias is not None:
        probs = _zero_masked_rows(ctx, b, bias, bias_shape, probs, qk_shape)
    if mode == 3:
        qk_out = probs
    if outs[3]:
        o = ctx.output(outs[3])
        b.op("RESHAPE", [qk_out, b.c(ctx.shape(outs[3]), np.int32)], None,
             {"new_shape": list(ctx.shape(outs[3]))}, out=o)
    y_shape = (qk_shape[0], n_q_heads, q_len, vs[3])
    y_name = outs[0]
    if rank == 4:
        if y_name:
            b.op("BATCH_MATMUL", [probs, V], None, out=ctx.output(y_name))
        return
    y = b.op("BATCH_MATMUL", [probs, V], y_shape)
    t = b.op("TRANSPOSE", [y, b.c([0, 2, 1, 3], np.int32)], (y_shape[0], q_len, n_q_heads, vs[3]))
    if y_name:
        final = ctx.shape(y_name)
        b.op("RESHAPE", [t, b.c(final, np.int32)], None, {"new_shape": list(final)}, out=ctx.output(y_name))


def _bias(ctx, b, node, mask_name, nonpad, q_len, kv_len, past_len, bsz):
    """Additive bias (0 / -inf / mask values) broadcastable to (B, H, q, kv), or (None, None)."""
    bias, shape = None, None
    if mask_name is not None:
        ms = ctx.shape(mask_name)
        m = ctx.input(mask_name, None)
        if ctx.dtype(mask_name) == np.bool_:
            m = b.op("SELECT_V2", [m, b.c(0.0), b.c(NEG_INF)], ms)
        elif ctx.dtype(mask_name) != np.float32:
            raise Unsupported(f"Attention mask of type {ctx.dtype(mask_name)}")
        if ms[-1] < kv_len:
            pad = [[0, 0]] * (len(ms) - 1) + [[0, kv_len - ms[-1]]]
            ms = ms[:-1] + (kv_len,)
            m = b.op("PADV2", [m, b.c(pad, np.int32), b.c(NEG_INF)], ms)
        bias, shape = m, ms
    allowed = None
    lens = None
    if nonpad is not None:
        lens = ctx.const(nonpad)
        if lens is None:
            raise NeedsConstant(nonpad, "Attention nonpad_kv_seqlen")
        lens = np.asarray(lens).reshape(-1)
    # causal / window frontier: per batch (external cache: nonpad - q_len) or one offset (internal cache)
    offset = (lens - q_len).reshape(-1, 1, 1, 1) if lens is not None else past_len
    i = np.arange(q_len)[:, None]
    j = np.arange(kv_len)[None, :]
    if node.attr("is_causal", 0):
        allowed = j <= i + offset
    lw, rw = node.attr("left_window_size", -1), node.attr("right_window_size", -1)
    if (lw is not None and lw >= 0) or (rw is not None and rw >= 0):
        diff = (i + offset) - j
        win = np.ones_like(diff, bool)
        if lw is not None and lw >= 0:
            win &= diff <= lw
        if rw is not None and rw >= 0:
            win &= -diff <= rw
        allowed = win if allowed is None else allowed & win
    const_parts = []
    if allowed is not None:
        const_parts.append(np.where(allowed, np.float32(0), NEG_INF).astype(np.float32))
    if lens is not None:
        pm = np.arange(kv_len)[None, :] < lens.reshape(-1, 1)
        const_parts.append(np.where(pm, np.float32(0), NEG_INF).astype(np.float32).reshape(-1, 1, 1, kv_len))
    for part in const_parts:
        if bias is None:
            bias, shape = b.c(part), part.shape
        else:
            new_shape = tuple(np.broadcast_shapes(shape, part.shape))
            bias = b.op("ADD", [bias, b.c(part)], new_shape)
            shape = new_shape
    return bias, shape


def _zero_masked_rows(ctx, b, bias, bias_shape, probs, qk_shape):
    """Rows whose bias is -inf everywhere give 0 (not NaN) as the spec requires."""
    red_shape = tuple(bias_shape[:-1]) + (1,)
    mx = b.op("REDUCE_MAX", [bias, b.c([len(bias_shape) - 1], np.int32)], red_shape, {"keep_dims": True})
    # "<= lowest float" rather than "== -inf": also right for kernels that start a max at the lowest float
    dead = b.op("LESS_EQUAL", [mx, b.c(np.finfo(np.float32).min)], red_shape, dtype=np.bool_)
    return b.op("SELECT_V2", [dead, b.c(0.0), probs], qk_shape)
