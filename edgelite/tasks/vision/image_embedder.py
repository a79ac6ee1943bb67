"""``ImageEmbedder``: image -> feature vectors (tflite-support's ``vision.ImageEmbedder``)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..processor.embedding import EmbeddingPostprocessor, cosine_similarity
from ..processor.image import ImagePreprocessor
from ..processor.options import EmbeddingOptions
from ..processor.results import BoundingBox, Embedding, EmbeddingResult, FeatureVector
from .tensor_image import TensorImage


@dataclasses.dataclass
class ImageEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class ImageEmbedder:
    """One embedding per model output."""

    def __init__(self, options: ImageEmbedderOptions, model: TaskModel) -> None:
        self._options = options
        self._model = model
        self._preprocessor = ImagePreprocessor(model)
        self._postprocessors = [EmbeddingPostprocessor(model, i, options.embedding_options)
                                for i in range(len(model.outputs))]

    @classmethod
    def create_from_file(cls, file_path: str) -> "ImageEmbedder":
        return cls.create_from_options(
            ImageEmbedderOptions(base_options=BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: ImageEmbedderOptions) -> "ImageEmbedder":
        return cls(options, TaskModel(options.base_options))

    def embed(self, image: TensorImage,
              bounding_box: Optional[BoundingBox] = None) -> EmbeddingResult:
        outputs = self._model.run([self._preprocessor.preprocess(image.buffer, bounding_box)])
        return EmbeddingResult(embeddings=[p.postprocess(outputs[p.output_index])
                                           for p in self._postprocessors])

    def get_embedding_by_index(self, result: EmbeddingResult, output_index: int) -> Embedding:
        if output_index < 0 or output_index >= len(result.embeddings):
            raise ValueError("Output index is out of bound.")
        return result.embeddings[output_index]

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
    def options(self) -> ImageEmbedderOptions:
        return self._options
