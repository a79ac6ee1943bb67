"""MEAN and SUM on int8/int16 as TFLM computes them: reference ``QuantizedMeanOrSum`` always.

The int32 sum minus ``zi * n`` goes through ``MultiplyByQuantizedMultiplier`` with the
multiplier of ``s_in / s_out`` (for MEAN folded with ``1/n`` in integers). LiteRT's builtin
kernels take an optimized path instead for 4-D MEAN over axes {1, 2} (float32 multiplier, SIMD
rounding) and for SUM (float32 arithmetic).
"""
from __future__ import annotations

from ..base import register
from ..quantized_elementwise import qparams, scalar_multiplier
from ..quantized_misc import QuantizedMean
from .common import TFLM_PRIORITY, is_tflm


@register("MEAN", kind="int8", priority=TFLM_PRIORITY, when=is_tflm)
@register("MEAN", kind="int16", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMMean(QuantizedMean):
    def setup(self, x, out):
        super().setup(x, out)
        self.fast = False
        si, _ = qparams(x, "input")
        so, _ = qparams(out, "output")
        m, s = scalar_multiplier(si / so)
        if not self.compute_sum and self.num > 0:
            k = min(int(self.num).bit_length() - 1, 32, 31 + s)
            m = int((m << k) // self.num) if k >= 0 else int((m >> -k) // self.num)
            s = s - k
        self.mult = (m, s)


@register("SUM", kind="int8", priority=TFLM_PRIORITY, when=is_tflm)
@register("SUM", kind="int16", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMSum(TFLMMean):
    compute_sum = True
