"""Memory budgets: refuse an allocation a model asks for *before* making it.

A .tflite file of a few hundred bytes can declare a tensor of 400 GB. numpy then raises
a bare ``MemoryError`` or, worse, the operating system kills the process once the pages
are touched. Every allocation whose size comes from the model (the activation arena,
variable and string buffers, constants expanded at allocate such as DEQUANTIZE of float16
weights or DENSIFY, outputs whose shapes are known only at invoke, and the converter's
constant folding) first asks a :class:`MemoryBudget`; going over raises
:class:`edgelite.ResourceError` naming what asked and how much.

The budget accounts for *held* memory (the arenas of the subgraphs, folded constants,
variables), keyed so that re-planning an arena replaces its old reservation, and checks
transient allocations (an output made at invoke) against what is left. Model weights
already loaded are not counted: they exist before any interpreter does.

The default limit is half of the memory available when the budget is made
(``MemAvailable`` on Linux; the physical memory elsewhere; 8 GiB when neither is
known), capped by the process's address-space limit when one is set.
"""
from __future__ import annotations

import math
import os

import numpy as np

from ..errors import ResourceError

DEFAULT_FRACTION = 0.5
FALLBACK_BYTES = 8 << 30


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now, or None when it cannot be told."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_limit() -> int:
    """The default budget: half of the available memory, within the address-space limit."""
    available = available_memory()
    limit = int(available * DEFAULT_FRACTION) if available else FALLBACK_BYTES
    try:
        import resource
        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            limit = min(limit, int(soft * DEFAULT_FRACTION))
    except (ImportError, ValueError, OSError):
        pass
    return max(limit, 1 << 20)


def format_bytes(n: int) -> str:
    """``n`` bytes in a unit people read (``1.5 GB``); exact below 1 kB."""
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # pragma: no cover - the loop always returns


def nbytes_of(shape, dtype) -> int:
    """Bytes a dense array of ``shape`` and ``dtype`` takes (object arrays: one pointer each).
    Negative dimensions count as 0 (numpy refuses them anyway)."""
    count = math.prod(max(int(d), 0) for d in shape)
    return count * np.dtype(dtype).itemsize


class MemoryBudget:
    """How much memory one interpreter (or one conversion) may allocate for a model's tensors.

    ``limit`` None means :func:`default_limit`; ``0`` or a negative value is refused.
    """

    def __init__(self, limit: int | None = None):
        if limit is None:
            limit = default_limit()
        elif isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
            raise TypeError(f"max_memory_bytes must be an int or None, not {type(limit).__name__}")
        elif limit <= 0:
            raise ValueError(f"max_memory_bytes must be positive, not {limit}")
        self.limit = int(limit)
        self._held: dict[object, int] = {}
        self._total = 0

    @property
    def held(self) -> int:
        """Bytes reserved now (arenas, expanded constants, variables)."""
        return self._total

    def _refuse(self, what: str, nbytes: int, available: int, detail: str = "") -> ResourceError:
        left = "" if available >= self.limit else f" ({format_bytes(max(available, 0))} of it left)"
        return ResourceError(f"{what}: {format_bytes(nbytes)}{detail} exceeds the memory budget of "
                             f"{format_bytes(self.limit)}{left}; pass a larger max_memory_bytes to the "
                             "Interpreter if this model really needs it", nbytes, self.limit)

    def reserve(self, key, nbytes: int, what: str, detail: str = "") -> None:
        """Hold ``nbytes`` under ``key`` (replacing what ``key`` held before), or raise
        :class:`ResourceError` without changing anything."""
        nbytes = int(nbytes)
        before = self._held.get(key, 0)
        available = self.limit - (self._total - before)
        if nbytes > available:
            raise self._refuse(what, nbytes, available, detail)
        self._held[key] = nbytes
        self._total += nbytes - before

    def fits(self, key, nbytes: int) -> bool:
        """Whether :meth:`reserve` of ``nbytes`` under ``key`` would succeed."""
        return int(nbytes) <= self.limit - (self._total - self._held.get(key, 0))

    def release(self, key) -> None:
        self._total -= self._held.pop(key, 0)

    def check(self, nbytes: int, what: str, detail: str = "") -> None:
        """Raise :class:`ResourceError` if a transient allocation of ``nbytes`` does not fit in
        what the held reservations leave."""
        available = self.limit - self._total
        if nbytes > available:
            raise self._refuse(what, int(nbytes), available, detail)

    def check_array(self, shape, dtype, what) -> None:
        """:meth:`check` for an array of ``shape`` and ``dtype``, the shape in the message.
        ``what`` may be a function making the description (called only on failure)."""
        nbytes = nbytes_of(shape, dtype)
        if nbytes > self.limit - self._total:
            dims = ", ".join(str(int(d)) for d in shape)
            self.check(nbytes, what() if callable(what) else what, f" (shape [{dims}], {np.dtype(dtype).name})")


def budget_of(node) -> MemoryBudget | None:
    """The budget of the interpreter running ``node`` (None outside an interpreter): kernels
    whose outputs take a size read from their input *values* (FILL, BROADCAST_TO...) call
    :func:`check_output` with it before allocating."""
    runtime = getattr(node, "runtime", None)
    return getattr(runtime, "budget", None)


def check_output(node, shape, dtype, index: int = 0) -> None:
    """Refuse (ResourceError) an output of ``shape``/``dtype`` for ``node`` that the budget cannot hold."""
    budget = budget_of(node)
    if budget is None:
        return
    if nbytes_of(shape, dtype) > budget.limit - budget.held:
        op = node.op
        t = op.outputs[index] if index < len(op.outputs) else -1
        name = node.subgraph.tensors[t].name if 0 <= t < len(node.subgraph.tensors) else "?"
        budget.check_array(shape, dtype, f"{op.name} (node {node.index}) output {index}, tensor {t} ({name!r})")
