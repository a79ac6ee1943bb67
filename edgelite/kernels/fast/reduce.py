"""Float MEAN over the trailing dimensions (layer norms): Eigen's vectorised row sums,
compiled (the reference emulates Eigen's lane order with numpy passes per alignment class),
then the same float32 division as the reference."""
from __future__ import annotations

import numpy as np

from ..base import register
from ..reduce import MeanKernel
from . import FAST_PRIORITY, enabled
from .loader import run


@register("MEAN", kind="float", priority=FAST_PRIORITY, when=enabled)
class FastMean(MeanKernel):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.depth = None  # float32 rows reduced over constant trailing axes: their length
        axes, shape = self.axes, self.input_shape
        if axes is not None and inputs[0].dtype == np.float32 and outputs[0].dtype == np.float32 \
                and 0 < len(axes) < len(shape) and axes == tuple(range(len(shape) - len(axes), len(shape))):
            depth = int(np.prod([shape[a] for a in axes], dtype=np.int64))
            if depth > 0:
                self.depth, self.divisor = depth, np.float32(depth)
        return shapes

    def eval(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.depth is None or out is None or x.dtype != np.float32:
            return super().eval(inputs, outputs)
        run(self, "eigen_row_means", np.ascontiguousarray(x).reshape(-1, self.depth), self.divisor,
            out.reshape(-1), parallel=False)
        return None
