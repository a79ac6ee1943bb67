"""Sigmoid score calibration from the metadata (``ScoreCalibrationOptions`` + a parameters file).

Each line of the ``TENSOR_AXIS_SCORE_CALIBRATION`` file gives ``scale,slope,offset[,min_score]``
for the label of the same line (an empty line: no parameters for that label). A score becomes
``scale * sigmoid(slope * T(score) + offset)`` with ``T`` the identity, ``log`` or the inverse
logistic; labels without parameters, or scores under ``min_score``, get ``default_score``.
The arithmetic follows tflite-support's ``ScoreCalibration`` (float32 values, double exp/log).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional

import numpy as np

from ..core.model import TaskError, TaskModel, find_first_associated_file, find_first_process_unit
from .labels import LabelMapItem

_LOG_SCORE_MINIMUM = float(np.float32(1e-16))


@dataclasses.dataclass
class Sigmoid:
    scale: float
    slope: float
    offset: float
    min_uncalibrated_score: Optional[float] = None


def _f32(x: float) -> float:
    return float(np.float32(x))


def _clamped_log(x: float, threshold: float) -> float:
    if x < threshold:
        return _f32(2.0 * math.log(threshold) - math.log(2.0 * threshold - x))
    return _f32(math.log(x))


class ScoreCalibration:
    """Calibrates scores per label name (the last line wins for duplicated names)."""

    def __init__(self, transformation: str, default_score: float, sigmoids: Dict[str, Sigmoid]):
        if transformation not in ("IDENTITY", "LOG", "INVERSE_LOGISTIC"):
            raise TaskError(f"Unknown score transformation: {transformation}")
        self.transformation = transformation
        self.default_score = _f32(default_score)
        self.sigmoids = sigmoids

    @classmethod
    def from_file(cls, options: dict, data: bytes, labels: List[LabelMapItem]) -> "ScoreCalibration":
        if not data:
            raise TaskError("Expected non-empty score calibration file.")
        lines = data.decode("utf-8", errors="replace").split("\n")
        if len(lines) != len(labels):
            raise TaskError(f"Mismatch between number of labels ({len(labels)}) and score "
                            f"calibration parameters ({len(lines)}).")
        sigmoids: Dict[str, Sigmoid] = {}
        for item, line in zip(labels, lines):
            if not line:
                continue
            fields = line.split(",")
            if len(fields) not in (3, 4):
                raise TaskError("Expected 3 or 4 parameters per line in score calibration file, "
                                f"got {len(fields)}.")
            try:
                values = [_f32(float(f)) for f in fields]
            except ValueError:
                raise TaskError(f"Could not parse score calibration parameter as float: {line}.")
            sigmoids[item.name] = Sigmoid(*values[:3], values[3] if len(values) == 4 else None)
        return cls(options.get("score_transformation", "IDENTITY"),
                   options.get("default_score", 0.0), sigmoids)

    def _transform(self, score: float) -> float:
        if self.transformation == "IDENTITY":
            return score
        if self.transformation == "LOG":
            return _clamped_log(score, _LOG_SCORE_MINIMUM)
        return _f32(_clamped_log(score, _LOG_SCORE_MINIMUM)
                    - _clamped_log(_f32(1.0 - score), _LOG_SCORE_MINIMUM))

    def calibrate(self, label: str, score: float) -> float:
        sigmoid = self.sigmoids.get(label)
        if sigmoid is None or (sigmoid.min_uncalibrated_score is not None
                               and score < sigmoid.min_uncalibrated_score):
            return self.default_score
        shifted = _f32(_f32(self._transform(score) * sigmoid.slope) + sigmoid.offset)
        if shifted >= 0.0:
            return _f32(sigmoid.scale / (1.0 + math.exp(-shifted)))
        e = _f32(math.exp(shifted))
        return _f32(sigmoid.scale * e / (1.0 + e))


def score_calibration_from_metadata(model: TaskModel, tensor_metadata: Optional[dict],
                                    labels: List[LabelMapItem],
                                    require_labels: bool = True) -> Optional[ScoreCalibration]:
    """The tensor's score calibration, or None when its metadata has no ScoreCalibrationOptions."""
    options = find_first_process_unit(tensor_metadata, "ScoreCalibrationOptions")
    if options is None:
        return None
    if require_labels and not labels:
        raise TaskError("Using ScoreCalibrationOptions requires a label map to be provided as "
                        "TENSOR_AXIS_LABELS associated file.")
    name = find_first_associated_file(tensor_metadata, "TENSOR_AXIS_SCORE_CALIBRATION")
    if not name:
        raise TaskError("Found ScoreCalibrationOptions but missing required associated parameters "
                        "file with type TENSOR_AXIS_SCORE_CALIBRATION.")
    return ScoreCalibration.from_file(options, model.associated_file(name), labels)
