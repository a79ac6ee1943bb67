"""Compiled hybrid (dynamic-range) CONV_2D and DEPTHWISE_CONV_2D: int8 weights, float32
activations, the same results as ``kernels.hybrid`` bit for bit.

Per batch item the reference quantizes the input on the fly (per-channel weights:
asymmetric, else symmetric), multiplies exactly and rescales in float32. Here:

* the per-row scalars (min / max, the double-precision scale and zero-point nudging) stay
  the reference's numpy arithmetic, on a handful of values; the elementwise quantization is
  one compiled pass (``_compiled_hybrid.quantize_rows``) writing straight into the GEMM's
  left operand (pointwise convolutions) or into a buffer that the compiled im2col
  (``_compiled.im2col_padded``, padding at the zero point) turns into it;
* the GEMM is the exact int8 tile of ``_compiled_gemm`` where the host has AVX-512 VNNI or
  AVX2 (the quantized input and im2col are then int8; the tile's uint8 flip adds
  ``128 * sum_k W``, removed with the zero-point term in the epilogue), else float32 BLAS
  into a preallocated buffer, exact under ``int_gemm``'s rule (depth below 1024 for int8 x
  int8; deeper products go through ``exact_matmul``). Both give the same integers, so the
  same bits (mobilenet_v2_dyn at 1 thread: 16.2 ms with BLAS, 10.8 ms with the tile,
  against LiteRT's builtin hybrid kernels' 13.3);
* one compiled epilogue subtracts ``zp * row_sums``, multiplies by ``input_scale *
  filter_scale`` and adds the bias in float32, then clamps (RELU, RELU_N1_TO_1, RELU6);
  TANH / SIGN_BIT / SIGMOID run the reference's numpy activation afterwards;
* depthwise: exact int32 window sums of ``q - zp`` and the int8 taps, then the
  reference's ``(acc * filter_scale) * input_scale + bias`` (``_compiled_hybrid.depthwise_hybrid``).

Inputs with a NaN or infinity, and depthwise windows too large for the reference's float32
sums to be exact, run the reference.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..conv import scratch_array, shared_scratch
from ..hybrid import HybridConv2D, HybridDepthwiseConv2D, apply_float_activation
from ..int_gemm import F32_EXACT, exact_matmul
from . import FAST_PRIORITY, enabled
from .epilogue import _INT_GEMM, int_gemm_host
from .loader import compiled_module, run, run_from

F32 = np.float32
QUANTIZED_SCRATCH_SLOT = 6  # the quantized input (before im2col, or of the depthwise)
COLS_SCRATCH_SLOT = 1       # the GEMM's left operand, as the other convolutions'
GEMM_SCRATCH_SLOT = 5       # the GEMM's result
_CLAMPS = {1: (0.0, np.inf), 2: (-1.0, 1.0), 3: (0.0, 6.0)}  # fused activations done in the epilogue


def row_quantization(kernel, rows: np.ndarray, asymmetric: bool):
    """(inv, zp, zeroed, sf, lo, hi) of the reference's per-row quantization of ``rows`` [N, L]:
    the float32 multiplier, the int64 zero point, rows whose range is empty, the float32 scale
    and the clamp bounds (compiled: ``_compiled_hybrid.row_parameters``); None when a row holds
    a NaN or an infinity."""
    n = rows.shape[0]
    inv, sf = np.empty(n, F32), np.empty(n, F32)
    zp, zeroed, status = np.empty(n, np.int64), np.empty(n, np.bool_), np.empty(1, np.int64)
    run_from("_compiled_hybrid", kernel, "row_parameters", rows.min(axis=1), rows.max(axis=1), asymmetric,
             inv, zp, zeroed, sf, status, parallel=False)
    if not status[0]:
        return None
    return (inv, zp, zeroed, sf, -128, 127) if asymmetric else (inv, zp, zeroed, sf, -127, 127)


def _activation_bounds(act: int):
    """(lo, hi, clamp) of the epilogue's clamp for fused activation ``act``."""
    lo, hi = _CLAMPS.get(act, (-np.inf, np.inf))
    return F32(lo), F32(hi), act in _CLAMPS


class HybridInt8Gemm:
    """Mixin of the hybrid CONV_2D and FULLY_CONNECTED on the VNNI tile: the epilogue's constants
    (``setup_int8_gemm``, after the reference's prepare made ``wmat`` [K, O], ``row_sums`` and
    ``act``) and the packed int8 weights (``int8_gemm``, made on first use)."""

    def setup_int8_gemm(self) -> None:
        self.row_sums64 = np.ascontiguousarray(self.row_sums, np.int64)
        self.lo, self.hi, self.clamp = _activation_bounds(self.act)
        self.int_gemm = None

    def int8_gemm(self):
        """(module, packed weights, 128 * column sums) for the int8 GEMM (``_compiled_gemm``),
        or False (no integer tile on this host, no weights, or a depth past the tile's exact int32 range)."""
        if self.int_gemm is None:
            self.int_gemm = False
            if int_gemm_host():
                gemm = compiled_module(_INT_GEMM)
                depth, channels = self.wmat.shape
                if 0 < depth <= gemm.MAX_DEPTH and channels > 0:
                    w8 = self.wmat.astype(np.int8)  # the int8 weights (exact: integer-valued float32)
                    self.int_gemm = (gemm, gemm.pack_weights(w8), 128 * w8.sum(axis=0, dtype=np.int64))
        return self.int_gemm


@register("CONV_2D", kind="hybrid", priority=FAST_PRIORITY, when=enabled)
class FastHybridConv2D(HybridInt8Gemm, HybridConv2D):
    """Hybrid CONV_2D: compiled quantization, im2col and epilogue around the float32 BLAS GEMM."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.setup_int8_gemm()
        self.q_scratch = shared_scratch(self, QUANTIZED_SCRATCH_SLOT)
        self.cols_scratch = shared_scratch(self, COLS_SCRATCH_SLOT)
        self.gemm_scratch = shared_scratch(self, GEMM_SCRATCH_SLOT)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        n, oh, ow, _ = out.shape
        if out.size == 0 or x.size == 0:
            return super().eval(inputs, outputs)
        rows = np.ascontiguousarray(x, F32).reshape(n, -1)
        params = row_quantization(self, rows, self.per_channel)
        if params is None:
            return super().eval(inputs, outputs)
        inv, zp, zeroed, sf, qlo, qhi = params
        depth = self.wmat.shape[0]
        pixels = oh * ow
        gemm = self.int8_gemm()
        cols = scratch_array(self.cols_scratch, (n * pixels, depth), np.int8 if gemm else F32)
        no_offset = np.zeros(n, np.int64)
        if self.pointwise:
            run_from("_compiled_hybrid", self, "quantize_rows", rows, inv, zp, zeroed, qlo, qhi, no_offset,
                     cols.reshape(n, -1), parallel=False)
        else:
            q = scratch_array(self.q_scratch, x.shape, cols.dtype)
            run_from("_compiled_hybrid", self, "quantize_rows", rows, inv, zp, zeroed, qlo, qhi, no_offset,
                     q.reshape(n, -1), parallel=False)
            kh, kw, sh, sw, dh, dw, pt, _, pl, _, _, _ = self.geom
            for b in range(n):  # the padding is each batch item's own zero point
                run(self, "im2col_padded", q[b:b + 1], cols.dtype.type(zp[b]), cols[b * pixels:(b + 1) * pixels],
                    kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
        if gemm:
            self.int8_gemm_epilogue(gemm, cols, depth, zp, sf, n, pixels, out)
        else:
            self.float_gemm_epilogue(cols, depth, zp, sf, n, pixels, out)
        if self.act not in _CLAMPS and self.act != 0:
            apply_float_activation(out, self.act)
        return None

    def int8_gemm_epilogue(self, gemm, cols, depth, zp, sf, n, pixels, out) -> None:
        """int32 ``cols . W`` on the VNNI tile (int8 rows flipped to uint8 inside it: the product
        carries ``128 * sum_k W``, removed with the zero-point term), then the float epilogue.
        The same integers as the float32 GEMM's exact products, so the same bits."""
        module, packed, flip_sums = gemm
        o = out.shape[-1]
        acc = scratch_array(self.gemm_scratch, (n * pixels, packed.shape[1]), np.int32)
        run_from(_INT_GEMM, self, "gemm_int32", cols, packed, depth, module.SIGNED_FLIP, acc, parallel=False)
        y = out.reshape(n, pixels, o)
        for b in range(n):
            removed = zp[b] * self.row_sums64 + flip_sums
            run_from("_compiled_hybrid", self, "conv_epilogue", acc[b * pixels:(b + 1) * pixels], np.int64(1),
                     removed, self.channel_scale(sf[b]), self.bias, self.lo, self.hi, self.clamp, y[b],
                     parallel=False)

    def channel_scale(self, input_scale) -> np.ndarray:
        """float32 ``input_scale * filter_scale`` per output channel."""
        if self.per_channel:
            return (input_scale * self.wscale).astype(F32)
        return np.full(self.wmat.shape[1], F32(input_scale * self.wscale[0]), F32)

    def float_gemm_epilogue(self, cols, depth, zp, sf, n, pixels, out) -> None:
        """The exact float32 BLAS GEMM (in depth chunks where it must be), then the epilogue."""
        o = out.shape[-1]
        if 128 * 128 * depth < F32_EXACT:
            acc = scratch_array(self.gemm_scratch, (n * pixels, o), F32)
            np.matmul(cols, self.wmat, out=acc)
        else:  # deep products: exact in depth chunks (int64), as the reference
            acc = exact_matmul(cols, self.wmat, 128, 128)
        y = out.reshape(n, pixels, o)
        for b in range(n):
            run_from("_compiled_hybrid", self, "conv_epilogue", acc[b * pixels:(b + 1) * pixels], zp[b],
                     self.row_sums64, self.channel_scale(sf[b]), self.bias, self.lo, self.hi, self.clamp, y[b],
                     parallel=False)


@register("DEPTHWISE_CONV_2D", kind="hybrid", priority=FAST_PRIORITY, when=enabled)
class FastHybridDepthwiseConv2D(HybridDepthwiseConv2D):
    """Hybrid DEPTHWISE_CONV_2D: compiled quantization and exact integer window sums."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        kh, kw = self.taps.shape[:2]
        # the reference sums in float32: exact (hence order-free) while |sum| < 2^24
        self.exact = 255 * 128 * kh * kw < F32_EXACT
        self.taps32 = np.ascontiguousarray(self.taps, np.int32)
        self.wscale32 = np.ascontiguousarray(self.wscale, F32)
        self.bias32 = np.ascontiguousarray(self.bias, F32)
        self.lo, self.hi, self.clamp = _activation_bounds(self.act)
        self.q_scratch = shared_scratch(self, QUANTIZED_SCRATCH_SLOT)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        n = x.shape[0]
        if not self.exact or out.size == 0 or x.size == 0:
            return super().eval(inputs, outputs)
        rows = np.ascontiguousarray(x, F32).reshape(n, -1)
        params = row_quantization(self, rows, True)
        if params is None:
            return super().eval(inputs, outputs)
        inv, zp, zeroed, sf, qlo, qhi = params
        xq = scratch_array(self.q_scratch, x.shape, np.int32)
        run_from("_compiled_hybrid", self, "quantize_rows", rows, inv, zp, zeroed, qlo, qhi, zp,
                 xq.reshape(n, -1), parallel=False)
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = self.geom
        run_from("_compiled_hybrid", self, "depthwise_hybrid", xq, self.taps32, self.wscale32, sf, self.bias32,
                 self.lo, self.hi, self.clamp, out, sh, sw, dh, dw, pt, pl, self.mult, parallel=False)
        if self.act not in _CLAMPS and self.act != 0:
            apply_float_activation(out, self.act)
        return None
