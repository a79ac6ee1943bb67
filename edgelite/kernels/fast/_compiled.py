"""The numba functions of the compiled kernel tier (imported only on a fast kernel's first use).

Every function reproduces the reference kernel's arithmetic bit for bit:

* float depthwise: each output starts from the bias (``-0.0`` without one, the neutral
  element of float addition, so the first product comes out unchanged) and adds the
  taps row by row, left to right, each product rounded to float32 before it is added
  -- the order of ``conv.DepthwiseConv2D`` and LiteRT. A tap over the padding adds
  ``0 * w``, as the reference's zero-padded buffer does. No fastmath: LLVM then neither
  reassociates nor contracts a multiply-add into an FMA.
* int8 depthwise: exact integer sums of ``(x - x_zp) * (w - w_zp)`` (padding adds
  nothing), then :func:`requantize`.
* :func:`requantize` is ``quant_math.multiply_by_quantized_multiplier_fast`` for one
  value: optional left shift (wrapped to int32), the high multiply ``(x*m + 2^30) >> 31``,
  a rounding right shift whose ties go up (ruy, LiteRT's SIMD channels) or away from
  zero (gemmlowp), the output zero point and the activation clamp. Channels with ties up
  and no left shift take the reference's merged form (``Requantizer._fast``):
  ``(x * m + 2^30 + (2^(r-1) + zp * 2^r) * 2^31) >> (31 + r)`` -- one multiply-add and
  one shift, which vectorises.

All are compiled with ``cache=True`` (one flag set per function: numba's on-disk cache
key ignores compile flags); the row loops twice (:func:`_twins`), serial and with
``parallel=True`` over output rows, the latter used when numba's thread count (which the
interpreter sets from ``num_threads``) is above 1.
"""
from __future__ import annotations

import types

import numba as nb
import numpy as np
from numba import prange

_SERIAL = dict(cache=True, fastmath=False, error_model="numpy")
_PARALLEL = dict(_SERIAL, parallel=True)


def _twins(py_func, name: str | None = None, namespace: dict | None = None, **extra_flags):
    """``py_func`` compiled twice, as ``NAME`` (serial: ``prange`` is ``range``) and
    ``NAME_parallel`` (``prange`` split over numba's threads). A parallel launch costs tens
    of microseconds even on one thread, so one thread runs the serial twin. The twins are
    distinct functions (own names, so own cache files): numba's on-disk cache key ignores
    compile flags, and one function compiled with two flag sets would share entries.
    ``extra_flags`` go to both (the other compiled modules use this too); ``name`` and
    ``namespace`` (default: ``py_func``'s own) make variants of the same code whose globals
    differ (:func:`renamed`)."""
    name = name or py_func.__name__
    return [renamed(py_func, name + suffix, namespace, **dict(flags, **extra_flags))
            for suffix, flags in (("", _SERIAL), ("_parallel", _PARALLEL))]


INLINE_FLAGS = dict(cache=True, inline="always", error_model="numpy", boundscheck=False)  # inlined drivers


def variant_namespace(namespace: dict, suffix: str, callees=(), **overrides) -> dict:
    """A copy of a module's globals ``namespace`` with ``overrides`` in place (other block steps
    or tiles, their sizes) and each of ``callees`` -- inlined driver functions of that module
    that reach the overridden names, callees first -- compiled again over the copy as
    ``NAME + suffix`` (:func:`renamed`, :data:`INLINE_FLAGS`). Functions compiled over the copy
    then run the same code on the overrides."""
    ns = dict(namespace)
    ns.update(overrides)
    for name in callees:
        ns[name] = renamed(namespace[name].py_func, name + suffix, ns, **INLINE_FLAGS)
    return ns


def renamed(py_func, name: str, namespace: dict | None = None, **flags):
    """``py_func``'s code compiled by numba as a new function ``name`` whose global names are
    looked up in ``namespace`` (default: ``py_func``'s module): a variant of the same source
    over other compiled callees, with its own cache entries (numba's cache key holds the
    function's name, not its globals)."""
    f = types.FunctionType(py_func.__code__, py_func.__globals__ if namespace is None else namespace, name,
                           py_func.__defaults__, py_func.__closure__)
    f.__qualname__ = name
    f.__doc__ = py_func.__doc__
    return nb.njit(**flags)(f)


@nb.njit(cache=True, inline="always")
def wrap_int32(x):
    """An int64 holding an integer, wrapped to int32 as C's int32 arithmetic does."""
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@nb.njit(cache=True, inline="always")
def high_mul_shift(x, mult, shift, ties_up):
    """The multiplier step of multiply_by_quantized_multiplier on an int64 ``x`` already
    left-shifted (and wrapped) by the caller: the high multiply ``(x*m + 2^30) >> 31``, then
    for ``shift < 0`` a rounding right shift by ``-shift`` whose ties go up (``ties_up``) or
    away from zero."""
    right = -shift if shift < 0 else 0
    high = (x * mult + (1 << 30)) >> 31
    half = (np.int64(1) << right) >> 1
    high += half
    if not ties_up and right > 0 and high - half < 0:
        high -= 1
    return high >> right


@nb.njit(cache=True, inline="always")
def requantize(acc, mult, shift, ties_up, zp, lo, hi):
    """One int32-valued accumulator (int64) to a clamped output integer (see the module doc)."""
    x = wrap_int32(acc << shift) if shift > 0 else acc
    v = high_mul_shift(x, mult, shift, ties_up) + zp
    if v < lo:
        v = lo
    if v > hi:
        v = hi
    return v


@nb.njit(cache=True, inline="always")
def row_bands(rows, threads):
    """(bands, rows per band) splitting ``rows`` output rows into at most ``threads`` bands."""
    bands = max(1, min(rows, threads))
    return bands, (rows + bands - 1) // bands


@nb.njit(cache=True, inline="always")
def band_of(job, bands, per, rows):
    """(batch item, first row, end row) of job ``job`` of a ``prange`` over batch x bands
    (:func:`row_bands`); the band may be empty."""
    b = job // bands
    first = (job - b * bands) * per
    return b, first, min(rows, first + per)


@nb.njit(cache=True, inline="always", error_model="numpy")
def requantize_pixel(sums, bias, mults, shifts, ties, consts, totals, n_fast, out_zp, lo, hi, out):
    """``out[c] = requantize(sums[c] + bias[c])`` for the channels of one output pixel of a
    depthwise convolution: the first ``n_fast`` with the merged rounding ``(x * m + const) >>
    total`` (:func:`merged_constants`), the rest with :func:`requantize`."""
    for ch in range(n_fast):
        v = ((np.int64(sums[ch]) + bias[ch]) * mults[ch] + consts[ch]) >> totals[ch]
        out[ch] = min(max(v, lo), hi)
    for ch in range(n_fast, out.shape[0]):
        out[ch] = requantize(np.int64(sums[ch]) + bias[ch], mults[ch], shifts[ch], ties[ch], out_zp, lo, hi)


def depthwise_float(x, w, wrow, init, out, sh, sw, dh, dw, pt, pl, mult, lo, hi, clamp):
    """Float DEPTHWISE_CONV_2D. x [N,H,W,C], w [KH,KW,O], init [O] (bias or -0.0), out [N,OH,OW,O].

    Per output row: the row starts from ``init``, then each tap in order adds its products
    to every pixel of the row (pixels whose tap falls on the padding add ``0 * w``). With
    unit column stride and no multiplier, a tap's inside pixels are one contiguous run of
    the input row: one long loop over ``wrow`` [KH, KW, OW*O], the tap's weights tiled
    over the output row.
    """
    n, h, wd, c = x.shape
    oh, ow, oc = out.shape[1], out.shape[2], out.shape[3]
    kh, kw = w.shape[0], w.shape[1]
    zero = np.float32(0.0)
    for r in prange(n * oh):
        b = r // oh
        oy = r - b * oh
        orow = out[b, oy]
        for ox in range(ow):
            for ch in range(oc):
                orow[ox, ch] = init[ch]
        for ky in range(kh):
            iy = oy * sh - pt + ky * dh
            row_inside = 0 <= iy < h
            xr = x[b, iy if row_inside else 0]
            for kx in range(kw):
                wt = w[ky, kx]
                off = kx * dw - pl
                # the output pixels whose tap column ox * sw + off lies inside the input
                ox_lo = 0 if off >= 0 else min(ow, (sw - 1 - off) // sw)
                ox_hi = min(ow, (wd - 1 - off) // sw + 1) if wd - 1 - off >= 0 else 0
                if not row_inside or ox_hi < ox_lo:
                    ox_lo = ox_hi = ow
                for ox in range(ox_lo):
                    for ch in range(oc):
                        orow[ox, ch] += zero * wt[ch]
                if mult == 1 and sw == 1:
                    a, z = ox_lo * oc, ox_hi * oc
                    o_run = orow.reshape(ow * oc)[a:z]
                    x_run = xr.reshape(wd * c)[a + off * oc:z + off * oc]
                    w_run = wrow[ky, kx][a:z]
                    for j in range(z - a):
                        o_run[j] += x_run[j] * w_run[j]
                elif mult == 1:
                    for ox in range(ox_lo, ox_hi):
                        xp = xr[ox * sw + off]
                        op = orow[ox]
                        for ch in range(oc):
                            op[ch] += xp[ch] * wt[ch]
                else:
                    for ox in range(ox_lo, ox_hi):
                        xp = xr[ox * sw + off]
                        op = orow[ox]
                        for ci in range(c):
                            xv = xp[ci]
                            for m in range(mult):
                                op[ci * mult + m] += xv * wt[ci * mult + m]
                for ox in range(ox_hi, ow):
                    for ch in range(oc):
                        orow[ox, ch] += zero * wt[ch]
        if clamp:
            for ox in range(ow):
                for ch in range(oc):
                    v = orow[ox, ch]
                    if v < lo:
                        orow[ox, ch] = lo
                    elif v > hi:
                        orow[ox, ch] = hi


@nb.njit(cache=True, inline="always", error_model="numpy")
def _dw_tap(acc, xr, xf, wrow_t, wt, x_zp, off, ox_lo, ox_hi, oc, c, sw, mult):
    """One tap of :func:`depthwise_int` for output pixels ``ox_lo..ox_hi`` of a row: with unit
    column stride and no multiplier one contiguous run (``wrow_t``: the tap's weights tiled over
    the row; ``xf`` the input row flat), else pixel by pixel."""
    if ox_hi <= ox_lo:
        return
    if mult == 1 and sw == 1:
        a, z = ox_lo * oc, ox_hi * oc
        acc_run = acc[a:z]
        x_run = xf[a + off * oc:z + off * oc]
        w_run = wrow_t[a:z]
        for j in range(z - a):
            acc_run[j] += (np.int32(x_run[j]) - x_zp) * w_run[j]
        return
    for ox in range(ox_lo, ox_hi):
        xp = xr[ox * sw + off]
        ap = acc[ox * oc:(ox + 1) * oc]
        if mult == 1:
            for ch in range(oc):
                ap[ch] += (np.int32(xp[ch]) - x_zp) * wt[ch]
        else:
            for ci in range(c):
                xv = np.int32(xp[ci]) - x_zp
                for m in range(mult):
                    ap[ci * mult + m] += xv * wt[ci * mult + m]


@nb.njit(cache=True, inline="always", error_model="numpy")
def _dw_row3(acc, xf, wk, x_zp, a, z, o0, o1, o2):
    """Three taps of one kernel row in one pass over ``acc[a:z]`` (input offsets ``o0..o2``)."""
    acc_run = acc[a:z]
    x0, x1, x2 = xf[a + o0:z + o0], xf[a + o1:z + o1], xf[a + o2:z + o2]
    w0, w1, w2 = wk[0][a:z], wk[1][a:z], wk[2][a:z]
    for j in range(z - a):
        acc_run[j] += ((np.int32(x0[j]) - x_zp) * w0[j] + (np.int32(x1[j]) - x_zp) * w1[j]
                       + (np.int32(x2[j]) - x_zp) * w2[j])


@nb.njit(cache=True, inline="always", error_model="numpy")
def _dw_row5(acc, xf, wk, x_zp, a, z, o0, step):
    """Five taps of one kernel row in one pass (input offsets ``o0 + k * step``)."""
    acc_run = acc[a:z]
    x0, x1, x2 = xf[a + o0:z + o0], xf[a + o0 + step:z + o0 + step], xf[a + o0 + 2 * step:z + o0 + 2 * step]
    x3, x4 = xf[a + o0 + 3 * step:z + o0 + 3 * step], xf[a + o0 + 4 * step:z + o0 + 4 * step]
    w0, w1, w2, w3, w4 = wk[0][a:z], wk[1][a:z], wk[2][a:z], wk[3][a:z], wk[4][a:z]
    for j in range(z - a):
        acc_run[j] += ((np.int32(x0[j]) - x_zp) * w0[j] + (np.int32(x1[j]) - x_zp) * w1[j]
                       + (np.int32(x2[j]) - x_zp) * w2[j] + (np.int32(x3[j]) - x_zp) * w3[j]
                       + (np.int32(x4[j]) - x_zp) * w4[j])


@nb.njit(cache=True, inline="always", error_model="numpy")
def _dw_pixels(acc, xf, wk, x_zp, px_lo, px_hi, sw, dw, pl, c, kw):
    """All ``kw`` (3 or 5) taps of one kernel row for the output pixels ``px_lo..px_hi`` whose
    window row lies inside the input row, pixel by pixel (any column stride, no multiplier):
    one load and store of each sum per pixel instead of one per tap. ``wk`` [KW, C]."""
    step = dw * c
    w0, w1, w2 = wk[0], wk[1], wk[2]
    w3, w4 = wk[kw - 2], wk[kw - 1]
    for ox in range(px_lo, px_hi):
        i = (ox * sw - pl) * c
        a = acc[ox * c:(ox + 1) * c]
        x0, x1, x2 = xf[i:i + c], xf[i + step:i + step + c], xf[i + 2 * step:i + 2 * step + c]
        if kw == 3:
            for ch in range(c):
                a[ch] += ((np.int32(x0[ch]) - x_zp) * w0[ch] + (np.int32(x1[ch]) - x_zp) * w1[ch]
                          + (np.int32(x2[ch]) - x_zp) * w2[ch])
        else:
            x3, x4 = xf[i + 3 * step:i + 3 * step + c], xf[i + 4 * step:i + 4 * step + c]
            for ch in range(c):
                a[ch] += ((np.int32(x0[ch]) - x_zp) * w0[ch] + (np.int32(x1[ch]) - x_zp) * w1[ch]
                          + (np.int32(x2[ch]) - x_zp) * w2[ch] + (np.int32(x3[ch]) - x_zp) * w3[ch]
                          + (np.int32(x4[ch]) - x_zp) * w4[ch])


def depthwise_int(x, w, wrow, x_zp, bias, mults, shifts, ties, out_zp, lo, hi, n_fast, consts, totals, out,
                  sh, sw, dh, dw, pt, pl, mult):
    """Integer DEPTHWISE_CONV_2D. x [N,H,W,C] int8/uint8, w [KH,KW,O] int32 (zero point removed),
    ``wrow`` [KH,KW,OW*O] the same tiled over an output row (unit column stride, no multiplier:
    a tap's inside pixels are one contiguous run of the input row).

    Exact int32 sums per output row (taps over the padding add nothing), then per channel the
    requantization; the first ``n_fast`` channels take the merged ruy rounding. With no
    multiplier and 3 or 5 taps per kernel row, the pixels whose whole window row lies inside the
    input take all the row's taps at once (one load and store of the sums instead of one per
    tap): one pass over the row with unit column stride, else pixel by pixel
    (:func:`_dw_pixels`); the border pixels go tap by tap."""
    n, h, wd, c = x.shape
    oh, ow, oc = out.shape[1], out.shape[2], out.shape[3]
    kh, kw = w.shape[0], w.shape[1]
    tiled = mult == 1 and sw == 1  # wrow holds the tiled weights (else a placeholder)
    wide = mult == 1 and (kw == 3 or kw == 5)
    # the pixels whose taps all lie inside the input row (ox * sw - pl >= 0 and
    # ox * sw - pl + (kw - 1) * dw <= wd - 1): [inner_lo, inner_hi)
    inner_lo = min(ow, max(0, (pl + sw - 1) // sw))
    inner_hi = max(inner_lo, min(ow, (wd - 1 - (kw - 1) * dw + pl) // sw + 1))
    for r in prange(n * oh):
        b = r // oh
        oy = r - b * oh
        acc = np.zeros(ow * oc, np.int32)
        for ky in range(kh):
            iy = oy * sh - pt + ky * dh
            if iy < 0 or iy >= h:
                continue
            xr = x[b, iy]
            xf = xr.reshape(wd * c)
            wk = wrow[ky if tiled else 0]
            split = wide and inner_hi > inner_lo
            if split and not tiled:
                _dw_pixels(acc, xf, w[ky], x_zp, inner_lo, inner_hi, sw, dw, pl, c, kw)
            elif split:
                a, z = inner_lo * oc, inner_hi * oc
                if kw == 3:
                    _dw_row3(acc, xf, wk, x_zp, a, z, -pl * c, (dw - pl) * c, (2 * dw - pl) * c)
                else:
                    _dw_row5(acc, xf, wk, x_zp, a, z, -pl * c, dw * c)
            for kx in range(kw):
                off = kx * dw - pl
                ox_lo = 0 if off >= 0 else min(ow, (sw - 1 - off) // sw)
                ox_hi = min(ow, (wd - 1 - off) // sw + 1) if wd - 1 - off >= 0 else 0
                wt, wt_row = w[ky, kx], wk[kx if tiled else 0]
                if split:
                    _dw_tap(acc, xr, xf, wt_row, wt, x_zp, off, ox_lo, min(ox_hi, inner_lo), oc, c, sw, mult)
                    _dw_tap(acc, xr, xf, wt_row, wt, x_zp, off, max(ox_lo, inner_hi), ox_hi, oc, c, sw, mult)
                else:
                    _dw_tap(acc, xr, xf, wt_row, wt, x_zp, off, ox_lo, ox_hi, oc, c, sw, mult)
        orow = out[b, oy]
        for ox in range(ow):
            requantize_pixel(acc[ox * oc:(ox + 1) * oc], bias, mults, shifts, ties, consts, totals, n_fast,
                             out_zp, lo, hi, orow[ox])


def requantize_rows_merged(acc, offset, mults, consts, totals, lo, hi, out):
    """:func:`requantize_rows` where every channel takes the merged ruy rounding
    ``(x * m + const) >> total`` (:func:`merged_constants`): branch-free, vectorised."""
    rows, oc = acc.shape
    for r in prange(rows):
        a = acc[r]
        o = out[r]
        for ch in range(oc):
            v = ((np.int64(a[ch]) + offset[ch]) * mults[ch] + consts[ch]) >> totals[ch]
            o[ch] = min(max(v, lo), hi)


def requantize_rows(acc, offset, mults, shifts, ties, out_zp, lo, hi, out):
    """out[r, c] = requantize(acc[r, c] + offset[c]) for an exact GEMM result ``acc``
    (integer-valued float32/float64, or int64) of shape [rows, O]."""
    rows, oc = acc.shape
    for r in prange(rows):
        a = acc[r]
        o = out[r]
        for ch in range(oc):
            o[ch] = requantize(np.int64(a[ch]) + offset[ch], mults[ch], shifts[ch], ties[ch],
                               out_zp, lo, hi)


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def eigen_row_means(rows, divisor, out):
    """``reduce.eigen_row_sums`` (Eigen's 4-lane SSE ``sum()`` of each row of a C-contiguous
    float32 [R, K] array starting 16-byte aligned), one row at a time, float32 throughout,
    each sum then divided by ``divisor`` (float32; a division correctly rounded either way).
    Serial: it serves small reductions (layer norms), where a parallel launch costs more."""
    n, depth = rows.shape
    for r in range(n):
        row = rows[r]
        head = min((-(r * depth)) % 4, depth)
        packets = (depth - head) // 4 * 4
        pairs = (depth - head) // 8 * 8
        if packets == 0:
            total = row[0]
            for k in range(1, depth):
                total += row[k]
            out[r] = total / divisor
            continue
        if packets > 4:
            a0, a1, a2, a3 = row[head], row[head + 1], row[head + 2], row[head + 3]
            b0, b1, b2, b3 = row[head + 4], row[head + 5], row[head + 6], row[head + 7]
            for j in range(head + 8, head + pairs, 8):
                a0 += row[j]
                a1 += row[j + 1]
                a2 += row[j + 2]
                a3 += row[j + 3]
                b0 += row[j + 4]
                b1 += row[j + 5]
                b2 += row[j + 6]
                b3 += row[j + 7]
            a0 += b0
            a1 += b1
            a2 += b2
            a3 += b3
            if packets > pairs:
                p = head + pairs
                a0 += row[p]
                a1 += row[p + 1]
                a2 += row[p + 2]
                a3 += row[p + 3]
        else:
            a0, a1, a2, a3 = row[head], row[head + 1], row[head + 2], row[head + 3]
        total = (a0 + a2) + (a1 + a3)
        for k in range(head):
            total += row[k]
        for k in range(head + packets, depth):
            total += row[k]
        out[r] = total / divisor


def im2col_padded(x, pad_value, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """``quantized_conv.im2col``: cols [N*OH*OW, KH*KW*C] (float) of NHWC ``x``, the
    positions over the padding set to ``pad_value`` (the input zero point). A window row
    lying inside the input with unit dilation is one contiguous run of ``KW*C`` input values;
    slices keep every index counted from 0 (no negative-index handling: the copies vectorise).
    Two loop nests: the runs inside the input first, then the window rows that touch the
    padding or are dilated. With both in one loop body LLVM left the run copy scalar
    (audio_conv1d_int8's 80-tap, 1-channel window: 0.25 -> 0.08 ns a value once apart)."""
    n, h, wd, c = x.shape
    run = kw * c
    flat = x.reshape(x.size)  # reshaped once: numba's reshape is a call
    for r in prange(n * oh):
        b = r // oh
        oy = r - b * oh
        for ox in range(ow):
            ix0 = ox * sw - pl
            if dw != 1 or ix0 < 0 or ix0 + kw > wd:
                continue
            row = cols[r * ow + ox]
            for ky in range(kh):
                iy = oy * sh - pt + ky * dh
                if iy < 0 or iy >= h:
                    continue
                dst = row[ky * run:(ky + 1) * run]
                start = ((b * h + iy) * wd + ix0) * c
                src = flat[start:start + run]
                for j in range(run):
                    dst[j] = src[j]
    for r in prange(n * oh):
        b = r // oh
        oy = r - b * oh
        rows_inside = oy * sh - pt >= 0 and oy * sh - pt + (kh - 1) * dh < h
        for ox in range(ow):
            ix0 = ox * sw - pl
            whole = dw == 1 and ix0 >= 0 and ix0 + kw <= wd
            if whole and rows_inside:
                continue  # done by the first nest
            row = cols[r * ow + ox]
            for ky in range(kh):
                iy = oy * sh - pt + ky * dh
                dst = row[ky * run:(ky + 1) * run]
                if iy < 0 or iy >= h:
                    for j in range(run):
                        dst[j] = pad_value
                elif not whole:
                    xr = x[b, iy]
                    for kx in range(kw):
                        ix = ix0 + kx * dw
                        tap = dst[kx * c:(kx + 1) * c]
                        if 0 <= ix < wd:
                            xp = xr[ix]
                            for ci in range(c):
                                tap[ci] = xp[ci]
                        else:
                            for ci in range(c):
                                tap[ci] = pad_value


depthwise_float, depthwise_float_parallel = _twins(depthwise_float)
im2col_padded, im2col_padded_parallel = _twins(im2col_padded)
depthwise_int, depthwise_int_parallel = _twins(depthwise_int)
requantize_rows_merged, requantize_rows_merged_parallel = _twins(requantize_rows_merged)
requantize_rows, requantize_rows_parallel = _twins(requantize_rows)


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def gelu_erfc_head(x, c_arg, coeffs, t_out, out):
    """GELU (erfc form), the float32 steps before numpy's ``exp``, as ``activations.erfc``:
    for ``a = x * c_arg``: ``z = |a|``, ``t = 1 / (z * 0.5 + 1)``, Horner over ``coeffs``
    (one rounding per multiply and per add), minus ``z * z`` -> ``out``; ``t`` -> ``t_out``."""
    half, one = np.float32(0.5), np.float32(1.0)
    for i in range(x.size):
        z = abs(x[i] * c_arg)
        t = one / (z * half + one)
        poly = coeffs[0]
        for k in range(1, coeffs.size):
            poly = poly * t + coeffs[k]
        t_out[i] = t
        out[i] = poly - z * z


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def gelu_erfc_tail(x, c_arg, t, out):
    """After ``out = exp(out)``: erfc = ``out * t`` (``2 - that`` for a negative argument),
    then ``erfc * x * 0.5``, each step rounded to float32."""
    half, two = np.float32(0.5), np.float32(2.0)
    for i in range(x.size):
        e = out[i] * t[i]
        if x[i] * c_arg < 0:
            e = two - e
        out[i] = e * x[i] * half


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def gelu_tanh_head(x, c_cube, c_scale, out):
    """GELU (tanh form) before numpy's ``tanh``: ``((x * x * x) * c_cube + x) * c_scale``."""
    for i in range(x.size):
        v = x[i]
        out[i] = ((v * v * v) * c_cube + v) * c_scale


@nb.njit(cache=True, fastmath=False, error_model="numpy")
def gelu_tanh_tail(x, out):
    """After ``out = tanh(out)``: ``(out + 1) * x * 0.5``."""
    half, one = np.float32(0.5), np.float32(1.0)
    for i in range(x.size):
        out[i] = (out[i] + one) * x[i] * half
