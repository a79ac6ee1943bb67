"""Compiled 8-bit SOFTMAX (numba code in ``_compiled_softmax``).

The reference (``quantized_activations.QuantizedSoftmax``) runs a chain of numpy passes over
int32 / float32 temporaries (row maxima, a fancy-indexed table lookup, a cumulative sum for
the sequential row sums, the reciprocal, the product, the rounding, the clip); here one
compiled pass per row does the same float32 steps in the same order (same bits). int16
input keeps the reference's fixed-point LUT kernel.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quantized_activations import QuantizedSoftmax
from . import FAST_PRIORITY, enabled
from .loader import run_from

_BYTES = (np.dtype(np.int8), np.dtype(np.uint8))


def _byte_input(node) -> bool:
    return enabled() and np.dtype(node.tensor(node.op.inputs[0]).numpy_dtype) in _BYTES


@register("SOFTMAX", kind="int8", priority=FAST_PRIORITY, when=_byte_input)
class FastQuantizedSoftmax(QuantizedSoftmax):

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if (out is None or x.dtype not in _BYTES or out.dtype != self.dtype or x.shape != out.shape
                or x.ndim == 0 or x.size == 0 or not (x.flags.c_contiguous and out.flags.c_contiguous)):
            return super().eval(inputs, outputs)
        depth = x.shape[-1]
        run_from("_compiled_softmax", self, "softmax_8bit", x.reshape(-1, depth), self.table,
                 np.float32(self.out_scale), int(self.out_zp), int(self.qmin), int(self.qmax),
                 out.reshape(-1, depth), parallel=False)
        return None
