"""QUANTIZE float32 -> int8/uint8/int16 per tensor, compiled: LiteRT's AffineQuantize as the
reference emulates it (``rint(x * float32(1/scale))`` in its SIMD blocks of 8, the tail
``round_half_away(double(x) / scale)``, then ``+ zero_point`` and the clamp) in one pass
instead of several numpy passes over float64 temporaries. Other modes, and inputs holding a
NaN, run the reference ``eval``."""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quantize import _SIMD_WIDTH, Quantize
from . import FAST_PRIORITY, enabled
from .loader import run_from


@register("QUANTIZE", kind="any", priority=FAST_PRIORITY, when=enabled)
class FastQuantize(Quantize):
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.mode != "float" or self.per_axis or x.dtype != np.float32 or out is None \
                or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return super().eval(inputs, outputs)
        flat, dst = x.reshape(-1), out.reshape(-1)
        body = flat.size - flat.size % _SIMD_WIDTH
        status = self.__dict__.get("status")
        if status is None:
            status = self.status = np.zeros(1, np.int64)
        run_from("_compiled_int8", self, "quantize_affine", flat, np.float32(1.0) / np.float32(self.scale),
                 np.float64(self.scale), np.float64(self.zp), self.qmin, self.qmax, body, dst, status,
                 parallel=False)
        if not status[0]:  # a NaN
            return super().eval(inputs, outputs)
        return None
