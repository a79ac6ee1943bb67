"""Float32 GELU: the reference's dozen numpy passes (erfc's Horner polynomial one pass per
coefficient) as one compiled pass before and one after numpy's own ``exp`` / ``tanh``
(which stay numpy's: a compiled ``exp`` would round differently). Same float32 steps in
the same order, so the same bits. The erfc form's first pass is ``_compiled_float``'s
(coefficients unrolled, so the element loop vectorises)."""
from __future__ import annotations

import numpy as np

from ..activations import _ERFC_COEFFS, _SQRT_2_OVER_PI, GeluKernel
from ..base import register
from . import FAST_PRIORITY, enabled
from .loader import run, run_from

_COEFFS = np.array(_ERFC_COEFFS, np.float32)
_ARG = np.float32(-np.sqrt(0.5))


@register("GELU", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastGelu(GeluKernel):
    def compute(self, x, out):
        if x.dtype != np.float32 or out.dtype != np.float32 or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return super().compute(x, out)
        xf, of = x.reshape(-1), out.reshape(-1)
        if self.approximate:
            run(self, "gelu_tanh_head", xf, np.float32(0.044715), _SQRT_2_OVER_PI, of, parallel=False)
            np.tanh(of, out=of)
            run(self, "gelu_tanh_tail", xf, of, parallel=False)
            return None
        t = self.__dict__.get("t_buffer")
        if t is None or t.size != xf.size:
            t = self.t_buffer = np.empty(xf.size, np.float32)
        run_from("_compiled_float", self, "gelu_erfc_head", xf, _ARG, _COEFFS, t, of, parallel=False)
        np.exp(of, out=of)
        run(self, "gelu_erfc_tail", xf, _ARG, t, of, parallel=False)
        return None
