"""Control-flow kernels: IF, WHILE, CALL_ONCE and CALL run other subgraphs of the model.

They use the interpreter's runtime (``node.runtime``, see edgelite.runtime.executor.Runtime):
``prepare_subgraph(index, input_specs) -> output shapes`` and
``run_subgraph(index, arrays) -> output arrays`` (views into the callee's buffers, so
they are copied before the callee runs again).

Output shapes are static when the callees' are: IF when both branches give the
same static shapes for the given inputs, WHILE when the body maps the input
shapes to themselves. Otherwise the outputs are dynamic (shape known at run time).
"""
from __future__ import annotations

import numpy as np

from .base import Kernel, register


class _SubgraphCaller(Kernel):
    def runtime(self):
        rt = self.node.runtime
        if rt is None:
            raise self.fail("needs an interpreter runtime to run subgraphs (run it with edgelite.Interpreter)")
        return rt

    def _check_arity(self, index: int, n_in: int, n_out: int | None) -> None:
        sg = self.runtime().model.subgraphs[index]
        if len(sg.inputs) != n_in:
            raise self.fail(f"subgraph {index} takes {len(sg.inputs)} inputs, the op passes {n_in}")
        if n_out is not None and len(sg.outputs) != n_out:
            raise self.fail(f"subgraph {index} has {len(sg.outputs)} outputs, the op has {n_out}")

    def _subgraph_index(self, key: str) -> int:
        index = self.options.get(key)
        n = len(self.runtime().model.subgraphs)
        if index is None or not 0 <= int(index) < n:
            raise self.fail(f"{key} {index} is not a subgraph index (0..{n - 1})")
        return int(index)

    @staticmethod
    def _deliver(results: list[np.ndarray], outputs: list) -> list | None:
        """Copy callee results into preallocated outputs, or return copies for dynamic ones."""
        if all(o is not None for o in outputs):
            for o, r in zip(outputs, results):
                if o.shape != r.shape:
                    return [np.array(r, copy=True) for r in results]
                np.copyto(o, r)
            return None
        return [np.array(r, copy=True) for r in results]


@register("IF", kind="any")
class If(_SubgraphCaller):
    """outputs = then_subgraph(*inputs[1:]) if inputs[0] else else_subgraph(*inputs[1:])."""

    def prepare(self, inputs, outputs):
        if not inputs or inputs[0] is None:
            raise self.fail("needs a condition input")
        if inputs[0].size != 1:
            raise self.fail(f"condition must have one element, has shape {list(inputs[0].shape)}")
        self.then_index = self._subgraph_index("then_subgraph_index")
        self.else_index = self._subgraph_index("else_subgraph_index")
        args = inputs[1:]
        shapes = []
        for index in (self.then_index, self.else_index):
            self._check_arity(index, len(args), len(outputs))
            shapes.append(self.runtime().prepare_subgraph(index, args))
        if shapes[0] == shapes[1]:
            return shapes[0]
        return [a if a == b else None for a, b in zip(*shapes)]

    def eval(self, inputs, outputs):
        branch = self.then_index if bool(np.asarray(inputs[0]).reshape(-1)[0]) else self.else_index
        results = self.runtime().run_subgraph(branch, list(inputs[1:]))
        return self._deliver(results, outputs)


@register("WHILE", kind="any")
class While(_SubgraphCaller):
    """values = inputs; while cond(*values): values = body(*values); outputs = values."""

    def prepare(self, inputs, outputs):
        self.cond_index = self._subgraph_index("cond_subgraph_index")
        self.body_index = self._subgraph_index("body_subgraph_index")
        if len(inputs) != len(outputs):
            raise self.fail(f"has {len(inputs)} inputs but {len(outputs)} outputs; they must match")
        self._check_arity(self.cond_index, len(inputs), 1)
        self._check_arity(self.body_index, len(inputs), len(outputs))
        rt = self.runtime()
        rt.prepare_subgraph(self.cond_index, inputs)
        body_shapes = rt.prepare_subgraph(self.body_index, inputs)
        return [s.shape if b == s.shape else None for s, b in zip(inputs, body_shapes)]

    def eval(self, inputs, outputs):
        rt = self.runtime()
        values = list(inputs)
        token = getattr(rt, "cancel_token", None)  # cancel()/timeout/max_loop_iterations (runtime/cancel.py)
        iterations = 0
        while True:
            cond = rt.run_subgraph(self.cond_index, values)[0]
            if not bool(np.asarray(cond).reshape(-1)[0]):
                break
            if token is not None:
                token.check_loop(iterations, self.node.index)
            iterations += 1
            values = [np.array(r, copy=True) for r in rt.run_subgraph(self.body_index, values)]
        return self._deliver(values, outputs)


@register("CALL_ONCE", kind="any")
class CallOnce(_SubgraphCaller):
    """Runs init_subgraph_index the first time it executes in this interpreter (variable initialisation)."""

    def prepare(self, inputs, outputs):
        self.init_index = self._subgraph_index("init_subgraph_index")
        self._check_arity(self.init_index, 0, 0)
        return []

    def eval(self, inputs, outputs):
        rt = self.runtime()
        if self.init_index not in rt.call_once_done:
            rt.run_subgraph(self.init_index, [])
            rt.call_once_done.add(self.init_index)
        return None


@register("CALL", kind="any")
class Call(_SubgraphCaller):
    """outputs = subgraph(*inputs)."""

    def prepare(self, inputs, outputs):
        self.index = self._subgraph_index("subgraph")
        self._check_arity(self.index, len(inputs), len(outputs))
        return self.runtime().prepare_subgraph(self.index, inputs)

    def eval(self, inputs, outputs):
        return self._deliver(self.runtime().run_subgraph(self.index, list(inputs)), outputs)
