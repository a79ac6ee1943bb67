"""The ``ethos-u`` custom op: a Vela-compiled Arm Ethos-U NPU command stream.

Vela replaces the part of a model it can offload with one ``ethos-u`` node whose inputs
are the NPU command stream, its weights and scratch memory; only an Ethos-U NPU (through
TFLite Micro's Ethos-U kernel and driver) executes it. Neither LiteRT nor TFLM's host
interpreter can run it, and neither can edgelite. This registry entry exists so that such
a model is refused with a message saying what the op is and what to use instead, rather
than as an unknown custom op: the refusal happens when the registry resolves the node
(the interpreter's construction), because the node's scratch tensors have no producer and
so its prepare would only be reached at invoke.
"""
from __future__ import annotations

from .base import Kernel, KernelError, register


def _needs_npu(node) -> KernelError:
    return KernelError(
        f"{node.op.name} (node {node.index}): this custom op is an Arm Ethos-U NPU command stream "
        "compiled by Vela; it needs an Ethos-U NPU (TFLite Micro's ethos-u kernel with the NPU "
        "driver) and cannot run on a CPU. Run the model as it was before Vela compiled it instead")


def _refuse(node) -> bool:
    raise _needs_npu(node)


@register("ethos-u", kind="any", when=_refuse)
class EthosUCommandStream(Kernel):
    """Never prepared: resolving the node raises (see the module docstring)."""

    def prepare(self, inputs, outputs):
        raise _needs_npu(self.node)

    def eval(self, inputs, outputs):
        raise _needs_npu(self.node)
