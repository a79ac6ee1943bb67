"""Segment reductions, UNIQUE and BUCKETIZE (LiteRT's segment_sum.cc, unsorted_segment.cc,
unique.cc, bucketize.cc).

* SEGMENT_SUM(data, segment_ids): ids are 1-D, one per row of ``data``, start at 0 and grow by
  0 or 1 from row to row; output row ``s`` is the sum of the rows with id ``s``.
* UNSORTED_SEGMENT_{SUM,PROD,MAX,MIN}(data, segment_ids, num_segments): ids have any shape that
  is a prefix of ``data``'s; negative ids drop their element; the output has ``num_segments``
  rows, each starting at the reduction's identity (0, 1, lowest, max of the type) and combined
  with the elements in input order (``ufunc.at`` accumulates in that order, so float sums are
  LiteRT's bit for bit; int32 wraps around as LiteRT's WrappingAdd/WrappingMul).
* UNIQUE(x): the distinct values of a 1-D tensor in order of first appearance, and for every
  element the index of its value there (int32 or int64 per ``idx_out_type``).
* BUCKETIZE(x): for each element the number of boundaries <= it (``std::upper_bound``);
  int inputs are compared as float32 (C++'s conversion of ``int < float``).

Output shapes that depend on input values (segment counts, the number of unique values) are
known in prepare only when those inputs are constant; otherwise they are dynamic.
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register

_SEGMENT_DATA_TYPES = (np.dtype(np.float32), np.dtype(np.int32))


class _SegmentKernel(Kernel):
    def check_types(self, data, ids) -> None:
        if data.dtype not in _SEGMENT_DATA_TYPES:
            raise self.fail(f"data must be float32 or int32, got {data.dtype}")
        if ids.dtype != np.int32:
            raise self.fail(f"segment_ids must be int32, got {ids.dtype}")


@register("SEGMENT_SUM", kind="any")
class SegmentSum(_SegmentKernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "data, segment_ids", 2)
        data, ids = inputs
        self.check_types(data, ids)
        if len(data.shape) < 1:
            raise self.fail("data must have at least one dimension")
        if len(ids.shape) != 1 or ids.shape[0] != data.shape[0]:
            raise self.fail(f"segment_ids must be 1-D with one id per row of data {list(data.shape)}, "
                            f"got shape {list(ids.shape)}")
        if data.is_constant and ids.is_constant:
            return [(self.segment_count(ids.data),) + tuple(data.shape[1:])]
        return [None]

    def segment_count(self, ids: np.ndarray) -> int:
        ids = np.asarray(ids, np.int64)
        if ids.size == 0:
            return 0
        if ids[0] != 0:
            raise self.fail(f"segment_ids must start at 0, got {int(ids[0])}")
        steps = np.diff(ids)
        bad = np.flatnonzero((steps != 0) & (steps != 1))
        if bad.size:
            k = int(bad[0]) + 1
            raise self.fail(f"segment_ids must be sorted and grow by at most 1: id {int(ids[k])} at "
                            f"position {k} follows {int(ids[k - 1])}")
        return int(ids[-1]) + 1

    def eval(self, inputs, outputs):
        data, ids = inputs
        count = self.segment_count(ids)
        out = outputs[0]
        if out is None or out.shape[0] != count:
            out = np.zeros((count,) + data.shape[1:], data.dtype)
        else:
            out.fill(0)
        np.add.at(out, ids, data)
        return [out]


_UNSORTED_OPS = {
    "UNSORTED_SEGMENT_SUM": np.add, "UNSORTED_SEGMENT_PROD": np.multiply,
    "UNSORTED_SEGMENT_MAX": np.maximum, "UNSORTED_SEGMENT_MIN": np.minimum,
}


def _identity(op: str, dtype: np.dtype):
    if op == "UNSORTED_SEGMENT_SUM":
        return 0
    if op == "UNSORTED_SEGMENT_PROD":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    return info.min if op == "UNSORTED_SEGMENT_MAX" else info.max


@register(tuple(_UNSORTED_OPS), kind="any")
class UnsortedSegment(_SegmentKernel):
    def __init__(self, node):
        super().__init__(node)
        self.ufunc = _UNSORTED_OPS[node.op.name]

    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "data, segment_ids, num_segments", 3)
        data, ids, num = inputs
        self.check_types(data, ids)
        if num.dtype != np.int32:
            raise self.fail(f"num_segments must be int32, got {num.dtype}")
        if num.shape not in ((), (1,)):
            raise self.fail(f"num_segments must be a scalar or a 1-element vector, got shape {list(num.shape)}")
        r = len(ids.shape)
        if r > len(data.shape) or tuple(data.shape[:r]) != tuple(ids.shape):
            raise self.fail(f"segment_ids shape {list(ids.shape)} must be a prefix of data shape "
                            f"{list(data.shape)}")
        self.identity = _identity(self.op_desc.name, data.dtype)
        self.row_shape = tuple(data.shape[r:])
        if ids.is_constant and num.is_constant:
            return [(self.segment_count(ids.data, num.data),) + self.row_shape]
        return [None]

    def segment_count(self, ids: np.ndarray, num: np.ndarray) -> int:
        n = int(np.asarray(num).reshape(-1)[0])
        if n < 0:
            raise self.fail(f"num_segments must be >= 0, got {n}")
        if ids.size and int(ids.max()) >= n:
            raise self.fail(f"segment id {int(ids.max())} is out of range for num_segments={n}")
        return n

    def eval(self, inputs, outputs):
        data, ids, num = inputs
        n = self.segment_count(ids, num)
        out = outputs[0]
        if out is None or out.shape[0] != n:
            out = np.empty((n,) + self.row_shape, data.dtype)
        out.fill(self.identity)
        flat_ids = ids.reshape(-1)
        rows = data.reshape((flat_ids.size,) + self.row_shape)
        keep = flat_ids >= 0
        if not keep.all():
            flat_ids, rows = flat_ids[keep], rows[keep]
        self.ufunc.at(out, flat_ids, rows)
        return [out]


_UNIQUE_TYPES = {np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.float32, np.uint8)}  # not uint16 (2.3.0)
_INDEX_TYPES = {2: np.dtype(np.int32), 4: np.dtype(np.int64)}  # TensorType codes


@register("UNIQUE", kind="any")
class Unique(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 2 or inputs[0] is None:
            raise self.fail("needs one input and two outputs (values, indices)")
        x = inputs[0]
        code = int(self.options.get("idx_out_type", 2))
        if code not in _INDEX_TYPES:
            raise self.fail(f"idx_out_type must be INT32 or INT64, got type code {code}")
        self.index_dtype = _INDEX_TYPES[code]
        if outputs[1].dtype != self.index_dtype:
            raise self.fail(f"index output is {outputs[1].dtype} but idx_out_type says {self.index_dtype}")
        if outputs[0].dtype != x.dtype:
            raise self.fail(f"values output is {outputs[0].dtype}, input is {x.dtype}")
        if x.dtype not in _UNIQUE_TYPES:
            raise self.fail(f"type {x.dtype} is not supported")
        if len(x.shape) != 1:
            raise self.fail(f"input must be 1-D, got shape {list(x.shape)}")
        return [None, tuple(x.shape)]

    def eval(self, inputs, outputs):
        x = inputs[0]
        _, first, inverse = np.unique(x, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")       # sorted-unique position -> appearance rank
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        values = x[first[order]]
        return [values, rank[inverse.reshape(-1)].astype(self.index_dtype, copy=False)]


_BUCKET_TYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64)}


@register("BUCKETIZE", kind="any")
class Bucketize(Kernel):
    def __init__(self, node):
        super().__init__(node)
        b = self.options.get("boundaries")
        self.boundaries = np.zeros(0, np.float32) if b is None else np.asarray(b, np.float32).reshape(-1)

    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one input and one output")
        b = self.boundaries
        if b.size > 1 and np.any(b[1:] < b[:-1]):
            raise self.fail("expected sorted boundaries")
        x = inputs[0]
        if x.dtype not in _BUCKET_TYPES:
            raise self.fail(f"type {x.dtype} is not supported (float32, float64, int32, int64)")
        if outputs[0].dtype != np.int32:
            raise self.fail(f"output must be int32, got {outputs[0].dtype}")
        # int < float compares in float; double < float in double
        self.compare_dtype = np.float64 if x.dtype == np.float64 else np.float32
        self.bounds = b.astype(self.compare_dtype)
        return [tuple(x.shape)]

    def eval(self, inputs, outputs):
        x = inputs[0].astype(self.compare_dtype, copy=False)
        idx = np.searchsorted(self.bounds, x, side="right")
        if outputs[0] is None:
            return [idx.astype(np.int32)]
        outputs[0][...] = idx
        return None
