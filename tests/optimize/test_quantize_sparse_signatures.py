"""Quantizing sparse weights (DENSIFY) and models with several signatures."""
import numpy as np
import pytest
from conftest import MANIFEST, zoo_inputs, zoo_path
from helpers import assert_outputs_match, representative, run_model

from edgelite.ir import Model, Subgraph
from edgelite.optimize import prune, quantize
from edgelite.reader import load_model
from edgelite.schema import TensorType
from edgelite.sparsity import densify

pytestmark = pytest.mark.skipif(not {"sparse_mlp_f32", "signatures_f32"} <= set(MANIFEST),
                                reason="zoo missing")
SPARSE, SIGS = "sparse_mlp_f32", "signatures_f32"


def _sparse_weights(model):
    sg = model.main
    return [sg.tensors[op.inputs[0]] for op in sg.operators if op.opcode == "DENSIFY"]


def _same_sparsity(a, b):
    assert list(a.traversal_order) == list(b.traversal_order) and list(a.block_map) == list(b.block_map)
    for ma, mb in zip(a.dim_metadata, b.dim_metadata, strict=True):
        assert ma.format == mb.format and ma.dense_size == mb.dense_size
        for field in ("array_segments", "array_indices"):
            x, y = getattr(ma, field), getattr(mb, field)
            assert (x is None) == (y is None)
            if x is not None:
                assert x.dtype == y.dtype and np.array_equal(x, y)


@pytest.mark.parametrize("mode", ["int8", "int16x8"])
def test_sparse_int8_weights_are_laid_out_as_tf_converter(mode):
    """TF's sparse_mlp_int8 stores each sparse layer as int8 sparse constant -> DENSIFY -> FC:
    ours is identical, value for value and index for index (zeros after rounding dropped)."""
    ours = quantize(str(zoo_path(SPARSE)), mode, representative(SPARSE, 2), progress=False)
    tf = load_model(str(zoo_path("sparse_mlp_int8")))
    mine, theirs = _sparse_weights(ours), _sparse_weights(tf)
    assert len(mine) == len(theirs) == 2
    for a, b in zip(mine, theirs):
        assert a.dtype == b.dtype == TensorType.INT8 and a.shape == b.shape
        assert np.array_equal(a.data, b.data)
        assert np.array_equal(a.quantization.scale, b.quantization.scale)
        assert a.quantization.quantized_dimension == b.quantization.quantized_dimension == 0
        _same_sparsity(a.sparsity, b.sparsity)
    sg = ours.main
    act = np.int8 if mode == "int8" else np.int16
    for op in sg.operators:
        if op.opcode == "FULLY_CONNECTED":
            assert sg.tensors[op.inputs[0]].numpy_dtype == act and sg.tensors[op.inputs[1]].dtype == TensorType.INT8
    assert not [op for op in sg.operators if op.opcode == "DENSIFY" and sg.tensors[op.outputs[0]].dtype != TensorType.INT8]


def test_block_sparse_layout_survives_int8():
    pytest.importorskip("ai_edge_litert")
    key = "mlp_dynamic_f32"
    pruned = prune(str(zoo_path(key)), 0.75, "block_1x4")
    before = {t.name: t for t in _sparse_weights(pruned)}
    assert before, "pruning stored no layer in sparse format"
    q, report = quantize(pruned, "int8", representative(key, 3), progress=False, return_report=True)
    assert not report.float_ops
    after = _sparse_weights(q)
    assert len(after) == len(before)
    for t in after:
        src = before[t.name[:-len("_int8")]]
        assert list(t.sparsity.block_map) == [1] and t.sparsity.dim_metadata[2].dense_size == 4
        assert list(t.sparsity.traversal_order) == list(src.sparsity.traversal_order)
        dense = densify(t.data, t.shape, t.sparsity)
        assert np.array_equal(dense != 0, densify(src.data, src.shape, src.sparsity) != 0)
    content = q.to_bytes()
    inputs = zoo_inputs(key)
    assert_outputs_match(run_model(content, inputs, "litert"), run_model(content, inputs, "edgelite"), key)


def test_sparse_float16_keeps_constant_densify_input():
    """LiteRT's DENSIFY needs a constant input: float16 sparse values -> DENSIFY -> DEQUANTIZE."""
    q = quantize(str(zoo_path(SPARSE)), "float16", progress=False)
    sg = q.main
    densifies = [op for op in sg.operators if op.opcode == "DENSIFY"]
    assert len(densifies) == 2
    consumers = sg.consumers()
    for op in densifies:
        src, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
        assert src.data is not None and src.sparsity is not None
        assert src.dtype == out.dtype == TensorType.FLOAT16
        (user,) = consumers[op.outputs[0]]
        assert sg.operators[user].opcode == "DEQUANTIZE"


def test_sparse_weight_read_directly_stays_float():
    """A FULLY_CONNECTED reading a sparse constant itself (no DENSIFY) is left float."""
    m = load_model(str(zoo_path(SPARSE)))
    sg = m.main
    op = next(o for o in sg.operators if o.opcode == "DENSIFY")
    fc = next(o for o in sg.operators if o.opcode == "FULLY_CONNECTED" and op.outputs[0] in o.inputs)
    fc.inputs[1] = op.inputs[0]
    sg.operators.remove(op)
    _, report = quantize(m, "int8", representative(SPARSE, 2), progress=False, return_report=True)
    assert [r for r in report.float_ops if "sparse weights read directly" in r[3]]


# --- several signatures ------------------------------------------------------------------
def _signature_data(n=3):
    data = representative(SIGS, n)
    return data, [(k, s) for k, samples in data.items() for s in samples]


def test_signature_data_forms_agree_and_training_signature_stays_float():
    as_dict, as_pairs = _signature_data()
    results = []
    for form in (as_dict, as_pairs, lambda: iter(as_pairs), {"infer": lambda: iter(as_dict["infer"])}):
        m, report = quantize(str(zoo_path(SIGS)), "int8", form, progress=False, return_report=True)
        results.append(m.to_bytes())
        assert report.integer_signatures == ["infer"]
        assert [k for k, _ in report.float_signatures] == ["train"]
        assert "'train' left in float: assigns resource variables" in report.summary()
    assert all(r == results[0] for r in results[1:])
    m = load_model(results[0])
    infer = m.subgraphs[m.signature_defs[0].subgraph_index]
    train = m.subgraphs[m.signature_defs[1].subgraph_index]
    assert any(op.opcode == "BATCH_MATMUL" and infer.tensors[op.outputs[0]].dtype == TensorType.INT8
               for op in infer.operators)
    assert all(t.dtype != TensorType.INT8 for t in train.tensors)


def test_signature_without_data_is_a_clear_error():
    as_dict, _ = _signature_data()
    with pytest.raises(ValueError, match=r"no samples for signature 'infer'.*keep_float=\['infer'\]"):
        quantize(str(zoo_path(SIGS)), "int8", {"train": as_dict["train"]}, progress=False)
    with pytest.raises(ValueError, match="per-signature data"):
        quantize(str(zoo_path(SIGS)), "int8", [{"x": as_dict["infer"][0]["x"]}], progress=False)
    with pytest.raises(ValueError, match="does not have"):
        quantize(str(zoo_path(SIGS)), "int8", {"nope": []}, progress=False)
    m, report = quantize(str(zoo_path(SIGS)), "int8", {}, keep_float=["infer"], progress=False,
                         return_report=True)
    assert report.integer_signatures == [] and len(report.float_signatures) == 2
    assert not any(t.dtype == TensorType.INT8 for sg in m.subgraphs for t in sg.tensors)


def test_signature_int8io_and_ranges_per_signature():
    pytest.importorskip("ai_edge_litert")
    as_dict, _ = _signature_data()
    m = quantize(str(zoo_path(SIGS)), "int8", as_dict, inference_input_type="int8",
                 inference_output_type="int8", progress=False)
    sig = m.signature_defs[0]
    sg = m.subgraphs[sig.subgraph_index]
    assert sg.tensors[sig.inputs["x"]].dtype == TensorType.INT8
    assert sg.tensors[sig.outputs["logits"]].dtype == TensorType.INT8
    assert sg.tensors[sig.inputs["x"]].name == "infer_x:0"  # the original names stay on the interface
    train = m.signature_defs[1]
    assert m.subgraphs[train.subgraph_index].tensors[train.inputs["x"]].dtype == TensorType.FLOAT32
    with pytest.raises(ValueError, match="ranges has no entry for signature 'infer'"):
        quantize(str(zoo_path(SIGS)), "int8", ranges={"other": {}}, progress=False)


# --- int16x8 ADD / SUB -------------------------------------------------------------------
@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
def test_int16_add_sub_use_general_scaling(opcode):
    """TF's quantizer sets pot_scale_int16=False; with the default (True) LiteRT takes its
    power-of-two path whenever scales are near 2^-k, which cannot broadcast (it aborts)."""
    pytest.importorskip("ai_edge_litert")
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (2, 3))
    y = sg.add_tensor("y", (2, 3))
    b = sg.add_constant("b", np.array([0.5, -1.0, 0.25], np.float32))
    sg.add_operator(opcode, [x, b], [y])
    sg.inputs, sg.outputs = [x], [y]
    model = Model(subgraphs=[sg])
    samples = [[np.array([[1.0, -0.5, 0.0], [0.25, 0.75, -1.0]], np.float32)]]
    # ranges whose int16 scales are exactly 2^-15 (the power-of-two path's trigger)
    q = quantize(model, "int16x8", ranges={x: (-1.0, 1.0), y: (-2.0, 2.0)}, progress=False)
    op = next(o for o in q.main.operators if o.opcode == opcode)
    assert op.options["pot_scale_int16"] is False
    content = q.to_bytes()
    assert_outputs_match(run_model(content, samples[0], "litert"), run_model(content, samples[0], "edgelite"),
                         opcode)
