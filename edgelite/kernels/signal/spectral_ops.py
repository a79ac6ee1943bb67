"""TFLM signal ops on frames and spectra: Window, FftAutoScale, Rfft, Irfft, Energy.

Each follows ``signal/micro/kernels/<op>.cc`` and ``signal/src/<op>.cc`` of
tensorflow/tflite-micro, bit for bit:

* ``SignalWindow`` (option ``shift``): ``clamp_int16((x * w) >> shift)`` for every
  ``len(w)``-long chunk of the int16 input.
* ``SignalFftAutoScale``: shifts the int16 frame left by ``15 - msb(max|x|)`` bits (at
  least 0) and outputs that shift as an int32 scalar. Like TFLM it looks at the first
  ``output.shape[0]`` samples only (the rest of the output is zero here).
* ``SignalRfft`` (options ``fft_length``, ``T``): every row of the last axis, zero padded
  to ``fft_length``, through kissfft's real FFT for int16, int32 or float32; the output
  interleaves (re, im) of ``fft_length / 2 + 1`` bins.
* ``SignalIrfft`` (options ``fft_length``, ``T``): the inverse, kissfft's ``kiss_fftri``;
  the float variant divides by ``fft_length`` as TFLM does, the fixed-point ones are
  already scaled down by kissfft's per-stage division.
* ``SignalEnergy`` (options ``start_index``, ``end_index``): ``re^2 + im^2`` of the int16
  bins in ``[start, end)`` as uint32; TFLM leaves the other bins unwritten, here they are 0.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from .kissfft import RealFft
from .options import SignalKernel

_FFT_TYPES = {0: np.float32, 2: np.int32, 7: np.int16}  # tflite TensorType codes TFLM accepts


@register("SignalWindow", kind="any")
class SignalWindow(SignalKernel):
    """int16 frame times an int16 window, shifted right and saturated."""

    def __init__(self, node):
        super().__init__(node)
        self.shift = self.int_option("shift", minimum=0)

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 2, 1, "input, weights -> output")
        x, w = inputs
        self.require_dtype(x, np.int16, "input")
        self.require_dtype(w, np.int16, "weights")
        if len(w.shape) != 1 or w.shape[0] < 1 or x.size % w.shape[0]:
            raise self.fail(f"weights {list(w.shape)} must be 1-D and divide the input's {x.size} samples")
        return [tuple(x.shape)]

    def eval(self, inputs, outputs):
        x, w = inputs
        prod = (x.reshape(-1, w.shape[0]).astype(np.int32) * w.astype(np.int32)) >> min(self.shift, 31)
        return [np.clip(prod, -32768, 32767).astype(np.int16).reshape(x.shape)]


def max_abs16(x: np.ndarray) -> int:
    """TFLM's MaxAbs16, including what its int16 arithmetic makes of -32768."""
    x = np.asarray(x, dtype=np.int16).reshape(-1)
    if not (x == -32768).any():
        return int(np.abs(x.astype(np.int32)).max()) if x.size else 0
    best = 0
    for v in x.tolist():  # -(-32768) stored in an int16 is -32768 again: follow it value by value
        if v > best:
            best = v
        elif -v > best:
            best = ((-v + 32768) & 0xFFFF) - 32768
    return best


def msb32(value: int) -> int:
    """MostSignificantBit32 as compiled by GCC: bit length, and 32 for 0 (``32 - clz``)."""
    value &= 0xFFFFFFFF
    return value.bit_length() if value else 32


@register("SignalFftAutoScale", kind="any")
class SignalFftAutoScale(SignalKernel):
    """Scales an int16 frame up to use the whole int16 range; outputs the shift."""

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 1, 2, "input -> output, scale_bits")
        self.require_dtype(inputs[0], np.int16, "input")
        self.require_dtype(outputs[1], np.int32, "scale_bits output")
        shape = tuple(inputs[0].shape)
        if not shape:
            raise self.fail("input must have at least one dimension")
        return [shape, ()]

    def eval(self, inputs, outputs):
        x = inputs[0]
        n = x.shape[0]  # TFLM scales output->dims->data[0] samples
        head = x.reshape(-1)[:n]
        scale_bits = max(16 - msb32(max_abs16(head)) - 1, 0)
        out = np.zeros(x.size, dtype=np.int16)
        out[:n] = (head.astype(np.int32) << scale_bits).astype(np.int16)
        return [out.reshape(x.shape), np.array(scale_bits, dtype=np.int32)]


class _FftKernel(SignalKernel):
    """Shared option handling of Rfft and Irfft."""

    inverse = False

    def __init__(self, node):
        super().__init__(node)
        self.fft_length = self.int_option("fft_length", minimum=2)
        if self.fft_length % 2:
            raise self.fail(f"fft_length {self.fft_length} must be even")
        type_code = self.int_option("T")
        if type_code not in _FFT_TYPES:
            raise self.fail(f"option T={type_code} is not int16 (7), int32 (2) or float32 (0)")
        self.dtype = np.dtype(_FFT_TYPES[type_code])
        self.fft = RealFft(self.fft_length, self.inverse, self.dtype)


@register("SignalRfft", kind="any")
class SignalRfft(_FftKernel):
    """Real FFT of each row (zero padded to fft_length): interleaved complex output."""

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, self.dtype, self.dtype)
        x = inputs[0]
        if not x.shape or x.shape[-1] > self.fft_length:
            raise self.fail(f"input rows of {list(x.shape)[-1:]} samples do not fit fft_length {self.fft_length}")
        return [tuple(x.shape[:-1]) + (self.fft_length + 2,)]

    def eval(self, inputs, outputs):
        x = inputs[0]
        rows = x.reshape(-1, x.shape[-1])
        padded = np.zeros((rows.shape[0], self.fft_length), dtype=self.dtype)
        padded[:, :rows.shape[1]] = rows
        re, im = self.fft.forward(padded)
        out = np.empty((rows.shape[0], self.fft_length + 2), dtype=self.dtype)
        out[:, 0::2] = re
        out[:, 1::2] = im
        return [out.reshape(tuple(x.shape[:-1]) + (self.fft_length + 2,))]


@register("SignalIrfft", kind="any")
class SignalIrfft(_FftKernel):
    """Inverse real FFT of each row of interleaved complex bins."""

    inverse = True

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, self.dtype, self.dtype)
        x = inputs[0]
        bins = self.fft_length // 2 + 1
        if not x.shape or x.shape[-1] < 2 * bins:
            raise self.fail(f"input rows of {list(x.shape)[-1:]} values hold fewer than the {bins} "
                            f"complex bins of fft_length {self.fft_length}")
        if x.shape[-1] % 2:
            raise self.fail(f"input rows must hold (re, im) pairs, got {x.shape[-1]} values")
        return [tuple(x.shape[:-1]) + (self.fft_length,)]

    def eval(self, inputs, outputs):
        x = inputs[0]
        bins = self.fft_length // 2 + 1
        rows = x.reshape(-1, x.shape[-1])
        out = self.fft.inverse_transform(rows[:, 0:2 * bins:2], rows[:, 1:2 * bins:2])
        if self.dtype == np.float32:
            out = out / np.float32(self.fft_length)
        return [out.reshape(tuple(x.shape[:-1]) + (self.fft_length,))]


@register("SignalEnergy", kind="any")
class SignalEnergy(SignalKernel):
    """Power of int16 complex bins [start_index, end_index) as uint32."""

    def __init__(self, node):
        super().__init__(node)
        self.start = self.int_option("start_index", minimum=0)
        self.end = self.int_option("end_index", minimum=0)

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, np.int16, np.uint32)
        x = inputs[0]
        bins = x.size // 2
        if self.end > bins or self.start > self.end:
            raise self.fail(f"bins [{self.start}, {self.end}) do not fit the input's {bins} complex values")
        return [tuple(outputs[0].shape) if outputs[0].size >= self.end else (bins,)]

    def eval(self, inputs, outputs):
        x = inputs[0].reshape(-1)
        re = x[0::2][self.start:self.end].astype(np.int64)
        im = x[1::2][self.start:self.end].astype(np.int64)
        shape = outputs[0].shape if outputs[0] is not None else (x.size // 2,)
        out = np.zeros(int(np.prod(shape)), dtype=np.uint32)
        out[self.start:self.end] = (re * re + im * im).astype(np.uint32)
        return [out.reshape(shape)]
