"""Compiled 8-bit per-tensor DEQUANTIZE (numba code in ``_compiled_dequantize``): the
reference (``quantize.Dequantize``) computes every value in float64 through an int64 copy and
then recomputes LiteRT's SIMD blocks in float32; here one pass writes the float32 output
(same bits). float16, int16/int32 and per-axis inputs, and constant inputs (folded at
allocate), stay with the reference."""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quantize import _SIMD_WIDTH, Dequantize
from . import FAST_PRIORITY, enabled
from .loader import run_from


@register("DEQUANTIZE", kind="any", priority=FAST_PRIORITY, when=enabled)
class FastDequantize(Dequantize):
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if (self.cached is not None or not self.simd_8bit or out is None or x.dtype.itemsize != 1
                or out.dtype != np.float32 or x.shape != out.shape
                or not (x.flags.c_contiguous and out.flags.c_contiguous)):
            return super().eval(inputs, outputs)
        flat = x.reshape(-1)
        scale = np.float32(self.scale)
        run_from("_compiled_dequantize", self, "dequantize_8bit", flat, scale, np.float32(-self.zp) * scale,
                 np.float64(self.scale), np.int64(self.zp), flat.size - flat.size % _SIMD_WIDTH, out.reshape(-1),
                 parallel=False)
        return None
