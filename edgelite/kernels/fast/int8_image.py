"""Compiled 8-bit RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR (numba code in ``_compiled_image``).

The reference kernels (``kernels/image.py``) plan per-axis source indices and weights in
``plan`` and blend with numpy fancy indexing, which builds four int64 (or float32) copies of
the output-sized gathers; here the same tables drive one compiled loop that writes the output
directly, with the reference's arithmetic step for step (same bits). int8 / int16 bilinear take
the fixed-point path, uint8 bilinear the float32 path (except 2x doubling, float only);
nearest neighbour is a gather for int8 / uint8. Dynamic sizes, non-contiguous buffers and
other dtypes stay with the reference.
"""
from __future__ import annotations

import numpy as np

from ..base import data_kind, register
from ..image import ResizeBilinear, ResizeNearestNeighbor
from . import FAST_PRIORITY, enabled
from .loader import run_from

_MODULE = "_compiled_image"
_BYTES = (np.dtype(np.int8), np.dtype(np.uint8))


def _direct(kernel, inputs, outputs) -> bool:
    """Whether the output is planned (static sizes) and both buffers are C-contiguous."""
    x, out = inputs[0], outputs[0] if outputs else None
    return (not kernel.dynamic and out is not None and x.dtype == out.dtype and out.ndim == 4
            and x.flags.c_contiguous and out.flags.c_contiguous)


def _integer_data(node) -> bool:
    """The tier is on and the node's data is 8/16-bit: float resizes keep the reference kernel."""
    return enabled(node) and data_kind(node) in ("int8", "int16")


def _table(values) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values).reshape(-1), dtype=np.int64)


@register("RESIZE_BILINEAR", kind="any", priority=FAST_PRIORITY, when=_integer_data)
class FastResizeBilinear(ResizeBilinear):
    def plan_axes(self, h, w, oh, ow):
        super().plan_axes(h, w, oh, ow)
        self.compiled_tables = None
        if self.doubling:
            return
        (y0, y1), (x0, x1) = self.rows, self.cols
        if self.dtype in (np.int8, np.int16):
            self.compiled_tables = ("bilinear_fixed", _table(y0), _table(y1), _table(self.wy[0]),
                                    _table(self.wy[1]), _table(x0), _table(x1), _table(self.wx[0]),
                                    _table(self.wx[1]))
        elif self.dtype == np.uint8:
            weights = tuple(np.ascontiguousarray(np.asarray(cw, np.float32).reshape(oh, ow))
                            for cw in self.corner_weights)
            self.compiled_tables = ("bilinear_float_to_uint8", _table(y0), _table(y1), _table(x0),
                                    _table(x1)) + weights

    def eval(self, inputs, outputs):
        tables = getattr(self, "compiled_tables", None)
        if tables is None or not _direct(self, inputs, outputs):
            return super().eval(inputs, outputs)
        run_from(_MODULE, self, tables[0], inputs[0], *tables[1:], outputs[0], parallel=False)
        return None


@register("RESIZE_NEAREST_NEIGHBOR", kind="any", priority=FAST_PRIORITY, when=_integer_data)
class FastResizeNearestNeighbor(ResizeNearestNeighbor):
    def plan_axes(self, h, w, oh, ow):
        super().plan_axes(h, w, oh, ow)
        self.compiled_tables = (_table(self.rows), _table(self.cols))

    def eval(self, inputs, outputs):
        tables = getattr(self, "compiled_tables", None)
        if tables is None or np.dtype(self.dtype) not in _BYTES or not _direct(self, inputs, outputs):
            return super().eval(inputs, outputs)
        run_from(_MODULE, self, "nearest", inputs[0], *tables, outputs[0], parallel=False)
        return None
