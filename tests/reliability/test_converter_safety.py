"""Converter input safety: external-data paths, declared sizes, nesting bombs, garbage bytes."""
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import edgelite  # noqa: E402
from edgelite.convert import from_onnx  # noqa: E402
from edgelite.convert.input_safety import MAX_GRAPH_DEPTH, fold_would_exceed  # noqa: E402


def _add_model(weight: TensorProto) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    node = helper.make_node("Add", ["x", weight.name], ["y"])
    graph = helper.make_graph([node], "g", [x], [y], initializer=[weight])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _external(location: str, offset=0, length=16) -> TensorProto:
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = w.external_data.add()
        entry.key, entry.value = k, v
    return w


def _save(tmp_path, weight, name="model.onnx"):
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(_add_model(weight).SerializeToString())
    return path


def test_external_data_inside_the_folder_loads(tmp_path):
    path = _save(tmp_path, _external("w.bin"))
    (path.parent / "w.bin").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    model = from_onnx(str(path))
    it = edgelite.Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.ones(4, np.float32))
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), [1, 2, 3, 4])


@pytest.mark.parametrize("location", ["../secret.bin", "sub/../../secret.bin", "/etc/passwd"])
def test_external_data_escaping_the_folder_is_refused(tmp_path, location):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16)
    path = _save(tmp_path, _external(location))
    with pytest.raises(edgelite.ConversionError, match="absolute path|outside the model's folder"):
        from_onnx(str(path))


def test_external_data_through_a_symlink_out_is_refused(tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16)
    path = _save(tmp_path, _external("w.bin"))
    os.symlink(tmp_path / "secret.bin", path.parent / "w.bin")
    with pytest.raises(edgelite.ConversionError, match="outside the model's folder"):
        from_onnx(str(path))


def test_external_data_past_the_end_of_its_file(tmp_path):
    path = _save(tmp_path, _external("w.bin", offset=8))
    (path.parent / "w.bin").write_bytes(b"\0" * 16)
    with pytest.raises(edgelite.ConversionError, match="outside the 16-byte file"):
        from_onnx(str(path))


def test_external_data_in_bytes_is_refused(tmp_path):
    with pytest.raises(edgelite.ConversionError, match="pass the model's path"):
        from_onnx(_add_model(_external("w.bin")).SerializeToString())


def test_raw_data_that_does_not_match_the_dims():
    w = numpy_helper.from_array(np.ones(4, np.float32), "w")
    w.dims[:] = [1_000_000]
    with pytest.raises(edgelite.ConversionError, match=r"dims \[1000000\] need 4000000 bytes, raw_data holds 16"):
        from_onnx(_add_model(w).SerializeToString())


def test_declared_size_over_the_budget_is_a_resource_error():
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20])  # 4 TB, no data
    with pytest.raises(edgelite.ResourceError, match="ONNX tensor 'w'"):
        from_onnx(_add_model(w).SerializeToString())


def test_garbage_and_truncated_protobufs():
    good = _add_model(numpy_helper.from_array(np.ones(4, np.float32), "w")).SerializeToString()
    for data in (b"\xff" * 64, good[: len(good) // 2], b"not an onnx file at all"):
        with pytest.raises(edgelite.ConversionError):
            from_onnx(data)


def _nested_if(depth: int) -> onnx.ModelProto:
    """If nodes nested ``depth`` levels deep in each other's then-branch."""
    leaf = helper.make_graph([helper.make_node("Identity", ["x"], ["r0"])], "leaf", [],
                             [helper.make_tensor_value_info("r0", TensorProto.FLOAT, [1])])
    inner = leaf
    for level in range(depth):
        out = f"r{level + 1}"
        node = helper.make_node("If", ["c"], [out], then_branch=inner, else_branch=leaf)
        inner = helper.make_graph([node], f"level{level}", [],
                                  [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1])])
    c = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph(list(inner.node), "main", [c, x], list(inner.output))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_recursion_bomb_of_nested_graphs():
    with pytest.raises(edgelite.ConversionError, match="nested more than .* recursion bomb"):
        from_onnx(_nested_if(MAX_GRAPH_DEPTH + 5).SerializeToString())
    with pytest.raises(edgelite.ConversionError, match="unsupported op type 'If'"):  # a few levels: not
        from_onnx(_nested_if(3).SerializeToString())  # a bomb, just an op the converter lacks


def test_protobuf_nested_past_the_parse_limit():
    """Bytes nesting messages thousands deep (field 7 of ModelProto is the graph, field 1 of
    GraphProto a node...): refused as unparsable, never a crash or RecursionError."""
    graph = b""
    for _ in range(2000):  # GraphProto.node(1) -> NodeProto.attribute(5) -> AttributeProto.g(6) -> ...
        attr = b"\x32" + _varint(len(graph)) + graph
        node = b"\x2a" + _varint(len(attr)) + attr
        graph = b"\x0a" + _varint(len(node)) + node
    payload = b"\x3a" + _varint(len(graph)) + graph  # ModelProto.graph(7)
    with pytest.raises(edgelite.ConversionError, match="not an ONNX model"):
        from_onnx(payload)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_value_driven_folds_are_judged_before_evaluating():
    assert fold_would_exceed("ConstantOfShape", [np.array([100000, 100000])], 1 << 24)
    assert not fold_would_exceed("ConstantOfShape", [np.array([10, 10])], 1 << 24)
    assert fold_would_exceed("Expand", [np.ones(1, np.float32), np.array([1 << 30])], 1 << 24)
    assert fold_would_exceed("Range", [np.array(0), np.array(1e12), np.array(1)], 1 << 24)
    assert fold_would_exceed("Tile", [np.ones(4), np.array([1 << 30])], 1 << 24)
    assert not fold_would_exceed("Add", [np.ones(4), np.ones(4)], 1 << 24)
