"""SHAPE folding at allocate_tensors: SHAPE (and the index arithmetic on its output) is
computed when the input shapes are known, so the nodes after it are prepared at
allocate and planned in the arena instead of being deferred to invoke."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType

from conftest import MANIFEST, zoo_inputs, zoo_path, zoo_refs


def _deferred(it: Interpreter) -> list[int]:
    ex = it._runtime.executor(0)
    return [n for n, placed in enumerate(ex._placed) if placed is not None and not placed.static_io]


def reshape_by_shape_of_model() -> Model:
    """y = reshape(b, [shape(a)[0], -1]): b's target shape comes from another input's batch."""
    sg = Subgraph(name="main")
    a = sg.add_tensor("a", (2, 5), TensorType.FLOAT32, shape_signature=(-1, 5))
    b = sg.add_tensor("b", (12,), TensorType.FLOAT32)
    shape = sg.add_tensor("shape", (2,), TensorType.INT32)
    sg.add_operator("SHAPE", [a], [shape], {"out_type": int(TensorType.INT32)})
    begin = sg.add_constant("begin", np.array([0], np.int32))
    end = sg.add_constant("end", np.array([1], np.int32))
    strides = sg.add_constant("strides", np.array([1], np.int32))
    batch = sg.add_tensor("batch", (), TensorType.INT32)
    sg.add_operator("STRIDED_SLICE", [shape, begin, end, strides], [batch], {"shrink_axis_mask": 1})
    # a true scalar (add_constant would store a 0-d value as shape [1])
    minus_one = sg.add_tensor("minus_one", (), TensorType.INT32, data=np.array(-1, np.int32))
    target = sg.add_tensor("target", (2,), TensorType.INT32)
    sg.add_operator("PACK", [batch, minus_one], [target], {"values_count": 2, "axis": 0})
    y = sg.add_tensor("y", (2, 6), TensorType.FLOAT32)
    sg.add_operator("RESHAPE", [b, target], [y])
    z = sg.add_tensor("z", (2, 5), TensorType.FLOAT32)
    sg.add_operator("ADD", [a, a], [z], {"fused_activation_function": 0})
    sg.inputs, sg.outputs = [a, b], [y, z, shape]
    return Model(subgraphs=[sg]).validate()


def test_efficientnet_chain_is_planned_at_allocate():
    key = "efficientnet_b0_int8"
    if key not in MANIFEST:
        pytest.skip("zoo model missing")
    it = Interpreter(model_path=str(zoo_path(key)))
    it.allocate_tensors()
    ex = it._runtime.executor(0)
    opcodes = [op.opcode for op in ex.subgraph.operators]
    assert "SHAPE" in opcodes
    assert _deferred(it) == []  # every RESHAPE after SHAPE -> STRIDED_SLICE -> PACK is static
    assert {opcodes[n] for n in ex._shape_folded} == {"SHAPE", "STRIDED_SLICE", "PACK"}
    (x,) = zoo_inputs(key)
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), zoo_refs(key)[0])


def test_shape_values_follow_resizes_and_cached_kernels_see_them():
    it = Interpreter(model_content=reshape_by_shape_of_model().to_bytes())
    a_index, b_index = (d["index"] for d in it.get_input_details())
    b = np.arange(12, dtype=np.float32)
    for batch in (2, 3, 4, 2, 6):  # back to 2: the cached RESHAPE must not keep batch 4's target
        it.resize_tensor_input(a_index, [batch, 5])
        it.allocate_tensors()
        assert _deferred(it) == []
        a = np.full((batch, 5), batch, np.float32)
        it.set_tensor(a_index, a)
        it.set_tensor(b_index, b)
        it.invoke()
        outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
        np.testing.assert_array_equal(outs["y"], b.reshape(batch, -1))
        np.testing.assert_array_equal(outs["z"], a + a)
        np.testing.assert_array_equal(outs["shape"], [batch, 5])
        shape_detail = next(d for d in it.get_output_details() if d["name"] == "y")
        assert list(shape_detail["shape"]) == [batch, 12 // batch]


def test_shape_folding_errors_surface_at_allocate():
    it = Interpreter(model_content=reshape_by_shape_of_model().to_bytes())
    a_index = it.get_input_details()[0]["index"]
    it.resize_tensor_input(a_index, [5, 5])  # 12 elements cannot be split into 5 rows
    with pytest.raises(Exception, match="reshape"):
        it.allocate_tensors()


def test_shape_folding_matches_litert():
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    data = reshape_by_shape_of_model().to_bytes()
    b = np.arange(12, dtype=np.float32)
    for batch in (3, 4):
        results = []
        for cls in (Interpreter, lite.Interpreter):
            it = cls(model_content=data)
            a_index, b_index = (d["index"] for d in it.get_input_details())
            it.resize_tensor_input(a_index, [batch, 5])
            it.allocate_tensors()
            it.set_tensor(a_index, np.ones((batch, 5), np.float32))
            it.set_tensor(b_index, b)
            it.invoke()
            results.append({d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()})
        for name, value in results[1].items():
            np.testing.assert_array_equal(results[0][name], value)


@pytest.mark.parametrize("batch", [1, 4, 17])
def test_dynamic_mlp_resizes(batch):
    key = "mlp_dynamic_f32"
    if key not in MANIFEST:
        pytest.skip("zoo model missing")
    it = Interpreter(model_path=str(zoo_path(key)))
    d = it.get_input_details()[0]
    shape = list(d["shape"])
    shape[0] = batch
    it.resize_tensor_input(d["index"], shape)
    it.allocate_tensors()
    rng = np.random.default_rng(batch)
    x = rng.standard_normal(shape).astype(d["dtype"])
    it.set_tensor(d["index"], x)
    it.invoke()
    y = it.get_tensor(it.get_output_details()[0]["index"])
    assert y.shape[0] == batch
    # row i of a batch equals the same row run alone: the batch dimension flows through
    single = Interpreter(model_path=str(zoo_path(key)))
    shape1 = [1] + shape[1:]
    single.resize_tensor_input(d["index"], shape1)
    single.allocate_tensors()
    single.set_tensor(d["index"], x[-1:])
    single.invoke()
    np.testing.assert_allclose(y[-1:], single.get_tensor(single.get_output_details()[0]["index"]),
                               rtol=1e-5, atol=1e-5)
