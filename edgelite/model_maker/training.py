"""The model maker's training loop: it runs the ``train`` signature of the trainable head
(``head_graph.trainable_model``) through edgelite's interpreter, so the step that trains in
Python is the step a device runs.

Per batch, Python only prepares the inputs of that signature: dropout on the standardized
feature vectors the head sees (raw ``x' = mean + (x - mean) * mask / (1 - rate)``, so that the
signature's standardization gives ``z * mask / (1 - rate)``: a dropout layer before the head) and label smoothing
(``y = onehot * (1 - s) + s / classes``). Shuffling and dropout come from one
``numpy.random.default_rng(seed)``: the same seed gives the same weights.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .head_graph import trainable_model


@dataclass
class History:
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _bar(epoch: int, epochs: int, done: int, total: int, loss: float, acc: float, extra: str = "") -> str:
    width = 24
    filled = int(width * done / max(total, 1))
    bar = "=" * filled + (">" if filled < width else "") + " " * (width - filled - 1)
    return f"\rEpoch {epoch}/{epochs} [{bar[:width]}] {done}/{total} - loss {loss:.4f} - accuracy {acc:.4f}{extra}"


def softmax_cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    p = probs[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.maximum(p, 1e-12))))


class HeadRunner:
    """The head model in edgelite's interpreter: train / infer / save / restore."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, learning_rate: float, momentum: float,
                 feature_mean: np.ndarray, feature_scale: np.ndarray):
        from ..interpreter import Interpreter
        self.model = trainable_model(weights, bias, learning_rate=learning_rate, momentum=momentum,
                                     feature_mean=feature_mean, feature_scale=feature_scale)
        self.interpreter = Interpreter(model_content=self.model.to_bytes())
        self._train = self.interpreter.get_signature_runner("train")
        self._infer = self.interpreter.get_signature_runner("infer")

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        out = self._train(x=np.ascontiguousarray(x, np.float32), y=np.ascontiguousarray(y, np.float32))
        return float(out["loss"]), out["probabilities"]

    def predict(self, features: np.ndarray, batch_size: int = 256) -> np.ndarray:
        parts = [self._infer(x=np.ascontiguousarray(features[i:i + batch_size], np.float32))["probabilities"].copy()
                 for i in range(0, len(features), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        out = self.interpreter.get_signature_runner("save")()
        return out["w"].copy(), out["b"].copy()


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and one global scale 1/std (the root-mean-square deviation over all
    features), as a per-feature vector. Centering removes the large common direction that makes
    SGD on raw features (e.g. post-ReLU pooled activations) ill-conditioned; one global scale
    makes the step size independent of the backbone's feature magnitude while keeping the
    features' relative spread (per-feature standardization measured worse: it gives
    near-constant features as much weight as informative ones)."""
    mean = features.mean(axis=0, dtype=np.float64)
    std = float(np.sqrt(np.mean((features - mean) ** 2)))
    scale = np.full(features.shape[1], 1.0 / std if std > 1e-12 else 1.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def train_head(features: np.ndarray, labels: np.ndarray, num_classes: int, *, epochs: int,
               batch_size: int, learning_rate: float, momentum: float, dropout_rate: float,
               label_smoothing: float, shuffle: bool, seed: int,
               validation: tuple[np.ndarray, np.ndarray] | None = None,
               progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, History]:
    """Train W (classes, F) and b from zero on standardized features; returns W, b, the
    features' mean and scale, and the per-epoch history."""
    if len(features) == 0:
        raise ValueError("no training data")
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be in [0, 1), got {dropout_rate}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    rng = np.random.default_rng(seed)
    n, f = features.shape
    mean, scale = feature_statistics(features)
    runner = HeadRunner(np.zeros((num_classes, f), np.float32), np.zeros(num_classes, np.float32),
                        learning_rate, momentum, mean, scale)
    onehot = np.eye(num_classes, dtype=np.float32)
    history = History()
    start = time.perf_counter()
    steps = (n + batch_size - 1) // batch_size
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n) if shuffle else np.arange(n)
        total_loss, correct = 0.0, 0
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            x = features[idx]
            if dropout_rate > 0:
                # dropout on the standardized features the head sees: x' = m + (x - m) * mask / (1 - p)
                keep = rng.random(x.shape) >= dropout_rate
                x = mean + (x - mean) * (keep / np.float32(1.0 - dropout_rate))
            y = onehot[labels[idx]] * (1.0 - label_smoothing) + label_smoothing / num_classes
            loss, probs = runner.train_step(x, y)
            total_loss += loss * len(idx)
            correct += int(np.sum(np.argmax(probs, axis=1) == labels[idx]))
            if progress:
                seen = min((step + 1) * batch_size, n)
                sys.stderr.write(_bar(epoch, epochs, step + 1, steps, total_loss / seen, correct / seen))
                sys.stderr.flush()
        history.loss.append(total_loss / n)
        history.accuracy.append(correct / n)
        extra = ""
        if validation is not None and len(validation[0]):
            vp = runner.predict(validation[0])
            history.val_loss.append(softmax_cross_entropy(vp, validation[1]))
            history.val_accuracy.append(float(np.mean(np.argmax(vp, axis=1) == validation[1])))
            extra = f" - val_loss {history.val_loss[-1]:.4f} - val_accuracy {history.val_accuracy[-1]:.4f}"
        if progress:
            sys.stderr.write(_bar(epoch, epochs, steps, steps, history.loss[-1], history.accuracy[-1], extra) + "\n")
            sys.stderr.flush()
    history.seconds = time.perf_counter() - start
    w, b = runner.weights()
    return w, b, mean, scale, history
