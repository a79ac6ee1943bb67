"""The op resolver: the one place that decides which kernel class runs a node.

As in LiteRT, an interpreter owns an :class:`OpResolver`. Resolution goes through, in order:

1. the interpreter's own custom ops (``Interpreter(custom_op_registerers=...)``,
   :meth:`OpResolver.add_custom`), keyed by custom code;
2. the global kernel registry (:mod:`edgelite.kernels.base`): the reference kernels, faster
   tiers registered at a higher priority, and the custom-op packs shipped with edgelite.

Registry entries can depend on the resolver's settings through their ``when(node)``
predicates: ``node.runtime.resolver`` is this object, so a kernel variant that implements
another engine's arithmetic (``numerics="tflm"``) registers with
``when=lambda node: resolver_of(node).numerics == "tflm"``. The executor never branches on
these settings itself.
"""
from __future__ import annotations

from typing import Iterable

from .base import lookup_all

NUMERICS = ("litert", "tflm")


class OpResolver:
    """Chooses a kernel class for every node of an interpreter's graphs."""

    def __init__(self, numerics: str = "litert", custom_ops: dict[str, type] | None = None):
        if numerics not in NUMERICS:
            raise ValueError(f"numerics must be one of {', '.join(NUMERICS)}, not {numerics!r}")
        self.numerics = numerics
        self.custom_ops: dict[str, type] = dict(custom_ops or {})

    def add_custom(self, name: str, kernel_class: type) -> None:
        """Run ops whose custom code is ``name`` with ``kernel_class`` in this interpreter only."""
        self.custom_ops[str(name)] = kernel_class

    def lookup_all(self, nodes: Iterable) -> list[type | None]:
        """The kernel class for each node (None where nothing can run it)."""
        nodes = list(nodes)
        classes = lookup_all(nodes)
        if self.custom_ops:
            for i, node in enumerate(nodes):
                own = self.custom_ops.get(node.op.name) if node.op.opcode == "CUSTOM" else None
                if own is not None:
                    classes[i] = own
        if self.numerics == "tflm":  # ops TFLite Micro lacks fail at allocate, naming the op
            from .tflm.missing import tflm_classes
            classes = tflm_classes(nodes, classes)
        return classes


DEFAULT_RESOLVER = OpResolver()


def resolver_of(node) -> OpResolver:
    """The resolver of the interpreter running ``node`` (the default one outside an interpreter)."""
    runtime = getattr(node, "runtime", None)
    return getattr(runtime, "resolver", None) or DEFAULT_RESOLVER
