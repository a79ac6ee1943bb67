"""Non-maximum suppression as MediaPipe's ``NonMaxSuppressionCalculator``.

``WEIGHTED`` (what the BlazeFace/BlazePalm/BlazePose graphs use): take the best remaining
detection, gather every remaining detection whose IoU with it exceeds the threshold (itself
included), and output the best one with its box corners and keypoints replaced by the
score-weighted mean of the group; repeat on the rest. ``DEFAULT`` keeps the best detection of
each group unchanged. Scores are sorted in descending order with a stable sort, as
``std::sort`` with MediaPipe's comparator gives on distinct scores.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .detection_decoding import RawDetection


def intersection_over_union(box_a: np.ndarray, box_b: np.ndarray) -> float:
    """IoU of two ``(xmin, ymin, xmax, ymax)`` boxes (0 when they do not intersect)."""
    ix0, iy0 = max(box_a[0], box_b[0]), max(box_a[1], box_b[1])
    ix1, iy1 = min(box_a[2], box_b[2]), min(box_a[3], box_b[3])
    if ix1 < ix0 or iy1 < iy0:
        return 0.0
    inter = (ix1 - ix0) * (iy1 - iy0)
    area_a = (box_a[2] - box_a[0]) * (box_a[3] - box_a[1])
    area_b = (box_b[2] - box_b[0]) * (box_b[3] - box_b[1])
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def non_max_suppression(detections: list[RawDetection], min_suppression_threshold: float = 0.3,
                        max_num_detections: int = -1,
                        weighted: bool = True) -> list[RawDetection]:
    """Suppress overlapping detections; the result is ordered by score, best first."""
    order = sorted(range(len(detections)), key=lambda i: -detections[i].score)
    remaining = [detections[i] for i in order]
    kept: list[RawDetection] = []
    while remaining:
        if 0 <= max_num_detections <= len(kept):
            break
        best = remaining[0]
        group, rest = [], []
        for candidate in remaining:
            if intersection_over_union(candidate.box, best.box) > min_suppression_threshold:
                group.append(candidate)
            else:
                rest.append(candidate)
        if weighted and group:
            weights = np.asarray([c.score for c in group], dtype=np.float32)
            total = weights.sum()
            box = (np.stack([c.box for c in group]) * weights[:, None]).sum(0) / total
            keypoints = (np.stack([c.keypoints for c in group])
                         * weights[:, None, None]).sum(0) / total
            kept.append(dataclasses.replace(best, box=box.astype(np.float32),
                                            keypoints=keypoints.astype(np.float32)))
        else:
            kept.append(best)
        if len(rest) == len(remaining):  # nothing suppressed, not even the best (NaN box)
            break
        remaining = rest
    return kept
