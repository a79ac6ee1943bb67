"""Kernel.require_io: the shared arity check of kernel prepares."""
import numpy as np
import pytest

from edgelite.ir import Operator, Subgraph
from edgelite.kernels import Kernel, KernelError, TensorSpec
from edgelite.kernels.base import Node


def _kernel():
    op = Operator("CONV_3D", [0, 1, -1], [2])
    return Kernel(Node(op=op, index=4, subgraph=Subgraph()))


SPEC = TensorSpec(0, "t", (1,), np.dtype(np.float32))


@pytest.mark.parametrize("inputs,outputs", [([SPEC, SPEC], [SPEC]), ([SPEC, SPEC, None], [SPEC]),
                                            ([SPEC, SPEC, SPEC], [SPEC])])
def test_accepts_required_and_optional_inputs(inputs, outputs):
    _kernel().require_io(inputs, outputs, "input, filter[, bias]", 2, optional=1)


@pytest.mark.parametrize("inputs,outputs", [([SPEC], [SPEC]), ([SPEC, None], [SPEC]),
                                            ([SPEC, SPEC, SPEC, SPEC], [SPEC]), ([SPEC, SPEC], []),
                                            ([SPEC, SPEC], [SPEC, SPEC])])
def test_refuses_with_the_op_node_and_expected_inputs(inputs, outputs):
    with pytest.raises(KernelError, match=r"CONV_3D \(node 4\): needs inputs \(input, filter\[, bias\]\) "
                                          r"and one output"):
        _kernel().require_io(inputs, outputs, "input, filter[, bias]", 2, optional=1)
