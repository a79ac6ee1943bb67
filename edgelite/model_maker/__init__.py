"""Model Maker without TensorFlow: transfer learning exported as .tflite (``image_classifier``,
``text_classifier``). Above the core: nothing in edgelite's runtime imports it."""
from . import image_classifier, text_classifier
from .backbones import ImageBackbone, efficientnet_lite0
from .dataloader import DataLoader

__all__ = ["DataLoader", "ImageBackbone", "efficientnet_lite0", "image_classifier", "text_classifier"]
