"""MEAN, compiled.

* float32 over the trailing dimensions (layer norms): Eigen's vectorised row sums (the
  reference emulates Eigen's lane order with numpy passes per alignment class), then the
  same float32 division as the reference;
* float32 over the spatial axes {1, 2} of a 4-D NHWC tensor with more than one channel (the
  squeeze-excite pools): per channel a running sum over the pixels in memory order from
  ``+0.0``, then the float32 division (``_compiled_mean``). One channel stays with the
  reference, whose numpy reduction then sums the pixels pairwise;
* int8/uint8 over adjacent axes: exact int64 sums, then the reference's integer
  requantization (``_compiled_int8``).
"""
from __future__ import annotations

import math

import numpy as np

from ..base import register
from ..quantized_misc import QuantizedMean
from ..reduce import MeanKernel
from . import FAST_PRIORITY, enabled
from .loader import run, run_from

_INT8 = "_compiled_int8"
_MEAN = "_compiled_mean"


@register("MEAN", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastMean(MeanKernel):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.depth = None  # float32 rows reduced over constant trailing axes: their length
        self.spatial = None  # float32 NHWC reduced over axes {1, 2}: (N, H*W, C)
        axes, shape = self.axes, self.input_shape
        if axes is not None and len(shape) == 4 and tuple(sorted(axes)) == (1, 2) and shape[3] > 1 \
                and shape[1] * shape[2] > 0 and inputs[0].dtype == np.float32 and outputs[0].dtype == np.float32:
            self.spatial = (shape[0], shape[1] * shape[2], shape[3])
            self.divisor = np.float32(shape[1] * shape[2])
        if axes is not None and inputs[0].dtype == np.float32 and outputs[0].dtype == np.float32 \
                and 0 < len(axes) < len(shape) and axes == tuple(range(len(shape) - len(axes), len(shape))):
            depth = int(np.prod([shape[a] for a in axes], dtype=np.int64))
            if depth > 0:
                self.depth, self.divisor = depth, np.float32(depth)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.spatial is not None and out is not None and x.dtype == np.float32 and out.flags.c_contiguous:
            run_from(_MEAN, self, "spatial_means", np.ascontiguousarray(x).reshape(self.spatial), self.divisor,
                     out.reshape(self.spatial[0], self.spatial[2]), parallel=False)
            return None
        if self.depth is None or out is None or x.dtype != np.float32:
            return super().eval(inputs, outputs)
        run(self, "eigen_row_means", np.ascontiguousarray(x).reshape(-1, self.depth), self.divisor,
            out.reshape(-1), parallel=False)
        return None


@register("MEAN", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedMean(QuantizedMean):
    """8-bit MEAN over one block of adjacent axes (a CNN's global average pool): the int64 sums
    of the reduced block in one compiled pass, then the reference's requantization (LiteRT's
    Mean4D with its 16-channel SIMD blocks, or the general multiplier folded with ``1/n``)
    compiled per output."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        x = inputs[0]
        self.block = None  # (outer, middle, inner): the input as [kept before, reduced, kept after]
        axes, shape = sorted(self.axes), self.in_shape
        if np.dtype(x.dtype) in (np.dtype(np.int8), np.dtype(np.uint8)) and axes and self.num > 0 \
                and axes == list(range(axes[0], axes[-1] + 1)):
            outer = math.prod(shape[:axes[0]])
            inner = math.prod(shape[axes[-1] + 1:])
            if outer * inner > 0:
                self.block = (outer, self.num, inner)
                self.totals = np.empty((outer, inner), np.int64)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.block is None or out is None or x.dtype not in (np.int8, np.uint8) or not out.flags.c_contiguous:
            return super().eval(inputs, outputs)
        totals = self.totals
        run_from(_INT8, self, "sum_middle", np.ascontiguousarray(x).reshape(self.block), totals, parallel=False)
        m, shift = self.mult
        if self.fast:
            channels = totals.shape[1]
            run_from(_INT8, self, "mean4d_requantize", totals, channels - channels % 16, m, shift, self.bias,
                     self.qmin, self.qmax, out.reshape(totals.shape), parallel=False)
        else:
            run_from(_INT8, self, "mean_requantize", totals, self.num, self.zi, m, shift, self.zo,
                     self.qmin, self.qmax, out, parallel=False)
        return None
