"""Compiled im2col for the float CONV_2D (``conv.Conv2D``): the patch matrix is written
straight from the input by ``_compiled.im2col_padded`` (zero padding), instead of the
reference's padded copy of the input plus a strided numpy copy. The GEMM is the very same
BLAS call on the very same matrices, so the results are the reference's bit for bit.

Pointwise and grouped convolutions keep the reference's patch matrix (a view of the input,
or a grouped transpose). On mobilenet_v3_small_f32's first layer (224 x 224 x 3 input,
3 x 3 x 3 filter, stride 2) the reference's im2col took most of the layer's 0.64 ms.
"""
from __future__ import annotations

import numpy as np

from ..base import register
from ..conv import Conv2D
from . import FAST_PRIORITY, enabled
from .loader import run

F32 = np.float32


@register("CONV_2D", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastConv2D(Conv2D):
    """Float CONV_2D with the compiled im2col."""

    def im2col(self, x: np.ndarray) -> np.ndarray:
        if self.pointwise or self.groups != 1 or x.dtype != np.float32 or x.size == 0:
            return super().im2col(x)
        if self.col_shape is None:
            self.setup()
        col = self.col_buffer()
        p = self.plan
        run(self, "im2col_padded", np.ascontiguousarray(x), F32(0.0), col, p.k_h, p.k_w, p.stride_h,
            p.stride_w, p.dil_h, p.dil_w, p.pad_top, p.pad_left, p.out_h, p.out_w)
        return col
