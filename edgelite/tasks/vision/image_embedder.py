"""``ImageEmbedder``: image -> feature vectors (tflite-support's ``vision.ImageEmbedder``)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..core.task import EmbedderTask
from ..processor.image import ImagePreprocessor
from ..processor.options import EmbeddingOptions
from ..processor.results import BoundingBox, Embedding, EmbeddingResult
from .tensor_image import TensorImage


@dataclasses.dataclass
class ImageEmbedderOptions:
    base_options: BaseOptions
    embedding_options: EmbeddingOptions = dataclasses.field(default_factory=EmbeddingOptions)


class ImageEmbedder(EmbedderTask):
    """One embedding per model output."""

    OPTIONS_CLASS = ImageEmbedderOptions

    def __init__(self, options: ImageEmbedderOptions, model: TaskModel) -> None:
        self._preprocessor = ImagePreprocessor(model)
        super().__init__(options, model)

    def embed(self, image: TensorImage,
              bounding_box: Optional[BoundingBox] = None) -> EmbeddingResult:
        outputs = self._model.run([self._preprocessor.preprocess(image.buffer, bounding_box)])
        return self._embedding_result(outputs)

    def get_embedding_by_index(self, result: EmbeddingResult, output_index: int) -> Embedding:
        if output_index < 0 or output_index >= len(result.embeddings):
            raise ValueError("Output index is out of bound.")
        return result.embeddings[output_index]
