"""Converter unit tests on hand-built ONNX graphs: passes, layout, errors, CLI."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from edgelite import ConversionError  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402

from .helpers import assert_close_rel, run_litert, run_onnxruntime  # noqa: E402
from .onnx_builders import conv_bn_act, make_model  # noqa: E402


def _check_against_ort(onnx_model, feeds, **kw):
    pytest.importorskip("ai_edge_litert")
    model = from_onnx(onnx_model, **kw)
    ref = run_onnxruntime(onnx_model.SerializeToString(), feeds)
    got = run_litert(model, list(feeds.values()))
    for g, r in zip(got, ref):
        assert_close_rel(g, r, 1e-4)
    return model


@pytest.mark.parametrize("act,clip,code", [("Relu", (0, 6), 1), ("Clip", (0.0, 6.0), 3), ("Clip", (-1.0, 1.0), 2)])
def test_batchnorm_folded_and_activation_fused(act, clip, code):
    m = conv_bn_act(act, clip)
    x = np.random.default_rng(1).standard_normal((1, 3, 8, 8)).astype(np.float32) * 3
    stats = {}
    model = _check_against_ort(m, {"x": x}, stats=stats)
    convs = [op for op in model.main.operators if op.opcode == "CONV_2D"]
    assert len(convs) == 1 and convs[0].options["fused_activation_function"] == code
    assert stats["folded_batchnorms"] == 1
    assert set(model.op_histogram()) <= {"CONV_2D", "TRANSPOSE"}


def test_tanh_is_kept_as_an_op():
    m = conv_bn_act("Tanh")
    x = np.random.default_rng(2).standard_normal((1, 3, 8, 8)).astype(np.float32)
    model = _check_against_ort(m, {"x": x})
    assert "TANH" in model.op_histogram()


def test_clip_with_other_bounds_is_min_max():
    m = conv_bn_act("Clip", (-0.5, 2.0))
    x = np.random.default_rng(3).standard_normal((1, 3, 8, 8)).astype(np.float32)
    model = _check_against_ort(m, {"x": x})
    h = model.op_histogram()
    assert h.get("MAXIMUM") == 1 and h.get("MINIMUM") == 1


def test_layout_axis_ops_remapped():
    """Concat / Softmax / ReduceMean / Gather / Transpose on a channels-last value stay transpose-free."""
    rng = np.random.default_rng(4)
    W = rng.standard_normal((4, 3, 1, 1)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"]),
             helper.make_node("Concat", ["c", "c"], ["cc"], axis=1),
             helper.make_node("Softmax", ["cc"], ["s"], axis=1),
             helper.make_node("ReduceMean", ["s"], ["r"], axes=[2], keepdims=1),
             helper.make_node("Gather", ["r", "idx"], ["g"], axis=1),
             helper.make_node("Transpose", ["g"], ["y"], perm=[0, 2, 3, 1])]
    m = make_model(nodes, [("x", [1, 3, 5, 6], None)], [("y", [1, 1, 6, 3], None)],
                   [("W", W), ("idx", np.array([0, 2, 5], np.int64))], opset=13)
    x = rng.standard_normal((1, 3, 5, 6)).astype(np.float32)
    model = _check_against_ort(m, {"x": x})
    # one TRANSPOSE at the NCHW input; the output Transpose to NHWC is free
    assert model.op_histogram().get("TRANSPOSE", 0) == 1


def test_shape_computations_are_folded():
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    m = make_model(nodes, [("x", [2, 3, 4], None)], [("y", [2, 12], None)],
                   [("i0", np.array(0, np.int64)), ("ax", np.array([0], np.int64)),
                    ("minus1", np.array([-1], np.int64))], opset=13)
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    model = _check_against_ort(m, {"x": x})
    assert model.op_histogram() == {"RESHAPE": 1}


def test_conversion_error_lists_every_problem():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok"),
             helper.make_node("RandomNormalLike", ["a"], ["b"], name="nz"),
             helper.make_node("Bernoulli", ["x"], ["c"], name="bern"),
             helper.make_node("Reshape", ["x", "shp"], ["d"], name="dyn_reshape")]
    m = make_model(nodes, [("x", [2, 2], None), ("shp", [2], TensorProto.INT64)],
                   [("b", None, None), ("c", None, None), ("d", None, None)])
    with pytest.raises(ConversionError) as ei:
        from_onnx(m)
    probs = ei.value.problems
    assert len(probs) == 3
    assert any("'nz'" in p and "RandomNormalLike" in p for p in probs)
    assert any("'bern'" in p and "Bernoulli" in p for p in probs)
    assert any("'dyn_reshape'" in p and "Reshape" in p and "constant" in p for p in probs)


def test_unknown_opset_is_an_error():
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2], None)], [("y", [2], None)], opset=17)
    m.opset_import[0].version = 99
    with pytest.raises(ConversionError, match="version 99"):
        from_onnx(m)
    # an imported domain is judged only where a node uses it (tests/delegates/test_onnx_unused_domains.py)
    m2 = make_model([helper.make_node("Relu", ["x"], ["y"], domain="com.example.custom")],
                    [("x", [2], None)], [("y", [2], None)])
    m2.opset_import.append(helper.make_opsetid("com.example.custom", 1))
    with pytest.raises(ConversionError, match="com.example.custom"):
        from_onnx(m2)


def test_dynamic_non_batch_dimension_is_an_error_unless_given():
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["N", "T"], None)], [("y", ["N", "T"], None)])
    with pytest.raises(ConversionError, match="dynamic"):
        from_onnx(m)
    model = from_onnx(m, input_shapes={"x": (2, 5)})
    assert model.main.tensors[model.main.inputs[0]].shape == (2, 5)


def test_dedup_constants_and_dead_code():
    w = np.ones((3, 3), np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"]), helper.make_node("MatMul", ["x", "w2"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"]), helper.make_node("Relu", ["x"], ["unused"])]
    m = make_model(nodes, [("x", [2, 3], None)], [("y", [2, 3], None)], [("w1", w), ("w2", w.copy())])
    x = np.random.default_rng(5).standard_normal((2, 3)).astype(np.float32)
    model = _check_against_ort(m, {"x": x})
    weights = {op.inputs[1] for op in model.main.operators if op.opcode == "FULLY_CONNECTED"}
    assert len(weights) == 1
    assert "RELU" not in model.op_histogram()


def test_cli_convert(tmp_path, capsys):
    from edgelite.tools.cli import main
    src = tmp_path / "m.onnx"
    onnx.save(conv_bn_act("Relu"), str(src))
    out = tmp_path / "m.tflite"
    assert main(["convert", str(src), "-o", str(out), "--nhwc-io"]) == 0
    import edgelite
    model = edgelite.load_model(str(out))
    assert model.op_histogram() == {"CONV_2D": 1}
    assert "CONV_2D" in capsys.readouterr().out


def test_cli_convert_reports_all_problems(tmp_path, capsys):
    from edgelite.tools.cli import main
    nodes = [helper.make_node("RandomNormalLike", ["x"], ["a"], name="nz"), helper.make_node("Bernoulli", ["x"], ["b"], name="bern")]
    m = make_model(nodes, [("x", [2, 2], None)], [("a", None, None), ("b", None, None)])
    src = tmp_path / "bad.onnx"
    onnx.save(m, str(src))
    assert main(["convert", str(src), "-o", str(tmp_path / "bad.tflite")]) == 2
    err = capsys.readouterr().err
    assert "'nz'" in err and "RandomNormalLike" in err and "'bern'" in err and "Bernoulli" in err


def test_cli_opset_check(tmp_path, capsys):
    from edgelite.tools.cli import main
    src = tmp_path / "m.onnx"
    onnx.save(conv_bn_act("Relu"), str(src))
    assert main(["convert", str(src), "--opset-check"]) == 0
    assert "opset" in capsys.readouterr().out.lower()
