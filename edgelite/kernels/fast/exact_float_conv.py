"""Compiled float CONV_2D in LiteRT's exact GEMM order, for the float layers of hybrid
models (``kernels.exact_float.ExactOrderConv2D``, bit for bit): the compiled im2col
(zero padding) and :func:`~._compiled_exact_float.eigen_order_gemm` instead of the
reference's numpy pass per depth index. Eigen's matrix-vector and tiny coefficient-wise
products (one pixel or one channel; ``M + N + K < 20``) stay on the reference.

On mobilenet_v2_dyn the two float CONV_2D layers in front of the first hybrid one took
5.7 ms of 21 ms at one thread with the reference kernel, 2.3 ms compiled (the model:
26.6 -> 16.2 ms, against LiteRT's builtin kernels 1.8x -> 1.2x).
"""
from __future__ import annotations

import numpy as np

from ..activation_fn import apply_fused_activation
from ..base import register
from ..conv import scratch_array, shared_scratch
from ..exact_float import (
    EIGEN_COEFF_PRODUCT_LIMIT,
    ExactOrderConv2D,
    _hybrid_feeding_conv,
)
from . import FAST_PRIORITY, enabled
from .loader import run, run_from

F32 = np.float32
COLS_SCRATCH_SLOT = 1  # the im2col matrix, as the other convolutions'


def _fast_exact_conv(node) -> bool:
    return enabled(node) and _hybrid_feeding_conv(node)


@register("CONV_2D", kind="float", priority=FAST_PRIORITY + 1, when=_fast_exact_conv)
class FastExactOrderConv2D(ExactOrderConv2D):
    """Float CONV_2D feeding a hybrid op: compiled, in LiteRT's summation order."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.cols_scratch = shared_scratch(self, COLS_SCRATCH_SLOT)
        self.wt = None if self.w_const is None else self._transposed(self.w_const)
        return shapes

    @staticmethod
    def _transposed(w: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(w.reshape(w.shape[0], -1).T, F32)

    def eval(self, inputs, outputs):
        x, out = np.asarray(inputs[0], F32), outputs[0]
        n, oh, ow, o = out.shape
        wt = self.wt if self.wt is not None else self._transposed(np.asarray(inputs[1], F32))
        depth, rows = wt.shape[0], n * oh * ow
        if rows == 1 or o == 1 or rows + o + depth < EIGEN_COEFF_PRODUCT_LIMIT or out.size == 0:
            return super().eval(inputs, outputs)
        cols = scratch_array(self.cols_scratch, (rows, depth), F32)
        kh, kw, sh, sw, dh, dw, pt, _, pl, _, _, _ = self.geom
        run(self, "im2col_padded", np.ascontiguousarray(x), F32(0.0), cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow)
        bias = self.bias_of(inputs, o)
        flat = out.reshape(rows, o)
        run_from("_compiled_exact_float", self, "eigen_order_gemm", cols, wt,
                 bias if bias is not None else np.zeros(o, F32), bias is not None, flat, parallel=False)
        apply_fused_activation(out, self.act)
        return None
