"""Embedding post-processing (tflite-support's ``EmbeddingPostprocessor``) and cosine similarity.

Output tensor -> float feature vector (uint8 outputs dequantized), optionally L2-normalized
(float32 accumulation in index order, as the C++ loop) and quantized to int8
(``round(value * 128)`` clamped to [-128, 127], returned as uint8 bytes like tflite-support).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..core.model import TaskError, TaskModel
from .options import EmbeddingOptions
from .results import Embedding, FeatureVector
from .tensors import (check_single_batch_vector_output, check_uint8_or_float32_output,
                      dequantize_output, uint8_quantization)


class EmbeddingPostprocessor:
    """One output tensor -> :class:`Embedding`."""

    def __init__(self, model: TaskModel, output_index: int, options: Optional[EmbeddingOptions]):
        self.output_index = output_index
        self.options = options or EmbeddingOptions()
        detail = model.outputs[output_index]
        shape = check_single_batch_vector_output(detail, output_index)
        check_uint8_or_float32_output(detail)
        self.dimension = shape[-1]
        self.quantization = uint8_quantization(detail)

    def postprocess(self, output: np.ndarray) -> Embedding:
        flat = np.asarray(output).reshape(-1)[:self.dimension]
        values = dequantize_output(flat, self.quantization)
        if self.options.l2_normalize:
            values = l2_normalize(values)
        if self.options.quantize:
            return Embedding(FeatureVector(quantize(values)), self.output_index)
        return Embedding(FeatureVector(values.astype(np.float64)), self.output_index)


def l2_normalize(values: np.ndarray) -> np.ndarray:
    squared = np.float32(0.0)
    for v in values.astype(np.float32):
        squared = np.float32(squared + np.float32(v * v))
    if squared == 0.0:
        return values
    inverse = np.float32(1.0) / np.float32(math.sqrt(squared))
    return (values.astype(np.float32) * inverse).astype(np.float32)


def quantize(values: np.ndarray) -> np.ndarray:
    scaled = values.astype(np.float32) * np.float32(128)
    rounded = np.where(scaled >= 0, np.floor(scaled + 0.5), np.ceil(scaled - 0.5))  # roundf
    return np.clip(rounded, -128, 127).astype(np.int8).view(np.uint8)


def cosine_similarity(u: FeatureVector, v: FeatureVector) -> float:
    """Cosine similarity of two feature vectors of the same kind (float or quantized)."""
    a, b = np.asarray(u.value), np.asarray(v.value)
    if a.size != b.size:
        raise TaskError(f"Cannot compute cosine similarity between feature vectors of different "
                        f"sizes ({a.size} vs {b.size})")
    if (a.dtype == np.uint8) != (b.dtype == np.uint8):
        raise TaskError("Cannot compute cosine similarity between quantized and float feature "
                        "vectors")
    if a.size == 0:
        raise TaskError("Cannot compute cosine similarity on empty feature vectors")
    if a.dtype == np.uint8:
        x, y = a.view(np.int8).astype(np.float64), b.view(np.int8).astype(np.float64)
    else:
        x, y = a.astype(np.float32), b.astype(np.float32)
    dot = float(np.sum((x * y).astype(np.float64)))
    norm_u = float(np.sum((x * x).astype(np.float64)))
    norm_v = float(np.sum((y * y).astype(np.float64)))
    if norm_u <= 0.0 or norm_v <= 0.0:
        raise TaskError("Cannot compute cosine similarity on feature vector with 0 norm")
    return dot / math.sqrt(norm_u * norm_v)
