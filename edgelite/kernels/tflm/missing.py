"""Ops TFLite Micro lacks: with ``numerics="tflm"`` they fail at allocate, naming the op."""
from __future__ import annotations

from ..base import Kernel
from .ops import tflm_has_op


class TFLMMissingOp(Kernel):
    """Stands in for an op TFLM has no kernel for; ``prepare`` raises a KernelError."""

    def prepare(self, inputs, outputs):
        name = self.op_desc.name
        raise self.fail(f"TFLite Micro has no kernel for {name}, so a model with it cannot run on "
                        f"a microcontroller (numerics='tflm'); use numerics='litert' or replace the op")

    def eval(self, inputs, outputs):  # never reached: prepare refuses
        raise self.fail("TFLite Micro has no kernel for this op")


def tflm_classes(nodes: list, classes: list) -> list:
    """``classes`` with :class:`TFLMMissingOp` for every node whose op TFLM lacks."""
    return [cls if tflm_has_op(node.op.name) else TFLMMissingOp for node, cls in zip(nodes, classes)]
