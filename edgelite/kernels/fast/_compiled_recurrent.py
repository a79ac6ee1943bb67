"""The numba time loops of the recurrent ops (imported on a fast recurrent kernel's first use).

:func:`lstm_loop` and :func:`rnn_loop` run every step of :func:`..recurrent.run_lstm` /
:func:`..recurrent.run_rnn` in one compiled call, each float32 operation of
:mod:`..cell_arithmetic` written out in the same order on scalars:

* the recurrent product sums ``h[k] * w[k, n]`` for k = 0, 1, ... from ``0.0`` (the inner
  loop runs over ``n``, independent sums, so it vectorises without reassociating);
* Eigen's packet logistic and Eigen 3.4's rational tanh step by step, every product and
  sum rounded to float32 on its own;
* the layer norm's sums left to right from the first element.

No fastmath: LLVM then neither reassociates a sum nor contracts a multiply-add into an
FMA, so the bits are numpy's. Constants are float32 globals (a Python float literal would
promote the arithmetic to float64). ``cache=True``, one flag set per function.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..cell_arithmetic import LAYER_NORM_EPSILON, TANH_ALPHA, TANH_BETA, TANH_CLAMP, TANH_TINY
from ..exact_logistic import C1, C2, EXP_HI, EXP_LO, HALF, LOG2E, ONE, P2, P3, P4, P5

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy")

ZERO = np.float32(0.0)
A1, A3, A5, A7, A9, A11, A13 = TANH_ALPHA
B0, B2, B4, B6 = TANH_BETA
NEG_TANH_CLAMP = np.float32(-TANH_CLAMP)
EPS = LAYER_NORM_EPSILON
F_ONE, F_SIX, F_NEG_ONE = np.float32(1.0), np.float32(6.0), np.float32(-1.0)


@nb.njit(inline="always", **_FLAGS)
def logistic(x):
    """cell_arithmetic.logistic_ for one float32."""
    if x < EXP_LO:
        return ZERO
    if x != x:
        return x
    h = x
    if h > EXP_HI:
        h = EXP_HI
    h = h * HALF
    m = h * LOG2E
    m = m + HALF
    m = np.floor(m)
    r = m * C1
    r = r + h
    t = m * C2
    r = r + t
    r2 = r * r
    p = r2 * P5
    p = p + P3
    p = p * r
    e = r2 * P4
    e = e + P2
    p = p + e
    p = p * r2
    r = r + ONE
    p = p + r
    p = p * np.float32(math.ldexp(1.0, int(m)))
    p = p * p
    return p / (p + ONE)


@nb.njit(inline="always", **_FLAGS)
def tanh(x):
    """cell_arithmetic.tanh_ for one float32."""
    if abs(x) < TANH_TINY:
        return x
    if x > TANH_CLAMP:
        x = TANH_CLAMP
    elif x < NEG_TANH_CLAMP:
        x = NEG_TANH_CLAMP
    x2 = x * x
    p = x2 * A13
    p = p + A11
    p = p * x2
    p = p + A9
    p = p * x2
    p = p + A7
    p = p * x2
    p = p + A5
    p = p * x2
    p = p + A3
    p = p * x2
    p = p + A1
    p = p * x
    q = x2 * B6
    q = q + B4
    q = q * x2
    q = q + B2
    q = q * x2
    q = q + B0
    return p / q


@nb.njit(inline="always", **_FLAGS)
def clamp(x, lo, hi):
    """np.clip of one value (NaN stays NaN, -0.0 stays -0.0)."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@nb.njit(inline="always", **_FLAGS)
def activate(x, code):
    """cell_arithmetic.cell_activation_ for one float32 (codes of activation_fn)."""
    if code == 4:
        return tanh(x)
    if code == 6:
        return logistic(x)
    if code == 1:  # np.clip(x, 0, None) is np.maximum: -0.0 becomes 0.0, NaN stays
        return x if x > ZERO or x != x else ZERO
    if code == 3:
        return clamp(x, ZERO, F_SIX)
    if code == 2:
        return clamp(x, F_NEG_ONE, F_ONE)
    if code == 5:
        return F_ONE if math.copysign(1.0, x) < 0.0 else ZERO
    return x


@nb.njit(inline="always", **_FLAGS)
def matvec_row(h, b, w, out):
    """out[n] = sum_k h[b, k] * w[k, n], in k order from 0.0."""
    for n in range(out.shape[0]):
        out[n] = ZERO
    for k in range(w.shape[0]):
        hk = h[b, k]
        for n in range(out.shape[0]):
            out[n] += hk * w[k, n]


@nb.njit(inline="always", **_FLAGS)
def layer_normalize(g, coef, bias):
    """cell_arithmetic.layer_normalize_ of one row, in place."""
    n = g.shape[0]
    nf = np.float32(n)
    s = g[0]
    for i in range(1, n):
        s = s + g[i]
    mean = s / nf
    for i in range(n):
        g[i] = g[i] - mean
    ss = g[0] * g[0]
    for i in range(1, n):
        ss = ss + g[i] * g[i]
    var = ss / nf
    inv = ONE / np.sqrt(var + EPS)
    for i in range(n):
        v = g[i] * inv
        v = v * coef[i]
        g[i] = v + bias[i]


@nb.njit(**_FLAGS)
def lstm_loop(x_gates, rec, diagonal, gates, peep_i, peep_f, peep_o, ln, bias, proj_t, proj_bias,
              act, cell_clip, proj_clip, h, c, out_tm, reverse):
    """run_lstm's steps. x_gates [T, B, G*nc]; rec [n_output, G*nc] (diagonal: [1, G*nc]);
    peepholes [nc] or empty; ln [G, nc] (empty: no layer norm) with bias [G*nc]; proj_t
    [nc, n_output] (empty: no projection), proj_bias [n_output] or empty. ``h`` [B, n_output]
    and ``c`` [B, nc] are updated in place; step t's h goes to out_tm[t]."""
    steps, batch, width = x_gates.shape
    nc = width // gates
    n_out = h.shape[1]
    use_ln = ln.shape[0] > 0
    late_out = peep_o.shape[0] > 0 or use_ln
    first = 0 if gates == 4 else -1          # gate column blocks: i (absent with CIFG), f, g, o
    fo, go, oo = (first + 1) * nc, (first + 2) * nc, (first + 3) * nc
    z = np.empty(width, np.float32)
    cell_out = np.empty(nc, np.float32)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        for b in range(batch):
            if diagonal:
                for j in range(width):
                    z[j] = h[b, j % n_out] * rec[0, j]
            else:
                matvec_row(h, b, rec, z)
            xg = x_gates[t, b]
            for j in range(width):
                z[j] = z[j] + xg[j]
            if gates == 4 and peep_i.shape[0] > 0:
                for j in range(nc):
                    z[j] = z[j] + c[b, j] * peep_i[j]
            if peep_f.shape[0] > 0:
                for j in range(nc):
                    z[fo + j] = z[fo + j] + c[b, j] * peep_f[j]
            if use_ln:
                for k in range(gates - 1):
                    layer_normalize(z[k * nc:(k + 1) * nc], ln[k], bias[k * nc:(k + 1) * nc])
            for j in range(nc):
                f = logistic(z[fo + j])
                g = activate(z[go + j], act)
                cb = c[b, j] * f
                if gates == 4:
                    g = g * logistic(z[j])
                else:
                    g = g * (ONE - f)
                cb = cb + g
                if cell_clip > 0:
                    cb = clamp(cb, -cell_clip, cell_clip)
                c[b, j] = cb
            if peep_o.shape[0] > 0:
                for j in range(nc):
                    z[oo + j] = z[oo + j] + c[b, j] * peep_o[j]
            if use_ln:
                layer_normalize(z[oo:oo + nc], ln[gates - 1], bias[oo:oo + nc])
            for j in range(nc):
                o = logistic(z[oo + j])
                cell_out[j] = activate(c[b, j], act) * o
            if proj_t.shape[0] > 0:
                for n in range(n_out):
                    h[b, n] = ZERO
                for k in range(nc):
                    ck = cell_out[k]
                    for n in range(n_out):
                        h[b, n] += ck * proj_t[k, n]
                if proj_bias.shape[0] > 0:
                    for n in range(n_out):
                        h[b, n] = h[b, n] + proj_bias[n]
                if proj_clip > 0:
                    for n in range(n_out):
                        h[b, n] = clamp(h[b, n], -proj_clip, proj_clip)
            else:
                for n in range(n_out):
                    h[b, n] = cell_out[n]
            for n in range(n_out):
                out_tm[t, b, n] = h[b, n]
    return late_out


@nb.njit(**_FLAGS)
def rnn_loop(x_all, r_t, act, h, out_tm, reverse):
    """run_rnn's steps: h = act(h r_t + x_all[t]) per step, h [B, U] in place."""
    steps, batch, units = x_all.shape
    row = np.empty(units, np.float32)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        for b in range(batch):
            matvec_row(h, b, r_t, row)
            for n in range(units):
                row[n] = activate(row[n] + x_all[t, b, n], act)
            for n in range(units):
                h[b, n] = row[n]
                out_tm[t, b, n] = row[n]
