"""Data-movement kernels: reshapes, slices, gathers, concatenation and friends.

These ops copy or rearrange elements without arithmetic, so one kernel serves
every dtype (registered with ``kind="any"``), quantized tensors included when
input and output share their quantization (TFLite's own requirement for
int8/int16 CONCATENATION; uint8 concatenation requantizes like TFLite's
``ConcatenationWithScaling``).

Many of these ops take small "shape-like" inputs (a new shape, begin/end
indices, an axis...). :class:`PlannedKernel` factors out how they are handled:
a kernel lists those inputs in ``value_inputs`` and implements

* ``plan(shapes, values) -> output shapes``: all index math, run in prepare
  when the value inputs are constant, and otherwise in eval (cached on the
  values, with dynamic outputs -- prepare then returns ``None`` for them);
* ``compute(inputs) -> list of arrays``: vectorised numpy on the planned indices.

STRIDED_SLICE follows TFLite's ``strided_slice_logic`` (begin/end clamping per
stride sign, shrink axes take ``begin + 1`` as end) with TensorFlow's sparse to
dense expansion of ellipsis and new-axis masks.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..runtime.budget import check_output
from .activation_fn import apply_fused_activation
from .base import Kernel, TensorSpec, register



class PlannedKernel(Kernel):
    """Base for kernels planned from input shapes plus the values of a few small inputs."""

    value_inputs: tuple[int, ...] = ()

    def prepare(self, inputs: list[TensorSpec | None], outputs: list[TensorSpec]) -> list:
        self.in_specs = inputs
        self.out_specs = outputs
        self.setup(inputs, outputs)
        shapes = [None if s is None else tuple(s.shape) for s in inputs]
        self._cache_key = None
        values = {}
        self.dynamic = False
        for i in self.value_inputs:
            if i < len(inputs) and inputs[i] is not None:
                if inputs[i].data is None:
                    self.dynamic = True
                else:
                    values[i] = np.asarray(inputs[i].data)
        if self.dynamic:
            return [None] * len(outputs)
        return [tuple(int(d) for d in s) for s in self.plan(shapes, values)]

    def setup(self, inputs, outputs) -> None:
        """Checks and precomputation that need no values (optional)."""

    def plan(self, shapes: list, values: dict) -> list:
        raise NotImplementedError

    def compute(self, inputs: list) -> list:
        raise NotImplementedError

    def eval(self, inputs, outputs):
        if self.dynamic:
            values = {i: np.asarray(inputs[i]) for i in self.value_inputs
                      if i < len(inputs) and inputs[i] is not None}
            key = (tuple(None if x is None else np.shape(x) for x in inputs),
                   tuple((k, v.dtype.str, v.tobytes()) for k, v in values.items()))
            if key != self._cache_key:
                shapes = self.plan([None if x is None else tuple(np.shape(x)) for x in inputs], values)
                for k, shape in enumerate(shapes):  # a size read from values: ask the memory budget
                    check_output(self.node, shape, self.out_specs[k].dtype, k)
                self._cache_key = key
            # dynamic outputs are kept by the interpreter: never hand back views of inputs
            return [np.array(r) for r in self.compute(inputs)]
        return self.compute(inputs)


# -- helpers ------------------------------------------------------------------------
def normalize_axis(kernel: Kernel, axis: int, rank: int, what: str = "axis") -> int:
    axis = int(axis)
    if not -rank <= axis < max(rank, 1):
        raise kernel.fail(f"{what} {axis} out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def int_vector(kernel: Kernel, value, what: str) -> list[int]:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu":
        raise kernel.fail(f"{what} must be an integer tensor, got {arr.dtype}")
    return [int(v) for v in arr.reshape(-1)]


def check_index_range(kernel: Kernel, idx: np.ndarray, limit, what: str) -> None:
    if idx.size and (int(idx.min()) < 0 or np.any(idx >= limit)):
        raise kernel.fail(f"{what} out of range [0, {limit}): min {int(idx.min())}, max {int(idx.max())}")


def same_quantization(a: TensorSpec, b: TensorSpec) -> bool:
    return (np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point))


# -- RESHAPE / SHAPE / RANK / EXPAND_DIMS / SQUEEZE -------------------------------------
class ReshapingKernel(PlannedKernel):
    """A kernel whose output is its input with the shape ``plan`` stores in ``self.out_shape``."""

    out_shape: tuple[int, ...] = ()

    def compute(self, inputs):
        return [inputs[0].reshape(self.out_shape)]

    def shares_input_memory(self) -> bool:
        return not self.dynamic

    def bind(self, inputs, outputs):
        return _bound_copy(self, inputs[0].reshape(self.out_shape), outputs[0])


def _bound_copy(kernel: PlannedKernel, view: np.ndarray, out: np.ndarray):
    """Kernel.bind for a planned kernel whose output is a view of its input (made once)."""
    if kernel.dynamic or view.shape != out.shape:
        return None
    return partial(np.copyto, out, view, "unsafe")


@register("RESHAPE", kind="any")
class Reshape(ReshapingKernel):
    """RESHAPE as LiteRT resolves it.

    The new shape comes from input 1 only when it is present, 1-D and int32;
    otherwise (another rank or dtype, or no input 1) from the ``new_shape``
    option, where the legacy ``[0]`` means a scalar. A shape input with zero
    elements (a scalar target) needs no value: models store it as an empty
    buffer. One -1 entry is inferred from the non-zero dimensions
    (``reshape_utils.ResolveOutputShape``).
    """

    value_inputs = (1,)

    def setup(self, inputs, outputs):
        shape_in = inputs[1] if len(inputs) > 1 else None
        self.empty_shape_input = False
        if shape_in is None or len(shape_in.shape) != 1 or shape_in.dtype != np.int32:
            self.value_inputs = ()
        elif shape_in.shape[0] == 0:
            self.empty_shape_input = True  # known without a value: the target is a scalar
            self.value_inputs = ()

    def plan(self, shapes, values):
        if 1 in values:
            requested = int_vector(self, values[1], "shape")
        elif self.empty_shape_input:
            requested = []
        else:
            requested = option_ints(self.options, "new_shape")
            if requested == [0]:
                requested = []  # legacy models spell a scalar as new_shape [0]
        self.out_shape = resolve_reshape(self, shapes[0], requested)
        return [self.out_shape]


def option_ints(options: dict, name: str) -> list[int]:
    """An int-vector option as a list; absent means empty. The reader may decode it as a
    list or as a numpy array (so it is never tested for truth)."""
    value = options.get(name)
    return [] if value is None else [int(d) for d in np.asarray(value).reshape(-1)]


def resolve_reshape(kernel: Kernel, in_shape, requested: list[int]) -> tuple[int, ...]:
    """``requested`` with its -1 (at most one) inferred, checked against ``in_shape``'s element count.

    Like LiteRT, -1 becomes 0 when the input is empty but the other dimensions are not,
    and otherwise (non-zero input dimensions) // (non-zero requested dimensions).
    """
    count = int(np.prod(in_shape, dtype=np.int64))
    unknown = [i for i, d in enumerate(requested) if d == -1]
    if len(unknown) > 1:
        raise kernel.fail(f"shape {requested} has more than one -1")
    if any(d < -1 for d in requested):
        raise kernel.fail(f"shape {requested} has a negative dimension")
    if unknown:
        known = [d for d in requested if d != -1]
        if count == 0 and int(np.prod(known, dtype=np.int64)) != 0:
            requested[unknown[0]] = 0
        else:
            nonzero_in = int(np.prod([d for d in in_shape if d], dtype=np.int64))
            requested[unknown[0]] = nonzero_in // int(np.prod([d for d in known if d], dtype=np.int64))
    if int(np.prod(requested, dtype=np.int64)) != count:
        raise kernel.fail(f"cannot reshape {list(in_shape)} ({count} elements) into {requested}")
    return tuple(requested)


class ShapeValueKernel(Kernel):
    """Outputs a value known from the input's shape alone (``self.value``, set by ``prepare``)."""

    value: np.ndarray

    def constant_outputs(self) -> list[np.ndarray]:
        """The value is known from prepare: the executor computes it at allocate (SHAPE folding)."""
        return [self.value]

    def eval(self, inputs, outputs):
        if outputs[0] is None:
            return [self.value.copy()]
        outputs[0][...] = self.value
        return None


@register("SHAPE", kind="any")
class Shape(ShapeValueKernel):
    def prepare(self, inputs, outputs):
        self.value = np.asarray(inputs[0].shape, dtype=outputs[0].dtype)
        return [(len(inputs[0].shape),)]


@register("RANK", kind="any")
class Rank(ShapeValueKernel):
    def prepare(self, inputs, outputs):
        self.value = np.asarray(len(inputs[0].shape), dtype=outputs[0].dtype)
        return [()]


@register("EXPAND_DIMS", kind="any")
class ExpandDims(ReshapingKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        axis = int_vector(self, values[1], "axis")
        if len(axis) != 1:
            raise self.fail(f"axis must hold one value, got {axis}")
        rank = len(shapes[0])
        self.out_shape = list(shapes[0])
        self.out_shape.insert(normalize_axis(self, axis[0], rank + 1), 1)
        return [self.out_shape]


@register("SQUEEZE", kind="any")
class Squeeze(ReshapingKernel):
    def plan(self, shapes, values):
        shape = shapes[0]
        dims = option_ints(self.options, "squeeze_dims")
        if dims:
            drop = {normalize_axis(self, d, len(shape), "squeeze_dims entry") for d in dims}
            for d in drop:
                if shape[d] != 1:
                    raise self.fail(f"cannot squeeze dimension {d} of size {shape[d]}")
        else:
            drop = {i for i, d in enumerate(shape) if d == 1}
        self.out_shape = tuple(d for i, d in enumerate(shape) if i not in drop)
        return [self.out_shape]


# -- PACK / UNPACK / CONCATENATION / SPLIT ---------------------------------------------
@register("PACK", kind="any")
class Pack(PlannedKernel):
    def plan(self, shapes, values):
        first = shapes[0]
        for s in shapes[1:]:
            if s != first:
                raise self.fail(f"all inputs must have the same shape, got {shapes}")
        self.axis = normalize_axis(self, self.options.get("axis", 0), len(first) + 1)
        out = list(first)
        out.insert(self.axis, len(shapes))
        return [out]

    def compute(self, inputs):
        return [np.stack(inputs, axis=self.axis)]


@register("UNPACK", kind="any")
class Unpack(PlannedKernel):
    def plan(self, shapes, values):
        shape = shapes[0]
        self.axis = normalize_axis(self, self.options.get("axis", 0), len(shape))
        num = int(self.options.get("num", 0) or 0) or len(self.out_specs)
        if shape[self.axis] != num or num != len(self.out_specs):
            raise self.fail(f"cannot unpack dimension {self.axis} of {shape} into {len(self.out_specs)} outputs")
        out = tuple(d for i, d in enumerate(shape) if i != self.axis)
        return [out] * num

    def compute(self, inputs):
        moved = np.moveaxis(inputs[0], self.axis, 0)
        return list(moved)


@register("CONCATENATION", kind="any")
class Concatenation(PlannedKernel):
    def setup(self, inputs, outputs):
        out = outputs[0]
        self.activation = int(self.options.get("fused_activation_function", 0) or 0)
        self.rescale = []  # per input: None (plain copy) or (scale, bias) for uint8 requantization
        for spec in inputs:
            if not out.quantized or same_quantization(spec, out):
                self.rescale.append(None)
            elif out.dtype == np.uint8:
                ratio = np.float32(spec.scale[0]) * (np.float32(1.0) / np.float32(out.scale[0]))
                self.rescale.append((ratio, np.float32(-float(spec.zero_point[0]) * ratio)))
            else:
                raise self.fail(f"{out.dtype} inputs must share the output's quantization "
                                f"(input {spec.name!r}: scale {spec.scale}, zero point {spec.zero_point})")

    def plan(self, shapes, values):
        rank = len(shapes[0])
        self.axis = normalize_axis(self, self.options.get("axis", 0), rank)
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != self.axis):
                raise self.fail(f"inputs do not match outside axis {self.axis}: {shapes}")
        out[self.axis] = sum(s[self.axis] for s in shapes)
        return [out]

    def compute(self, inputs):
        parts = inputs
        if any(r is not None for r in self.rescale):
            zp = int(self.out_specs[0].zero_point[0])
            parts = []
            for x, r in zip(inputs, self.rescale):
                if r is not None:
                    v = np.round(x.astype(np.float32) * r[0] + r[1]).astype(np.int32) + zp
                    x = np.clip(v, 0, 255).astype(np.uint8)
                parts.append(x)
        out = np.concatenate(parts, axis=self.axis)
        if self.activation and out.dtype.kind == "f":
            apply_fused_activation(out, self.activation)
        return [out]

    def bind(self, inputs, outputs):
        out = outputs[0]
        if (self.dynamic or any(r is not None for r in self.rescale) or out.dtype.hasobject
                or any(x.dtype != out.dtype for x in inputs)):
            return None
        parts, axis = tuple(inputs), self.axis
        activation = self.activation if out.dtype.kind == "f" else 0

        def run():  # straight into the output, not into a new array that is then copied
            np.concatenate(parts, axis=axis, out=out)
            if activation:
                apply_fused_activation(out, activation)
        return run


def _split_outputs(kernel: Kernel, shape, axis: int, sizes: list[int]) -> list:
    kernel.split_axis = axis
    kernel.split_points = list(np.cumsum(sizes)[:-1])
    outs = []
    for n in sizes:
        s = list(shape)
        s[axis] = n
        outs.append(s)
    return outs


@register("SPLIT", kind="any")
class Split(PlannedKernel):
    value_inputs = (0,)

    def plan(self, shapes, values):
        shape = shapes[1]
        axis = normalize_axis(self, int_vector(self, values[0], "axis")[0], len(shape))
        num = len(self.out_specs)
        if shape[axis] % num:
            raise self.fail(f"dimension {axis} of {shape} does not split into {num} equal parts")
        return _split_outputs(self, shape, axis, [shape[axis] // num] * num)

    def compute(self, inputs):
        return np.split(inputs[1], self.split_points, axis=self.split_axis)


@register("SPLIT_V", kind="any")
class SplitV(PlannedKernel):
    value_inputs = (1, 2)

    def plan(self, shapes, values):
        shape = shapes[0]
        axis = normalize_axis(self, int_vector(self, values[2], "axis")[0], len(shape))
        sizes = int_vector(self, values[1], "size_splits")
        if len(sizes) != len(self.out_specs):
            raise self.fail(f"{len(sizes)} split sizes for {len(self.out_specs)} outputs")
        unknown = [i for i, n in enumerate(sizes) if n == -1]
        if len(unknown) > 1:
            raise self.fail(f"size_splits {sizes} has more than one -1")
        if unknown:
            sizes[unknown[0]] = shape[axis] - (sum(sizes) + 1)
        if sum(sizes) != shape[axis] or any(n < 0 for n in sizes):
            raise self.fail(f"size_splits {sizes} do not add up to dimension {axis} of {shape}")
        return _split_outputs(self, shape, axis, sizes)

    def compute(self, inputs):
        return np.split(inputs[0], self.split_points, axis=self.split_axis)


# -- TRANSPOSE / TILE / REVERSE_V2 / BROADCAST_TO ---------------------------------------
@register("TRANSPOSE", kind="any")
class Transpose(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        rank = len(shapes[0])
        perm = [normalize_axis(self, p, rank, "perm entry") for p in int_vector(self, values[1], "perm")]
        if sorted(perm) != list(range(rank)):
            raise self.fail(f"perm {perm} is not a permutation of {rank} dimensions")
        self.perm = perm
        return [[shapes[0][p] for p in perm]]

    def compute(self, inputs):
        return [inputs[0].transpose(self.perm)]

    def bind(self, inputs, outputs):
        return _bound_copy(self, inputs[0].transpose(self.perm), outputs[0])


@register("TILE", kind="any")
class Tile(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        reps = int_vector(self, values[1], "multiples")
        if len(reps) != len(shapes[0]) or any(r < 0 for r in reps):
            raise self.fail(f"multiples {reps} do not fit input shape {shapes[0]}")
        self.reps = reps
        return [[d * r for d, r in zip(shapes[0], reps)]]

    def compute(self, inputs):
        return [np.tile(inputs[0], self.reps)]


@register("REVERSE_V2", kind="any")
class ReverseV2(Kernel):
    def prepare(self, inputs, outputs):
        self.rank = len(inputs[0].shape)
        self.axes = None if inputs[1].data is None else self._axes(inputs[1].data)
        return [tuple(inputs[0].shape)]

    def _axes(self, value):
        return tuple(normalize_axis(self, a, self.rank) for a in int_vector(self, value, "axis"))

    def eval(self, inputs, outputs):
        axes = self.axes if self.axes is not None else self._axes(inputs[1])
        return [np.flip(inputs[0], axes) if axes else inputs[0]]


@register("BROADCAST_TO", kind="any")
class BroadcastTo(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        target = tuple(int_vector(self, values[1], "shape"))
        try:
            np.broadcast_shapes(shapes[0], target)
        except ValueError:
            raise self.fail(f"cannot broadcast {shapes[0]} to {target}") from None
        if len(shapes[0]) > len(target) or np.broadcast_shapes(shapes[0], target) != target:
            raise self.fail(f"cannot broadcast {shapes[0]} to {target}")
        self.target = target
        return [target]

    def compute(self, inputs):
        return [np.broadcast_to(inputs[0], self.target)]


# -- SLICE / STRIDED_SLICE -------------------------------------------------------------
def _slice_for(start: int, length: int, stride: int) -> slice:
    if length <= 0:
        return slice(0, 0)
    stop = start + stride * length
    return slice(start, stop if stop >= 0 else None, stride)


@register("SLICE", kind="any")
class Slice(PlannedKernel):
    value_inputs = (1, 2)

    def plan(self, shapes, values):
        shape = shapes[0]
        begin = int_vector(self, values[1], "begin")
        size = int_vector(self, values[2], "size")
        if len(begin) != len(shape) or len(size) != len(shape):
            raise self.fail(f"begin {begin} / size {size} do not match input rank {len(shape)}")
        index, out = [], []
        for b, n, d in zip(begin, size, shape):
            if n == -1:
                n = d - b
            if b < 0 or n < 0 or b + n > d:
                raise self.fail(f"slice begin {begin} size {size} out of bounds for shape {shape}")
            index.append(slice(b, b + n))
            out.append(n)
        self.index = tuple(index)
        return [out]

    def compute(self, inputs):
        return [inputs[0][self.index]]


@register("STRIDED_SLICE", kind="any")
class StridedSlice(PlannedKernel):
    value_inputs = (1, 2, 3)

    def plan(self, shapes, values):
        shape = shapes[0]
        begin = int_vector(self, values[1], "begin")
        end = int_vector(self, values[2], "end")
        strides = int_vector(self, values[3], "strides") if 3 in values else [1] * len(begin)
        if not len(begin) == len(end) == len(strides):
            raise self.fail(f"begin {begin}, end {end} and strides {strides} differ in length")
        opt = self.options
        begin_mask = int(opt.get("begin_mask", 0) or 0)
        end_mask = int(opt.get("end_mask", 0) or 0)
        ellipsis_mask = int(opt.get("ellipsis_mask", 0) or 0)
        new_axis_mask = int(opt.get("new_axis_mask", 0) or 0)
        shrink_mask = int(opt.get("shrink_axis_mask", 0) or 0)
        offset = bool(opt.get("offset", False))
        n = len(begin)
        # sparse -> dense: entries, each ("ellipsis"), ("new",) or ("dim", b, e, s, bm, em, shrink)
        has_ellipsis = any(ellipsis_mask >> i & 1 for i in range(n))
        entries = []
        for i in range(n):
            if ellipsis_mask >> i & 1:
                entries.append(("ellipsis",))
            elif new_axis_mask >> i & 1:
                entries.append(("new",))
            else:
                entries.append(("dim", begin[i], end[i], strides[i], begin_mask >> i & 1,
                                end_mask >> i & 1, shrink_mask >> i & 1))
        if not has_ellipsis:
            entries.append(("ellipsis",))
        consumed = sum(1 for e in entries if e[0] == "dim")
        rank = len(shape)
        if consumed > rank:
            raise self.fail(f"{consumed} sliced dimensions for an input of rank {rank}")
        index, out_shape, reshape_to = [], [], []
        axis = 0
        seen_ellipsis = False
        for e in entries:
            if e[0] == "ellipsis":
                if seen_ellipsis:  # only the first ellipsis expands; later ones are ignored
                    continue
                seen_ellipsis = True
                for _ in range(rank - consumed):
                    index.append(slice(None))
                    out_shape.append(shape[axis])
                    reshape_to.append(shape[axis])
                    axis += 1
            elif e[0] == "new":
                reshape_to.append(1)
            else:
                _, b, en, s, bm, em, shrink = e
                if s == 0:
                    raise self.fail("stride value has to be non-zero")
                if offset:
                    en = b + en
                d = shape[axis]
                start = self._start(b, s, bm, d)
                if shrink:
                    if d == 0 or not 0 <= start < d:
                        raise self.fail(f"shrink index {b} out of range for dimension {axis} of size {d}")
                    index.append(slice(start, start + 1))
                    out_shape.append(1)
                else:
                    stop = self._stop(en, s, em, d)
                    length = max(0, -(-(stop - start) // s)) if d else 0
                    index.append(_slice_for(start, length, s))
                    out_shape.append(length)
                    reshape_to.append(length)
                axis += 1
        self.index = tuple(index)
        self.sliced_shape = tuple(out_shape)
        self.out_shape = tuple(reshape_to)
        return [self.out_shape]

    @staticmethod
    def _start(b: int, s: int, masked: int, d: int) -> int:
        if masked:
            return 0 if s > 0 else d - 1
        if b < 0:
            b += d
        return min(max(b, 0), d) if s > 0 else min(max(b, -1), d - 1)

    @staticmethod
    def _stop(e: int, s: int, masked: int, d: int) -> int:
        if masked:
            return d if s > 0 else -1
        if e < 0:
            e += d
        return min(max(e, 0), d) if s > 0 else min(max(e, -1), d - 1)

    def compute(self, inputs):
        return [inputs[0][self.index].reshape(self.out_shape)]


# -- GATHER / GATHER_ND / SCATTER_ND ---------------------------------------------------
@register("GATHER", kind="any")
class Gather(PlannedKernel):
    def plan(self, shapes, values):
        params, indices = shapes[0], shapes[1]
        self.axis = normalize_axis(self, self.options.get("axis", 0), len(params))
        bd = int(self.options.get("batch_dims", 0) or 0)
        if bd < 0:
            bd += len(indices)
        if not 0 <= bd <= min(self.axis, len(indices)) or tuple(params[:bd]) != tuple(indices[:bd]):
            raise self.fail(f"batch_dims {bd} does not fit params {params} / indices {indices} at axis {self.axis}")
        self.batch_dims = bd
        self.limit = params[self.axis]
        if bd:
            batch = int(np.prod(params[:bd], dtype=np.int64))
            outer = int(np.prod(params[bd:self.axis], dtype=np.int64))
            inner = int(np.prod(params[self.axis + 1:], dtype=np.int64))
            self.params_view = (batch, outer, self.limit, inner)
            self.indices_view = (batch, -1)
            self.batch_index = np.arange(batch)[:, None]
        self.out_shape = tuple(params[:self.axis]) + tuple(indices[bd:]) + tuple(params[self.axis + 1:])
        return [self.out_shape]

    def compute(self, inputs):
        params, idx = inputs[0], inputs[1]
        check_index_range(self, idx, self.limit, "gather index")
        if not self.batch_dims:
            return [np.take(params, idx, axis=self.axis)]
        p = params.reshape(self.params_view)
        picked = p[self.batch_index, :, idx.reshape(self.indices_view)]  # (batch, k, outer, inner)
        return [picked.transpose(0, 2, 1, 3).reshape(self.out_shape)]

    def bind(self, inputs, outputs):
        params, idx, out = inputs[0], inputs[1], outputs[0]
        if self.dynamic or self.batch_dims or out.dtype != params.dtype or out.shape != tuple(self.out_shape):
            return None
        axis, limit = self.axis, self.limit

        def run():  # checked as in compute, then taken straight into the output
            check_index_range(self, idx, limit, "gather index")
            np.take(params, idx, axis=axis, out=out, mode="clip")
        return run


@register("GATHER_ND", kind="any")
class GatherNd(PlannedKernel):
    def plan(self, shapes, values):
        params, indices = shapes[0], shapes[1]
        if not indices:
            raise self.fail("indices must have at least one dimension")
        k = indices[-1]
        if k > len(params):
            raise self.fail(f"index depth {k} exceeds params rank {len(params)}")
        self.depth = k
        self.lead = tuple(params[:k])
        self.rows = (int(np.prod(self.lead, dtype=np.int64)),) + tuple(params[k:])
        self.out_shape = tuple(indices[:-1]) + tuple(params[k:])
        return [self.out_shape]

    def compute(self, inputs):
        params, idx = inputs[0], inputs[1].astype(np.int64, copy=False)
        coords = idx.reshape(-1, self.depth)
        for j, d in enumerate(self.lead):
            check_index_range(self, coords[:, j], d, f"gather_nd index (component {j})")
        flat = np.ravel_multi_index(tuple(coords.T), self.lead) if self.depth else np.zeros(len(coords), np.int64)
        return [params.reshape(self.rows)[flat].reshape(self.out_shape)]


@register("SCATTER_ND", kind="any")
class ScatterNd(PlannedKernel):
    value_inputs = (2,)

    def plan(self, shapes, values):
        target = tuple(int_vector(self, values[2], "shape"))
        indices, updates = shapes[0], shapes[1]
        k = indices[-1] if indices else 0
        if k > len(target) or tuple(updates) != tuple(indices[:-1]) + target[k:]:
            raise self.fail(f"updates {updates} do not fit indices {indices} into shape {target}")
        self.target = target
        self.depth = k
        self.lead = target[:k]
        self.rows = (int(np.prod(self.lead, dtype=np.int64)),) + target[k:]
        return [target]

    def compute(self, inputs):
        idx, updates = inputs[0].astype(np.int64, copy=False), inputs[1]
        coords = idx.reshape(-1, self.depth)
        for j, d in enumerate(self.lead):
            check_index_range(self, coords[:, j], d, f"scatter_nd index (component {j})")
        flat = np.ravel_multi_index(tuple(coords.T), self.lead) if self.depth else np.zeros(len(coords), np.int64)
        out = np.zeros(self.rows, dtype=self.out_specs[0].dtype)
        if out.dtype == np.bool_:
            np.logical_or.at(out, flat, updates.reshape((len(flat),) + self.rows[1:]))
        else:
            np.add.at(out, flat, updates.reshape((len(flat),) + self.rows[1:]))
        return [out.reshape(self.target)]


# -- WHERE / RANGE / ONE_HOT ------------------------------------------------------------
@register("WHERE", kind="any")
class Where(Kernel):
    """Coordinates of true (non-zero) elements: always a dynamic [count, rank] output."""

    def prepare(self, inputs, outputs):
        self.dtype = outputs[0].dtype
        return [None]

    def eval(self, inputs, outputs):
        return [np.argwhere(inputs[0]).astype(self.dtype, copy=False)]


@register("RANGE", kind="any")
class Range(PlannedKernel):
    value_inputs = (0, 1, 2)

    def plan(self, shapes, values):
        start, limit, delta = (np.asarray(values[i]).reshape(-1)[0] for i in range(3))
        dtype = self.out_specs[0].dtype
        if delta == 0:
            raise self.fail("delta must not be zero")
        if (start > limit and delta > 0) or (start < limit and delta < 0):
            raise self.fail(f"range from {start} to {limit} never ends with delta {delta}")
        if dtype.kind in "iu":
            size = (abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta))
        else:
            size = int(np.ceil(np.abs((dtype.type(limit) - dtype.type(start)) / dtype.type(delta))))
        check_output(self.node, (size,), dtype)
        steps = np.full(size, delta, dtype=dtype)
        if size:
            steps[0] = start
        self.value = np.add.accumulate(steps, dtype=dtype)  # TFLite adds delta step by step
        return [(size,)]

    def compute(self, inputs):
        return [self.value]


@register("ONE_HOT", kind="any")
class OneHot(PlannedKernel):
    value_inputs = (1,)

    def plan(self, shapes, values):
        depth = int_vector(self, values[1], "depth")[0]
        if depth < 0:
            raise self.fail(f"depth must be non-negative, got {depth}")
        rank = len(shapes[0])
        axis = int(self.options.get("axis", -1))
        self.axis = rank if axis == -1 else normalize_axis(self, axis, rank + 1)
        out = list(shapes[0])
        out.insert(self.axis, depth)
        check_output(self.node, out, self.out_specs[0].dtype)
        self.classes = np.arange(depth)
        return [out]

    def compute(self, inputs):
        idx, on, off = inputs[0], inputs[2], inputs[3]
        hot = idx[..., None] == self.classes
        hot = np.moveaxis(hot, -1, self.axis)
        return [np.where(hot, on.reshape(()), off.reshape(())).astype(self.out_specs[0].dtype, copy=False)]
