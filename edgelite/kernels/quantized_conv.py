"""Integer CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV, FULLY_CONNECTED and
BATCH_MATMUL, bit-exact with LiteRT's builtin kernels.

int8 ("full integer"), int16x8 (int16 activations, int8 weights) and legacy uint8
(TF1-era asymmetric per-tensor quantization: uint8 activations and uint8 weights,
both with zero points, int32 bias) follow TFLite's arithmetic:

* real multipliers ``input_scale * filter_scale[c] / output_scale`` computed in
  double from the float32 scales (uint8: the product ``input_scale * filter_scale``
  in float32, then divided in double), turned into Q31 multiplier + shift per
  output channel (``quant_math.quantize_multiplier``);
* accumulators ``sum (x - x_zp) * (w - w_zp)`` computed exactly: GEMMs run in
  float BLAS on integer-valued operands (``int_gemm``), the input zero point
  is folded into a per-channel constant ``-x_zp * sum(w)`` so that padding
  with ``x_zp`` contributes nothing;
* ``+ bias``, then a MultiplyByQuantizedMultiplier variant (below),
  ``+ output zero point`` and the fused activation's clamp. GEMMs and the
  requantization run in cache-sized row blocks;
* ``prepare`` only checks and plans: the float filter layouts and sums
  (:func:`packed_once`, shared by every kernel of the same constant weights)
  and the per-channel multipliers (:class:`LazyRequantizer`) are built on the
  first eval.

Which rescaling LiteRT uses where (measured against ai-edge-litert 2.3.0 on x86
with tie-heavy power-of-two scales, see tests/kernels/test_quantized_conv.py):

* int8 CONV_2D, FULLY_CONNECTED: ruy's variant, whose last rounding shift
  sends ties toward +inf;
* int8 DEPTHWISE_CONV_2D, TRANSPOSE_CONV: the same for the output channels
  handled in SIMD blocks of 8, gemmlowp's rounding for the ``channels % 8`` rest;
* int8 BATCH_MATMUL and sparse-weight FULLY_CONNECTED: gemmlowp's double
  rounding (ties away from zero);
* uint8 CONV_2D, FULLY_CONNECTED: ruy's ties-up rounding on every channel; uint8
  DEPTHWISE_CONV_2D: gemmlowp's double rounding on every channel (see :data:`UINT8_MODES`);
  uint8 TRANSPOSE_CONV: over the flattened output, blocks of 16 values ties up, the
  ``size % 16`` rest gemmlowp's rounding;
* int16 convolutions and BATCH_MATMUL: the int64 MultiplyByQuantizedMultiplier;
* int16 FULLY_CONNECTED with an int64 bias, ``quantized_bias_type`` INT64 or
  non-zero zero points: TFLite's reference kernel,
  ``round(double(acc) * effective_scale)``; otherwise ruy as for int8.
"""
from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np

from .base import Kernel, register
from .int_gemm import exact_matmul, pick_float
from .quant_math import (activation_range, dtype_range, multiply_by_quantized_multiplier_fast,
                         multiply_by_quantized_multiplier_int64, quantize_multiplier, round_half_away)

# -- shared helpers ---------------------------------------------------------------------------


def conv_out_and_padding(in_size: int, filt: int, stride: int, dilation: int, padding: int) -> tuple[int, int, int]:
    """(output size, padding before, padding after) as TFLite computes them (0 = SAME, 1 = VALID)."""
    eff = (filt - 1) * dilation + 1
    if padding == 0:
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size - eff + stride) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2, total - total // 2


def channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                        channels: int, float_product: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-output-channel (multiplier, shift, real scale in double), broadcast to ``channels``.

    ``float_product``: LiteRT's legacy uint8 kernels multiply input and filter scale in
    float32 before dividing by the output scale in double (measured: it changes the Q31
    multiplier's last bits, and so the rounding of accumulators near a tie).
    """
    fs = np.asarray(filter_scales, np.float32)
    if float_product:
        real = (np.float32(input_scale) * fs).astype(np.float64) / np.float64(np.float32(output_scale))
    else:
        real = np.float64(np.float32(input_scale)) * fs.astype(np.float64) / np.float64(np.float32(output_scale))
    if real.size == 1:
        real = np.full(channels, real[0])
    if real.size != channels:
        raise ValueError(f"{real.size} filter scales for {channels} output channels")
    mult, shift = quantize_multiplier(real)
    return mult, shift, real


def conv_geometry(options: dict, in_h: int, in_w: int, kh: int, kw: int) -> tuple:
    """(kh, kw, sh, sw, dh, dw, pad_top, pad_bottom, pad_left, pad_right, out_h, out_w) of a conv node."""
    get = options.get
    sh, sw = int(get("stride_h", 1)), int(get("stride_w", 1))
    dh, dw = int(get("dilation_h_factor", 1)), int(get("dilation_w_factor", 1))
    if sh < 1 or sw < 1 or dh < 1 or dw < 1:
        raise ValueError(f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
    pad = int(get("padding", 0))
    if kh == kw == sh == sw == 1:  # pointwise: no padding either way, the input's size
        return (1, 1, 1, 1, dh, dw, 0, 0, 0, 0, in_h, in_w)
    oh, pt, pb = conv_out_and_padding(in_h, kh, sh, dh, pad)
    ow, pl, pr = conv_out_and_padding(in_w, kw, sw, dw, pad)
    return (kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow)


def im2col(x: np.ndarray, geom: tuple, pad_value, dtype) -> np.ndarray:
    """(N, OH, OW, KH, KW, C) patches of NHWC ``x`` as ``dtype``, padding filled with ``pad_value``."""
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = geom
    xf = x.astype(dtype)
    if pt or pb or pl or pr:
        xf = np.pad(xf, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=pad_value)
    n, c = x.shape[0], x.shape[3]
    cols = np.empty((n, oh, ow, kh, kw, c), dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, i, j, :] = xf[:, i * dh:i * dh + (oh - 1) * sh + 1:sh,
                                        j * dw:j * dw + (ow - 1) * sw + 1:sw, :]
    return cols


def depthwise_padded(x: np.ndarray, geom: tuple, multiplier: int, zero_point=0, dtype=np.float32) -> np.ndarray:
    """``x - zero_point`` as ``dtype``, channels repeated ``multiplier`` times, zero-padded per ``geom``.

    ``zero_point`` is a scalar or a per-batch array.
    """
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = geom
    if multiplier > 1:
        x = np.repeat(x, multiplier, axis=3)
    n, h, w, c = x.shape
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype)
    interior = xp[:, pt:pt + h, pl:pl + w, :]
    zp = np.asarray(zero_point, dtype)
    np.subtract(x, zp.reshape(-1, 1, 1, 1) if zp.ndim else zp, out=interior, casting="unsafe")
    return xp


def depthwise_rows(xp: np.ndarray, taps: np.ndarray, geom: tuple, r0: int, r1: int) -> np.ndarray:
    """Output rows [r0, r1) of the depthwise sum over taps of padded ``xp`` times ``taps`` (KH, KW, C)."""
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = geom
    acc = tmp = None
    for i in range(kh):
        for j in range(kw):
            top = i * dh + r0 * sh
            tap = xp[:, top:top + (r1 - r0 - 1) * sh + 1:sh, j * dw:j * dw + (ow - 1) * sw + 1:sw, :]
            if acc is None:
                acc = np.multiply(tap, taps[i, j])
                tmp = np.empty_like(acc)
            else:
                np.multiply(tap, taps[i, j], out=tmp)
                acc += tmp
    return acc


def depthwise_accumulate(x: np.ndarray, taps: np.ndarray, geom: tuple, multiplier: int,
                         zero_point=0, dtype=np.float32) -> np.ndarray:
    """sum over taps of shifted ``x - zero_point`` (NHWC, zero-padded) times ``taps`` (KH, KW, C*M)."""
    return depthwise_rows(depthwise_padded(x, geom, multiplier, zero_point, dtype), taps, geom, 0, geom[10])


def row_blocks(rows: int, row_elems: int, target: int = 1 << 16):
    """[r0, r1) ranges of about ``target`` elements each (cache-sized work for chains of numpy ops)."""
    step = max(1, target // max(1, row_elems))
    return [(r, min(rows, r + step)) for r in range(0, rows, step)]


def rows_view(out: np.ndarray, cols: int) -> np.ndarray:
    """``out`` as a (rows, cols) view (outputs are contiguous; a copy would lose the writes)."""
    if not out.flags.c_contiguous:
        raise ValueError("output buffer is not contiguous")
    return out.reshape(-1, cols)


def _first(arr: np.ndarray, default=0):
    """The first element as a Python number (``.item``: no numpy scalar), or ``default`` if empty."""
    return arr.item(0) if arr.size else default


def _bound(dtype) -> int:
    lo, hi = dtype_range(dtype)
    return max(-lo, hi)


class Requantizer:
    """acc (int64) -> clamped output integers, TFLite's way for the given mode.

    mode "mbqm32": MultiplyByQuantizedMultiplier on int32 accumulators (gemmlowp rounding);
    "ruy": the same with the last rounding shift's ties toward +inf (ruy's x86 GEMM kernels);
    "mbqm64": the int64-accumulator variant (int16x8 convolutions);
    "double": ``round(acc * real_scale)`` in double (TFLite's reference int16 FC).
    """

    def __init__(self, mult, shift, real, out_zp: int, lo: int, hi: int, mode: str,
                 simd_channels: int | None = None):
        self.mult = np.asarray(mult, np.int64)
        self.shift = np.asarray(shift, np.int64)
        self.real = np.asarray(real, np.float64)
        self.out_zp = int(out_zp)
        self.lo, self.hi = int(lo), int(hi)
        self.mode = mode
        self.ties_up = True
        self.tail = None
        if mode == "ruy" and simd_channels is not None and simd_channels < self.mult.size:
            # only the first simd_channels output channels go through the SIMD stage
            self.ties_up = np.arange(self.mult.size) < simd_channels
            self.tail = slice(simd_channels, None)
        # Fast path for ruy rounding without left shifts. Since floor((floor(y) + h) / 2^r) equals
        # floor((y + h) / 2^r), the two rounding shifts merge into one:
        #   out = (acc * m + 2^30 + (half + zp * 2^r) * 2^31) >> (31 + r)
        # which stays inside int64 for int32 accumulators while r <= 21.
        right = -self.shift
        self.fast = mode == "ruy" and not np.any(self.shift > 0) and not np.any(right > 21)
        if self.fast:
            post = ((np.int64(1) << right) >> 1) + (np.int64(self.out_zp) << right)
            self.const = (np.int64(1) << 30) + (post << 31)
            self.total_shift = right + 31

    def __call__(self, acc: np.ndarray, out: np.ndarray | None = None, offset: np.ndarray | None = None) -> np.ndarray:
        """Requantize ``acc`` (+ ``offset`` per channel); writes into ``out`` when given.

        ``acc`` may be modified in place.
        """
        if self.fast:
            return self._fast(acc, out, offset)
        if offset is not None:
            acc = acc + offset
        if self.mode == "mbqm32":
            res = multiply_by_quantized_multiplier_fast(acc, self.mult, self.shift)
        elif self.mode == "ruy":
            res = multiply_by_quantized_multiplier_fast(acc, self.mult, self.shift, ties_up=self.ties_up)
        elif self.mode == "mbqm64":
            res = multiply_by_quantized_multiplier_int64(acc, self.mult, self.shift)
        else:
            res = round_half_away(acc.astype(np.float64) * self.real).astype(np.int64)
        res += self.out_zp
        np.clip(res, self.lo, self.hi, out=res)
        if out is not None:
            out[...] = res
            return out
        return res

    def _fast(self, acc, out, offset):
        if acc.dtype != np.int64:
            acc = acc.astype(np.int64)
        tail_acc = None
        if self.tail is not None:
            tail_acc = acc[..., self.tail] + (0 if offset is None else offset[self.tail])
        const = self.const if offset is None else self.const + offset * self.mult
        acc *= self.mult
        acc += const
        acc >>= self.total_shift
        if tail_acc is not None:  # channels outside the SIMD blocks: gemmlowp rounding
            t = multiply_by_quantized_multiplier_fast(tail_acc, self.mult[self.tail], self.shift[self.tail])
            acc[..., self.tail] = t + self.out_zp
        if out is None:
            return np.clip(acc, self.lo, self.hi, out=acc)
        np.clip(acc, self.lo, self.hi, out=out, casting="unsafe")
        return out


class LazyRequantizer:
    """A :class:`Requantizer` whose per-channel multipliers are computed on its first call.

    Only eval requantizes; prepare checks the arguments and hands over ``build``.
    """

    def __init__(self, build):
        self._build = build
        self._requantizer = None

    def __call__(self, acc: np.ndarray, out: np.ndarray | None = None,
                 offset: np.ndarray | None = None) -> np.ndarray:
        r = self._requantizer
        if r is None:
            r = self._requantizer = self._build()
        return r(acc, out, offset)


def _make_requantizer(kernel, x, w, out, channels: int, mode: str,
                      simd_channels: int | None = None) -> LazyRequantizer:
    if not (x.scale.size and w.scale.size and out.scale.size):
        raise kernel.fail("input, weights and output must all be quantized")
    if w.scale.size not in (1, channels):
        raise kernel.fail(f"{w.scale.size} filter scales for {channels} output channels")
    act = int(kernel.options.get("fused_activation_function", 0) or 0)
    if act not in (0, 1, 2, 3):
        raise kernel.fail(f"fused activation {act} is not supported by integer kernels")
    x_scale, w_scale, out_scale = x.scale.item(0), w.scale, out.scale.item(0)
    out_zp = int(_first(out.zero_point))
    qmin, qmax = dtype_range(out.dtype)
    legacy_uint8 = np.dtype(x.dtype) == np.uint8

    def build() -> Requantizer:
        mult, shift, real = channel_multipliers(x_scale, w_scale, out_scale, channels,
                                                float_product=legacy_uint8)
        lo, hi = activation_range(act, float(out_scale), out_zp, qmin, qmax)
        return Requantizer(mult, shift, real, out_zp, lo, hi, mode, simd_channels)
    return LazyRequantizer(build)


_KINDS = {np.dtype(np.int8): "int8", np.dtype(np.int16): "int16", np.dtype(np.uint8): "uint8"}
_WEIGHT_DTYPES = {"int8": np.dtype(np.int8), "int16": np.dtype(np.int8), "uint8": np.dtype(np.uint8)}


def _check_types(kernel, x, w, out):
    """"int8", "int16" or "uint8" (legacy asymmetric: uint8 activations and uint8 weights)."""
    kind = _KINDS.get(np.dtype(x.dtype))
    if kind is None or out.dtype != x.dtype:
        raise kernel.fail(f"integer kernel needs int8, uint8 or int16 input and output of the same type, "
                          f"got {x.dtype} -> {out.dtype}")
    want = _WEIGHT_DTYPES[kind]
    if w.dtype != want:
        raise kernel.fail(f"{kind} kernel needs {want} weights, got {w.dtype}")
    if kind == "uint8" and w.scale.size > 1:
        raise kernel.fail("uint8 weights must be quantized per tensor")
    return kind


def _bias_vector(kernel, bias, channels: int) -> np.ndarray:
    if bias is None:
        return np.zeros(channels, np.int64)
    if bias.data is None:
        raise kernel.fail("bias must be a constant tensor")
    b = np.asarray(bias.data, np.int64).reshape(-1)
    if b.size != channels:
        raise kernel.fail(f"bias has {b.size} values for {channels} output channels")
    return b


# Requantization mode of the uint8 kernels (measured with tie-heavy power-of-two scales).
# TRANSPOSE_CONV's entry is only its default: it rounds the flattened output in blocks
# (UINT8_TRANSPOSE_CONV_BLOCK values ties up, the rest gemmlowp's way; QuantizedTransposeConv).
UINT8_MODES = {"CONV_2D": "ruy", "DEPTHWISE_CONV_2D": "mbqm32", "TRANSPOSE_CONV": "ruy",
               "FULLY_CONNECTED": "ruy"}
UINT8_TRANSPOSE_CONV_BLOCK = 16


# -- packed constant weights --------------------------------------------------------------------

_PACKED: dict[tuple, tuple] = {}


def packed_once(data: np.ndarray, key: tuple, build):
    """``build()``, computed once per constant weight array and ``key`` and kept while the array lives.

    Kernels are prepared once per input shape; their weight layouts depend only on the
    constant, so kernels of the same node (resized inputs) share them. ``build`` must not
    return views of ``data`` (the entry would keep the weights alive).
    """
    full = (id(data),) + key
    hit = _PACKED.get(full)
    if hit is not None and hit[0]() is data:
        return hit[1]
    value = build()
    try:
        ref = weakref.ref(data, lambda _, k=full: _PACKED.pop(k, None))
    except TypeError:  # not weak-referenceable: no sharing
        return value
    _PACKED[full] = (ref, value)
    return value


class PackedFilter(NamedTuple):
    """A constant int8 filter (zero point removed) laid out for eval."""

    fdtype: np.dtype        # float type of the exact GEMM / tap products
    bound: int              # max |w - w_zp|
    matrix: np.ndarray      # the float layout the kernel multiplies with
    sums: np.ndarray | None  # int64 sums of w - w_zp that the input zero point multiplies


def _centered_bound(w: np.ndarray, zp: int) -> int:
    """max |w - zp| over an int8 array, without widening it."""
    if w.size == 0:
        return 1
    return max(abs(int(w.min()) - zp), abs(int(w.max()) - zp))


def _as_float_centered(w: np.ndarray, zp: int, dtype) -> np.ndarray:
    """Contiguous ``w - zp`` as ``dtype`` (exact: small integers)."""
    wf = np.ascontiguousarray(w, dtype=dtype)
    if wf is w:
        wf = wf.copy()
    if zp:
        wf -= zp
    return wf


class _ConstantFilterKernel(Kernel):
    """The set-up CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV share.

    ``prepare`` checks types, weights, bias and requantization parameters (cheap);
    the filter's float layout is only needed by ``eval`` and built by :meth:`pack`
    on the first eval (once per weight tensor, see :func:`packed_once`).
    """

    def setup(self, x, w, out, bias, channels: int, simd_blocks: bool) -> None:
        kind = _check_types(self, x, w, out)
        if w.data is None:
            raise self.fail(f"integer {self.op_desc.opcode} needs constant weights")
        self.in_zp = int(_first(x.zero_point))
        self.xbound = _bound(x.dtype)
        self.filter_data = w.data
        self.filter_zp = int(_first(w.zero_point)) if w.scale.size == 1 else 0
        self.bias = _bias_vector(self, bias, channels)
        # LiteRT's int8 depthwise / transpose-conv output stages handle channels in SIMD blocks of 8
        # (ties up) and the remaining channels with the scalar gemmlowp rounding.
        simd = channels - channels % 8 if simd_blocks else None
        mode = {"int8": "ruy", "int16": "mbqm64"}.get(kind) or UINT8_MODES[self.op_desc.opcode]
        self.requant = _make_requantizer(self, x, w, out, channels, mode,
                                         simd_channels=simd if kind == "int8" else None)
        self._filter = None

    def geometry(self, h: int, w: int, kh: int, kw: int) -> tuple:
        try:
            return conv_geometry(self.options, h, w, kh, kw)
        except ValueError as e:
            raise self.fail(str(e)) from None

    def filter(self) -> PackedFilter:
        if self._filter is None:
            key = (type(self).__name__, self.filter_zp, self.xbound) + self.pack_key()
            self._filter = packed_once(self.filter_data, key, self.pack)
            self.packed_ready(self._filter)
        return self._filter

    def pack_key(self) -> tuple:
        return ()

    def pack(self) -> PackedFilter:
        raise NotImplementedError

    def packed_ready(self, packed: PackedFilter) -> None:
        """Per-kernel constants derived from the packed filter (input zero point terms)."""


# -- CONV_2D ----------------------------------------------------------------------------------


@register("CONV_2D", kind="int8")
@register("CONV_2D", kind="int16")
class QuantizedConv2D(_ConstantFilterKernel):
    """NHWC input, OHWI int8 filter (per-channel scales), int32/int64 bias."""

    def prepare(self, inputs, outputs):
        x, w, out = inputs[0], inputs[1], outputs[0]
        bias = inputs[2] if len(inputs) > 2 else None
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise self.fail(f"expects 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
        n, h, wd, c = x.shape
        o, kh, kw, ci = w.shape
        if c % ci:
            raise self.fail(f"input depth {c} is not a multiple of filter depth {ci}")
        self.groups = c // ci
        if o % self.groups:
            raise self.fail(f"{o} output channels do not split into {self.groups} groups")
        self.setup(x, w, out, bias, o, simd_blocks=False)
        self.geom = self.geometry(h, wd, kh, kw)
        kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = self.geom
        self.pointwise = kh == kw == 1 and sh == sw == 1 and pt == pb == pl == pr == 0
        return [(n, oh, ow, o)]

    def pack_key(self):
        return (self.groups,)

    def pack(self):
        w, zp = self.filter_data, self.filter_zp
        o = w.shape[0]
        depth = w.size // o if o else 0
        bound = _centered_bound(w, zp)
        fdtype = pick_float(self.xbound, bound, depth)
        # (groups, depth, og) contiguous float filter matrices, depth ordered (kh, kw, ci) as im2col
        # builds it (row-major B: faster GEMMs than a transposed view for wide outputs)
        wmat = _as_float_centered(w.reshape(self.groups, o // self.groups, depth).transpose(0, 2, 1), zp, fdtype)
        sums = w.reshape(o, depth).sum(axis=1, dtype=np.int64) - zp * depth
        return PackedFilter(fdtype, bound, wmat, sums)

    def packed_ready(self, packed):
        self.offset = self.bias - self.in_zp * packed.sums

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        f = self.filter()
        n, oh, ow, o = out.shape
        if self.pointwise:
            cols = x.reshape(-1, x.shape[3]).astype(f.fdtype)
        else:
            cols = im2col(x, self.geom, self.in_zp, f.fdtype).reshape(n * oh * ow, -1)
        if self.groups == 1:
            rows = rows_view(out, o)
            for r0, r1 in row_blocks(rows.shape[0], o):  # GEMM + requantize in cache-sized blocks
                acc = exact_matmul(cols[r0:r1], f.matrix[0], self.xbound, f.bound)
                self.requant(acc, rows[r0:r1], offset=self.offset)
            return None
        ci = x.shape[3] // self.groups
        kh, kw = self.geom[0], self.geom[1]
        cols = cols.reshape(-1, kh * kw, self.groups, ci).transpose(2, 0, 1, 3).reshape(
            self.groups, -1, kh * kw * ci)
        acc = exact_matmul(cols, f.matrix, self.xbound, f.bound)  # (g, rows, og)
        acc = acc.transpose(1, 0, 2).reshape(-1, o)
        self.requant(acc, rows_view(out, o), offset=self.offset)
        return None


# -- DEPTHWISE_CONV_2D ------------------------------------------------------------------------


@register("DEPTHWISE_CONV_2D", kind="int8")
@register("DEPTHWISE_CONV_2D", kind="int16")
class QuantizedDepthwiseConv2D(_ConstantFilterKernel):
    """Filter (1, KH, KW, C*M); output channel c*M + m reads input channel c."""

    def prepare(self, inputs, outputs):
        x, w, out = inputs[0], inputs[1], outputs[0]
        bias = inputs[2] if len(inputs) > 2 else None
        n, h, wd, c = x.shape
        _, kh, kw, oc = w.shape
        mult = oc // c if c else 0
        if mult * c != oc:
            raise self.fail(f"filter has {oc} channels, not a multiple of input depth {c}")
        self.mult = mult
        self.setup(x, w, out, bias, oc, simd_blocks=True)
        self.geom = self.geometry(h, wd, kh, kw)
        oh, ow = self.geom[10], self.geom[11]
        return [(n, oh, ow, oc)]

    def pack(self):
        w, zp = self.filter_data, self.filter_zp
        _, kh, kw, oc = w.shape
        xb = 2 * self.xbound + 1
        wb = _centered_bound(w, zp)
        if xb * wb * kh * kw >= (1 << 53):
            raise self.fail("depthwise accumulation cannot be computed exactly")
        fdtype = np.dtype(np.float32 if xb * wb * kh * kw < (1 << 24) else np.float64)
        return PackedFilter(fdtype, wb, _as_float_centered(w.reshape(kh, kw, oc), zp, fdtype), None)

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        f = self.filter()
        xp = depthwise_padded(x, self.geom, self.mult, self.in_zp, f.fdtype)
        n, oh, ow, oc = out.shape
        for r0, r1 in row_blocks(oh, n * ow * oc):  # cache-sized blocks of output rows
            acc = depthwise_rows(xp, f.matrix, self.geom, r0, r1)
            self.requant(acc, out[:, r0:r1], offset=self.bias)
        return None


# -- TRANSPOSE_CONV ---------------------------------------------------------------------------


@register("TRANSPOSE_CONV", kind="int8")
@register("TRANSPOSE_CONV", kind="int16")
class QuantizedTransposeConv(_ConstantFilterKernel):
    """inputs: output_shape, filter (O, KH, KW, I), input (NHWC), optional bias.

    With a computed (non-constant) output_shape the output is allocated in eval.
    """

    def prepare(self, inputs, outputs):
        shape_t, w, x, out = inputs[0], inputs[1], inputs[2], outputs[0]
        bias = inputs[3] if len(inputs) > 3 else None
        n, h, wd, c = x.shape
        o, kh, kw, ci = w.shape
        if ci != c:
            raise self.fail(f"filter {list(w.shape)} does not match input depth {c}")
        self.setup(x, w, out, bias, o, simd_blocks=True)
        self.uint8_blocks = None
        if x.dtype == np.uint8:
            # LiteRT's uint8 TransposeConvV2 requantizes the flattened output: blocks of 16 values
            # in NEON code (neon2sse on x86) whose rounding shift sends ties up, then the rest
            # with gemmlowp's scalar rounding (measured: ties of negative values tell them apart)
            self.uint8_blocks = (_make_requantizer(self, x, w, out, 1, "ruy"),
                                 _make_requantizer(self, x, w, out, 1, "mbqm32"))
        self.in_shape = tuple(x.shape)
        self.filter_hw = (kh, kw, o)
        self.out_dtype = out.dtype
        self.oshape = None
        if shape_t.data is not None:
            self._set_output_shape(np.asarray(shape_t.data))
            return [self.oshape]
        return [None]

    def pack(self):
        w, zp = self.filter_data, self.filter_zp
        o, kh, kw, c = w.shape
        bound = _centered_bound(w, zp)
        fdtype = pick_float(self.xbound, bound, c)
        # (I, KH*KW*O): one GEMM gives every tap's contribution
        wmat = _as_float_centered(w.transpose(3, 1, 2, 0).reshape(c, kh * kw * o), zp, fdtype)
        sums = w.sum(axis=3, dtype=np.int64) - zp * c  # (O, KH, KW)
        return PackedFilter(fdtype, bound, wmat, sums)

    def packed_ready(self, packed):
        self.tap_offset = (-self.in_zp * packed.sums).transpose(1, 2, 0)  # (KH, KW, O)

    def _set_output_shape(self, values: np.ndarray) -> None:
        oshape = tuple(int(v) for v in values.reshape(-1))
        kh, kw, o = self.filter_hw
        if len(oshape) != 4 or oshape[3] != o or oshape[0] != self.in_shape[0]:
            raise self.fail(f"output_shape {list(oshape)} does not fit input {list(self.in_shape)} "
                            f"and {o} filters")
        sh, sw = int(self.options.get("stride_h", 1)), int(self.options.get("stride_w", 1))
        if min(sh, sw) < 1:
            raise self.fail(f"strides ({sh}, {sw}) must be >= 1")
        pad = int(self.options.get("padding", 0))
        _, pt, _ = conv_out_and_padding(oshape[1], kh, sh, 1, pad)
        _, pl, _ = conv_out_and_padding(oshape[2], kw, sw, 1, pad)
        self.geom = (kh, kw, sh, sw, pt, pl)
        self.oshape = oshape

    def eval(self, inputs, outputs):
        x, out = inputs[2], outputs[0]
        if out is None:
            values = np.asarray(inputs[0])
            if self.oshape is None or tuple(values.reshape(-1)) != self.oshape:
                self._set_output_shape(values)
            out = np.empty(self.oshape, self.out_dtype)
        f = self.filter()
        kh, kw, sh, sw, pt, pl = self.geom
        n, h, wd, c = x.shape
        _, oh, ow, o = self.oshape
        cols = exact_matmul(x.reshape(-1, c).astype(f.fdtype), f.matrix, self.xbound, f.bound)
        cols = cols.reshape(n, h, wd, kh, kw, o)
        cols += self.tap_offset
        full_h = max((h - 1) * sh + kh, pt + oh)
        full_w = max((wd - 1) * sw + kw, pl + ow)
        acc = np.zeros((n, full_h, full_w, o), np.int64)
        for i in range(kh):
            for j in range(kw):
                acc[:, i:i + (h - 1) * sh + 1:sh, j:j + (wd - 1) * sw + 1:sw, :] += cols[:, :, :, i, j, :]
        acc = acc[:, pt:pt + oh, pl:pl + ow, :]
        acc = acc + self.bias
        if self.uint8_blocks is None:
            self.requant(acc, out)
        else:
            flat, dest = acc.reshape(-1, 1), out.reshape(-1, 1)
            body = flat.shape[0] - flat.shape[0] % UINT8_TRANSPOSE_CONV_BLOCK
            simd, tail = self.uint8_blocks
            if body:
                simd(flat[:body], dest[:body])
            if body < flat.shape[0]:
                tail(flat[body:], dest[body:])
        return [out] if outputs[0] is None else None


# -- FULLY_CONNECTED --------------------------------------------------------------------------


@register("FULLY_CONNECTED", kind="int8")
@register("FULLY_CONNECTED", kind="int16")
class QuantizedFullyConnected(Kernel):
    """input (..., K) int8/int16, weights (O, K) int8 (constant or not), optional int32/int64 bias."""

    def prepare(self, inputs, outputs):
        x, w, out = inputs[0], inputs[1], outputs[0]
        bias = inputs[2] if len(inputs) > 2 else None
        kind = _check_types(self, x, w, out)
        if len(w.shape) != 2:
            raise self.fail(f"weights must be 2-D, got {list(w.shape)}")
        o, k = w.shape
        total = int(np.prod(x.shape, dtype=np.int64))
        if k == 0 or total % k:
            raise self.fail(f"input of shape {list(x.shape)} does not split into rows of {k}")
        batch = total // k
        self.k, self.o = k, o
        self.in_zp = int(_first(x.zero_point))
        self.w_zp = int(_first(w.zero_point)) if w.scale.size == 1 else 0
        self.xbound = _bound(x.dtype)
        self.wbound = 255 if self.w_zp else 128
        self.fdtype = pick_float(self.xbound, self.wbound, k)
        self.bias = _bias_vector(self, bias, o)
        self.weights = w.data
        self.sparsity = w.sparsity
        self._wconst = None
        if kind == "uint8":
            mode = UINT8_MODES["FULLY_CONNECTED"]
        elif kind == "int8":
            # LiteRT's sparse (1x16 block) int8 kernel rescales with gemmlowp's scalar rounding
            mode = "mbqm32" if w.sparsity is not None else "ruy"
        else:
            bias64 = bias is not None and bias.dtype == np.int64
            bias_type = int(self.options.get("quantized_bias_type", 0) or 0)
            nonzero_zp = self.in_zp or self.w_zp or int(_first(out.zero_point))
            mode = "double" if (bias64 or bias_type == 4 or nonzero_zp) else "ruy"
        self.requant = _make_requantizer(self, x, w, out, o, mode)
        if self.options.get("keep_num_dims"):
            if x.shape[-1] != k:
                raise self.fail(f"keep_num_dims needs input's last dimension {x.shape[-1]} == {k}")
            return [tuple(x.shape[:-1]) + (o,)]
        return [(batch, o)]

    def _pack(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, O) contiguous float weights minus their zero point, and the int64 row sums."""
        wmat = _as_float_centered(w.T, self.w_zp, self.fdtype)
        sums = w.sum(axis=1, dtype=np.int64) - self.w_zp * w.shape[1]
        return wmat, sums

    def _constant_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Packed constant weights and the per-channel offset (bias - x_zp * sums), built on first use."""
        if self._wconst is None:
            def build():
                w = np.asarray(self.weights)
                if self.sparsity is not None:  # sparse constant weights: decode once
                    from ..sparsity import densify
                    w = densify(w, (self.o, self.k), self.sparsity)
                return self._pack(w)
            wmat, sums = packed_once(self.weights, ("fc", self.w_zp, self.fdtype.str), build)
            self._wconst = wmat, self.bias - self.in_zp * sums
        return self._wconst

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.weights is not None:
            wmat, offset = self._constant_weights()
        else:
            wmat, sums = self._pack(inputs[1])
            offset = self.bias - self.in_zp * sums
        acc = exact_matmul(x.reshape(-1, self.k).astype(self.fdtype), wmat, self.xbound, self.wbound)
        self.requant(acc, rows_view(out, self.o), offset=offset)
        return None


# -- BATCH_MATMUL -----------------------------------------------------------------------------


@register("BATCH_MATMUL", kind="int8")
@register("BATCH_MATMUL", kind="int16")
class QuantizedBatchMatMul(Kernel):
    """lhs (..., M, K) x rhs (..., K, N) with adj_x / adj_y and broadcast batch dimensions."""

    def prepare(self, inputs, outputs):
        a, b, out = inputs[0], inputs[1], outputs[0]
        kinds = {np.dtype(np.int8): "int8", np.dtype(np.int16): "int16"}
        if a.dtype not in kinds or b.dtype != a.dtype or out.dtype != a.dtype:
            raise self.fail(f"integer BATCH_MATMUL needs matching int8/int16 types, got "
                            f"{a.dtype} x {b.dtype} -> {out.dtype}")
        if not (a.quantized and b.quantized and out.quantized):
            raise self.fail("lhs, rhs and output must be quantized")
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise self.fail(f"operands need rank >= 2, got {list(a.shape)} and {list(b.shape)}")
        self.adj_x = bool(self.options.get("adj_x"))
        self.adj_y = bool(self.options.get("adj_y"))
        m, k = (a.shape[-1], a.shape[-2]) if self.adj_x else (a.shape[-2], a.shape[-1])
        k2, n = (b.shape[-1], b.shape[-2]) if self.adj_y else (b.shape[-2], b.shape[-1])
        if k != k2:
            raise self.fail(f"contraction sizes differ: {list(a.shape)} x {list(b.shape)} "
                            f"(adj_x={self.adj_x}, adj_y={self.adj_y})")
        try:
            batch = np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
        except ValueError:
            raise self.fail(f"batch dimensions of {list(a.shape)} and {list(b.shape)} do not broadcast")
        self.a_zp = int(_first(a.zero_point))
        self.b_zp = int(_first(b.zero_point))
        self.k = k
        self.bound = _bound(a.dtype)
        self.fdtype = pick_float(self.bound, self.bound, k)
        a_scale, b_scale, out_scale = a.scale[0], b.scale[:1], out.scale[0]
        out_zp = int(_first(out.zero_point))
        qmin, qmax = dtype_range(out.dtype)
        mode = "mbqm32" if kinds[a.dtype] == "int8" else "mbqm64"
        self.requant = LazyRequantizer(lambda: Requantizer(
            *channel_multipliers(a_scale, b_scale, out_scale, 1), out_zp, qmin, qmax, mode))
        return [tuple(batch) + (m, n)]

    def eval(self, inputs, outputs):
        a, b, out = inputs[0], inputs[1], outputs[0]
        af = a.astype(self.fdtype)
        bf = b.astype(self.fdtype)
        if self.adj_x:
            af = np.swapaxes(af, -1, -2)
        if self.adj_y:
            bf = np.swapaxes(bf, -1, -2)
        acc = exact_matmul(np.ascontiguousarray(af), np.ascontiguousarray(bf), self.bound, self.bound)
        if self.b_zp:
            acc -= self.b_zp * af.sum(axis=-1, dtype=np.float64).astype(np.int64)[..., :, None]
        if self.a_zp:
            acc -= self.a_zp * bf.sum(axis=-2, dtype=np.float64).astype(np.int64)[..., None, :]
        if self.a_zp and self.b_zp:
            acc += self.k * self.a_zp * self.b_zp
        self.requant(acc, out)
        return None
