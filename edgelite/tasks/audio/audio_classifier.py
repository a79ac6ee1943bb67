"""``AudioClassifier``: audio -> classifications (tflite-support's ``audio.AudioClassifier``).

Audio input as :class:`~edgelite.tasks.processor.audio.AudioPreprocessor` wants it; each output
is a classification head (named after its tensor metadata).
"""
from __future__ import annotations

import dataclasses

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..core.task import Task
from ..processor.audio import AudioInputMixin, AudioPreprocessor
from ..processor.classification import ClassificationPostprocessor
from ..processor.options import ClassificationOptions
from ..processor.results import ClassificationResult
from .tensor_audio import TensorAudio


@dataclasses.dataclass
class AudioClassifierOptions:
    base_options: BaseOptions
    classification_options: ClassificationOptions = dataclasses.field(
        default_factory=ClassificationOptions)


class AudioClassifier(AudioInputMixin, Task):
    """Classifies fixed-length audio buffers."""

    OPTIONS_CLASS = AudioClassifierOptions

    def __init__(self, options: AudioClassifierOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        self._preprocessor = AudioPreprocessor(model)
        self._heads = [ClassificationPostprocessor(model, i, options.classification_options)
                       for i in range(len(model.outputs))]

    def classify(self, audio: TensorAudio) -> ClassificationResult:
        outputs = self._model.run([self._preprocessor.preprocess(audio)])
        return ClassificationResult(
            classifications=[head.postprocess(outputs[head.output_index]) for head in self._heads])
