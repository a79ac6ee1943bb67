"""Resize nearest: every (coordinate_transformation_mode, nearest_mode) pair is either converted to a
model that matches onnxruntime exactly, or refused with a clean ConversionError."""
import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("ai_edge_litert")
from onnx import TensorProto, helper  # noqa: E402

from edgelite import ConversionError  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402

from .helpers import run_litert, run_onnxruntime  # noqa: E402

CTMS = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]
NEAREST = ["floor", "ceil", "round_prefer_floor", "round_prefer_ceil"]
SCALES = [(3, 3), (2, 4), (1.5, 2.5)]


def _resize_model(ctm, nearest_mode, scales, in_hw=(2, 4)):
    out_hw = [int(np.floor(d * s)) for d, s in zip(in_hw, scales)]
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest",
                            coordinate_transformation_mode=ctm, nearest_mode=nearest_mode)
    graph = helper.make_graph(
        [node], "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, *in_hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, *out_hw])],
        [helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, *scales])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("scales", SCALES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("nearest_mode", NEAREST)
@pytest.mark.parametrize("ctm", CTMS)
def test_nearest_resize_matches_onnxruntime_or_is_refused(ctm, nearest_mode, scales):
    m = _resize_model(ctm, nearest_mode, scales)
    x = np.arange(16, dtype=np.float32).reshape(1, 2, 2, 4)
    ref = run_onnxruntime(m.SerializeToString(), {"x": x})[0]
    try:
        model = from_onnx(m)
    except ConversionError as e:
        assert "Resize" in str(e)
        return
    np.testing.assert_array_equal(run_litert(model, [x])[0], ref)


def test_integer_upsampling_half_pixel_round_prefer_floor_is_converted():
    from_onnx(_resize_model("half_pixel", "round_prefer_floor", (3, 3)))
