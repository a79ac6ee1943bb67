"""The exact 8-bit GEMM of the compiled tier: AVX-512 VNNI ``vpdpbusd`` (or AVX2 ``vpmaddwd``) tiles, numba driven.

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
* CPUs with AVX2 but not AVX-512 VNNI (most laptops and desktops before 2021, AMD Zen 2/3)
  get the same drivers over AVX2 tiles (:func:`int_gemm_isa`; ``EDGELITE_FAST_ISA=avx2``
  forces them): ``vpmaddwd`` multiplies int16 pairs, so the driver stages each ``MR``-row
  block flipped to uint8 and widened to int16 (whole depth groups, zeros past ``K``), the tile
  broadcasts each pair from memory and meets 8 channels x 2 depths of ``B``
  (:func:`pack_weights_avx2`, int16) in one ``vpmaddwd`` (16 multiply-adds, exact: pair sums
  of at most ``2 * 255 * 128``), 4 rows x 16 channels a tile (8 ymm accumulators of 16
  registers). The AVX2 drivers are the VNNI ones' code compiled over the AVX2 tiles
  (``_compiled.renamed``), with their own cache entries.
* Used only when the host CPU has AVX-512 F/BW/VNNI (:func:`vnni_available`) or AVX2, and
  numba compiles for the host; elsewhere the float32 BLAS path runs. Compiled with
  ``cache=True``: numba's cache key includes the CPU name and features.

Measured at one thread on the reference machine (AMD EPYC Zen 4), GEMM alone against the
float32 conversion + ``np.matmul`` it replaces: 3.8-5.7x faster on the CONV_2D shapes of
mobilenet_v2_int8 / efficientnet_b0_int8 (e.g. 12544x16x96: 0.12 vs 0.49 ms); tiles of
4 rows x 32 channels (8 accumulators) were as fast as 8 x 32 and faster than 4 x 64 or
6 x 16. The AVX2 tiles on the same machine take about twice the VNNI time (12544x16x96:
0.24 ms; 3136x144x24: 0.15 vs 0.07 ms). See docs/kernels.md, "Where the tier stands".
"""
from __future__ import annotations

import os

import numba as nb
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ._compiled import INLINE_FLAGS, _twins, renamed, requantize, variant_namespace
from .isa import runs_here, usable
from ._llvm_loops import counted_accumulation

MR = 4          # rows of A per tile
NV = 2          # 16-channel int32 vectors per tile row
LANES = 16
AVX2_LANES = 8  # int32 lanes of the AVX2 tile
MAX_DEPTH = ((1 << 31) - 1) // (4 * 255 * 128) * 4  # exact int32 sums of 4-product steps
BLOCK_BYTES = 1 << 15  # int32 results per row block, requantized while in L1

_I32, _I64 = ir.IntType(32), ir.IntType(64)
_ADDR = types.intp


def _make_tile(mr: int, nv: int, isa: str = "vnni"):
    """An intrinsic ``tile(a, lda, b, ldb, k4, c, ldc, tails, flip)`` (addresses and strides in
    bytes, as intp): ``C[r, L*v + j] = sum_g (A[r, 4g:4g+4] ^ flip) . B[g, L*v + j, :]`` for
    ``r < mr``, ``v < nv``, ``g < k4``, plus group ``k4`` with the word ``tails[r]`` when
    ``tails`` is not 0; the accumulators live in registers, ``C`` is written once.

    ``isa="vnni"``: L = 16 int32 lanes, one ``vpdpbusd`` per row and vector against 64 bytes
    of ``B`` (:func:`pack_weights`). ``isa="avx2"``: L = 8 lanes, the row's four bytes are
    zero-extended into two int16 pairs and each meets one 32-byte half of the vector's 64
    bytes of ``B`` (:func:`pack_weights_avx2`) in ``vpmaddwd``, summed with ``vpaddd``."""
    lanes = LANES if isa == "vnni" else AVX2_LANES
    vec = ir.VectorType(_I32, lanes)

    @intrinsic
    def tile(typingctx, a, lda, b, ldb, k4, c, ldc, tails, flip):
        sig = types.void(_ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR, types.int32)

        def codegen(context, builder, signature, args):
            a, lda, b, ldb, k4, c, ldc, tails, flip = args
            zero = ir.Constant(vec, None)
            undef = ir.Constant(vec, ir.Undefined)
            lane0 = ir.Constant(_I32, 0)
            splat_mask = ir.Constant(vec, [0] * lanes)
            if isa == "vnni":
                dot = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vec, [vec, vec, vec]),
                                                     "llvm.x86.avx512.vpdpbusd.512")
            else:
                pairs = ir.VectorType(ir.IntType(16), 2 * lanes)
                madd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vec, [pairs, pairs]),
                                                      "llvm.x86.avx2.pmadd.wd")

            def const(v):
                return ir.Constant(_I64, v)

            def addr(base, *terms):
                for t in terms:
                    base = builder.add(base, t)
                return base

            def splat(word):
                return builder.shuffle_vector(builder.insert_element(undef, word, lane0), undef, splat_mask)

            def load(address, vtype):
                return builder.load(builder.inttoptr(address, vtype.as_pointer()), align=1)

            def step(accs, b_row, words):
                out = []
                if isa == "vnni":
                    bvec = [load(addr(b_row, const(64 * v)), vec) for v in range(nv)]
                    for r in range(mr):
                        s = splat(builder.xor(words[r], flip))
                        out.extend(builder.call(dot, [accs[r * nv + v], s, bvec[v]]) for v in range(nv))
                    return out
                halves = [[load(addr(b_row, const(64 * v + 32 * h)), pairs) for h in range(2)] for v in range(nv)]
                for r in range(mr):  # each staged int16 pair in every lane
                    sides = [builder.bitcast(splat(words[r][h]), pairs) for h in range(2)]
                    for v in range(nv):
                        acc = accs[r * nv + v]
                        for h in range(2):
                            acc = builder.add(acc, builder.call(madd, [sides[h], halves[v][h]]))
                        out.append(acc)
                return out

            def word(address):
                return builder.load(builder.inttoptr(address, _I32.as_pointer()), align=1)

            def group(g, accs):
                rows = [addr(a, builder.mul(lda, const(r))) for r in range(mr)]
                if isa == "vnni":
                    words = [word(addr(row, builder.mul(g, const(4)))) for row in rows]
                else:  # two int16 pairs a row, staged
                    words = [[word(addr(row, builder.mul(g, const(8)), const(4 * h))) for h in range(2)]
                             for row in rows]
                return step(accs, addr(b, builder.mul(g, ldb)), words)

            final = counted_accumulation(builder, k4, [zero] * (mr * nv), group, "tile")
            if isa == "vnni":  # the rows' last depth % 4 bytes, when there are
                done = builder.basic_block
                with builder.if_then(builder.icmp_unsigned("!=", tails, const(0))):
                    tail_words = [builder.load(builder.inttoptr(addr(tails, const(4 * r)), _I32.as_pointer()),
                                               align=4) for r in range(mr)]
                    tailed = step(final, addr(b, builder.mul(k4, ldb)), tail_words)
                    tail_block = builder.basic_block
                joined = []
                for before, after in zip(final, tailed):
                    phi = builder.phi(vec)
                    phi.add_incoming(before, done)
                    phi.add_incoming(after, tail_block)
                    joined.append(phi)
                final = joined
            for r in range(mr):
                for v in range(nv):
                    target = addr(c, builder.mul(ldc, const(r)), const(4 * lanes * v))
                    builder.store(final[r * nv + v], builder.inttoptr(target, vec.as_pointer()), align=1)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile = _make_tile(MR, NV)
_tile_16 = _make_tile(MR, 1)      # the last 16 channels when Npad is not a multiple of 32
_row_tile = _make_tile(1, NV)     # the rows past the last multiple of MR
_row_tile_16 = _make_tile(1, 1)


@nb.njit(**INLINE_FLAGS)
def _stage_buffer(depth):
    """Per-block scratch of :func:`_stage_rows`: the VNNI tiles' tail word of each row."""
    return np.zeros(MR, np.int32)


@nb.njit(**INLINE_FLAGS)
def _stage_rows(a, m, mr, depth, flip, stage):
    """Rows ``m .. m+mr`` of ``a`` as the tiles read them: ``(address, row stride, tail words'
    address or 0, depth groups, flip)``. The VNNI tiles read the rows in place and take their
    last ``depth % 4`` bytes (past the last whole group) as one word a row in ``stage``."""
    k4 = np.intp(depth // 4)
    rem = depth - 4 * k4
    if rem:
        for r in range(mr):
            word = np.int32(0)
            for j in range(rem):
                word |= (np.int32(a[m + r, 4 * k4 + j]) & 0xFF) << (8 * j)
            stage[r] = word
    tails = np.intp(stage.ctypes.data) if rem else np.intp(0)
    return np.intp(a.ctypes.data) + m * np.intp(a.strides[0]), np.intp(a.strides[0]), tails, k4, flip


@nb.njit(**INLINE_FLAGS)
def _stage_buffer_pairs(depth):
    """The AVX2 variant's :func:`_stage_buffer`: ``MR`` rows widened to int16, zero past ``depth``."""
    return np.zeros((MR, 4 * ((depth + 3) // 4)), np.int16)


@nb.njit(**INLINE_FLAGS)
def _stage_rows_pairs(a, m, mr, depth, flip, stage):
    """The AVX2 variant's :func:`_stage_rows`: the rows flipped to uint8 and widened to int16 in
    ``stage`` (whole groups: the zeros past ``depth`` meet zero rows of B), so that the tile
    broadcasts each int16 pair straight from memory; no tail words, no flip left to apply."""
    low = flip & 0xFF
    for r in range(mr):
        for j in range(depth):
            stage[r, j] = (np.int32(a[m + r, j]) ^ low) & 0xFF
    return np.intp(stage.ctypes.data), np.intp(stage.strides[0]), np.intp(0), np.intp(stage.shape[1] // 4), \
        np.int32(0)


@nb.njit(**INLINE_FLAGS)
def _gemm_rows(a, bp, depth, flip, m0, m1, c, stage):
    """c[0:m1-m0, :Npad] = a[m0:m1, :depth] . B (int32) with ``bp`` from :func:`pack_weights`."""
    npad = bp.shape[1]
    ldb = np.intp(bp.strides[0])      # bytes of one depth group
    bpc = ldb // npad                 # ... per output channel: 4 (int8 quads) or 8 (int16 pairs)
    ldc = np.intp(c.strides[0])
    b0 = np.intp(bp.ctypes.data)
    c0 = np.intp(c.ctypes.data)
    wide = npad // (LANES * NV) * (LANES * NV)
    for m in range(m0, m1, MR):
        mr = min(MR, m1 - m)
        am, lda, t0, k4, fl = _stage_rows(a, m, mr, depth, flip, stage)
        cm = c0 + (m - m0) * ldc
        if mr == MR:
            for n in range(0, wide, LANES * NV):
                _tile(am, lda, b0 + bpc * n, ldb, k4, cm + 4 * n, ldc, t0, fl)
            for n in range(wide, npad, LANES):
                _tile_16(am, lda, b0 + bpc * n, ldb, k4, cm + 4 * n, ldc, t0, fl)
        else:
            for r in range(mr):
                tr = t0 + 4 * r if t0 else np.intp(0)
                for n in range(0, wide, LANES * NV):
                    _row_tile(am + r * lda, lda, b0 + bpc * n, ldb, k4, cm + r * ldc + 4 * n, ldc, tr, fl)
                for n in range(wide, npad, LANES):
                    _row_tile_16(am + r * lda, lda, b0 + bpc * n, ldb, k4, cm + r * ldc + 4 * n, ldc, tr, fl)


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
        stage = _stage_buffer(depth)
        _gemm_rows(a, bp, depth, flip, m0, m1, c, stage)
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
    _gemm_rows(a, bp, depth, flip, 0, a.shape[0], out, _stage_buffer(depth))



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


def pack_weights_avx2(b: np.ndarray) -> np.ndarray:
    """The AVX2 tile's layout of integer ``b`` [K, N] (values in [-128, 127]): int16, per depth
    group of four and block of 8 channels, the pairs ``(b[4g, n], b[4g+1, n])`` of the 8
    channels, then ``(b[4g+2, n], b[4g+3, n])``; returned with shape ``[ceil(K/4), Npad, 4]``
    (8 bytes a channel a group; Npad: N up to a multiple of 16), zeros past K and N."""
    depth, n = b.shape
    groups = (depth + 3) // 4
    npad = (n + LANES - 1) // LANES * LANES
    full = np.zeros((groups * 4, npad), np.int16)
    full[:depth, :n] = b
    # [g, h, j, block, c] -> [g, block, h, c, j]
    blocks = full.reshape(groups, 2, 2, npad // AVX2_LANES, AVX2_LANES).transpose(0, 3, 1, 4, 2)
    return np.ascontiguousarray(blocks).reshape(groups, npad, 4)


# this module's globals with the AVX2 tiles in place of the VNNI ones, for the drivers' variants
_AVX2 = variant_namespace(globals(), "_avx2", ("_gemm_rows",), LANES=AVX2_LANES,
                          _tile=_make_tile(MR, NV, "avx2"), _tile_16=_make_tile(MR, 1, "avx2"),
                          _row_tile=_make_tile(1, NV, "avx2"), _row_tile_16=_make_tile(1, 1, "avx2"),
                          _stage_buffer=_stage_buffer_pairs, _stage_rows=_stage_rows_pairs)
gemm_requantize_avx2, gemm_requantize_avx2_parallel = _twins(gemm_requantize.py_func, "gemm_requantize_avx2",
                                                             _AVX2, boundscheck=False)
gemm_int32_avx2 = renamed(gemm_int32.py_func, "gemm_int32_avx2", _AVX2, cache=True, error_model="numpy",
                          boundscheck=False)


def _gemm_off() -> bool:
    return os.environ.get("EDGELITE_FAST_INT_GEMM", "").strip() == "0"


def vnni_available() -> bool:
    """Whether the VNNI tiles can run: the host has AVX-512 F, BW and VNNI and numba compiles
    for it (:func:`.isa.usable`: not under ``EDGELITE_FAST_ISA=avx2``), and
    ``EDGELITE_FAST_INT_GEMM`` is not ``0`` (which keeps the float32 BLAS path)."""
    return not _gemm_off() and usable("avx512f", "avx512bw", "avx512vnni")


def int_gemm_isa() -> str | None:
    """The integer GEMM this host runs: ``"vnni"``, ``"avx2"`` (AVX2 CPUs without AVX-512
    VNNI, or ``EDGELITE_FAST_ISA=avx2``), or None (the float32 BLAS path)."""
    if vnni_available():
        return "vnni"
    if not _gemm_off() and usable("avx2"):
        return "avx2"
    return None


# each tile set's (pack_weights, gemm_int32, gemm_requantize, gemm_requantize_parallel)
KERNELS = {"vnni": (pack_weights, gemm_int32, gemm_requantize, gemm_requantize_parallel),
           "avx2": (pack_weights_avx2, gemm_int32_avx2, gemm_requantize_avx2, gemm_requantize_avx2_parallel)}


def tiles_run_here(isa: str) -> bool:
    """Whether ``KERNELS[isa]`` can run on this CPU (whichever one :func:`int_gemm_isa` picks)."""
    return runs_here(*(("avx512f", "avx512bw", "avx512vnni") if isa == "vnni" else ("avx2",)))


if int_gemm_isa() == "avx2":  # the callers' names serve the AVX2 tiles on such hosts
    pack_weights, gemm_int32, gemm_requantize, gemm_requantize_parallel = KERNELS["avx2"]  # noqa: F811
