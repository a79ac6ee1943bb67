"""Vision tasks: ``from edgelite.tasks import vision`` as ``from tflite_support.task import vision``."""
from .image_classifier import ImageClassifier, ImageClassifierOptions
from .image_embedder import ImageEmbedder, ImageEmbedderOptions
from .image_segmenter import ImageSegmenter, ImageSegmenterOptions
from .object_detector import ObjectDetector, ObjectDetectorOptions
from .tensor_image import ColorSpaceType, TensorImage
# MediaPipe Tasks' vision tasks (edgelite.tasks.mediapipe); the selfie segmenter is exported as
# SelfieSegmenter here, since ImageSegmenter is tflite-support's.
from ..mediapipe import (FaceDetector, FaceDetectorOptions, FaceLandmarker, FaceLandmarkerOptions,
                         HandLandmarker, HandLandmarkerOptions, PoseLandmarker,
                         PoseLandmarkerOptions)
from ..mediapipe import ImageSegmenter as SelfieSegmenter
from ..mediapipe import ImageSegmenterOptions as SelfieSegmenterOptions

__all__ = ["ImageClassifier", "ImageClassifierOptions", "ObjectDetector", "ObjectDetectorOptions",
           "ImageEmbedder", "ImageEmbedderOptions", "ImageSegmenter", "ImageSegmenterOptions",
           "TensorImage", "ColorSpaceType", "FaceDetector", "FaceDetectorOptions", "FaceLandmarker",
           "FaceLandmarkerOptions", "HandLandmarker", "HandLandmarkerOptions", "PoseLandmarker",
           "PoseLandmarkerOptions", "SelfieSegmenter", "SelfieSegmenterOptions"]
