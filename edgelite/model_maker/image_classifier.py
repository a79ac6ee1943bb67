"""Transfer learning for image classification, in the shape of TFLite Model Maker's API.

``create`` computes the backbone's feature vectors (edgelite's interpreter, cached per image)
and trains a softmax head on them with the on-device ``train`` signature
(``edgelite.model_maker.training``). ``export`` writes one .tflite in which the backbone and the
head are one graph, with image-classifier metadata and labels, optionally quantized
(``edgelite.optimize``, calibrated on training images) or trainable on the device.

Defaults are TFLite Model Maker's: 5 epochs of SGD at learning rate 0.005, momentum 0.9,
batch 32, dropout 0.2, label smoothing 0.1. They reach logistic regression's accuracy on the same
features because the head first centers the features and divides them by their global standard
deviation (constants of the graph, ``training.feature_statistics``): without that, the step
size depends on the backbone's feature scale (measured on digits: 20 epochs at 0.05 were needed
for one backbone and diverged on another).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .backbones import ImageBackbone, resolve_spec
from .dataloader import DataLoader
from .training import History, softmax_cross_entropy, train_head

DEFAULT_EPOCHS = 5
DEFAULT_LEARNING_RATE = 0.005


class ImageClassifier:
    """A trained head on a backbone: evaluate, predict, export."""

    def __init__(self, backbone: ImageBackbone, weights: np.ndarray, bias: np.ndarray,
                 feature_mean: np.ndarray, feature_scale: np.ndarray,
                 label_names: list[str], history: History | None = None,
                 train_data: DataLoader | None = None, learning_rate: float = DEFAULT_LEARNING_RATE,
                 momentum: float = 0.9):
        self.backbone = backbone
        self.weights = np.asarray(weights, np.float32)
        self.bias = np.asarray(bias, np.float32)
        self.feature_mean = np.asarray(feature_mean, np.float32)
        self.feature_scale = np.asarray(feature_scale, np.float32)
        self.label_names = list(label_names)
        self.history = history
        self.learning_rate = learning_rate
        self.momentum = momentum
        self._train_data = train_data

    # -- inference --------------------------------------------------------------------------
    def features(self, data: DataLoader, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The backbone's feature vectors (N, F) and the labels (N,)."""
        return self.backbone.features(data.images, progress=progress), data.labels.copy()

    def predict_proba_features(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.feature_mean) * self.feature_scale) @ self.weights.T + self.bias
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, data: DataLoader) -> np.ndarray:
        return self.predict_proba_features(self.features(data)[0])

    def predict(self, data: DataLoader) -> np.ndarray:
        return np.argmax(self.predict_proba(data), axis=1)

    def evaluate(self, data: DataLoader) -> tuple[float, float]:
        """(cross-entropy loss, accuracy) on ``data`` (no label smoothing, no dropout)."""
        probs = self.predict_proba(data)
        return softmax_cross_entropy(probs, data.labels), float(np.mean(np.argmax(probs, 1) == data.labels))

    def confusion_matrix(self, data: DataLoader) -> np.ndarray:
        """counts[true, predicted]."""
        k = len(self.label_names)
        cm = np.zeros((k, k), np.int64)
        np.add.at(cm, (data.labels, self.predict(data)), 1)
        return cm

    def save_confusion_matrix(self, data: DataLoader, path: str | os.PathLike, cell: int = 28) -> np.ndarray:
        """Write the confusion matrix as a PNG heat map (rows: true class, columns: predicted)."""
        from PIL import Image, ImageDraw
        cm = self.confusion_matrix(data)
        k = len(cm)
        margin = cell * 2
        img = Image.new("RGB", (margin + k * cell, margin + k * cell), "white")
        draw = ImageDraw.Draw(img)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        for i in range(k):
            draw.text((4, margin + i * cell + cell // 3), self.label_names[i][:6], fill="black")
            draw.text((margin + i * cell + 2, cell // 2), self.label_names[i][:4], fill="black")
            for j in range(k):
                shade = int(255 * (1 - norm[i, j]))
                x0, y0 = margin + j * cell, margin + i * cell
                draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=(shade, shade, 255),
                               outline="gray")
                draw.text((x0 + 3, y0 + cell // 3), str(cm[i, j]), fill="black" if shade > 110 else "white")
        img.save(path)
        return cm

    # -- export -----------------------------------------------------------------------------
    def export(self, export_dir: str | os.PathLike, quantization: str | None = None,
               trainable: bool = False, tflite_filename: str = "model.tflite",
               label_filename: str = "labels.txt", calibration_count: int = 100,
               bias_correction: bool = True, with_metadata: bool = True) -> Path:
        """Write ``export_dir/model.tflite`` (backbone and head in one graph, metadata and labels)
        and ``labels.txt``; returns the model's path. int8: calibrated on the first
        ``calibration_count`` training images, the head's bias corrected for the int8 features'
        mean shift on them (``bias_correction``). See ``edgelite.model_maker.export``."""
        from .export import export_image_classifier
        return export_image_classifier(self, export_dir, quantization=quantization, trainable=trainable,
                                       tflite_filename=tflite_filename, label_filename=label_filename,
                                       calibration_count=calibration_count, bias_correction=bias_correction,
                                       with_metadata=with_metadata)


def create(train_data: DataLoader, model_spec="efficientnet_lite0", validation_data: DataLoader | None = None,
           epochs: int = DEFAULT_EPOCHS, batch_size: int = 32, learning_rate: float = DEFAULT_LEARNING_RATE,
           momentum: float = 0.9, dropout_rate: float = 0.2, label_smoothing: float = 0.1,
           shuffle: bool = True, use_augmentation: bool = False, seed: int = 0,
           image_size: int | None = None, progress: bool = True) -> ImageClassifier:
    """Train a softmax head on the frozen backbone's features.

    ``model_spec``: ``"efficientnet_lite0"`` (``image_size`` px, default 224), a feature-vector
    .tflite (path, bytes, ``edgelite.ir.Model``) or an ``ImageBackbone``.
    ``use_augmentation=True`` adds a horizontally flipped copy of every training image (features
    are computed and cached for it too)."""
    if len(train_data) == 0:
        raise ValueError("train_data is empty")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
    backbone = resolve_spec(model_spec, image_size)
    images, labels = list(train_data.images), train_data.labels
    if use_augmentation:
        images = images + [np.ascontiguousarray(im[:, ::-1]) for im in images]
        labels = np.concatenate([labels, labels])
    feats = backbone.features(images, progress=progress)
    val = None
    if validation_data is not None and len(validation_data):
        val = (backbone.features(validation_data.images, progress=progress), validation_data.labels)
    w, b, mean, scale, history = train_head(feats, labels, train_data.num_classes, epochs=epochs, batch_size=batch_size,
                               learning_rate=learning_rate, momentum=momentum, dropout_rate=dropout_rate,
                               label_smoothing=label_smoothing, shuffle=shuffle, seed=seed,
                               validation=val, progress=progress)
    return ImageClassifier(backbone, w, b, mean, scale, train_data.label_names, history, train_data,
                           learning_rate=learning_rate, momentum=momentum)
