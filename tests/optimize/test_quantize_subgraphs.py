"""dynamic and float16 quantization reach weights outside subgraph 0 (a WHILE body here),
and the result runs the same in edgelite and LiteRT."""
import numpy as np
import pytest
from helpers import assert_outputs_match, run_model

from edgelite.ir import Model, Subgraph
from edgelite.optimize import quantize
from edgelite.schema import TensorType

F32 = TensorType.FLOAT32
WIDTH = 64


def loop_of_dense_layers(seed: int = 0) -> Model:
    """x -> FC(main weights) -> [while i < n: x = tanh(FC(x, body weights)); i += 1] -> y."""
    rng = np.random.default_rng(seed)

    def weights():
        return (rng.standard_normal((WIDTH, WIDTH)) / 8).astype(np.float32)

    main = Subgraph(name="main")
    x = main.add_tensor("x", (1, WIDTH), F32)
    n = main.add_tensor("n", (), TensorType.INT32)
    h = main.add_tensor("h", (1, WIDTH), F32)
    main.add_operator("FULLY_CONNECTED", [x, main.add_constant("w_main", weights()), -1], [h],
                      {"fused_activation_function": 0, "keep_num_dims": False})
    zero = main.add_constant("zero", np.array(0, np.int32))
    outs = [main.add_tensor("i_out", (), TensorType.INT32), main.add_tensor("y", (1, WIDTH), F32),
            main.add_tensor("n_out", (), TensorType.INT32)]
    main.add_operator("WHILE", [zero, h, n], outs, {"cond_subgraph_index": 1, "body_subgraph_index": 2})
    main.inputs, main.outputs = [x, n], [outs[1]]

    cond = Subgraph(name="cond")
    ci, cx, cn = (cond.add_tensor("i", (), TensorType.INT32), cond.add_tensor("x", (1, WIDTH), F32),
                  cond.add_tensor("n", (), TensorType.INT32))
    c = cond.add_tensor("c", (), TensorType.BOOL)
    cond.add_operator("LESS", [ci, cn], [c])
    cond.inputs, cond.outputs = [ci, cx, cn], [c]

    body = Subgraph(name="body")
    bi, bx, bn = (body.add_tensor("i", (), TensorType.INT32), body.add_tensor("x", (1, WIDTH), F32),
                  body.add_tensor("n", (), TensorType.INT32))
    pre, bx2, bi2 = (body.add_tensor("pre", (1, WIDTH), F32), body.add_tensor("x2", (1, WIDTH), F32),
                     body.add_tensor("i2", (), TensorType.INT32))
    bias = body.add_constant("b_body", (rng.standard_normal(WIDTH) / 10).astype(np.float32))
    body.add_operator("FULLY_CONNECTED", [bx, body.add_constant("w_body", weights()), bias], [pre],
                      {"fused_activation_function": 0, "keep_num_dims": False})
    body.add_operator("TANH", [pre], [bx2])
    body.add_operator("ADD", [bi, body.add_constant("one", np.array(1, np.int32))], [bi2])
    body.inputs, body.outputs = [bi, bx, bn], [bi2, bx2, bn]
    return Model(subgraphs=[main, cond, body]).validate()


def _inputs():
    x = np.random.default_rng(1).uniform(-1, 1, (1, WIDTH)).astype(np.float32)
    return [x, np.array(3, np.int32)]


def _body_weight(model: Model):
    """(the body subgraph, its FC weight tensor index)."""
    body = model.subgraphs[2]
    fc = next(op for op in body.operators if op.opcode == "FULLY_CONNECTED")
    return body, fc.inputs[1]


def test_dynamic_quantizes_weights_in_a_loop_body():
    float_model = loop_of_dense_layers()
    q, report = quantize(float_model, "dynamic", min_elements=16, return_report=True)
    body, w = _body_weight(q)
    w = body.tensors[w]
    assert w.dtype == TensorType.INT8 and w.quantization.scale.size == WIDTH
    assert q.main.tensors[q.main.operators[0].inputs[1]].dtype == TensorType.INT8
    assert report.quantized["FULLY_CONNECTED"] == 2
    content, inputs = q.to_bytes(), _inputs()
    ours = run_model(content, inputs)
    reference = run_model(float_model.to_bytes(), inputs)
    assert np.max(np.abs(ours[0] - reference[0])) < 0.05  # int8 weights: close to float, not equal
    pytest.importorskip("ai_edge_litert")
    assert_outputs_match(run_model(content, inputs, "litert"), ours, "dynamic, weights in a WHILE body")


def test_float16_quantizes_weights_in_a_loop_body():
    float_model = loop_of_dense_layers()
    q, report = quantize(float_model, "float16", return_report=True)
    body, w = _body_weight(q)
    producer = next(op for op in body.operators if w in op.outputs)
    assert producer.opcode == "DEQUANTIZE"
    assert body.tensors[producer.inputs[0]].dtype == TensorType.FLOAT16
    assert report.quantized["DEQUANTIZE (float16 weights)"] == 3  # the two weights, the body's bias
    assert q.subgraphs[1].operators[0].opcode == "LESS" and len(q.subgraphs[1].operators) == 1
    content, inputs = q.to_bytes(), _inputs()
    ours = run_model(content, inputs)
    reference = run_model(float_model.to_bytes(), inputs)
    assert np.max(np.abs(ours[0] - reference[0])) < 1e-2
    pytest.importorskip("ai_edge_litert")
    assert_outputs_match(run_model(content, inputs, "litert"), ours, "float16, weights in a WHILE body")


def test_keep_float_op_index_refers_to_subgraph_0():
    q = quantize(loop_of_dense_layers(), "dynamic", min_elements=16, keep_float=[0])
    assert q.main.tensors[q.main.operators[0].inputs[1]].dtype == TensorType.FLOAT32
    body, w = _body_weight(q)
    assert body.tensors[w].dtype == TensorType.INT8
