"""Greedy arena planning by tensor lifetime (as TFLite Micro's GreedyMemoryPlanner).

Every activation tensor of a subgraph with a static shape becomes a
:class:`BufferRequest`: a size in bytes and the closed interval of node indices
``[first, last]`` during which its contents must survive. Two tensors whose
intervals overlap must not overlap in memory; two that are never alive at the
same time may share bytes.

Algorithm: take the requests from the largest to the smallest (ties: the
longest-lived first, then by index, so the plan is deterministic). For each,
collect the already placed requests whose lifetime overlaps it, sorted by
offset, and put it in the first gap between them (scanning from offset 0)
that is large enough; otherwise after the last of them. Offsets are aligned
to ``alignment`` bytes. The arena's size is the highest end offset.

Finding the placed requests that overlap ``[first, last]`` in time does not scan
them all: a placed interval overlaps it exactly when it is alive at step
``first`` or starts in ``(first, last]``, and the planner indexes placed
requests by both (``alive_at[step]``, ``starting_at[step]``). The two groups are
disjoint, so no deduplication is needed, and for the short lifetimes of real
graphs each lookup touches a handful of entries instead of every tensor.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class BufferRequest(NamedTuple):
    """One tensor to place: ``size`` bytes alive from node ``first`` to node ``last`` (inclusive)."""

    key: int  # the tensor index (any hashable id)
    size: int
    first: int
    last: int

    def overlaps_in_time(self, other: "BufferRequest") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class ArenaPlan:
    """The result: ``offsets[key]`` in bytes, and the arena's total ``size``."""

    offsets: dict
    size: int
    requested: int  # sum of all request sizes (what no reuse would cost)


def _align(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


def _compact_steps(requests: list[BufferRequest]) -> dict[int, int]:
    """Rank of every lifetime endpoint: overlap only compares endpoints, so ranks keep it
    while bounding the step index by the number of requests (for sparse, large step numbers)."""
    points = sorted({r.first for r in requests} | {r.last for r in requests})
    return {p: i for i, p in enumerate(points)}


def plan_arena(requests: list[BufferRequest], alignment: int = 64) -> ArenaPlan:
    """Place every request in one arena so that no two live-at-once requests overlap."""
    horizon = 0
    for r in requests:
        if r.size < 0 or r.first > r.last or r.first < 0:
            raise ValueError(f"bad buffer request {r}: size must be >= 0 and 0 <= first <= last")
        if r.last >= horizon:
            horizon = r.last + 1
    order = sorted(requests, key=_placement_order)
    steps = _compact_steps(requests) if horizon > 4 * len(requests) + 64 else None
    if steps is not None:
        horizon = len(steps)
    alive_at: list[list[tuple[int, int]]] = [[] for _ in range(horizon)]  # (offset, end) by step
    starting_at: list[list[tuple[int, int]]] = [[] for _ in range(horizon)]
    offsets: dict = {}
    total = requested = 0
    mask = alignment - 1
    for key, size, first, last in order:
        requested += size
        size = ((size or 1) + mask) // alignment * alignment
        if steps is not None:
            first, last = steps[first], steps[last]
        if first == last:
            busy = sorted(alive_at[first])
        else:
            busy = list(alive_at[first])
            for step in range(first + 1, last + 1):
                if starting_at[step]:
                    busy += starting_at[step]
            busy.sort()
        offset = 0
        for off, end in busy:
            if offset + size <= off:
                break  # fits in the gap before this one
            if end > offset:
                offset = end  # ends are aligned: offsets and sizes are
        offsets[key] = offset
        placed = (offset, offset + size)
        starting_at[first].append(placed)
        if first == last:
            alive_at[first].append(placed)
        else:
            for step in range(first, last + 1):
                alive_at[step].append(placed)
        if placed[1] > total:
            total = placed[1]
    return ArenaPlan(offsets=offsets, size=total, requested=requested)


def _placement_order(r: BufferRequest) -> tuple:
    """Largest first, then the longest-lived, then by key (as text: keys of any type compare)."""
    return (-r.size, r.first - r.last, str(r.key))


def check_plan(requests: list[BufferRequest], plan: ArenaPlan) -> None:
    """Raise AssertionError if two requests alive at the same time overlap in the arena."""
    for i, a in enumerate(requests):
        a0 = plan.offsets[a.key]
        assert a0 + a.size <= plan.size, f"{a} ends past the arena"
        for b in requests[i + 1:]:
            if a.overlaps_in_time(b) and a.size and b.size:
                b0 = plan.offsets[b.key]
                assert a0 + a.size <= b0 or b0 + b.size <= a0, f"{a} and {b} overlap"
