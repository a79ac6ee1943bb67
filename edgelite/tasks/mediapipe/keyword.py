"""``KeywordSpotter``: TensorFlow Lite Micro's micro_speech pipeline.

As ``tensorflow/lite/micro/examples/micro_speech``: the audio preprocessor model (signal ops:
window, FFT, filter bank, noise reduction, PCAN, log) turns each 30 ms window (480 samples at
16 kHz) every 20 ms (320 samples) into 40 int8 features; its noise estimate carries across
windows, so it is reset before each clip. 49 windows (one second) make the 1960-value input of
the keyword model, whose 4 dequantized outputs score silence, unknown, yes and no. With the float
preprocessor, the features are quantized with the keyword model's input scale and zero point.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from ...errors import ModelError
from ..processor.results import Category, ClassificationResult, Classifications

KEYWORD_LABELS = ("silence", "unknown", "yes", "no")
SAMPLE_RATE = 16000
WINDOW_SAMPLES = 480
STRIDE_SAMPLES = 320


def _load(path: str | os.PathLike):
    from ...interpreter import Interpreter

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path}")
    interpreter = Interpreter(model_path=path)
    interpreter.allocate_tensors()
    return interpreter


class KeywordSpotter:
    """Audio preprocessor + micro_speech keyword model: ``classify_wav(path)`` -> Category."""

    def __init__(self, preprocessor_path: str | os.PathLike, model_path: str | os.PathLike,
                 labels: tuple[str, ...] = KEYWORD_LABELS):
        self.preprocessor = _load(preprocessor_path)
        self.model = _load(model_path)
        self._pre_in = self.preprocessor.get_input_details()[0]
        self._pre_out = self.preprocessor.get_output_details()[0]
        self._in = self.model.get_input_details()[0]
        self._out = self.model.get_output_details()[0]
        if list(self._pre_in["shape"]) != [1, WINDOW_SAMPLES] or self._pre_in["dtype"] != np.int16:
            raise ModelError(f"{preprocessor_path}: expected an int16 (1, {WINDOW_SAMPLES}) "
                             f"audio frame input, got {self._pre_in['dtype'].__name__} "
                             f"{list(self._pre_in['shape'])}")
        self.feature_size = int(np.prod(self._pre_out["shape"]))
        total = int(np.prod(self._in["shape"]))
        if total % self.feature_size:
            raise ModelError(f"{model_path}: input of {total} values is not a whole number of "
                             f"{self.feature_size}-feature windows")
        self.num_windows = total // self.feature_size
        classes = int(np.prod(self._out["shape"]))
        if classes != len(labels):
            raise ModelError(f"{model_path}: {classes} outputs for {len(labels)} labels")
        self.labels = tuple(labels)

    @classmethod
    def create_from_model_paths(cls, preprocessor_path: str | os.PathLike,
                                model_path: str | os.PathLike) -> "KeywordSpotter":
        return cls(preprocessor_path, model_path)

    @property
    def required_samples(self) -> int:
        """Samples of one clip: ``(num_windows - 1) * stride + window`` (15,840 for 49)."""
        return (self.num_windows - 1) * STRIDE_SAMPLES + WINDOW_SAMPLES

    def features(self, samples: np.ndarray) -> np.ndarray:
        """``(num_windows, 40)`` features of int16 samples (zero-padded to one clip)."""
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        if len(samples) < self.required_samples:
            samples = np.concatenate([samples, np.zeros(self.required_samples - len(samples),
                                                        dtype=np.int16)])
        self.preprocessor.reset_all_variables()
        rows = []
        for i in range(self.num_windows):
            frame = samples[i * STRIDE_SAMPLES:i * STRIDE_SAMPLES + WINDOW_SAMPLES]
            self.preprocessor.set_tensor(self._pre_in["index"], frame[None])
            self.preprocessor.invoke()
            rows.append(np.array(self.preprocessor.get_tensor(self._pre_out["index"])).reshape(-1))
        return np.stack(rows)

    def scores(self, samples: np.ndarray) -> np.ndarray:
        """The dequantized score of each label for one clip of int16 samples."""
        features = self.features(samples)
        scale, zero_point = self._in["quantization"]
        if np.issubdtype(features.dtype, np.floating) and scale:  # the float preprocessor
            info = np.iinfo(self._in["dtype"])
            features = np.clip(np.round(features / np.float32(scale)) + zero_point, info.min,
                               info.max)
        self.model.set_tensor(self._in["index"],
                              features.reshape(self._in["shape"]).astype(self._in["dtype"]))
        self.model.invoke()
        raw = np.array(self.model.get_tensor(self._out["index"])).reshape(-1)
        scale, zero_point = self._out["quantization"]
        if scale:
            return ((raw.astype(np.float32) - zero_point) * np.float32(scale)).astype(np.float32)
        return raw.astype(np.float32)

    def classify(self, tensor_audio) -> ClassificationResult:
        """Every label's score (best first) for a 16 kHz mono ``TensorAudio`` (its last
        ``required_samples``, zero-padded when shorter)."""
        audio_format = tensor_audio.format
        if audio_format.sample_rate != SAMPLE_RATE or audio_format.channels != 1:
            raise ValueError(f"KeywordSpotter needs 16 kHz mono audio, got "
                             f"{audio_format.sample_rate} Hz x {audio_format.channels} channels")
        buffer = np.asarray(tensor_audio.buffer, dtype=np.float32).reshape(-1)
        samples = np.clip(np.round(buffer * 32768.0), -32768, 32767).astype(np.int16)
        scores = self.scores(samples[-self.required_samples:])  # the most recent second
        order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
        categories = [Category(index=i, score=float(scores[i]), display_name=self.labels[i],
                               category_name=self.labels[i]) for i in order]
        return ClassificationResult([Classifications(categories=categories, head_index=0,
                                                     head_name="keyword")])

    def classify_wav(self, path: str | os.PathLike, offset: int = 0) -> Category:
        """The top category of the clip starting ``offset`` samples into a WAV file."""
        from ..audio.tensor_audio import TensorAudio

        audio = TensorAudio.create_from_wav_file(os.fspath(path), self.required_samples, offset)
        return self.top(self.classify(audio))

    @staticmethod
    def top(result: ClassificationResult) -> Optional[Category]:
        categories = result.classifications[0].categories
        return categories[0] if categories else None
