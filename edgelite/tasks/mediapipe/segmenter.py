"""``ImageSegmenter`` on MediaPipe's selfie segmentation model (MediaPipe Tasks' names).

From ``selfie_segmentation_cpu.pbtxt``: the whole image stretched (no letterbox) into the
256x256 input (values in [0, 1]); the model's 256x256x1 output is already a probability
(``TensorsToSegmentationCalculator`` with activation NONE) and is resized to the image with
bilinear interpolation. The result has one confidence mask (the person) and a category mask
(1 where the confidence exceeds 0.5, else 0).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from ...errors import ModelError
from .common import MediaPipeTask, ModelRunner, image_array
from .results import ImageSegmenterResult
from .warp import crop_to_tensor, resize_bilinear


@dataclasses.dataclass
class ImageSegmenterOptions:
    """MediaPipe Tasks' ``ImageSegmenterOptions`` (model given as a path)."""

    model_path: str
    output_confidence_masks: bool = True
    output_category_mask: bool = False


class ImageSegmenter(MediaPipeTask):
    """Selfie segmentation: ``segment(image)`` -> :class:`ImageSegmenterResult`."""

    def __init__(self, options: ImageSegmenterOptions):
        super().__init__(options)
        self.model = ModelRunner(options.model_path)
        shapes = self.model.output_shapes()
        if len(shapes) != 1 or len(shapes[0]) != 4 or shapes[0][3] != 1:
            raise ModelError(f"{self.model.path}: expected one (1, H, W, 1) mask output, got "
                             f"{shapes}")

    @classmethod
    def create_from_model_path(cls, model_path: str | os.PathLike) -> "ImageSegmenter":
        return cls(ImageSegmenterOptions(os.fspath(model_path)))

    def segment(self, image: Any) -> ImageSegmenterResult:
        """Segment a ``TensorImage`` / uint8 array / image path into image-sized masks."""
        pixels = image_array(image)
        h, w = pixels.shape[:2]
        crop = crop_to_tensor(pixels, None, self.model.width, self.model.height,
                              keep_aspect_ratio=False, value_range=(0.0, 1.0))
        (output,) = self.model.run(crop.tensor)
        mask = resize_bilinear(np.asarray(output, dtype=np.float32)[0, :, :, 0], h, w)
        result = ImageSegmenterResult()
        if self.options.output_confidence_masks:
            result.confidence_masks = [mask]
        if self.options.output_category_mask:
            result.category_mask = (mask > 0.5).astype(np.uint8)
        return result
