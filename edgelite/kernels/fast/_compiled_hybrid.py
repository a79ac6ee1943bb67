"""numba functions of the compiled tier for the hybrid (dynamic-range) CONV_2D and
DEPTHWISE_CONV_2D (imported only on such a kernel's first use, through
``loader.compiled_module``).

Each reproduces a step of ``kernels.hybrid`` bit for bit:

* :func:`quantize_rows`: the elementwise half of ``symmetric_quantize_rows`` /
  ``asymmetric_quantize_rows`` once the per-row scalars are known: the float32 product
  ``x * inv``, the reference's ties-away rounding in float32 (``floor(v + 0.5)`` for
  ``v >= 0``, else ``ceil(v - 0.5)``, each sum rounded to float32 as numpy does), plus the
  zero point, the clamp, rows with an empty range set to 0; optionally minus an offset
  (the depthwise kernel stores ``q - zp``, so that its padding is a plain 0).
* :func:`conv_epilogue`: ``float32(acc - zp * row_sums) * scale + bias`` per element, two
  float32 roundings in that order, then the clamp of RELU / RELU_N1_TO_1 / RELU6 with
  numpy's NaN and -0.0 behaviour (a value is replaced only when strictly out of range).
* :func:`depthwise_hybrid`: exact int32 sums of ``(q - zp) * tap`` over the window (the
  reference's float32 sums are exact, so any order gives the same integer), then
  ``(float32(acc) * filter_scale) * input_scale + bias`` and the clamp.

No fastmath: LLVM neither reassociates nor contracts a multiply-add into an FMA.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FLAGS = dict(cache=True, fastmath=False, error_model="numpy")


@nb.njit(cache=True, inline="always")
def _clamp(v, lo, hi):
    if v < lo:
        v = lo
    if v > hi:
        v = hi
    return v


@nb.njit(**_FLAGS)
def quantize_rows(x, inv, zp, zeroed, lo, hi, offset, out):
    """out[b, i] = clamp(round_half_away(float32(x[b, i] * inv[b])) + zp[b], lo, hi) - offset[b]
    (0 - offset[b] for rows flagged in ``zeroed``). x, out: [N, L]."""
    n, length = x.shape
    half = np.float32(0.5)
    for b in range(n):
        xr = x[b]
        orow = out[b]
        if zeroed[b]:
            for i in range(length):
                orow[i] = -offset[b]
            continue
        s = inv[b]
        # |x * inv| <= 256: the rounded value, zero point, bounds and offset are small
        # integers, exact in float32 (the reference adds them in float64): one float32 lane type
        z = np.float32(zp[b])
        flo, fhi = np.float32(lo), np.float32(hi)
        sub = np.float32(offset[b])
        for i in range(length):
            v = xr[i] * s
            r = np.floor(v + half) if v >= 0 else np.ceil(v - half)
            q = r + z
            q = flo if q < flo else q
            q = fhi if q > fhi else q
            orow[i] = q - sub


@nb.njit(**_FLAGS)
def conv_epilogue(acc, zp, row_sums, scale, bias, lo, hi, clamp, out):
    """out[r, c] = act(float32(int64(acc[r, c]) - zp * row_sums[c]) * scale[c] + bias[c])."""
    rows, o = out.shape
    for r in range(rows):
        arow = acc[r]
        orow = out[r]
        for c in range(o):
            a = np.int64(arow[c]) - zp * row_sums[c]
            y = np.float32(a) * scale[c]
            y = y + bias[c]
            if clamp:
                y = _clamp(y, lo, hi)
            orow[c] = y


@nb.njit(**_FLAGS)
def depthwise_hybrid(xq, taps, wscale, sf, bias, lo, hi, clamp, out, sh, sw, dh, dw, pt, pl, mult):
    """Hybrid DEPTHWISE_CONV_2D. xq [N,H,W,C] int32 (quantized input minus its zero point),
    taps [KH,KW,O] int32, out [N,OH,OW,O] float32."""
    n, h, wd, c = xq.shape
    kh, kw, o = taps.shape
    _, oh, ow, _ = out.shape
    acc = np.empty(o, np.int32)
    for b in range(n):
        s_in = sf[b]
        for oy in range(oh):
            for ox in range(ow):
                for k in range(o):
                    acc[k] = 0
                for ky in range(kh):
                    iy = oy * sh - pt + ky * dh
                    if iy < 0 or iy >= h:
                        continue
                    for kx in range(kw):
                        ix = ox * sw - pl + kx * dw
                        if ix < 0 or ix >= wd:
                            continue
                        xrow = xq[b, iy, ix]
                        trow = taps[ky, kx]
                        if mult == 1:
                            for k in range(o):
                                acc[k] += xrow[k] * trow[k]
                        else:
                            for ch in range(c):
                                v = xrow[ch]
                                for m in range(mult):
                                    acc[ch * mult + m] += v * trow[ch * mult + m]
                orow = out[b, oy, ox]
                for k in range(o):
                    y = np.float32(acc[k]) * wscale[k]
                    y = y * s_in
                    y = y + bias[k]
                    if clamp:
                        y = _clamp(y, lo, hi)
                    orow[k] = y


@nb.njit(**_FLAGS)
def row_parameters(rmin, rmax, asymmetric, inv, zp, zeroed, sf, status):
    """The per-row scalars of ``hybrid.symmetric_quantize_rows`` / ``asymmetric_quantize_rows``
    from each row's float32 minimum and maximum, with the reference's float32 and double
    operations one for one: inv (float32 1 / scale), zp (int64), zeroed (an empty range), sf
    (float32 scale). status[0] = 0 when a row holds a NaN or an infinity (then nothing is
    meaningful and the caller runs the reference), else 1."""
    status[0] = 0
    for b in range(rmin.size):
        if not (np.isfinite(rmin[b]) and np.isfinite(rmax[b])):
            return
    one = np.float32(1)
    for b in range(rmin.size):
        if not asymmetric:
            rng = max(abs(rmin[b]), abs(rmax[b]))
            zeroed[b] = rng == 0
            safe = one if rng == 0 else rng
            sf[b] = one if rng == 0 else safe / np.float32(127)
            inv[b] = np.float32(127) / safe
            zp[b] = 0
            continue
        lo = min(np.float32(0), rmin[b])
        hi = max(np.float32(0), rmax[b])
        if lo == hi:
            zeroed[b] = True
            zp[b] = 0
            sf[b] = one
            inv[b] = one
            continue
        zeroed[b] = False
        scale_d = np.float64(hi - lo) / 255.0  # a float32 difference divided in double
        lo_d, hi_d = np.float64(lo), np.float64(hi)
        zp_min = -128.0 - lo_d / scale_d
        zp_max = 127.0 - hi_d / scale_d
        err_min = 128.0 + abs(lo_d / scale_d)
        err_max = 127.0 + abs(hi_d / scale_d)
        zp_d = zp_min if err_min < err_max else zp_max
        if zp_d <= -128.0:
            zp[b] = -128
        elif zp_d >= 127.0:
            zp[b] = 127
        elif zp_d >= 0:
            zp[b] = np.int64(np.floor(zp_d + 0.5))
        else:
            zp[b] = np.int64(np.ceil(zp_d - 0.5))
        s = np.float32(scale_d)
        sf[b] = s
        inv[b] = one / s
    status[0] = 1


@nb.njit(**_FLAGS)
def fc_epilogue(acc, zp, row_sums, flip_sums, scale, bias, lo, hi, clamp, out):
    """Hybrid FULLY_CONNECTED: ``out[r, c] = act(float32(int64(acc[r, c]) - zp[r] * row_sums[c]
    - flip_sums[c]) * scale[r, c] + bias[c])``, one rounding per step as the reference."""
    rows, o = out.shape
    for r in range(rows):
        arow = acc[r]
        orow = out[r]
        srow = scale[r]
        z = zp[r]
        for c in range(o):
            a = np.int64(arow[c]) - z * row_sums[c] - flip_sums[c]
            y = np.float32(a) * srow[c]
            y = y + bias[c]
            if clamp:
                y = _clamp(y, lo, hi)
            orow[c] = y
