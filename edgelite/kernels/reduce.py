"""Reductions (MEAN, SUM, REDUCE_*), ARG_MAX / ARG_MIN and CUMSUM.

Reducers take the data and an axis tensor (int32/int64, scalar or 1-D).
Negative axes count from the end and duplicates are ignored, as in TFLite; an
axis out of range is an error. ``keep_dims`` keeps reduced dimensions as 1.
When the axis tensor is constant the output shape is fixed in ``prepare``;
otherwise ``eval`` computes it from the axis values.

Accumulation stays in the input type (int32 sums wrap as in TFLite's C++);
a reduction over no elements yields the identity TFLite starts from: 0 for
SUM, 1 for REDUCE_PROD, the lowest / highest finite value for REDUCE_MAX /
REDUCE_MIN, False for REDUCE_ANY and True for REDUCE_ALL. Integer MEAN
truncates toward zero after summing in int64.

Float SUM and MEAN add in LiteRT's order, so their results are bit-exact:

* SUM (and MEAN, except below): every output element sums its inputs in memory
  order, one by one from zero (numpy's own reduction sums pairwise when the last
  axis is reduced, so that case goes through a running sum);
* MEAN over the trailing dimensions only (not all of them): LiteRT's "MeanLastDim"
  path, Eigen's vectorised sum of each contiguous row of ``K`` values (see
  :func:`eigen_row_sums`), then divided by ``K``.

REDUCE_MAX, REDUCE_MIN, ARG_MAX and ARG_MIN only compare values, so they run on
quantized tensors too (input and output sharing their parameters).
"""
from __future__ import annotations

import math

import numpy as np

from .base import Kernel, register


def _data_quantization_equal(node) -> bool:
    """``when`` predicate: data input (0) and output (0) share quantization, or neither has any."""
    qs = [node.tensor(node.op.inputs[0]).quantization, node.tensor(node.op.outputs[0]).quantization]
    quantized = [q for q in qs if q is not None and not q.is_empty()]
    if not quantized:
        return True
    return len(quantized) == 2 and np.array_equal(qs[0].scale, qs[1].scale) and np.array_equal(
        qs[0].zero_point, qs[1].zero_point)


def _comparable_data(node) -> bool:
    """``when`` predicate for ARG_MAX/ARG_MIN: raw values order like real ones (positive scale)."""
    q = node.tensor(node.op.inputs[0]).quantization
    return q is None or q.is_empty() or bool(np.all(q.scale > 0))


def normalize_axes(kernel: Kernel, axis_values, rank: int) -> tuple[int, ...]:
    """Sorted unique non-negative axes; raises naming the bad axis."""
    axes = []
    for a in np.asarray(axis_values).reshape(-1).tolist():
        if not -rank <= a < max(rank, 1):
            raise kernel.fail(f"axis {a} out of range for rank-{rank} input")
        a = a + rank if a < 0 else a
        if rank and a not in axes:
            axes.append(a)
    return tuple(sorted(axes))


def _limits(dtype: np.dtype) -> tuple:
    if dtype.kind == "f":
        info = np.finfo(dtype)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
    else:
        return False, True
    return dtype.type(info.min), dtype.type(info.max)


def in_order_sum(x: np.ndarray, axes: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Float sum over ``axes``, each output adding its inputs in memory order (LiteRT's order)."""
    if x.ndim == 0 or not axes or (x.ndim - 1) not in axes:
        # numpy adds along an outer axis sequentially, slice by slice
        return np.add.reduce(x, axis=axes, keepdims=keepdims, dtype=x.dtype)
    rest = [i for i in range(x.ndim) if i not in axes]
    depth = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    width = int(np.prod([x.shape[i] for i in rest], dtype=np.int64))
    cols = np.ascontiguousarray(np.transpose(x, list(axes) + rest)).reshape(depth, width)
    if depth == 0 or width == 0:  # nothing to add, or nothing to add into
        total = np.zeros(width, x.dtype)
    elif width > 1:
        # along the outer axis of a C-contiguous [K, M] array numpy adds row after row
        total = np.add.reduce(cols, axis=0, dtype=x.dtype)
    else:  # one column: numpy would sum it pairwise; a running sum is sequential
        total = np.add.accumulate(cols[:, 0], dtype=x.dtype)[-1:]
    shape = [1 if i in axes else d for i, d in enumerate(x.shape)] if keepdims else [x.shape[i] for i in rest]
    return total.reshape(shape)


EIGEN_LANES = 4  # SSE float packet of LiteRT's x86 Eigen build


def eigen_row_sums(rows: np.ndarray) -> np.ndarray:
    """Sum each row of a C-contiguous float32 ``[R, K]`` array as Eigen's vectorised ``sum()``
    does in LiteRT (SSE, 4 lanes), the array's start being 16-byte aligned.

    Per row: the values before the first aligned address (``(-r*K) mod 4`` of them) are left
    for later; two 4-lane accumulators take alternate packets of the aligned part, in order;
    they are added, plus one more packet if one is left; the lanes are reduced as
    ``(l0 + l2) + (l1 + l3)``; then the skipped head values and the ``< 4`` left at the end are
    added one by one. Rows with fewer than one aligned packet are summed in order.
    """
    n, depth = rows.shape
    lanes = EIGEN_LANES
    period = lanes // math.gcd(depth, lanes)  # rows r and r + period start equally aligned
    out = np.empty(n, rows.dtype)
    for first in range(min(period, n)):
        group = rows[first::period]
        head = min((-first * depth) % lanes, depth)
        packets = (depth - head) // lanes * lanes
        pairs = (depth - head) // (2 * lanes) * (2 * lanes)
        if packets == 0:
            total = group[:, 0].copy()
            for k in range(1, depth):
                total += group[:, k]
            out[first::period] = total
            continue
        if packets > lanes:
            rows_in_group, count = len(group), pairs // (2 * lanes)
            # [blocks, rows * 8], C-contiguous: numpy adds it block after block
            blocks = np.ascontiguousarray(
                group[:, head:head + pairs].reshape(rows_in_group, count, 2 * lanes).transpose(1, 0, 2))
            acc = np.add.reduce(blocks.reshape(count, -1), axis=0).reshape(rows_in_group, 2 * lanes)
            acc = acc[:, :lanes] + acc[:, lanes:]
            if packets > pairs:
                acc += group[:, head + pairs:head + packets]
        else:
            acc = group[:, head:head + lanes]
        total = (acc[:, 0] + acc[:, 2]) + (acc[:, 1] + acc[:, 3])
        for k in list(range(head)) + list(range(head + packets, depth)):
            total += group[:, k]
        out[first::period] = total
    return out


class ReduceKernel(Kernel):
    """Data + axis inputs, one reduced output."""

    allowed_kinds = "fiu"

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs data and axis inputs")
        x, axis = inputs
        if x.dtype.kind not in self.allowed_kinds:
            raise self.fail(f"unsupported input type {x.dtype}")
        if axis.dtype.kind not in "iu" or len(axis.shape) > 1:
            raise self.fail(f"axis must be an integer scalar or 1-D tensor, got "
                            f"{axis.dtype}{list(axis.shape)}")
        self.keep_dims = bool(self.options.get("keep_dims", False))
        self.rank = len(x.shape)
        self.input_shape = tuple(x.shape)
        self.dtype = x.dtype
        self.axes = None
        if axis.is_constant:
            self.axes = normalize_axes(self, axis.data, self.rank)
            return [self._output_shape(self.axes)]
        return [None]

    def _output_shape(self, axes: tuple[int, ...]) -> tuple[int, ...]:
        if self.keep_dims:
            return tuple(1 if i in axes else d for i, d in enumerate(self.input_shape))
        return tuple(d for i, d in enumerate(self.input_shape) if i not in axes)

    def eval(self, inputs, outputs):
        x, axis = inputs
        axes = self.axes if self.axes is not None else normalize_axes(self, axis, x.ndim)
        out = outputs[0]
        if out is None:
            out = np.empty(self._output_shape(axes), self.dtype)
            self.reduce(x, axes, out)
            return [out]
        self.reduce(x, axes, out)
        return None

    def reduce(self, x: np.ndarray, axes: tuple[int, ...], out: np.ndarray) -> None:
        raise NotImplementedError


class UfuncReduceKernel(ReduceKernel):
    ufunc = None

    def initial(self, dtype: np.dtype):
        return None

    def reduce(self, x, axes, out):
        kwargs = {}
        initial = self.initial(x.dtype)
        # LiteRT starts from the first element when there is one (so a max over an all -inf row is
        # -inf); the type's limit only shows for an empty reduction.
        if initial is not None and (x.size == 0 or self.ufunc not in (np.maximum, np.minimum)):
            kwargs["initial"] = initial
        self.ufunc.reduce(x, axis=axes, out=out, keepdims=self.keep_dims, dtype=x.dtype, **kwargs)


@register("SUM")
class SumKernel(UfuncReduceKernel):
    ufunc = np.add

    def reduce(self, x, axes, out):
        if x.dtype.kind != "f":
            super().reduce(x, axes, out)
            return
        np.copyto(out, in_order_sum(x, axes, self.keep_dims).reshape(out.shape))


@register("REDUCE_PROD")
class ReduceProdKernel(UfuncReduceKernel):
    ufunc = np.multiply


@register("REDUCE_MAX", kind="any", when=_data_quantization_equal)
class ReduceMaxKernel(UfuncReduceKernel):
    ufunc = np.maximum

    def initial(self, dtype):
        return _limits(dtype)[0]


@register("REDUCE_MIN", kind="any", when=_data_quantization_equal)
class ReduceMinKernel(UfuncReduceKernel):
    ufunc = np.minimum

    def initial(self, dtype):
        return _limits(dtype)[1]


@register("REDUCE_ANY")
class ReduceAnyKernel(UfuncReduceKernel):
    allowed_kinds = "b"
    ufunc = np.logical_or


@register("REDUCE_ALL")
class ReduceAllKernel(UfuncReduceKernel):
    allowed_kinds = "b"
    ufunc = np.logical_and


@register("MEAN")
class MeanKernel(ReduceKernel):
    """Sum, then divide by the number of reduced elements (integers: int64 sum, truncating)."""

    def reduce(self, x, axes, out):
        count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        if x.dtype.kind == "f":
            trailing = axes == tuple(range(x.ndim - len(axes), x.ndim)) and 0 < len(axes) < x.ndim
            if trailing and count > 0 and x.dtype == np.float32:
                total = eigen_row_sums(np.ascontiguousarray(x).reshape(-1, count))
            else:
                total = in_order_sum(x, axes, self.keep_dims)
            with np.errstate(all="ignore"):
                np.divide(total.reshape(out.shape), out.dtype.type(count), out=out)
            return
        if count == 0:
            out[...] = 0
            return
        total = np.add.reduce(x, axis=axes, keepdims=self.keep_dims, dtype=np.int64)
        quotient = np.abs(total) // count
        np.copyto(out, np.where(total < 0, -quotient, quotient), casting="unsafe")


# ----------------------------------------------------------------------------- arg max / min

class ArgKernel(Kernel):
    """Index of the first extreme value along one axis (input 1: scalar or 1-element axis)."""

    pick = None

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs data and axis inputs")
        x, axis = inputs
        if axis.dtype.kind not in "iu" or axis.size != 1:
            raise self.fail(f"axis must be one integer, got {axis.dtype}{list(axis.shape)}")
        if outputs[0].dtype not in (np.int32, np.int64, np.int16, np.uint8):
            raise self.fail(f"unsupported output type {outputs[0].dtype}")
        if len(x.shape) == 0:
            raise self.fail("input must have rank >= 1")
        self.input_shape = tuple(x.shape)
        self.axis = None
        if axis.is_constant:
            self.axis = self._axis(axis.data)
            return [self._output_shape(self.axis)]
        return [None]

    def _axis(self, value) -> int:
        rank = len(self.input_shape)
        a = int(np.asarray(value).reshape(-1)[0])
        if not -rank <= a < rank:
            raise self.fail(f"axis {a} out of range for rank-{rank} input")
        return a + rank if a < 0 else a

    def _output_shape(self, axis: int) -> tuple[int, ...]:
        return self.input_shape[:axis] + self.input_shape[axis + 1:]

    def eval(self, inputs, outputs):
        x, axis_value = inputs
        axis = self.axis if self.axis is not None else self._axis(axis_value)
        if x.shape[axis] == 0:
            raise self.fail(f"cannot take {self.op_desc.opcode} along empty axis {axis}")
        result = self.pick(x, axis=axis)
        if outputs[0] is None:
            return [result.astype(self.node.tensor(self.op_desc.outputs[0]).numpy_dtype)]
        np.copyto(outputs[0], result, casting="unsafe")
        return None


@register("ARG_MAX", kind="any", when=_comparable_data)
class ArgMaxKernel(ArgKernel):
    pick = staticmethod(np.argmax)


@register("ARG_MIN", kind="any", when=_comparable_data)
class ArgMinKernel(ArgKernel):
    pick = staticmethod(np.argmin)


# ----------------------------------------------------------------------------- cumsum

@register("CUMSUM")
class CumsumKernel(Kernel):
    """Running sum along ``axis``; ``exclusive`` leaves the current element out, ``reverse``
    sums from the end."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or inputs[0] is None or inputs[1] is None:
            raise self.fail("needs data and axis inputs")
        x, axis = inputs
        if x.dtype.kind not in "fiu":
            raise self.fail(f"unsupported input type {x.dtype}")
        if axis.dtype.kind not in "iu" or axis.size != 1:
            raise self.fail(f"axis must be one integer, got {axis.dtype}{list(axis.shape)}")
        self.exclusive = bool(self.options.get("exclusive", False))
        self.reverse = bool(self.options.get("reverse", False))
        self.rank = len(x.shape)
        if self.rank == 0:
            raise self.fail("input must have rank >= 1")
        self.axis = self._axis(axis.data) if axis.is_constant else None
        return [tuple(x.shape)]

    def _axis(self, value) -> int:
        a = int(np.asarray(value).reshape(-1)[0])
        if not -self.rank <= a < self.rank:
            raise self.fail(f"axis {a} out of range for rank-{self.rank} input")
        return a + self.rank if a < 0 else a

    def eval(self, inputs, outputs):
        x, axis_value = inputs
        axis = self.axis if self.axis is not None else self._axis(axis_value)
        out = outputs[0]
        if x.shape[axis] == 0:
            return
        src, dst = x, out
        if self.reverse:
            src = np.flip(x, axis)
            dst = np.flip(out, axis)  # a view: writing it writes out
        if not self.exclusive:
            np.cumsum(src, axis=axis, dtype=out.dtype, out=dst)
            return
        head = [slice(None)] * x.ndim
        head[axis] = slice(0, 1)
        body, body_src = list(head), list(head)
        body[axis] = slice(1, None)
        body_src[axis] = slice(0, -1)
        dst[tuple(head)] = 0
        np.cumsum(src[tuple(body_src)], axis=axis, dtype=out.dtype, out=dst[tuple(body)])
