"""The orderings of libstdc++'s ``std::partial_sort`` and ``std::sort``, for tied scores.

The Task Library sorts (index, score) pairs by descending score with these unstable algorithms, so
categories with equal scores (frequent with uint8 outputs) come out in an order that only the
algorithm itself determines. Replaying the same steps gives the same order as tflite-support.
The comparison is ``less(a, b) = a.score > b.score``; items are ``(index, score)`` pairs.
"""
from __future__ import annotations

from typing import List, Tuple

Pair = Tuple[int, float]


def _less(a: Pair, b: Pair) -> bool:
    return a[1] > b[1]


def _push_heap(v: List[Pair], first: int, hole: int, top: int, value: Pair) -> None:
    parent = (hole - 1) // 2
    while hole > top and _less(v[first + parent], value):
        v[first + hole] = v[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole] = value


def _adjust_heap(v: List[Pair], first: int, hole: int, length: int, value: Pair) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _less(v[first + child], v[first + child - 1]):
            child -= 1
        v[first + hole] = v[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[first + hole] = v[first + child - 1]
        hole = child - 1
    _push_heap(v, first, hole, top, value)


def _make_heap(v: List[Pair], first: int, last: int) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(v, first, parent, length, v[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(v: List[Pair], first: int, last: int, result: int) -> None:
    value = v[result]
    v[result] = v[first]
    _adjust_heap(v, first, 0, last - first, value)


def partial_sort(v: List[Pair], first: int, middle: int, last: int) -> None:
    """``std::partial_sort(first, middle, last)`` in place (heap select, then heap sort)."""
    _make_heap(v, first, middle)
    for i in range(middle, last):
        if _less(v[i], v[first]):
            _pop_heap(v, first, middle, i)
    while middle - first > 1:
        middle -= 1
        _pop_heap(v, first, middle, middle)


def _move_median_to_first(v: List[Pair], result: int, a: int, b: int, c: int) -> None:
    if _less(v[a], v[b]):
        if _less(v[b], v[c]):
            pick = b
        elif _less(v[a], v[c]):
            pick = c
        else:
            pick = a
    elif _less(v[a], v[c]):
        pick = a
    elif _less(v[b], v[c]):
        pick = c
    else:
        pick = b
    v[result], v[pick] = v[pick], v[result]


def _unguarded_partition(v: List[Pair], first: int, last: int, pivot: int) -> int:
    while True:
        while _less(v[first], v[pivot]):
            first += 1
        last -= 1
        while _less(v[pivot], v[last]):
            last -= 1
        if not first < last:
            return first
        v[first], v[last] = v[last], v[first]
        first += 1


def _introsort_loop(v: List[Pair], first: int, last: int, depth: int) -> None:
    while last - first > 16:
        if depth == 0:
            partial_sort(v, first, last, last)
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(v, first, first + 1, mid, last - 1)
        cut = _unguarded_partition(v, first + 1, last, first)
        _introsort_loop(v, cut, last, depth)
        last = cut


def _unguarded_linear_insert(v: List[Pair], last: int) -> None:
    value = v[last]
    prev = last - 1
    while _less(value, v[prev]):
        v[last] = v[prev]
        last = prev
        prev -= 1
    v[last] = value


def _insertion_sort(v: List[Pair], first: int, last: int) -> None:
    for i in range(first + 1, last):
        if _less(v[i], v[first]):
            value = v[i]
            v[first + 1:i + 1] = v[first:i]
            v[first] = value
        else:
            _unguarded_linear_insert(v, i)


def sort(v: List[Pair]) -> None:
    """``std::sort`` in place (introsort, then the final insertion sort)."""
    n = len(v)
    if n == 0:
        return
    _introsort_loop(v, 0, n, (n.bit_length() - 1) * 2)
    if n > 16:
        _insertion_sort(v, 0, 16)
        for i in range(16, n):
            _unguarded_linear_insert(v, i)
    else:
        _insertion_sort(v, 0, n)
