"""Offset assignment: TFLM's GreedyMemoryPlanner, and edgelite's search for smaller plans.

:func:`tflm_greedy` replays ``GreedyMemoryPlanner::CalculateOffsetsIfNeeded``: offline-planned
buffers keep their offsets; the others, largest first (a stable sort over the reversed
``AddBuffer`` order, as TFLM's bubble sort does), go to the lowest offset where they fit between
the buffers already placed whose lifetimes overlap theirs (lifetimes are inclusive: an op's
input and output always overlap).

:func:`best_offsets` tries several orders with the same first-fit placement and keeps the
smallest peak; when it meets the lower bound (the largest total of buffers live at one time) it
is optimal. Small problems are searched exhaustively over placement orders (branch and bound).
"""
from __future__ import annotations

import itertools
from typing import Sequence


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return not (a[0] > b[1] or b[0] > a[1])


def first_fit(order: Sequence[int], sizes: Sequence[int], spans: Sequence[tuple[int, int]],
              fixed: dict[int, int] | None = None) -> list[int]:
    """Offsets placing ``order`` one by one at the lowest offset free over its lifetime."""
    offsets = [-1] * len(sizes)
    placed: list[int] = []  # kept sorted by offset
    for b, off in (fixed or {}).items():
        offsets[b] = off
        placed.append(b)
    placed.sort(key=lambda b: offsets[b])
    for b in order:
        if offsets[b] >= 0:
            continue
        candidate = 0
        for other in placed:  # ascending offsets, like TFLM's linked list
            if not _overlap(spans[b], spans[other]):
                continue
            if offsets[other] - candidate >= sizes[b]:
                break
            candidate = max(candidate, offsets[other] + sizes[other])
        offsets[b] = candidate
        # insert keeping offset order (after entries with the same offset, like TFLM)
        pos = len(placed)
        for k, other in enumerate(placed):
            if offsets[other] > candidate:
                pos = k
                break
        placed.insert(pos, b)
    return offsets


def peak(offsets: Sequence[int], sizes: Sequence[int]) -> int:
    return max((o + s for o, s in zip(offsets, sizes)), default=0)


def tflm_greedy(sizes: Sequence[int], spans: Sequence[tuple[int, int]],
                fixed: dict[int, int] | None = None) -> list[int]:
    """TFLM's greedy offsets for buffers given in ``AddBuffer`` order (``fixed``: offline ones)."""
    fixed = fixed or {}
    online = [b for b in range(len(sizes)) if b not in fixed]
    tail_order = list(reversed(online))  # TFLM fills its sort array from the tail
    ordered = sorted(tail_order, key=lambda b: -sizes[b])  # stable, as its bubble sort
    offline_first = [b for b in range(len(sizes)) if b in fixed]
    return first_fit(offline_first + ordered, sizes, spans, fixed)


def lower_bound(sizes: Sequence[int], spans: Sequence[tuple[int, int]]) -> int:
    """The largest sum of sizes of buffers alive at one scope."""
    times = sorted({t for s in spans for t in s})
    return max((sum(sz for sz, sp in zip(sizes, spans) if sp[0] <= t <= sp[1]) for t in times), default=0)


def _orders(sizes, spans) -> list[list[int]]:
    idx = list(range(len(sizes)))
    keys = [
        lambda b: (-sizes[b], spans[b][0]),
        lambda b: (-(spans[b][1] - spans[b][0] + 1) * sizes[b], -sizes[b]),
        lambda b: (spans[b][0], -sizes[b]),
        lambda b: (-(spans[b][1] - spans[b][0]), -sizes[b]),
        lambda b: (-sizes[b], -(spans[b][1] - spans[b][0])),
        lambda b: (-sizes[b], -spans[b][0]),
    ]
    return [sorted(idx, key=k) for k in keys]


def best_offsets(sizes: Sequence[int], spans: Sequence[tuple[int, int]], exhaustive_up_to: int = 8,
                 extra_orders: Sequence[Sequence[int]] = ()) -> list[int]:
    """The smallest first-fit plan over several placement orders (all orders for tiny problems)."""
    n = len(sizes)
    if n == 0:
        return []
    bound = lower_bound(sizes, spans)
    best: list[int] | None = None
    candidates = list(extra_orders) + _orders(sizes, spans)
    if n <= exhaustive_up_to:
        candidates = itertools.chain(candidates, itertools.permutations(range(n)))
    for order in candidates:
        offsets = first_fit(list(order), sizes, spans)
        if best is None or peak(offsets, sizes) < peak(best, sizes):
            best = offsets
            if peak(best, sizes) <= bound:
                break
    return best


def place_groups(groups: Sequence[Sequence[tuple[int, int]]], sizes: Sequence[int],
                 spans: Sequence[tuple[int, int]], order: Sequence[int]) -> list[int]:
    """First fit of groups of buffers with fixed relative offsets (``groups[g]``: (buffer,
    relative offset) pairs); a group goes to the lowest base where none of its members meets a
    placed buffer alive at the same time. Returns every buffer's offset."""
    offsets = [-1] * len(sizes)
    placed: list[int] = []
    for g in order:
        members = groups[g]
        low = -min(rel for _, rel in members)
        conflicts = [(m, rel, q) for m, rel in members for q in placed if _overlap(spans[m], spans[q])]
        bases = sorted({low} | {offsets[q] + sizes[q] - rel for m, rel, q in conflicts
                                if offsets[q] + sizes[q] - rel >= low})
        for base in bases:
            if all(base + rel + sizes[m] <= offsets[q] or offsets[q] + sizes[q] <= base + rel
                   for m, rel, q in conflicts):
                break
        for m, rel in members:
            offsets[m] = base + rel
            placed.append(m)
    return offsets


def best_group_offsets(groups: Sequence[Sequence[tuple[int, int]]], sizes: Sequence[int],
                       spans: Sequence[tuple[int, int]]) -> list[int]:
    """The smallest :func:`place_groups` plan over several group orders."""
    if not groups:
        return []
    gsize = [max(rel + sizes[m] for m, rel in g) - min(rel for _, rel in g) for g in groups]
    gfirst = [min(spans[m][0] for m, _ in g) for g in groups]
    glast = [max(spans[m][1] for m, _ in g) for g in groups]
    idx = list(range(len(groups)))
    keys = [lambda g: (-gsize[g], gfirst[g]), lambda g: (-gsize[g] * (glast[g] - gfirst[g] + 1), -gsize[g]),
            lambda g: (gfirst[g], -gsize[g]), lambda g: (-(glast[g] - gfirst[g]), -gsize[g]),
            lambda g: (-gsize[g], -gfirst[g])]
    best = None
    for key in keys:
        offsets = place_groups(groups, sizes, spans, sorted(idx, key=key))
        if best is None or peak(offsets, sizes) < peak(best, sizes):
            best = offsets
    return best
