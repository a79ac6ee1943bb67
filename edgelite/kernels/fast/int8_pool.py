"""Compiled integer MAX_POOL_2D (numba code in ``_compiled_pool``).

The reference (``quantized_misc.QuantizedMaxPool``) pads the input into an int32 copy and
reduces it separably with strided numpy passes (one per filter tap and axis), then clamps
and stores; here one compiled loop takes each window's maximum over its positions inside the
input and writes the clamped value straight into the output (same bits: integer maxima).
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..quantized_misc import QuantizedMaxPool
from . import FAST_PRIORITY, enabled
from .loader import run_from

_INTEGERS = (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))


@register("MAX_POOL_2D", kind="int8", priority=FAST_PRIORITY, when=enabled)
@register("MAX_POOL_2D", kind="int16", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedMaxPool(QuantizedMaxPool):
    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if (out is None or x.dtype not in _INTEGERS or out.dtype != self.dtype or x.dtype != out.dtype
                or self.acc.size == 0 or not (x.flags.c_contiguous and out.flags.c_contiguous)):
            return super().eval(inputs, outputs)
        p = self.plan
        scratch = self.__dict__.get("_channel_scratch")
        if scratch is None or scratch.size != x.shape[3]:
            scratch = self._channel_scratch = np.empty(x.shape[3], np.int32)
        run_from("_compiled_pool", self, "max_pool", x, p.k_h, p.k_w, p.stride_h, p.stride_w, p.pad_top,
                 p.pad_left, int(self.act_min), int(self.act_max), scratch, out, parallel=False)
        return None
