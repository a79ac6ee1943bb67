"""The orderings of libstdc++'s ``std::partial_sort`` and ``std::sort``, for tied scores.

The Task Library sorts (index, score) pairs by descending score with these unstable algorithms, so
categories with equal scores (frequent with uint8 outputs) come out in an order that only the
algorithm itself determines. Replaying the same steps (:mod:`edgelite.stl_algorithms`) gives the
same order as tflite-support. The comparison is ``less(a, b) = a.score > b.score``; items are
``(index, score)`` pairs.
"""
from __future__ import annotations

from typing import List, Tuple

from ... import stl_algorithms

Pair = Tuple[int, float]


def _less(a: Pair, b: Pair) -> bool:
    return a[1] > b[1]


def partial_sort(v: List[Pair], first: int, middle: int, last: int) -> None:
    """``std::partial_sort(first, middle, last)`` in place (heap select, then heap sort)."""
    stl_algorithms.partial_sort(v, first, middle, last, _less)


def sort(v: List[Pair]) -> None:
    """``std::sort`` in place (introsort, then the final insertion sort)."""
    stl_algorithms.sort(v, _less)
