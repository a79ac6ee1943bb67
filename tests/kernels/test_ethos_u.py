"""A Vela-compiled ``ethos-u`` node is refused with a message naming the op and the NPU it needs."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.errors import ModelError
from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType


def vela_like_model() -> bytes:
    sg = Subgraph(name="main")
    stream = sg.add_constant("_split_1_command_stream", np.arange(16, dtype=np.uint8))
    flash = sg.add_constant("_split_1_flash", np.zeros(32, np.uint8))
    scratch = sg.add_tensor("_split_1_scratch", (64,), TensorType.UINT8)
    x = sg.add_tensor("input", (1, 4, 4, 1), TensorType.INT8)
    y = sg.add_tensor("output", (1, 2), TensorType.INT8)
    sg.add_operator("CUSTOM", [stream, flash, scratch, x], [y], custom_code="ethos-u", custom_options=b"")
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


def test_ethos_u_node_is_refused_naming_the_npu():
    with pytest.raises(ModelError, match=r"ethos-u \(node 0\): .*needs an Ethos-U NPU"):
        it = Interpreter(model_content=vela_like_model())
        it.allocate_tensors()
        it.invoke()
