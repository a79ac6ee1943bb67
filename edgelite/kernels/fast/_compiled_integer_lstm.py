"""The numba time loop of the full-integer (8x8_16) UNIDIRECTIONAL_SEQUENCE_LSTM
(``integer_lstm.py``'s ``eval``), imported on the fast kernel's first use.

Integer arithmetic only, so the compiled loop gives the reference's results by
construction once each helper is the same function:

* :func:`mbqm` is ``quant_math.multiply_by_quantized_multiplier_fast`` for one value
  (gemmlowp's rounding: the optional left shift wrapped to int32 -- applied, as in the
  reference, to every element of an array whose shifts are not all <= 0 -- then
  ``(x * m + 2^30) >> 31`` and a rounding right shift whose ties go away from zero);
* :func:`rdbp` is ``rounding_divide_by_pot``;
* the gemmlowp logistic / tanh are the reference's tables over all int16 values;
* the recurrent and projection products are exact int64 sums.

Covered: CIFG or not, peephole weights when the output is as wide as the cell, projection,
cell and projection clipping. Layer norm, and peepholes with a narrower projection
(LiteRT's ``n_output``-element walk), run the reference ``eval``.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._compiled import high_mul_shift, wrap_int32

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy")
I16_MIN, I16_MAX = -32768, 32767


@nb.njit(inline="always", **_FLAGS)
def mbqm(x, mult, shift, wrap):
    """multiply_by_quantized_multiplier_fast (ties away from zero) of one int64 value."""
    if wrap:
        x = wrap_int32(x << shift if shift > 0 else x)
    return high_mul_shift(x, mult, shift, False)  # ties away from zero


@nb.njit(inline="always", **_FLAGS)
def rdbp(x, exponent):
    """rounding_divide_by_pot of one int64 value."""
    mask = (np.int64(1) << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


@nb.njit(inline="always", **_FLAGS)
def sat(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@nb.njit(**_FLAGS)
def integer_lstm_loop(x_gates, h, c, out_tm, rec_w, rec_bias, rec_mult, rec_shift, rec_wrap, peep, peep_mult,
                      peep_shift, logistic3, tanh3, cell_tanh, cell_shift, cell_clip, hid_mult, hid_shift,
                      proj_w, proj_bias, proj_mult, proj_shift, hidden_zp, output_zp, proj_clip, gates):
    """IntegerUnidirectionalSequenceLSTM.eval's steps. x_gates [T, B, G*nc] int64 (the input side,
    requantized); h [B, n_output], c [B, nc] int64, updated in place; rec_w [n_output, G*nc] int64;
    peep [G, nc] int64 with rows of zeros and multiplier 0 for gates without one (their
    peep_mult[g] < 0 marks them absent); proj_w [nc, n_output] (empty: no projection)."""
    steps, batch, width = x_gates.shape
    nc = width // gates
    n_out = h.shape[1]
    cifg = gates == 3
    gi = -1 if cifg else 0
    gf, gg, go = gi + 1, gi + 2, gi + 3
    z = np.empty(width, np.int64)
    acc = np.empty(width, np.int64)
    hidden = np.empty(nc, np.int64)
    proj_acc = np.empty(n_out, np.int64)
    hid_wrap = hid_shift > 0
    proj_wrap = proj_shift > 0
    for t in range(steps):
        for b in range(batch):
            for n in range(width):
                acc[n] = rec_bias[n]
            for k in range(n_out):
                hk = h[b, k]
                if hk != 0:
                    for n in range(width):
                        acc[n] += hk * rec_w[k, n]
            for n in range(width):
                z[n] = sat(x_gates[t, b, n] + mbqm(acc[n], rec_mult[n], rec_shift[n], rec_wrap), I16_MIN, I16_MAX)
            for j in range(nc):
                cj = c[b, j]
                f_pre = z[gf * nc + j]
                if peep_mult[gf] >= 0:
                    f_pre = sat(f_pre + mbqm(peep[gf, j] * cj, peep_mult[gf], peep_shift[gf], peep_shift[gf] > 0),
                                I16_MIN, I16_MAX)
                forget = logistic3[f_pre + 32768]
                cell_in = tanh3[z[gg * nc + j] + 32768]
                if cifg:
                    inp = I16_MAX - forget
                else:
                    i_pre = z[j]
                    if peep_mult[0] >= 0:
                        i_pre = sat(i_pre + mbqm(peep[0, j] * cj, peep_mult[0], peep_shift[0], peep_shift[0] > 0),
                                    I16_MIN, I16_MAX)
                    inp = logistic3[i_pre + 32768]
                cj = sat(rdbp(forget * cj, 15) + rdbp(inp * cell_in, cell_shift), I16_MIN, I16_MAX)
                if cell_clip > 0:
                    cj = sat(cj, -cell_clip, cell_clip)
                c[b, j] = cj
                o_pre = z[go * nc + j]
                if peep_mult[go] >= 0:
                    o_pre = sat(o_pre + mbqm(peep[go, j] * cj, peep_mult[go], peep_shift[go], peep_shift[go] > 0),
                                I16_MIN, I16_MAX)
                out_gate = logistic3[o_pre + 32768]
                hidden[j] = mbqm(out_gate * cell_tanh[cj + 32768], hid_mult, hid_shift, hid_wrap)
            if proj_w.shape[0] > 0:
                for n in range(n_out):
                    proj_acc[n] = proj_bias[n]
                for k in range(nc):
                    hk = sat(hidden[k] - hidden_zp, -128, 127)
                    if hk != 0:
                        for n in range(n_out):
                            proj_acc[n] += hk * proj_w[k, n]
                for n in range(n_out):
                    v = sat(mbqm(proj_acc[n], proj_mult, proj_shift, proj_wrap) + output_zp, -128, 127)
                    if proj_clip > 0:
                        v = sat(v, -proj_clip, proj_clip)
                    h[b, n] = v
            else:
                for n in range(n_out):
                    h[b, n] = sat(hidden[n] + hidden_zp, -128, 127)
            for n in range(n_out):
                out_tm[t, b, n] = h[b, n]
