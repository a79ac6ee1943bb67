"""``ObjectDetector``: SSD-style detection (tflite-support's ``vision.ObjectDetector``).

The model has 4 outputs (locations, classes, scores, number of detections), found by their
metadata names ``location``/``category``/``score``/``number of detections`` or, failing that, in
that order. Boxes are ``BoundingBoxProperties`` ratios reordered by the metadata ``index`` and
scaled to the image (origin truncated, size rounded, as the C++); labels come from the
``TENSOR_VALUE_LABELS`` file of the classes tensor; scores are calibrated if the scores tensor has
``ScoreCalibrationOptions`` and kept when strictly above the threshold.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import List

import numpy as np

from ..core.base_options import BaseOptions
from ..core.model import TaskError, TaskModel, content_properties, find_first_process_unit
from ..core.task import Task
from ..processor.classification import resolve_locale
from ..processor.image import ImagePreprocessor
from ..processor.labels import LabelMapItem, label_map_from_metadata
from ..processor.options import DetectionOptions
from ..processor.results import BoundingBox, Category, Detection, DetectionResult
from ..processor.score_calibration import score_calibration_from_metadata
from .tensor_image import TensorImage

OUTPUT_NAMES = ("location", "category", "score", "number of detections")
EXPECTED_DIMS = (3, 2, 2, 1)
LOWEST_FLOAT = float(np.finfo(np.float32).min)


@dataclasses.dataclass
class ObjectDetectorOptions:
    base_options: BaseOptions
    detection_options: DetectionOptions = dataclasses.field(default_factory=DetectionOptions)


def _round_half_away(value: np.float32) -> int:
    """C ``round`` of a non-negative float."""
    return int(math.floor(float(value) + 0.5))


def _output_order(metadata: List[dict]) -> List[int]:
    names = [m.get("name") for m in metadata]
    order = [names.index(n) if n in names else -1 for n in OUTPUT_NAMES]
    for i, position in enumerate(order):
        if position == -1:
            warnings.warn(f"tensor name {names[i]!r} at index {i} of the model metadata is none of "
                          f"{list(OUTPUT_NAMES)}: using outputs in their default order",
                          stacklevel=4)
            return [0, 1, 2, 3]
    return order


class ObjectDetector(Task):
    """Detects objects: boxes with one category each, in the model's order."""

    OPTIONS_CLASS = ObjectDetectorOptions

    def __init__(self, options: ObjectDetectorOptions, model: TaskModel) -> None:
        super().__init__(options, model)
        opts = options.detection_options or DetectionOptions()
        if opts.max_results == 0:
            raise TaskError("Invalid `max_results` option: value must be != 0")
        if opts.category_name_allowlist and opts.category_name_denylist:
            raise TaskError("`class_name_whitelist` and `class_name_blacklist` are mutually "
                            "exclusive options.")
        self._preprocessor = ImagePreprocessor(model)
        if len(model.outputs) != 4:
            raise TaskError("Mobile SSD models are expected to have exactly 4 outputs, found "
                            f"{len(model.outputs)}")
        if model.metadata is None or not model.metadata.get("subgraph_metadata"):
            raise TaskError("Object detection models require TFLite Model Metadata but none was "
                            "found")
        metadata = model.output_metadata_list() or []
        if len(metadata) != 4:
            raise TaskError("Mismatch between number of output tensors (4) and output tensors "
                            f"metadata ({len(metadata)}).")
        self._order = _output_order(metadata)
        self._corners = self._box_corners(metadata[self._order[0]])
        locale = resolve_locale(opts.display_names_locale)
        self._labels: List[LabelMapItem] = label_map_from_metadata(
            model, metadata[self._order[1]], "TENSOR_VALUE_LABELS", locale)
        if opts.score_threshold is not None:
            self._threshold = float(np.float32(opts.score_threshold))
        else:
            unit = find_first_process_unit(metadata[self._order[2]], "ScoreThresholdingOptions")
            self._threshold = (LOWEST_FLOAT if unit is None
                               else float(np.float32(unit.get("global_score_threshold", 0.0))))
        for i, position in enumerate(self._order):
            shape = model.outputs[position]["shape"]
            if len(shape) != EXPECTED_DIMS[i]:
                raise TaskError(f"Output tensor at index {position} is expected to have "
                                f"{EXPECTED_DIMS[i]} dimensions, found {len(shape)}.")
            if shape[0] != 1:
                raise TaskError(f"Expected batch size of 1, found {shape[0]}.")
        self._allowed = self._class_index_set(opts)
        # The C++ reads the calibration of output metadata #2 (kDefaultScoresIndex).
        self._calibration = score_calibration_from_metadata(model, metadata[2], self._labels,
                                                            require_labels=False)
        self._max_results = opts.max_results

    @staticmethod
    def _box_corners(tensor_metadata: dict) -> List[int]:
        name = tensor_metadata.get("name") or "#0"
        kind, properties = content_properties(tensor_metadata)
        if kind == "NONE":
            raise TaskError(f"Expected BoundingBoxProperties for tensor {name}, found none.")
        if kind != "BoundingBoxProperties":
            raise TaskError(f"Expected BoundingBoxProperties for tensor {name}, found {kind}.")
        if properties.get("type", "UNKNOWN") != "BOUNDARIES":
            raise TaskError("Mobile SSD only supports BoundingBoxType BOUNDARIES, found "
                            f"{properties.get('type', 'UNKNOWN')}")
        if properties.get("coordinate_type", "RATIO") != "RATIO":
            raise TaskError("Mobile SSD only supports CoordinateType RATIO, found "
                            f"{properties['coordinate_type']}")
        index = properties.get("index")
        if index is None:
            return [0, 1, 2, 3]
        if len(index) != 4:
            raise TaskError(f"Expected BoundingBoxProperties index to contain 4 values, found "
                            f"{len(index)}")
        return [int(i) for i in index]

    def _class_index_set(self, opts: DetectionOptions):
        names = opts.category_name_allowlist or opts.category_name_denylist
        if not names:
            return None
        if not self._labels:
            raise TaskError("Using `class_name_whitelist` or `class_name_blacklist` requires labels "
                            "to be present in the TFLite Model Metadata but none was found.")
        first = {}
        for i, item in enumerate(self._labels):
            first.setdefault(item.name, i)
        indices = {first[n] for n in names if n in first}
        if not indices:
            kind = "whitelist" if opts.category_name_allowlist else "blacklist"
            raise TaskError(f"Invalid class names specified via `class_name_{kind}`: none match "
                            "with model labels.")
        return bool(opts.category_name_allowlist), indices

    def _is_allowed(self, class_index: int) -> bool:
        if self._allowed is None:
            return True
        is_allowlist, indices = self._allowed
        return (class_index in indices) == is_allowlist

    def detect(self, image: TensorImage) -> DetectionResult:
        outputs = self._model.run([self._preprocessor.preprocess(image.buffer)])
        locations, classes, scores, count = (np.asarray(outputs[i], np.float32).reshape(-1)
                                             for i in self._order)
        num_results = int(count[0])
        limit = num_results if not self._max_results or self._max_results < 0 else min(
            self._max_results, num_results)
        width, height = image.width, image.height
        detections: List[Detection] = []
        for i in range(num_results):
            class_index = int(classes[i])
            if not self._is_allowed(class_index):
                continue
            score = float(scores[i])
            if self._calibration is not None:
                name = self._labels[class_index].name if class_index < len(self._labels) else ""
                score = self._calibration.calibrate(name, score)
            if score <= self._threshold:
                continue
            left, top, right, bottom = (locations[4 * i + c] for c in self._corners)
            box = BoundingBox(origin_x=int(np.float32(left * np.float32(width))),
                              origin_y=int(np.float32(top * np.float32(height))),
                              width=_round_half_away(abs(right - left) * np.float32(width)),
                              height=_round_half_away(abs(bottom - top) * np.float32(height)))
            if self._labels and class_index >= len(self._labels):
                raise TaskError(f"Label map does not contain enough elements: model returned class "
                                f"index {class_index} but label map only contains "
                                f"{len(self._labels)} elements.")
            item = self._labels[class_index] if self._labels else LabelMapItem()
            detections.append(Detection(box, [Category(class_index, score, item.display_name,
                                                       item.name)]))
            if len(detections) == limit:
                break
        return DetectionResult(detections=detections)
