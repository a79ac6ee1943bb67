"""``FaceDetector`` (BlazeFace) and ``FaceLandmarker`` (face mesh), as in MediaPipe Tasks.

FaceDetector: letterbox the image into the detector, decode with the graph's SSD anchors, weighted
NMS, project back. FaceLandmarker (``face_landmark_front_cpu.pbtxt``): for each detected face, a
ROI from the box rotated so that the eyes (keypoints 0 -> 1) are level, squared on its long side
and scaled by 1.5; crop it into the 192x192 mesh model (values in [0, 1]); gate on
``sigmoid(face flag)``; landmarks are the model's pixel coordinates divided by 192 (z too),
projected back through the ROI. The attention model adds refined lips, eyes and irises: 478
landmarks (see :mod:`.face_mesh_refinement`); the plain mesh gives 468, or 478 with the iris
model chained as MediaPipe's iris tracking graph does (``iris_landmark_left_and_right_cpu.pbtxt``):
each eye's ROI from its two corner landmarks (33/133, 362/263), rotated level, squared, x2.3;
a 64x64 crop (the right eye mirrored); the 71 eye-region points replace the mesh's and the 5
iris points of each eye are appended (center, then the edges in the attention model's order: the
mirrored eye's left and right edges are swapped back).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Optional

import numpy as np

from ...errors import ModelError
from . import face_mesh_refinement as refine
from .common import Detector, MediaPipeTask, ModelRunner, image_array
from .results import DetectionResult, FaceLandmarkerResult, landmarks_from_array
from .roi import NormalizedRect, RoiOptions, detection_to_roi
from .warp import Crop, crop_to_tensor

FACE_DETECTORS = ("face_detection_short_range", "face_detection_full_range")
# face_detection_front_detection_to_roi.pbtxt: eyes level, 1.5x, square.
FACE_ROI = RoiOptions(start_keypoint=0, end_keypoint=1, target_angle_degrees=0.0, scale_x=1.5,
                      scale_y=1.5, square_long=True)
MESH_SIZE = 192
# iris_landmark_landmarks_to_roi.pbtxt: eye corners level, 2.3x, square.
IRIS_ROI = RoiOptions(start_keypoint=0, end_keypoint=1, target_angle_degrees=0.0, scale_x=2.3,
                      scale_y=2.3, square_long=True)


@dataclasses.dataclass
class FaceDetectorOptions:
    """MediaPipe Tasks' ``FaceDetectorOptions`` (model given as a path)."""

    model_path: str
    min_detection_confidence: float = 0.5
    min_suppression_threshold: float = 0.3
    max_results: int = -1


class FaceDetector(MediaPipeTask):
    """BlazeFace short- or full-range: ``detect(image)`` -> :class:`DetectionResult`."""

    def __init__(self, options: FaceDetectorOptions):
        super().__init__(options)
        self._detector = Detector(options.model_path, expect=FACE_DETECTORS)

    @classmethod
    def create_from_model_path(cls, model_path: str | os.PathLike) -> "FaceDetector":
        return cls(FaceDetectorOptions(model_path=os.fspath(model_path)))

    def detect_raw(self, image: np.ndarray):
        """The detections with box and keypoints normalized to the image (for the mesh stage)."""
        return self._detector.detect(image, self.options.min_detection_confidence,
                                     self.options.min_suppression_threshold,
                                     self.options.max_results)

    def detect(self, image: Any) -> DetectionResult:
        """Faces in a ``TensorImage`` (or uint8 array, or image path)."""
        pixels = image_array(image)
        h, w = pixels.shape[:2]
        return DetectionResult([self._detector.to_detection(d, w, h)
                                for d in self.detect_raw(pixels)])


@dataclasses.dataclass
class FaceLandmarkerOptions:
    """MediaPipe Tasks' ``FaceLandmarkerOptions``, naming both model files."""

    detector_model_path: str
    landmarker_model_path: str
    num_faces: int = 1
    min_face_detection_confidence: float = 0.5
    min_face_presence_confidence: float = 0.5
    iris_model_path: Optional[str] = None  # with the plain mesh: 478 landmarks


def refine_attention_landmarks(outputs: list[np.ndarray]) -> np.ndarray:
    """The attention mesh's 6 landmark tensors (in crop pixels) -> (478, 3) as MediaPipe merges
    them: mesh, then lips/eyes x, y overwritten, irises appended with averaged z."""
    mesh, lips, left_eye, right_eye, left_iris, right_iris = (
        np.asarray(t, dtype=np.float32).reshape(-1, 2 if i else 3) for i, t in enumerate(outputs))
    merged = np.zeros((478, 3), dtype=np.float32)
    merged[:468] = mesh
    for indexes, points in ((refine.LIPS_INDEXES, lips), (refine.LEFT_EYE_INDEXES, left_eye),
                            (refine.RIGHT_EYE_INDEXES, right_eye)):
        merged[list(indexes), :2] = points
    for indexes, points, average_of in (
            (refine.LEFT_IRIS_INDEXES, left_iris, refine.LEFT_IRIS_Z_AVERAGE_OF),
            (refine.RIGHT_IRIS_INDEXES, right_iris, refine.RIGHT_IRIS_Z_AVERAGE_OF)):
        merged[list(indexes), :2] = points
        merged[list(indexes), 2] = merged[list(average_of), 2].mean()
    return merged


class FaceLandmarker(MediaPipeTask):
    """Face detector + face mesh: ``detect(image)`` -> :class:`FaceLandmarkerResult`."""

    def __init__(self, options: FaceLandmarkerOptions):
        super().__init__(options)
        self.detector = FaceDetector(FaceDetectorOptions(
            options.detector_model_path, options.min_face_detection_confidence,
            max_results=options.num_faces))
        self.mesh = ModelRunner(options.landmarker_model_path)
        shapes = self.mesh.output_shapes()
        sizes = [int(np.prod(s)) for s in shapes]
        if sizes == [1404, 1]:
            self.with_attention = False
        elif sizes == [1404, 160, 142, 142, 10, 10, 1]:
            self.with_attention = True
        else:
            raise ModelError(f"{self.mesh.path}: not a MediaPipe face mesh (outputs {shapes})")
        if (self.mesh.height, self.mesh.width) != (MESH_SIZE, MESH_SIZE):
            raise ModelError(f"{self.mesh.path}: expected a {MESH_SIZE}x{MESH_SIZE} input")
        self.iris = None
        if options.iris_model_path is not None:
            if self.with_attention:
                raise ModelError("the attention mesh already refines the irises; give an iris "
                                 "model with the plain face mesh only")
            self.iris = ModelRunner(options.iris_model_path)
            if [int(np.prod(s)) for s in self.iris.output_shapes()] != [213, 15]:
                raise ModelError(f"{self.iris.path}: not MediaPipe's iris landmark model "
                                 f"(outputs {self.iris.output_shapes()})")
        self.last_rois: list[NormalizedRect] = []
        self.timings: dict[str, float] = {}

    @classmethod
    def create_from_model_paths(cls, detector_model_path: str | os.PathLike,
                                landmarker_model_path: str | os.PathLike,
                                iris_model_path: str | os.PathLike | None = None
                                ) -> "FaceLandmarker":
        return cls(FaceLandmarkerOptions(
            os.fspath(detector_model_path), os.fspath(landmarker_model_path),
            iris_model_path=None if iris_model_path is None else os.fspath(iris_model_path)))

    def landmarks_in_roi(self, pixels: np.ndarray,
                         roi: NormalizedRect) -> Optional[tuple[np.ndarray, Crop]]:
        """The mesh on one ROI: ((N, 3) image-normalized landmarks, crop), or None if the face
        flag says no face."""
        crop = crop_to_tensor(pixels, roi, MESH_SIZE, MESH_SIZE, keep_aspect_ratio=False,
                              value_range=(0.0, 1.0), border_replicate=True)
        outputs = self.mesh.run(crop.tensor)
        flag = float(np.asarray(outputs[-1]).reshape(-1)[0])
        if 1.0 / (1.0 + np.exp(-flag)) < self.options.min_face_presence_confidence:
            return None
        if self.with_attention:
            points = refine_attention_landmarks(outputs[:6])
        else:
            points = np.asarray(outputs[0], dtype=np.float32).reshape(468, 3)
        points = points / np.float32(MESH_SIZE)
        projected = crop.to_image(points)
        projected[:, 2] = points[:, 2] * crop.rect().width
        if self.iris is not None:
            projected = self.add_irises(pixels, projected)
        return projected, crop

    def add_irises(self, pixels: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        """468 image-normalized mesh points -> 478: eye regions and irises from the iris model."""
        h, w = pixels.shape[:2]
        merged = np.zeros((478, 3), dtype=np.float64)
        merged[:468] = mesh
        for corners, flip, eye_indexes, iris_indexes in (
                ((33, 133), False, refine.LEFT_EYE_INDEXES, refine.LEFT_IRIS_INDEXES),
                ((362, 263), True, refine.RIGHT_EYE_INDEXES, refine.RIGHT_IRIS_INDEXES)):
            keypoints = mesh[list(corners), :2]
            box = np.concatenate([keypoints.min(0), keypoints.max(0)])
            roi = detection_to_roi(box, keypoints, IRIS_ROI, w, h)
            crop = crop_to_tensor(pixels, roi, self.iris.width, self.iris.height,
                                  keep_aspect_ratio=True, value_range=(0.0, 1.0),
                                  border_replicate=True)
            tensor = crop.tensor[:, :, ::-1] if flip else crop.tensor
            eye, iris = self.iris.run(np.ascontiguousarray(tensor))
            for values, indexes in ((eye, eye_indexes), (iris, iris_indexes)):
                points = np.asarray(values, dtype=np.float32).reshape(-1, 3) / np.float32(
                    [self.iris.width, self.iris.height, self.iris.width])
                if flip:
                    points[:, 0] = 1.0 - points[:, 0]
                    if len(points) == 5:  # mirrored: its "right" edge is the iris's left edge
                        points[[1, 3]] = points[[3, 1]]
                projected = crop.to_image(points)
                projected[:, 2] = points[:, 2] * crop.rect().width
                merged[list(indexes)] = projected
        return merged

    def detect(self, image: Any) -> FaceLandmarkerResult:
        """Landmarks of up to ``num_faces`` faces in a ``TensorImage`` / array / path."""
        pixels = image_array(image)
        h, w = pixels.shape[:2]
        start = time.perf_counter()
        detections = self.detector.detect_raw(pixels)
        self.timings = {"detector": time.perf_counter() - start}
        faces, self.last_rois = [], []
        start = time.perf_counter()
        for det in detections[:self.options.num_faces]:
            roi = detection_to_roi(det.box, det.keypoints, FACE_ROI, w, h)
            found = self.landmarks_in_roi(pixels, roi)
            if found is not None:
                faces.append(landmarks_from_array(found[0]))
                self.last_rois.append(roi)
        self.timings["landmarks"] = time.perf_counter() - start
        return FaceLandmarkerResult(face_landmarks=faces)
