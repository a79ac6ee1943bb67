"""Compiled float32 HARD_SWISH and SOFTMAX (numba code in ``_compiled_float``).

Same float32 steps in the same order as the reference kernels in ``activations``, so the
same bits; numpy's ``exp`` stays numpy's (a compiled ``exp`` would round differently).
HARD_SWISH is one pass instead of five numpy passes; SOFTMAX on rows of 8 values or more
replaces numpy's reductions along the last axis (slow per row on short rows) by one
compiled pass before and one after the ``exp``. Shorter rows stay with the reference,
which reduces them with strided numpy passes.
"""
from __future__ import annotations

import numpy as np

from ..activations import SOFTMAX_STRIDED_MAX_DEPTH, HardSwishKernel, SoftmaxKernel
from ..base import register
from . import FAST_PRIORITY, enabled
from .loader import run_from

_MODULE = "_compiled_float"


@register("HARD_SWISH", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastHardSwish(HardSwishKernel):
    def compute(self, x, out):
        if x.dtype != np.float32 or out.dtype != np.float32 or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return super().compute(x, out)
        run_from(_MODULE, self, "hard_swish", x.reshape(-1), out.reshape(-1), parallel=False)
        return None


@register("SOFTMAX", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastSoftmax(SoftmaxKernel):
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        depth = x.shape[-1] if x.ndim else 0
        if (x.dtype != np.float32 or out.dtype != np.float32 or out.size == 0 or depth <= SOFTMAX_STRIDED_MAX_DEPTH
                or not (x.flags.c_contiguous and out.flags.c_contiguous)):
            return super().eval(inputs, outputs)
        x2, out2 = x.reshape(-1, depth), out.reshape(-1, depth)
        run_from(_MODULE, self, "softmax_shift", x2, np.float32(self.beta), self.beta != 1.0, out2, parallel=False)
        np.exp(out, out=out)
        run_from(_MODULE, self, "softmax_normalise", out2, parallel=False)
        return None
