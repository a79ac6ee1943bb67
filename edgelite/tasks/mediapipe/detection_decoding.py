"""Raw SSD tensors to detections, as MediaPipe's ``TensorsToDetectionsCalculator``.

The MediaPipe detectors output, per anchor, ``num_coords`` box values and one class logit.
With ``reverse_output_order`` the box is ``(x_center, y_center, w, h)`` in input-tensor pixels
relative to the anchor, followed by ``num_keypoints`` ``(x, y)`` pairs. Decoding divides by the
``x/y/w/h_scale`` (the input size), multiplies by the anchor size and adds the anchor center;
the score is ``sigmoid(clip(logit, -score_clipping_thresh, score_clipping_thresh))``. Detections
below ``min_score_thresh`` and boxes with a negative or NaN size are dropped. Coordinates stay
normalized to the input tensor (the caller projects them back to the image).
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass(frozen=True)
class DetectionDecodingOptions:
    """The fields of ``TensorsToDetectionsCalculatorOptions`` the MediaPipe detectors use."""

    num_boxes: int
    num_coords: int
    num_keypoints: int
    x_scale: float
    y_scale: float
    w_scale: float
    h_scale: float
    min_score_thresh: float = 0.5
    box_coord_offset: int = 0
    keypoint_coord_offset: int = 4
    num_values_per_keypoint: int = 2
    sigmoid_score: bool = True
    score_clipping_thresh: Optional[float] = 100.0
    reverse_output_order: bool = True
    apply_exponential_on_box_size: bool = False


@dataclasses.dataclass
class RawDetection:
    """One decoded detection: ``box`` is ``(xmin, ymin, xmax, ymax)``; ``keypoints`` (K, 2) x, y."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      options: DetectionDecodingOptions) -> list[RawDetection]:
    """Decode a detector's two output tensors into the detections above the score threshold."""
    boxes = np.asarray(raw_boxes, dtype=np.float32).reshape(-1, options.num_coords)
    logits = np.asarray(raw_scores, dtype=np.float32).reshape(-1)
    if boxes.shape[0] != options.num_boxes or logits.shape[0] != options.num_boxes:
        raise ValueError(f"detector outputs hold {boxes.shape[0]} boxes and {logits.shape[0]} "
                         f"scores; expected {options.num_boxes}")
    if anchors.shape[0] != options.num_boxes:
        raise ValueError(f"{anchors.shape[0]} anchors for {options.num_boxes} boxes")
    if options.sigmoid_score:
        if options.score_clipping_thresh is not None:
            limit = np.float32(options.score_clipping_thresh)
            logits = np.clip(logits, -limit, limit)
        with np.errstate(over="ignore"):  # exp(100) is inf in float32: the score is then 0
            scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    else:
        scores = logits
    keep = np.nonzero(scores >= options.min_score_thresh)[0]
    if keep.size == 0:
        return []
    boxes, scores, anchor = boxes[keep], scores[keep], anchors[keep]
    ax, ay, aw, ah = anchor[:, 0], anchor[:, 1], anchor[:, 2], anchor[:, 3]
    o = options.box_coord_offset
    if options.reverse_output_order:
        x_center, y_center, w, h = boxes[:, o], boxes[:, o + 1], boxes[:, o + 2], boxes[:, o + 3]
    else:
        y_center, x_center, h, w = boxes[:, o], boxes[:, o + 1], boxes[:, o + 2], boxes[:, o + 3]
    x_center = x_center / np.float32(options.x_scale) * aw + ax
    y_center = y_center / np.float32(options.y_scale) * ah + ay
    if options.apply_exponential_on_box_size:
        h = np.exp(h / np.float32(options.h_scale)) * ah
        w = np.exp(w / np.float32(options.w_scale)) * aw
    else:
        h = h / np.float32(options.h_scale) * ah
        w = w / np.float32(options.w_scale) * aw
    decoded = np.stack([x_center - w / 2, y_center - h / 2, x_center + w / 2, y_center + h / 2],
                       axis=1)
    k = options.num_keypoints
    keypoints = np.zeros((len(keep), k, 2), dtype=np.float32)
    for i in range(k):
        offset = options.keypoint_coord_offset + i * options.num_values_per_keypoint
        first, second = boxes[:, offset], boxes[:, offset + 1]
        kx, ky = (first, second) if options.reverse_output_order else (second, first)
        keypoints[:, i, 0] = kx / np.float32(options.x_scale) * aw + ax
        keypoints[:, i, 1] = ky / np.float32(options.y_scale) * ah + ay
    result = []
    for j in range(len(keep)):
        width, height = decoded[j, 2] - decoded[j, 0], decoded[j, 3] - decoded[j, 1]
        if not (width >= 0 and height >= 0):  # negative or NaN size (b/171391719)
            continue
        result.append(RawDetection(score=float(scores[j]), box=decoded[j].copy(),
                                   keypoints=keypoints[j].copy()))
    return result
