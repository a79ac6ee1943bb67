"""``PoseLandmarker``: BlazePose detector + pose landmark model (full), as MediaPipe Tasks.

From ``pose_detection_cpu.pbtxt``, ``pose_detection_to_roi.pbtxt``,
``pose_landmark_by_roi_cpu.pbtxt`` and ``tensors_to_pose_landmarks_and_segmentation.pbtxt``:
the detector (224x224, values in [-1, 1]) gives 4 keypoints; the ROI is centered on keypoint 0
(hips) with the size twice the distance to keypoint 1, rotated so that 0 -> 1 points up, squared
and scaled by 1.25. The 256x256 landmark model gives 39 landmarks of 5 values (x, y, z in crop
pixels; visibility and presence logits, through a sigmoid), refined with the 64x64 heatmap
(``RefineLandmarksFromHeatmapCalculator``, 9x9 window: see below), a pose flag, a 256x256 segmentation
logit map (through a sigmoid, warped back onto the image) and 39 world landmarks. The first 33
landmarks are the pose; world landmarks are rotated back with the ROI.

The graph config asks the heatmap refinement for ``kernel_size: 7`` (it is in the graph MediaPipe
0.10.14 embeds, too), but MediaPipe 0.10.14 refines with the calculator's default 9x9 window:
its results are reproduced to 0.001 heatmap cells with 9 and differ by up to 0.2 cells (4 px on
the astronaut) with 7. edgelite does what MediaPipe does.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from ...errors import ModelError
from .common import TwoStageLandmarker, image_array
from .hands import rotate_world
from .results import PoseLandmarkerResult, landmarks_from_array, world_landmarks_from_array
from .roi import RoiOptions, detection_to_roi
from .warp import crop_to_tensor, mask_to_image

POSE_ROI = RoiOptions(start_keypoint=0, end_keypoint=1, target_angle_degrees=90.0, scale_x=1.25,
                      scale_y=1.25, square_long=True, alignment_points=True)
NUM_POSE_LANDMARKS = 33
POSE_CONNECTIONS = ((0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
                    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
                    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23),
                    (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29),
                    (28, 30), (29, 31), (30, 32), (27, 31), (28, 32))


@dataclasses.dataclass
class PoseLandmarkerOptions:
    """MediaPipe Tasks' ``PoseLandmarkerOptions``, naming both model files."""

    detector_model_path: str
    landmarker_model_path: str
    num_poses: int = 1
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    output_segmentation_masks: bool = True


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))).astype(np.float32)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, kernel_size: int = 9,
                        min_confidence: float = 0.5) -> np.ndarray:
    """Move crop-normalized landmarks to the sigmoid-weighted mean of their heatmap window."""
    hm = _sigmoid(np.asarray(heatmap).reshape(heatmap.shape[-3:]))
    hm_h, hm_w, channels = hm.shape
    if channels != len(points):
        raise ModelError(f"heatmap has {channels} layers for {len(points)} landmarks")
    out = points.copy()
    offset = (kernel_size - 1) // 2
    for i in range(len(points)):
        col, row = int(points[i, 0] * hm_w), int(points[i, 1] * hm_h)
        if not (0 <= col < hm_w and 0 <= row < hm_h):
            continue
        r0, r1 = max(0, row - offset), min(hm_h, row + offset + 1)
        c0, c1 = max(0, col - offset), min(hm_w, col + offset + 1)
        window = hm[r0:r1, c0:c1, i]
        total = window.sum()
        if window.max() >= min_confidence and total > 0:
            rows, cols = np.mgrid[r0:r1, c0:c1]
            out[i, 0] = (cols * window).sum() / hm_w / total
            out[i, 1] = (rows * window).sum() / hm_h / total
    return out


class PoseLandmarker(TwoStageLandmarker):
    """Pose detector -> crop -> 33 landmarks: ``detect(image)`` -> PoseLandmarkerResult."""

    OPTIONS_CLASS = PoseLandmarkerOptions
    DETECTOR_NAMES = ("pose_detection",)
    LANDMARK_MODEL = "MediaPipe pose landmark model"

    @staticmethod
    def landmark_outputs_match(sizes: list[int]) -> bool:
        return len(sizes) == 5 and sizes[0] == 195 and sizes[4] == 117

    def detect(self, image: Any) -> PoseLandmarkerResult:
        """Up to ``num_poses`` poses in a ``TensorImage`` / uint8 array / image path."""
        pixels = image_array(image)
        h, w = pixels.shape[:2]
        start = time.perf_counter()
        detections = self.detector.detect(pixels, self.options.min_pose_detection_confidence)
        self.timings = {"detector": time.perf_counter() - start, "landmarks": 0.0,
                        "postprocess": 0.0}
        result = PoseLandmarkerResult([], [], [] if self.options.output_segmentation_masks
                                      else None)
        self.last_rois = []
        for det in detections[:self.options.num_poses]:
            start = time.perf_counter()
            roi = detection_to_roi(det.box, det.keypoints, POSE_ROI, w, h)
            crop = crop_to_tensor(pixels, roi, self.model.width, self.model.height,
                                  keep_aspect_ratio=True, value_range=(0.0, 1.0),
                                  border_replicate=True)
            landmarks, flag, segmentation, heatmap, world = self.model.run(crop.tensor)
            self.timings["landmarks"] += time.perf_counter() - start
            start = time.perf_counter()
            if float(np.ravel(flag)[0]) < self.options.min_pose_presence_confidence:
                continue
            raw = np.asarray(landmarks, dtype=np.float32).reshape(39, 5)
            points = np.empty((39, 5), dtype=np.float32)
            points[:, :3] = raw[:, :3] / np.float32(self.model.width)
            points[:, 1] = raw[:, 1] / np.float32(self.model.height)
            points[:, 3:] = _sigmoid(raw[:, 3:])
            points = refine_from_heatmap(points, heatmap)[:NUM_POSE_LANDMARKS]
            projected = crop.to_image(points)
            projected[:, 2] = points[:, 2] * crop.rect().width
            result.pose_landmarks.append(landmarks_from_array(projected))
            world_points = np.asarray(world, dtype=np.float32).reshape(39, 3)[:NUM_POSE_LANDMARKS]
            world_rows = np.concatenate([rotate_world(world_points, roi.rotation),
                                         points[:, 3:]], axis=1)
            result.pose_world_landmarks.append(world_landmarks_from_array(world_rows))
            if result.segmentation_masks is not None:
                mask = _sigmoid(np.asarray(segmentation).reshape(segmentation.shape[1:3]))
                result.segmentation_masks.append(mask_to_image(mask, crop))
            self.last_rois.append(roi)
            self.timings["postprocess"] += time.perf_counter() - start
        return result
