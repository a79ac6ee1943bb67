"""QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear lowering (edgelite/convert/lowering/quantize.py),
checked against onnxruntime in LiteRT and edgelite.Interpreter."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("ai_edge_litert")
from onnx import TensorProto, helper  # noqa: E402

from edgelite import ConversionError  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402

from .helpers import assert_close_rel, run_edgelite, run_litert, run_onnxruntime  # noqa: E402
from .onnx_builders import make_model  # noqa: E402

QTYPES = {np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8, np.int16: TensorProto.INT16}


def _both(model, feeds):
    return run_litert(model, feeds), run_edgelite(model, feeds)


def _qdq_conv_model(qtype, per_axis_weights: bool):
    """x -> Q -> DQ -> Conv(DQ(int8 weights)) -> Relu -> Q -> DQ: a QDQ conv as quantizers export it."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    if per_axis_weights:
        w_scale = (np.abs(w).reshape(4, -1).max(1) / 127).astype(np.float32)
        w_zp = np.zeros(4, np.int8)
        wq = np.clip(np.round(w / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
    else:
        w_scale = np.float32(np.abs(w).max() / 127)
        w_zp = np.int8(0)
        wq = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
    zp = np.asarray(128 if qtype == np.uint8 else 0, qtype)
    inits = {"xs": np.float32(0.05), "xz": zp, "wq": wq, "ws": w_scale, "wz": w_zp,
             "ys": np.float32(0.1), "yz": zp}
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
             helper.make_node("Conv", ["xd", "wd"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("QuantizeLinear", ["r", "ys", "yz"], ["yq"]),
             helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])]
    return make_model(nodes, [("x", [1, 3, 6, 6], None)], [("y", [1, 4, 6, 6], None)], inits.items(), opset=13)


@pytest.mark.parametrize("qtype", [np.int8, np.uint8])
@pytest.mark.parametrize("per_axis", [False, True])
@pytest.mark.parametrize("fold", [True, False])
def test_qdq_conv_matches_onnxruntime(qtype, per_axis, fold):
    m = _qdq_conv_model(qtype, per_axis)
    x = np.random.default_rng(1).uniform(-3, 3, (1, 3, 6, 6)).astype(np.float32)
    model = from_onnx(m, fold_quantization=fold)
    hist = model.op_histogram()
    if fold:  # x -> QUANTIZE -> int8 CONV_2D -> DEQUANTIZE
        assert hist.get("QUANTIZE") == 1 and hist.get("DEQUANTIZE") == 1, hist
        conv = next(op for op in model.main.operators if op.opcode == "CONV_2D")
        assert model.main.tensors[conv.inputs[1]].numpy_dtype == np.int8
    else:
        assert hist.get("QUANTIZE") == 2 and hist.get("DEQUANTIZE") == 2, hist
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    for got in _both(model, [x]):
        # one quantization step of the output (0.1) covers a flipped rounding of an accumulated tie
        assert np.max(np.abs(got[0] - ref)) <= 0.1 + 1e-6
        assert np.mean(np.abs(got[0] - ref) > 1e-5) < 0.05


@pytest.mark.parametrize("qtype", list(QTYPES))
def test_quantize_output_is_a_quantized_tensor(qtype):
    zp = {np.int8: -3, np.uint8: 100, np.int16: 0}[qtype]
    m = make_model([helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])],
                   [("x", [2, 5], None)], [("y", [2, 5], QTYPES[qtype])],
                   {"s": np.float32(0.37), "z": np.asarray(zp, qtype)}.items(), opset=21)
    x = np.random.default_rng(3).uniform(-20, 20, (2, 5)).astype(np.float32)
    model = from_onnx(m)
    out = model.main.tensors[model.main.outputs[0]]
    assert out.quantization is not None and np.isclose(out.quantization.scale[0], 0.37)
    assert out.quantization.zero_point[0] == zp
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    for got in _both(model, [x]):
        assert got[0].dtype == qtype
        assert np.max(np.abs(got[0].astype(np.int64) - ref.astype(np.int64))) <= 1  # ties only


def test_per_axis_quantize_follows_nhwc_layout():
    """Per-channel Q/DQ on the output of a Conv: the NCHW channel axis is NHWC dimension 3."""
    rng = np.random.default_rng(4)
    w = rng.standard_normal((3, 2, 1, 1)).astype(np.float32)
    scales = np.array([0.02, 0.05, 0.1], np.float32)
    zps = np.array([-5, 0, 7], np.int8)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]),
             helper.make_node("QuantizeLinear", ["c", "s", "z"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)]
    m = make_model(nodes, [("x", [1, 2, 4, 4], None)], [("y", [1, 3, 4, 4], None)],
                   {"w": w, "s": scales, "z": zps}.items(), opset=13)
    model = from_onnx(m)
    q = [op for op in model.main.operators if op.opcode == "QUANTIZE"]
    assert len(q) == 1
    quant = model.main.tensors[q[0].outputs[0]].quantization
    assert quant.quantized_dimension == 3 and list(quant.zero_point) == [-5, 0, 7]
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    for got in _both(model, [x]):
        assert np.max(np.abs(got[0] - ref) / scales.reshape(1, 3, 1, 1)) <= 1.0 + 1e-4


@pytest.mark.parametrize("qtype,zp", [(np.uint8, 10), (np.int8, -4), (np.int16, 0), (np.int16, 300)])
def test_dequantize_graph_input(qtype, zp):
    m = make_model([helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"])],
                   [("x", [3, 4], QTYPES[qtype])], [("y", [3, 4], None)],
                   {"s": np.float32(0.25), "z": np.asarray(zp, qtype)}.items(), opset=21)
    info = np.iinfo(qtype)
    x = np.random.default_rng(5).integers(info.min, info.max, (3, 4)).astype(qtype)
    model = from_onnx(m)
    # LiteRT's DEQUANTIZE takes int16 only with zero point 0: otherwise the exact float formula is used
    assert ("DEQUANTIZE" in model.op_histogram()) == (qtype != np.int16 or zp == 0)
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    for got in _both(model, [x]):
        assert_close_rel(got[0], ref, 1e-6)


def test_dequantize_constant_weights_are_folded():
    wq = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    nodes = [helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["w"], axis=0),
             helper.make_node("MatMul", ["x", "w"], ["y"])]
    m = make_model(nodes, [("x", [2, 3], None)], [("y", [2, 4], None)],
                   {"wq": wq, "s": np.array([0.5, 1.0, 2.0], np.float32), "z": np.array([1, 0, -1], np.int8)}.items(),
                   opset=13)
    model = from_onnx(m)
    assert "DEQUANTIZE" not in model.op_histogram()
    x = np.random.default_rng(6).standard_normal((2, 3)).astype(np.float32)
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    for got in _both(model, [x]):
        assert_close_rel(got[0], ref, 1e-5)


def test_dynamic_quantize_linear_matches_onnxruntime():
    m = make_model([helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])],
                   [("x", [4, 7], None)],
                   [("y", [4, 7], TensorProto.UINT8), ("s", [], None), ("z", [], TensorProto.UINT8)], opset=13)
    x = np.random.default_rng(7).uniform(-1.5, 4.0, (4, 7)).astype(np.float32)
    model = from_onnx(m)
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})
    for got in _both(model, [x]):
        assert np.array_equal(got[0], ref[0]) and np.isclose(got[1], ref[1]) and got[2] == ref[2]


@pytest.mark.parametrize("attrs,zp_type,why", [
    ({"block_size": 2, "axis": 1}, TensorProto.INT8, "blocked"),
])
def test_refused_quantizations(attrs, zp_type, why):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], **attrs)]
    m = make_model(nodes, [("x", [2, 4], None)], [("y", [2, 4], zp_type)],
                   {"s": np.full((2, 2), 0.5, np.float32), "z": np.zeros((2, 2), np.int8)}.items(), opset=21)
    with pytest.raises(ConversionError, match=why):
        from_onnx(m)


def test_graph_input_scale_must_be_bound():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])]
    m = make_model(nodes, [("x", [4], None), ("s", [], None)], [("y", [4], TensorProto.UINT8)],
                   {"z": np.uint8(3)}.items(), opset=13)
    with pytest.raises(ConversionError, match="must be a constant") as e:
        from_onnx(m)
    assert e.value.needs_constant == ["s"]
    model = from_onnx(m, bind_inputs={"s": np.float32(0.5)})
    assert "QUANTIZE" in model.op_histogram()
