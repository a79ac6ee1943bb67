"""The float32 DEPTHWISE_CONV_2D of the compiled tier on AVX-512F (or AVX2) register blocks, bit-exact.

Depth multiplier 1, any stride, dilation and kernel size. The reference (and
``_compiled.depthwise_float``) computes per output pixel and channel ``out = init`` (the
bias, or -0.0 without one), then tap by tap in order (ky outer, kx inner)
``out = out + x * w`` with each product and each sum rounded to float32, a tap over the
padding adding ``0 * w``; then the clamp ``v < lo -> lo, v > hi -> hi`` (NaN kept).
``_compiled.depthwise_float`` does one pass over the output row per tap (the row loaded and
stored KH*KW times); here:

* with C a multiple of 16, an output row whose taps all lie on image rows reads the input in
  place: the block steps (below) on the pixels whose taps all lie inside the row,
  :func:`_edge_pixel` (per tap in order ``acc + x * w`` or ``acc + 0 * w``, vectorised over
  the channels) on the few border pixels.
* the other rows (the top and bottom ones; every row when C is not a multiple of 16): the
  input rows are copied once each into a ring of ``(KH-1)*DH+1`` *padded rows* ``[Wp, Cpad]``:
  the row's pixels at column ``ix + pad_left``, +0.0 on the padding columns, on the rows
  above/below the image and on the channels past ``C`` (``Cpad`` = C up to a multiple of 16).
  Every output pixel is then an inner pixel, and a tap over the padding multiplies +0.0 by the
  weight: the same ``0 * w`` term as the reference's, in the same place of the order (it
  matters for inf/NaN weights: NaN, and for the sign of zeros). The block stores into the
  output row where C is a multiple of 16, else into a ``[OW, Cpad]`` row buffer whose first
  C channels are copied out.
* the block step is written in LLVM IR (``numba.extending.intrinsic``, as the int8 block of
  ``_compiled_depthwise``): for ``PX`` output pixels x 16 channels it keeps ``PX``
  ``<16 x float>`` accumulators in registers, starting from ``init``, and per tap in order
  ``acc = acc + x * w`` as one ``vmulps`` and one ``vaddps`` (inline assembly, see
  :func:`_ordered`: never contracted into a fused multiply-add, never reassociated, the
  operands in the reference's order); then the clamp as two ordered compares and selects
  (NaN stays, as the reference's ``if v < lo ... elif v > hi``) and one store per pixel.
  Each lane is the reference's scalar sequence of IEEE operations, so the bits are identical.
  The one exception, not a stable property of the reference itself: the sign of a NaN made
  from two NaN operands (an input's +NaN meeting the -NaN of ``inf * 0``), which x86 takes
  from the first operand and numpy's loops (the reference) from one operand in their vector
  body and from the other in their tail; ``_compiled.depthwise_float`` differs there too.
* the parallel twin splits the output rows into bands, each with its own ring.

Used where the host has AVX-512F, or AVX2 (the same drivers over 8-lane block steps, each
16-channel block as two halves, 4 pixels a step; :func:`simd_isa`, ``EDGELITE_FAST_ISA=avx2``
forces them), numba compiles for the host, and not with ``EDGELITE_FAST_DW_SIMD=0`` (the int8
path's switch); elsewhere ``_compiled.depthwise_float`` runs.
"""
from __future__ import annotations


import numba as nb
import numpy as np
from llvmlite import binding as _binding
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from ._compiled import _twins, band_of, row_bands, variant_namespace
from ._llvm_loops import counted_accumulation

LANES = 16
PX = 8   # output pixels per block step

_F32, _I64 = ir.FloatType(), ir.IntType(64)
_ADDR = types.intp


_binding.initialize_native_asmparser()  # (numba sets up the printer only; the inline assembly needs the parser)


def _ordered(builder, op: str, first, second):
    """``first OP second`` as one vector instruction (AVX-512 on 16 lanes, AVX on 8) with
    ``first`` its first source operand (inline assembly: LLVM may neither swap the operands --
    which decides the NaN a NaN-with-NaN operation returns, the first source's on x86, as
    numpy's loops in the reference -- nor fuse the multiply and the add). The AVX form carries
    ``{vex3}``: LLVM's assembler otherwise swaps the sources of a commutative VEX instruction
    whose second source is ymm8-15, for a shorter encoding (seen: ``vaddps %ymm1, %ymm10, %ymm1``
    for acc + x*w), which changes that NaN."""
    vex = first.type.count < 16  # (registers 0-15 only: a VEX encoding cannot name ymm16-31)
    return builder.asm(ir.FunctionType(first.type, [first.type, first.type]),
                       ("{vex3} " if vex else "") + op + " $2, $1, $0", "=x,x,x" if vex else "=v,v,v",
                       [first, second], side_effect=False)


def _make_block(px: int, isa: str = "avx512"):
    """An intrinsic ``block(xrow, offs, taps, w, pix, init, out, out_pix, lo, hi)`` (addresses
    and strides in bytes, as intp; ``lo``/``hi`` float32): for pixel ``i < px`` and lane ``j < 16``,
    ``a = init[j]``, then for each tap ``t`` in order ``a = a + x[xrow + i * pix + offs[t] + 4 j] * w[64 t + 4 j]``
    (``offs[t]`` the address of tap ``t``'s input at pixel 0, ``xrow`` the pixel's byte offset)
    (float32 IEEE operations, no contraction), clamped to ``[lo, hi]`` (NaN kept) and stored at
    ``out[i * out_pix + 4 j]``. ``isa="avx2"``: the same operations lane by lane on 8-lane
    registers, each 16-channel block as two halves of 32 bytes."""
    parts = 1 if isa == "avx512" else 2          # registers per 16-channel block
    vec = ir.VectorType(_F32, LANES // parts)
    width = 4 * LANES // parts                   # bytes per register

    def block(typingctx, xrow, offs, taps, w, pix, init, out, out_pix, lo, hi):
        sig = types.void(*([_ADDR] * 8), types.float32, types.float32)

        def codegen(context, builder, signature, args):
            xrow, offs, taps, w, pix, init, out, out_pix, lo, hi = args

            def const(v):
                return ir.Constant(_I64, v)

            def load(address, part=0):
                return builder.load(builder.inttoptr(builder.add(address, const(width * part)), vec.as_pointer()),
                                    align=1)

            start = [load(init, h) for h in range(parts)]
            bases = [builder.add(xrow, builder.mul(pix, const(i))) for i in range(px)]

            def tap(t, accs):  # accs: pixel i's part h at parts * i + h
                off = builder.load(builder.inttoptr(builder.add(offs, builder.mul(t, const(8))), _I64.as_pointer()),
                                   align=8)
                wt = builder.add(w, builder.mul(t, const(4 * LANES)))
                wv = [load(wt, h) for h in range(parts)]
                return [_ordered(builder, "vaddps", accs[parts * i + h],
                                 _ordered(builder, "vmulps", load(builder.add(bases[i], off), h), wv[h]))
                        for i in range(px) for h in range(parts)]

            final = counted_accumulation(builder, taps, start * px, tap, "dwf")
            undef = ir.Constant(vec, ir.Undefined)
            splat = ir.Constant(ir.VectorType(ir.IntType(32), LANES // parts), [0] * (LANES // parts))
            lo_v = builder.shuffle_vector(builder.insert_element(undef, lo, ir.Constant(ir.IntType(32), 0)),
                                          undef, splat)
            hi_v = builder.shuffle_vector(builder.insert_element(undef, hi, ir.Constant(ir.IntType(32), 0)),
                                          undef, splat)
            for k, phi in enumerate(final):
                i, h = divmod(k, parts)
                # if v < lo: lo elif v > hi: hi (ordered compares: NaN is neither)
                v = builder.select(builder.fcmp_ordered("<", phi, lo_v), lo_v, phi)
                v = builder.select(builder.fcmp_ordered(">", v, hi_v), hi_v, v)
                target = builder.add(builder.add(out, builder.mul(out_pix, const(i))), const(width * h))
                builder.store(v, builder.inttoptr(target, vec.as_pointer()), align=1)
            return context.get_dummy_value()
        return sig, codegen
    return intrinsic(block)


_block = _make_block(PX)
_block_1 = _make_block(1)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _padded_row(x, b, iy, pl, dest):
    """dest[Wp, Cpad] = input row ``iy`` of image ``b`` at columns ``ix + pl``, +0.0 elsewhere."""
    h, wd, c = x.shape[1], x.shape[2], x.shape[3]
    wp, cpad = dest.shape
    if iy < 0 or iy >= h:
        dest[:, :] = 0.0
        return
    lo = min(wp, max(0, pl))           # first padded column holding an input pixel
    hi = max(lo, min(wp, wd + pl))     # one past the last
    for col in range(lo):
        dest[col, :] = 0.0
    for col in range(hi, wp):
        dest[col, :] = 0.0
    if lo == hi:
        return
    xr = x[b, iy]
    if cpad == c:
        n = (hi - lo) * c
        df = dest.reshape(wp * cpad)[lo * c:lo * c + n]
        sf = xr.reshape(wd * c)[(lo - pl) * c:(lo - pl) * c + n]
        for j in range(n):
            df[j] = sf[j]
        return
    for col in range(lo, hi):
        d = dest[col]
        s = xr[col - pl]
        for ch in range(c):
            d[ch] = s[ch]
        for ch in range(c, cpad):
            d[ch] = 0.0


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _edge_pixel(x, b, iy0, ix0, dh, dw, wt, init, lo, hi, acc, orow_px):
    """One output pixel the scalar way, all channels: ``init``, then per tap in order
    ``acc + x * w`` (``0 * w`` for a tap outside the image), the clamp (the reference's order;
    the channel loops vectorise, each lane its own sequence)."""
    h, wd, c = x.shape[1], x.shape[2], x.shape[3]
    kh, kw = wt.shape[0], wt.shape[1]
    zero = np.float32(0.0)
    for ch in range(c):
        acc[ch] = init[ch]
    for ky in range(kh):
        iy = iy0 + ky * dh
        for kx in range(kw):
            ix = ix0 + kx * dw
            wk = wt[ky, kx]
            if 0 <= iy < h and 0 <= ix < wd:
                xp = x[b, iy, ix]
                for ch in range(c):
                    acc[ch] = acc[ch] + xp[ch] * wk[ch]
            else:
                for ch in range(c):
                    acc[ch] = acc[ch] + zero * wk[ch]
    for ch in range(c):
        v = acc[ch]
        if v < lo:
            v = lo
        elif v > hi:
            v = hi
        orow_px[ch] = v


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _blocks(base, offs, taps, w0, pix, i0, d0, d_pix, cblocks, ox0, ox1, lo, hi):
    """The block steps of output pixels ``ox0..ox1`` of a row, every channel block."""
    n_full = (ox1 - ox0) // PX * PX
    for cb in range(cblocks):
        xc = base + 4 * LANES * cb
        wc = w0 + taps * 4 * LANES * cb
        ic = i0 + 4 * LANES * cb
        dc = d0 + 4 * LANES * cb
        for ox in range(ox0, ox0 + n_full, PX):
            _block(xc + ox * pix, offs, taps, wc, pix, ic, dc + ox * d_pix, d_pix, lo, hi)
        for ox in range(ox0 + n_full, ox1):
            _block_1(xc + ox * pix, offs, taps, wc, pix, ic, dc + ox * d_pix, d_pix, lo, hi)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _rows(x, b, wpk, wt, cols, rows, init, lo, hi, oy0, oy1, sh, sw, dh, dw, pt, pl, ring, offs, buf, out):
    """The output rows ``oy0..oy1`` of image ``b``. With C a multiple of 16, a row whose taps
    all lie on image rows reads the input in place: the block steps on the pixels whose taps
    all lie inside, :func:`_edge_pixel` on the others. Other rows: padded rows built once
    each into ``ring`` (``span`` = (KH-1)*DH+1 slots) as the windows move down, then the block
    steps on every pixel."""
    span, _, cpad = ring.shape
    h, wd = x.shape[1], x.shape[2]
    kh, kw = wt.shape[0], wt.shape[1]
    taps = np.intp(offs.shape[0])
    ow, oc = out.shape[2], out.shape[3]
    row_bytes = np.intp(ring.strides[0])
    ring_pix = np.intp(sw) * np.intp(ring.strides[1])
    direct = cpad == oc
    cblocks = cpad // LANES
    r0 = np.intp(ring.ctypes.data)
    w0 = np.intp(wpk.ctypes.data)
    i0 = np.intp(init.ctypes.data)
    o0 = np.intp(offs.ctypes.data)
    acc = np.empty(cpad, np.float32)
    # the output columns whose taps all lie inside the input row: [in_lo, in_hi)
    in_lo = min(ow, (pl + sw - 1) // sw)
    last = wd - 1 - (kw - 1) * dw + pl
    in_hi = max(in_lo, min(ow, last // sw + 1)) if last >= 0 else in_lo
    built = oy0 * sh - 1  # the last padded row in the ring
    for oy in range(oy0, oy1):
        first = oy * sh
        iy0 = first - pt
        if direct and iy0 >= 0 and iy0 + (kh - 1) * dh < h and in_hi > in_lo:
            orow = out[b, oy]
            x_row0 = np.intp(x[b].ctypes.data)
            x_row_bytes = np.intp(x.strides[1])
            x_px = np.intp(x.strides[2])
            for t in range(taps):
                offs[t] = x_row0 + (iy0 + rows[t]) * x_row_bytes + (cols[t] // (4 * cpad)) * x_px - pl * x_px
            d0 = np.intp(orow.ctypes.data)
            d_pix = np.intp(orow.strides[0])
            _blocks(0, o0, taps, w0, np.intp(sw) * x_px, i0, d0, d_pix, cblocks, in_lo, in_hi, lo, hi)
            for ox in range(ow):
                if ox < in_lo or ox >= in_hi:
                    _edge_pixel(x, b, iy0, ox * sw - pl, dh, dw, wt, init, lo, hi, acc, orow[ox])
            continue
        for r in range(max(built + 1, first), first + span):
            _padded_row(x, b, r - pt, pl, ring[r % span])
        built = first + span - 1
        for t in range(taps):
            offs[t] = r0 + (first + rows[t]) % span * row_bytes + cols[t]
        dst = out[b, oy] if direct else buf
        _blocks(0, o0, taps, w0, ring_pix, i0, np.intp(dst.ctypes.data), np.intp(dst.strides[0]), cblocks,
                0, ow, lo, hi)
        if not direct:
            orow = out[b, oy]
            for ox in range(ow):
                for ch in range(oc):
                    orow[ox, ch] = buf[ox, ch]


def depthwise_float_simd(x, wpk, wt, cols, rows, init, lo, hi, out, span, wp, sh, sw, dh, dw, pt, pl, threads):
    """Float DEPTHWISE_CONV_2D (multiplier 1). x [N,H,W,C] float32 (C-contiguous); ``wpk``, ``cols``,
    ``rows`` from :func:`pack_weights` / :func:`tap_offsets`; ``wt`` the weights [KH, KW, C]; ``init`` [Cpad] (bias or -0.0, 0 past C);
    ``span``, ``wp`` the ring's rows and padded width (:func:`ring_shape`); out [N,OH,OW,C].
    Bands of output rows are independent (each builds its own ring): the parallel twin splits
    them in ``threads`` bands."""
    n = x.shape[0]
    oh, ow = out.shape[1], out.shape[2]
    cpad = wpk.shape[0] * LANES
    bands, per = row_bands(oh, threads)
    for job in prange(n * bands):
        b, oy0, oy1 = band_of(job, bands, per, oh)
        if oy0 < oy1:
            ring = np.empty((span, wp, cpad), np.float32)
            offs = np.empty(cols.shape[0], np.intp)
            buf = np.empty((ow, cpad), np.float32)
            _rows(x, b, wpk, wt, cols, rows, init, lo, hi, oy0, oy1, sh, sw, dh, dw, pt, pl, ring, offs, buf, out)



depthwise_float_simd, depthwise_float_simd_parallel = _twins(depthwise_float_simd, boundscheck=False)

AVX2_PX = 4  # output pixels per AVX2 block step: 8 ymm accumulators of the 16 registers


# this module's globals with the AVX2 block steps in place of the AVX-512 ones, for the drivers' variants
_AVX2 = variant_namespace(globals(), "_avx2", ("_blocks", "_rows"), PX=AVX2_PX,
                          _block=_make_block(AVX2_PX, "avx2"), _block_1=_make_block(1, "avx2"))
# each block-step set's (depthwise_float_simd, its parallel twin)
KERNELS = {"avx512": (depthwise_float_simd, depthwise_float_simd_parallel),
           "avx2": tuple(_twins(depthwise_float_simd.py_func, "depthwise_float_simd_avx2", _AVX2,
                                boundscheck=False))}


def padded_channels(channels: int) -> int:
    """Channels up to a multiple of 16 (the lanes of one block step)."""
    return (channels + LANES - 1) // LANES * LANES


def pack_weights(w: np.ndarray) -> np.ndarray:
    """float32 ``[Cpad / 16, KH * KW, 16]`` of weights ``w`` [KH, KW, C]: tap ``ky * KW + kx`` of
    channel block ``cb`` (0 past C)."""
    kh, kw, c = w.shape
    cpad = padded_channels(c)
    full = np.zeros((kh * kw, cpad), np.float32)
    full[:, :c] = np.asarray(w, np.float32).reshape(kh * kw, c)
    return np.ascontiguousarray(full.reshape(kh * kw, cpad // LANES, LANES).transpose(1, 0, 2))


def padded_init(init: np.ndarray) -> np.ndarray:
    """float32 [Cpad]: ``init`` then zeros."""
    full = np.zeros(padded_channels(init.shape[0]), np.float32)
    full[:init.shape[0]] = init
    return full


def tap_offsets(kh: int, kw: int, dh: int, dw: int, cpad: int) -> tuple[np.ndarray, np.ndarray]:
    """(cols, rows): per tap in order, its byte offset in a padded row and its row in the ring."""
    cols = np.array([4 * cpad * kx * dw for _ in range(kh) for kx in range(kw)], np.intp)
    rows = np.array([ky * dh for ky in range(kh) for _ in range(kw)], np.intp)
    return cols, rows


def ring_shape(kh: int, kw: int, dh: int, dw: int, sw: int, ow: int) -> tuple[int, int]:
    """(span, Wp): the ring's rows and the padded row width the taps read."""
    return (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1


def simd_isa() -> str | None:
    """The block steps this host runs: ``"avx512"`` (AVX-512F), ``"avx2"`` (:func:`.isa.usable`:
    CPUs without AVX-512F, or ``EDGELITE_FAST_ISA=avx2``), or None with
    ``EDGELITE_FAST_DW_SIMD=0`` or neither (``_compiled.depthwise_float`` then runs)."""
    from .isa import depthwise_blocks_off
    return None if depthwise_blocks_off() else _host_isa()


def simd_available() -> bool:
    """Whether this module's kernel can run here (:func:`simd_isa`)."""
    return simd_isa() is not None


def _host_isa() -> str | None:
    from .isa import usable
    return "avx512" if usable("avx512f") else "avx2" if usable("avx2") else None


if _host_isa() == "avx2":  # the callers' names serve the AVX2 block steps on such hosts
    depthwise_float_simd, depthwise_float_simd_parallel = KERNELS["avx2"]  # noqa: F811
