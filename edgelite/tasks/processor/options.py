"""Processor options, with the fields and defaults of ``tflite_support.task.processor``."""
from __future__ import annotations

import dataclasses
import enum
from typing import List, Optional

# The C++ protos default display_names_locale to "en" when the Python option is None.
DEFAULT_LOCALE = "en"


@dataclasses.dataclass
class ClassificationOptions:
    """Post-processing of classification heads.

    ``max_results``: how many top-scored categories to return (None or negative: all; 0 refused);
    ``score_threshold``: overrides the metadata's ``ScoreThresholdingOptions``;
    ``category_name_allowlist`` / ``category_name_denylist``: mutually exclusive label filters;
    ``display_names_locale``: picks the display-names file of that locale from the metadata.
    """

    score_threshold: Optional[float] = None
    category_name_allowlist: Optional[List[str]] = None
    category_name_denylist: Optional[List[str]] = None
    display_names_locale: Optional[str] = None
    max_results: Optional[int] = None


@dataclasses.dataclass
class DetectionOptions:
    """Post-processing of an SSD detector's outputs (fields as :class:`ClassificationOptions`)."""

    score_threshold: Optional[float] = None
    category_name_allowlist: Optional[List[str]] = None
    category_name_denylist: Optional[List[str]] = None
    display_names_locale: Optional[str] = None
    max_results: Optional[int] = None


class OutputType(enum.Enum):
    UNSPECIFIED = 0
    CATEGORY_MASK = 1
    CONFIDENCE_MASK = 2


@dataclasses.dataclass
class SegmentationOptions:
    """``output_type``: one category mask (argmax) or one confidence mask per class."""

    display_names_locale: Optional[str] = None
    output_type: Optional[OutputType] = OutputType.CATEGORY_MASK


@dataclasses.dataclass
class EmbeddingOptions:
    """``l2_normalize`` the feature vectors; ``quantize`` them to int8 values (stored as uint8 bytes)."""

    l2_normalize: Optional[bool] = None
    quantize: Optional[bool] = None
