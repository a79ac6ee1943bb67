"""Thread pools besides BLAS that kernels use, so that ``num_threads`` reaches them too.

The interpreter sets the BLAS thread count around every invoke; a kernel tier with a
pool of its own (the compiled tier's numba workers) adds its ``(get, set)`` pair here
when it first loads, and from then on every invoke sets both to ``num_threads``; a pool
loading during an invoke reads that invoke's count from :func:`requested_threads`.
"""
from __future__ import annotations

import threading
from typing import Callable

_requested = threading.local()

EXTRA_THREAD_CONTROLS: list[tuple[Callable[[], int], Callable[[int], object]]] = []


def add_thread_control(get: Callable[[], int], set_: Callable[[int], object]) -> None:
    """Have ``num_threads`` set this pool too (idempotent per pair of functions)."""
    if all(get is not g for g, _ in EXTRA_THREAD_CONTROLS):
        EXTRA_THREAD_CONTROLS.append((get, set_))


def requested_threads() -> int | None:
    """The ``num_threads`` of the invoke running in this thread (None outside one): a pool
    that loads in the middle of an invoke starts with it."""
    return getattr(_requested, "count", None)


def set_requested_threads(count: int | None) -> int | None:
    """Record this thread's invoke thread count; returns the previous one (to restore)."""
    before = getattr(_requested, "count", None)
    _requested.count = count
    return before
