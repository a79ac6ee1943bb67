"""``AudioEmbedder``: audio -> feature vectors (tflite-support's ``audio.AudioEmbedder``)."""
from __future__ import annotations

import dataclasses

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..core.task import EmbedderTask
from ..processor.audio import AudioInputMixin, AudioPreprocessor
from ..processor.options import EmbeddingOptions
from ..processor.results import EmbeddingResult
from .tensor_audio import TensorAudio


@dataclasses.dataclass
class AudioEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class AudioEmbedder(AudioInputMixin, EmbedderTask):
    """One embedding per model output for fixed-length audio buffers."""

    OPTIONS_CLASS = AudioEmbedderOptions

    def __init__(self, options: AudioEmbedderOptions, model: TaskModel) -> None:
        self._preprocessor = AudioPreprocessor(model)
        super().__init__(options, model)

    def embed(self, audio: TensorAudio) -> EmbeddingResult:
        return self._embedding_result(self._model.run([self._preprocessor.preprocess(audio)]))
