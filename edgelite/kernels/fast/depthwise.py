"""Compiled DEPTHWISE_CONV_2D: float, and int8/uint8 with TFLite's per-channel requantization.

One pass per output pixel over its taps and channels (numba, ``_compiled.py``) instead of
one numpy pass per tap; the same operation order as the reference kernels, so the
results are identical (see the docstring of ``_compiled``).

The int8/uint8 kernel with depth multiplier 1 and no dilation runs on the AVX-512 VNNI
``vpdpwssd`` (or AVX2 ``vpmaddwd``) block steps of ``_compiled_depthwise`` where the host has
them (the exact int32 window sums, then the same requantization); ``EDGELITE_FAST_DW_SIMD=0``
(or ``EDGELITE_FAST_INT_GEMM=0``) keeps ``_compiled.depthwise_int``. The float kernel with depth
multiplier 1 runs on the AVX-512F (or AVX2) register blocks of ``_compiled_depthwise_float``
(pixels x 16 channels of float32 accumulators over all taps, the same IEEE operations in the
same order); ``EDGELITE_FAST_DW_SIMD=0`` keeps ``_compiled.depthwise_float``.
"""
from __future__ import annotations


import numpy as np

from ..activation_fn import activation_range
from ..base import register
from ..conv import DepthwiseConv2D
from ..quantized_conv import QuantizedDepthwiseConv2D
from . import FAST_PRIORITY, enabled
from .isa import depthwise_blocks_off
from .loader import compiled_module, parallel_twins_enabled, run, run_from

_DW_SIMD = "_compiled_depthwise"
_DW_FLOAT_SIMD = "_compiled_depthwise_float"
_simd_hosts: dict[str, bool] = {}  # whether each module's block steps run here, looked up once


def _simd_host(module: str) -> bool:
    """``simd_available()`` of the compiled module ``module`` (``_compiled_depthwise`` or
    ``_compiled_depthwise_float``: the host features looked up once; the
    ``EDGELITE_FAST_DW_SIMD`` switch read on each call)."""
    if depthwise_blocks_off():
        return False
    if module not in _simd_hosts:
        _simd_hosts[module] = bool(compiled_module(module).simd_available())
    return _simd_hosts[module]


def requantizer_params(lazy, channels: int):
    """(mults, shifts, ties_up, out_zp, lo, hi) of a reference kernel's LazyRequantizer as
    arrays for the compiled :func:`requantize`, or None for modes it does not do (int64, double)."""
    r = lazy._requantizer
    if r is None:
        r = lazy._requantizer = lazy._build()
    if r.mode not in ("ruy", "mbqm32"):
        return None
    if r.mode == "mbqm32":
        ties = np.zeros(channels, np.bool_)
    elif isinstance(r.ties_up, np.ndarray):
        ties = np.ascontiguousarray(r.ties_up, np.bool_)
    else:
        ties = np.ones(channels, np.bool_)
    mults = np.ascontiguousarray(np.broadcast_to(r.mult, (channels,)), np.int64)
    shifts = np.ascontiguousarray(np.broadcast_to(r.shift, (channels,)), np.int64)
    return mults, shifts, ties, int(r.out_zp), int(r.lo), int(r.hi)


def merged_constants(mults, shifts, ties, out_zp: int):
    """(n_fast, consts, totals): the leading channels that may take the merged ruy rounding
    ``(x * m + const) >> total`` (ties up, no left shift, right shift <= 21, as the
    reference's ``Requantizer._fast``), and its per-channel constants."""
    n = int(np.argmin(ties)) if not ties.all() else ties.size
    right = -shifts
    ok = (shifts[:n] <= 0) & (right[:n] <= 21)
    if not ok.all():
        n = 0
    r = np.maximum(right, 0)
    post = ((np.int64(1) << r) >> 1) + (np.int64(out_zp) << r)
    consts = np.ascontiguousarray((np.int64(1) << 30) + (post << 31), np.int64)
    totals = np.ascontiguousarray(r + 31, np.int64)
    return n, consts, totals


@register("DEPTHWISE_CONV_2D", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastDepthwiseConv2D(DepthwiseConv2D):
    """Float depthwise convolution, compiled; reference prepare and numerics."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.w3 = self.init = self.simd_args = None
        lo, hi = activation_range(self.activation)
        self.clamp = lo is not None or hi is not None
        self.lo = np.float32(-np.inf if lo is None else lo)
        self.hi = np.float32(np.inf if hi is None else hi)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if x.dtype != np.float32 or out.dtype != np.float32:
            return super().eval(inputs, outputs)
        w3 = self.w3
        if w3 is None:
            w3 = np.ascontiguousarray(np.asarray(inputs[1] if self.const_filter is None else self.const_filter,
                                                 np.float32)[0])
            p = self.plan
            # each tap's weights tiled over an output row, for the unit-stride single-pass loop
            wrow = (np.ascontiguousarray(np.broadcast_to(w3[:, :, None, :], (p.k_h, p.k_w, p.out_w, self.out_c)))
                    .reshape(p.k_h, p.k_w, -1) if p.stride_w == 1 and self.multiplier == 1
                    else np.zeros((1, 1, 1), np.float32))
            if self.const_filter is not None:
                self.w3, self.wrow = w3, wrow
        else:
            wrow = self.wrow
        init = self.init
        if init is None:
            bias = self.bias
            if bias is None and len(inputs) > 2 and inputs[2] is not None:
                bias = np.asarray(inputs[2], np.float32).reshape(-1)
            # -0.0 is the identity of float addition: without a bias the first product stays as is
            init = np.full(self.out_c, -0.0, np.float32) if bias is None else np.ascontiguousarray(bias, np.float32)
            if self.bias is not None or len(inputs) < 3 or inputs[2] is None:
                self.init = init
        if out.size == 0:
            return None
        p = self.plan
        simd = self._float_simd_args(w3, init) if self.multiplier == 1 and out.flags.c_contiguous else False
        if simd:
            wpk, cols, rows, init_p, span, wp = simd
            threads = compiled_module(_DW_FLOAT_SIMD).nb.get_num_threads() if parallel_twins_enabled() else 1
            run_from(_DW_FLOAT_SIMD, self, "depthwise_float_simd", np.ascontiguousarray(x), wpk, w3, cols, rows,
                     init_p, self.lo, self.hi, out, span, wp, p.stride_h, p.stride_w, p.dil_h, p.dil_w, p.pad_top,
                     p.pad_left, threads)
            return None
        args = (np.ascontiguousarray(x), w3, wrow, init, out, p.stride_h, p.stride_w, p.dil_h, p.dil_w,
                p.pad_top, p.pad_left, self.multiplier, self.lo, self.hi, self.clamp)
        run(self, "depthwise_float", *args)
        return None

    def _float_simd_args(self, w3, init):
        """(packed weights, tap columns, tap rows, padded init, ring rows, padded width) for
        ``_compiled_depthwise_float.depthwise_float_simd``, or False where it does not run (no
        AVX-512F, ``EDGELITE_FAST_DW_SIMD=0``); cached when the filter and bias are constant."""
        cached = self.simd_args
        if cached is not None and cached is not False:
            return cached
        if cached is False or not _simd_host(_DW_FLOAT_SIMD):
            self.simd_args = False
            return False
        mod = compiled_module(_DW_FLOAT_SIMD)
        p = self.plan
        cpad = mod.padded_channels(self.out_c)
        made = (mod.pack_weights(w3), *mod.tap_offsets(p.k_h, p.k_w, p.dil_h, p.dil_w, cpad),
                mod.padded_init(init), *mod.ring_shape(p.k_h, p.k_w, p.dil_h, p.dil_w, p.stride_w, p.out_w))
        if self.const_filter is not None and self.init is init:
            self.simd_args = made
        return made


@register("DEPTHWISE_CONV_2D", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedDepthwiseConv2D(QuantizedDepthwiseConv2D):
    """int8/uint8 depthwise convolution, compiled: exact int32 sums, then requantization."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.fast_args = None
        self.simd_args = None
        return shapes

    def _simd_args(self, fa):
        """The arguments of ``_compiled_depthwise.depthwise_int_simd`` past the output (packed
        pair weights, ...), or False where it does not apply: depth multiplier 1, no dilation,
        input and weights minus their zero points within int16, a host with AVX-512 VNNI or AVX2."""
        if self.simd_args is None:
            self.simd_args = False
            kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = self.geom
            wc = fa[0]
            # x - x_zp (x in [-128, 255]) and the weights must fit int16
            fits = -32000 <= self.in_zp <= 32000 and (wc.size == 0 or int(np.abs(wc).max()) <= 32767)
            if self.mult == 1 and dh == 1 and dw == 1 and fits and wc.size and _simd_host(_DW_SIMD):
                mod = compiled_module(_DW_SIMD)
                bias, mults, shifts, ties, out_zp, lo, hi, n_fast, consts, totals = fa[3:]
                _, wq, cpad = mod.pair_image_shape(self.geom, wc.shape[2])
                cols, rows = mod.pair_steps(kh, kw, sw, cpad)
                self.simd_args = (mod.pack_pair_weights(wc), cols, rows, fa[2], bias, mults, shifts, ties, out_zp,
                                  lo, hi, n_fast, consts, totals,
                                  *mod.merged_row_constants(bias, mults, consts, totals, n_fast, ow),
                                  mod.fused_constants(bias, mults, consts, totals, n_fast), kh, wq)
        return self.simd_args

    def _fast_args(self):
        """(w, x_zp, bias, requantization...) or False when the reference must run."""
        if self.fast_args is None:
            self.fast_args = False
            w = np.asarray(self.filter_data)
            _, kh, kw, oc = w.shape
            params = requantizer_params(self.requant, oc)
            wc = w.reshape(kh, kw, oc).astype(np.int32) - np.int32(self.filter_zp)
            wb = int(np.abs(wc).max()) if wc.size else 0
            # the int32 sum of |x - x_zp| <= 255 times the taps' weights must not overflow
            if params is not None and 255 * wb * kh * kw < (1 << 31) and self.in_zp == int(np.int32(self.in_zp)):
                kh_, kw_, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = self.geom
                wrow = (np.ascontiguousarray(np.broadcast_to(wc[:, :, None, :], (kh, kw, ow, oc))).reshape(kh, kw, -1)
                        if sw == 1 and self.mult == 1 else np.zeros((1, 1, 1), np.int32))
                self.fast_args = (np.ascontiguousarray(wc), wrow, np.int32(self.in_zp),
                                  np.ascontiguousarray(self.bias, np.int64), *params,
                                  *merged_constants(params[0], params[1], params[2], params[3]))
        return self.fast_args

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        fa = self._fast_args() if x.dtype in (np.int8, np.uint8) else False
        if not fa:
            return super().eval(inputs, outputs)
        if out.size == 0:
            return None
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = self.geom
        simd = self._simd_args(fa)
        if simd and out.flags.c_contiguous:  # (the requantization writes whole rows flat)
            *head, kh_, wq = simd
            threads = compiled_module(_DW_SIMD).nb.get_num_threads() if parallel_twins_enabled() else 1
            run_from(_DW_SIMD, self, "depthwise_int_simd", np.ascontiguousarray(x), *head, out, kh_, wq,
                     sh, sw, pt, pl, threads)
            return None
        args = (np.ascontiguousarray(x), *fa, out, sh, sw, dh, dw, pt, pl, self.mult)
        run(self, "depthwise_int", *args)
        return None
