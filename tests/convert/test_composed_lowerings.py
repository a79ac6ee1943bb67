"""Composed lowerings on random and extreme inputs (beyond the small ONNX node-suite cases): bitwise ops at
the int32 limits, BitShift amounts out of range, DFT lengths, Resize / GridSample / pooling fallbacks,
TensorScatter; checked against onnx.reference in LiteRT and edgelite.Interpreter."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("ai_edge_litert")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from edgelite.convert import from_onnx  # noqa: E402

from .helpers import run_edgelite, run_litert, run_onnxruntime  # noqa: E402

ONNX_TYPES = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int32): TensorProto.INT32,
              np.dtype(np.int16): TensorProto.INT16, np.dtype(np.uint8): TensorProto.UINT8,
              np.dtype(np.int8): TensorProto.INT8, np.dtype(np.int64): TensorProto.INT64}


def _model(node, feeds: dict, out_shape, out_type, opset, inits=None):
    ins = [helper.make_tensor_value_info(k, ONNX_TYPES[v.dtype], v.shape) for k, v in feeds.items()]
    outs = [helper.make_tensor_value_info(node.output[0], out_type, out_shape)]
    inits = [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()]
    g = helper.make_graph([node], "t", ins, outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=10)


def _check(model, feeds, exact=True, tol=1e-5):
    ref = ReferenceEvaluator(model).run(None, feeds)[0]
    converted = from_onnx(model)
    for got in (run_litert(converted, list(feeds.values())), run_edgelite(converted, list(feeds.values()))):
        got = got[0]
        assert got.shape == ref.shape
        if exact:
            assert got.dtype == ref.dtype and np.array_equal(got, ref), (got, ref)
        else:
            scale = max(1.0, float(np.max(np.abs(ref))))
            assert np.max(np.abs(got.astype(np.float64) - ref)) <= tol * scale


@pytest.mark.parametrize("op", ["BitwiseAnd", "BitwiseOr"])
@pytest.mark.parametrize("dt", [np.int32, np.int16, np.uint8, np.int8])
def test_bitwise_and_or_over_the_whole_range(op, dt):
    info = np.iinfo(dt)
    rng = np.random.default_rng(0)
    a = rng.integers(info.min, info.max, 64, endpoint=True).astype(dt)
    b = rng.integers(info.min, info.max, 64, endpoint=True).astype(dt)
    a[:4] = [info.min, info.max, -1 if info.min else 0, 0]
    b[:4] = [info.max, info.min, info.min, -1 if info.min else info.max]
    m = _model(helper.make_node(op, ["a", "b"], ["y"]), {"a": a, "b": b}, [64], ONNX_TYPES[np.dtype(dt)], 18)
    _check(m, {"a": a, "b": b})


@pytest.mark.parametrize("direction", ["LEFT", "RIGHT"])
@pytest.mark.parametrize("dt", [np.int8, np.int32, np.uint8])
def test_bitshift_amounts_in_and_out_of_range(direction, dt):
    info = np.iinfo(dt)
    bits = info.bits
    rng = np.random.default_rng(1)
    x = rng.integers(info.min, info.max, 40, endpoint=True).astype(dt)
    lo = -3 if info.min else 0
    s = rng.integers(lo, min(bits + 4, info.max), 40, endpoint=True).astype(dt)
    m = _model(helper.make_node("BitShift", ["x", "s"], ["y"], direction=direction), {"x": x, "s": s}, [40],
               ONNX_TYPES[np.dtype(dt)], 26)
    _check(m, {"x": x, "s": s})


@pytest.mark.parametrize("inverse,onesided,c_in,length", [(0, 0, 1, 12), (0, 1, 1, 9), (0, 0, 2, 7), (1, 0, 2, 8),
                                                          (1, 1, 2, 10), (0, 1, 1, 5)])
def test_dft_variants(inverse, onesided, c_in, length):
    rng = np.random.default_rng(2)
    n_in = length // 2 + 1 if inverse and onesided else 8
    x = rng.standard_normal((2, n_in, 3, c_in)).astype(np.float32)
    node = helper.make_node("DFT", ["x", "len", "axis"], ["y"], inverse=inverse, onesided=onesided)
    n_out = length if inverse and onesided else (length // 2 + 1 if onesided else length)
    m = _model(node, {"x": x}, [2, n_out, 3, 1 if inverse and onesided else 2], TensorProto.FLOAT, 20,
               inits={"len": np.array(length, np.int64), "axis": np.array(1, np.int64)})
    _check(m, {"x": x}, exact=False, tol=1e-5)


@pytest.mark.parametrize("attrs", [
    {"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1},
    {"mode": "linear", "antialias": 1},
    {"mode": "nearest", "coordinate_transformation_mode": "half_pixel", "nearest_mode": "floor"},
    {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize", "extrapolation_value": 7.0},
])
def test_resize_interpolation_matrices(attrs):
    x = np.random.default_rng(3).standard_normal((1, 2, 5, 7)).astype(np.float32)
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], **attrs)
    scales = np.array([1, 1, 1.7, 0.6], np.float32)
    roi = np.array([0, 0, 0.1, -0.2, 1, 1, 0.8, 1.3], np.float32)
    out = [1, 2, int(5 * 1.7), int(7 * 0.6)]
    m = _model(node, {"x": x}, out, TensorProto.FLOAT, 19, inits={"roi": roi, "scales": scales})
    _check(m, {"x": x}, exact=False, tol=1e-5)


@pytest.mark.parametrize("mode,pad", [("linear", "zeros"), ("linear", "reflection"), ("linear", "border"),
                                      ("nearest", "border"), ("nearest", "reflection"), ("cubic", "zeros"),
                                      ("cubic", "border"), ("cubic", "reflection")])
@pytest.mark.parametrize("align", [0, 1])
def test_grid_sample_random_coordinates(mode, pad, align):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    grid = rng.uniform(-1.6, 1.6, (2, 3, 6, 2)).astype(np.float32)
    node = helper.make_node("GridSample", ["x", "g"], ["y"], mode=mode, padding_mode=pad, align_corners=align)
    m = _model(node, {"x": x, "g": grid}, [2, 3, 3, 6], TensorProto.FLOAT, 22)
    _check(m, {"x": x, "g": grid}, exact=False, tol=1e-5)


@pytest.mark.parametrize("op,attrs", [
    ("MaxPool", {"kernel_shape": [3, 2, 2], "dilations": [2, 1, 2], "pads": [1, 0, 1, 2, 1, 0], "ceil_mode": 1}),
    ("AveragePool", {"kernel_shape": [2, 3], "strides": [2, 1], "pads": [1, 1, 0, 1], "count_include_pad": 0}),
    ("AveragePool", {"kernel_shape": [3], "dilations": [2], "pads": [2, 1], "count_include_pad": 1}),
])
def test_pooling_by_window_gathers(op, attrs):
    nsp = len(attrs["kernel_shape"])
    x = np.random.default_rng(5).standard_normal((1, 2) + (7,) * nsp).astype(np.float32)
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    ref = ReferenceEvaluator(_model(node, {"x": x}, None, TensorProto.FLOAT, 22)).run(None, {"x": x})[0]
    m = _model(node, {"x": x}, list(ref.shape), TensorProto.FLOAT, 22)
    _check(m, {"x": x}, exact=False, tol=1e-6)


@pytest.mark.parametrize("mode", ["linear", "circular"])
def test_tensor_scatter_runtime_write_indices(mode):
    rng = np.random.default_rng(6)
    past = rng.standard_normal((3, 2, 6, 4)).astype(np.float32)
    upd = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    w = np.array([0, 3, 5 if mode == "circular" else 2], np.int64)
    node = helper.make_node("TensorScatter", ["p", "u", "w"], ["y"], mode=mode, axis=2)
    m = _model(node, {"p": past, "u": upd, "w": w}, [3, 2, 6, 4], TensorProto.FLOAT, 24)
    _check(m, {"p": past, "u": upd, "w": w})


def _check_all_outputs(model, feeds):
    ref = run_onnxruntime(model.SerializeToString(), feeds)  # onnx.reference's Unique(sorted=0) mishandles 2-D
    converted = from_onnx(model)
    for got in (run_litert(converted, list(feeds.values())), run_edgelite(converted, list(feeds.values()))):
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            assert g.shape == r.shape and g.dtype == r.dtype and np.array_equal(g, r), (g, r)


@pytest.mark.parametrize("sorted_", [0, 1])
def test_unique_outputs_of_data_dependent_length(sorted_):
    x = np.random.default_rng(7).integers(-4, 5, (3, 5)).astype(np.float32)
    node = helper.make_node("Unique", ["x"], ["y", "idx", "inv", "cnt"], sorted=sorted_)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
                          + [helper.make_tensor_value_info(n, TensorProto.INT64, None) for n in ("idx", "inv", "cnt")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    _check_all_outputs(m, {"x": x})


def test_nonzero_output_of_data_dependent_length():
    x = (np.random.default_rng(8).standard_normal((2, 3, 4)) > 0.3).astype(np.float32)
    node = helper.make_node("NonZero", ["x"], ["y"])
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.INT64, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    _check_all_outputs(m, {"x": x})


@pytest.mark.parametrize("storage_order", [0, 1])
def test_max_pool_indices_output(storage_order):
    x = np.random.default_rng(9).integers(0, 4, (2, 3, 6, 5)).astype(np.float32)  # many ties
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1],
                            storage_order=storage_order)
    g = helper.make_graph([node], "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 6, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("i", TensorProto.INT64, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)], ir_version=8)
    ref = ReferenceEvaluator(m).run(None, {"x": x})
    converted = from_onnx(m)
    for got in (run_litert(converted, [x]), run_edgelite(converted, [x])):
        assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
