"""Float kernels whose TFLM reference arithmetic differs from LiteRT's optimized one.

FULLY_CONNECTED (float): TFLM's ``reference_ops::FullyConnected`` sums ``x[d] * w[d]`` one term
at a time in float32 (each product rounded, then added in order), adds the bias and applies the
activation; LiteRT's GEMM sums in blocks. Reproduced with a sequential float32 accumulate.
"""
from __future__ import annotations

import numpy as np

from ..activation_fn import apply_fused_activation
from ..base import register
from ..matmul import FullyConnected
from .common import TFLM_PRIORITY, is_tflm

_MAX_TERMS = 1 << 22  # products held at once per block of rows


def _dense_tflm(node) -> bool:
    if not is_tflm(node):
        return False
    w = node.subgraph.tensors[node.op.inputs[1]]
    return w.sparsity is None


@register("FULLY_CONNECTED", kind="float", priority=TFLM_PRIORITY, when=_dense_tflm)
class TFLMFloatFullyConnected(FullyConnected):
    def eval(self, inputs, outputs):
        x = np.asarray(inputs[0], np.float32).reshape(self.rows, self.depth)
        w = np.asarray(inputs[1] if self.weights_t is None else self.weights_t.T, np.float32)
        bias = self.bias
        if bias is None and len(inputs) > 2 and inputs[2] is not None:
            bias = np.asarray(inputs[2], np.float32).reshape(-1)
        out = np.empty((self.rows, self.units), np.float32)
        step = max(1, _MAX_TERMS // max(1, self.units * self.depth))
        for r0 in range(0, self.rows, step):
            products = x[r0:r0 + step, None, :] * w[None, :, :]  # float32 products, rounded once
            out[r0:r0 + step] = np.add.accumulate(products, axis=-1, dtype=np.float32)[..., -1] \
                if self.depth else 0.0
        if bias is not None:
            out += bias
        apply_fused_activation(out, self.activation)
        outputs[0][...] = out.reshape(outputs[0].shape)
