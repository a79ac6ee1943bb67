"""AudioSpectrogram and Mfcc: TensorFlow's speech features, as LiteRT's custom ops compute them.

**AudioSpectrogram** (tensorflow/lite/kernels/audio_spectrogram.cc with internal/spectrogram.cc):
float32 audio ``[samples, channels]`` -> ``[channels, frames, fft_length // 2 + 1]``, where
``fft_length`` is the next power of two of ``window_size`` and frame ``k`` covers samples
``[k * stride, k * stride + window_size)``. Each frame is multiplied by a periodic Hann window
(``0.5 - 0.5 cos(2 pi i / window_size)``, in float64), zero-padded, transformed by a float64 real
FFT, and ``re^2 + im^2`` is rounded to float32; without ``magnitude_squared`` the float32 square
root of that is returned. Options (FlexBuffer): ``window_size``, ``stride``, ``magnitude_squared``.

**Mfcc** (mfcc.cc with internal/mfcc.cc, mfcc_mel_filterbank.cc, mfcc_dct.cc): a squared
magnitude spectrogram ``[channels, frames, bins]`` and the sample rate (int32) ->
``[channels, frames, dct_coefficient_count]``. Per frame, in float64: ``sqrt`` of each bin is
spread over a triangular mel filterbank (HTK style, ``mel = 1127 ln(1 + f / 700)``, DC excluded),
floored at 1e-12, its natural log taken and a DCT-II with ``sqrt(2 / channels)`` scaling keeps
the first coefficients. Options (FlexBuffer, read as integers as LiteRT reads them):
``upper_frequency_limit``, ``lower_frequency_limit``, ``filterbank_channel_count``,
``dct_coefficient_count``. When the upper limit reaches past the last bin, LiteRT's filterbank
produces nothing and the coefficients are 0; so are ours.

Accumulations run in LiteRT's order, with the C library's ``cos``/``log``/``log1p``
(:mod:`math`); only the FFT differs (numpy's pocketfft instead of Ooura's rdft), by float64
rounding, which float32 outputs almost never show.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..base import Kernel, register
from ..custom_options import flexbuffer_options

F32 = np.float32
PI = math.atan(1.0) * 4.0
FILTERBANK_FLOOR = 1e-12


def _next_power_of_two(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


@lru_cache(maxsize=32)
def periodic_hann(length: int) -> np.ndarray:
    """GetPeriodicHann: 0.5 - 0.5 cos(2 pi i / length), float64."""
    return np.array([0.5 - 0.5 * math.cos((2.0 * PI * i) / length) for i in range(length)])


def spectrogram_frames(samples: int, window: int, stride: int) -> int:
    return 0 if samples < window else 1 + (samples - window) // stride


def squared_magnitude_spectrogram(audio: np.ndarray, window: int, stride: int) -> np.ndarray:
    """[frames, fft_length // 2 + 1] float32 ``re^2 + im^2`` of one channel (float64 inside)."""
    fft_length = _next_power_of_two(window)
    frames = spectrogram_frames(len(audio), window, stride)
    if frames == 0:
        return np.zeros((0, fft_length // 2 + 1), F32)
    starts = np.arange(frames) * stride
    windows = audio.astype(np.float64)[starts[:, None] + np.arange(window)] * periodic_hann(window)
    spectrum = np.fft.rfft(windows, n=fft_length, axis=1)
    re, im = spectrum.real, spectrum.imag
    return (re * re + im * im).astype(F32)


@register("AudioSpectrogram", kind="any")
class AudioSpectrogram(Kernel):
    """[samples, channels] float32 audio -> [channels, frames, bins] spectrogram."""

    def __init__(self, node):
        super().__init__(node)
        m = flexbuffer_options(self)
        self.window = int(m.get("window_size", 0))
        self.stride = int(m.get("stride", 0))
        self.magnitude_squared = bool(m.get("magnitude_squared", False))

    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "audio", 1)
        x = inputs[0]
        if len(x.shape) != 2:
            raise self.fail(f"audio must be 2-D [samples, channels], got {list(x.shape)}")
        if x.dtype != F32 or outputs[0].dtype != F32:
            raise self.fail(f"audio and output must be float32, got {x.dtype} and {outputs[0].dtype}")
        if self.window < 2 or self.stride < 1:
            raise self.fail(f"window_size must be >= 2 and stride >= 1, got {self.window} and {self.stride}")
        bins = _next_power_of_two(self.window) // 2 + 1
        return [(x.shape[1], spectrogram_frames(x.shape[0], self.window, self.stride), bins)]

    def eval(self, inputs, outputs):
        audio, out = inputs[0], outputs[0]
        for channel in range(audio.shape[1]):
            power = squared_magnitude_spectrogram(audio[:, channel], self.window, self.stride)
            out[channel] = power if self.magnitude_squared else np.sqrt(power)


def _freq_to_mel(freq: float) -> float:
    return 1127.0 * math.log1p(freq / 700.0)


class MelFilterbank:
    """MfccMelFilterbank: the bin -> channel map and triangle weights, in float64."""

    def __init__(self, input_length: int, sample_rate: float, channels: int, lower: float, upper: float):
        self.channels = channels
        mel_low, mel_hi = _freq_to_mel(lower), _freq_to_mel(upper)
        spacing = (mel_hi - mel_low) / float(channels + 1)
        centers = [mel_low + spacing * (i + 1) for i in range(channels + 1)]
        hz_per_bin = 0.5 * sample_rate / float(input_length - 1)
        self.start = int(1.5 + lower / hz_per_bin)
        self.end = int(upper / hz_per_bin)
        self.input_length = input_length
        mapper, weights = [], []
        channel = 0
        for i in range(input_length):
            melf = _freq_to_mel(i * hz_per_bin)
            if i < self.start or i > self.end:
                mapper.append(-2)
                weights.append(0.0)
                continue
            while channel < channels and centers[channel] < melf:
                channel += 1
            mapper.append(channel - 1)
            if channel - 1 >= 0:
                weights.append((centers[channel] - melf) / (centers[channel] - centers[channel - 1]))
            else:
                weights.append((centers[0] - melf) / (centers[0] - mel_low))
        self.mapper, self.weights = mapper, weights

    def compute(self, spectra: np.ndarray) -> np.ndarray | None:
        """[frames, channels] filterbank energies of [frames, bins] float64 power spectra
        (None when the filterbank reaches past the last bin: LiteRT then computes nothing)."""
        if spectra.shape[1] <= self.end:
            return None
        out = np.zeros((spectra.shape[0], self.channels))
        for i in range(self.start, self.end + 1):  # bin by bin, as the C++ accumulates
            spec_val = np.sqrt(spectra[:, i])
            weighted = spec_val * self.weights[i]
            channel = self.mapper[i]
            if channel >= 0:
                out[:, channel] += weighted
            if channel + 1 < self.channels:
                out[:, channel + 1] += spec_val - weighted
        return out


@lru_cache(maxsize=32)
def dct_cosines(input_length: int, coefficients: int) -> np.ndarray:
    """MfccDct's table: sqrt(2 / n) cos(i (pi / n) (j + 0.5)), float64 [coefficients, n]."""
    fnorm = math.sqrt(2.0 / input_length)
    arg = PI / input_length
    return np.array([[fnorm * math.cos(i * arg * (j + 0.5)) for j in range(input_length)]
                     for i in range(coefficients)])


def _log(x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(math.log, x.reshape(-1).tolist()), np.float64, count=x.size).reshape(x.shape)


@register("Mfcc", kind="any")
class Mfcc(Kernel):
    """[channels, frames, bins] squared-magnitude spectrogram + sample rate -> MFCCs."""

    def __init__(self, node):
        super().__init__(node)
        m = flexbuffer_options(self)
        # LiteRT reads every option with AsInt64 (a fractional limit is truncated) and keeps 0
        # for a missing one.
        self.upper = float(int(m.get("upper_frequency_limit", 0)))
        self.lower = float(int(m.get("lower_frequency_limit", 0)))
        self.filterbank_channels = int(m.get("filterbank_channel_count", 0))
        self.coefficients = int(m.get("dct_coefficient_count", 0))
        self._filterbanks: dict[tuple, MelFilterbank] = {}

    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "spectrogram, sample_rate", 2)
        spec, rate = inputs
        if len(spec.shape) != 3 or min(spec.shape) <= 0:
            raise self.fail(f"spectrogram must be 3-D and non-empty, got {list(spec.shape)}")
        if rate.size != 1 or rate.dtype != np.int32:
            raise self.fail(f"sample_rate must be one int32 value, got {rate.dtype} {list(rate.shape)}")
        if spec.dtype != F32 or outputs[0].dtype != F32:
            raise self.fail(f"spectrogram and output must be float32, got {spec.dtype} and {outputs[0].dtype}")
        if self.coefficients <= 0 or self.filterbank_channels <= 0:
            raise self.fail(f"dct_coefficient_count ({self.coefficients}) and filterbank_channel_count "
                            f"({self.filterbank_channels}) must be positive")
        return [(spec.shape[0], spec.shape[1], self.coefficients)]

    def _filterbank(self, bins: int, rate: int) -> MelFilterbank:
        key = (bins, rate)
        bank = self._filterbanks.get(key)
        if bank is None:
            if rate <= 0 or bins < 2 or self.lower < 0 or self.upper <= self.lower \
                    or self.coefficients > self.filterbank_channels:
                raise self.fail(
                    f"cannot build the MFCC for {bins} bins at {rate} Hz with limits "
                    f"[{self.lower}, {self.upper}] Hz, {self.filterbank_channels} filterbank channels and "
                    f"{self.coefficients} coefficients (need rate > 0, bins >= 2, 0 <= lower < upper, "
                    f"coefficients <= channels)")
            bank = self._filterbanks[key] = MelFilterbank(bins, float(rate), self.filterbank_channels,
                                                          self.lower, self.upper)
        return bank

    def eval(self, inputs, outputs):
        spec, out = inputs[0], outputs[0]
        channels, frames, bins = spec.shape
        bank = self._filterbank(bins, int(np.asarray(inputs[1]).reshape(-1)[0]))
        energies = bank.compute(spec.reshape(-1, bins).astype(np.float64))
        if energies is None:
            out.fill(0)
            return
        logs = _log(np.maximum(energies, FILTERBANK_FLOOR))
        cosines = dct_cosines(self.filterbank_channels, self.coefficients)
        result = np.zeros((logs.shape[0], self.coefficients))
        for j in range(self.filterbank_channels):  # the DCT's sums in order, term by term
            result += logs[:, j:j + 1] * cosines[:, j]
        out[...] = result.reshape(channels, frames, self.coefficients).astype(F32)
