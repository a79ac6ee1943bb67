"""The orderings of libstdc++'s ``std::partial_sort`` and ``std::sort`` on tied keys.

Both algorithms are unstable: items that compare equal come out in an order only the algorithm's
steps decide. LiteRT's TFLite_Detection_PostProcess (``DecreasingPartialArgSort``) and the Task
Library's classification post-processing sort with them, so edgelite replays the same steps:
``partial_sort`` is libstdc++'s heap select then heap sort (``__make_heap``, ``__adjust_heap``,
``__push_heap``, ``__pop_heap``), ``sort`` its introsort (median of three, unguarded partition,
depth limit ``2 * floor(log2(n))`` falling back to the heap sort) followed by the insertion sort
of runs of 16.

Every function sorts the list ``v`` in place with ``less(a, b)``, the comparator the C++ passes
(``less(a, b)`` true when ``a`` goes before ``b``).
"""
from __future__ import annotations

from typing import Any, Callable, List

Less = Callable[[Any, Any], bool]
_THRESHOLD = 16  # libstdc++'s _S_threshold


def _push_heap(v: List[Any], first: int, hole: int, top: int, value: Any, less: Less) -> None:
    parent = (hole - 1) // 2
    while hole > top and less(v[first + parent], value):
        v[first + hole] = v[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole] = value


def _adjust_heap(v: List[Any], first: int, hole: int, length: int, value: Any, less: Less) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(v[first + child], v[first + child - 1]):
            child -= 1
        v[first + hole] = v[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[first + hole] = v[first + child - 1]
        hole = child - 1
    _push_heap(v, first, hole, top, value, less)


def _make_heap(v: List[Any], first: int, last: int, less: Less) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(v, first, parent, length, v[first + parent], less)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(v: List[Any], first: int, last: int, result: int, less: Less) -> None:
    value = v[result]
    v[result] = v[first]
    _adjust_heap(v, first, 0, last - first, value, less)


def partial_sort(v: List[Any], first: int, middle: int, last: int, less: Less) -> None:
    """``std::partial_sort(first, middle, last, less)`` in place (heap select, then heap sort)."""
    _make_heap(v, first, middle, less)
    for i in range(middle, last):
        if less(v[i], v[first]):
            _pop_heap(v, first, middle, i, less)
    while middle - first > 1:
        middle -= 1
        _pop_heap(v, first, middle, middle, less)


def _move_median_to_first(v: List[Any], result: int, a: int, b: int, c: int, less: Less) -> None:
    if less(v[a], v[b]):
        if less(v[b], v[c]):
            pick = b
        elif less(v[a], v[c]):
            pick = c
        else:
            pick = a
    elif less(v[a], v[c]):
        pick = a
    elif less(v[b], v[c]):
        pick = c
    else:
        pick = b
    v[result], v[pick] = v[pick], v[result]


def _unguarded_partition(v: List[Any], first: int, last: int, pivot: int, less: Less) -> int:
    while True:
        while less(v[first], v[pivot]):
            first += 1
        last -= 1
        while less(v[pivot], v[last]):
            last -= 1
        if not first < last:
            return first
        v[first], v[last] = v[last], v[first]
        first += 1


def _introsort_loop(v: List[Any], first: int, last: int, depth: int, less: Less) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:
            partial_sort(v, first, last, last, less)
            return
        depth -= 1
        mid = first + (last - first) // 2
        _move_median_to_first(v, first, first + 1, mid, last - 1, less)
        cut = _unguarded_partition(v, first + 1, last, first, less)
        _introsort_loop(v, cut, last, depth, less)
        last = cut


def _unguarded_linear_insert(v: List[Any], last: int, less: Less) -> None:
    value = v[last]
    prev = last - 1
    while less(value, v[prev]):
        v[last] = v[prev]
        last = prev
        prev -= 1
    v[last] = value


def _insertion_sort(v: List[Any], first: int, last: int, less: Less) -> None:
    for i in range(first + 1, last):
        if less(v[i], v[first]):
            value = v[i]
            v[first + 1:i + 1] = v[first:i]
            v[first] = value
        else:
            _unguarded_linear_insert(v, i, less)


def sort(v: List[Any], less: Less) -> None:
    """``std::sort(v.begin(), v.end(), less)`` in place (introsort, then the insertion sort)."""
    n = len(v)
    if n == 0:
        return
    _introsort_loop(v, 0, n, (n.bit_length() - 1) * 2, less)
    if n > _THRESHOLD:
        _insertion_sort(v, 0, _THRESHOLD, less)
        for i in range(_THRESHOLD, n):
            _unguarded_linear_insert(v, i, less)
    else:
        _insertion_sort(v, 0, n, less)
