"""``HandLandmarker``: palm detector + hand landmark model, as MediaPipe Tasks.

From ``palm_detection_cpu.pbtxt``, ``palm_detection_detection_to_roi.pbtxt`` and
``hand_landmark_cpu.pbtxt``: the palm detector (192x192, values in [0, 1], 7 keypoints) finds
palms; each palm's ROI is its box rotated so that wrist -> middle-finger knuckle (keypoints 0 -> 2)
points up (90 degrees), shifted by half its height toward the fingers, squared and scaled by
2.6. The 224x224 hand model gives 21 landmarks (pixels of the crop; z divided by 224 and 0.4),
a hand flag (already a probability) and handedness (the probability of 'Left'; 'Right' is its
complement, ``TensorsToClassificationCalculator`` with ``binary_classification``), and 21
world landmarks (meters), rotated back with the ROI.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from .common import TwoStageLandmarker, image_array
from .results import (Category, HandLandmarkerResult, landmarks_from_array,
                      world_landmarks_from_array)
from .roi import RoiOptions, detection_to_roi
from .warp import crop_to_tensor

PALM_ROI = RoiOptions(start_keypoint=0, end_keypoint=2, target_angle_degrees=90.0, scale_x=2.6,
                      scale_y=2.6, shift_y=-0.5, square_long=True)
HANDEDNESS_LABELS = ("Left", "Right")  # hand_landmark/handedness.txt
HAND_CONNECTIONS = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9),
                    (9, 10), (10, 11), (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17),
                    (0, 17), (17, 18), (18, 19), (19, 20))


@dataclasses.dataclass
class HandLandmarkerOptions:
    """MediaPipe Tasks' ``HandLandmarkerOptions``, naming both model files."""

    detector_model_path: str
    landmarker_model_path: str
    num_hands: int = 1
    min_hand_detection_confidence: float = 0.5
    min_hand_presence_confidence: float = 0.5


def rotate_world(points: np.ndarray, rotation: float) -> np.ndarray:
    """World landmarks rotated by the ROI's rotation (``WorldLandmarkProjectionCalculator``)."""
    c, s = math.cos(rotation), math.sin(rotation)
    out = np.array(points, dtype=np.float64)
    x, y = points[:, 0], points[:, 1]
    out[:, 0] = c * x - s * y
    out[:, 1] = s * x + c * y
    return out


class HandLandmarker(TwoStageLandmarker):
    """Palms -> hand crops -> 21 landmarks each: ``detect(image)`` -> HandLandmarkerResult."""

    OPTIONS_CLASS = HandLandmarkerOptions
    DETECTOR_NAMES = ("palm_detection",)
    LANDMARK_MODEL = "MediaPipe hand landmark model"

    @staticmethod
    def landmark_outputs_match(sizes: list[int]) -> bool:
        return sizes == [63, 1, 1, 63]

    def detect(self, image: Any) -> HandLandmarkerResult:
        """Up to ``num_hands`` hands in a ``TensorImage`` / uint8 array / image path."""
        pixels = image_array(image)
        h, w = pixels.shape[:2]
        start = time.perf_counter()
        palms = self.detector.detect(pixels, self.options.min_hand_detection_confidence)
        self.timings = {"detector": time.perf_counter() - start}
        result = HandLandmarkerResult([], [], [])
        self.last_rois = []
        start = time.perf_counter()
        for palm in palms[:self.options.num_hands]:
            roi = detection_to_roi(palm.box, palm.keypoints, PALM_ROI, w, h)
            crop = crop_to_tensor(pixels, roi, self.model.width, self.model.height,
                                  keep_aspect_ratio=True, value_range=(0.0, 1.0),
                                  border_replicate=True)
            landmarks, flag, handedness, world = self.model.run(crop.tensor)
            if float(np.ravel(flag)[0]) < self.options.min_hand_presence_confidence:
                continue
            points = np.asarray(landmarks, dtype=np.float32).reshape(21, 3)
            points = points / np.float32([self.model.width, self.model.height,
                                          self.model.width * 0.4])
            projected = crop.to_image(points)
            projected[:, 2] = points[:, 2] * crop.rect().width
            left = float(np.ravel(handedness)[0])
            index = 0 if left >= 0.5 else 1
            result.handedness.append([Category(index=index, score=max(left, 1.0 - left),
                                               display_name=HANDEDNESS_LABELS[index],
                                               category_name=HANDEDNESS_LABELS[index])])
            result.hand_landmarks.append(landmarks_from_array(projected))
            world_points = np.asarray(world, dtype=np.float32).reshape(21, 3)
            result.hand_world_landmarks.append(
                world_landmarks_from_array(rotate_world(world_points, roi.rotation)))
            self.last_rois.append(roi)
        self.timings["landmarks"] = time.perf_counter() - start
        return result
