"""One small lowering function per ONNX op type, registered with :func:`lowers`.

A lowering receives the :class:`~edgelite.convert.context.Context` and the
:class:`~edgelite.convert.onnx_import.Node`, emits TFLite builtin ops and
registers the node's outputs (``ctx.output`` / ``ctx.alias``). It raises
``Unsupported`` with a reason when the node cannot be expressed.
"""
from __future__ import annotations

from collections.abc import Callable

LOWERINGS: dict[str, Callable] = {}


def lowers(*op_types: str):
    def deco(fn):
        for t in op_types:
            LOWERINGS[t] = fn
        return fn
    return deco


from . import (  # noqa: F401  (registration)
    attention,
    bitwise,
    composite,
    elementwise,
    grid_sample,
    integer_ops,
    losses,
    misc,
    llm,
    nn,
    quantize,
    reduce,
    rnn,
    selection,
    shape_ops,
    signal,
    spatial,
)
