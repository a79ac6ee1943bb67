"""The exact 8-bit GEMM of the compiled tier: AVX-512 VNNI ``vpdpbusd`` tiles, numba driven.

``gemm_requantize`` computes ``C[M, N] = A[M, K] . B[K, N]`` in int32 for 8-bit rows ``A``
(int8 or uint8: the im2col rows or the input itself) and int8 weights ``B`` (zero point
already removed), then requantizes each block of rows while it is still in cache, writing
the 8-bit output directly (the arithmetic of ``_compiled.requantize_rows[_merged]``, the
float path's epilogue, so the results are bit-exact; written out on 2-D indices of the
C-contiguous block: called on sliced views, numba's 'A'-layout copies of those loops did
not vectorise and took 3.5 ms instead of 0.2 ms on 12544 x 96).

* numba exposes no SIMD intrinsics and LLVM does not turn a broadcast times a vector of
  8- or 16-bit integers into ``vpmaddwd`` / ``vpdpbusd`` (a plain loop nest over the output
  channels compiles to ``vpmovsxwd`` + ``vpmulld``: 3x slower than float32 BLAS; the
  dot-product form reaches ``vpmaddwd`` but loses on horizontal sums). The tile is
  therefore written in LLVM IR (``numba.extending.intrinsic``): a loop over depth groups
  of four keeping ``MR x NV`` 16-lane int32 accumulators in registers; each step
  broadcasts four bytes of a row of ``A`` and calls ``llvm.x86.avx512.vpdpbusd.512``
  (64 multiply-adds) against 64 bytes of ``B``.
* ``vpdpbusd`` multiplies unsigned by signed bytes: int8 rows are flipped to uint8
  (``a ^ 0x80 = a + 128``) inside the tile, the caller subtracts ``128 * sum_k B[k, n]``
  through the per-channel offset. Each step adds four products of at most ``255 * 128`` to
  an int32 without saturation: exact while ``K <= MAX_DEPTH``.
* ``B`` is packed once (:func:`pack_weights`) as ``[ceil(K/4), Npad, 4]`` int8, channels
  padded to a multiple of 16 and depth to a multiple of 4 with zeros. A row's last
  ``K % 4`` values (the tile never reads past ``K``) are gathered by the driver into one
  word per row; the zero rows of ``B`` cancel the padding bytes.
* Used only when the host CPU has AVX-512 F/BW/VNNI (:func:`vnni_available`) and numba
  compiles for the host; elsewhere the float32 BLAS path runs. Compiled with
  ``cache=True``: numba's cache key includes the CPU name and features.

Measured at one thread on the reference machine (AMD EPYC Zen 4), GEMM alone against the
float32 conversion + ``np.matmul`` it replaces: 3.8-5.7x faster on the CONV_2D shapes of
mobilenet_v2_int8 / efficientnet_b0_int8 (e.g. 12544x16x96: 0.12 vs 0.49 ms); tiles of
4 rows x 32 channels (8 accumulators) were as fast as 8 x 32 and faster than 4 x 64 or
6 x 16. See docs/kernels.md, "Where the tier stands".
"""
from __future__ import annotations

import os

import numba as nb
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._compiled import _twins, requantize
from ._llvm_loops import counted_accumulation

MR = 4          # rows of A per tile
NV = 2          # 16-channel int32 vectors per tile row
LANES = 16
MAX_DEPTH = ((1 << 31) - 1) // (4 * 255 * 128) * 4  # exact int32 sums of 4-product steps
BLOCK_BYTES = 1 << 15  # int32 results per row block, requantized while in L1

_I32, _I64 = ir.IntType(32), ir.IntType(64)
_V16 = ir.VectorType(_I32, LANES)
_ADDR = types.intp


def _make_tile(mr: int, nv: int):
    """An intrinsic ``tile(a, lda, b, ldb, k4, c, ldc, tails, flip)`` (addresses and strides in
    bytes, as intp): ``C[r, 16v + j] = sum_g dpbusd(A[r, 4g:4g+4] ^ flip, B[g, 16v + j, :])``
    for ``r < mr``, ``v < nv``, ``g < k4``, plus group ``k4`` with the word ``tails[r]`` when
    ``tails`` is not 0; the accumulators live in registers, ``C`` is written once."""

    @intrinsic
    def tile(typingctx, a, lda, b, ldb, k4, c, ldc, tails, flip):
        sig = types.void(_ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, types.int32)

        def codegen(context, builder, signature, args):
            a, lda, b, ldb, k4, c, ldc, tails, flip = args
            dot = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V16, [_V16, _V16, _V16]),
                                                 "llvm.x86.avx512.vpdpbusd.512")
            zero = ir.Constant(_V16, None)
            undef = ir.Constant(_V16, ir.Undefined)
            lane0 = ir.Constant(_I32, 0)
            splat_mask = ir.Constant(_V16, [0] * LANES)

            def const(v):
                return ir.Constant(_I64, v)

            def addr(base, *terms):
                for t in terms:
                    base = builder.add(base, t)
                return base

            def step(accs, b_row, words):
                bvec = [builder.load(builder.inttoptr(addr(b_row, const(64 * v)), _V16.as_pointer()), align=1)
                        for v in range(nv)]
                out = []
                for r in range(mr):
                    word = builder.xor(words[r], flip)
                    s = builder.shuffle_vector(builder.insert_element(undef, word, lane0), undef, splat_mask)
                    out.extend(builder.call(dot, [accs[r * nv + v], s, bvec[v]]) for v in range(nv))
                return out

            def group(g, accs):
                words = [builder.load(builder.inttoptr(addr(a, builder.mul(lda, const(r)), builder.mul(g, const(4))),
                                                       _I32.as_pointer()), align=1) for r in range(mr)]
                return step(accs, addr(b, builder.mul(g, ldb)), words)

            summed = counted_accumulation(builder, k4, [zero] * (mr * nv), group, "tile")
            done = builder.basic_block
            with builder.if_then(builder.icmp_unsigned("!=", tails, const(0))):
                tail_words = [builder.load(builder.inttoptr(addr(tails, const(4 * r)), _I32.as_pointer()), align=4)
                              for r in range(mr)]
                tailed = step(summed, addr(b, builder.mul(k4, ldb)), tail_words)
                tail_block = builder.basic_block
            final = []
            for before, after in zip(summed, tailed):
                phi = builder.phi(_V16)
                phi.add_incoming(before, done)
                phi.add_incoming(after, tail_block)
                final.append(phi)
            for r in range(mr):
                for v in range(nv):
                    target = addr(c, builder.mul(ldc, const(r)), const(64 * v))
                    builder.store(final[r * nv + v], builder.inttoptr(target, _V16.as_pointer()), align=1)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _make_tile(MR, NV)
_tile_16 = _make_tile(MR, 1)      # the last 16 channels when Npad is not a multiple of 32
_row_tile = _make_tile(1, NV)     # the rows past the last multiple of MR
_row_tile_16 = _make_tile(1, 1)


@nb.njit(cache=True, inline="always", error_model="numpy", boundscheck=False)
def _gemm_rows(a, bp, depth, flip, m0, m1, c, tails):
    """c[0:m1-m0, :Npad] = a[m0:m1, :depth] . B (int32) with ``bp`` from :func:`pack_weights`."""
    k4 = np.intp(depth // 4)
    rem = depth - 4 * k4
    npad = bp.shape[1]
    ldb = np.intp(npad * 4)
    lda = np.intp(a.strides[0])
    ldc = np.intp(c.strides[0])
    a0 = np.intp(a.ctypes.data) + m0 * lda
    b0 = np.intp(bp.ctypes.data)
    c0 = np.intp(c.ctypes.data)
    t0 = np.intp(tails.ctypes.data) if rem else np.intp(0)
    wide = npad // (LANES * NV) * (LANES * NV)
    for m in range(m0, m1, MR):
        mr = min(MR, m1 - m)
        if rem:
            for r in range(mr):
                word = np.int32(0)
                for j in range(rem):
                    word |= (np.int32(a[m + r, 4 * k4 + j]) & 0xFF) << (8 * j)
                tails[r] = word
        am = a0 + (m - m0) * lda
        cm = c0 + (m - m0) * ldc
        if mr == MR:
            for n in range(0, wide, LANES * NV):
                _tile(am, lda, b0 + 4 * n, ldb, k4, cm + 4 * n, ldc, t0, flip)
            for n in range(wide, npad, LANES):
                _tile_16(am, lda, b0 + 4 * n, ldb, k4, cm + 4 * n, ldc, t0, flip)
        else:
            for r in range(mr):
                tr = t0 + 4 * r if rem else np.intp(0)
                for n in range(0, wide, LANES * NV):
                    _row_tile(am + r * lda, lda, b0 + 4 * n, ldb, k4, cm + r * ldc + 4 * n, ldc, tr, flip)
                for n in range(wide, npad, LANES):
                    _row_tile_16(am + r * lda, lda, b0 + 4 * n, ldb, k4, cm + r * ldc + 4 * n, ldc, tr, flip)


def gemm_requantize(a, bp, depth, flip, offset, merged, mults, shifts, ties, consts, totals, out_zp, lo, hi, out):
    """out[M, N] = requantize(a . B + offset) (8-bit): ``a`` [M, >= depth] int8/uint8 with unit
    inner stride, ``flip`` the int32 ``0x80808080`` for int8 rows (``offset`` then carries
    ``-128 * sum_k B``) or 0 for uint8; ``merged``: every channel takes
    ``requantize_rows_merged``'s rounding. Blocks of rows (one C block of BLOCK_BYTES each)
    are independent: the parallel twin splits them over numba's threads."""
    rows = a.shape[0]
    n = out.shape[1]
    npad = bp.shape[1]
    block = max(MR, min(rows, BLOCK_BYTES // (4 * npad)) // MR * MR)
    for bi in prange((rows + block - 1) // block):
        m0 = bi * block
        m1 = min(rows, m0 + block)
        c = np.empty((block, npad), np.int32)
        tails = np.zeros(MR, np.int32)
        _gemm_rows(a, bp, depth, flip, m0, m1, c, tails)
        if merged:
            for r in range(m1 - m0):
                for ch in range(n):
                    v = ((np.int64(c[r, ch]) + offset[ch]) * mults[ch] + consts[ch]) >> totals[ch]
                    out[m0 + r, ch] = min(max(v, lo), hi)
        else:
            for r in range(m1 - m0):
                for ch in range(n):
                    out[m0 + r, ch] = requantize(np.int64(c[r, ch]) + offset[ch], mults[ch], shifts[ch], ties[ch],
                                                 out_zp, lo, hi)


def gemm_int32(a, bp, depth, flip, out):
    """out[M, Npad] = a . B as int32 (no requantization; for tests and measurements)."""
    tails = np.zeros(MR, np.int32)
    _gemm_rows(a, bp, depth, flip, 0, a.shape[0], out, tails)



gemm_requantize, gemm_requantize_parallel = _twins(gemm_requantize, boundscheck=False)
gemm_int32 = nb.njit(cache=True, error_model="numpy", boundscheck=False)(gemm_int32)

SIGNED_FLIP = np.int32(np.uint32(0x80808080).view(np.int32))


def pack_weights(b: np.ndarray) -> np.ndarray:
    """int8 ``[ceil(K/4), Npad, 4]`` layout of integer ``b`` [K, N] (values in [-128, 127]):
    ``packed[g, n, j] = b[4g + j, n]``, zeros past K and N (Npad: N up to a multiple of 16)."""
    depth, n = b.shape
    groups = (depth + 3) // 4
    npad = (n + LANES - 1) // LANES * LANES
    full = np.zeros((groups * 4, npad), np.int8)
    full[:depth, :n] = b
    return np.ascontiguousarray(full.reshape(groups, 4, npad).transpose(0, 2, 1))


def vnni_available() -> bool:
    """Whether the VNNI tiles can run: the host CPU has AVX-512 F, BW and VNNI, numba compiles
    for the host (no ``NUMBA_CPU_NAME`` / ``NUMBA_CPU_FEATURES``; not ``NUMBA_DISABLE_JIT``: the
    tile has no Python form), and
    ``EDGELITE_FAST_INT_GEMM`` is not ``0`` (which keeps the float32 BLAS path)."""
    if os.environ.get("EDGELITE_FAST_INT_GEMM", "").strip() == "0":
        return False
    if nb.config.CPU_NAME or nb.config.CPU_FEATURES or nb.config.DISABLE_JIT:
        return False
    from llvmlite import binding
    features = binding.get_host_cpu_features()
    return all(features.get(f, False) for f in ("avx512f", "avx512bw", "avx512vnni"))
