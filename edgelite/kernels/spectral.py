"""Complex numbers and the 2-D real FFT: RFFT2D, REAL, IMAG, COMPLEX_ABS
(LiteRT's rfft2d.cc and complex_support.cc).

* RFFT2D(x float32[..., h, w], fft_length int32[2]) -> complex64[..., fh, fw/2 + 1]: the
  innermost 2-D slices are cropped or zero-padded to ``fft_length`` (both powers of two) and
  transformed. LiteRT runs Ooura's ``rdft2d`` in float64 and rounds the result to complex64;
  edgelite runs numpy's pocketfft in float64 and rounds the same way, so results agree to the
  float32 rounding of float64 values that differ in their last few bits (in practice
  identical but for an occasional 1-ulp difference).
* REAL / IMAG / COMPLEX_ABS: complex64 -> float32 and complex128 -> float64 parts and
  magnitude (``hypot``, as ``std::abs``).
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register


def _is_power_of_two(v: int) -> bool:
    return v > 0 and v & (v - 1) == 0


@register("RFFT2D", kind="any")
class Rfft2d(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "input, fft_length", 2)
        x, length = inputs
        if len(x.shape) < 2:
            raise self.fail(f"the input needs at least 2 dimensions, got shape {list(x.shape)}")
        if x.dtype != np.float32:
            raise self.fail(f"input type {x.dtype} is not supported (float32 only)")
        if length.dtype != np.int32 or tuple(length.shape) != (2,):
            raise self.fail(f"fft_length must be an int32 vector of 2, got {length.dtype} of shape "
                            f"{list(length.shape)}")
        if outputs[0].dtype != np.complex64:
            raise self.fail(f"the output must be complex64, got {outputs[0].dtype}")
        self.in_shape = tuple(x.shape)
        if length.is_constant:
            return [self.output_shape(length.data)]
        return [None]

    def output_shape(self, length) -> tuple[int, ...]:
        fh, fw = (int(v) for v in np.asarray(length).reshape(-1))
        if not (_is_power_of_two(fh) and _is_power_of_two(fw)):
            raise self.fail(f"fft_length entries must be powers of 2, got [{fh}, {fw}]")
        return self.in_shape[:-2] + (fh, fw // 2 + 1)

    def eval(self, inputs, outputs):
        x, length = inputs
        shape = self.output_shape(length)
        fh, fw = int(length[0]), int(length[1])
        h, w = x.shape[-2:]
        padded = np.zeros(x.shape[:-2] + (fh, fw), np.float64)
        ch, cw = min(h, fh), min(w, fw)
        padded[..., :ch, :cw] = x[..., :ch, :cw]
        spectrum = np.fft.rfft2(padded, axes=(-2, -1))
        out = outputs[0]
        if out is None or out.shape != shape:
            return [spectrum.astype(np.complex64)]
        out[...] = spectrum
        return None


_PART_TYPES = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}


class _ComplexPart(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one input and one output")
        x = inputs[0]
        if x.dtype not in _PART_TYPES:
            raise self.fail(f"input type {x.dtype} is not supported (complex64 or complex128)")
        if outputs[0].dtype != _PART_TYPES[x.dtype]:
            raise self.fail(f"a {x.dtype} input needs a {_PART_TYPES[x.dtype]} output, got {outputs[0].dtype}")
        return [tuple(x.shape)]


@register("REAL", kind="any")
class Real(_ComplexPart):
    def eval(self, inputs, outputs):
        np.copyto(outputs[0], inputs[0].real)


@register("IMAG", kind="any")
class Imag(_ComplexPart):
    def eval(self, inputs, outputs):
        np.copyto(outputs[0], inputs[0].imag)


@register("COMPLEX_ABS", kind="any")
class ComplexAbs(_ComplexPart):
    def eval(self, inputs, outputs):
        z = inputs[0]
        np.hypot(z.real, z.imag, out=outputs[0])  # np.abs of complex rounds differently
