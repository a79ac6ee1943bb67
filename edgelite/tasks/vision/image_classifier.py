"""``ImageClassifier``: image -> classifications (tflite-support's ``vision.ImageClassifier``)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..core.base_options import BaseOptions
from ..core.model import TaskModel
from ..core.task import Task
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


class ImageClassifier(Task):
    """Classifies images with one head per model output."""

    OPTIONS_CLASS = ImageClassifierOptions

    def __init__(self, options: ImageClassifierOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        self._preprocessor = ImagePreprocessor(model)
        self._heads = [ClassificationPostprocessor(model, i, options.classification_options)
                       for i in range(len(model.outputs))]

    def classify(self, image: TensorImage,
                 bounding_box: Optional[BoundingBox] = None) -> ClassificationResult:
        """Classify ``image``, or only its region ``bounding_box``."""
        outputs = self._model.run([self._preprocessor.preprocess(image.buffer, bounding_box)])
        return ClassificationResult(
            classifications=[head.postprocess(outputs[head.output_index], with_head_name=False)
                             for head in self._heads])
