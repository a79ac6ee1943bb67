"""Array construction and windowed ops: MATRIX_DIAG, MATRIX_SET_DIAG, SPARSE_TO_DENSE,
DYNAMIC_UPDATE_SLICE, BROADCAST_ARGS, BITCAST, DILATE, REDUCE_WINDOW, FAKE_QUANT
(LiteRT's matrix_diag.cc, matrix_set_diag.cc, sparse_to_dense.cc, dynamic_update_slice.cc,
broadcast_args.cc, bitcast.cc, dilate.cc, stablehlo_reduce_window.cc, fake_quant.cc).

* MATRIX_DIAG(d[..., n]) -> [..., n, n] with ``d`` on the diagonal; MATRIX_SET_DIAG(x[..., m, n],
  d[..., min(m, n)]) replaces x's diagonal.
* SPARSE_TO_DENSE(indices, output_shape, values, default): a ``default``-filled tensor of
  ``output_shape`` (at most 4-D) with ``values`` (one per index, or a scalar for all) at
  ``indices`` (0-D/1-D: positions in a 1-D output, 2-D: one row per point). A later index wins.
* DYNAMIC_UPDATE_SLICE(operand, update, start): ``update`` written into a copy of ``operand``
  at ``start``, each start index clamped to [0, operand_dim - update_dim] as XLA does.
* BROADCAST_ARGS(s0, s1): the broadcast of two shapes given as int32/int64 vectors.
* BITCAST(x): the same bytes as another type: equal sizes keep the shape, a larger input type
  gains a last dimension of size ratio, a smaller one loses its last dimension (= the ratio).
* DILATE(x, dilations int32[rank], padding_value): ``dilations[i] - 1`` padding values
  between neighbours along every axis i.
* REDUCE_WINDOW(x, init, window_dims, window_strides, window_dilations): int64 constants;
  ``reduce_function`` (ReduceWindowOptions, builtin_options_2) 1 ADD, 2 MUL, 3 MIN, 4 MAX,
  5 ALL, 6 ANY. Each output starts at ``init`` and folds the window's elements in row-major
  order (one vectorised step per window offset), as LiteRT's loop does, so float sums agree
  bit for bit. MAX is ``a >= b ? a : b`` and MIN ``a <= b ? a : b``.
* FAKE_QUANT(x): TF's FakeQuantWithMinMaxArgs: min/max nudged so that zero is exactly
  representable, then x clamped to them, quantized with round-half-up and dequantized,
  all in float32 like LiteRT's reference. ``narrow_range`` is refused, as LiteRT does.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..runtime.budget import check_output
from .base import Kernel, register

_INDEX_TYPES = (np.dtype(np.int32), np.dtype(np.int64))
# LiteRT's diagonal kernels have typed paths for these; any other type falls into its float32
# path, which reads and writes past the buffers of narrower types, so edgelite rejects them.
_DIAG_TYPES = {np.dtype(t) for t in (np.float32, np.int64, np.int32, np.int16, np.int8, np.uint8)}


@register("MATRIX_DIAG", kind="any")
class MatrixDiag(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one input and one output")
        x = inputs[0]
        if len(x.shape) < 1:
            raise self.fail("the diagonal input must have at least one dimension")
        if outputs[0].dtype != x.dtype:
            raise self.fail(f"output type {outputs[0].dtype} differs from the input's {x.dtype}")
        if x.dtype not in _DIAG_TYPES:
            raise self.fail(f"type {x.dtype} is not supported")
        n = x.shape[-1]
        return [tuple(x.shape) + (n,)]

    def eval(self, inputs, outputs):
        d = inputs[0]
        out = outputs[0]
        out.fill(0)
        n = d.shape[-1]
        out.reshape(out.shape[:-2] + (n * n,))[..., ::n + 1] = d


@register("MATRIX_SET_DIAG", kind="any")
class MatrixSetDiag(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "input, diagonal", 2)
        x, d = inputs
        if len(x.shape) < 2:
            raise self.fail(f"the input must have at least 2 dimensions, got shape {list(x.shape)}")
        m, n = x.shape[-2:]
        want = tuple(x.shape[:-2]) + (min(m, n),)
        if tuple(d.shape) != want:
            raise self.fail(f"the diagonal must have shape {list(want)}, got {list(d.shape)}")
        if d.dtype != x.dtype or outputs[0].dtype != x.dtype:
            raise self.fail(f"input, diagonal and output types must match ({x.dtype}, {d.dtype}, "
                            f"{outputs[0].dtype})")
        if x.dtype not in _DIAG_TYPES:
            raise self.fail(f"type {x.dtype} is not supported")
        self.k = min(m, n)
        return [tuple(x.shape)]

    def eval(self, inputs, outputs):
        x, d = inputs
        out = outputs[0]
        np.copyto(out, x)
        k = self.k
        idx = np.arange(k)
        out[..., idx, idx] = d


_SPARSE_VALUE_TYPES = {np.dtype(t) for t in (np.int32, np.int64, np.int8, np.uint8, np.float32)}


@register("SPARSE_TO_DENSE", kind="any")
class SparseToDense(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "indices, output_shape, values, default_value", 4)
        indices, shape, values, default = inputs
        if len(indices.shape) > 2:
            raise self.fail(f"indices must be 0-D, 1-D or 2-D, got {len(indices.shape)} dimensions")
        if len(shape.shape) != 1:
            raise self.fail("output_shape must be 1-D")
        if len(values.shape) > 1:
            raise self.fail("values must be a scalar or 1-D")
        if default.size != 1:
            raise self.fail(f"default_value must have one element, got {default.size}")
        if indices.dtype not in _INDEX_TYPES or shape.dtype not in _INDEX_TYPES:
            raise self.fail("indices and output_shape must be int32 or int64")
        if values.dtype not in _SPARSE_VALUE_TYPES:
            raise self.fail(f"value type {values.dtype} is not supported")
        if default.dtype != values.dtype:
            raise self.fail(f"default_value type {default.dtype} differs from values' {values.dtype}")
        if outputs[0].dtype != values.dtype:
            raise self.fail(f"output type {outputs[0].dtype} differs from values' {values.dtype}")
        rank_out = shape.shape[0]
        if len(indices.shape) <= 1:
            if len(values.shape) == 1 and values.shape[0] != indices.size:
                raise self.fail(f"{indices.size} indices but {values.shape[0]} values")
            if rank_out != 1:
                raise self.fail("0-D/1-D indices need a 1-D output shape")
        else:
            if indices.shape[1] != rank_out:
                raise self.fail(f"indices rows have {indices.shape[1]} entries, output_shape {rank_out}")
            if len(values.shape) == 1 and values.shape[0] != indices.shape[0]:
                raise self.fail(f"{indices.shape[0]} indices but {values.shape[0]} values")
        if rank_out > 4:
            raise self.fail(f"the output may have at most 4 dimensions, got {rank_out}")
        if shape.is_constant:
            return [self.output_shape(shape.data)]
        return [None]

    def output_shape(self, shape) -> tuple[int, ...]:
        return self.dims_from(shape, "output_shape")

    def eval(self, inputs, outputs):
        indices, shape, values, default = inputs
        dims = self.output_shape(shape)
        out = outputs[0]
        if out is None or out.shape != dims:
            check_output(self.node, dims, values.dtype)  # a size read at run time: ask the budget
            out = np.empty(dims, values.dtype)
        out.fill(default.reshape(-1)[0])
        points = np.asarray(indices, np.int64).reshape(-1, 1) if indices.ndim <= 1 else np.asarray(indices, np.int64)
        if points.shape[0]:
            bad = (points < 0) | (points >= np.asarray(dims, np.int64))
            if bad.any():
                i = int(np.argwhere(bad)[0][0])
                raise self.fail(f"index {points[i].tolist()} is out of range for output shape {list(dims)}")
            flat = np.ravel_multi_index(points.T, dims) if dims else np.zeros(points.shape[0], np.intp)
            vals = values.reshape(-1) if values.ndim == 1 else np.full(points.shape[0], values.reshape(-1)[0])
            out.reshape(-1)[flat] = vals
        return [out]


@register("DYNAMIC_UPDATE_SLICE", kind="any")
class DynamicUpdateSlice(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "operand, update, start_indices", 3)
        operand, update, start = inputs
        if update.dtype != operand.dtype or outputs[0].dtype != operand.dtype:
            raise self.fail(f"operand, update and output types must match ({operand.dtype}, {update.dtype}, "
                            f"{outputs[0].dtype})")
        if start.dtype not in _INDEX_TYPES:
            raise self.fail(f"start_indices must be int32 or int64, got {start.dtype}")
        rank = len(operand.shape)
        if len(update.shape) != rank:
            raise self.fail(f"update rank {len(update.shape)} differs from operand rank {rank}")
        if len(start.shape) != 1 or start.shape[0] != rank:
            raise self.fail(f"start_indices must be a vector of {rank} indices, got shape {list(start.shape)}")
        if any(u > o for u, o in zip(update.shape, operand.shape)):
            raise self.fail(f"update shape {list(update.shape)} exceeds operand shape {list(operand.shape)}")
        self.max_start = np.subtract(operand.shape, update.shape, dtype=np.int64)
        self.update_shape = tuple(update.shape)
        return [tuple(operand.shape)]

    def eval(self, inputs, outputs):
        operand, update, start = inputs
        out = outputs[0]
        if out is not operand:
            np.copyto(out, operand)
        begin = np.clip(np.asarray(start, np.int64), 0, self.max_start)
        window = tuple(slice(int(b), int(b) + u) for b, u in zip(begin, self.update_shape))
        out[window] = update


@register("BROADCAST_ARGS", kind="any")
class BroadcastArgs(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or len(outputs) != 1 or None in inputs:
            raise self.fail("needs two shape inputs and one output")
        s0, s1 = inputs
        if s0.dtype not in _INDEX_TYPES or s1.dtype != s0.dtype or outputs[0].dtype != s0.dtype:
            raise self.fail(f"shapes and output must all be int32 or all int64, got {s0.dtype}, {s1.dtype}, "
                            f"{outputs[0].dtype}")
        if len(s0.shape) != 1 or len(s1.shape) != 1:
            raise self.fail("both shapes must be 1-D")
        return [(max(s0.shape[0], s1.shape[0]),)]

    def eval(self, inputs, outputs):
        s0, s1 = inputs
        n = outputs[0].shape[0]
        a = np.concatenate([np.ones(n - s0.size, s0.dtype), s0])
        b = np.concatenate([np.ones(n - s1.size, s1.dtype), s1])
        bad = (a != b) & (a != 1) & (b != 1)
        if bad.any():
            raise self.fail(f"shapes {s0.tolist()} and {s1.tolist()} are not broadcast-compatible")
        outputs[0][...] = np.where(a == 1, b, a)


@register("BITCAST", kind="any")
class Bitcast(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one input and one output")
        x, out = inputs[0], outputs[0]
        if x.dtype.kind == "O" or out.dtype.kind == "O":
            raise self.fail("string and resource tensors cannot be bitcast")
        a, b = x.dtype.itemsize, out.dtype.itemsize
        shape = tuple(x.shape)
        if a > b:
            if a % b:
                raise self.fail(f"cannot bitcast {x.dtype} to {out.dtype}")
            shape = shape + (a // b,)
        elif a < b:
            if not shape or shape[-1] * a != b:
                raise self.fail(f"bitcasting {x.dtype} to {out.dtype} needs a last input dimension of {b // a}, "
                                f"got shape {list(shape)}")
            shape = shape[:-1]
        self.out_dtype = out.dtype
        return [shape]

    def eval(self, inputs, outputs):
        out = outputs[0]
        out.reshape(-1).view(np.uint8)[...] = np.ascontiguousarray(inputs[0]).reshape(-1).view(np.uint8)


@register("DILATE", kind="any")
class Dilate(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "input, dilations, padding_value", 3)
        x, dil, pad = inputs
        rank = len(x.shape)
        if dil.dtype != np.int32 or tuple(dil.shape) != (rank,):
            raise self.fail(f"dilations must be an int32 vector of {rank} entries, got {dil.dtype} "
                            f"of shape {list(dil.shape)}")
        if pad.dtype != x.dtype or pad.size != 1:
            raise self.fail(f"padding_value must be one {x.dtype} value")
        if outputs[0].dtype != x.dtype:
            raise self.fail(f"output type {outputs[0].dtype} differs from the input's {x.dtype}")
        self.in_shape = tuple(x.shape)
        if dil.is_constant:
            return [self.output_shape(dil.data)]
        return [None]

    def output_shape(self, dil) -> tuple[int, ...]:
        dil = np.asarray(dil).reshape(-1)
        if (dil < 1).any():
            raise self.fail(f"dilations must be >= 1, got {dil.tolist()}")
        return tuple(0 if d == 0 else (d - 1) * int(k) + 1 for d, k in zip(self.in_shape, dil))

    def eval(self, inputs, outputs):
        x, dil, pad = inputs
        shape = self.output_shape(dil)
        out = outputs[0]
        if out is None or out.shape != shape:
            out = np.empty(shape, x.dtype)
        out.fill(pad.reshape(-1)[0])
        out[tuple(slice(None, None, int(k)) for k in dil.reshape(-1))] = x
        return [out]


def _fold_max(acc, x):
    return np.where(acc >= x, acc, x)


def _fold_min(acc, x):
    return np.where(acc <= x, acc, x)


_WINDOW_FUNCTIONS = {1: np.add, 2: np.multiply, 3: _fold_min, 4: _fold_max,
                     5: np.logical_and, 6: np.logical_or}
_WINDOW_TYPES = {np.dtype(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                                       np.float32, np.float64)}


@register("REDUCE_WINDOW", kind="any")
class ReduceWindow(Kernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "input, init_value, window_dimensions, window_strides, "
                            "window_dilations", 5)
        x, init, dims, strides, dilations = inputs
        for name, spec in (("window_dimensions", dims), ("window_strides", strides),
                           ("window_dilations", dilations)):
            if not spec.is_constant:
                raise self.fail(f"{name} must be a constant tensor")
            if spec.dtype != np.int64:
                raise self.fail(f"{name} must be int64, got {spec.dtype}")
            if spec.size != len(x.shape):
                raise self.fail(f"{name} needs {len(x.shape)} entries, got {spec.size}")
        if init.dtype != x.dtype or outputs[0].dtype != x.dtype:
            raise self.fail(f"input, init_value and output types must match ({x.dtype}, {init.dtype}, "
                            f"{outputs[0].dtype})")
        if not 1 <= len(x.shape) <= 6:
            raise self.fail(f"input rank must be 1..6, got {len(x.shape)}")
        if x.dtype not in _WINDOW_TYPES:
            raise self.fail(f"type {x.dtype} is not supported")
        options2 = self.op_desc.options2 or {}
        fn = int(options2.get("reduce_function", 0))
        if fn not in _WINDOW_FUNCTIONS:
            raise self.fail(f"unsupported reduce_function {fn}")
        self.fold = _WINDOW_FUNCTIONS[fn]
        self.window = tuple(int(d) for d in dims.data.reshape(-1))
        self.strides = tuple(int(s) for s in strides.data.reshape(-1))
        self.dilations = tuple(int(d) for d in dilations.data.reshape(-1))
        shape = []
        for n, w, s, d in zip(x.shape, self.window, self.strides, self.dilations):
            span = (w - 1) * d + 1
            shape.append(0 if n < span else (n - span) // s + 1)
        self.out_shape = tuple(shape)
        # every window offset, in row-major order
        self.offsets = np.stack(np.meshgrid(*[np.arange(w) * d for w, d in zip(self.window, self.dilations)],
                                            indexing="ij"), -1).reshape(-1, len(x.shape))
        return [self.out_shape]

    def eval(self, inputs, outputs):
        x, init = inputs[0], inputs[1]
        out = outputs[0]
        out[...] = init.reshape(-1)[0]
        if out.size == 0:
            return
        st = x.strides
        view_strides = tuple(s * k for s, k in zip(st, self.strides))
        for off in self.offsets:
            base = x[tuple(slice(int(o), None) for o in off)]
            win = as_strided(base, shape=self.out_shape, strides=view_strides, writeable=False)
            out[...] = self.fold(out, win)
        return


@register("FAKE_QUANT", kind="any")
class FakeQuant(Kernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or len(outputs) != 1 or inputs[0] is None:
            raise self.fail("needs one input and one output")
        if inputs[0].dtype != np.float32 or outputs[0].dtype != np.float32:
            raise self.fail("input and output must be float32")
        o = self.options
        if o.get("narrow_range"):
            raise self.fail("narrow_range FakeQuant is not supported at run time (LiteRT: it is only "
                            "meant for weights)")
        num_bits = int(o.get("num_bits", 0))
        f32 = np.float32
        lo, hi = f32(o.get("min", 0.0)), f32(o.get("max", 0.0))
        qmin = f32(0)
        qmax = f32((1 << num_bits) - 1) if num_bits > 0 else f32(0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scale = f32((hi - lo) / (qmax - qmin))
            zero_from_min = f32(qmin - lo / scale)
            if zero_from_min < qmin:
                zp = qmin
            elif zero_from_min > qmax:
                zp = qmax
            else:
                # std::round: half away from zero
                zp = f32(np.trunc(zero_from_min + np.copysign(f32(0.5), zero_from_min)))
            self.nudged_min = f32((qmin - zp) * scale)
            self.nudged_max = f32((qmax - zp) * scale)
            self.scale = scale
            self.inv_scale = f32(f32(1.0) / scale)
        return [tuple(inputs[0].shape)]

    def eval(self, inputs, outputs):
        out = outputs[0]
        with np.errstate(invalid="ignore", over="ignore"):
            np.clip(inputs[0], self.nudged_min, self.nudged_max, out=out)
            np.subtract(out, self.nudged_min, out=out)
            np.multiply(out, self.inv_scale, out=out)
            np.add(out, np.float32(0.5), out=out)
            np.floor(out, out=out)
            np.multiply(out, self.scale, out=out)
            np.add(out, self.nudged_min, out=out)
