"""IR editing helpers keep what the caller gave them."""
import numpy as np
import pytest

from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType


@pytest.mark.parametrize("value,shape", [(np.float32(3.5), ()), (np.arange(6, dtype=np.int32).reshape(2, 3), (2, 3)),
                                         (np.arange(12, dtype=np.float32).reshape(3, 4).T, (4, 3))])
def test_add_constant_keeps_shape_and_values(value, shape):
    sg = Subgraph(name="main")
    t = sg.add_constant("c", value)
    tensor = sg.tensors[t]
    assert tuple(tensor.shape) == shape and tensor.data.shape == shape
    assert tensor.data.flags.c_contiguous
    np.testing.assert_array_equal(tensor.data, value)


def test_scalar_constant_round_trips():
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (2,), TensorType.FLOAT32)
    c = sg.add_constant("two", np.float32(2.0))
    y = sg.add_tensor("y", (2,), TensorType.FLOAT32)
    sg.add_operator("MUL", [x, c], [y])
    sg.inputs, sg.outputs = [x], [y]
    from edgelite import Interpreter, load_model
    content = Model(subgraphs=[sg]).to_bytes()
    assert tuple(load_model(content).main.tensors[c].shape) == ()
    it = Interpreter(model_content=content)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.array([1.5, -2], np.float32))
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), [3.0, -4.0])
