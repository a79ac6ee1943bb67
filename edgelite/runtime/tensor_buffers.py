"""Where a subgraph's tensors live: the activation arena, variables, and shared buffers.

:func:`place_buffers` runs at the end of every allocate. Constants keep the model's
arrays and values computed at allocate keep theirs; variable tensors (RNN state) get
persistent buffers outside the arena, string/resource tensors object arrays; every
other tensor with a static shape is a view into one ``uint8`` arena placed by
:func:`~edgelite.runtime.memory_plan.plan_arena` from its lifetime
(:func:`lifetime_spans`: first and last node that uses it; graph inputs and outputs
live for the whole run, with ``preserve_all_tensors`` every tensor does).

**Shared buffers** (:func:`shared_buffers`). A node whose kernel says that its output
is its input's bytes read with another shape (``Kernel.shares_input_memory()``:
RESHAPE, SQUEEZE, EXPAND_DIMS) needs no work when both tensors are placed at the
same offset: the executor then gives them one arena slot, alive from the first use
of either to the last, and leaves the node out of the invoke loop (LiteRT's builtin
RESHAPE likewise shares its input's buffer when it can). This is done only when it
cannot change a value anyone reads: both tensors are planned activations of the same
type and byte size, neither is a graph input or output, each has exactly one producer
in the subgraph (so nothing writes either after the node would have run), and not with
``preserve_all_tensors`` (where every tensor keeps its own slot). Chains of such nodes
share one slot.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from .memory_plan import BufferRequest, plan_arena


class ArenaHandle:
    """Exposes an arena to numpy (``np.asarray(handle)``) so that every view made from it keeps
    this object as its ``base``: its reference count then tells whether a user still holds one."""

    def __init__(self, arena: np.ndarray):
        self.arena = arena
        self.__array_interface__ = {"shape": arena.shape, "typestr": "|u1", "version": 3,
                                    "data": (arena.__array_interface__["data"][0], False)}


def lifetime_spans(subgraph, node_count: int) -> dict[int, tuple[int, int]]:
    """[first, last] node of every activation's use, from the graph alone."""
    end = node_count
    life: dict[int, list[int]] = {}
    for t in subgraph.inputs:
        life[t] = [0, end]
    for n, op in enumerate(subgraph.operators):
        for t in op.outputs:
            if t >= 0 and t not in life:
                life[t] = [n, n]
        for t in op.intermediates:
            if t >= 0 and t not in life:
                life[t] = [n, n]
        for t in op.inputs:
            if t >= 0:
                span = life.get(t)
                if span is None:
                    life[t] = [0, n]
                elif span[1] < n:
                    span[1] = n
    for t in subgraph.outputs:
        span = life.get(t)
        if span is None:
            life[t] = [0, end]
        else:
            span[1] = end
    return {t: (a, b) for t, (a, b) in life.items()}


def producer_counts(subgraph) -> dict[int, int]:
    """How many nodes write each tensor (as an output or an intermediate)."""
    counts: dict[int, int] = {}
    for op in subgraph.operators:
        for t in (*op.outputs, *op.intermediates):
            if t >= 0:
                counts[t] = counts.get(t, 0) + 1
    return counts


def shared_buffers(ex, static_nodes: list[int], kernels: list, known: dict[int, tuple],
                   values: dict) -> tuple[dict[int, int], set[int]]:
    """Which tensors share their input's slot (see the module docstring): ``{tensor: root
    tensor whose slot it uses}`` and the nodes that then need not run."""
    if ex.runtime.preserve_all_tensors:
        return {}, set()
    sg = ex.subgraph
    consts, variables, dtypes, nodes = ex._consts, ex._variables, ex._dtypes, ex.nodes
    boundary = set(sg.inputs) | set(sg.outputs)
    producers = None
    roots: dict[int, int] = {}
    skipped: set[int] = set()
    for n in static_nodes:
        shares = getattr(kernels[n], "shares_input_memory", None)
        if shares is None or not shares():
            continue
        op = nodes[n].op
        if len(op.outputs) != 1 or not op.inputs:
            continue
        src, dst = op.inputs[0], op.outputs[0]
        if src < 0 or dst < 0 or src == dst or src in boundary or dst in boundary:
            continue
        if not all(t in known and t not in consts and t not in values and t not in variables
                   and not dtypes[t].hasobject for t in (src, dst)):
            continue
        if dtypes[src] != dtypes[dst] or math.prod(known[src]) != math.prod(known[dst]):
            continue
        if producers is None:
            producers = ex._producer_counts()
        if producers.get(src) != 1 or producers.get(dst) != 1:
            continue
        roots[dst] = roots.get(src, src)
        skipped.add(n)
    return roots, skipped


def place_buffers(ex, known: dict[int, tuple], values: dict, roots: dict[int, int]) -> None:
    """Give every tensor of executor ``ex`` with a known shape its buffer (see the module
    docstring); ``roots`` maps tensors that share another's slot to it."""
    tensors = ex.subgraph.tensors
    consts, variables, dtypes = ex._consts, ex._variables, ex._dtypes
    buffers = ex.buffers
    budget = ex.runtime.budget
    planned: list[int] = []
    for t, shape in known.items():
        if t in consts or t in values:
            continue
        if t in variables:
            buf = ex._variable_buffers.get(t)
            if buf is None or buf.shape != shape:
                budget.check_array(shape, dtypes[t], ex._describe(t, "variable"))
                budget.reserve(("variable", ex.index, t), math.prod(shape) * dtypes[t].itemsize,
                               ex._describe(t, "variable"))
                buf = ex._variable_buffers[t] = ex._initial_variable(t, shape)
            buffers[t] = buf
        elif dtypes[t].hasobject:
            budget.check_array(shape, dtypes[t], ex._describe(t))
            buffers[t] = np.empty(shape, dtype=object)
        else:
            planned.append(t)
    if len(known) < len(tensors):  # tensors with run-time shapes start unallocated
        for t in range(len(tensors)):
            if t not in known and t not in consts:
                buffers[t] = None
    planned.sort()
    default = (0, len(ex.nodes))
    spans = {} if ex.runtime.preserve_all_tensors else ex._lifetime_spans()
    if roots:  # a shared slot lives from the first use of any of its tensors to the last
        spans = dict(spans)
        for t, root in roots.items():
            a, b = spans.get(t, default)
            c, d = spans.get(root, default)
            spans[root] = (min(a, c), max(b, d))
    requests = []
    limit = budget.limit
    shared_bytes = 0
    for t in planned:
        nbytes = math.prod(known[t]) * dtypes[t].itemsize
        if nbytes < 0 or nbytes > limit:
            if min(known[t], default=0) < 0:
                raise ModelError(f"{ex._describe(t)}: shape {list(known[t])} has a negative dimension")
            budget.check_array(known[t], dtypes[t], ex._describe(t))
        if t in roots:
            shared_bytes += nbytes
            continue
        first, last = spans.get(t, default)
        requests.append(BufferRequest(t, nbytes, first, last))
    plan = plan_arena(requests)
    detail = ""
    if requests and not budget.fits(("arena", ex.index), plan.size):
        biggest = max(requests, key=lambda r: r.size)
        detail = (f" (largest tensor: {ex._describe(biggest.key)}, shape {list(known[biggest.key])}, "
                  f"{biggest.size} bytes)")
    budget.reserve(("arena", ex.index), plan.size, f"the activation arena of subgraph {ex.index}", detail)
    ex.arena = None  # let the old arena go before the new one is made
    ex.arena = arena = np.zeros(max(plan.size, 1), dtype=np.uint8)
    ex.arena_guard = ArenaHandle(arena)
    offsets = ex.offsets = plan.offsets
    for t, root in roots.items():
        offsets[t] = offsets[root]
    ex.plan_stats = (plan.size, plan.requested + shared_bytes)
    ndarray = np.ndarray
    for t in planned:
        buffers[t] = ndarray(known[t], dtypes[t], arena, offsets[t])
