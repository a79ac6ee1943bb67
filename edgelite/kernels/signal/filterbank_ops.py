"""TFLM signal ops on filterbank channels: FilterBank, FilterBankSquareRoot,
FilterBankSpectralSubtraction, PCAN and FilterBankLog.

They follow ``signal/src`` and ``signal/micro/kernels`` of tensorflow/tflite-micro bit for
bit, in the C types TFLM uses (uint32 wrap-around, uint64 accumulators):

* ``SignalFilterBank`` (option ``num_channels``; inputs: uint32 spectrum, int16 weights,
  int16 unweights, int16 channel_frequency_starts, channel_weight_starts, channel_widths,
  each of num_channels + 1 entries): triangular mel filters. Channel i accumulates
  ``weights * x`` over its band plus ``unweights * x`` of channel i - 1's band, in uint64;
  channel 0 is scratch and is dropped, as in ``FilterbankAccumulateChannels``.
* ``SignalFilterBankSquareRoot`` (inputs uint64 channels, int32 scale bits): the rounded
  integer square root (``Sqrt64``, which takes 32-bit shortcuts below 2^32 and saturates at
  0xFFFF there) shifted right by the scale bits.
* ``SignalFilterBankSpectralSubtraction`` (options ``num_channels``, ``smoothing``,
  ``one_minus_smoothing``, ``alternate_smoothing``, ``alternate_one_minus_smoothing``,
  ``smoothing_bits``, ``spectral_subtraction_bits``, ``min_signal_remaining``,
  ``clamping``): subtracts a per-channel noise estimate, a low-pass filter of the signal
  that is **carried across invokes** in the kernel, set to zero at prepare and by
  :meth:`reset_state`; the second output is a copy of the new estimate.
* ``SignalPCAN`` (option ``snr_shift``; inputs uint32 channels, uint32 noise estimate,
  int16 gain lookup table): per-channel automatic gain control with TFLM's piecewise
  polynomial gain and "shrink" functions.
* ``SignalFilterBankLog`` (options ``output_scale``, ``input_correction_bits``): TFLM's
  fixed-point natural log (a 128-segment table), saturated to int16; 0 for inputs <= 1.
"""
from __future__ import annotations

import math

import numpy as np

from ..base import register
from .options import SignalKernel

U32 = np.uint32
U64 = np.uint64
_MASK32 = 0xFFFFFFFF


def bit_length(x: np.ndarray) -> np.ndarray:
    """Bit length of each uint64 (0 for 0), exactly (no float rounding)."""
    x = np.asarray(x, dtype=U64)
    hi = (x >> U64(32)).astype(np.int64)
    lo = (x & U64(_MASK32)).astype(np.int64)
    # frexp of a value < 2^32 held in a double is exact
    hi_bits = np.frexp(hi.astype(np.float64))[1].astype(np.int64)
    lo_bits = np.frexp(lo.astype(np.float64))[1].astype(np.int64)
    return np.where(hi > 0, hi_bits + 32, lo_bits)


def isqrt_rounded(x: np.ndarray, cap: int) -> np.ndarray:
    """TFLM's Sqrt32/Sqrt64 digit-by-digit root: floor(sqrt(x)), plus one when the remainder
    exceeds the root (round to nearest), unless the root already is ``cap``."""
    values = [int(v) for v in np.asarray(x, dtype=U64).reshape(-1)]
    out = []
    for v in values:
        r = math.isqrt(v)
        if v - r * r > r and r != cap:
            r += 1
        out.append(r)
    return np.array(out, dtype=U64).reshape(np.shape(x))


def sqrt64(x: np.ndarray) -> np.ndarray:
    """``Sqrt64``: values below 2^32 go through ``Sqrt32`` (a uint16 result capped at 0xFFFF)."""
    x = np.asarray(x, dtype=U64)
    small = x < U64(1 << 32)
    return np.where(small, isqrt_rounded(x, 0xFFFF), isqrt_rounded(x, 0xFFFFFFFF)).astype(U64)


@register("SignalFilterBank", kind="any")
class SignalFilterBank(SignalKernel):
    """Mel filterbank accumulation of a uint32 power spectrum into uint64 channels."""

    def __init__(self, node):
        super().__init__(node)
        self.num_channels = self.int_option("num_channels", minimum=1)

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 6, 1,
                            "input, weights, unweights, channel_frequency_starts, "
                            "channel_weight_starts, channel_widths -> output")
        self.require_dtype(inputs[0], np.uint32, "input")
        for spec, what in zip(inputs[1:], ("weights", "unweights", "channel_frequency_starts",
                                           "channel_weight_starts", "channel_widths")):
            self.require_dtype(spec, np.int16, what)
        for spec in inputs[3:]:
            if spec.size < self.num_channels + 1:
                raise self.fail(f"{spec.name!r} has {spec.size} entries, needs num_channels + 1 = "
                                f"{self.num_channels + 1}")
        self.require_dtype(outputs[0], np.uint64, "output")
        self._gather = None
        out_shape = tuple(outputs[0].shape)
        if int(np.prod(out_shape, dtype=np.int64)) > self.num_channels:
            raise self.fail(f"output {list(out_shape)} holds more than num_channels={self.num_channels}")
        return [out_shape]

    def _plan(self, n_input, n_weights, freq_starts, weight_starts, widths):
        """Flat (channel, input index, weight index) triples of every band, checked once."""
        channels, freq_idx, weight_idx = [], [], []
        for i in range(self.num_channels + 1):
            width = int(widths[i])
            if width <= 0:
                continue
            f0, w0 = int(freq_starts[i]), int(weight_starts[i])
            if f0 < 0 or f0 + width > n_input or w0 < 0 or w0 + width > n_weights:
                raise self.fail(f"channel {i}: band [{f0}, {f0 + width}) or weights [{w0}, {w0 + width}) "
                                f"fall outside the {n_input} inputs / {n_weights} weights")
            channels.extend([i] * width)
            freq_idx.extend(range(f0, f0 + width))
            weight_idx.extend(range(w0, w0 + width))
        return (np.array(channels, dtype=np.intp), np.array(freq_idx, dtype=np.intp),
                np.array(weight_idx, dtype=np.intp))

    def eval(self, inputs, outputs):
        x, weights, unweights, freq_starts, weight_starts, widths = inputs
        key = (freq_starts.tobytes(), weight_starts.tobytes(), widths.tobytes(), x.size, weights.size)
        if self._gather is None or self._gather[0] != key:
            self._gather = (key, self._plan(x.size, weights.size, freq_starts, weight_starts, widths))
        channel, freq_idx, weight_idx = self._gather[1]
        spectrum = x.reshape(-1).astype(U64)[freq_idx]
        # int16 weights converted to uint64 (sign-extended), products and sums wrap mod 2^64
        w = weights.reshape(-1)[weight_idx].astype(np.int64).astype(U64)
        u = unweights.reshape(-1)[weight_idx].astype(np.int64).astype(U64)
        n = self.num_channels + 1
        weighted = np.zeros(n, dtype=U64)
        unweighted = np.zeros(n, dtype=U64)
        np.add.at(weighted, channel, w * spectrum)
        np.add.at(unweighted, channel, u * spectrum)
        acc = weighted.copy()
        acc[1:] += unweighted[:-1]
        out_shape = outputs[0].shape
        size = int(np.prod(out_shape, dtype=np.int64))
        return [acc[1:1 + size].reshape(out_shape)]


@register("SignalFilterBankSquareRoot", kind="any")
class SignalFilterBankSquareRoot(SignalKernel):
    """Rounded square root of uint64 channels, shifted right by a scale (uint32 output)."""

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 2, 1, "input, scale_bits -> output")
        self.require_dtype(inputs[0], np.uint64, "input")
        self.require_dtype(inputs[1], np.int32, "scale_bits")
        self.require_dtype(outputs[0], np.uint32, "output")
        if not inputs[0].shape:
            raise self.fail("input must be 1-D [num_channels]")
        return [(inputs[0].shape[0],)]

    def eval(self, inputs, outputs):
        x, scale_bits = inputs
        n = x.shape[0]  # TFLM takes num_channels from dims[0]
        shift = int(np.asarray(scale_bits).reshape(-1)[0]) & 31  # x86's shift-count masking
        roots = sqrt64(x.reshape(-1)[:n]).astype(U32)
        return [(roots >> U32(shift)).astype(U32)]


@register("SignalFilterBankSpectralSubtraction", kind="any")
class SignalFilterBankSpectralSubtraction(SignalKernel):
    """Noise suppression by spectral subtraction, with a noise estimate kept across invokes."""

    def __init__(self, node):
        super().__init__(node)
        get = self.int_option
        self.num_channels = get("num_channels", minimum=1)
        self.smoothing = get("smoothing") & _MASK32
        self.one_minus_smoothing = get("one_minus_smoothing") & _MASK32
        self.alternate_smoothing = get("alternate_smoothing") & _MASK32
        self.alternate_one_minus_smoothing = get("alternate_one_minus_smoothing") & _MASK32
        self.smoothing_bits = get("smoothing_bits", minimum=0)
        self.spectral_subtraction_bits = get("spectral_subtraction_bits", minimum=0)
        self.min_signal_remaining = get("min_signal_remaining") & _MASK32
        self.clamping = self.bool_option("clamping")
        if self.smoothing_bits > 31 or self.spectral_subtraction_bits > 63:
            raise self.fail("smoothing_bits must be < 32 and spectral_subtraction_bits < 64")
        even = np.arange(self.num_channels) % 2 == 0
        self._smooth = np.where(even, self.smoothing, self.alternate_smoothing).astype(U64)
        self._one_minus = np.where(even, self.one_minus_smoothing,
                                   self.alternate_one_minus_smoothing).astype(U64)
        self.noise_estimate = np.zeros(self.num_channels, dtype=U32)

    def reset_state(self) -> None:
        self.noise_estimate = np.zeros(self.num_channels, dtype=U32)

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 1, 2, "input -> output, noise_estimate")
        self.require_dtype(inputs[0], np.uint32, "input")
        self.require_dtype(outputs[0], np.uint32, "output")
        self.require_dtype(outputs[1], np.uint32, "noise_estimate output")
        if inputs[0].size < self.num_channels:
            raise self.fail(f"input has {inputs[0].size} channels, num_channels is {self.num_channels}")
        self.reset_state()  # TFLM's Prepare resets the estimate
        shape = (self.num_channels,)
        return [tuple(outputs[0].shape) if outputs[0].size == self.num_channels else shape,
                tuple(outputs[1].shape) if outputs[1].size == self.num_channels else shape]

    def eval(self, inputs, outputs):
        n = self.num_channels
        x = inputs[0].reshape(-1)[:n].astype(U64)
        ss_bits = U64(self.spectral_subtraction_bits)
        scaled_up = (x << U64(self.smoothing_bits)) & U64(_MASK32)          # uint32 shift
        estimate = ((scaled_up * self._smooth + self.noise_estimate.astype(U64) * self._one_minus)
                    >> ss_bits) & U64(_MASK32)
        over = estimate > scaled_up
        kept = np.where(over, scaled_up, estimate)
        new_noise = kept if self.clamping else estimate
        floor = ((x * U64(self.min_signal_remaining)) >> ss_bits) & U64(_MASK32)
        subtracted = (scaled_up - kept) >> U64(self.smoothing_bits)
        out = np.maximum(subtracted, floor).astype(U32)
        self.noise_estimate = new_noise.astype(U32)
        shape0 = outputs[0].shape if outputs[0] is not None else (n,)
        shape1 = outputs[1].shape if outputs[1] is not None else (n,)
        return [out.reshape(shape0), self.noise_estimate.copy().reshape(shape1)]


_PCAN_SNR_BITS = 12
_PCAN_OUTPUT_BITS = 6


def wide_dynamic_function(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """TFLM's WideDynamicFunction: the PCAN gain of each noise estimate (int16 results)."""
    x = np.asarray(x, dtype=np.int64)  # uint32 values
    lut = np.asarray(lut, dtype=np.int64)
    small = x <= 2
    interval = bit_length(x.astype(U64))
    interval = np.where(small, 3, interval)  # keep the lookups in range where unused
    base = 4 * interval - 6
    if base.size and (base.max() + 2 >= lut.size):
        raise ValueError(f"gain lookup table of {lut.size} entries is too short for "
                         f"noise estimates up to {int(x.max())}")
    left = np.clip(11 - interval, 0, 63)
    right = np.clip(interval - 11, 0, 63)
    shifted = np.where(interval < 11, (x << left) & _MASK32, x >> right)
    frac = shifted & 0x3FF
    result = (lut[base + 2] * frac) >> 5
    result = result + lut[base + 1] * 32
    result = _wrap32(result * frac)
    result = _wrap32(result + (1 << 14)) >> 15
    result = result + lut[base]
    gain = ((result + 32768) & 0xFFFF) - 32768                  # (int16)result
    return np.where(small, lut[np.minimum(x, 2)], gain)


def _wrap32(v: np.ndarray) -> np.ndarray:
    return ((v + (1 << 31)) & _MASK32) - (1 << 31)


def pcan_shrink(snr: np.ndarray) -> np.ndarray:
    """x^2/4 below 2 and x - 1 above, from kPcanSnrBits to kPcanOutputBits fractional bits."""
    snr = np.asarray(snr, dtype=np.int64)
    low = (snr * snr) >> (2 + 2 * _PCAN_SNR_BITS - _PCAN_OUTPUT_BITS)
    high = ((snr >> (_PCAN_SNR_BITS - _PCAN_OUTPUT_BITS)) - (1 << _PCAN_OUTPUT_BITS)) & _MASK32
    return np.where(snr < (2 << _PCAN_SNR_BITS), low & _MASK32, high)


@register("SignalPCAN", kind="any")
class SignalPCAN(SignalKernel):
    """Per-channel energy normalization (automatic gain control) of uint32 channels."""

    def __init__(self, node):
        super().__init__(node)
        self.snr_shift = self.int_option("snr_shift", minimum=0)
        if self.snr_shift > 63:
            raise self.fail(f"snr_shift {self.snr_shift} must be < 64")

    def prepare(self, inputs, outputs):
        self.require_counts(inputs, outputs, 3, 1, "input, noise_estimate, gain_lut -> output")
        self.require_dtype(inputs[0], np.uint32, "input")
        self.require_dtype(inputs[1], np.uint32, "noise_estimate")
        self.require_dtype(inputs[2], np.int16, "gain_lut")
        self.require_dtype(outputs[0], np.uint32, "output")
        if not inputs[0].shape or inputs[1].size < inputs[0].shape[0]:
            raise self.fail("noise_estimate must have an entry per input channel")
        return [tuple(inputs[0].shape)]

    def eval(self, inputs, outputs):
        x, noise, lut = inputs
        n = x.shape[0]  # TFLM processes dims[0] channels and copies the rest unchanged
        flat = x.reshape(-1)
        try:
            gain = wide_dynamic_function(noise.reshape(-1)[:n], lut.reshape(-1))
        except ValueError as e:
            raise self.fail(str(e)) from None
        gain_u32 = (gain & _MASK32).astype(U64)                       # (uint32)int16
        snr = ((flat[:n].astype(U64) * gain_u32) >> U64(self.snr_shift)) & U64(_MASK32)
        out = flat.copy()
        out[:n] = pcan_shrink(snr.astype(np.int64)).astype(U32)
        return [out.reshape(x.shape)]


_LOG_LUT = np.array([
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797,
    2944, 3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549,
    4633, 4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444,
    5477, 5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626,
    5615, 5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203,
    5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264,
    4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875,
    2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094,
    963, 830, 695, 559, 421, 282, 142, 0, 0], dtype=np.int64)
_LOG_SCALE_LOG2 = 16
_LOG_SEGMENTS_LOG2 = 7
_LOG_COEFF = 45426


def log32(x: np.ndarray, out_scale: int) -> np.ndarray:
    """TFLM's Log32: fixed-point ln(x) * out_scale / 2^16 for uint32 x > 1."""
    x = np.asarray(x, dtype=np.int64)
    integer = bit_length(x.astype(U64)) - 1
    frac = x - (np.int64(1) << integer)
    frac = np.where(integer < _LOG_SCALE_LOG2, frac << np.clip(_LOG_SCALE_LOG2 - integer, 0, 63),
                    frac >> np.clip(integer - _LOG_SCALE_LOG2, 0, 63))
    base_seg = frac >> (_LOG_SCALE_LOG2 - _LOG_SEGMENTS_LOG2)
    c0 = _LOG_LUT[base_seg]
    c1 = _LOG_LUT[base_seg + 1]
    seg_base = (1 << (_LOG_SCALE_LOG2 - _LOG_SEGMENTS_LOG2)) * base_seg
    rel_pos = ((c1 - c0) * (frac - seg_base)) >> _LOG_SCALE_LOG2
    fraction = (frac + c0 + rel_pos) & _MASK32
    log2 = ((integer << _LOG_SCALE_LOG2) + fraction) & _MASK32
    loge = ((_LOG_COEFF * log2 + (1 << 15)) >> _LOG_SCALE_LOG2) & _MASK32
    return ((((out_scale & _MASK32) * loge) & _MASK32) + (1 << 15) & _MASK32) >> _LOG_SCALE_LOG2


@register("SignalFilterBankLog", kind="any")
class SignalFilterBankLog(SignalKernel):
    """Fixed-point log of uint32 channels, scaled, saturated to int16."""

    def __init__(self, node):
        super().__init__(node)
        self.output_scale = self.int_option("output_scale")
        self.correction_bits = self.int_option("input_correction_bits", minimum=0)
        if self.correction_bits > 31:
            raise self.fail(f"input_correction_bits {self.correction_bits} must be < 32")

    def prepare(self, inputs, outputs):
        self.require_unary(inputs, outputs, np.uint32, np.int16)
        if not inputs[0].shape:
            raise self.fail("input must be 1-D [num_channels]")
        return [(inputs[0].shape[0],)]

    def eval(self, inputs, outputs):
        x = inputs[0]
        n = x.shape[0]
        scaled = (x.reshape(-1)[:n].astype(np.int64) << self.correction_bits) & _MASK32
        positive = scaled > 1
        logs = log32(np.where(positive, scaled, 2), self.output_scale)
        return [np.where(positive, np.minimum(logs, 32767), 0).astype(np.int16)]
