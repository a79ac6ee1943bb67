"""``AudioEmbedder``: audio -> feature vectors (tflite-support's ``audio.AudioEmbedder``)."""
from __future__ import annotations

import dataclasses

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..processor.audio import AudioPreprocessor
from ..processor.embedding import EmbeddingPostprocessor, cosine_similarity
from ..processor.options import EmbeddingOptions
from ..processor.results import EmbeddingResult, FeatureVector
from .tensor_audio import AudioFormat, TensorAudio


@dataclasses.dataclass
class AudioEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class AudioEmbedder:
    """One embedding per model output for fixed-length audio buffers."""

    def __init__(self, options: AudioEmbedderOptions, model: TaskModel) -> None:
        self._options = options
        self._model = model
        self._preprocessor = AudioPreprocessor(model)
        self._postprocessors = [EmbeddingPostprocessor(model, i, options.embedding_options)
                                for i in range(len(model.outputs))]

    @classmethod
    def create_from_file(cls, file_path: str) -> "AudioEmbedder":
        return cls.create_from_options(
            AudioEmbedderOptions(base_options=BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: AudioEmbedderOptions) -> "AudioEmbedder":
        return cls(options, TaskModel(options.base_options))

    def create_input_tensor_audio(self) -> TensorAudio:
        return TensorAudio(audio_format=self.required_audio_format,
                           buffer_size=self.required_input_buffer_size)

    def embed(self, audio: TensorAudio) -> EmbeddingResult:
        outputs = self._model.run([self._preprocessor.preprocess(audio)])
        return EmbeddingResult(embeddings=[p.postprocess(outputs[p.output_index])
                                           for p in self._postprocessors])

    def cosine_similarity(self, u: FeatureVector, v: FeatureVector) -> float:
        return cosine_similarity(u, v)

    def get_embedding_dimension(self, output_index: int) -> int:
        if output_index < 0 or output_index >= len(self._postprocessors):
            return -1
        return self._postprocessors[output_index].dimension

    @property
    def number_of_output_layers(self) -> int:
        return len(self._postprocessors)

    @property
    def required_input_buffer_size(self) -> int:
        return self._preprocessor.buffer_size

    @property
    def required_audio_format(self) -> AudioFormat:
        return self._preprocessor.audio_format

    @property
    def options(self) -> AudioEmbedderOptions:
        return self._options
