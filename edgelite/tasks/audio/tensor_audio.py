"""``TensorAudio`` and ``AudioFormat``: audio input of the audio tasks (WAV via the ``wave`` module).

Samples are float32 in [-1, 1): 16-bit PCM values divided by 32768, as tflite-support's
``DecodeLin16WaveAsFloatVector``. The buffer is ``(buffer_size, channels)``; loading more samples
than fit keeps the most recent ones (a ring buffer filled from the end).
"""
from __future__ import annotations

import dataclasses
import os
import wave

import numpy as np


@dataclasses.dataclass
class AudioFormat:
    channels: int
    sample_rate: int


def read_wav(file_name: str) -> tuple[np.ndarray, AudioFormat]:
    """A 16-bit PCM WAV file as ``((frames, channels) float32, AudioFormat)``."""
    path = os.fspath(file_name)
    try:
        with wave.open(path, "rb") as wav:
            if wav.getsampwidth() != 2:
                raise ValueError(f"Can only read 16-bit WAV files, but {path} has "
                                 f"{8 * wav.getsampwidth()}-bit samples")
            channels, rate = wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except wave.Error as e:
        raise ValueError(f"Bad WAV file {path}: {e}") from e
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    return samples.reshape(-1, channels), AudioFormat(channels=channels, sample_rate=rate)


class TensorAudio:
    """A fixed-size float32 audio buffer of ``buffer_size`` frames in ``audio_format``."""

    def __init__(self, audio_format: AudioFormat, buffer_size: int) -> None:
        self._format = audio_format
        self._buffer_size = int(buffer_size)
        self._buffer = np.zeros([self._buffer_size, self._format.channels], dtype=np.float32)

    def clear(self) -> None:
        """Fill the buffer with zeros."""
        self._buffer.fill(0)

    @classmethod
    def create_from_wav_file(cls, file_name: str, sample_count: int,
                             offset: int = 0) -> "TensorAudio":
        """The first ``sample_count`` frames of a WAV file (fewer if the file is shorter),
        skipping ``offset`` frames."""
        if offset < 0:
            raise ValueError("offset cannot be negative")
        samples, audio_format = read_wav(file_name)
        samples = samples[offset:offset + sample_count]
        tensor = cls(audio_format, len(samples))
        tensor.load_from_array(samples)
        return tensor

    def load_from_array(self, src: np.ndarray, offset: int = 0, size: int = -1) -> None:
        """Append ``src[offset:offset + size]`` (frames x channels) to the buffer."""
        src = np.asarray(src, dtype=np.float32)
        if src.ndim == 1 and self._format.channels == 1:
            src = src[:, None]
        if src.ndim != 2 or src.shape[1] != self._format.channels:
            raise ValueError("Input audio contains an invalid number of channels. "
                             f"Expect {self._format.channels}.")
        if size < 0:
            size = len(src)
        if offset + size > len(src):
            raise ValueError(f"Index out of range. offset {offset} + size {size} should be <= "
                             f"src's length: {len(src)}")
        if len(src) >= len(self._buffer):
            start = offset + size - len(self._buffer)
            self._buffer = src[start:start + len(self._buffer)].copy()
        elif size > 0:
            self._buffer = np.roll(self._buffer, -size, axis=0)
            self._buffer[-size:, :] = src[offset:offset + size]

    @property
    def format(self) -> AudioFormat:
        return self._format

    @property
    def buffer_size(self) -> int:
        return self._buffer_size

    @property
    def buffer(self) -> np.ndarray:
        return self._buffer
