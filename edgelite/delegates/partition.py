"""Graph partitioning for delegates: maximal connected, convex sets of supported nodes.

Given the nodes of one subgraph that a delegate supports, :func:`partition_nodes` groups
them into partitions, each of which will run as one delegate kernel:

* a partition is **connected**: its nodes are linked by tensors produced inside it;
* a partition is **convex**: no path leaves it and comes back into it. Replacing a
  non-convex set by one node would create a cycle (the node would need, as an input,
  a tensor computed from one of its own outputs);
* partitions are grown greedily in the model's (topological) node order: a supported
  node joins the partitions of its supported producers whenever the union stays convex,
  otherwise it starts a new one. Groups are merged through a node only, never because
  they read the same graph input;
* partitions with fewer than ``min_size`` nodes are dropped (their nodes stay on edgelite).

Convexity is checked exactly, with reachability over the node DAG: a set ``G`` is
convex iff no node outside ``G`` is both reachable from ``G`` and reaching ``G``.
The graphs are small (hundreds of nodes), so the check is a pair of set walks.
"""
from __future__ import annotations

from typing import Iterable, Sequence


def node_edges(operators: Sequence) -> tuple[list[set[int]], list[set[int]]]:
    """(predecessors, successors) of each node, through the tensors they produce and read."""
    producer: dict[int, int] = {}
    for n, op in enumerate(operators):
        for t in op.outputs:
            if t >= 0:
                producer[t] = n
    preds: list[set[int]] = [set() for _ in operators]
    succs: list[set[int]] = [set() for _ in operators]
    for n, op in enumerate(operators):
        for t in op.inputs:
            p = producer.get(t)
            if p is not None and p != n:
                preds[n].add(p)
                succs[p].add(n)
    return preds, succs


def _reach(start: Iterable[int], edges: list[set[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(start)
    while stack:
        n = stack.pop()
        for m in edges[n]:
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return seen


def is_convex(group: set[int], preds: list[set[int]], succs: list[set[int]]) -> bool:
    """True if no path leaves ``group`` and re-enters it."""
    below = _reach(group, succs) - group
    if not below:
        return True
    above = _reach(group, preds) - group
    return not (below & above)


def partition_nodes(operators: Sequence, supported: Iterable[int], min_size: int = 1) -> list[list[int]]:
    """Partitions (sorted node lists, in order of their first node) of the ``supported`` nodes."""
    supported = set(supported)
    preds, succs = node_edges(operators)
    group_of: dict[int, int] = {}
    groups: dict[int, set[int]] = {}
    next_id = 0
    for n in range(len(operators)):
        if n not in supported:
            continue
        merged: set[int] = {n}
        members: list[int] = []
        for g in sorted({group_of[p] for p in preds[n] if p in group_of}):
            candidate = merged | groups[g]
            if is_convex(candidate, preds, succs):
                merged = candidate
                members.append(g)
        gid = members[0] if members else next_id
        if not members:
            next_id += 1
        for g in members:
            groups.pop(g)
        groups[gid] = merged
        for m in merged:
            group_of[m] = gid
    result = [sorted(g) for g in groups.values() if len(g) >= max(1, int(min_size))]
    return sorted(result, key=lambda g: g[0])
