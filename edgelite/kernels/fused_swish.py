"""8-bit swish, ``MUL(x, LOGISTIC(x))``, as one table lookup (EfficientNet's activation).

With 8-bit tensors LOGISTIC is a function of the input byte, and MUL of its two input
bytes, so their composition is a function of ``x``'s byte alone: 256 values (two tables
when LiteRT's int8 MUL treats its SIMD lanes differently from its scalar tail, see
``QuantizedMul``). Composing the two exact tables keeps the result bit-identical to
running both ops, and replaces a 256-entry lookup plus a 65536-entry pair lookup (with
its index arithmetic) by one 256-entry lookup.

The pair is fused only when nothing else can see the LOGISTIC's output: the MUL is its
only reader, it is not a subgraph output, and the interpreter does not preserve every
tensor (``experimental_preserve_all_tensors``). Both kernels are chosen by the registry
(``when`` predicates, one graph analysis per lookup pass): :class:`FusedSwishMul`
computes the MUL from ``x`` and :class:`SkippedLogistic` does no work. The pairing is worked
out once per interpreter (``Runtime.graph_analysis``), not once per kernel.
"""
from __future__ import annotations

import numpy as np

from .base import Node, op_data_kind, register
from .quantized_activations import QuantizedLogistic
from .quantized_elementwise import QuantizedMul


def _swish_pairs(sg, preserving: bool) -> dict[int, tuple[int, int]]:
    """{MUL op index: (LOGISTIC op index, position of the LOGISTIC output among the MUL's inputs)}."""
    if preserving:
        return {}
    ops = sg.operators
    producer: dict[int, int] = {}
    readers: dict[int, int] = {}
    for j, op in enumerate(ops):
        for t in op.outputs:
            producer[t] = j
        for t in op.inputs:
            if t >= 0:
                readers[t] = readers.get(t, 0) + 1
    outputs = set(sg.outputs)
    pairs = {}
    for j, op in enumerate(ops):
        if op.opcode != "MUL" or len(op.inputs) != 2 or op_data_kind(op, sg) != "int8":
            continue
        for pos in (0, 1):
            s, x = op.inputs[pos], op.inputs[1 - pos]
            k = producer.get(s)
            if k is None or ops[k].opcode != "LOGISTIC" or ops[k].inputs[:1] != [x] or s in outputs \
                    or readers.get(s) != 1 or op_data_kind(ops[k], sg) != "int8":
                continue
            if all(sg.tensors[t].numpy_dtype.itemsize == 1 for t in (x, s, op.outputs[0])):
                pairs[j] = (k, pos)
                break
    return pairs


def _pairs_of(node) -> dict[int, tuple[int, int]]:
    runtime = node.runtime
    if runtime is None:  # a lone kernel (tests): no graph to fuse in
        return {}
    sg = node.subgraph
    return runtime.graph_analysis(("swish_pairs", id(sg)),
                                  lambda: _swish_pairs(sg, bool(runtime.preserve_all_tensors)))


def _is_fused_mul(node) -> bool:
    return node.op.opcode == "MUL" and node.index in _pairs_of(node)


def _is_fused_logistic(node) -> bool:
    if node.op.opcode != "LOGISTIC" or node.runtime is None:
        return False
    fused = node.runtime.graph_analysis(("swish_logistics", id(node.subgraph)),
                                        lambda: {k for k, _ in _pairs_of(node).values()})
    return node.index in fused


@register("LOGISTIC", kind="int8", priority=5, when=_is_fused_logistic)
class SkippedLogistic(QuantizedLogistic):
    """The LOGISTIC of a fused swish: prepared (shapes checked) but computed by the MUL."""

    def eval(self, inputs, outputs):
        return None


@register("MUL", kind="int8", priority=5, when=_is_fused_mul)
class FusedSwishMul(QuantizedMul):
    """``MUL(x, LOGISTIC(x))`` through one 256-entry table of ``x``'s byte (see module docstring)."""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        k, self.gate_position = _pairs_of(self.node)[self.node.index]
        x, gate = inputs[1 - self.gate_position], inputs[self.gate_position]
        if tuple(x.shape) != tuple(shapes[0]):
            raise self.fail(f"swish input of shape {list(x.shape)} but output {list(shapes[0])}")
        sg = self.node.subgraph  # the LOGISTIC's own kernel gives its table
        self.logistic = QuantizedLogistic(Node(op=sg.operators[k], index=k, subgraph=sg, runtime=self.node.runtime))
        self.logistic.prepare([x], [gate])
        self._composed = None
        return shapes

    def composed_tables(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(scalar-path, SIMD-path) results indexed by ``x``'s byte."""
        if self._composed is None:
            x_bytes = np.arange(256, dtype=np.int64)
            gate_bytes = self.logistic.table().view(np.uint8).astype(np.int64)
            index = (gate_bytes * 256 + x_bytes) if self.gate_position == 0 else (x_bytes * 256 + gate_bytes)
            self._composed = tuple(None if t is None else t[index] for t in self.pair_tables())
        return self._composed

    def eval(self, inputs, outputs):
        x = np.ascontiguousarray(inputs[1 - self.gate_position]).view(np.uint8)
        return self.lookup(x, *self.composed_tables(), outputs[0])
