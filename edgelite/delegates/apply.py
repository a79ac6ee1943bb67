"""Applying delegates to a model: partition, cut out, replace by DELEGATE nodes.

:func:`apply_delegates` works on a *copy* of the model's graph (the tensors and constants
are shared, the operator lists are new). For every subgraph that is not a control-flow
body (bodies of IF/WHILE/CALL_ONCE/CALL stay on edgelite), each delegate in turn is asked
which of the remaining nodes it supports; the supported nodes are grouped by
:func:`edgelite.delegates.partition.partition_nodes` and each group becomes one operator
``CUSTOM`` with custom code ``"DELEGATE"`` whose ``extra["partition"]`` holds the
:class:`~edgelite.delegates.Partition`. The operators are then put back in a topological
order (a convex group can always be placed so).

The DELEGATE nodes run through the interpreter's op resolver: :meth:`Delegation.install`
registers :class:`DelegateNodeKernel` for the custom code ``"DELEGATE"`` on it, so the
executor knows nothing of delegates. Tensor indices, model inputs/outputs and signatures
are unchanged; tensors internal to a partition are no longer produced by any node, so
``get_tensor`` on them raises ``ValueError`` ("Tensor data is null"), as LiteRT's do.
"""
from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..ir import _SUBGRAPH_OPTION_FIELDS, Model, Operator, Subgraph
from ..kernels.base import Kernel, KernelError
from . import Delegate, DelegateError, DelegateKernel, Partition
from .partition import node_edges, partition_nodes

DELEGATE_CODE = "DELEGATE"


@dataclass
class Delegation:
    """The result of :func:`apply_delegates`: the rewritten model and its partitions."""

    model: Model
    original: Model
    partitions: list[Partition] = field(default_factory=list)
    # subgraph -> for each node of the rewritten subgraph, the original node indices it runs
    node_origins: dict[int, list[list[int]]] = field(default_factory=dict)

    def install(self, resolver) -> None:
        """Register the DELEGATE kernel on an interpreter's op resolver."""
        resolver.add_custom(DELEGATE_CODE, DelegateNodeKernel)

    def summary(self) -> list[dict]:
        """One dict per partition: delegate, subgraph, original node indices and op names."""
        return [{"partition": p.index, "delegate": p.delegate.name, "subgraph": p.subgraph_index,
                 "nodes": list(p.node_indices), "ops": p.op_names()} for p in self.partitions]


def control_flow_bodies(model: Model) -> set[int]:
    """Subgraphs called by an op (IF/WHILE branches and bodies, CALL_ONCE initialisers)."""
    bodies: set[int] = set()
    for sg in model.subgraphs:
        for op in sg.operators:
            for key in _SUBGRAPH_OPTION_FIELDS:
                idx = op.opt(key)
                if isinstance(idx, (int, np.integer)) and op.options_type:
                    bodies.add(int(idx))
    return bodies


def apply_delegates(model: Model, delegates: Sequence[Delegate], num_threads: int = 1) -> Delegation:
    """Partition ``model`` for ``delegates`` (first one first) and return the rewritten copy."""
    for d in delegates:
        if not isinstance(d, Delegate):
            raise DelegateError(f"experimental_delegates must hold edgelite Delegate objects "
                                f"(see edgelite.load_delegate), got {type(d).__name__}")
    new = copy.copy(model)
    new.subgraphs = list(model.subgraphs)
    delegation = Delegation(model=new, original=model)
    bodies = control_flow_bodies(model)
    for si, sg in enumerate(model.subgraphs):
        if si in bodies:
            continue
        origins: list[list[int]] = [[n] for n in range(len(sg.operators))]
        ops: list[Operator] = list(sg.operators)
        changed = False
        for delegate in delegates:
            taken = {n for n, op in enumerate(ops) if op.opcode == "CUSTOM" and op.custom_code == DELEGATE_CODE}
            view = copy.copy(sg)
            view.operators = ops
            supported = set(delegate.supported_nodes(view, si)) - taken
            groups = partition_nodes(ops, supported, delegate.min_partition_size)
            if not groups:
                continue
            ops, origins = _replace_groups(view, ops, origins, groups, delegate, si, num_threads, delegation)
            changed = True
        if changed:
            out = copy.copy(sg)
            out.operators = ops
            new.subgraphs[si] = out
            delegation.node_origins[si] = origins
            if len(ops) == 1 and ops[0].extra.get("partition") is not None:
                ops[0].extra["partition"].covers_subgraph = True
    return delegation


def _replace_groups(sg: Subgraph, ops: list[Operator], origins: list[list[int]], groups: list[list[int]],
                    delegate: Delegate, si: int, num_threads: int, delegation: Delegation):
    """Replace each group of ``ops`` by one DELEGATE operator; return the new ops and origins."""
    readers: dict[int, set[int]] = {}
    for n, op in enumerate(ops):
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, set()).add(n)
    graph_outputs = set(sg.outputs)
    group_of = {n: g for g, nodes in enumerate(groups) for n in nodes}
    new_nodes: list[tuple[Operator, list[int]]] = []  # (op, original node indices) per group
    for g, nodes in enumerate(groups):
        members = set(nodes)
        produced: list[int] = []
        for n in nodes:
            produced.extend(t for t in ops[n].outputs if t >= 0)
        produced_set = set(produced)
        inputs: list[int] = []
        for n in nodes:
            for t in ops[n].inputs:
                if t >= 0 and t not in produced_set and t not in inputs and not sg.tensors[t].is_constant:
                    inputs.append(t)
        outputs = [t for t in produced if t in graph_outputs or readers.get(t, set()) - members]
        partition = _cut_out(sg, [ops[n] for n in nodes], inputs, outputs, delegate, si, num_threads,
                             len(delegation.partitions))
        partition.node_indices = sorted(o for n in nodes for o in origins[n])
        delegation.partitions.append(partition)
        op = Operator("CUSTOM", inputs, outputs, custom_code=DELEGATE_CODE)
        op.extra["partition"] = partition
        new_nodes.append((op, partition.node_indices))
    # condensed graph: the ungrouped nodes plus one node per group, in topological order
    items: list[tuple[Operator, list[int]]] = []
    index_of: dict[int, int] = {}
    for n, op in enumerate(ops):
        if n in group_of:
            g = group_of[n]
            if n == groups[g][0]:
                index_of[n] = len(items)
                items.append(new_nodes[g])
            else:
                index_of[n] = index_of[groups[g][0]]
        else:
            index_of[n] = len(items)
            items.append((op, origins[n]))
    order = _topological([op for op, _ in items])
    return [items[i][0] for i in order], [items[i][1] for i in order]


def _topological(operators: list[Operator]) -> list[int]:
    """A topological order of ``operators`` that keeps their given order where it can."""
    preds, succs = node_edges(operators)
    missing = [len(p) for p in preds]
    ready = [n for n, k in enumerate(missing) if k == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for m in succs[n]:
            missing[m] -= 1
            if missing[m] == 0:
                heapq.heappush(ready, m)
    if len(order) != len(operators):
        raise DelegateError("delegate partitioning produced a cycle (a partition is not convex)")
    return order


def _cut_out(sg: Subgraph, ops: list[Operator], inputs: list[int], outputs: list[int], delegate: Delegate,
             si: int, num_threads: int, index: int) -> Partition:
    """A standalone one-subgraph model holding ``ops`` (tensors renumbered)."""
    used: list[int] = list(inputs)
    seen = set(used)
    for op in ops:
        for t in (*op.inputs, *op.outputs, *op.intermediates):
            if t >= 0 and t not in seen:
                seen.add(t)
                used.append(t)
    local = {t: i for i, t in enumerate(used)}
    part = Subgraph(name=f"{sg.name or 'subgraph'}_delegate_{index}")
    part.tensors = [sg.tensors[t] for t in used]
    for op in ops:
        c = copy.copy(op)
        c.inputs = [local[t] if t >= 0 else t for t in op.inputs]
        c.outputs = [local[t] for t in op.outputs]
        c.intermediates = [local[t] for t in op.intermediates]
        c.extra = dict(op.extra)
        part.operators.append(c)
    part.inputs = [local[t] for t in inputs]
    part.outputs = [local[t] for t in outputs]
    model = Model(subgraphs=[part], description=f"edgelite partition {index} for {delegate.name}")
    return Partition(delegate=delegate, subgraph_index=si, node_indices=[], model=model,
                     input_tensors=list(inputs), output_tensors=list(outputs), tensor_map=used,
                     num_threads=num_threads, index=index)


class DelegateNodeKernel(Kernel):
    """The kernel of a DELEGATE node: the delegate's kernel for the node's partition.

    The executor caches kernels per input-shape combination, so a new kernel (and with it
    the delegate's, e.g. a new ONNX Runtime session) is made after resize_tensor_input.
    """

    op = DELEGATE_CODE

    def __init__(self, node):
        super().__init__(node)
        self.partition: Partition | None = node.op.extra.get("partition")
        if self.partition is None:
            raise KernelError(f"DELEGATE (node {node.index}): this node was not made by a delegate "
                              "(no partition attached)")
        self.impl: DelegateKernel | None = None
        self._dtypes: list[np.dtype] = []

    def prepare(self, inputs, outputs):
        self.impl = self.partition.delegate.create_kernel(self.partition)
        # inputs that are constant in the outer graph (e.g. weights edgelite densified or
        # dequantized at allocate, with the DENSIFY left outside the partition)
        self.impl.constant_inputs = {t: s.data for t, s in zip(self.partition.subgraph.inputs, inputs)
                                     if s is not None and s.data is not None}
        self._in_shapes = [tuple(s.shape) for s in inputs]
        shapes = self.impl.prepare(list(self._in_shapes))
        if len(shapes) != len(outputs):
            raise self.fail(f"delegate {self.partition.delegate.name!r} returned {len(shapes)} output "
                            f"shapes for {len(outputs)} outputs")
        self._dtypes = [o.dtype for o in outputs]
        return [None if s is None else tuple(int(d) for d in s) for s in shapes]

    def eval(self, inputs, outputs):
        # an input computed at run time may come as, say, shape (1,) for a prepared ():
        # the delegate gets exactly the shapes it was prepared for
        inputs = [a if a.shape == s else np.reshape(a, s) for a, s in zip(inputs, self._in_shapes)]
        results = self.impl.invoke(inputs)
        if len(results) != len(outputs):
            raise self.fail(f"delegate {self.partition.delegate.name!r} returned {len(results)} arrays "
                            f"for {len(outputs)} outputs")
        return [np.asarray(r, dtype=d) for r, d in zip(results, self._dtypes)]
