"""int8/uint8 CONV_2D and FULLY_CONNECTED: a compiled im2col (windows of a non-pointwise
convolution, padding at the input zero point), an exact GEMM, then one compiled pass
that adds the bias and zero-point terms, requantizes, adds the output zero point and
clamps, writing the 8-bit output directly (the reference does it in several numpy passes
over int64 temporaries).

The GEMM is the integer tile of ``_compiled_gemm`` (AVX-512 VNNI, else AVX2) where the host
has one and the weights fit it (int8 after removing their zero point, depth <= ``MAX_DEPTH``,
one group): the 8-bit rows go in as they are (no float32 copy), the int32 results are
requantized block by block while in cache. Elsewhere (no AVX2, ``EDGELITE_FAST_INT_GEMM=0``,
uint8 weights with a zero point that leave int8, grouped convolutions) it is the exact
float32 BLAS GEMM on float copies of the 8-bit values (``int_gemm``): numba's plain
integer loops lose to BLAS, only the SIMD tiles beat it.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..conv import scratch_array, shared_scratch
from ..int_gemm import F32_EXACT, exact_matmul
from ..quantized_conv import (QuantizedConv2D, QuantizedFullyConnected, QuantizedTransposeConv, packed_once,
                              rows_view)
from . import FAST_PRIORITY, enabled
from .depthwise import merged_constants, requantizer_params
from .loader import compiled_module, run, run_from

_INT_GEMM = "_compiled_gemm"
_int_gemm_host: bool | None = None


def int_gemm_host() -> bool:
    """Whether the exact integer GEMM of ``_compiled_gemm`` runs here, on AVX-512 VNNI or AVX2
    tiles (``_compiled_gemm.int_gemm_isa``), looked up once."""
    global _int_gemm_host
    if _int_gemm_host is None:
        _int_gemm_host = compiled_module(_INT_GEMM).int_gemm_isa() is not None
    return _int_gemm_host


GEMM_SCRATCH_SLOT = 5  # the runtime's shared scratch slot for the float GEMM result
COLS_SCRATCH_SLOT = 1  # ... and for its left operand (the im2col matrix, as the float convolution's)


class _FastEpilogue:
    """Mixin: ``gemm_requantize(cols, matrix, xbound, wbound, offset, out_rows)``."""

    def setup_fast(self, channels: int) -> None:
        self.channels = channels
        self.params = None
        self.gemm_scratch = shared_scratch(self, GEMM_SCRATCH_SLOT)
        self.cols_scratch = shared_scratch(self, COLS_SCRATCH_SLOT)
        self.int_gemm = None  # (packed B, offset, flip) for the integer tile, False where it does not apply

    def cols_buffer(self, rows: int, depth: int, dtype) -> np.ndarray:
        """The GEMM's left operand [rows, depth]: the shared scratch (no page faults of a fresh
        allocation each invoke), or a new array outside an interpreter."""
        return scratch_array(self.cols_scratch, (rows, depth), dtype)

    def fast_params(self):
        if self.params is None:
            self.params = requantizer_params(self.requant, self.channels) or False
            if self.params:
                self.merged = merged_constants(*self.params[:4])
        return self.params

    def int_gemm_setup(self, weights_key: np.ndarray, key: tuple, centered, bias, in_zp: int, x_dtype):
        """``self.int_gemm`` for the integer tile, once: ``centered()`` gives the weights minus their
        zero point as an integer [K, N] matrix (called once per weight array, ``packed_once``);
        False when the host has no integer tile or the weights leave int8 / the depth is too deep."""
        if self.int_gemm is not None:
            return self.int_gemm
        self.int_gemm = False
        if not int_gemm_host():
            return False
        gemm = compiled_module(_INT_GEMM)

        def build():
            b = np.asarray(centered())
            if b.size == 0 or b.shape[0] > gemm.MAX_DEPTH or b.min() < -128 or b.max() > 127:
                return None
            return gemm.pack_weights(b), b.sum(axis=0, dtype=np.int64)
        packed = packed_once(weights_key, ("int8-gemm",) + key, build)
        if packed is None:
            return False
        bp, sums = packed
        signed = np.dtype(x_dtype) == np.int8
        offset = np.ascontiguousarray(bias - (in_zp + (128 if signed else 0)) * sums, np.int64)
        self.int_gemm = (bp, offset, gemm.SIGNED_FLIP if signed else np.int32(0))
        return self.int_gemm

    def int_gemm_requantize(self, rows: np.ndarray, depth: int, out_rows) -> None:
        """The integer tile's path: out_rows = requantize(rows[:, :depth] . B + offset), one compiled call."""
        bp, offset, flip = self.int_gemm
        mults, shifts, ties, zp, lo, hi = self.params
        n_fast, consts, totals = self.merged
        run_from(_INT_GEMM, self, "gemm_requantize", rows, bp, depth, flip, offset, n_fast == mults.size,
                 mults, shifts, ties, consts, totals, zp, lo, hi, out_rows)

    def gemm_requantize(self, cols, matrix, xbound: int, wbound: int, offset, out_rows) -> None:
        depth = cols.shape[-1]
        rows, o = cols.shape[0], matrix.shape[-1]
        if cols.dtype == np.float64 or matrix.dtype == np.float64 or max(1, xbound * wbound) * depth < F32_EXACT:
            dtype = np.result_type(cols.dtype, matrix.dtype)
            if self.gemm_scratch is not None and rows * o:
                acc = self.gemm_scratch(rows * o * dtype.itemsize).view(dtype).reshape(rows, o)
                np.matmul(cols, matrix, out=acc)
            else:
                acc = np.matmul(cols, matrix)
        else:  # deep float32 products: exact in depth chunks summed in float64 (int64 result)
            acc = exact_matmul(cols, matrix, xbound, wbound)
        mults, shifts, ties, zp, lo, hi = self.params
        n_fast, consts, totals = self.merged
        offset = np.ascontiguousarray(offset, np.int64)
        if n_fast == mults.size:
            run(self, "requantize_rows_merged", acc, offset, mults, consts, totals, lo, hi, out_rows)
        else:
            run(self, "requantize_rows", acc, offset, mults, shifts, ties, zp, lo, hi, out_rows)


@register("CONV_2D", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedConv2D(_FastEpilogue, QuantizedConv2D):
    """int8/uint8 CONV_2D (one group): im2col + exact GEMM + compiled requantization."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.setup_fast(shapes[0][3])
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.groups != 1 or x.dtype not in (np.int8, np.uint8) or not self.fast_params():
            return super().eval(inputs, outputs)
        n, oh, ow, o = out.shape
        if out.size == 0:
            return None
        if self.conv_int_gemm(x):
            kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, _, _ = self.geom
            depth = kh * kw * x.shape[3]
            if self.pointwise:
                rows = np.ascontiguousarray(x).reshape(-1, depth)
            else:
                rows = self.cols_buffer(n * oh * ow, depth, x.dtype)
                run(self, "im2col_padded", np.ascontiguousarray(x), x.dtype.type(self.in_zp), rows,
                    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
            self.int_gemm_requantize(rows, depth, rows_view(out, o))
            return None
        f = self.filter()
        if self.pointwise:
            x2 = x.reshape(-1, x.shape[3])
            cols = self.cols_buffer(x2.shape[0], x2.shape[1], f.fdtype)
            np.copyto(cols, x2)
        else:
            kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, _, _ = self.geom
            cols = self.cols_buffer(n * oh * ow, kh * kw * x.shape[3], f.fdtype)
            run(self, "im2col_padded", np.ascontiguousarray(x), f.fdtype.type(self.in_zp), cols,
                kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
        self.gemm_requantize(cols, f.matrix[0], self.xbound, f.bound, self.offset, rows_view(out, o))
        return None

    def conv_int_gemm(self, x) -> bool:
        """Whether this convolution takes the VNNI tile (packing its weights on first use)."""
        if self.int_gemm is None:
            w, zp = self.filter_data, self.filter_zp
            o = w.shape[0]

            def centered():
                return w.reshape(o, -1).T.astype(np.int16) - np.int16(zp)
            self.int_gemm_setup(w, (zp,), centered, self.bias, self.in_zp, x.dtype)
        return bool(self.int_gemm)


@register("FULLY_CONNECTED", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedFullyConnected(_FastEpilogue, QuantizedFullyConnected):
    """int8/uint8 FULLY_CONNECTED: exact GEMM + compiled requantization."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.setup_fast(self.o)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if x.dtype not in (np.int8, np.uint8) or not self.fast_params():
            return super().eval(inputs, outputs)
        if self.weights is not None and self.fc_int_gemm(x):
            if out.size:
                self.int_gemm_requantize(np.ascontiguousarray(x).reshape(-1, self.k), self.k,
                                         rows_view(out, self.o))
            return None
        if self.weights is not None:
            wmat, offset = self._constant_weights()
        else:
            wmat, sums = self._pack(inputs[1])
            offset = self.bias - self.in_zp * sums
        if out.size == 0:
            return None
        x2 = x.reshape(-1, self.k)
        cols = self.cols_buffer(x2.shape[0], self.k, self.fdtype)
        np.copyto(cols, x2)
        self.gemm_requantize(cols, wmat, self.xbound, self.wbound, offset, rows_view(out, self.o))
        return None

    def fc_int_gemm(self, x) -> bool:
        """Whether this layer (constant weights) takes the VNNI tile (packing them on first use)."""
        if self.int_gemm is None:
            def centered():
                if self.sparsity is not None:  # decoded as the float path does
                    return self._constant_weights()[0].astype(np.int16)
                return np.asarray(self.weights).T.astype(np.int16) - np.int16(self.w_zp)
            self.int_gemm_setup(self.weights, (self.w_zp, self.sparsity is not None), centered, self.bias,
                                self.in_zp, x.dtype)
        return bool(self.int_gemm)


@register("TRANSPOSE_CONV", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedTransposeConv(_FastEpilogue, QuantizedTransposeConv):
    """int8 TRANSPOSE_CONV (int8 weights, a constant output shape): the exact float32 GEMM of
    every tap, then one compiled pass scattering the taps into int64 sums and requantizing the
    output window (``_compiled_int8.transpose_conv_int``). uint8 (its flattened-block
    rounding), int16 and deep float64 products run the reference."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.setup_fast(self.filter_hw[2])
        self.acc = None
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[2], outputs[0]
        if out is None or x.dtype != np.int8 or self.uint8_blocks is not None or self.oshape is None \
                or not self.fast_params():
            return super().eval(inputs, outputs)
        f = self.filter()
        n, h, wd, c = x.shape
        if f.fdtype != np.float32 or max(1, self.xbound * f.bound) * c >= F32_EXACT or out.size == 0:
            return super().eval(inputs, outputs)
        kh, kw, sh, sw, pt, pl = self.geom
        _, oh, ow, o = self.oshape
        x2 = x.reshape(-1, c)
        cols = self.cols_buffer(x2.shape[0], c, np.float32)
        np.copyto(cols, x2)
        depth = f.matrix.shape[1]
        if self.gemm_scratch is not None:
            prod = self.gemm_scratch(x2.shape[0] * depth * 4).view(np.float32).reshape(x2.shape[0], depth)
            np.matmul(cols, f.matrix, out=prod)
        else:
            prod = np.matmul(cols, f.matrix)
        full = (n, max((h - 1) * sh + kh, pt + oh), max((wd - 1) * sw + kw, pl + ow), o)
        if self.acc is None or self.acc.shape != full:
            self.acc = np.empty(full, np.int64)
        mults, shifts, ties, zp, lo, hi = self.params
        n_fast, consts, totals = self.merged
        run_from("_compiled_int8", self, "transpose_conv_int", prod.reshape(n, h, wd, kh, kw, o),
                 np.ascontiguousarray(self.tap_offset, np.int64), self.bias, self.acc, mults, shifts, ties,
                 n_fast, consts, totals, zp, lo, hi, out, sh, sw, pt, pl, parallel=False)
        return None
