"""The invoke loop of a subgraph and the per-node calls it runs.

``allocate`` turns every node that runs at invoke into one entry of a call list,
``(node index, run, stores)``, where ``run`` takes no arguments:

* a node whose input and output buffers are all fixed after allocate runs its
  kernel's :meth:`~edgelite.kernels.base.Kernel.bind` function when the kernel
  offers one (the numpy calls of its ``eval`` with the views, reshapes and
  broadcast operands it needs made once, for these very arrays), otherwise
  ``functools.partial(kernel.eval, inputs, outputs)``;
* every other node (deferred to invoke, or an output left to eval) runs
  :func:`run_node`, which looks its buffers up and prepares it when needed.

A kernel's ``bind`` is used only if the class that defines it is the class that
defines ``eval`` or a subclass of it: a subclass that overrides ``eval`` is never
bypassed by a ``bind`` it inherited (:func:`bound_call`).

The loop checks the cancellation token between nodes and runs the whole subgraph
under ``np.errstate(all="ignore")`` (LiteRT's float kernels let infinities and NaNs
through silently; entering the state once per invoke instead of once per node
saves about 1 us per elementwise node). A bound function's return value is ignored
(``stores`` False: a ufunc returns its ``out``); what ``eval`` returns is handled
as ever: ``None``, or arrays to copy into the planned outputs (:func:`store_returned`). Nodes whose output shares its input's memory (see
:mod:`edgelite.runtime.tensor_buffers`) and nodes folded at allocate are not in
the list.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np

from ..errors import ModelError, ResourceError
from ..kernels.base import Kernel, KernelError

# What a kernel raises when a hostile or broken model trips it up without a KernelError
# (an IndexError on a missing input, a ValueError from numpy...): prepare, allocate and
# invoke turn these into a KernelError naming the node, its __cause__ the original
# (docs/reliability.md: every bad model gives a typed edgelite error).
KERNEL_FAILURES = (IndexError, KeyError, ValueError, TypeError, OverflowError, ZeroDivisionError,
                   FloatingPointError, AttributeError, AssertionError, RecursionError, np.linalg.LinAlgError)


def kernel_failure(where: str, e: BaseException) -> KernelError:
    return KernelError(f"{where} failed: {type(e).__name__}: {e}")


class OpTiming(NamedTuple):
    """One profiled node execution."""

    node_index: int
    op_name: str
    seconds: float
    subgraph_index: int = 0


class Placed(NamedTuple):
    """A node as allocate left it: its prepared kernel (None: prepared at invoke) and, when all
    its input and output buffers are fixed (``static_io``), those arrays."""

    kernel: object
    static_io: bool
    ins: list | None
    outs: list | None


_BINDERS: dict[type, Callable | None] = {}


def _binder(cls: type) -> Callable | None:
    """``cls.bind`` if it may stand in for ``cls.eval`` (see the module docstring), else None."""
    try:
        return _BINDERS[cls]
    except KeyError:
        pass
    bind_owner = eval_owner = None
    for c in cls.__mro__:
        if bind_owner is None and "bind" in c.__dict__:
            bind_owner = c
        if eval_owner is None and "eval" in c.__dict__:
            eval_owner = c
    fn = None
    if bind_owner is not None and bind_owner is not Kernel and eval_owner is not None \
            and issubclass(bind_owner, eval_owner):
        fn = bind_owner.__dict__["bind"]
    _BINDERS[cls] = fn
    return fn


def bound_call(kernel, ins: list, outs: list) -> tuple[Callable[[], object], bool]:
    """The function of no arguments that runs ``kernel`` on these fixed arrays, and whether
    what it returns is to be stored (``eval``'s results are, ``bind``'s are not)."""
    bind = _binder(type(kernel))
    if bind is not None:
        run = bind(kernel, ins, outs)
        if run is not None:
            return run, False
    return partial(kernel.eval, ins, outs), True


def build_calls(ex, placed: list[Placed | None], skipped: set[int]) -> list[tuple[int, Callable, bool]]:
    """The invoke loop's calls for executor ``ex``: every placed node not in ``skipped``."""
    calls = []
    for n, p in enumerate(placed):
        if p is None or n in skipped:
            continue
        if p.static_io:
            calls.append((n, *bound_call(p.kernel, p.ins, p.outs)))
        else:
            calls.append((n, partial(run_node, ex, n, p), False))
    return calls


def run_calls(ex) -> None:
    """Run executor ``ex``'s call list once (profiled when the runtime has a profiler and this
    is the top-level subgraph); kernel failures become typed errors naming the node."""
    runtime = ex.runtime
    profiler = runtime.profiler if runtime.depth == 0 else None
    token = runtime.cancel_token
    index = ex.index
    n = -1
    try:
        with np.errstate(all="ignore"):
            if profiler is None:
                for n, run, stores in ex._calls:
                    if token.stop:  # Interpreter.cancel() / invoke(timeout=...): see runtime/cancel.py
                        token.raise_cancelled(f"subgraph {index} node {n}")
                    ret = run()
                    if stores and ret is not None:
                        store_returned(ex, n, ret, ex._placed[n].outs)
                return
            clock = time.perf_counter
            for n, run, stores in ex._calls:  # one timing per node
                if token.stop:
                    token.raise_cancelled(f"subgraph {index} node {n}")
                t0 = clock()
                ret = run()
                if stores and ret is not None:
                    store_returned(ex, n, ret, ex._placed[n].outs)
                profiler(OpTiming(n, ex.nodes[n].op.name, clock() - t0, index))
    except KERNEL_FAILURES as e:
        if isinstance(e, ModelError):
            raise
        op_name = ex.nodes[n].op.name if 0 <= n < len(ex.nodes) else "?"
        raise kernel_failure(f"{op_name} (node {n}) of subgraph {index}: eval", e) from e
    except MemoryError as e:  # an allocation inside a kernel that no budget check foresaw
        op_name = ex.nodes[n].op.name if 0 <= n < len(ex.nodes) else "?"
        raise ResourceError(f"{op_name} (node {n}) of subgraph {index} ran out of memory: "
                            f"{str(e) or 'MemoryError'}", 0, runtime.budget.limit) from e


def run_node(ex, n: int, placed: Placed) -> None:
    """Run node ``n`` of executor ``ex`` whose buffers are not all fixed: its inputs looked up
    now, prepared now (cached per shape) if allocate could not, dynamic outputs made by eval."""
    op = ex.nodes[n].op
    bufs = ex.buffers
    ins = [bufs[t] if t >= 0 else None for t in op.inputs]
    for t, a in zip(op.inputs, ins):
        if t >= 0 and a is None:
            raise KernelError(f"{op.name} (node {n}): input tensor {t} "
                              f"({ex.subgraph.tensors[t].name!r}) has no value")
    kernel = placed.kernel
    if kernel is None:  # deferred: prepare for the actual input shapes
        in_specs = [ex._spec(t, a.shape) if t >= 0 else None for t, a in zip(op.inputs, ins)]
        out_specs = [ex._spec(t, ex.subgraph.tensors[t].shape) for t in op.outputs]
        kernel, shapes = ex._kernel_for(n, in_specs, out_specs)
        check = ex.runtime.budget.check_array
        for t, shape in zip(op.outputs, shapes):
            if shape is not None:
                check(shape, ex._dtypes[t], lambda t=t: ex._describe(t, f"{op.name} (node {n}) output"))
        outs = [None if shape is None else np.empty(shape, ex._base_spec(t).dtype)
                for t, shape in zip(op.outputs, shapes)]
        for t, o in zip(op.outputs, outs):
            bufs[t] = o
    else:  # prepared at allocate; outputs it called dynamic are made by eval
        outs = [bufs[t] if t in ex.shapes else None for t in op.outputs]
    ret = kernel.eval(ins, outs)
    if ret is not None:
        store_returned(ex, n, ret, outs)


def store_returned(ex, n: int, ret: list, outs: list) -> None:
    """Keep the arrays a kernel's eval returned for node ``n``: copied into the planned output
    buffers, or (dynamic outputs) kept as the tensors' buffers, cast to their types."""
    op = ex.nodes[n].op
    if len(ret) != len(op.outputs):
        raise KernelError(f"{op.name} (node {n}): eval returned {len(ret)} arrays for "
                          f"{len(op.outputs)} outputs")
    for t, r, o in zip(op.outputs, ret, outs):
        if r is None or r is o:
            continue
        r = np.asarray(r)
        if o is not None:
            if r.shape != o.shape:
                raise KernelError(f"{op.name} (node {n}): output {t} ({ex.subgraph.tensors[t].name!r}) "
                                  f"has shape {list(r.shape)}, prepare said {list(o.shape)}")
            np.copyto(o, r, casting="unsafe")
            continue
        dtype = ex._base_spec(t).dtype
        if r.dtype != dtype:
            r = r.astype(dtype)
        elif ex.arena is not None and np.may_share_memory(r, ex.arena):
            r = r.copy()  # a view of a planned buffer that may be reused later in this run
        ex.buffers[t] = r
