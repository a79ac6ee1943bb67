"""Checks and dequantization shared by the output post-processors of the Task Library.

``ClassificationPostprocessor``, ``EmbeddingPostprocessor`` and ``ImageSegmenter`` read their
output tensors the same way the C++ Task Library does: a batch of 1 as ``BxN`` or ``BxHxWxN``
with ``H = W = 1`` (classification and embedding heads), uint8 or float32 values, uint8 ones
dequantized in float32 (``scale * (q - zero_point)``).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ..core.model import TaskError


def check_single_batch_vector_output(detail: dict, output_index: int) -> list[int]:
    """The shape of output ``output_index``: ``1xN`` or ``1x1x1xN`` (``TaskError`` otherwise)."""
    shape = [int(d) for d in detail["shape"]]
    if len(shape) == 4:
        if shape[1] != 1 or shape[2] != 1:
            raise TaskError(f"Unexpected WxH sizes for output index {output_index}: got "
                            f"{shape[2]}x{shape[1]}, expected 1x1.")
    elif len(shape) != 2:
        raise TaskError(f"Unexpected number of dimensions for output index {output_index}: got "
                        f"{len(shape)}D, expected either 2D (BxN with B=1) or 4D (BxHxWxN with "
                        "B=1, W=1, H=1).")
    if shape[0] != 1:
        raise TaskError("The output array is expected to have a batch size of 1. Got "
                        f"{shape[0]} for output index {output_index}.")
    return shape


def check_uint8_or_float32_output(detail: dict) -> None:
    """``TaskError`` unless the output tensor holds uint8 or float32 values."""
    if detail["dtype"] not in (np.uint8, np.float32):
        raise TaskError(f"Type mismatch for output tensor {detail['name']}. Requested one of "
                        "these types: kTfLiteUint8/kTfLiteFloat32, got "
                        f"{np.dtype(detail['dtype']).name}.")


def uint8_quantization(detail: dict) -> Optional[tuple]:
    """``(scale, zero_point)`` of a uint8 output, None for a float32 one."""
    return detail["quantization"] if detail["dtype"] == np.uint8 else None


def dequantize_output(values: np.ndarray, quantization: Optional[tuple]) -> np.ndarray:
    """float32 values of an output: ``scale * (q - zero_point)`` in float32 when quantized."""
    if quantization is not None:
        scale, zero_point = quantization
        return np.float32(scale) * (values.astype(np.int32) - zero_point).astype(np.float32)
    return values.astype(np.float32)
