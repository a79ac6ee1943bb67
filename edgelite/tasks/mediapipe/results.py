"""Result types with MediaPipe Tasks' names (``mediapipe.tasks.python.components.containers``).

``Category`` and ``BoundingBox`` are the Task API's (:mod:`edgelite.tasks.processor`), whose
fields MediaPipe shares. Landmarks normalized to the image have ``x``, ``y`` in [0, 1] (``z`` on
the scale of ``x``, smaller is closer to the camera); world landmarks are in meters around the
hips (pose) or the hand's center.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import numpy as np

from ..processor.results import BoundingBox, Category

__all__ = ["BoundingBox", "Category", "NormalizedKeypoint", "Detection", "DetectionResult",
           "NormalizedLandmark", "Landmark", "FaceLandmarkerResult", "HandLandmarkerResult",
           "PoseLandmarkerResult", "ImageSegmenterResult"]


@dataclasses.dataclass
class NormalizedKeypoint:
    """A detection keypoint normalized to the image."""

    x: float
    y: float
    label: Optional[str] = None
    score: Optional[float] = None


@dataclasses.dataclass
class Detection:
    """A box in pixels of the input image, its categories and its keypoints."""

    bounding_box: BoundingBox
    categories: List[Category]
    keypoints: List[NormalizedKeypoint] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DetectionResult:
    detections: List[Detection]


@dataclasses.dataclass
class NormalizedLandmark:
    """A landmark normalized to the image."""

    x: float
    y: float
    z: float = 0.0
    visibility: Optional[float] = None
    presence: Optional[float] = None


@dataclasses.dataclass
class Landmark:
    """A world landmark, in meters."""

    x: float
    y: float
    z: float = 0.0
    visibility: Optional[float] = None
    presence: Optional[float] = None


@dataclasses.dataclass
class FaceLandmarkerResult:
    """``face_landmarks[i]``: 478 landmarks (468 without the iris refinement) of face i."""

    face_landmarks: List[List[NormalizedLandmark]]
    face_blendshapes: List[List[Category]] = dataclasses.field(default_factory=list)
    facial_transformation_matrixes: List[np.ndarray] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class HandLandmarkerResult:
    """Per hand: ``handedness`` (top category, 'Left' or 'Right'), 21 landmarks, 21 world
    landmarks."""

    handedness: List[List[Category]]
    hand_landmarks: List[List[NormalizedLandmark]]
    hand_world_landmarks: List[List[Landmark]]


@dataclasses.dataclass
class PoseLandmarkerResult:
    """Per pose: 33 landmarks with visibility, 33 world landmarks, and an image-sized mask."""

    pose_landmarks: List[List[NormalizedLandmark]]
    pose_world_landmarks: List[List[Landmark]]
    segmentation_masks: Optional[List[np.ndarray]] = None


@dataclasses.dataclass
class ImageSegmenterResult:
    """``confidence_masks``: (H, W) float32 per class; ``category_mask``: (H, W) uint8."""

    confidence_masks: Optional[List[np.ndarray]] = None
    category_mask: Optional[np.ndarray] = None


def landmarks_from_array(values: np.ndarray) -> List[NormalizedLandmark]:
    """Rows of x, y, z[, visibility, presence] as :class:`NormalizedLandmark`."""
    out = []
    for row in np.asarray(values, dtype=np.float64):
        extra = [float(v) for v in row[3:5]] + [None, None]
        out.append(NormalizedLandmark(float(row[0]), float(row[1]), float(row[2]),
                                      extra[0], extra[1]))
    return out


def world_landmarks_from_array(values: np.ndarray) -> List[Landmark]:
    """Rows of x, y, z[, visibility, presence] as :class:`Landmark`."""
    return [Landmark(**dataclasses.asdict(lm)) for lm in landmarks_from_array(values)]


def landmarks_to_array(landmarks: List[NormalizedLandmark]) -> np.ndarray:
    """``(N, 3)`` float32 x, y, z of a landmark list (handy for drawing and tests)."""
    return np.asarray([[lm.x, lm.y, lm.z] for lm in landmarks], dtype=np.float32)
