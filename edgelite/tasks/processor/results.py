"""Result dataclasses with the field names of ``tflite_support.task.processor``."""
from __future__ import annotations

import dataclasses
from typing import Any, List, Optional, Tuple

import numpy as np


@dataclasses.dataclass
class Category:
    """One scored class: ``index`` in the label map, ``score``, ``display_name``, ``category_name``."""

    index: int
    score: float
    display_name: str
    category_name: str


@dataclasses.dataclass
class Classifications:
    """The categories of one classification head, best first."""

    categories: List[Category]
    head_index: int
    head_name: str


@dataclasses.dataclass
class ClassificationResult:
    classifications: List[Classifications]


@dataclasses.dataclass
class BoundingBox:
    """An integer, axis-aligned box in pixels of the input image."""

    origin_x: int
    origin_y: int
    width: int
    height: int


@dataclasses.dataclass
class Detection:
    bounding_box: BoundingBox
    categories: List[Category]


@dataclasses.dataclass
class DetectionResult:
    detections: List[Detection]


@dataclasses.dataclass
class ConfidenceMask:
    """A ``(height, width)`` float array: the confidence of one class at every pixel."""

    value: np.ndarray

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ConfidenceMask) and np.array_equal(self.value, other.value)


@dataclasses.dataclass
class ColoredLabel:
    """A label with the RGB color the segmenter gives it (the PASCAL VOC palette)."""

    color: Tuple[int, int, int]
    category_name: str
    display_name: str


@dataclasses.dataclass
class Segmentation:
    """Masks of the model's output size: ``category_mask`` (uint8 class indices) or
    ``confidence_masks`` (one per class), and the ``colored_labels`` of the classes."""

    height: int
    width: int
    colored_labels: List[ColoredLabel]
    category_mask: Optional[np.ndarray] = None
    confidence_masks: Optional[List[ConfidenceMask]] = None

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Segmentation):
            return False
        same_mask = (self.category_mask is None) == (other.category_mask is None) and (
            self.category_mask is None or np.array_equal(self.category_mask, other.category_mask))
        return (self.height, self.width, self.colored_labels, self.confidence_masks) == (
            other.height, other.width, other.colored_labels, other.confidence_masks) and same_mask


@dataclasses.dataclass
class SegmentationResult:
    segmentations: List[Segmentation]


@dataclasses.dataclass
class FeatureVector:
    """An embedding: float values, or uint8 bytes when ``EmbeddingOptions.quantize`` is set."""

    value: np.ndarray

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, FeatureVector) and self.value.dtype == other.value.dtype
                and np.array_equal(self.value, other.value))


@dataclasses.dataclass
class Embedding:
    feature_vector: FeatureVector
    output_index: int


@dataclasses.dataclass
class EmbeddingResult:
    embeddings: List[Embedding]
