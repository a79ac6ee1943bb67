"""Recurrent ONNX ops (LSTM, GRU, RNN), unrolled over the static sequence length.

The input projection of all time steps is one FULLY_CONNECTED; each step adds the recurrent
FULLY_CONNECTED, splits the gates and applies LOGISTIC/TANH/MUL/ADD. Both directions are
supported; ``layout=1`` (batch-major) is handled by the layout tracker (no data copies).
Only the default activations are supported; clip, peepholes and sequence_lens shorter than the
sequence are reported as unsupported.
"""
from __future__ import annotations

import numpy as np

from ..context import Unsupported
from . import lowers
from .common import emit_reshape, emit_temp

DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
N_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _opt(node, i):
    return node.inputs[i] if len(node.inputs) > i and node.inputs[i] else None


class _Emitter:
    def __init__(self, ctx, dt=np.float32):
        self.ctx, self.dt = ctx, dt

    def op(self, opcode, ins, shape, opts=None, hint=None):
        return emit_temp(self.ctx, opcode, ins, shape, self.dt, opts, hint)

    def fc(self, x, w, b, shape):
        return self.op("FULLY_CONNECTED", [x, self.ctx.constant(np.ascontiguousarray(w, np.float32)),
                                           -1 if b is None else self.ctx.constant(np.asarray(b, np.float32))],
                       shape, hint="fc")


@lowers("LSTM", "GRU", "RNN")
def lower_rnn(ctx, node):
    kind = node.op_type
    x = node.inputs[0]
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"{kind} on {ctx.dtype(x)}")
    acts = node.attr("activations")
    direction = node.attr("direction", "forward")
    dirs = 2 if direction == "bidirectional" else 1
    if acts is not None and [a for a in acts] != DEFAULT_ACTS[kind] * dirs:
        raise Unsupported(f"{kind} activations {acts}")
    if node.attr("clip") is not None:
        raise Unsupported(f"{kind} with clip")
    if kind == "LSTM" and node.attr("input_forget", 0):
        raise Unsupported("LSTM with input_forget=1")
    batch_major = int(node.attr("layout", 0)) == 1
    W = np.asarray(ctx.need_const(node.inputs[1], f"{kind} W"), np.float32)
    R = np.asarray(ctx.need_const(node.inputs[2], f"{kind} R"), np.float32)
    H = R.shape[-1]
    G = N_GATES[kind]
    B = _opt(node, 3)
    B = np.asarray(ctx.need_const(B, f"{kind} B"), np.float32) if B else np.zeros((dirs, 2 * G * H), np.float32)
    xs = ctx.shape(x)
    seq, batch = (xs[1], xs[0]) if batch_major else (xs[0], xs[1])
    isz = xs[2]
    lens = _opt(node, 4)
    if lens is not None:
        lv = ctx.const(lens)
        if lv is None or not np.all(np.asarray(lv) == seq):
            raise Unsupported(f"{kind} with sequence_lens shorter than the sequence")
    if kind == "LSTM" and _opt(node, 7) is not None:
        p = ctx.const(_opt(node, 7))
        if p is None or np.any(np.asarray(p) != 0):
            raise Unsupported("LSTM with peepholes")
    e = _Emitter(ctx)
    # x as (seq, batch, I) physically; one FC for the input projection of every step
    xt = ctx.input(x, (1, 0, 2) if batch_major else None)
    flat = e.op("RESHAPE", [xt, ctx.constant(np.array([seq * batch, isz], np.int32))], (seq * batch, isz),
                {"new_shape": [seq * batch, isz]})
    init_h = _initial(ctx, e, node, 5, dirs, batch, H, batch_major)
    init_c = _initial(ctx, e, node, 6, dirs, batch, H, batch_major) if kind == "LSTM" else [None] * dirs
    ys, last_h, last_c = [], [], []
    for d in range(dirs):
        wb, rb = B[d, :G * H], B[d, G * H:]
        lbr = kind == "GRU" and int(node.attr("linear_before_reset", 0))
        in_bias = wb + rb if kind != "GRU" else np.concatenate([wb[:2 * H] + rb[:2 * H], wb[2 * H:]])
        proj = e.fc(flat, W[d], in_bias, (seq * batch, G * H))
        proj3 = e.op("RESHAPE", [proj, ctx.constant(np.array([seq, batch, G * H], np.int32))], (seq, batch, G * H),
                     {"new_shape": [seq, batch, G * H]})
        steps = [ctx.temp((batch, G * H), np.float32, "xproj_t") for _ in range(seq)]
        if seq == 1:
            ctx.emit("RESHAPE", [proj3, ctx.constant(np.array([batch, G * H], np.int32))], steps,
                     {"new_shape": [batch, G * H]})
        else:
            ctx.emit("UNPACK", [proj3], steps, {"num": seq, "axis": 0})
        h, c = init_h[d], init_c[d]
        outs = [None] * seq
        order = range(seq) if d == 0 and direction != "reverse" else range(seq - 1, -1, -1)
        for t in order:
            if kind == "LSTM":
                h, c = _lstm_step(ctx, e, steps[t], h, c, R[d], batch, H)
            elif kind == "GRU":
                h = _gru_step(ctx, e, steps[t], h, R[d], rb[2 * H:], lbr, batch, H)
            else:
                h = _rnn_step(ctx, e, steps[t], h, R[d], batch, H)
            outs[t] = h
        ys.append(outs)
        last_h.append(h)
        last_c.append(c)
    _outputs(ctx, e, node, ys, last_h, last_c, seq, batch, H, dirs, batch_major)


def _initial(ctx, e, node, i, dirs, batch, H, batch_major):
    name = _opt(node, i)
    if name is None:
        z = ctx.constant(np.zeros((batch, H), np.float32))
        return [z] * dirs
    t = ctx.input(name, (1, 0, 2) if batch_major else None)  # (dirs, batch, H)
    if dirs == 1:
        return [e.op("RESHAPE", [t, ctx.constant(np.array([batch, H], np.int32))], (batch, H),
                     {"new_shape": [batch, H]})]
    parts = [ctx.temp((batch, H), np.float32, "h0") for _ in range(dirs)]
    ctx.emit("UNPACK", [t], parts, {"num": dirs, "axis": 0})
    return parts


def _split(ctx, g, n, batch, H):
    parts = [ctx.temp((batch, H), np.float32, "gate") for _ in range(n)]
    ctx.emit("SPLIT", [ctx.constant(np.array(1, np.int32)), g], parts, {"num_splits": n})
    return parts


def _lstm_step(ctx, e, xp, h, c, R, batch, H):
    g = e.op("ADD", [xp, e.fc(h, R, None, (batch, 4 * H))], (batch, 4 * H))
    i, o, f, cc = _split(ctx, g, 4, batch, H)
    i = e.op("LOGISTIC", [i], (batch, H))
    o = e.op("LOGISTIC", [o], (batch, H))
    f = e.op("LOGISTIC", [f], (batch, H))
    cc = e.op("TANH", [cc], (batch, H))
    c = e.op("ADD", [e.op("MUL", [f, c], (batch, H)), e.op("MUL", [i, cc], (batch, H))], (batch, H), hint="c")
    h = e.op("MUL", [o, e.op("TANH", [c], (batch, H))], (batch, H), hint="h")
    return h, c


def _gru_step(ctx, e, xp, h, R, rb_h, lbr, batch, H):
    xz, xr, xh = _split(ctx, xp, 3, batch, H)
    hz = e.fc(h, R[:H], None, (batch, H))
    hr = e.fc(h, R[H:2 * H], None, (batch, H))
    z = e.op("LOGISTIC", [e.op("ADD", [xz, hz], (batch, H))], (batch, H))
    r = e.op("LOGISTIC", [e.op("ADD", [xr, hr], (batch, H))], (batch, H))
    if lbr:
        hh = e.fc(h, R[2 * H:], rb_h, (batch, H))
        inner = e.op("MUL", [r, hh], (batch, H))
    else:
        inner = e.fc(e.op("MUL", [r, h], (batch, H)), R[2 * H:], rb_h, (batch, H))
    n = e.op("TANH", [e.op("ADD", [xh, inner], (batch, H))], (batch, H))
    # h' = n + z * (h - n)
    return e.op("ADD", [n, e.op("MUL", [z, e.op("SUB", [h, n], (batch, H))], (batch, H))], (batch, H), hint="h")


def _rnn_step(ctx, e, xp, h, R, batch, H):
    return e.op("TANH", [e.op("ADD", [xp, e.fc(h, R, None, (batch, H))], (batch, H))], (batch, H), hint="h")


def _outputs(ctx, e, node, ys, last_h, last_c, seq, batch, H, dirs, batch_major):
    names = list(node.outputs) + [""] * 3
    y_name, yh_name, yc_name = names[:3]
    if y_name:
        # physical (seq, dirs, batch, H); logical is that, or (batch, seq, dirs, H) when batch-major
        per_dir = []
        for d in range(dirs):
            if seq == 1:
                per_dir.append(e.op("RESHAPE", [ys[d][0], ctx.constant(np.array([1, batch, H], np.int32))],
                                    (1, batch, H), {"new_shape": [1, batch, H]}))
            else:
                per_dir.append(e.op("PACK", ys[d], (seq, batch, H), {"values_count": seq, "axis": 0}))
        perm = (1, 2, 0, 3) if batch_major else None
        out = ctx.output(y_name, perm)
        if dirs == 1:
            emit_reshape(ctx, per_dir[0], [seq, 1, batch, H], out)
        else:
            ctx.emit("PACK", per_dir, [out], {"values_count": dirs, "axis": 1})
    for name, lasts in ((yh_name, last_h), (yc_name, last_c)):
        if not name:
            continue
        perm = (1, 0, 2) if batch_major else None
        out = ctx.output(name, perm)
        if dirs == 1:
            emit_reshape(ctx, lasts[0], [1, batch, H], out)
        else:
            ctx.emit("PACK", lasts, [out], {"values_count": dirs, "axis": 0})
