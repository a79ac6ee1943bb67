"""The numba time loops of the recurrent ops (imported on a fast recurrent kernel's first use).

:func:`lstm_loop` and :func:`rnn_loop` run every step of :func:`..recurrent.run_lstm` /
:func:`..recurrent.run_rnn` in one compiled call, each float32 operation of
:mod:`..cell_arithmetic` written out in the same order on scalars:

* the recurrent and projection products in cell_arithmetic's lane orders (Eigen's GEMV for
  the LSTMs, TFLite's NEON kernel for the RNNs; the inner loops run over ``n``, independent
  sums, so they vectorise without reassociating);
* Eigen's packet logistic and rational tanh step by step, every product and
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

from ..cell_arithmetic import LAYER_NORM_EPSILON, TANH_ALPHA, TANH_BETA, TANH_CLAMP
from ..exact_logistic import C1, C2, EXP_HI, EXP_LO, HALF, LOG2E, ONE, P2, P3, P4, P5

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy")

ZERO = np.float32(0.0)
A0, A1, A2, A3 = TANH_ALPHA
B0, B1, B2, B3, B4 = TANH_BETA
NEG_TANH_CLAMP = np.float32(-TANH_CLAMP)
EPS = LAYER_NORM_EPSILON
F_ONE, F_SIX, F_NEG_ONE = np.float32(1.0), np.float32(6.0), np.float32(-1.0)
Q127, NEG_Q127 = np.float32(127.0), np.float32(-127.0)
# 2^m for the logistic's m = floor(h * log2(e) + 1/2), h in [-52, 8.32]: m in [-75, 13]
POW2_BIAS = 80
POW2 = np.array([2.0 ** (k - POW2_BIAS) for k in range(100)], np.float32)


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
    p = p * POW2[int(m) + POW2_BIAS]  # exact: a power of two, a normal float32 for m >= -75
    p = p * p
    return p / (p + ONE)


@nb.njit(inline="always", **_FLAGS)
def tanh(x):
    """cell_arithmetic.tanh_ for one float32."""
    if x > TANH_CLAMP:
        x = TANH_CLAMP
    elif x < NEG_TANH_CLAMP:
        x = NEG_TANH_CLAMP
    x2 = x * x
    p = x2 * A0
    p = p + A1
    p = p * x2
    p = p + A2
    p = p * x2
    p = p + A3
    q = x2 * B0
    q = q + B1
    q = q * x2
    q = q + B2
    q = q * x2
    q = q + B3
    q = q * x2
    q = q + B4
    x3 = x2 * x
    p = p * x3
    p = p + x
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
def lane_sums_row(v, b, w, lanes):
    """cell_arithmetic.lane_sums of row b into ``lanes`` [4, >= N]."""
    cols = w.shape[1]
    for j in range(4):
        for n in range(cols):
            lanes[j, n] = ZERO
    for k0 in range(0, w.shape[0] - w.shape[0] % 4, 4):
        for j in range(4):
            vk = v[b, k0 + j]
            for n in range(cols):
                lanes[j, n] += vk * w[k0 + j, n]


@nb.njit(inline="always", **_FLAGS)
def gemv_row(v, b, w, lanes, out):
    """out[n] = cell_arithmetic.gemv_products of row b: (l0 + l2) + (l1 + l3), then the tail."""
    lane_sums_row(v, b, w, lanes)
    depth = w.shape[0]
    for n in range(w.shape[1]):
        out[n] = (lanes[0, n] + lanes[2, n]) + (lanes[1, n] + lanes[3, n])
    for k in range(depth - depth % 4, depth):
        vk = v[b, k]
        for n in range(w.shape[1]):
            out[n] = out[n] + vk * w[k, n]


@nb.njit(inline="always", **_FLAGS)
def accumulate_lanes_row(acc, v, b, w, lanes):
    """cell_arithmetic.accumulate_lanes of row b into ``acc``."""
    lane_sums_row(v, b, w, lanes)
    depth = w.shape[0]
    for n in range(w.shape[1]):
        s = lanes[0, n] + lanes[1, n]
        s = s + lanes[2, n]
        s = s + lanes[3, n]
        acc[n] = acc[n] + s
    for k in range(depth - depth % 4, depth):
        vk = v[b, k]
        for n in range(w.shape[1]):
            acc[n] = acc[n] + vk * w[k, n]


@nb.njit(**_FLAGS)
def gemv_rows(v, w, add, out):
    """out[r] = gemv_products(v[r], w) + add[r] (``add`` [R, N] or [1, N], broadcast):
    recurrent.lstm_input_gates' rows."""
    lanes = np.empty((4, w.shape[1]), np.float32)
    row = np.empty(w.shape[1], np.float32)
    for r in range(v.shape[0]):
        gemv_row(v, r, w, lanes, row)
        a = add[r] if add.shape[0] > 1 else add[0]
        for n in range(w.shape[1]):
            out[r, n] = row[n] + a[n]


@nb.njit(**_FLAGS)
def accumulate_lanes_rows(acc, v, w):
    """cell_arithmetic.accumulate_lanes of every row (recurrent.input_contribution)."""
    lanes = np.empty((4, w.shape[1]), np.float32)
    for r in range(v.shape[0]):
        accumulate_lanes_row(acc[r], v, r, w, lanes)


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
    lanes = np.empty((4, max(width, n_out)), np.float32)
    cell_out = np.empty((1, nc), np.float32)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        for b in range(batch):
            if diagonal:
                for j in range(width):
                    z[j] = h[b, j % n_out] * rec[0, j]
            else:
                gemv_row(h, b, rec, lanes, z)
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
                cell_out[0, j] = activate(c[b, j], act) * o
            if proj_t.shape[0] > 0:
                hb = h[b]
                gemv_row(cell_out, 0, proj_t, lanes, hb)
                for n in range(n_out):
                    hb[n] = hb[n] + (proj_bias[n] if proj_bias.shape[0] > 0 else ZERO)
                if proj_clip > 0:
                    for n in range(n_out):
                        h[b, n] = clamp(h[b, n], -proj_clip, proj_clip)
            else:
                for n in range(n_out):
                    h[b, n] = cell_out[0, n]
            for n in range(n_out):
                out_tm[t, b, n] = h[b, n]
    return late_out


@nb.njit(**_FLAGS)
def rnn_loop(x_all, r_t, act, h, out_tm, reverse):
    """run_rnn's steps: h = act(h r_t + x_all[t]) per step, h [B, U] in place."""
    steps, batch, units = x_all.shape
    row = np.empty(units, np.float32)
    lanes = np.empty((4, units), np.float32)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        for b in range(batch):
            for n in range(units):
                row[n] = x_all[t, b, n]
            accumulate_lanes_row(row, h, b, r_t, lanes)
            for n in range(units):
                row[n] = activate(row[n], act)
            for n in range(units):
                h[b, n] = row[n]
                out_tm[t, b, n] = row[n]


# -- the hybrid (dynamic-range) LSTM ------------------------------------------------------------


@nb.njit(inline="always", **_FLAGS)
def round_away32(v):
    """quant_math.round_half_away of a float32: floor(v + 0.5) / ceil(v - 0.5) in float32."""
    if v >= ZERO:
        return np.floor(v + HALF)
    return np.ceil(v - HALF)


@nb.njit(inline="always", **_FLAGS)
def round_away64(v):
    if v >= 0.0:
        return np.floor(v + 0.5)
    return np.ceil(v - 0.5)


@nb.njit(**_FLAGS)
def quantize_row(row, q, asymmetric):
    """hybrid.symmetric_quantize_rows / asymmetric_quantize_rows of one row into int32 ``q``;
    returns (float32 scale, zero point)."""
    n = row.shape[0]
    mn = ZERO
    mx = ZERO
    if n > 0:
        mn = row[0]
        mx = row[0]
        for k in range(1, n):
            v = row[k]
            if v < mn:
                mn = v
            if v > mx:
                mx = v
    if not asymmetric:
        rng = max(abs(mn), abs(mx))
        if rng == ZERO:
            q[:] = 0
            return ONE, 0
        inv = Q127 / rng
        for k in range(n):
            v = round_away32(row[k] * inv)
            q[k] = int(clamp(v, NEG_Q127, Q127))
        return rng / Q127, 0
    rmin = mn if mn < ZERO else ZERO
    rmax = mx if mx > ZERO else ZERO
    if rmin == rmax:
        q[:] = 0
        return ONE, 0
    scale_d = np.float64(rmax - rmin) / 255.0
    rmin_d = np.float64(rmin)
    rmax_d = np.float64(rmax)
    zp_min = -128.0 - rmin_d / scale_d
    zp_max = 127.0 - rmax_d / scale_d
    err_min = 128.0 + abs(rmin_d / scale_d)
    err_max = 127.0 + abs(rmax_d / scale_d)
    zp_d = zp_min if err_min < err_max else zp_max
    if zp_d <= -128.0:
        zp = -128
    elif zp_d >= 127.0:
        zp = 127
    else:
        zp = int(round_away64(zp_d))
    scale = np.float32(scale_d)
    inv = ONE / scale
    for k in range(n):
        v = int(round_away32(row[k] * inv)) + zp
        q[k] = min(127, max(-128, v))
    return scale, zp


@nb.njit(inline="always", **_FLAGS)
def int_matvec(q, w, acc):
    """acc[n] = sum_k q[k] * w[k, n] (exact int32: the caller keeps depth * 128 * 128 < 2^31)."""
    for n in range(acc.shape[0]):
        acc[n] = 0
    for k in range(w.shape[0]):
        qk = q[k]
        if qk != 0:
            for n in range(acc.shape[0]):
                acc[n] += qk * w[k, n]


@nb.njit(inline="always", **_FLAGS)
def add_scaled(z_row, acc, sums, zp, sf, scales, block):
    """z += float32(acc - zp * sums) * (sf * scale of the column's block), hybrid._QuantizedMatrix.accumulate."""
    for n in range(z_row.shape[0]):
        a = np.int64(acc[n]) - zp * sums[n]
        z_row[n] = z_row[n] + np.float32(a) * (sf * scales[n // block])


@nb.njit(inline="always", **_FLAGS)
def any_nonzero(a):
    for b in range(a.shape[0]):
        for k in range(a.shape[1]):
            if a[b, k] != ZERO:
                return True
    return False


@nb.njit(**_FLAGS)
def hybrid_lstm_loop(x_tm, h, c, out_tm, wx, wx_sums, wx_scale, wh, wh_sums, wh_scale, bias, peep_i, peep_f,
                     peep_o, ln, proj_w, proj_sums, proj_scale, proj_bias, act, cell_clip, proj_clip, gates,
                     asymmetric):
    """HybridLSTMMixin.hybrid_time_loop: wx [I, G*nc] / wh [n_output, G*nc] int32 weights (gate
    blocks side by side) with their per-column row sums and per-gate scales; proj_w [nc, n_output]
    (empty: no projection) with its sums and scale (a one-element array). h, c in place."""
    steps, batch, n_in = x_tm.shape
    width = bias.shape[0]
    nc = width // gates
    n_out = h.shape[1]
    use_ln = ln.shape[0] > 0
    first = 0 if gates == 4 else -1
    fo, go, oo = (first + 1) * nc, (first + 2) * nc, (first + 3) * nc
    z = np.empty((batch, width), np.float32)
    cell_out = np.empty((batch, nc), np.float32)
    qx = np.empty(n_in, np.int32)
    qh = np.empty(n_out, np.int32)
    qc = np.empty(nc, np.int32)
    acc = np.empty(width, np.int32)
    pacc = np.empty(n_out, np.int32)
    pscale = proj_scale[0] if proj_scale.shape[0] > 0 else ONE
    for t in range(steps):
        for b in range(batch):
            for n in range(width):
                z[b, n] = ZERO if use_ln else bias[n]
        xt = x_tm[t]
        if any_nonzero(xt):
            for b in range(batch):
                sf, zp = quantize_row(xt[b], qx, asymmetric)
                int_matvec(qx, wx, acc)
                add_scaled(z[b], acc, wx_sums, zp if asymmetric else 0, sf, wx_scale, nc)
        if any_nonzero(h):
            for b in range(batch):
                sf, zp = quantize_row(h[b], qh, asymmetric)
                int_matvec(qh, wh, acc)
                add_scaled(z[b], acc, wh_sums, zp if asymmetric else 0, sf, wh_scale, nc)
        for b in range(batch):
            zb = z[b]
            if gates == 4 and peep_i.shape[0] > 0:
                for j in range(nc):
                    zb[j] = zb[j] + peep_i[j] * c[b, j]
            if peep_f.shape[0] > 0:
                for j in range(nc):
                    zb[fo + j] = zb[fo + j] + peep_f[j] * c[b, j]
            if use_ln:
                for k in range(gates - 1):
                    layer_normalize(zb[k * nc:(k + 1) * nc], ln[k], bias[k * nc:(k + 1) * nc])
            for j in range(nc):
                f = logistic(zb[fo + j])
                i = ONE - f if gates == 3 else logistic(zb[j])
                g = activate(zb[go + j], act)
                kept = c[b, j] * f
                cb = kept + i * g
                if cell_clip > 0:
                    cb = clamp(cb, -cell_clip, cell_clip)
                c[b, j] = cb
            if peep_o.shape[0] > 0:
                for j in range(nc):
                    zb[oo + j] = zb[oo + j] + peep_o[j] * c[b, j]
            if use_ln:
                layer_normalize(zb[oo:oo + nc], ln[gates - 1], bias[oo:oo + nc])
            for j in range(nc):
                cell_out[b, j] = logistic(zb[oo + j]) * activate(c[b, j], act)
        if proj_w.shape[0] > 0:
            for b in range(batch):
                for n in range(n_out):
                    h[b, n] = proj_bias[n]
            if any_nonzero(cell_out):
                for b in range(batch):
                    sf, zp = quantize_row(cell_out[b], qc, asymmetric)
                    int_matvec(qc, proj_w, pacc)
                    for n in range(n_out):
                        a = np.int64(pacc[n]) - (zp if asymmetric else 0) * proj_sums[n]
                        h[b, n] = h[b, n] + np.float32(a) * (sf * pscale)
            if proj_clip > 0:
                for b in range(batch):
                    for n in range(n_out):
                        h[b, n] = clamp(h[b, n], -proj_clip, proj_clip)
        else:
            for b in range(batch):
                for n in range(n_out):
                    h[b, n] = cell_out[b, n]
        for b in range(batch):
            for n in range(n_out):
                out_tm[t, b, n] = h[b, n]
