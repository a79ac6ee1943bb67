"""Preparing and running the subgraphs of a model.

A :class:`SubgraphExecutor` owns one subgraph's run-time state:

* ``allocate()`` propagates shapes from the current input shapes through every
  node's kernel ``prepare`` in one pass (kernels are cached per node *and* per
  input-shape combination, so going back to an earlier batch size re-prepares
  nothing; what a kernel needs only to run waits for its first eval),
  then places every static-shape activation in one ``uint8`` arena with
  :func:`~edgelite.runtime.memory_plan.plan_arena`; each tensor's buffer is a
  view into it. Graph inputs and outputs live for the whole run, so they are
  never clobbered; with ``preserve_all_tensors`` every tensor does.
* A node whose inputs have shapes known only at run time (an output a kernel
  reported as ``None``, e.g. a RESHAPE with a computed shape, READ_VARIABLE,
  NMS) is *deferred*: it is prepared at invoke with the actual shapes (cached)
  and its outputs are fresh arrays. Everything else runs with the buffers fixed
  at allocation, so a static graph's invoke allocates no activation memory.
* Values known at allocate are computed there: DEQUANTIZE/DENSIFY of constants
  once (their outputs become constants; a DEQUANTIZE whose readers do not read
  constants in prepare is only reserved, and filled at the first invoke), and
  SHAPE/RANK plus the small index arithmetic on their outputs at every allocate
  (they follow the input shapes), so that converter chains such as SHAPE ->
  STRIDED_SLICE -> PACK -> RESHAPE leave nothing deferred.
* Where tensors live (the arena, variables, RESHAPE-like nodes whose output shares
  its input's slot and so never runs) is decided by :mod:`.tensor_buffers`; the
  invoke loop and the per-node calls it runs (kernels' ``bind`` functions on the
  fixed buffers) are in :mod:`.node_calls`.

The :class:`~edgelite.runtime.model_runtime.Runtime` ties the subgraphs of one
interpreter together (``node.runtime`` for kernels); it is importable from here too.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError, ResourceError
from ..kernels.base import EMPTY_SCALE, EMPTY_ZERO_POINT, KernelError, Node, TensorSpec
from ..schema import OPCODE_NAMES, TENSOR_DTYPES
from .node_calls import KERNEL_FAILURES, Placed, build_calls, run_calls, store_returned
from .node_calls import kernel_failure as _kernel_failure
from .tensor_buffers import (
    ArenaHandle,
    lifetime_spans,
    place_buffers,
    producer_counts,
    shared_buffers,
)

if TYPE_CHECKING:
    from .model_runtime import Runtime


# Ops computed once at allocate when all their inputs are constant.
FOLDABLE_OPS = frozenset({"DEQUANTIZE", "DENSIFY"})
# Of those, the ones whose outputs may be filled in just before the first invoke instead
# (LiteRT dequantizes constant weights on DEQUANTIZE's first Eval): allocate then only
# reserves them, when every kernel reading them promises not to read constant values in
# prepare (Kernel.prepare_reads_constants).
LAZY_FOLDABLE_OPS = frozenset({"DEQUANTIZE"})
# Ops whose output is a function of their input's *shape*: computed at every allocate as
# soon as that shape is known (LiteRT computes SHAPE in Prepare and keeps the output as a
# persistent read-only tensor), so what follows from it is planned statically.
SHAPE_VALUE_OPS = frozenset({"SHAPE", "RANK"})
# Cheap index/shape arithmetic computed at allocate when all inputs have values known then
# and at least one of them comes from a SHAPE_VALUE_OPS node (LiteRT likewise evaluates
# ops on constant-or-persistent inputs in Prepare): the SHAPE -> STRIDED_SLICE -> PACK ->
# RESHAPE chains converters emit then leave the RESHAPE with a constant target shape.
SHAPE_ARITHMETIC_OPS = frozenset({
    "STRIDED_SLICE", "SLICE", "PACK", "UNPACK", "CONCATENATION", "GATHER", "RESHAPE", "SQUEEZE",
    "EXPAND_DIMS", "CAST", "ADD", "SUB", "MUL", "FLOOR_DIV", "MAXIMUM", "MINIMUM", "REDUCE_PROD",
    "SUM", "FILL"})
MAX_SHAPE_VALUE_ELEMENTS = 1024  # larger results are left to invoke
def _eval_into_new(kernel, inputs: list, shapes: list, dtypes: list) -> list[np.ndarray]:
    """Run ``kernel`` once into freshly allocated outputs; the arrays it returned, where it
    returned its own, cast to the output types."""
    outs = [np.empty(shape, dtype) for shape, dtype in zip(shapes, dtypes)]
    ret = kernel.eval(inputs, outs)
    if ret is not None:
        outs = [o if r is None else np.asarray(r, dtype=o.dtype) for r, o in zip(ret, outs)]
    return outs


def _int_shape(shape) -> tuple[int, ...]:
    """``shape`` as a tuple of Python ints (kernels may return lists or numpy integers)."""
    if type(shape) is tuple:
        for d in shape:
            if type(d) is not int:
                break
        else:
            return shape
    return tuple([int(d) for d in shape])


_BUILTIN_OP_NAMES = frozenset(OPCODE_NAMES.values())


class UnsupportedOpsError(RuntimeError):
    """The model has ops edgelite has no kernel for. ``ops`` lists (subgraph, node, op name, kind)."""

    def __init__(self, ops: list[tuple[int, int, str, str]]):
        self.ops = ops
        names = sorted({f"{o[2]} ({o[3]})" for o in ops})
        lines = "\n".join(f"  - {name} ({kind}) at subgraph {sg}, node {i}" for sg, i, name, kind in ops)
        custom = sorted({o[2] for o in ops} - _BUILTIN_OP_NAMES)
        hint = (f"\n{', '.join(custom)}: custom op(s) without a kernel; give them one with "
                f"edgelite.register_custom_op(name, KernelClass) or "
                f"Interpreter(..., custom_op_registerers=[...]) (see docs/custom_ops.md)") if custom else ""
        super().__init__(f"edgelite has no kernel for {len(ops)} node(s) of this model: {', '.join(names)}"
                         f"\n{lines}{hint}")


class SubgraphExecutor:
    """Prepares and runs one subgraph (see the module docstring)."""

    def __init__(self, runtime: Runtime, index: int):
        self.runtime = runtime
        self.index = index
        self.subgraph = sg = runtime.model.subgraphs[index]
        self.nodes = [Node(op=op, index=i, subgraph=sg, runtime=runtime) for i, op in enumerate(sg.operators)]
        self.kernel_classes = runtime.resolver.lookup_all(self.nodes)
        self._kernel_cache: list[dict] = [{} for _ in self.nodes]
        tensors = sg.tensors
        self.input_shapes: list[tuple] = [tuple(tensors[t].shape) for t in sg.inputs]
        self.shapes: dict[int, tuple] = {}  # static shapes from the last allocate
        self.buffers: list[np.ndarray | None] = [None] * len(tensors)
        self.allocated = False
        self.running = False
        self.arena: np.ndarray | None = None
        self.arena_guard: ArenaHandle | None = None
        self.offsets: dict[int, int] = {}
        self.plan_stats = (0, 0)  # (arena bytes, bytes without reuse)
        self._placed: list[Placed | None] = []
        self._calls: list[tuple] = []  # the invoke loop's (node, run, stores) calls (made by allocate)
        self._variable_buffers: dict[int, np.ndarray] = {}
        self._specs: list[TensorSpec | None] = [None] * len(tensors)  # made on first use
        self._consts: set[int] = set()
        # Shapes known before any node is prepared: constants (dense shape for sparse ones) and
        # variables. Folded node outputs join the constants at their first allocate.
        self._fixed_shapes: dict[int, tuple] = {}
        variables: dict[int, tuple] = {}
        object_dtype = np.dtype("O")
        self._dtypes: list[np.dtype] = [TENSOR_DTYPES.get(t.dtype) or object_dtype for t in tensors]
        for i, t in enumerate(tensors):
            if t.is_variable:
                variables[i] = tuple(t.shape)
            elif t.data is not None:
                self._consts.add(i)
                self.buffers[i] = t.data
                # sparse: the dense shape; strings (raw buffer bytes): the declared shape
                packed = t.sparsity is not None or self._dtypes[i] == object_dtype
                self._fixed_shapes[i] = tuple(t.shape) if packed else t.data.shape
        self._fixed_shapes.update(variables)  # a variable with initial data is still a variable
        self._add_empty_constants(variables)
        self._variables = set(variables)
        self._folded: set[int] = set()  # nodes computed once at allocate (constant inputs)
        # Folded nodes whose outputs are reserved but written only at the first invoke:
        # node -> (kernel, input arrays, writable output arrays).
        self._pending_folds: dict[int, tuple] = {}
        self._consumers: dict[int, list[int]] | None = None  # tensor -> nodes reading it
        # Nodes computed at the last allocate from input shapes (SHAPE and the arithmetic on
        # it), and their outputs' values: they depend on the input shapes, so they are redone
        # by every allocate and are not constants.
        self._shape_folded: set[int] = set()
        self._shape_values: dict[int, np.ndarray] = {}
        self._spans: dict[int, tuple[int, int]] | None = None  # tensor lifetimes (graph structure)
        self._producers: dict[int, int] | None = None  # tensor -> number of nodes writing it
        self._shared_nodes: set[int] = set()  # nodes whose output shares their input's buffer

    def _add_empty_constants(self, variables: dict) -> None:
        """A zero-element tensor that no node produces and that is not an input (an empty shape
        vector stored with an empty buffer, e.g.) is a constant with no data: LiteRT allocates it
        at its declared shape, so a RESHAPE to a scalar can read it."""
        sg = self.subgraph
        candidates = [i for i, t in enumerate(sg.tensors)
                      if t.data is None and 0 in t.shape and min(t.shape) >= 0 and i not in variables]
        if not candidates:
            return
        produced = {t for op in sg.operators for t in (*op.outputs, *op.intermediates)}
        produced.update(sg.inputs)
        for i in candidates:
            if i not in produced:
                shape = tuple(sg.tensors[i].shape)
                try:
                    value = np.empty(shape, self._dtypes[i])
                except ValueError:  # zero elements, yet dims whose product overflows numpy's sizes
                    raise ModelError(f"{self._describe(i)}: shape {list(shape)} is too large for an "
                                     "array") from None
                value.flags.writeable = False
                self.buffers[i] = value
                self._consts.add(i)
                self._fixed_shapes[i] = shape

    # -- specs ------------------------------------------------------------------
    def _base_spec(self, i: int) -> TensorSpec:
        spec = self._specs[i]
        if spec is None:
            t = self.subgraph.tensors[i]
            q = t.quantization
            if q is None:
                scale, zero_point, axis = EMPTY_SCALE, EMPTY_ZERO_POINT, 0
            else:
                scale, zero_point, axis = q.scale, q.zero_point, q.quantized_dimension
            spec = self._specs[i] = TensorSpec(i, t.name, t.shape, self._dtypes[i], scale, zero_point, axis,
                                               self.buffers[i] if i in self._consts else None, t.is_variable,
                                               t.sparsity)
        return spec

    def _spec(self, i: int, shape) -> TensorSpec | None:
        if i < 0:
            return None
        base = self._specs[i] or self._base_spec(i)
        if base.shape == shape:
            return base
        return TensorSpec(i, base.name, tuple(shape), base.dtype, base.scale, base.zero_point,
                          base.quantized_dimension, base.data, base.is_variable, base.sparsity)

    def static_shape(self, t: int) -> tuple | None:
        return self.shapes.get(t)

    def current_shape(self, t: int) -> tuple:
        if t in self._consts:
            return tuple(self.subgraph.tensors[t].shape)
        buf = self.buffers[t]
        if buf is not None:
            return tuple(buf.shape)
        if t in self.shapes:
            return self.shapes[t]
        if t in self.subgraph.inputs:
            return self.input_shapes[self.subgraph.inputs.index(t)]
        return tuple(self.subgraph.tensors[t].shape)

    # -- shapes -----------------------------------------------------------------
    def set_input_shapes(self, shapes: list[tuple]) -> None:
        if len(shapes) != len(self.subgraph.inputs):
            raise KernelError(f"subgraph {self.index} takes {len(self.subgraph.inputs)} inputs, "
                              f"got {len(shapes)}")
        shapes = [tuple(int(d) for d in s) for s in shapes]
        if shapes != self.input_shapes:
            self.input_shapes = shapes
            self.allocated = False

    def resize_input(self, position: int, shape: tuple) -> None:
        shapes = list(self.input_shapes)
        shapes[position] = tuple(int(d) for d in shape)
        self.set_input_shapes(shapes)

    def _kernel_for(self, n: int, in_specs: list, out_specs: list, value_key: tuple = ()):
        """The kernel prepared for these input shapes (cached) and its output shapes.

        ``value_key`` holds the values of inputs computed from shapes at this allocate
        (see ``_shape_values``): a kernel prepared with them is valid only for them."""
        key = tuple([None if s is None else s.shape for s in in_specs])
        if value_key:
            key = (key, value_key)
        cache = self._kernel_cache[n]
        cached = cache.get(key)
        if cached is None:
            cls = self.kernel_classes[n]
            if cls is None:
                raise UnsupportedOpsError([(self.index, n, self.nodes[n].op.name, "?")])
            try:
                kernel, shapes = self._prepare_kernel(n, cls, in_specs, out_specs)
            except KERNEL_FAILURES as e:
                if isinstance(e, ModelError):
                    raise
                where = f"{self.nodes[n].op.name} (node {n}) of subgraph {self.index}: prepare"
                raise _kernel_failure(where, e) from e
            cached = cache[key] = (kernel, shapes)
        return cached

    def _prepare_kernel(self, n: int, cls, in_specs: list, out_specs: list):
        """A new kernel of class ``cls`` for node ``n``, prepared: (kernel, output shapes)."""
        kernel = cls(self.nodes[n])
        for spec in in_specs:
            if spec is not None and spec.sparsity is not None:  # prepare densifies it
                self.runtime.budget.check_array(spec.shape, spec.dtype,
                                                self._describe(spec.index, "dense form of"))
        shapes = kernel.prepare(in_specs, out_specs)
        if shapes is None or len(shapes) != len(out_specs):
            raise KernelError(f"{self.nodes[n].op.name} (node {n}): prepare returned "
                              f"{shapes!r} for {len(out_specs)} outputs")
        shapes = [None if s is None else _int_shape(s) for s in shapes]
        return kernel, shapes

    # -- allocation ---------------------------------------------------------------
    def allocate(self) -> None:
        """Prepare every node whose input shapes are known, then plan and place the buffers."""
        if self.allocated:
            return
        try:
            self._allocate()
        except KERNEL_FAILURES as e:  # a fold or shape computation at allocate (prepare has its own)
            if isinstance(e, ModelError):
                raise
            raise _kernel_failure(f"allocating subgraph {self.index}", e) from e
        except MemoryError as e:
            raise ResourceError(f"allocating subgraph {self.index} ran out of memory: {e}", 0,
                                self.runtime.budget.limit) from e

    def _allocate(self) -> None:
        sg = self.subgraph
        tensors = sg.tensors
        known: dict[int, tuple] = dict(zip(sg.inputs, self.input_shapes))
        known.update(self._fixed_shapes)
        kernels: list = [None] * len(self.nodes)
        consts, folded, specs = self._consts, self._folded, self._specs
        base_spec, kernel_for = self._base_spec, self._kernel_for
        shape_folded: set[int] = set()
        shape_values: dict[int, np.ndarray] = {}
        value_specs: dict[int, TensorSpec] = {}
        static_nodes: list[int] = []  # prepared, with every output shape known
        for n, node in enumerate(self.nodes):
            if n in folded:
                continue
            op = node.op
            in_specs = []
            value_key = ()
            for t in op.inputs:
                if t < 0:
                    in_specs.append(None)
                    continue
                shape = known.get(t)
                if shape is None:
                    break  # deferred to invoke: this input's shape is only known at run time
                if t in value_specs:
                    in_specs.append(value_specs[t])
                    value_key += ((t, shape_values[t].tobytes()),)
                    continue
                spec = specs[t] or base_spec(t)
                in_specs.append(spec if spec.shape == shape else self._spec(t, shape))
            else:
                out_specs = [specs[t] or base_spec(t) for t in op.outputs]
                opcode = op.opcode
                if opcode in FOLDABLE_OPS and all(t < 0 or t in consts for t in op.inputs):
                    lazy = opcode in LAZY_FOLDABLE_OPS and self._consumers_keep_views(op.outputs)
                    for t in self._fold(n, in_specs, out_specs, lazy):
                        known[t] = self._fixed_shapes[t]
                    continue
                if (opcode in SHAPE_VALUE_OPS or (value_key and opcode in SHAPE_ARITHMETIC_OPS and all(
                        t < 0 or t in consts or t in value_specs for t in op.inputs))):
                    values = self._shape_fold(n, in_specs, out_specs, value_key)
                    if values is not None:
                        for t, value, base in zip(op.outputs, values, out_specs):
                            known[t] = value.shape
                            shape_values[t] = value
                            value_specs[t] = TensorSpec(t, base.name, value.shape, value.dtype, base.scale,
                                                        base.zero_point, base.quantized_dimension, value)
                        shape_folded.add(n)
                        continue
                kernels[n], out_shapes = kernel_for(n, in_specs, out_specs, value_key)
                static = True
                for t, shape in zip(op.outputs, out_shapes):
                    if shape is not None:
                        known[t] = shape
                    elif t not in known:  # (a variable's buffer is known even so)
                        static = False
                if static:
                    static_nodes.append(n)
                for t in op.intermediates:
                    if t >= 0 and t not in known:
                        known[t] = tuple(max(d, 0) for d in tensors[t].shape)
        self._shape_folded, self._shape_values = shape_folded, shape_values
        self.shapes = known
        roots, shared = shared_buffers(self, static_nodes, kernels, known, shape_values)
        place_buffers(self, known, shape_values, roots)
        buffers = self.buffers
        for t, value in shape_values.items():
            buffers[t] = value
        placed: list[Placed | None] = [None] * len(self.nodes)  # None: folded
        for n, kernel in enumerate(kernels):
            if kernel is None and n not in folded and n not in shape_folded:
                placed[n] = Placed(None, False, None, None)  # deferred to invoke
        nodes = self.nodes
        for n in static_nodes:
            op = nodes[n].op
            placed[n] = Placed(kernels[n], True, [buffers[t] if t >= 0 else None for t in op.inputs],
                               [buffers[t] for t in op.outputs])
        for n, kernel in enumerate(kernels):
            if kernel is not None and placed[n] is None:  # prepared, an output left to eval
                placed[n] = Placed(kernel, False, None, None)
        self._placed = placed
        self._shared_nodes = shared  # their output is their input's buffer: nothing to run
        self._calls = build_calls(self, placed, shared)
        self.allocated = True

    def _consumers_keep_views(self, tensors) -> bool:
        """True if every node reading these tensors has a kernel that does not read constant
        values in prepare (and they are not subgraph outputs), so they may be filled late."""
        if self._consumers is None:
            consumers: dict[int, list[int]] = {}
            for j, op in enumerate(self.subgraph.operators):
                for t in op.inputs:
                    if t >= 0:
                        consumers.setdefault(t, []).append(j)
            self._consumers = consumers
        outputs = self.subgraph.outputs
        for t in tensors:
            readers = self._consumers.get(t)
            if not readers or t in outputs:
                return False
            for j in readers:
                cls = self.kernel_classes[j]
                if cls is None or cls.prepare_reads_constants or self.nodes[j].op.opcode in FOLDABLE_OPS:
                    return False
        return True

    def _fold(self, n: int, in_specs: list, out_specs: list, lazy: bool = False) -> list[int]:
        """Run a node whose inputs are all constant once, now, and make its outputs constants
        (as LiteRT does for DEQUANTIZE of float16 weights and DENSIFY of sparse ones), so the
        kernels that read them see constant weights in prepare. With ``lazy`` the outputs
        are only reserved now and written by :meth:`fill_pending_constants`."""
        op = self.nodes[n].op
        kernel, shapes = self._kernel_for(n, in_specs, out_specs)
        if any(s is None for s in shapes):
            raise KernelError(f"{op.name} (node {n}): constant inputs but a dynamic output shape")
        budget = self.runtime.budget
        for t, shape, spec in zip(op.outputs, shapes, out_specs):  # constant expansion (float16, sparse)
            budget.check_array(shape, spec.dtype, lambda: self._describe(t, f"{op.name} (node {n}) expanding"))
            budget.reserve(("constant", self.index, t), math.prod(shape) * spec.dtype.itemsize,
                           self._describe(t, "constant"))
        if lazy:
            # reserved, not written: the readers promised not to read values in prepare, invoke
            # and get_tensor fill them first (fill_pending_constants) and the fill writes it all
            targets = [np.empty(shape, out_specs[k].dtype) for k, shape in enumerate(shapes)]
            self._pending_folds[n] = (kernel, [self.buffers[t] if t >= 0 else None for t in op.inputs],
                                      targets)
            outs = [a.view() for a in targets]  # read-only views for everyone else
        elif (outs := kernel.constant_outputs()) is not None:  # computed already: check, keep
            outs = [np.asarray(o) for o in outs]
            if len(outs) != len(shapes) or any(o.shape != tuple(s) or o.dtype != spec.dtype
                                               for o, s, spec in zip(outs, shapes, out_specs)):
                raise KernelError(f"{op.name} (node {n}): constant_outputs() do not match the "
                                  f"prepared shapes {shapes} and output types")
        else:
            outs = _eval_into_new(kernel, [self.buffers[t] if t >= 0 else None for t in op.inputs], shapes,
                                  [spec.dtype for spec in out_specs])
        for t, value in zip(op.outputs, outs):
            value.flags.writeable = False
            self.buffers[t] = value
            self._consts.add(t)
            self._fixed_shapes[t] = tuple(value.shape)
            base = self._base_spec(t)
            self._specs[t] = TensorSpec(index=t, name=base.name, shape=tuple(value.shape), dtype=base.dtype,
                                        scale=base.scale, zero_point=base.zero_point,
                                        quantized_dimension=base.quantized_dimension, data=value)
        self._folded.add(n)
        return list(op.outputs)

    def _shape_fold(self, n: int, in_specs: list, out_specs: list, value_key: tuple) -> list | None:
        """Compute node ``n`` now from shapes and values known at allocate (see
        SHAPE_VALUE_OPS); its outputs as read-only arrays, or None to leave it to invoke
        (a dynamic or large output)."""
        op = self.nodes[n].op
        kernel, shapes = self._kernel_for(n, in_specs, out_specs, value_key)
        if any(s is None or math.prod(s) > MAX_SHAPE_VALUE_ELEMENTS for s in shapes):
            return None
        outs = kernel.constant_outputs()
        if outs is None:
            if any(spec is not None and spec.data is None for spec in in_specs):
                return None  # a kernel that needs input values it cannot have yet
            outs = _eval_into_new(kernel, [None if spec is None else spec.data for spec in in_specs], shapes,
                                  [spec.dtype for spec in out_specs])
        values = []
        for o, shape, spec in zip(outs, shapes, out_specs):
            o = np.array(o, dtype=spec.dtype)  # a copy: the kernel may keep (and reuse) its own
            if o.shape != tuple(shape):
                raise KernelError(f"{op.name} (node {n}): computed output of shape {list(o.shape)}, "
                                  f"prepare said {list(shape)}")
            o.flags.writeable = False
            values.append(o)
        return values

    def fill_pending_constants(self, tensor: int | None = None) -> None:
        """Write the values of the folds that allocate only reserved (see ``_fold``); with
        ``tensor``, only if it is one of them (before reading it from outside)."""
        if not self._pending_folds:
            return
        if tensor is not None and not any(tensor in self.nodes[n].op.outputs for n in self._pending_folds):
            return
        pending, self._pending_folds = self._pending_folds, {}
        for n, (kernel, ins, targets) in sorted(pending.items()):
            ret = kernel.eval(ins, targets)
            if ret is not None:
                self._store_returned(n, ret, targets)  # copied into the reserved targets
            for target in targets:
                target.flags.writeable = False

    def _describe(self, t: int, prefix: str = "") -> str:
        """``subgraph 0 tensor 3 ('name')``, for budget messages."""
        name = self.subgraph.tensors[t].name if 0 <= t < len(self.subgraph.tensors) else "?"
        return f"{prefix + ' ' if prefix else ''}subgraph {self.index} tensor {t} ({name!r})"

    def _fixed(self, t: int) -> bool:
        return t in self.shapes

    def _lifetime_spans(self) -> dict[int, tuple[int, int]]:
        """[first, last] node of every activation's use (from the graph alone, so computed once)."""
        if self._spans is None:
            self._spans = lifetime_spans(self.subgraph, len(self.nodes))
        return self._spans

    def _producer_counts(self) -> dict[int, int]:
        """How many nodes write each tensor (from the graph alone, so computed once)."""
        if self._producers is None:
            self._producers = producer_counts(self.subgraph)
        return self._producers

    def _initial_variable(self, t: int, shape: tuple) -> np.ndarray:
        tensor = self.subgraph.tensors[t]
        if tensor.data is not None and tuple(tensor.data.shape) == tuple(shape):
            return np.array(tensor.data, dtype=tensor.numpy_dtype, copy=True)
        value = np.zeros(shape, dtype=tensor.numpy_dtype)
        q = tensor.quantization
        if value.dtype == np.int8 and q is not None and q.zero_point.size:
            # LiteRT's ResetVariableTensor fills an int8 state with its zero point (a real 0.0)
            value.fill(int(q.zero_point.reshape(-1)[0]))
        return value

    def reset_variable_tensors(self) -> None:
        for t, buf in self._variable_buffers.items():
            np.copyto(buf, self._initial_variable(t, buf.shape))
        for cache in self._kernel_cache:  # kernels that carry state across invokes (TFLM's Reset)
            for kernel, _shapes in cache.values():
                reset_state = getattr(kernel, "reset_state", None)
                if reset_state is not None:
                    reset_state()

    # -- data -------------------------------------------------------------------
    def write_input(self, t: int, value: np.ndarray, where: str) -> None:
        buf = self.buffers[t]
        value = np.asarray(value)
        if buf is None:
            self.buffers[t] = np.array(value, copy=True)
            return
        if value.dtype != buf.dtype:
            raise KernelError(f"{where}: got {value.dtype}, expected {buf.dtype}")
        if value.shape != buf.shape:
            raise KernelError(f"{where}: got shape {list(value.shape)}, expected {list(buf.shape)}")
        np.copyto(buf, value)

    # -- execution ------------------------------------------------------------------
    def invoke(self) -> None:
        """Run the call list made by the last allocate (runtime/node_calls.py)."""
        if not self.allocated:
            raise RuntimeError("Invoke called on model that is not ready.")
        if self._pending_folds:
            self.fill_pending_constants()
        self.running = True
        try:
            run_calls(self)
        finally:
            self.running = False

    def _store_returned(self, n: int, ret: list, outs: list) -> None:
        store_returned(self, n, ret, outs)


def __getattr__(name: str):
    # Runtime lives in model_runtime (it imports this module); kept importable from here
    if name == "Runtime":
        from .model_runtime import Runtime
        return Runtime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
