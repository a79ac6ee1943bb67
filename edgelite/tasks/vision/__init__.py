"""Vision tasks: ``from edgelite.tasks import vision`` as ``from tflite_support.task import vision``."""
from .image_classifier import ImageClassifier, ImageClassifierOptions
from .image_embedder import ImageEmbedder, ImageEmbedderOptions
from .image_segmenter import ImageSegmenter, ImageSegmenterOptions
from .object_detector import ObjectDetector, ObjectDetectorOptions
from .tensor_image import ColorSpaceType, TensorImage

__all__ = ["ImageClassifier", "ImageClassifierOptions", "ObjectDetector", "ObjectDetectorOptions",
           "ImageEmbedder", "ImageEmbedderOptions", "ImageSegmenter", "ImageSegmenterOptions",
           "TensorImage", "ColorSpaceType"]
