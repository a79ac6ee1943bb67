"""QUANTIZE and DEQUANTIZE as TFLM computes them (reference_ops, element by element).

* float -> int8/int16 (AffineQuantize): ``round_half_away(float32(x) / float32(scale))``
  in float32, plus the zero point, clamped; LiteRT's SIMD blocks multiply by the inverse scale
  and round half to even instead.
* integer -> integer (Requantize): ``MultiplyByQuantizedMultiplier(q - in_zp)`` with gemmlowp's
  rounding for every element (LiteRT's SIMD blocks round ties up).
* DEQUANTIZE: ``float(double(scale) * (q - zp))`` for every element.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quant_math import round_half_away
from ..quantize import Dequantize, Quantize
from .common import TFLM_PRIORITY, is_tflm


@register("QUANTIZE", kind="any", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMQuantize(Quantize):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        if self.mode == "requant":
            self.simd_requant = False
        return shapes

    def _affine(self, flat: np.ndarray) -> np.ndarray:
        q = (flat.astype(np.float32) / np.float32(self.scale)).astype(np.float64)  # exact widening
        return round_half_away(q) + self.zp


@register("DEQUANTIZE", kind="any", priority=TFLM_PRIORITY, when=is_tflm)
class TFLMDequantize(Dequantize):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.simd_8bit = False
        return shapes
