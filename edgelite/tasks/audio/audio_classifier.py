"""``AudioClassifier``: audio -> classifications (tflite-support's ``audio.AudioClassifier``).

The input tensor's metadata (``AudioProperties``) gives the required sample rate and channels;
the whole input tensor is one buffer of samples. Each output is a classification head.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel, content_properties
from ..processor.classification import ClassificationPostprocessor
from ..processor.options import ClassificationOptions
from ..processor.results import ClassificationResult
from .tensor_audio import AudioFormat, TensorAudio


@dataclasses.dataclass
class AudioClassifierOptions:
    base_options: BaseOptions
    classification_options: ClassificationOptions = dataclasses.field(
        default_factory=ClassificationOptions)


class AudioClassifier:
    """Classifies fixed-length audio buffers."""

    def __init__(self, options: AudioClassifierOptions, model: TaskModel) -> None:
        self._options = options
        self._model = model
        if len(model.inputs) != 1:
            raise TaskError(f"Audio models are expected to have 1 input, found {len(model.inputs)}")
        if model.input_metadata(0) is None:
            raise TaskError("input tensor 0 is missing TensorMetadata.")
        kind, properties = content_properties(model.input_metadata(0))
        if kind != "AudioProperties":
            raise TaskError("Missing audio format metadata in the model.")
        channels = int(properties.get("channels", 0))
        rate = int(properties.get("sample_rate", 0))
        if channels <= 0 or rate <= 0:
            raise TaskError("Missing audio format metadata in the model.")
        detail = model.inputs[0]
        if detail["dtype"] != np.float32:
            raise TaskError("Type mismatch for input tensor: expected float32, got "
                            f"{np.dtype(detail['dtype']).name}.")
        size = int(np.prod(detail["shape"]))
        if size % channels:
            raise TaskError(f"Model input tensor size ({size}) should be a multiplier of the "
                            f"number of channels ({channels}).")
        self._format = AudioFormat(channels=channels, sample_rate=rate)
        self._buffer_size = size
        self._heads = []
        for i in range(len(model.outputs)):
            head = ClassificationPostprocessor(model, i, options.classification_options)
            self._heads.append(head)

    @classmethod
    def create_from_file(cls, file_path: str) -> "AudioClassifier":
        return cls.create_from_options(
            AudioClassifierOptions(base_options=BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: AudioClassifierOptions) -> "AudioClassifier":
        return cls(options, TaskModel(options.base_options))

    def create_input_tensor_audio(self) -> TensorAudio:
        return TensorAudio(audio_format=self.required_audio_format,
                           buffer_size=self.required_input_buffer_size)

    def classify(self, audio: TensorAudio) -> ClassificationResult:
        if audio.format.channels != self._format.channels:
            raise ValueError(f"Input audio buffer channel number {audio.format.channels} does not "
                             f"match the model required audio channel number "
                             f"{self._format.channels}.")
        if audio.format.sample_rate != self._format.sample_rate:
            raise ValueError(f"Input audio sample rate {audio.format.sample_rate} does not match "
                             f"the model required audio sample rate {self._format.sample_rate}.")
        if audio.buffer_size != self._buffer_size:
            raise ValueError(f"Input audio buffer size {audio.buffer_size} does not match the model "
                             f"required input size {self._buffer_size}.")
        detail = self._model.inputs[0]
        samples = np.asarray(audio.buffer, np.float32).reshape(-1)[:self._buffer_size]
        outputs = self._model.run([samples.reshape(detail["shape"])])
        return ClassificationResult(
            classifications=[head.postprocess(outputs[head.output_index]) for head in self._heads])

    @property
    def required_input_buffer_size(self) -> int:
        return self._buffer_size

    @property
    def required_audio_format(self) -> AudioFormat:
        return self._format

    @property
    def options(self) -> AudioClassifierOptions:
        return self._options
