"""``ImageSegmenter``: per-pixel classes (tflite-support's ``vision.ImageSegmenter``).

The single output ``(1, H, W, classes)`` (float32 or uint8, dequantized) gives, at the model's
output resolution (the C++ does not resize masks back to the image), either a category mask --
the first class of highest confidence, class 0 unless some confidence is above 0 -- or one
confidence mask per class. ``colored_labels`` pair each label of the ``TENSOR_AXIS_LABELS`` file
with the PASCAL VOC palette color of its index.
"""
from __future__ import annotations

import dataclasses
from typing import List

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel
from ..core.task import Task
from ..processor.classification import resolve_locale
from ..processor.image import ImagePreprocessor
from ..processor.labels import LabelMapItem, label_map_from_metadata
from ..processor.options import OutputType, SegmentationOptions
from ..processor.results import ColoredLabel, ConfidenceMask, Segmentation, SegmentationResult
from ..processor.tensors import dequantize_output, uint8_quantization
from .tensor_image import TensorImage

MAX_CLASSES = 256


def pascal_voc_color(index: int) -> tuple:
    """The color of class ``index`` in the PASCAL VOC palette (bits of the index interleaved)."""
    r = g = b = 0
    c = index
    for shift in range(7, -1, -1):
        r |= (c & 1) << shift
        g |= ((c >> 1) & 1) << shift
        b |= ((c >> 2) & 1) << shift
        c >>= 3
    return (r, g, b)


@dataclasses.dataclass
class ImageSegmenterOptions:
    base_options: BaseOptions
    segmentation_options: SegmentationOptions = dataclasses.field(
        default_factory=SegmentationOptions)


class ImageSegmenter(Task):
    """Segments images into the model's classes."""

    OPTIONS_CLASS = ImageSegmenterOptions

    def __init__(self, options: ImageSegmenterOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        opts = options.segmentation_options or SegmentationOptions()
        if opts.output_type in (None, OutputType.UNSPECIFIED):
            raise TaskError("ImageSegmenterOptions: `output_type` must not be UNSPECIFIED")
        self._output_type = opts.output_type
        self._preprocessor = ImagePreprocessor(model)
        if len(model.outputs) != 1:
            raise TaskError("Image segmentation models are expected to have only 1 output, found "
                            f"{len(model.outputs)}")
        detail = model.outputs[0]
        shape = [int(d) for d in detail["shape"]]
        if len(shape) != 4:
            raise TaskError(f"Output tensor is expected to have 4 dimensions, found {len(shape)}.")
        if shape[0] != 1:
            raise TaskError(f"Expected batch size of 1, found {shape[0]}.")
        _, self._height, self._width, self._depth = shape
        if self._depth > MAX_CLASSES:
            raise TaskError(f"Expected at most {MAX_CLASSES} output classes, found {self._depth}")
        if detail["dtype"] not in (np.float32, np.uint8):
            raise TaskError("Type mismatch for output tensor. Requested one of these types: "
                            f"kTfLiteUint8/kTfLiteFloat32, got {np.dtype(detail['dtype']).name}.")
        self._quantization = uint8_quantization(detail)
        labels: List[LabelMapItem] = []
        metadata = model.output_metadata_list()
        if metadata is not None:
            if len(metadata) != 1:
                raise TaskError("Mismatch between number of output tensors (1) and output tensors "
                                f"metadata ({len(metadata)}).")
            labels = label_map_from_metadata(model, metadata[0], "TENSOR_AXIS_LABELS",
                                             resolve_locale(opts.display_names_locale))
        if not labels:
            labels = [LabelMapItem() for _ in range(self._depth)]
        self._colored_labels = [ColoredLabel(pascal_voc_color(i), item.name, item.display_name)
                                for i, item in enumerate(labels)]

    def _confidences(self, output: np.ndarray) -> np.ndarray:
        values = np.asarray(output).reshape(self._height, self._width, self._depth)
        return dequantize_output(values, self._quantization)

    def segment(self, image: TensorImage) -> SegmentationResult:
        output = self._model.run([self._preprocessor.preprocess(image.buffer)])[0]
        confidences = self._confidences(output)
        labels = [dataclasses.replace(c) for c in self._colored_labels]
        if self._output_type == OutputType.CATEGORY_MASK:
            # The C++ loop keeps the first maximum, starting from class 0 with confidence 0.
            best = np.argmax(confidences, axis=2)
            best_value = np.take_along_axis(confidences, best[:, :, None], axis=2)[:, :, 0]
            mask = np.where(best_value > 0.0, best, 0).astype(np.uint8)
            segmentation = Segmentation(self._height, self._width, labels, category_mask=mask)
        else:
            masks = [ConfidenceMask(confidences[:, :, d].astype(np.float64))
                     for d in range(self._depth)]
            segmentation = Segmentation(self._height, self._width, labels, confidence_masks=masks)
        return SegmentationResult(segmentations=[segmentation])
