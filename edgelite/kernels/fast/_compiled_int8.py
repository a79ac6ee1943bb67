"""numba functions of the compiled tier for 8-bit elementwise ops, table lookups, the integer
MEAN, float QUANTIZE and the int8 TRANSPOSE_CONV epilogue (imported only on such a kernel's
first use, through ``loader.compiled_module``).

Every function computes, per element, the reference kernel's exact integer arithmetic
(``quantized_elementwise`` for MUL / ADD / SUB, ``quantized_misc.QuantizedMean``,
``quantize.Quantize``, ``quantized_conv.QuantizedTransposeConv``):

* :func:`mbqm` is ``quantized_elementwise.requantize`` for one value: optional left shift
  wrapped to int32, the high multiply ``(x * m + 2^30) >> 31`` and the rounding right shift
  whose ties go away from zero, ``(h + 2^(r-1) - [h < 0]) >> r``.
* MUL: ``mbqm((x1 - z1) * (x2 - z2))``; on LiteRT's SIMD lanes saturated to int16 and the
  output offset added with int16 wrap-around, elsewhere the offset added; then the clamp.
* ADD / SUB: both inputs rescaled to the common scale (the SIMD lanes fold the 20-bit left
  shift into the multiplier's exponent), summed, :func:`mbqm` again, offset, clamp.
* MEAN: int64 sums (order-free), then Mean4D's rounding (ties up on the 16-channel SIMD
  blocks) or the general path's ``1/n``-folded multiplier.
* table lookups: the reference's exact tables, indexed by the input bytes.

The elementwise loops walk an output of ``rows`` x ``run`` elements; each input row starts
at ``row * row_stride`` and advances by 1 (or by 0: a broadcast scalar). Within row ``r``
the first ``split(r)`` elements take the SIMD-lane arithmetic (see ``elementwise.py``).
Loops index 0-based slices (numba then emits no negative-index fix-up and LLVM vectorises
them, with 64-bit integer multiplies where needed). No fastmath: integer paths only, and
QUANTIZE's float steps are the reference's own roundings.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ._compiled import high_mul_shift, renamed, requantize, wrap_int32

_INLINE = dict(cache=True, inline="always", error_model="numpy")
GATHER_CHUNK = 1 << 15


@nb.njit(**_INLINE)
def mbqm(x, m, shift):
    """``quantized_elementwise.requantize`` of one int32-valued int64 (see the module doc)."""
    if shift > 0:
        x = wrap_int32(x << shift)
    return high_mul_shift(x, m, shift, False)  # ties away from zero


@nb.njit(**_INLINE)
def mul_value(a, b, p, vector):
    """8-bit MUL of raw values ``a``, ``b``; ``p`` = (off1, off2, m, shift, off_out, lo, hi), a tuple."""
    s = mbqm((a + p[0]) * (b + p[1]), p[2], p[3])
    if vector:  # int16 saturation, then the output offset with int16 wrap-around
        s = min(max(s, -32768), 32767) + p[4]
        s = ((s + 32768) & 0xFFFF) - 32768
    else:
        s += p[4]
    return min(max(s, p[5]), p[6])


@nb.njit(**_INLINE)
def _rescale(x, m, shift, left, vector):
    if vector:  # the SIMD lanes fold the left shift into the multiplier's exponent
        total = shift + left
        if total >= 0:
            return mbqm(x << total, m, 0)
        return mbqm(x, m, total)
    return mbqm(x << left, m, shift)


@nb.njit(**_INLINE)
def add_value(a, b, p, vector):
    """8-bit ADD/SUB of raw values; ``p`` = (off1, off2, m1, s1, m2, s2, mo, so, off_out, lo, hi,
    left_shift, sign)."""
    ra = _rescale(a + p[0], p[2], p[3], p[11], vector)
    rb = _rescale(b + p[1], p[4], p[5], p[11], vector)
    raw = ra + rb if p[12] > 0 else ra - rb
    res = mbqm(raw, p[6], p[7]) + p[8]
    return min(max(res, p[9]), p[10])


@nb.njit(**_INLINE)
def _split(r, run, vec_n, vec_total):
    """How many leading elements of row ``r`` take the SIMD-lane arithmetic."""
    s = vec_total - r * run
    if s > vec_n:
        s = vec_n
    return max(s, 0)


def _binary_rows(x1, x2, out, rows, run, size, s1, e1, s2, e2, vec_n, vec_total, p):
    """The row loop of one 8-bit binary op whose per-element arithmetic is ``element_value``
    (:func:`mul_value` or :func:`add_value`, bound per variant by :func:`_rows_of`):
    ``out[r * run + j] = element_value(x1[r * s1 + j * e1], x2[r * s2 + j * e2])`` for the
    ``size`` flat outputs (``e`` is 1, or 0 for a broadcast scalar, whose row stride is then 0
    too). Rows are sliced before the element loops: indices counted from 0 let LLVM drop
    numba's negative-index handling and vectorise. The first ``split`` elements of a row take
    LiteRT's SIMD-lane arithmetic, the rest its scalar tail."""
    for r in range(rows):
        o = r * run
        n = min(run, size - o)
        split = min(_split(r, run, vec_n, vec_total), n)
        dst = out[o:o + n]
        if e1 == 1 and e2 == 1:
            xa, xb = x1[r * s1:r * s1 + n], x2[r * s2:r * s2 + n]
            for j in range(split):
                dst[j] = element_value(np.int64(xa[j]), np.int64(xb[j]), p, True)
            ta, tb, td = xa[split:], xb[split:], dst[split:]
            for j in range(n - split):
                td[j] = element_value(np.int64(ta[j]), np.int64(tb[j]), p, False)
        elif e2 == 0:
            xa, b = x1[r * s1:r * s1 + n], np.int64(x2[0])
            for j in range(split):
                dst[j] = element_value(np.int64(xa[j]), b, p, True)
            ta, td = xa[split:], dst[split:]
            for j in range(n - split):
                td[j] = element_value(np.int64(ta[j]), b, p, False)
        else:
            a, xb = np.int64(x1[0]), x2[r * s2:r * s2 + n]
            for j in range(split):
                dst[j] = element_value(a, np.int64(xb[j]), p, True)
            tb, td = xb[split:], dst[split:]
            for j in range(n - split):
                td[j] = element_value(a, np.int64(tb[j]), p, False)


element_value = mul_value  # the element arithmetic of _binary_rows; each variant binds its own


def _rows_of(value, name: str):
    """:func:`_binary_rows` compiled with ``value`` as its element arithmetic, as the function
    ``name``: a module-level variant with its own cache entries (a closure over ``value`` got
    a new cache entry, and a fresh compile, in every process)."""
    return renamed(_binary_rows, name, dict(globals(), element_value=value), cache=True, error_model="numpy")


def gather_bytes(index, table, out, start, stop):
    """``out[i] = table[index[i] & (table.size - 1)]`` for flat positions ``start..stop``: the
    table has one entry per index value (256 for uint8, 65536 for uint16), so the mask only
    tells LLVM that no bound check is needed (the loop then vectorises). In chunks of
    ``GATHER_CHUNK``."""
    mask = table.size - 1
    chunks = -(-(stop - start) // GATHER_CHUNK)
    for k in range(chunks):
        a = start + k * GATHER_CHUNK
        z = min(stop, a + GATHER_CHUNK)
        src, dst = index[a:z], out[a:z]
        for i in range(z - a):
            dst[i] = table[np.intp(src[i]) & mask]


def gather_bytes_masked(index, vector, scalar, lanes, out):
    """``out[i] = (vector if lanes[i] else scalar)[index[i]]`` (tables of one entry per index value)."""
    mask = vector.size - 1
    for i in range(index.size):
        k = np.intp(index[i]) & mask
        out[i] = vector[k] if lanes[i] else scalar[k]


def sum_middle(x, acc):
    """acc[o, i] = sum over m of x[o, m, i] (int64), for an 8-bit ``x`` of shape [O, M, I]."""
    outer, middle, inner = x.shape
    for o in range(outer):
        a = acc[o]
        for i in range(inner):
            a[i] = 0
        for m in range(middle):
            row = x[o, m]
            for i in range(inner):
                a[i] += row[i]


def mean_requantize(total, count, zi, mult, shift, zo, lo, hi, out):
    """QuantizedMean's general path: ``mbqm_gemmlowp(wrap32(total - zi * count)) + zo``, clamped."""
    flat = total.reshape(total.size)
    dst = out.reshape(out.size)
    right = -shift if shift < 0 else 0
    for i in range(flat.size):
        x = flat[i] - zi * count
        x = ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
        if shift > 0:
            x = ((x << shift) + (1 << 31) & 0xFFFFFFFF) - (1 << 31)
        h = (x * mult + (1 << 30)) >> 31
        if right > 0:
            half = np.int64(1) << (right - 1)
            h += half
            if h < half:
                h -= 1
            h >>= right
        dst[i] = min(max(h + zo, lo), hi)


def mean4d_requantize(total, vector_channels, mult, shift, bias, lo, hi, out):
    """QuantizedMean's int8 4-D fast path (LiteRT's Mean4D): ``wrap32(total)`` requantized, the
    first ``vector_channels`` channels of each row with ties up (its SIMD loop), the others
    with gemmlowp's ties away from zero; plus ``bias``, clamped. ``total`` [N, C]."""
    rows, channels = total.shape
    right = -shift if shift < 0 else 0
    left = shift if shift > 0 else 0
    for r in range(rows):
        for c in range(channels):
            x = ((total[r, c] + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
            x = ((x << left) + (1 << 31) & 0xFFFFFFFF) - (1 << 31)
            h = (x * mult + (1 << 30)) >> 31
            half = (np.int64(1) << right) >> 1
            h += half
            if c >= vector_channels and right > 0 and h < half:
                h -= 1
            h >>= right
            out[r, c] = min(max(h + bias, lo), hi)


# Serial only: on the 2-core test machine a parallel launch of these light loops (0.1-0.4 ms
# per op) cost more than it saved (a 451K-element MUL: 0.21 ms serial, 0.31 ms on 2 threads).
mul_rows = _rows_of(mul_value, "mul_rows")  # MUL
add_rows = _rows_of(add_value, "add_rows")  # ADD / SUB
sum_middle = nb.njit(cache=True, error_model="numpy")(sum_middle)
gather_bytes = nb.njit(cache=True, error_model="numpy")(gather_bytes)
gather_bytes_masked = nb.njit(cache=True, error_model="numpy")(gather_bytes_masked)
mean_requantize = nb.njit(cache=True, error_model="numpy")(mean_requantize)
mean4d_requantize = nb.njit(cache=True, error_model="numpy")(mean4d_requantize)


@nb.njit(cache=True, error_model="numpy")
def quantize_affine(x, inv, scale, zp, qmin, qmax, body, out, status):
    """``quantize.Quantize._affine`` then the clamp: ``rint(x * inv)`` in float32 for the first
    ``body`` elements (LiteRT's SIMD blocks), ``round_half_away(double(x) / scale)`` for the
    rest, plus ``zp``, clamped to [qmin, qmax]. ``status[0]`` is set to 1, or to 0 (the output
    then partly written) if ``x`` holds a NaN, whose integer conversion the caller leaves to numpy."""
    status[0] = 0
    lo, hi = np.float64(qmin), np.float64(qmax)
    head, tail = x[:body], x[body:]
    nan = False
    for i in range(body):
        v = head[i]
        nan |= v != v
        q = np.float64(np.rint(v * inv)) + zp
        out[i] = min(max(q, lo), hi)
    rest = out[body:]
    for i in range(x.size - body):
        nan |= tail[i] != tail[i]
        q = np.float64(tail[i]) / scale
        q = np.floor(q + 0.5) if q >= 0 else np.ceil(q - 0.5)
        rest[i] = min(max(q + zp, lo), hi)
    if not nan:
        status[0] = 1


@nb.njit(cache=True, error_model="numpy")
def transpose_conv_int(cols, tap_offset, bias, acc, mults, shifts, ties, n_fast, consts, totals, out_zp, lo, hi,
                       out, sh, sw, pt, pl):
    """int8 TRANSPOSE_CONV after its GEMM: ``cols`` [N,H,W,KH,KW,O] the exact per-tap products
    (integer-valued floats), each plus its tap's zero-point term ``tap_offset`` [KH,KW,O],
    scattered into ``acc`` [N,FH,FW,O] (int64, zeroed here) at ``(y*sh + i, x*sw + j)``; then
    the window ``[pt:pt+OH, pl:pl+OW]`` plus ``bias`` requantized into ``out`` (the first
    ``n_fast`` channels by the merged ruy rounding, the others by ``_compiled.requantize``).
    Integer sums: the same values as the reference's strided int64 passes, in any order."""
    n, h, wd, kh, kw, oc = cols.shape
    oh, ow = out.shape[1], out.shape[2]
    acc[:] = 0
    for b in range(n):
        for y in range(h):
            for x in range(wd):
                for i in range(kh):
                    for j in range(kw):
                        dst = acc[b, y * sh + i, x * sw + j]
                        src = cols[b, y, x, i, j]
                        toff = tap_offset[i, j]
                        for ch in range(oc):
                            dst[ch] += np.int64(src[ch]) + toff[ch]
        for oy in range(oh):
            for ox in range(ow):
                a = acc[b, pt + oy, pl + ox]
                o = out[b, oy, ox]
                for ch in range(n_fast):
                    v = ((a[ch] + bias[ch]) * mults[ch] + consts[ch]) >> totals[ch]
                    o[ch] = min(max(v, lo), hi)
                for ch in range(n_fast, oc):
                    o[ch] = requantize(a[ch] + bias[ch], mults[ch], shifts[ch], ties[ch], out_zp, lo, hi)
