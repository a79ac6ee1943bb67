"""Loads numba and the compiled functions on a fast kernel's first use.

* numba's threading layer is set to ``workqueue`` (its own, always available: workers
  wait on a condition variable, they do not spin) unless the user chose one with
  ``NUMBA_THREADING_LAYER``; its thread count is added to what ``num_threads`` sets
  (:mod:`edgelite.kernels.thread_pools`), clamped to numba's pool size.
* the ``parallel=True`` twins run only with ``EDGELITE_FAST_PARALLEL=1``
  (:func:`parallel_twins_enabled`); by default ``num_threads`` parallelises BLAS only.
* parallel regions are launched one at a time (:data:`PARALLEL_LOCK`): interpreters
  running in several threads take turns for their compiled loops.
* numba's warnings (a cache directory that is not writable, ...) are silenced while the
  functions load and compile: the first use prints nothing.
"""
from __future__ import annotations

import os
import threading
import warnings
from types import ModuleType

from ..thread_pools import add_thread_control, requested_threads

_module: ModuleType | None = None
_get_num_threads = None  # numba.get_num_threads, once loaded
_lock = threading.Lock()

# numba's workqueue layer aborts the process when two threads launch parallel regions at the
# same time: every call of a parallel function holds this lock (other threads wait passively).
PARALLEL_LOCK = threading.Lock()


_family_modules: dict[str, ModuleType] = {}


def compiled_module(name: str) -> ModuleType:
    """Another module of compiled functions (``edgelite.kernels.fast.<name>``, e.g.
    ``_compiled_recurrent``), imported once, after numba is set up as for ``_compiled``;
    op families keep their numba code in their own module."""
    module = _family_modules.get(name)
    if module is None:
        compiled()
        with _lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import importlib
            module = _family_modules[name] = importlib.import_module(f"{__package__}.{name}")
    return module


def run_from(module_name: str, kernel, name: str, *args, parallel: bool = True) -> None:
    """:func:`run` for a function of :func:`compiled_module` ``module_name``."""
    _run(lambda: compiled_module(module_name), kernel, module_name + "." + name, name, args, parallel)


def compiled() -> ModuleType:
    """The module of compiled functions (``_compiled``), imported once."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import numba
                if "NUMBA_THREADING_LAYER" not in os.environ:
                    numba.config.THREADING_LAYER = "workqueue"
                from . import _compiled
            pool = int(numba.config.NUMBA_NUM_THREADS)

            def set_threads(n: int) -> None:
                numba.set_num_threads(max(1, min(int(n), pool)))
            add_thread_control(numba.get_num_threads, set_threads)
            global _get_num_threads
            _get_num_threads = numba.get_num_threads
            requested = requested_threads()
            if requested is not None:  # loaded inside an invoke: its thread count from now on
                set_threads(requested)
            _module = _compiled
    return _module


def run(kernel, name: str, *args, parallel: bool = True) -> None:
    """Call compiled function ``name`` for ``kernel``, or its twin ``name_parallel`` when
    ``parallel``, :func:`parallel_twins_enabled` and numba's thread count is above 1 (under :data:`PARALLEL_LOCK`). Each
    function's first call for a kernel (which may import numba, load the cache or compile)
    runs quietly."""
    _run(compiled, kernel, name, name, args, parallel)


def _run(module, kernel, cache_key: str, name: str, args: tuple, parallel: bool) -> None:
    fns = kernel.__dict__.get("_compiled_fns")
    if fns is None:
        fns = kernel._compiled_fns = {}
    wide = parallel and parallel_twins_enabled() and _numba_threads() > 1
    key = cache_key + "_parallel" if wide else cache_key
    fn = fns.get(key)
    if fn is None:
        fn = getattr(module(), name + "_parallel" if wide else name)
        if wide:
            with PARALLEL_LOCK:
                call_quietly(fn, *args)
        else:
            call_quietly(fn, *args)
        fns[key] = fn
        return
    if wide:
        with PARALLEL_LOCK:
            fn(*args)
    else:
        fn(*args)


def parallel_twins_enabled() -> bool:
    """Whether the ``parallel=True`` twins run when ``num_threads`` > 1: only with
    ``EDGELITE_FAST_PARALLEL=1``. By default ``num_threads`` goes to BLAS alone and the
    compiled loops run serial: on the 2-core reference machine a workqueue launch cost more
    than it saved on every zoo CNN (mobilenet_v2_int8 at 2 threads: 10.8-14.5 ms with serial
    loops, 14.7-22.5 ms with parallel ones, 21.5-22.9 ms with BLAS on one thread and the
    loops parallel), and the BLAS pool is then the one parallel layer."""
    return os.environ.get("EDGELITE_FAST_PARALLEL", "").strip() == "1"


def _numba_threads() -> int:
    """numba's thread count for this thread (numba is imported by then or imported here)."""
    compiled()
    return _get_num_threads()


def call_quietly(fn, *args):
    """``fn(*args)`` with warnings silenced: for a kernel's first call, when numba compiles
    or loads from its cache (later calls go straight to ``fn``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)
