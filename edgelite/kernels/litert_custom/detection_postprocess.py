"""TFLite_Detection_PostProcess: SSD box decoding and non-max suppression, as LiteRT computes it.

Inputs: box encodings [1, num_anchors, >=4] (y, x, h, w relative to the anchor), class
scores [1, num_anchors, num_classes (+1 background)] and anchors [num_anchors, 4]
(y, x, h, w). Float32 or uint8 (boxes and anchors together, scores on their own); int8 is
also accepted here (LiteRT refuses it) and dequantized the same way. Outputs, all float32:
boxes [1, N, 4] (ymin, xmin, ymax, xmax), classes [1, N], scores [1, N] and the count [1],
with N = max_detections * max_classes_per_detection. Options are a FlexBuffer map.

The arithmetic follows tensorflow/lite/kernels/detection_postprocess.cc step by step, so that
results are equal, ties included:

* dequantization in float32, ``(q - zero_point) * scale``;
* decoding in float64 (``exp`` from the C library, via :func:`math.exp`), each coordinate
  rounded to float32, then corners ``center -/+ half`` in float32;
* single-class NMS: scores ``>= nms_score_threshold`` are sorted descending with a *stable*
  sort; the greedy pass drops a candidate when its float32 IoU with a selected box is
  ``> nms_iou_threshold`` (IoU 0 when either box has a non-positive area);
* **fast** NMS: each anchor's top ``max_classes_per_detection`` classes come from
  ``std::partial_sort`` (an argmax, first maximum, for one class), NMS runs once on each
  anchor's best score and every selected anchor emits its top classes. With tied scores the
  order ``std::partial_sort`` leaves depends on its heap, so rows with ties replay libstdc++'s
  heap select and heap sort (:func:`partial_argsort_desc`);
* **regular** NMS: NMS per class (at most ``min(detections_per_class, max_detections)`` each),
  then the selections are merged by score with ``std::inplace_merge``, which is stable: equal
  scores keep class order, then anchor order. LiteRT merges the same way with one thread (the
  Python interpreter's default); with more threads its order of equal scores from different
  classes depends on scheduling.

Output slots that LiteRT leaves unwritten (fast NMS with fewer detections than slots) are 0.
"""
from __future__ import annotations

import math

import numpy as np

from ... import stl_algorithms
from ..base import Kernel, register
from ..custom_options import flexbuffer_options

F32 = np.float32
DETECTIONS_PER_CLASS_DEFAULT = 100


def partial_argsort_desc(values, k: int) -> list[int]:
    """The first ``k`` indices ``std::partial_sort`` leaves for ``values[i] > values[j]``.

    libstdc++'s algorithm (:func:`edgelite.stl_algorithms.partial_sort`): make a heap of the
    first k indices, let every later index that compares greater than the heap's top replace it,
    then heap-sort the k kept.
    """
    values = [float(v) for v in values]
    order = list(range(len(values)))
    stl_algorithms.partial_sort(order, 0, k, len(order), lambda i, j: values[i] > values[j])
    return order[:k]


def top_classes(scores: np.ndarray, k: int) -> np.ndarray:
    """[rows, k] class indices per row, as DecreasingPartialArgSort leaves them."""
    if k == 1:
        return np.argmax(scores, axis=1)[:, None]  # ArgMaxVector: the first maximum
    order = np.argsort(-scores, axis=1, kind="stable")
    top = order[:, :k].copy()
    # Rows where equal values meet within the first k+1 sorted ones: the heap decides.
    m = min(k + 1, scores.shape[1])
    head = np.take_along_axis(scores, order[:, :m], axis=1)
    for row in np.flatnonzero((head[:, 1:] == head[:, :-1]).any(axis=1)):
        top[row] = partial_argsort_desc(scores[row], k)
    return top


# -- decoding ----------------------------------------------------------------------------
def _exp(x: np.ndarray) -> np.ndarray:
    """exp of float64 values by the C library (what std::exp computes), elementwise."""
    return np.fromiter(map(math.exp, x.tolist()), np.float64, count=x.size)


def decode_boxes(encodings: np.ndarray, anchors: np.ndarray, scales: tuple) -> np.ndarray:
    """[num_anchors, 4] float32 corners (ymin, xmin, ymax, xmax) from float32 center-size inputs."""
    sy, sx, sh, sw = (float(s) for s in scales)
    e = encodings.astype(np.float64)
    a = anchors.astype(np.float64)
    ay, ax, ah, aw = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    with np.errstate(all="ignore"):
        ycenter = (e[:, 0] / sy * ah + ay).astype(F32)
        xcenter = (e[:, 1] / sx * aw + ax).astype(F32)
        half_h = (0.5 * _exp(e[:, 2] / sh) * ah).astype(F32)
        half_w = (0.5 * _exp(e[:, 3] / sw) * aw).astype(F32)
        return np.stack([ycenter - half_h, xcenter - half_w, ycenter + half_h, xcenter + half_w], axis=1)


def _dequantize(x: np.ndarray, spec) -> np.ndarray:
    if x.dtype == F32:
        return x
    return (x.astype(F32) - F32(int(spec.zero_point[0]))) * F32(spec.scale[0])


# -- NMS ---------------------------------------------------------------------------------
def _iou_exceeds(boxes: np.ndarray, areas: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 threshold: np.float32) -> np.ndarray:
    """[len(rows), len(cols)]: ComputeIntersectionOverUnion(row, col) > threshold, in float32
    (IoU 0 where either box has a non-positive area)."""
    a, b = boxes[rows][:, None, :], boxes[cols][None, :, :]
    area_a, area_b = areas[rows][:, None], areas[cols][None, :]
    with np.errstate(all="ignore"):
        ih = np.maximum(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), F32(0))
        iw = np.maximum(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), F32(0))
        inter = ih * iw
        iou = inter / (area_a + area_b - inter)
    return (iou > threshold) & (area_a > 0) & (area_b > 0)


def single_class_nms(boxes: np.ndarray, areas: np.ndarray, scores: np.ndarray, max_detections: int,
                     score_threshold: np.float32, iou_threshold: np.float32) -> list[int]:
    """NonMaxSuppressionSingleClassHelper: the selected anchor indices, best first.

    A candidate is selected when no box selected before it overlaps it by more than the
    threshold, which is what the C++ greedy pass (deactivating the later candidates of every
    selection) amounts to. Candidates are examined in growing chunks of the score order: first
    against the earlier selections at once, then one by one against the chunk's own selections.
    """
    keep = np.flatnonzero(scores >= score_threshold)
    order = keep[np.argsort(-scores[keep], kind="stable")]
    output_size = min(len(order), max_detections)
    selected: list[int] = []
    pos, chunk = 0, 32
    while len(selected) < output_size and pos < len(order):
        candidates = order[pos:pos + chunk]
        pos, chunk = pos + len(candidates), min(chunk * 2, 1024)
        if selected:
            suppressed = _iou_exceeds(boxes, areas, np.asarray(selected), candidates, iou_threshold).any(axis=0)
            candidates = candidates[~suppressed]
        if not len(candidates):
            continue
        overlaps = _iou_exceeds(boxes, areas, candidates, candidates, iou_threshold)
        active = np.ones(len(candidates), bool)
        for k in range(len(candidates)):
            if not active[k]:
                continue
            selected.append(int(candidates[k]))
            if len(selected) >= output_size:
                break
            active[k + 1:] &= ~overlaps[k, k + 1:]
    return selected


@register("TFLite_Detection_PostProcess", kind="any")
class DetectionPostProcess(Kernel):
    """SSD post-processing (see the module docstring)."""

    def __init__(self, node):
        super().__init__(node)
        m = flexbuffer_options(self)
        self.max_detections = int(m.get("max_detections", 0))
        self.max_classes_per_detection = int(m.get("max_classes_per_detection", 0))
        dpc = m.get("detections_per_class")
        self.detections_per_class = DETECTIONS_PER_CLASS_DEFAULT if dpc is None else int(dpc)
        self.use_regular_nms = bool(m.get("use_regular_nms", False))
        self.score_threshold = F32(m.get("nms_score_threshold", 0.0))
        self.iou_threshold = F32(m.get("nms_iou_threshold", 0.0))
        self.num_classes = int(m.get("num_classes", 0))
        self.scales = tuple(F32(m.get(k, 0.0)) for k in ("y_scale", "x_scale", "h_scale", "w_scale"))

    def prepare(self, inputs, outputs):
        if len(inputs) != 3 or any(x is None for x in inputs) or len(outputs) != 4:
            raise self.fail("needs inputs (box_encodings, class_predictions, anchors) and 4 outputs "
                            "(boxes, classes, scores, num_detections)")
        boxes, scores, anchors = inputs
        if len(boxes.shape) != 3 or len(scores.shape) != 3 or len(anchors.shape) != 2:
            raise self.fail(f"box_encodings and class_predictions must be 3-D and anchors 2-D, got "
                            f"{list(boxes.shape)}, {list(scores.shape)}, {list(anchors.shape)}")
        n = boxes.shape[1]
        if boxes.shape[0] != 1 or boxes.shape[2] < 4:
            raise self.fail(f"box_encodings must be [1, num_anchors, >=4], got {list(boxes.shape)}")
        if scores.shape[0] != 1 or scores.shape[1] != n:
            raise self.fail(f"class_predictions must be [1, {n}, classes], got {list(scores.shape)}")
        if anchors.shape[0] < n or anchors.shape[1] < 4:
            raise self.fail(f"anchors must be [{n}, 4], got {list(anchors.shape)}")
        background = scores.shape[2] - self.num_classes
        if not 0 <= background <= 1:
            raise self.fail(f"class_predictions have {scores.shape[2]} classes for num_classes="
                            f"{self.num_classes} (one background class at most)")
        kinds = (np.dtype(F32), np.dtype(np.uint8), np.dtype(np.int8))
        for spec, what in ((boxes, "box_encodings"), (scores, "class_predictions")):
            if spec.dtype not in kinds:
                raise self.fail(f"{what} must be float32, uint8 or int8, not {spec.dtype}")
            if spec.dtype != F32 and not spec.quantized:
                raise self.fail(f"{what} is {spec.dtype} without quantization parameters")
        if boxes.dtype == F32 and anchors.dtype != F32:
            raise self.fail(f"float32 box_encodings need float32 anchors, not {anchors.dtype}")
        if boxes.dtype != F32 and (anchors.dtype != boxes.dtype or not anchors.quantized):
            raise self.fail(f"{boxes.dtype} box_encodings need quantized {boxes.dtype} anchors")
        if any(o.dtype != F32 for o in outputs):
            raise self.fail("all four outputs must be float32")
        if self.max_detections < 0 or self.max_classes_per_detection <= 0:
            raise self.fail(f"max_detections ({self.max_detections}) must be >= 0 and "
                            f"max_classes_per_detection ({self.max_classes_per_detection}) > 0")
        if not (F32(0) < self.iou_threshold <= F32(1)):
            raise self.fail(f"nms_iou_threshold must be in (0, 1], got {self.iou_threshold}")
        if self.use_regular_nms and min(self.detections_per_class, self.max_detections) <= 0:
            raise self.fail("regular NMS needs detections_per_class > 0 and max_detections > 0")
        self.specs = (boxes, scores, anchors)
        self.label_offset = background
        count = self.max_detections * self.max_classes_per_detection
        return [(1, count, 4), (1, count), (1, count), (1,)]

    def eval(self, inputs, outputs):
        box_spec, score_spec, anchor_spec = self.specs
        n = box_spec.shape[1]
        encodings = _dequantize(inputs[0].reshape(n, -1)[:, :4], box_spec)
        anchors = _dequantize(inputs[2].reshape(-1, inputs[2].shape[-1])[:n, :4], anchor_spec)
        boxes = decode_boxes(encodings, anchors, self.scales)
        if (boxes[:, 0] > boxes[:, 2]).any() or (boxes[:, 1] > boxes[:, 3]).any():
            raise self.fail("a decoded box has ymin > ymax or xmin > xmax (negative anchor size?)")
        with np.errstate(all="ignore"):
            areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        scores = _dequantize(inputs[1].reshape(n, -1), score_spec)[:, self.label_offset:]
        out_boxes, out_classes, out_scores, out_count = outputs
        for o in outputs:
            o.fill(0)
        boxes_flat = out_boxes.reshape(-1, 4)
        classes_flat, scores_flat = out_classes.reshape(-1), out_scores.reshape(-1)
        if self.use_regular_nms:
            anchor_idx, class_idx, sel_scores = self._regular(boxes, areas, scores)
            k = len(anchor_idx)
            boxes_flat[:k] = boxes[anchor_idx]
            classes_flat[:k] = class_idx
            scores_flat[:k] = sel_scores
            out_count[0] = k
        else:
            per = min(self.max_classes_per_detection, self.num_classes)
            best = scores.max(axis=1)  # the score of each anchor's first class, whatever the order
            selected = single_class_nms(boxes, areas, best, self.max_detections,
                                        self.score_threshold, self.iou_threshold)
            top = np.zeros((scores.shape[0], per), np.int64)
            if selected:
                top[selected] = top_classes(scores[selected], per)
            for slot, anchor in enumerate(selected):
                base = slot * self.max_classes_per_detection
                boxes_flat[base:base + per] = boxes[anchor]
                classes_flat[base:base + per] = top[anchor]
                scores_flat[base:base + per] = scores[anchor, top[anchor]]
            out_count[0] = len(selected)

    def _regular(self, boxes, areas, scores):
        """Per-class NMS, merged by score (stable: class order, then anchor order)."""
        per_class = min(self.detections_per_class, self.max_detections)
        anchors, classes, values = [], [], []
        for c in range(self.num_classes):
            column = np.ascontiguousarray(scores[:, c])
            chosen = single_class_nms(boxes, areas, column, per_class,
                                      self.score_threshold, self.iou_threshold)
            anchors.extend(chosen)
            classes.extend([c] * len(chosen))
            values.extend(column[chosen].tolist())
        values = np.asarray(values, F32)
        order = np.argsort(-values, kind="stable")[:self.max_detections]
        return (np.asarray(anchors, np.int64)[order], np.asarray(classes, F32)[order], values[order])
