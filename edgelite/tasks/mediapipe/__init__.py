"""MediaPipe-style vision tasks and TFLite Micro keyword spotting on edgelite's interpreter.

The class and result names of MediaPipe Tasks (``mediapipe.tasks.python.vision``):
:class:`FaceDetector`, :class:`FaceLandmarker`, :class:`HandLandmarker`, :class:`PoseLandmarker`,
:class:`ImageSegmenter` (selfie segmentation), and :class:`KeywordSpotter` (micro_speech). The
two-stage tasks reproduce MediaPipe's graphs: detection (:mod:`.anchors`,
:mod:`.detection_decoding`, :mod:`.nms`) -> ROI (:mod:`.roi`) -> affine crop (:mod:`.warp`) ->
landmarks -> projection back to the image. Also exported as ``edgelite.tasks.vision`` /
``edgelite.tasks.audio`` names. See docs/mediapipe_tasks.md.
"""
from .face import FaceDetector, FaceDetectorOptions, FaceLandmarker, FaceLandmarkerOptions
from .hands import HAND_CONNECTIONS, HandLandmarker, HandLandmarkerOptions
from .keyword import KEYWORD_LABELS, KeywordSpotter
from .pose import POSE_CONNECTIONS, PoseLandmarker, PoseLandmarkerOptions
from .results import (Detection, DetectionResult, FaceLandmarkerResult, HandLandmarkerResult,
                      ImageSegmenterResult, Landmark, NormalizedKeypoint, NormalizedLandmark,
                      PoseLandmarkerResult, landmarks_to_array)
from .segmenter import ImageSegmenter, ImageSegmenterOptions

__all__ = ["FaceDetector", "FaceDetectorOptions", "FaceLandmarker", "FaceLandmarkerOptions",
           "HandLandmarker", "HandLandmarkerOptions", "PoseLandmarker", "PoseLandmarkerOptions",
           "ImageSegmenter", "ImageSegmenterOptions", "KeywordSpotter", "KEYWORD_LABELS",
           "Detection", "DetectionResult", "FaceLandmarkerResult", "HandLandmarkerResult",
           "ImageSegmenterResult", "Landmark", "NormalizedKeypoint", "NormalizedLandmark",
           "PoseLandmarkerResult", "landmarks_to_array", "HAND_CONNECTIONS", "POSE_CONNECTIONS"]
