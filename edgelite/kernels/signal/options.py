"""Shared pieces of the TFLite Micro signal op pack: option decoding and the kernel base.

The signal ops of tensorflow/tflite-micro (``signal/micro/kernels``) keep their options
in a flexbuffers map in the operator's ``custom_options``. TFLM reads them by position
in the map (its keys sorted), which is the same as reading them by key.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Kernel


def decode_flexbuffer_map(buf) -> dict[str, Any]:
    """The flexbuffers map in ``buf`` as a dict (an empty dict for no options)."""
    if buf is None or len(buf) == 0:
        return {}
    from flatbuffers import flexbuffers
    raw = np.asarray(buf, dtype=np.uint8).tobytes() if isinstance(buf, np.ndarray) else bytes(buf)
    value = flexbuffers.GetRoot(raw).Value
    if not isinstance(value, dict):
        raise ValueError(f"custom options are a flexbuffers {type(value).__name__}, not a map")
    return value


class SignalKernel(Kernel):
    """Base of the signal ops: decodes the flexbuffers options once, at construction."""

    def __init__(self, node):
        super().__init__(node)
        try:
            self.signal_options = decode_flexbuffer_map(self.op_desc.custom_options)
        except Exception as e:  # a corrupt buffer: say which node it is
            raise self.fail(f"cannot decode its flexbuffers custom options: {e}") from None

    def int_option(self, key: str, minimum: int | None = None) -> int:
        """Integer option ``key`` (required), at least ``minimum`` when given."""
        if key not in self.signal_options:
            raise self.fail(f"custom options lack {key!r} (have {sorted(self.signal_options)})")
        value = self.signal_options[key]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise self.fail(f"option {key!r} must be an integer, got {value!r}")
        value = int(value)
        if minimum is not None and value < minimum:
            raise self.fail(f"option {key!r} is {value}, must be >= {minimum}")
        return value

    def bool_option(self, key: str) -> bool:
        if key not in self.signal_options:
            raise self.fail(f"custom options lack {key!r} (have {sorted(self.signal_options)})")
        return bool(self.signal_options[key])

    def require_counts(self, inputs: list, outputs: list, n_in: int, n_out: int, names: str) -> None:
        if len(inputs) != n_in or len(outputs) != n_out or any(x is None for x in inputs):
            raise self.fail(f"needs {n_in} input(s) and {n_out} output(s): {names}")

    def require_dtype(self, spec, dtype, what: str) -> None:
        if np.dtype(spec.dtype) != np.dtype(dtype):
            raise self.fail(f"{what} must be {np.dtype(dtype).name}, got {np.dtype(spec.dtype).name}")

    def reset_state(self) -> None:
        """Forget what the op carries across invokes (TFLM's Reset); stateless ops do nothing."""
