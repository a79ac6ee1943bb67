"""Kernel interface and registry.

Every op node is executed by an instance of a :class:`Kernel` subclass:

* ``__init__(node)`` runs once per node: read options, look at constants.
* ``prepare(inputs, outputs)`` runs once per input-shape combination. It gets
  :class:`TensorSpec` for each input (``None`` for an omitted optional input)
  and output (dtype and quantization from the model; their shapes are what the
  model says and may be stale), checks them, precomputes everything constant
  (reshaped weights, quantization multipliers, gather indices...) and returns
  the output shapes. An output whose shape is only known from input *values*
  (RESHAPE with a computed shape, NMS, ...) is returned as ``None``: it is
  then allocated by ``eval`` itself.
* ``eval(inputs, outputs)`` is the hot path: vectorised numpy only. ``inputs``
  are arrays (``None`` for omitted ones); ``outputs`` are preallocated arrays
  of the prepared shapes, or ``None`` for dynamic outputs. It writes the
  results in place and returns ``None``, or returns a list of arrays (one per
  output), which the interpreter copies into the planned buffers, or keeps,
  for dynamic outputs.

Kernels are looked up with :func:`lookup` by op name, op version and the
kind of data they compute on (``"float"``, ``"int8"``, ``"int16"``, ``"hybrid"``,
or ``"any"``). A faster implementation registers with a higher ``priority``
and usually subclasses the reference one to reuse its prepare.

``prepare`` runs for every node in ``allocate_tensors``, so it should only
validate and compute what ``eval`` needs to be correct; buffers and packed
weights that only running needs are better made on the first ``eval``. A kernel
that never reads constant values in prepare says so with
``prepare_reads_constants = False`` (see :class:`Kernel`). The
interpreter looks up a whole graph with :func:`lookup_all`, during which
:func:`data_kind` is memoised per op and ``when`` predicates can cache a
whole-graph analysis with :func:`lookup_pass_cached`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ModelError
from ..schema import TENSOR_DTYPES


@dataclass
class TensorSpec:
    """What a kernel may know about a tensor before running."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant value (dense), when the tensor is constant
    is_variable: bool = False
    sparsity: Any = None  # ir.Sparsity for sparse constants (data is then the values array)

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def quantized(self) -> bool:
        return self.scale.size > 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _read_only_empty(dtype) -> np.ndarray:
    a = np.zeros(0, dtype)
    a.flags.writeable = False
    return a


# Shared (read-only) quantization arrays of specs for unquantized tensors.
EMPTY_SCALE = _read_only_empty(np.float32)
EMPTY_ZERO_POINT = _read_only_empty(np.int64)


class KernelError(ModelError):
    """A node cannot run as configured (bad shapes, unsupported attribute...)."""


class Kernel:
    """Base class. Subclasses set ``op`` and implement ``prepare`` and ``eval``."""

    op: str = ""
    # Whether ``prepare`` may read the *values* of constant inputs (``TensorSpec.data``).
    # A kernel whose prepare only keeps references to them (the array or views of it,
    # reading values first in ``eval``) sets this to False: the interpreter may then give
    # it constants whose values are written only just before the first invoke (float16
    # weights behind a DEQUANTIZE, which LiteRT also dequantizes on the first Eval).
    prepare_reads_constants: bool = True

    def __init__(self, node):
        self.node = node          # interpreter Node: .op (ir.Operator), .index, .runtime
        self.op_desc = node.op    # the ir.Operator
        self.options = node.op.options or {}

    def fail(self, message: str) -> "KernelError":
        return KernelError(f"{self.op_desc.name} (node {self.node.index}): {message}")

    def require_io(self, inputs: list, outputs: list, names: str, required: int, optional: int = 0) -> None:
        """Raise unless there are ``required`` present inputs (then up to ``optional`` more, which
        may be omitted) and one output; ``names`` lists them for the message, e.g. ``"input, filter[, bias]"``."""
        if not required <= len(inputs) <= required + optional or len(outputs) != 1 \
                or any(x is None for x in inputs[:required]):
            raise self.fail(f"needs inputs ({names}) and one output")

    def dims_from(self, value, what: str = "shape") -> tuple[int, ...]:
        """An output shape read from a shape tensor's value; negative dimensions are an error."""
        dims = tuple(int(d) for d in np.asarray(value).reshape(-1))
        if any(d < 0 for d in dims):
            raise self.fail(f"{what} {list(dims)} has a negative dimension")
        return dims

    def prepare(self, inputs: list[TensorSpec | None], outputs: list[TensorSpec]) -> list:
        raise NotImplementedError

    def eval(self, inputs: list[np.ndarray | None], outputs: list[np.ndarray | None]):
        raise NotImplementedError

    def bind(self, inputs: list, outputs: list) -> Callable[[], Any] | None:
        """Optional fast path: a function of no arguments doing what ``eval(inputs, outputs)``
        does, for these very arrays, or None to have ``eval`` called.

        The interpreter asks once per allocation, for every node whose input and output
        buffers are fixed from then on, so the function may keep views, reshapes and
        broadcast operands of them made here (``functools.partial(np.add, a, b, out)``).
        It runs under ``np.errstate(all="ignore")``, writes the outputs in place, and what it
        returns is ignored (so ``partial(np.add, a, b, out)`` will do). It is used only where the class defining ``bind`` defines
        ``eval`` too or derives from the one that does, so a subclass overriding ``eval``
        is never bypassed; one overriding a helper that ``bind`` skips must return None.
        """
        return None

    def shares_input_memory(self) -> bool:
        """True when output 0 is input 0's bytes unchanged, read with another shape (RESHAPE,
        SQUEEZE, EXPAND_DIMS): the interpreter may then place both tensors in one buffer and
        skip the node (runtime/tensor_buffers.py says when). Asked after ``prepare``."""
        return False

    def constant_outputs(self) -> list[np.ndarray] | None:
        """The outputs, if ``prepare`` already computed them from constant inputs; else None.

        The interpreter folds some nodes whose inputs are all constant (DEQUANTIZE of float16
        weights...) at allocate_tensors: with this it keeps those arrays (read-only from then
        on) instead of running ``eval`` into fresh buffers, which would copy them once more.
        """
        return None


# -- registry -----------------------------------------------------------------------
_REGISTRY: dict[str, list[tuple[int, Callable, Any, str, type]]] = {}


def register(op: str | tuple[str, ...], kind: str = "float", versions: range | None = None,
             priority: int = 0, when: Callable | None = None):
    """Class decorator registering a kernel for ``op`` (or several ops).

    ``kind`` is the data kind the kernel computes on ("float", "int8", "int16",
    "hybrid", "any"). ``when(node) -> bool`` further restricts it.
    """
    ops = (op,) if isinstance(op, str) else tuple(op)

    def deco(cls):
        for name in ops:
            # a new sorted list swapped in whole: lookups in other threads never see a list
            # being sorted (list.sort empties it meanwhile)
            entries = [*_REGISTRY.get(name, ()), (priority, when, versions, kind, cls)]
            _REGISTRY[name] = sorted(entries, key=lambda e: -e[0])
        if not cls.op:
            cls.op = ops[0]
        return cls
    return deco


def _codes_where(pred) -> frozenset[int]:
    return frozenset(int(c) for c, d in TENSOR_DTYPES.items() if d is not None and pred(d))


# TensorType codes by numpy dtype, so that classifying a node compares small ints only.
_INT16_CODES = _codes_where(lambda d: d == np.int16)
_INT8_CODES = _codes_where(lambda d: d in (np.int8, np.uint8))
_FLOAT32_CODES = _codes_where(lambda d: d == np.float32)


def _quantized(t) -> bool:
    q = t.quantization
    if q is None:
        return False
    if q.scale.size:  # the common case, without is_empty's full check
        return True
    return not q.is_empty()


# During lookup_all: op id -> kind, so that ``when`` predicates that classify other nodes
# (e.g. "does this float node feed a hybrid one?") do not classify the same op again and again.
_lookup_pass = threading.local()


def data_kind(node) -> str:
    """Classify a node by its tensors: float, int8, int16 or hybrid (int8 weights, float activations).

    Activations are the non-constant inputs and the outputs: any quantized int16 one makes the
    node int16, else any quantized int8/uint8 one int8; float32 activations with int8/uint8
    constant inputs make it hybrid; everything else is float.
    """
    return op_data_kind(node.op, node.subgraph)


def op_data_kind(op, subgraph) -> str:
    """:func:`data_kind` of operator ``op`` of ``subgraph`` (no :class:`Node` needed)."""
    memo = getattr(_lookup_pass, "kinds", None)
    if memo is None:
        return _classify(op, subgraph.tensors)
    kind = memo.get(id(op))
    if kind is None:
        kind = memo[id(op)] = _classify(op, subgraph.tensors)
    return kind


def lookup_pass_cached(key, compute: Callable[[], Any]):
    """``compute()``, computed once per :func:`lookup_all` pass for ``key`` (outside one: every call).

    For ``when`` predicates that need an analysis of the whole graph (which nodes feed a
    hybrid op, say): with ``key = ("name", id(subgraph))`` the analysis runs once per
    interpreter allocation instead of once per candidate node. The cache lives only
    during the pass, so it never sees a graph edited after it.
    """
    memo = getattr(_lookup_pass, "kinds", None)
    if memo is None:
        return compute()
    entry = ("lookup_pass_cached", key)
    if entry not in memo:
        memo[entry] = compute()
    return memo[entry]


def _classify(op, tensors) -> str:
    int8 = float_act = int_weights = False
    for i in (*op.inputs, *op.outputs):
        if i < 0:
            continue
        t = tensors[i]
        code = t.dtype
        if t.data is not None:  # a constant (weights): only inputs hold data
            int_weights = int_weights or code in _INT8_CODES
        elif code in _INT16_CODES:
            if _quantized(t):
                return "int16"
        elif code in _INT8_CODES:
            int8 = int8 or _quantized(t)
        else:
            float_act = float_act or code in _FLOAT32_CODES
    if int8:
        return "int8"
    if float_act and int_weights:
        return "hybrid"
    return "float"


# Importers of kernel families loaded on demand (kernels/__init__.py: the custom-op packs, which
# register only names no other family registers): run on the first lookup of a name that has no
# entry, and by registered_ops().
_on_demand: list[Callable[[], None]] = []
_on_demand_lock = threading.RLock()  # (re-entrant: an importer may look kernels up)
_on_demand_busy = False  # an importer is running: other threads wait for it


def add_on_demand(importer: Callable[[], None]) -> None:
    """Have ``importer()`` run (once) before a lookup of an op name nothing has registered."""
    with _on_demand_lock:
        _on_demand.append(importer)


def load_on_demand() -> None:
    """Run the pending on-demand importers (see :func:`add_on_demand`); a thread arriving while
    another runs one waits for it to finish."""
    global _on_demand_busy
    if not _on_demand and not _on_demand_busy:
        return
    with _on_demand_lock:
        while _on_demand:
            _on_demand_busy = True
            importer = _on_demand.pop(0)
            try:
                importer()
            finally:
                _on_demand_busy = False


def lookup(node) -> type | None:
    """The best registered kernel class for ``node``, or None if there is none."""
    op = node.op
    kind = None  # classified only if an entry needs it ("any" kernels do not)
    if op.name not in _REGISTRY:
        load_on_demand()
    for _prio, when, versions, k, cls in _REGISTRY.get(op.name, ()):
        if k != "any":
            if kind is None:
                kind = op_data_kind(op, node.subgraph)
            if k != kind:
                continue
        if versions is not None and op.version not in versions:
            continue
        if when is not None and not _applies(when, node):
            continue
        return cls
    return None


def _applies(when: Callable, node) -> bool:
    """``when(node)``; a predicate that cannot even look at a malformed node (no inputs, a missing
    tensor...) means its variant does not apply: the default kernel's prepare then reports the node."""
    try:
        return bool(when(node))
    except ModelError:
        raise  # a predicate's own verdict on the node (e.g. "this op needs an NPU")
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        return False


def lookup_all(nodes) -> list[type | None]:
    """:func:`lookup` for every node of one graph, classifying each op only once meanwhile."""
    outer = getattr(_lookup_pass, "kinds", None)
    if outer is None:
        _lookup_pass.kinds = {}
    try:
        return [lookup(n) for n in nodes]
    finally:
        if outer is None:
            _lookup_pass.kinds = None


def registered_ops() -> dict[str, list[str]]:
    """op name -> kinds registered (for docs and `edgelite inspect --ops`)."""
    load_on_demand()
    return {name: sorted({e[3] for e in entries}) for name, entries in sorted(_REGISTRY.items())}


@dataclass
class Node:
    """An operator placed in a subgraph, as kernels see it."""

    op: Any                 # ir.Operator
    index: int              # position in the subgraph's operator list
    subgraph: Any           # ir.Subgraph
    runtime: Any = None     # the interpreter's runtime (subgraph calls, variables), if any

    def tensor(self, i: int):
        return self.subgraph.tensors[i]
