"""The exact 8-bit DEPTHWISE_CONV_2D of the compiled tier on AVX-512 VNNI ``vpdpwssd``.

Depth multiplier 1, dilation 1, any stride and kernel size. Per batch image:

* the *pair image* ``q[Hq, Wq, Cpad]`` (int32, built row by row, see below): each element holds two
  horizontally adjacent input values minus the input zero point as int16,
  ``q[y, x, c] = (p[y, x, c] & 0xFFFF) | (p[y, x + 1, c] << 16)`` where ``p`` is the input
  padded at the zero point (so ``p = 0`` on the padding and on the channels past ``C``,
  ``Cpad`` = C up to a multiple of 16). Every output pixel is then an inner pixel: the
  padding adds ``0 * w`` to an exact integer sum, that is nothing.
* the weights minus their zero point are packed the same way at prepare
  (:func:`pack_pair_weights`): per kernel row, the taps ``(0, 1), (2, 3), ...`` of 16
  channels as int16 pairs in int32 lanes, the second half zero for the last tap of an odd
  row. A 3x3 kernel is then 6 pair steps, a 5x5 one 15.
* the block step is written in LLVM IR (``numba.extending.intrinsic``, as the GEMM tile of
  ``_compiled_gemm``): for ``PX`` output pixels x 16 channels it keeps ``PX`` int32
  accumulators in registers over all pair steps; each step loads one weight vector and
  calls ``llvm.x86.avx512.vpdpwssd.512`` (32 int16 products, summed in pairs into 16 int32
  lanes) once per pixel on a plain 64-byte load of ``q`` (no shuffles: the pairing is in
  the layout). Each int16 product is exact in int32 and ``vpdpwssd`` adds without
  saturation (modulo 2^32, as the int32 loops of ``depthwise_int``); the caller takes this
  path only where a window's sum fits int32, so the sums equal the reference's.
* the requantization is the arithmetic of ``_compiled.depthwise_int``. When every channel
  takes the merged ruy rounding and C is a multiple of 16, it runs inside the block step on
  the registers (int64 lanes: ``(acc * m + bias * m + c) >> t``, clamp, 16 bytes per pixel
  stored; the sums never reach memory: 112x112x32 3x3 0.24 -> 0.15 ms). Otherwise each
  output row's int32 sums are requantized while in cache (the first ``n_fast`` channels with
  the merged rounding, in one flat pass when that is all of them, the others with
  :func:`_compiled.requantize`), the 8-bit output written directly.
* output rows are built in order with a ring of ``KH`` pair rows (each input row converted
  once per band); the parallel twin splits the rows into bands with their own rings.

Used where the integer GEMM's tiles run (:func:`_compiled_gemm.int_gemm_isa`: AVX-512
F/BW/VNNI, or AVX2 with the same layouts on 8-lane registers, :func:`_make_block`; numba
compiling for the host, ``EDGELITE_FAST_INT_GEMM`` not ``0``) and not with
``EDGELITE_FAST_DW_SIMD=0``; elsewhere ``_compiled.depthwise_int`` runs.
"""
from __future__ import annotations


import numba as nb
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._compiled import _twins, band_of, renamed, requantize_pixel, row_bands, variant_namespace
from ._llvm_loops import counted_accumulation

LANES = 16
PX = 8   # output pixels per block step

_I32, _I64 = ir.IntType(32), ir.IntType(64)
_V16 = ir.VectorType(_I32, LANES)
_ADDR = types.intp


def _make_block(px: int, fused: bool = False, isa: str = "vnni"):
    """An intrinsic ``block(q, offs, steps, w, pix, acc, acc_pix)`` (addresses and strides in
    bytes, as intp): for pixel ``i < px`` and lanes ``j < 16``,
    ``acc[i * acc_pix + 4 j] = sum_t dpwssd(q[i * pix + offs[t] + 4 j], w[64 t + 4 j])`` over the
    ``steps`` pair steps ``t``; the accumulators live in registers, ``acc`` is written once.
    ``fused``: ``block(q, offs, steps, w, pix, out, out_pix, rq, lo, hi)`` requantizes the sums
    instead, with the merged rounding ``clamp((acc * m + c) >> t, lo, hi)`` (int64 lanes; ``rq``
    the address of the 16 ``m``, then ``c``, then ``t`` of this channel block, see
    :func:`fused_constants`), and writes 16 bytes per pixel to ``out``.

    ``isa="avx2"``: the same sums on 8-lane registers, each 16-channel block as two halves of
    32 bytes (``vpmaddwd`` then ``vpaddd``: the int16 pair products summed as ``vpdpwssd``
    does), joined into 16 lanes for the store or the requantization (whose int64 lanes LLVM
    then builds from AVX2 operations)."""

    def typer(typingctx, q, offs, steps, w, pix, acc, acc_pix, *rq_lo_hi):
        if fused:
            return types.void(*([_ADDR] * 8), types.int64, types.int64), codegen
        return types.void(*([_ADDR] * 7)), codegen

    def codegen(context, builder, signature, args):
        q, offs, steps, w, pix, acc, acc_pix = args[:7]

        def const(v):
            return ir.Constant(_I64, v)

        def vec_at(address, vtype=_V16):
            return builder.inttoptr(address, vtype.as_pointer())

        pix_base = [builder.add(q, builder.mul(pix, const(i))) for i in range(px)]

        def offset_of(t):
            return builder.load(builder.inttoptr(builder.add(offs, builder.mul(t, const(8))), _I64.as_pointer()),
                                align=8)

        if isa == "vnni":
            dot = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V16, [_V16, _V16, _V16]),
                                                 "llvm.x86.avx512.vpdpwssd.512")

            def tap_pair(t, accs):
                off = offset_of(t)
                wv = builder.load(vec_at(builder.add(w, builder.mul(t, const(64)))), align=1)
                return [builder.call(dot, [accs[i], builder.load(vec_at(builder.add(pix_base[i], off)), align=1), wv])
                        for i in range(px)]

            final = counted_accumulation(builder, steps, [ir.Constant(_V16, None)] * px, tap_pair, "dw")
        else:
            half = ir.VectorType(_I32, LANES // 2)
            pairs = ir.VectorType(ir.IntType(16), LANES)
            madd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(half, [pairs, pairs]),
                                                  "llvm.x86.avx2.pmadd.wd")

            def load_pairs(address):
                return builder.load(vec_at(address, pairs), align=1)

            def tap_pair(t, accs):  # accs: pixel i's low half at 2i, high half at 2i + 1
                off = offset_of(t)
                wt = builder.add(w, builder.mul(t, const(64)))
                wv = [load_pairs(builder.add(wt, const(32 * h))) for h in range(2)]
                xs = [[load_pairs(builder.add(pix_base[i], builder.add(off, const(32 * h)))) for h in range(2)]
                      for i in range(px)]
                return [builder.add(accs[2 * i + h], builder.call(madd, [xs[i][h], wv[h]]))
                        for i in range(px) for h in range(2)]

            halves = counted_accumulation(builder, steps, [ir.Constant(half, None)] * (2 * px), tap_pair, "dw")
            join = ir.Constant(ir.VectorType(_I32, LANES), list(range(LANES)))
            final = [builder.shuffle_vector(halves[2 * i], halves[2 * i + 1], join) for i in range(px)]
        if fused:
            _store_requantized(builder, final, acc, acc_pix, *args[7:])
        else:
            for i, value in enumerate(final):
                builder.store(value, vec_at(builder.add(acc, builder.mul(acc_pix, const(i)))), align=1)
        return context.get_dummy_value()

    if fused:
        def block(typingctx, q, offs, steps, w, pix, out, out_pix, rq, lo, hi):
            return typer(typingctx, q, offs, steps, w, pix, out, out_pix, rq, lo, hi)
    else:
        def block(typingctx, q, offs, steps, w, pix, acc, acc_pix):
            return typer(typingctx, q, offs, steps, w, pix, acc, acc_pix)
    return intrinsic(block)


def _store_requantized(builder, sums, out, out_pix, rq, lo, hi):
    """out[i * out_pix + j] = int8(clamp((int64(sums[i][j]) * m[j] + c[j]) >> t[j], lo, hi))."""
    v64 = ir.VectorType(_I64, LANES)
    v8 = ir.VectorType(ir.IntType(8), LANES)

    def at(offset):
        return builder.inttoptr(builder.add(rq, ir.Constant(_I64, offset)), v64.as_pointer())
    mult = builder.load(at(0), align=8)
    add = builder.load(at(8 * LANES), align=8)
    shift = builder.load(at(16 * LANES), align=8)
    undef = ir.Constant(v64, ir.Undefined)
    splat = ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES)
    lo_v = builder.shuffle_vector(builder.insert_element(undef, lo, ir.Constant(_I32, 0)), undef, splat)
    hi_v = builder.shuffle_vector(builder.insert_element(undef, hi, ir.Constant(_I32, 0)), undef, splat)
    for i, acc in enumerate(sums):
        v = builder.ashr(builder.add(builder.mul(builder.sext(acc, v64), mult), add), shift)
        v = builder.select(builder.icmp_signed("<", v, lo_v), lo_v, v)
        v = builder.select(builder.icmp_signed(">", v, hi_v), hi_v, v)
        target = builder.add(out, builder.mul(out_pix, ir.Constant(_I64, i)))
        builder.store(builder.trunc(v, v8), builder.inttoptr(target, v8.as_pointer()), align=1)


_block = _make_block(PX)
_block_1 = _make_block(1)
_block_fused = _make_block(PX, fused=True)
_block_fused_1 = _make_block(1, fused=True)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _pair_run(xf, x_zp, qf, q_at, x_at, count, lo_in, hi_in, step):
    """qf[q_at + j] = pair of xf[x_at + j], xf[x_at + j + step] for j < count (a half is 0
    where its flag is off: the padding)."""
    qr = qf[q_at:q_at + count]  # slices: the loops index from 0 up (no negative-index wrap)
    if lo_in and hi_in:
        x0, x1 = xf[x_at:x_at + count], xf[x_at + step:x_at + step + count]
        for j in range(count):
            qr[j] = ((np.int32(x0[j]) - x_zp) & 0xFFFF) | ((np.int32(x1[j]) - x_zp) << 16)
    elif lo_in:
        x0 = xf[x_at:x_at + count]
        for j in range(count):
            qr[j] = (np.int32(x0[j]) - x_zp) & 0xFFFF
    elif hi_in:
        x1 = xf[x_at + step:x_at + step + count]
        for j in range(count):
            qr[j] = (np.int32(x1[j]) - x_zp) << 16
    else:
        qr[:] = 0


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _pair_row(x, b, iy, x_zp, pl, cstep, qy):
    """qy[col, c] = the pair of p[iy, ix, c], p[iy, ix + 1, c] (int16 halves, ``ix = col * cstep - pl``)
    of image ``b`` padded at the zero point (see the module doc)."""
    h, wd, c = x.shape[1], x.shape[2], x.shape[3]
    wq, cpad = qy.shape
    qf = qy.reshape(wq * cpad)
    if iy < 0 or iy >= h:
        qf[:] = 0
        return
    xf = x[b, iy].reshape(wd * c)
    # the columns whose two halves both lie inside the row: [mid_lo, mid_hi)
    mid_lo = min(wq, (pl + cstep - 1) // cstep)
    mid_hi = max(mid_lo, min(wq, (wd - 2 + pl) // cstep + 1))
    if cpad == c and cstep == 1 and mid_hi > mid_lo:  # one flat run
        _pair_run(xf, x_zp, qf, mid_lo * c, (mid_lo - pl) * c, (mid_hi - mid_lo) * c, True, True, c)
    elif mid_hi > mid_lo:  # column by column on 2-D indices (no slice per column)
        xr = x[b, iy]
        for col in range(mid_lo, mid_hi):
            ix = col * cstep - pl
            for ch in range(c):
                qy[col, ch] = ((np.int32(xr[ix, ch]) - x_zp) & 0xFFFF) | ((np.int32(xr[ix + 1, ch]) - x_zp) << 16)
            for ch in range(c, cpad):
                qy[col, ch] = 0
    for col in range(wq):
        if mid_lo <= col < mid_hi:
            continue
        ix = col * cstep - pl
        _pair_run(xf, x_zp, qf, col * cpad, ix * c, c, 0 <= ix < wd, 0 <= ix + 1 < wd, c)
        for ch in range(c, cpad):
            qf[col * cpad + ch] = 0


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _ring_steps(ring, first, sw, wp, cols, rows, offs, ow):
    """The block steps' operands for the output row whose windows start at pair-image row
    ``first`` (held in ``ring`` at slot ``row % len(ring)``): ``offs[t]`` gets the byte offset
    of pair step ``t`` in the ring (``cols``/``rows``: its column offset and kernel row);
    returns (steps, the byte stride between output pixels, the ring's, the weights' and
    ``offs``'s addresses, the pixels in whole ``PX`` blocks)."""
    kh = ring.shape[0]
    steps = np.intp(offs.shape[0])
    row_bytes = np.intp(ring.strides[0])
    for t in range(steps):
        offs[t] = (first + rows[t]) % kh * row_bytes + cols[t]
    pix = np.intp(sw // (2 if sw % 2 == 0 else 1)) * np.intp(ring.strides[1])
    return (steps, pix, np.intp(ring.ctypes.data), np.intp(wp.ctypes.data), np.intp(offs.ctypes.data),
            ow // PX * PX)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _row_sums(ring, first, sw, wp, cols, rows, offs, ow, acc):
    """acc[ox, :Cpad] = the int32 window sums of the output row whose windows start at
    pair-image row ``first`` (held in ``ring`` at slot ``row % len(ring)``), all channel blocks.
    ``cols``/``rows``: the byte column offset and the kernel row of each pair step; ``offs``
    scratch for their addresses in the ring."""
    steps, pix, q0, w0, o0, full = _ring_steps(ring, first, sw, wp, cols, rows, offs, ow)
    acc_pix = np.intp(acc.strides[0])
    a0 = np.intp(acc.ctypes.data)
    for cb in range(ring.shape[2] // LANES):
        qc = q0 + 4 * LANES * cb
        wc = w0 + steps * 64 * cb
        ac = a0 + 4 * LANES * cb
        for ox in range(0, full, PX):
            _block(qc + ox * pix, o0, steps, wc, pix, ac + ox * acc_pix, acc_pix)
        for ox in range(full, ow):
            _block_1(qc + ox * pix, o0, steps, wc, pix, ac + ox * acc_pix, acc_pix)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _row_fused(ring, first, sw, wp, cols, rows, offs, ow, rq, lo, hi, orow):
    """:func:`_row_sums` with the requantization in the block step (``rq`` from
    :func:`fused_constants`): the 8-bit output row ``orow`` [OW, C] written directly."""
    steps, pix, q0, w0, o0, full = _ring_steps(ring, first, sw, wp, cols, rows, offs, ow)
    out_pix = np.intp(orow.strides[0])
    r0 = np.intp(rq.ctypes.data)
    d0 = np.intp(orow.ctypes.data)
    lo64, hi64 = np.int64(lo), np.int64(hi)
    for cb in range(rq.shape[0]):
        qc = q0 + 4 * LANES * cb
        wc = w0 + steps * 64 * cb
        rc = r0 + 3 * 8 * LANES * cb
        dc = d0 + LANES * cb
        for ox in range(0, full, PX):
            _block_fused(qc + ox * pix, o0, steps, wc, pix, dc + ox * out_pix, out_pix, rc, lo64, hi64)
        for ox in range(full, ow):
            _block_fused_1(qc + ox * pix, o0, steps, wc, pix, dc + ox * out_pix, out_pix, rc, lo64, hi64)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _rows_sums(x, b, wp, cols, rows, x_zp, kh, wq, oy0, oy1, sh, sw, pt, pl, acc_rows, requant, args, rq, out):
    """The output rows ``oy0..oy1`` of image ``b``: pair rows built once each into a ring of
    ``kh`` rows as the windows move down, then :func:`_row_sums` (and ``requant``), or
    :func:`_row_fused` where ``rq`` is not empty."""
    cpad = acc_rows.shape[2]
    ring = np.empty((kh, wq, cpad), np.int32)
    offs = np.empty(cols.shape[0], np.intp)
    built = oy0 * sh - 1  # the last pair-image row in the ring
    for oy in range(oy0, oy1):
        first = oy * sh
        for r in range(max(built + 1, first), first + kh):
            _pair_row(x, b, r - pt, x_zp, pl, 2 if sw % 2 == 0 else 1, ring[r % kh])
        built = first + kh - 1
        if requant and rq.shape[0]:
            _row_fused(ring, first, sw, wp, cols, rows, offs, out.shape[2], rq, args[8], args[9], out[b, oy])
            continue
        acc = acc_rows[oy - oy0] if acc_rows.shape[0] > 1 else acc_rows[0]
        _row_sums(ring, first, sw, wp, cols, rows, offs, acc.shape[0], acc)
        if requant:
            _requantize_row(acc, args, out[b, oy])


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _requantize_row(acc, args, orow):
    """orow[ox, c] = requantize(acc[ox, c] + bias[c]) as ``_compiled.depthwise_int`` does; when
    every channel takes the merged rounding and ``acc`` has no channel padding, one flat pass
    with the row-tiled ``mults_row`` and ``consts_row`` (``bias * mult + const``: the same
    int64 value modulo 2^64) and ``totals_row``."""
    bias, mults, shifts, ties, consts, totals, n_fast, out_zp, lo, hi, mults_row, consts_row, totals_row = args
    ow, oc = orow.shape
    span = mults_row.shape[0]
    if n_fast == oc and acc.shape[1] == oc and span:
        af = acc.reshape(ow * oc)
        of = orow.reshape(ow * oc)
        for start in range(0, ow * oc, span):
            a_run = af[start:start + span]
            o_run = of[start:start + span]
            for j in range(min(span, ow * oc - start)):
                v = (np.int64(a_run[j]) * mults_row[j] + consts_row[j]) >> totals_row[j]
                o_run[j] = min(max(v, lo), hi)
        return
    for ox in range(ow):
        requantize_pixel(acc[ox], bias, mults, shifts, ties, consts, totals, n_fast, out_zp, lo, hi, orow[ox])


def depthwise_int_simd(x, wp, cols, rows, x_zp, bias, mults, shifts, ties, out_zp, lo, hi, n_fast, consts,
                       totals, mults_row, consts_row, totals_row, rq, out, kh, wq, sh, sw, pt, pl, threads):
    """Integer DEPTHWISE_CONV_2D (multiplier 1, dilation 1). x [N,H,W,C] int8/uint8; ``wp``,
    ``cols``, ``rows`` from :func:`pack_pair_weights` / :func:`pair_steps`; out [N,OH,OW,C];
    ``wq`` the pair-image width (:func:`pair_image_shape`); ``*_row`` from :func:`merged_row_constants`
    (or empty: a row of ``span`` values is requantized in runs of that length); ``rq`` from
    :func:`fused_constants` (or empty): the requantization inside the block steps. Bands of output rows are
    independent (each builds its own pair rows): the parallel twin splits them in ``threads`` bands."""
    n = x.shape[0]
    oh, ow = out.shape[1], out.shape[2]
    cpad = wp.shape[0] * LANES
    args = (bias, mults, shifts, ties, consts, totals, n_fast, out_zp, lo, hi, mults_row, consts_row, totals_row)
    bands, per = row_bands(oh, threads)
    for job in prange(n * bands):
        b, oy0, oy1 = band_of(job, bands, per, oh)
        if oy0 < oy1:
            acc = np.empty((1, ow, cpad), np.int32)
            _rows_sums(x, b, wp, cols, rows, x_zp, kh, wq, oy0, oy1, sh, sw, pt, pl, acc, True, args, rq, out)


def depthwise_sums_simd(x, wp, cols, rows, x_zp, acc, kh, wq, sh, sw, pt, pl):
    """acc[N, OH, OW, Cpad] = the int32 window sums alone (for tests and measurements)."""
    args = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.bool_),
            np.zeros(1, np.int64), np.zeros(1, np.int64), 0, 0, 0, 0, np.zeros(1, np.int64),
            np.zeros(1, np.int64), np.zeros(1, np.int64))
    for b in range(x.shape[0]):
        _rows_sums(x, b, wp, cols, rows, x_zp, kh, wq, 0, acc.shape[1], sh, sw, pt, pl, acc[b], False, args,
                   np.zeros((0, 3, LANES), np.int64),
                   np.zeros((1, 1, 1, 1), np.int8))



depthwise_int_simd, depthwise_int_simd_parallel = _twins(depthwise_int_simd, boundscheck=False)
depthwise_sums_simd = nb.njit(cache=True, error_model="numpy", boundscheck=False)(depthwise_sums_simd)

AVX2_PX = 4  # output pixels per AVX2 block step: 8 ymm accumulators of the 16 registers


# this module's globals with the AVX2 block steps in place of the VNNI ones, for the drivers' variants
_AVX2 = variant_namespace(globals(), "_avx2", ("_ring_steps", "_row_sums", "_row_fused", "_rows_sums"),
                          PX=AVX2_PX, _block=_make_block(AVX2_PX, isa="avx2"), _block_1=_make_block(1, isa="avx2"),
                          _block_fused=_make_block(AVX2_PX, True, "avx2"), _block_fused_1=_make_block(1, True, "avx2"))
depthwise_int_simd_avx2, depthwise_int_simd_avx2_parallel = _twins(
    depthwise_int_simd.py_func, "depthwise_int_simd_avx2", _AVX2, boundscheck=False)
depthwise_sums_simd_avx2 = renamed(depthwise_sums_simd.py_func, "depthwise_sums_simd_avx2", _AVX2, cache=True,
                                   error_model="numpy", boundscheck=False)
# each block-step set's (depthwise_int_simd, its parallel twin, depthwise_sums_simd)
KERNELS = {"vnni": (depthwise_int_simd, depthwise_int_simd_parallel, depthwise_sums_simd),
           "avx2": (depthwise_int_simd_avx2, depthwise_int_simd_avx2_parallel, depthwise_sums_simd_avx2)}


def padded_channels(channels: int) -> int:
    """Channels up to a multiple of 16 (the lanes of one block step)."""
    return (channels + LANES - 1) // LANES * LANES


def pack_pair_weights(w: np.ndarray) -> np.ndarray:
    """int32 ``[Cpad / 16, KH * ceil(KW / 2), 16]`` of integer weights ``w`` [KH, KW, C]
    (zero point removed, values fitting int16): step ``ky * ceil(KW/2) + j`` of channel block
    ``cb`` holds taps ``(ky, 2j)`` (low half) and ``(ky, 2j + 1)`` (high half, 0 past KW)."""
    kh, kw, c = w.shape
    pairs = (kw + 1) // 2
    cpad = padded_channels(c)
    full = np.zeros((kh, 2 * pairs, cpad), np.int32)
    full[:, :kw, :c] = w
    low = full[:, 0::2, :] & 0xFFFF
    high = full[:, 1::2, :] << 16
    packed = (low | high).reshape(kh * pairs, cpad // LANES, LANES)
    return np.ascontiguousarray(packed.transpose(1, 0, 2))


def merged_row_constants(bias, mults, consts, totals, n_fast: int, ow: int):
    """(mults_row, consts_row, totals_row): the merged rounding's int64 constants tiled over up
    to ``ow`` pixels (about 1024 values: the three stay in L1), ``bias * mult + const`` folded
    (wrapping as numba's int64), or empty arrays when not every channel takes the merged
    rounding."""
    oc = mults.shape[0]
    if n_fast != oc:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    with np.errstate(over="ignore"):
        folded = bias.astype(np.int64) * mults + consts
    pixels = max(1, min(ow, 1024 // max(oc, 1)))
    return tuple(np.ascontiguousarray(np.tile(v, pixels), np.int64) for v in (mults, folded, totals))


def fused_constants(bias, mults, consts, totals, n_fast: int):
    """int64 [C / 16, 3, 16]: per channel block the merged rounding's ``m``, ``bias * m + c``
    (wrapping) and ``t`` for the block steps' own requantization, or an empty array unless every
    channel takes the merged rounding and C is a multiple of 16."""
    oc = mults.shape[0]
    if n_fast != oc or oc % LANES:
        return np.zeros((0, 3, LANES), np.int64)
    with np.errstate(over="ignore"):
        folded = bias.astype(np.int64) * mults + consts
    packed = np.stack([mults, folded, totals]).astype(np.int64).reshape(3, oc // LANES, LANES)
    return np.ascontiguousarray(packed.transpose(1, 0, 2))


def pair_steps(kh: int, kw: int, sw: int, cpad: int) -> tuple[np.ndarray, np.ndarray]:
    """(cols, rows): the byte offset in a pair-image row and the kernel row of each pair step of
    :func:`pack_pair_weights` (an even column stride stores the even columns alone)."""
    pairs = (kw + 1) // 2
    per_col = 2 if sw % 2 == 0 else 1
    cols = np.array([4 * cpad * (2 * j // per_col) for _ in range(kh) for j in range(pairs)], np.intp)
    rows = np.array([ky for ky in range(kh) for _ in range(pairs)], np.intp)
    return cols, rows


def pair_image_shape(geom, channels: int) -> tuple[int, int, int]:
    """(Hq, Wq, Cpad) for a depthwise geometry ``(kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow)``:
    the rows and the stored columns the pair steps read (every column, or the even ones alone
    for an even column stride)."""
    kh, kw, sh, sw = geom[:4]
    oh, ow = geom[10:]
    last = (ow - 1) * sw + 2 * ((kw + 1) // 2 - 1)
    return (oh - 1) * sh + kh, last // (2 if sw % 2 == 0 else 1) + 1, padded_channels(channels)


def simd_isa() -> str | None:
    """The block steps this host runs: those of the integer GEMM's tiles
    (:func:`_compiled_gemm.int_gemm_isa`: ``"vnni"``, ``"avx2"``), or None with
    ``EDGELITE_FAST_DW_SIMD=0`` or no such tiles (``_compiled.depthwise_int`` then runs)."""
    from .isa import depthwise_blocks_off
    return None if depthwise_blocks_off() else _host_isa()


def simd_available() -> bool:
    """Whether this module's kernel can run here (:func:`simd_isa`)."""
    return simd_isa() is not None


def _host_isa() -> str | None:
    from ._compiled_gemm import int_gemm_isa
    return int_gemm_isa()


if _host_isa() == "avx2":  # the callers' names serve the AVX2 block steps on such hosts
    depthwise_int_simd, depthwise_int_simd_parallel, depthwise_sums_simd = KERNELS["avx2"]  # noqa: F811
