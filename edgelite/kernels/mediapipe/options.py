"""Decoding the custom options of MediaPipe's ops.

MediaPipe's ops carry their options in one of two forms, as their sources read them:

* a raw C struct of LiteRT's C API, reinterpreted from the op's ``custom_options`` bytes
  (``TfLiteTransposeConvParams`` for Convolution2DTransposeBias, ``TfLitePoolParams`` for
  the pooling ops): little-endian int32 fields in declaration order;
* a flexbuffers map (the TransformTensorBilinear / TransformLandmarks /
  Landmarks2TransformMatrix family).

Both are read with the shared helpers of :mod:`edgelite.kernels.custom_options`; this module
adds the typed, validated access to single fields that the kernels need.

``TfLitePadding`` numbers its members differently from the schema's ``Padding`` enum:
0 is unknown, 1 SAME, 2 VALID.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..custom_options import custom_options_bytes, flexbuffer_options, struct_options

TFLITE_PADDING_UNKNOWN, TFLITE_PADDING_SAME, TFLITE_PADDING_VALID = 0, 1, 2
TFLITE_PADDING_NAMES = {TFLITE_PADDING_UNKNOWN: "unknown", TFLITE_PADDING_SAME: "SAME",
                        TFLITE_PADDING_VALID: "VALID"}


def c_struct_ints(kernel, fields: tuple[str, ...], struct_name: str) -> dict[str, int]:
    """The int32 ``fields`` of a C struct stored as the custom options, in declaration order."""
    size = len(custom_options_bytes(kernel))
    if size < 4 * len(fields):
        raise kernel.fail(f"custom options hold {size} bytes; a {struct_name} needs {4 * len(fields)} "
                          f"({', '.join(fields)}: int32 each)")
    return struct_options(kernel, "<" + "i" * len(fields), fields)


def flex_map(kernel, required: bool = True) -> dict[str, Any]:
    """The custom options decoded as a flexbuffers map ({} when the op has none and
    ``required`` is False)."""
    options = flexbuffer_options(kernel)
    if not options and required:
        raise kernel.fail("has no custom options; expected a flexbuffers map")
    return options


def flex_int(kernel, options: dict, key: str, default: int | None = None) -> int:
    """Integer option ``key`` of a decoded flexbuffers map."""
    if key not in options:
        if default is None:
            raise kernel.fail(f"custom options lack '{key}'")
        return default
    try:
        return int(options[key])
    except (TypeError, ValueError):
        raise kernel.fail(f"option '{key}' must be an integer, got {options[key]!r}") from None


def flex_float(kernel, options: dict, key: str, default: float | None = None) -> float:
    """Float option ``key`` (as float32, which flexbuffers' AsFloat returns) of a decoded map."""
    if key not in options:
        if default is None:
            raise kernel.fail(f"custom options lack '{key}'")
        return float(np.float32(default))
    try:
        return float(np.float32(options[key]))
    except (TypeError, ValueError):
        raise kernel.fail(f"option '{key}' must be a number, got {options[key]!r}") from None


def flex_ints(kernel, options: dict, key: str) -> list[int]:
    """Integer-vector option ``key`` of a decoded map."""
    if key not in options:
        raise kernel.fail(f"custom options lack '{key}'")
    value = options[key]
    if not isinstance(value, (list, tuple)):
        raise kernel.fail(f"option '{key}' must be a vector of integers, got {value!r}")
    try:
        return [int(v) for v in value]
    except (TypeError, ValueError):
        raise kernel.fail(f"option '{key}' must be a vector of integers, got {value!r}") from None
