"""``AudioClassifier``: audio -> classifications (tflite-support's ``audio.AudioClassifier``).

Audio input as :class:`~edgelite.tasks.processor.audio.AudioPreprocessor` wants it; each output
is a classification head (named after its tensor metadata).
"""
from __future__ import annotations

import dataclasses

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..processor.audio import AudioPreprocessor
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
        self._preprocessor = AudioPreprocessor(model)
        self._heads = [ClassificationPostprocessor(model, i, options.classification_options)
                       for i in range(len(model.outputs))]

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
        outputs = self._model.run([self._preprocessor.preprocess(audio)])
        return ClassificationResult(
            classifications=[head.postprocess(outputs[head.output_index]) for head in self._heads])

    @property
    def required_input_buffer_size(self) -> int:
        return self._preprocessor.buffer_size

    @property
    def required_audio_format(self) -> AudioFormat:
        return self._preprocessor.audio_format

    @property
    def options(self) -> AudioClassifierOptions:
        return self._options
