"""Shared pieces of the TFLite Micro signal op pack: option decoding and the kernel base.

The signal ops of tensorflow/tflite-micro (``signal/micro/kernels``) keep their options
in a flexbuffers map in the operator's ``custom_options``. TFLM reads them by position
in the map (its keys sorted), which is the same as reading them by key.
"""
from __future__ import annotations

import numpy as np

from ..base import Kernel
from ..custom_options import flexbuffer_options


class SignalKernel(Kernel):
    """Base of the signal ops: decodes the flexbuffers options once, at construction."""

    def __init__(self, node):
        super().__init__(node)
        self.signal_options = flexbuffer_options(self)  # ModelError naming the op if corrupt

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

    def require_unary(self, inputs: list, outputs: list, in_dtype, out_dtype) -> None:
        """One input of ``in_dtype`` -> one output of ``out_dtype``."""
        self.require_counts(inputs, outputs, 1, 1, "input -> output")
        self.require_dtype(inputs[0], in_dtype, "input")
        self.require_dtype(outputs[0], out_dtype, "output")

    def reset_state(self) -> None:
        """Forget what the op carries across invokes (TFLM's Reset); stateless ops do nothing."""
