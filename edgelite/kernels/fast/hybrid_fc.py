"""Compiled hybrid (dynamic-range) FULLY_CONNECTED: float32 input rows quantized on the fly
to int8, int8 weights, float32 output; the same bits as ``kernels.hybrid.HybridFullyConnected``.

Per row: the reference's quantization parameters (``hybrid_conv.row_quantization``: symmetric,
or asymmetric with ``asymmetric_quantize_inputs``), one compiled quantization pass into an
int8 buffer, the exact int32 product on the integer tile of ``_compiled_gemm`` (int8 rows
flipped to uint8 inside it; the ``128 * sum_k W`` this adds is removed with the zero-point
term), then one compiled pass ``float32(acc - zp * row_sums) * (input_scale * weight_scale)
+ bias`` and the clamp of RELU / RELU_N1_TO_1 / RELU6 (the other activations run the
reference's numpy code afterwards). The reference multiplies with float BLAS on the quantized
values in depth chunks summed in float64 once the depth passes 1023 (mobilenet_v2_dyn's
1280 x 1000 classifier: 0.5 ms of its 11 ms).

Only where the host has an integer tile (AVX-512 VNNI or AVX2, ``epilogue.int_gemm_host``)
and the depth is within the tile's exact int32 range; elsewhere, and for inputs with a NaN or
an infinity, the reference runs.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..hybrid import HybridFullyConnected, apply_float_activation
from . import FAST_PRIORITY, enabled
from .epilogue import _INT_GEMM
from .hybrid_conv import _CLAMPS, HybridInt8Gemm, row_quantization
from .loader import run_from

F32 = np.float32


@register("FULLY_CONNECTED", kind="hybrid", priority=FAST_PRIORITY, when=enabled)
class FastHybridFullyConnected(HybridInt8Gemm, HybridFullyConnected):
    """Hybrid FULLY_CONNECTED on the VNNI int8 tile."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.setup_int8_gemm()
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        gemm = self.int8_gemm() if x.size and out.size else False
        if not gemm:
            return super().eval(inputs, outputs)
        rows = np.ascontiguousarray(x, F32).reshape(-1, self.k)
        params = row_quantization(self, rows, self.asymmetric)
        if params is None:  # a NaN or an infinity: the reference's arithmetic
            return super().eval(inputs, outputs)
        inv, zp, zeroed, sf, qlo, qhi = params
        module, packed, flip_sums = gemm
        q = np.empty(rows.shape, np.int8)
        run_from("_compiled_hybrid", self, "quantize_rows", rows, inv, zp, zeroed, qlo, qhi,
                 np.zeros(rows.shape[0], np.int64), q, parallel=False)
        acc = np.empty((rows.shape[0], packed.shape[1]), np.int32)
        run_from(_INT_GEMM, self, "gemm_int32", q, packed, self.k, module.SIGNED_FLIP, acc, parallel=False)
        scale = (sf[:, None] * self.wscale[None, :]).astype(F32)
        y = out.reshape(-1, self.o)
        run_from("_compiled_hybrid", self, "fc_epilogue", acc, zp, self.row_sums64, flip_sums, scale, self.bias,
                 self.lo, self.hi, self.clamp, y, parallel=False)
        if self.act not in _CLAMPS and self.act != 0:
            apply_float_activation(out, self.act)
        return None
