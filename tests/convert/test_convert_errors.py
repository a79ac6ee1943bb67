"""How from_onnx reports what it cannot convert: one clean ConversionError naming the input or the
node and its op type, no follow-up noise, and converter bugs that still say which node they hit."""
import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from edgelite import ConversionError  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402
from edgelite.convert.lowering import LOWERINGS  # noqa: E402

from .onnx_builders import make_model  # noqa: E402


def test_sequence_input_is_a_clean_error_naming_the_input():
    seq = helper.make_tensor_sequence_value_info("s", TensorProto.FLOAT, [2])
    graph = helper.make_graph([helper.make_node("Identity", ["s"], ["y"], name="id")], "g", [seq],
                              [helper.make_tensor_sequence_value_info("y", TensorProto.FLOAT, [2])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    assert ei.value.problems == ["input 's': not a tensor of a known element type"]


def test_an_input_of_unsupported_type_is_reported_once():
    # the Relu after it is not reported again as "value not produced by any converted node"
    m = make_model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                   [("x", [2], TensorProto.BFLOAT16)], [("y", [2], TensorProto.BFLOAT16)])
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    assert len(ei.value.problems) == 1
    assert "input 'x'" in ei.value.problems[0] and "bfloat16" in ei.value.problems[0]


def test_conv_transpose_bias_from_a_graph_input_needs_a_constant():
    w = np.ones((2, 3, 3, 3), np.float32)
    m = make_model([helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="deconv")],
                   [("x", [1, 2, 4, 4], None), ("b", [3], None)], [("y", [1, 3, 6, 6], None)], [("w", w)])
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    assert ei.value.needs_constant == ["b"]
    assert "node 'deconv' (ConvTranspose)" in ei.value.problems[0]
    assert "ConvTranspose bias" in ei.value.problems[0]
    model = from_onnx(m, bind_inputs={"b": np.arange(3, dtype=np.float32)})
    assert "TRANSPOSE_CONV" in model.op_histogram()
    bias_consts = [t.data for t in model.main.tensors if t.data is not None and t.data.shape == (3,)]
    assert any(np.array_equal(d, [0, 1, 2]) for d in bias_consts)


@pytest.mark.parametrize("op,inputs,attrs", [
    ("Einsum", ["x", "x"], {"equation": "ij,jk->ik"}),
    ("Hardmax", ["x"], {}),
    ("Softmax", ["x"], {}),
])
def test_float_only_ops_name_the_op_and_the_type(op, inputs, attrs):
    m = make_model([helper.make_node(op, inputs, ["y"], name="n", **attrs)],
                   [("x", [2, 2], TensorProto.INT32)], [("y", None, TensorProto.INT32)])
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    assert ei.value.problems == [f"node 'n' ({op}): {op} on int32"]


def test_a_converter_bug_says_which_node_it_hit(monkeypatch):
    def broken(ctx, node):
        raise KeyError("oops")
    monkeypatch.setitem(LOWERINGS, "Relu", broken)
    m = make_model([helper.make_node("Relu", ["x"], ["y"], name="r1")], [("x", [2], None)], [("y", [2], None)])
    with pytest.raises(ConversionError, match=r"node 'r1' \(Relu\): internal converter error KeyError") as ei:
        from_onnx(m)
    assert isinstance(ei.value.__cause__, KeyError)  # the bug itself stays visible (docs/reliability.md)
    if sys.version_info >= (3, 11):  # exception notes
        assert any("node 'r1' (Relu)" in n for n in getattr(ei.value.__cause__, "__notes__", []))


def test_an_unsupported_op_type_after_a_failed_node_is_still_reported():
    nodes = [helper.make_node("RandomNormalLike", ["x"], ["nz"], name="nz"),
             helper.make_node("Relu", ["nz"], ["r"], name="after_nz"),
             helper.make_node("Bernoulli", ["r"], ["y"], name="bern")]
    m = make_model(nodes, [("x", [2, 2], None)], [("y", None, None)])
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    probs = ei.value.problems
    assert len(probs) == 2, probs  # the Relu between them is not a problem of its own
    assert probs[0].startswith("node 'nz' (RandomNormalLike)")
    assert probs[1] == "node 'bern' (Bernoulli): unsupported op type 'Bernoulli'"
