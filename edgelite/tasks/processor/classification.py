"""Classification post-processing shared by image, audio and text classifiers.

One :class:`ClassificationHead` per output tensor (labels, display names, score threshold and
calibration from the tensor's metadata) and :class:`ClassificationPostprocessor`, which turns the
output into :class:`Classifications` as tflite-support's ``ClassificationPostprocessor``:
dequantize uint8 scores, calibrate, keep the ``max_results`` best (ties ordered as libstdc++'s
sorts order them), drop scores under the threshold, filter by allow/deny list.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import numpy as np

from ..core.model import TaskError, TaskModel, find_first_process_unit
from . import stl_sort
from .labels import LabelMapItem, label_map_from_metadata
from .options import DEFAULT_LOCALE, ClassificationOptions
from .results import Category, Classifications
from .score_calibration import ScoreCalibration, score_calibration_from_metadata
from .tensors import (check_single_batch_vector_output, check_uint8_or_float32_output,
                      dequantize_output, uint8_quantization)

LOWEST_FLOAT = float(np.finfo(np.float32).min)


@dataclasses.dataclass
class ClassificationHead:
    name: str = ""
    labels: List[LabelMapItem] = dataclasses.field(default_factory=list)
    score_threshold: float = 0.0
    calibration: Optional[ScoreCalibration] = None


def build_classification_head(model: TaskModel, tensor_metadata: Optional[dict],
                              locale: str) -> ClassificationHead:
    """``BuildClassificationHead``: everything the metadata says about one output tensor."""
    head = ClassificationHead(name=(tensor_metadata or {}).get("name", "") or "")
    head.labels = label_map_from_metadata(model, tensor_metadata, "TENSOR_AXIS_LABELS", locale)
    thresholding = find_first_process_unit(tensor_metadata, "ScoreThresholdingOptions")
    if thresholding is not None:
        head.score_threshold = float(np.float32(thresholding.get("global_score_threshold", 0.0)))
    head.calibration = score_calibration_from_metadata(model, tensor_metadata, head.labels)
    return head


def resolve_locale(locale: Optional[str]) -> str:
    return DEFAULT_LOCALE if locale is None else locale


class ClassificationPostprocessor:
    """Scores of one output tensor -> :class:`Classifications`."""

    def __init__(self, model: TaskModel, output_index: int,
                 options: Optional[ClassificationOptions]):
        options = options or ClassificationOptions()
        if options.max_results == 0:
            raise TaskError("Invalid `max_results` option: value must be != 0")
        if options.category_name_allowlist and options.category_name_denylist:
            raise TaskError("`class_name_allowlist` and `class_name_denylist` are mutually "
                            "exclusive options.")
        self.output_index = output_index
        self.head = build_classification_head(model, model.output_metadata(output_index),
                                              resolve_locale(options.display_names_locale))
        detail = model.outputs[output_index]
        shape = check_single_batch_vector_output(detail, output_index)
        num_classes = shape[-1]
        if not self.head.labels:
            self.head.labels = [LabelMapItem() for _ in range(num_classes)]
        if len(self.head.labels) != num_classes:
            raise TaskError(f"Got {num_classes} class(es) for output index {output_index}, "
                            f"expected {len(self.head.labels)} according to the label map.")
        check_uint8_or_float32_output(detail)
        self.quantization = uint8_quantization(detail)
        self.names: Optional[set] = None
        self.is_allowlist = bool(options.category_name_allowlist)
        wanted = options.category_name_allowlist or options.category_name_denylist
        if wanted:
            known = {item.name for item in self.head.labels if item.name}
            if not known:
                name = self.head.name or f"#{output_index}"
                raise TaskError("Using `class_name_allowlist` or `class_name_denylist` requires "
                                f"labels to be present but none was found for classification "
                                f"head: {name}")
            self.names = {n for n in wanted if n in known}
            if not self.names:
                kind = "allowlist" if self.is_allowlist else "denylist"
                raise TaskError(f"Invalid class names specified via `class_name_{kind}`: none "
                                "match with model labels.")
        n = len(self.head.labels)
        max_results = options.max_results
        self.num_results = n if max_results is None or max_results < 0 else min(n, max_results)
        self.score_threshold = (float(np.float32(options.score_threshold))
                                if options.score_threshold is not None
                                else self.head.score_threshold)

    def scores(self, output: np.ndarray) -> np.ndarray:
        """The (dequantized) float32 scores of the output tensor, before calibration."""
        flat = np.asarray(output).reshape(-1)[:len(self.head.labels)]
        return dequantize_output(flat, self.quantization)

    def postprocess(self, output: np.ndarray, with_head_name: bool = True) -> Classifications:
        """The categories of one output (tflite-support's vision ImageClassifier leaves
        ``head_name`` empty: ``with_head_name=False``)."""
        scores = [float(s) for s in self.scores(output)]
        labels = self.head.labels
        if self.head.calibration is not None:
            scores = [self.head.calibration.calibrate(labels[i].name, s)
                      for i, s in enumerate(scores)]
        pairs = list(enumerate(scores))
        categories = []
        if self.names is None:
            stl_sort.partial_sort(pairs, 0, self.num_results, len(pairs))
            for index, score in pairs[:self.num_results]:
                if score < self.score_threshold:
                    break
                categories.append((index, score))
        else:
            stl_sort.sort(pairs)
            for index, score in pairs:
                if score < self.score_threshold or len(categories) >= self.num_results:
                    break
                if (labels[index].name in self.names) != self.is_allowlist:
                    continue
                categories.append((index, score))
        return Classifications(
            categories=[Category(index=i, score=s, display_name=labels[i].display_name,
                                 category_name=labels[i].name) for i, s in categories],
            head_index=self.output_index, head_name=self.head.name if with_head_name else "")
