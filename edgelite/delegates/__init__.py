"""Delegates: hand the parts of a graph that another engine supports to that engine.

LiteRT's delegate API in Python. A :class:`Delegate` says which nodes it supports; the
interpreter (``Interpreter(experimental_delegates=[...])``) partitions each graph into
maximal connected, convex sets of supported nodes (:mod:`edgelite.delegates.partition`),
replaces each by one ``DELEGATE`` node whose kernel — registered on the interpreter's op
resolver — runs the partition through :meth:`Delegate.create_kernel`, and leaves every
other node on edgelite's kernels (:mod:`edgelite.delegates.apply`).

Writing a delegate::

    class MyDelegate(Delegate):
        name = "mine"
        def supports(self, op, subgraph):           # one node at a time
            return op.opcode in ("ADD", "MUL")
        def create_kernel(self, partition):         # one per partition and input shapes
            return MyKernel(partition)

    class MyKernel(DelegateKernel):
        def prepare(self, input_shapes):            # -> output shapes
            ...
        def invoke(self, inputs):                   # -> output arrays
            ...

Named delegates (``load_delegate("onnxruntime")``) are listed in :data:`DELEGATES`;
:func:`register_delegate` adds more. See docs/delegates.md.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..ir import Model, Operator, Subgraph

__all__ = ["Delegate", "DelegateKernel", "Partition", "DelegateError", "load_delegate", "register_delegate",
           "DELEGATES"]


class DelegateError(ValueError):
    """A delegate cannot be loaded or applied (unknown name, bad option, missing package)."""


@dataclass(eq=False)
class Partition:
    """A set of nodes of one subgraph that a delegate runs as one kernel.

    ``model`` is a standalone one-subgraph :class:`edgelite.ir.Model` holding exactly those
    nodes: its inputs are the tensors the partition reads from the rest of the graph (in
    the order of :attr:`input_tensors`), its outputs the tensors the rest of the graph
    (or the subgraph's outputs) read from it (:attr:`output_tensors`), its constants the
    weights the nodes use. Tensor indices of ``model`` are its own; ``tensor_map`` maps
    them to the original subgraph's.
    """

    delegate: "Delegate"
    subgraph_index: int
    node_indices: list[int]
    model: Model
    input_tensors: list[int]
    output_tensors: list[int]
    tensor_map: list[int]
    num_threads: int = 1
    index: int = 0  # position among all partitions of this interpreter
    # whether this partition is all its subgraph runs (no edgelite node, no other partition):
    # then nothing else computes while it runs (set by apply_delegates)
    covers_subgraph: bool = False

    @property
    def subgraph(self) -> Subgraph:
        return self.model.subgraphs[0]

    def op_names(self) -> list[str]:
        return [op.name for op in self.subgraph.operators]

    def infer_shapes(self, input_shapes: Sequence[Sequence[int]]):
        """Shapes (and the values computable from shapes) of every tensor of :attr:`model`,
        by preparing edgelite's own kernels for these input shapes.

        Returns ``(shapes, values, executor)``: tensor -> shape for every tensor whose
        shape is known before running, tensor -> array for the ones edgelite computed at
        allocate (SHAPE and the index arithmetic on it), and the prepared edgelite executor,
        which can run the partition (a fallback for kernels that cannot take a node).
        """
        from ..runtime import Runtime
        runtime = Runtime(self.model, resolver=_shape_resolver())
        ex = runtime.executor(0)
        ex.set_input_shapes([tuple(int(d) for d in s) for s in input_shapes])
        ex.allocate()
        values = {t: np.asarray(v) for t, v in ex._shape_values.items()}
        for t in ex._consts:  # folded constants (DEQUANTIZE of float16 weights, ...)
            if ex.buffers[t] is not None and self.subgraph.tensors[t].data is None:
                ex.fill_pending_constants(t)
                values[t] = np.asarray(ex.buffers[t])
        return dict(ex.shapes), values, ex


def _shape_resolver():
    """An op resolver for shape propagation: where the registry picks a compiled-tier kernel
    (``edgelite.kernels.fast``, numba), its reference base class instead — the same prepare
    and shapes, without importing numba and compiling at allocate (~0.2 s on first use)."""
    from ..kernels.base import Kernel
    from ..kernels.resolver import OpResolver

    def reference(cls):
        if cls is not None and cls.__module__.startswith("edgelite.kernels.fast"):
            for base in cls.__mro__[1:]:
                if issubclass(base, Kernel) and base is not Kernel and not base.__module__.startswith(
                        "edgelite.kernels.fast"):
                    return base
        return cls

    class ShapeResolver(OpResolver):
        def lookup_all(self, nodes):
            return [reference(cls) for cls in super().lookup_all(nodes)]
    return ShapeResolver()


class DelegateKernel:
    """Runs one partition for one combination of input shapes.

    ``prepare(input_shapes)`` returns the output shapes (the default asks edgelite's kernels,
    :meth:`Partition.infer_shapes`); ``invoke(inputs)`` returns the output arrays, in
    :attr:`Partition.output_tensors` order, with the output tensors' dtypes.
    """

    def __init__(self, partition: Partition):
        self.partition = partition
        # partition input tensor -> value, for inputs that are constant in the outer graph
        # (set before prepare; they are still passed to invoke)
        self.constant_inputs: dict[int, np.ndarray] = {}

    def prepare(self, input_shapes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        shapes, _values, _ex = self.partition.infer_shapes(input_shapes)
        return [shapes[t] for t in self.partition.subgraph.outputs]

    def invoke(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


class Delegate:
    """Base class of delegates (see the module docstring).

    ``min_partition_size``: partitions with fewer nodes stay on edgelite (LiteRT's
    delegates use such a threshold too: a one-node partition rarely pays for its boundary).
    """

    name: str = "delegate"
    min_partition_size: int = 1

    def supports(self, op: Operator, subgraph: Subgraph) -> bool:
        """Whether this delegate can run ``op`` (a node of ``subgraph``)."""
        raise NotImplementedError

    def supported_nodes(self, subgraph: Subgraph, subgraph_index: int) -> set[int]:
        """Indices of the nodes of ``subgraph`` this delegate can run (default: :meth:`supports`)."""
        return {n for n, op in enumerate(subgraph.operators) if self.supports(op, subgraph)}

    def create_kernel(self, partition: Partition) -> DelegateKernel:
        """A kernel running ``partition`` (called once per partition and input-shape combination)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


# name -> "module:Class" (imported on first use, so that optional packages load lazily)
DELEGATES: dict[str, str] = {"onnxruntime": "edgelite.delegates.onnxruntime:OnnxRuntimeDelegate",
                             "ort": "edgelite.delegates.onnxruntime:OnnxRuntimeDelegate"}


def register_delegate(name: str, target: str | type) -> None:
    """Make ``load_delegate(name)`` build ``target`` (a Delegate class or "module:Class")."""
    DELEGATES[str(name)] = target


def load_delegate(name_or_object: Any, options: dict | None = None) -> Delegate:
    """A delegate for ``Interpreter(experimental_delegates=[...])``, as LiteRT's ``load_delegate``.

    ``name_or_object`` is a registered name (``"onnxruntime"``), a :class:`Delegate` class
    (built with ``options``) or instance (returned as is). Native delegate libraries
    (``.so``/``.dll``/``.dylib``) cannot run under edgelite and raise :class:`DelegateError`.
    """
    options = dict(options or {})
    target = name_or_object
    if isinstance(target, Delegate):
        if options:
            raise DelegateError(f"options given for the already built delegate {target!r}")
        return target
    if isinstance(target, str):
        if target not in DELEGATES:
            if any(ext in target for ext in (".so", ".dll", ".dylib")) or "/" in target:
                raise DelegateError(f"Failed to load delegate from {target}: edgelite runs Python delegates "
                                    f"only, not native libraries (known: {', '.join(sorted(DELEGATES))})")
            raise DelegateError(f"unknown delegate {target!r}; known: {', '.join(sorted(DELEGATES))}")
        target = DELEGATES[target]
        if isinstance(target, str):
            module, _, cls = target.partition(":")
            target = getattr(importlib.import_module(module), cls)
    if isinstance(target, type) and issubclass(target, Delegate):
        return target(**options) if options else target()
    raise DelegateError(f"cannot make a delegate from {name_or_object!r}: give a name, a Delegate "
                        "class or a Delegate instance")
