"""8-bit unary activations (HARD_SWISH, LOGISTIC, TANH, ELU, GELU, LEAKY_RELU and the RELU
family): the reference evaluates each through its exact 256-entry table of every input byte
(``QuantizedTableUnary``), looked up with numpy fancy indexing; here the same table is looked
up by a compiled gather (``byte_tables.gather_table``: AVX-512 VBMI byte permutes where the
host has them, else ``_compiled_int8.gather_bytes``: no bound checks, vectorised). The
LOGISTIC of a fused swish stays with ``fused_swish.SkippedLogistic``."""
from __future__ import annotations

import numpy as np

from ..base import register
from ..fused_swish import _is_fused_logistic
from ..quantized_activations import (QuantizedElu, QuantizedGelu, QuantizedHardSwish, QuantizedLeakyRelu,
                                     QuantizedLogistic, QuantizedRelu, QuantizedRelu0To1, QuantizedRelu6,
                                     QuantizedReluN1To1, QuantizedTanh)
from . import FAST_PRIORITY, enabled
from .byte_tables import gather_table

_BYTES = (np.dtype(np.int8), np.dtype(np.uint8))


class _FastTableUnary:
    """Mixin: ``eval`` as a compiled lookup of the reference's byte table."""

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if out is None or self.domain_error is not None or x.dtype not in _BYTES or out.dtype not in _BYTES \
                or x.shape != out.shape or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return super().eval(inputs, outputs)
        table = self.table()  # indexed by the input's byte (int8: its uint8 bit pattern)
        if table.size != 256 or table.dtype != out.dtype:
            return super().eval(inputs, outputs)
        index = x.reshape(-1).view(np.uint8)
        gather_table(self, index, table, out.reshape(-1), 0, index.size)
        return None


def _fast(opcode: str, reference: type, when=enabled) -> type:
    cls = type(f"Fast{reference.__name__}", (_FastTableUnary, reference), {"__module__": __name__})
    register(opcode, kind="int8", priority=FAST_PRIORITY, when=when)(cls)
    return cls


def _unfused_logistic(node) -> bool:
    return enabled() and not _is_fused_logistic(node)


FastQuantizedHardSwish = _fast("HARD_SWISH", QuantizedHardSwish)
FastQuantizedLogistic = _fast("LOGISTIC", QuantizedLogistic, _unfused_logistic)
FastQuantizedTanh = _fast("TANH", QuantizedTanh)
FastQuantizedElu = _fast("ELU", QuantizedElu)
FastQuantizedGelu = _fast("GELU", QuantizedGelu)
FastQuantizedLeakyRelu = _fast("LEAKY_RELU", QuantizedLeakyRelu)
FastQuantizedRelu = _fast("RELU", QuantizedRelu)
FastQuantizedRelu6 = _fast("RELU6", QuantizedRelu6)
FastQuantizedReluN1To1 = _fast("RELU_N1_TO_1", QuantizedReluN1To1)
FastQuantizedRelu0To1 = _fast("RELU_0_TO_1", QuantizedRelu0To1)
