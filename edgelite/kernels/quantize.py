"""QUANTIZE and DEQUANTIZE, bit-exact with LiteRT's builtin kernels.

QUANTIZE
* float32 -> int8/uint8/int16, per tensor: LiteRT's optimized AffineQuantize
  (as measured against ai-edge-litert on x86) handles the flat array in
  blocks of 8 with SIMD: ``rint(x * float32(1/scale))`` (round half to even);
  the remaining ``size % 8`` tail elements go through the scalar code,
  ``round_half_away(double(x) / double(scale))``. Then ``+ zero_point`` and clamp.
* float32 -> per-axis quantized output: TFLite's PerChannelQuantize (float
  division by the channel's float scale).
* int8/uint8/int16/int32 -> int8/uint8/int16/int32 (requantize): the effective scale
  ``in_scale / out_scale`` (double) becomes a fixed-point multiplier and
  ``MultiplyByQuantizedMultiplier(q - in_zp) + out_zp`` is clamped. For 8-bit
  to 8-bit, LiteRT's x86 build processes blocks of 16 elements with SIMD code
  whose final rounding shift sends ties toward +inf; the ``size % 16`` tail
  (and every 16-bit source) uses gemmlowp's ties-away rounding (measured).

DEQUANTIZE: ``scale * (q - zero_point)`` (per tensor or per axis) for int8,
uint8, int16 and int32, and the exact float16 -> float32 widening used by
float16-weight models. For per-tensor 8-bit inputs LiteRT's SIMD code handles
blocks of 8 as ``float(q * scale) + float(-zp * scale)`` (two float32
roundings); the tail and the other types round the exact product once.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register
from .quant_math import (dtype_range, multiply_by_quantized_multiplier_fast, quantize_multiplier_scalar,
                         round_half_away)

_SIMD_WIDTH = 8  # LiteRT's vectorised AffineQuantize block size on x86
_REQUANT_SIMD_WIDTH = 16  # its vectorised 8-bit -> 8-bit Requantize block size
_QUANT_OUT = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))
_REQUANT_IN = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16), np.dtype(np.int32))


def _axis_shape(rank: int, axis: int, n: int) -> tuple[int, ...]:
    shape = [1] * rank
    shape[axis] = n
    return tuple(shape)


@register("QUANTIZE", kind="any")
class Quantize(Kernel):
    """float -> quantized, or quantized -> quantized with new parameters."""

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.dtype not in _QUANT_OUT and not (out.dtype == np.int32 and x.dtype in _REQUANT_IN):
            raise self.fail(f"output type {out.dtype} is not int8, uint8 or int16 "
                            f"(int32 only from an integer input)")
        if not out.quantized:
            raise self.fail("output tensor has no quantization parameters")
        self.qmin, self.qmax = dtype_range(out.dtype)
        self.out_dtype = out.dtype
        if x.dtype == np.float32:
            self.mode = "float"
            if out.scale.size > 1:
                axis = out.quantized_dimension
                zp = out.zero_point if out.zero_point.size == out.scale.size else np.full(
                    out.scale.size, out.zero_point[0] if out.zero_point.size else 0)
                if axis >= len(x.shape) or x.shape[axis] != out.scale.size:
                    raise self.fail(f"{out.scale.size} per-axis scales do not match dimension {axis} "
                                    f"of input shape {list(x.shape)}")
                bshape = _axis_shape(len(x.shape), axis, out.scale.size)
                self.scale = out.scale.astype(np.float32).reshape(bshape)
                self.zp = zp.astype(np.float32).reshape(bshape)
                self.per_axis = True
            else:
                self.scale = np.float64(np.float32(out.scale[0]))
                self.zp = float(out.zero_point[0]) if out.zero_point.size else 0.0
                self.per_axis = False
        elif x.dtype in _REQUANT_IN:
            if not x.quantized:
                raise self.fail("quantized input tensor has no quantization parameters")
            self.mode = "requant"
            real = np.float64(np.float32(x.scale[0])) / np.float64(np.float32(out.scale[0]))
            self.multiplier, self.shift = quantize_multiplier_scalar(float(real))
            self.in_zp = int(x.zero_point[0]) if x.zero_point.size else 0
            self.simd_requant = x.dtype.itemsize == 1 and out.dtype.itemsize == 1
            self.out_zp = int(out.zero_point[0]) if out.zero_point.size else 0
        else:
            raise self.fail(f"cannot quantize from {x.dtype}")
        return [x.shape]

    def _affine(self, flat: np.ndarray) -> np.ndarray:
        """Per-tensor float quantization, SIMD blocks then scalar tail (see module doc)."""
        body = flat.size - flat.size % _SIMD_WIDTH
        q = np.empty(flat.size, np.float64)
        inv = np.float32(1.0) / np.float32(self.scale)
        q[:body] = np.rint(flat[:body].astype(np.float32) * inv)
        q[body:] = round_half_away(flat[body:].astype(np.float64) / self.scale)
        q += self.zp
        return q

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.mode == "float":
            if self.per_axis:
                q = round_half_away(x / self.scale) + self.zp
            else:
                q = self._affine(x.reshape(-1)).reshape(x.shape)
            np.clip(q, self.qmin, self.qmax, out=q)
            out[...] = q
            return None
        acc = x.reshape(-1).astype(np.int64)
        if self.in_zp:
            acc -= self.in_zp
        body = acc.size - acc.size % _REQUANT_SIMD_WIDTH if self.simd_requant else 0
        res = np.empty_like(acc)
        res[:body] = multiply_by_quantized_multiplier_fast(acc[:body], self.multiplier, self.shift, ties_up=True)
        res[body:] = multiply_by_quantized_multiplier_fast(acc[body:], self.multiplier, self.shift)
        acc = res.reshape(x.shape)
        acc += self.out_zp
        np.clip(acc, self.qmin, self.qmax, out=acc)
        out[...] = acc
        return None


@register("DEQUANTIZE", kind="any")
class Dequantize(Kernel):
    """quantized (int8/uint8/int16/int32) or float16 -> float32."""

    def prepare(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out.dtype != np.float32:
            raise self.fail(f"output type {out.dtype} is not float32")
        if x.dtype == np.float16:
            self.mode = "f16"
        elif x.dtype in _REQUANT_IN:
            if not x.quantized:
                raise self.fail("quantized input tensor has no quantization parameters")
            self.mode = "q"
            zp = x.zero_point if x.zero_point.size else np.zeros(1, np.int64)
            if x.scale.size > 1:
                bshape = _axis_shape(len(x.shape), x.quantized_dimension, x.scale.size)
                self.scale = x.scale.astype(np.float64).reshape(bshape)
                self.zp = (zp if zp.size == x.scale.size else np.full(x.scale.size, zp[0])).reshape(bshape)
            else:
                self.scale = np.float64(np.float32(x.scale[0]))
                self.zp = int(zp[0])
        else:
            raise self.fail(f"cannot dequantize {x.dtype}")
        self.simd_8bit = self.mode == "q" and x.dtype.itemsize == 1 and np.ndim(self.scale) == 0
        self.cached = None
        self.constant_input = x.data  # computed on request (constant_outputs) or by eval
        return [x.shape]

    def _compute(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if self.mode == "f16":
            if out is not None:  # straight into the output: no temporary of the full size
                np.copyto(out, x)
                return out
            return x.astype(np.float32)
        # scale * (q - zp) is exact in double, so rounding it once to float32 gives the
        # correctly rounded result of TFLite's scalar code.
        res = (self.scale * (x.astype(np.int64) - self.zp)).astype(np.float32)
        if self.simd_8bit:
            # LiteRT's SIMD blocks of 8 compute float(q * scale) + float(-zp * scale): two roundings
            flat, rflat = x.reshape(-1), res.reshape(-1)
            body = flat.size - flat.size % _SIMD_WIDTH
            scale = np.float32(self.scale)
            rflat[:body] = flat[:body].astype(np.float32) * scale + np.float32(-self.zp) * scale
        return res

    def constant_outputs(self):
        """The value of a constant input's dequantization, computed once (the interpreter
        keeps it as is when it folds this node at allocate)."""
        if self.cached is None and self.constant_input is not None:
            self.cached = self._compute(np.asarray(self.constant_input))
        return None if self.cached is None else [self.cached]

    def eval(self, inputs, outputs):
        if self.cached is not None:
            outputs[0][...] = self.cached
            return None
        res = self._compute(inputs[0], outputs[0])
        if res is not outputs[0]:
            outputs[0][...] = res
        return None
