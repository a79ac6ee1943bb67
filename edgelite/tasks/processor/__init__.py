"""Options, results and the reusable pre/post-processing of the tasks.

The names of ``tflite_support.task.processor``; the modules hold the shared machinery:
:mod:`.image` / :mod:`.image_resize` (image pre-processing), :mod:`.labels`,
:mod:`.score_calibration`, :mod:`.classification`, :mod:`.embedding`.
"""
from .options import (ClassificationOptions, DetectionOptions, EmbeddingOptions, OutputType,
                      SegmentationOptions)
from .results import (BoundingBox, Category, ClassificationResult, Classifications, ColoredLabel,
                      ConfidenceMask, Detection, DetectionResult, Embedding, EmbeddingResult,
                      FeatureVector, Segmentation, SegmentationResult)

__all__ = ["ClassificationOptions", "DetectionOptions", "EmbeddingOptions", "OutputType",
           "SegmentationOptions", "BoundingBox", "Category", "ClassificationResult",
           "Classifications", "ColoredLabel", "ConfidenceMask", "Detection", "DetectionResult",
           "Embedding", "EmbeddingResult", "FeatureVector", "Segmentation", "SegmentationResult"]
