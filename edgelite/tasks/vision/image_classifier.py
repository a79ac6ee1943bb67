"""``ImageClassifier``: image -> classifications (tflite-support's ``vision.ImageClassifier``)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..processor.classification import ClassificationPostprocessor
from ..processor.image import ImagePreprocessor
from ..processor.options import ClassificationOptions
from ..processor.results import BoundingBox, ClassificationResult
from .tensor_image import TensorImage


@dataclasses.dataclass
class ImageClassifierOptions:
    base_options: BaseOptions
    classification_options: ClassificationOptions = dataclasses.field(
        default_factory=ClassificationOptions)


class ImageClassifier:
    """Classifies images with one head per model output."""

    def __init__(self, options: ImageClassifierOptions, model: TaskModel) -> None:
        self._options = options
        self._model = model
        self._preprocessor = ImagePreprocessor(model)
        self._heads = [ClassificationPostprocessor(model, i, options.classification_options)
                       for i in range(len(model.outputs))]

    @classmethod
    def create_from_file(cls, file_path: str) -> "ImageClassifier":
        return cls.create_from_options(
            ImageClassifierOptions(base_options=BaseOptions(file_name=file_path)))

    @classmethod
    def create_from_options(cls, options: ImageClassifierOptions) -> "ImageClassifier":
        return cls(options, TaskModel(options.base_options))

    def classify(self, image: TensorImage,
                 bounding_box: Optional[BoundingBox] = None) -> ClassificationResult:
        """Classify ``image``, or only its region ``bounding_box``."""
        outputs = self._model.run([self._preprocessor.preprocess(image.buffer, bounding_box)])
        return ClassificationResult(
            classifications=[head.postprocess(outputs[head.output_index], with_head_name=False)
                             for head in self._heads])

    @property
    def options(self) -> ImageClassifierOptions:
        return self._options
