"""A zero-element tensor with no buffer data that no node produces (how converters store an
empty shape vector) is a constant: LiteRT allocates it, so must we."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType


def reshape_to_scalar_model() -> bytes:
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 1), TensorType.FLOAT32)
    shape = sg.add_tensor("empty_shape", (0,), TensorType.INT32)  # no data: an empty buffer
    y = sg.add_tensor("y", (), TensorType.FLOAT32)
    sg.add_operator("RESHAPE", [x, shape], [y])
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


def _run(interpreter_class, content):
    it = interpreter_class(model_content=content)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.array([[2.5]], np.float32))
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_reshape_to_scalar_through_empty_shape_tensor():
    out = _run(Interpreter, reshape_to_scalar_model())
    assert out.shape == () and float(out) == 2.5


def test_same_as_litert():
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    content = reshape_to_scalar_model()
    ref = _run(litert.Interpreter, content)
    got = _run(Interpreter, content)
    assert ref.shape == got.shape and np.array_equal(ref, got)
