"""The state shared by all subgraphs of one interpreter: :class:`Runtime`.

It is what kernels see as ``node.runtime``: it creates the subgraph executors
(:class:`~edgelite.runtime.executor.SubgraphExecutor`) lazily, runs a subgraph for
control-flow ops (``run_subgraph``, ``prepare_subgraph``), holds resource variables
(``variables``, keyed by container/shared name, shared by all signatures) and the
CALL_ONCE record, holds the per-op profiler, the memory budget and the cancellation
token, and lends kernels ``scratch`` buffers shared by all layers for data that lives
only during one eval (padded inputs, im2col).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..ir import Model
from ..kernels.base import KernelError, TensorSpec, data_kind
from ..kernels.resolver import OpResolver
from .budget import MemoryBudget
from .cancel import CancelToken
from .executor import SubgraphExecutor, UnsupportedOpsError
from .node_calls import OpTiming


class Runtime:
    """The state shared by all subgraphs of one interpreter (``node.runtime`` for kernels)."""

    def __init__(self, model: Model, preserve_all_tensors: bool = False, resolver: OpResolver | None = None,
                 budget: MemoryBudget | None = None, cancel_token: CancelToken | None = None):
        self.model = model
        self.resolver = resolver or OpResolver()
        self.budget = budget or MemoryBudget()  # runtime/budget.py: checked before model-sized allocations
        self.cancel_token = cancel_token or CancelToken()  # runtime/cancel.py: read between nodes
        self.preserve_all_tensors = preserve_all_tensors
        self.executors: list[SubgraphExecutor | None] = [None] * len(model.subgraphs)
        self.variables: dict[str, np.ndarray] = {}  # resource variables (VAR_HANDLE keys)
        self.hashtables: dict[str, object] = {}  # HASHTABLE resources (kernels/hashtable.py)
        self.call_once_done: set[int] = set()
        self.profiler: Callable[[OpTiming], None] | None = None
        self.depth = 0  # nesting of subgraph calls (the profiler sees depth 0 only)
        self._checked = False
        self._scratch: list[np.ndarray] = []
        self._analyses: dict = {}

    def graph_analysis(self, key, compute: Callable[[], object]):
        """``compute()``, once per ``key`` for this runtime: whole-graph facts that several kernels'
        ``when`` predicates and prepares share (which LOGISTIC feeds which MUL, say). Like the
        executors' nodes and kernel choices, it assumes the model is not edited while it runs."""
        if key not in self._analyses:
            self._analyses[key] = compute()
        return self._analyses[key]

    def scratch(self, slot: int, nbytes: int) -> np.ndarray:
        """A uint8 work buffer of ``nbytes``, one per ``slot``, shared by all kernels of this runtime.

        For data that lives only during one kernel's eval (a padded input, an im2col matrix):
        the next kernel asking for the same slot overwrites it, so a kernel fetches it anew in
        every eval and must not run a subgraph while holding it. Sharing keeps one such buffer
        resident instead of one per layer. The buffer grows (reallocated) as needed.
        """
        bufs = self._scratch
        while len(bufs) <= slot:
            bufs.append(np.empty(0, np.uint8))
        if bufs[slot].size < nbytes:
            budget = getattr(self, "budget", None)  # (tests build bare runtimes with __new__)
            if budget is not None:
                budget.reserve(("scratch", slot), nbytes, f"scratch buffer {slot} (a kernel's work memory)")
            bufs[slot] = np.empty(nbytes, np.uint8)
        return bufs[slot][:nbytes]

    # -- subgraphs --------------------------------------------------------------
    def executor(self, index: int) -> SubgraphExecutor:
        if not 0 <= index < len(self.executors):
            raise KernelError(f"subgraph index {index} out of range (0..{len(self.executors) - 1})")
        ex = self.executors[index]
        if ex is None:
            ex = self.executors[index] = SubgraphExecutor(self, index)
        return ex

    def check_supported(self) -> None:
        """Raise :class:`UnsupportedOpsError` listing every node without a kernel, in all subgraphs."""
        if self._checked:
            return
        missing = []
        for si in range(len(self.model.subgraphs)):
            ex = self.executor(si)
            for node, cls in zip(ex.nodes, ex.kernel_classes):
                if cls is None:
                    missing.append((si, node.index, node.op.name, data_kind(node)))
        if missing:
            raise UnsupportedOpsError(missing)
        self._checked = True

    def prepare_subgraph(self, index: int, inputs: list[TensorSpec | None]) -> list[tuple | None]:
        """Allocate subgraph ``index`` for these input shapes; return its output shapes (None = dynamic)."""
        ex = self.executor(index)
        ex.set_input_shapes([s.shape for s in inputs])
        ex.allocate()
        return [ex.static_shape(t) for t in ex.subgraph.outputs]

    def run_subgraph(self, index: int, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Run subgraph ``index`` on ``arrays``; returns its outputs (views: copy before the next call)."""
        ex = self.executor(index)
        if ex.running:
            raise KernelError(f"subgraph {index} called recursively; edgelite does not support recursion")
        ex.set_input_shapes([np.shape(a) for a in arrays])
        ex.allocate()
        for k, (t, a) in enumerate(zip(ex.subgraph.inputs, arrays)):
            ex.write_input(t, a, f"input {k} of subgraph {index}")
        self.depth += 1
        try:
            ex.invoke()
        finally:
            self.depth -= 1
        return [ex.buffers[t] for t in ex.subgraph.outputs]

    # -- state ------------------------------------------------------------------
    def reset_variable_tensors(self) -> None:
        for ex in self.executors:
            if ex is not None:
                ex.reset_variable_tensors()
