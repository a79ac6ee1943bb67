"""from_onnx ignores opset imports of domains that no node uses (onnxruntime's quant_pre_process
leaves such imports), and still refuses nodes of unknown domains."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper  # noqa: E402

import edgelite  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402


def _model(node_domain="", extra_imports=(("com.microsoft", 1), ("ai.onnx.ml", 3), ("my.private", 7))):
    node = helper.make_node("Relu", ["x"], ["y"], domain=node_domain)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [1, 4])],
                              [helper.make_tensor_value_info("y", 1, [1, 4])])
    imports = [helper.make_opsetid("", 13)] + [helper.make_opsetid(d, v) for d, v in extra_imports]
    m = helper.make_model(graph, opset_imports=imports)
    m.ir_version = 8
    return m


def test_unused_domains_are_ignored():
    model = from_onnx(_model())
    it = edgelite.Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    x = np.array([[-1, 2, -3, 4]], np.float32)
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), np.maximum(x, 0))


def test_a_used_unknown_domain_is_still_refused():
    with pytest.raises(edgelite.ConversionError, match="my.private"):
        from_onnx(_model(node_domain="my.private"))
