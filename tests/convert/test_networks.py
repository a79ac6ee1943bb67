"""Real (small, random-weight) networks: torch -> ONNX -> edgelite.convert -> LiteRT / edgelite."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from edgelite.convert import from_onnx  # noqa: E402
from edgelite.convert.torch_export import export_onnx_bytes  # noqa: E402

from .helpers import assert_close_rel, run_edgelite, run_litert, run_onnxruntime  # noqa: E402
from .nets import CNNS, NETWORKS, build  # noqa: E402

_CACHE = {}


def exported(name):
    if name not in _CACHE:
        module, x = build(name)
        data = export_onnx_bytes(module, (x,))
        ref = run_onnxruntime(data, {"input_0": x.numpy()})
        _CACHE[name] = (data, x.numpy(), ref)
    return _CACHE[name]


@pytest.mark.parametrize("name", NETWORKS)
def test_network_matches_onnxruntime_in_litert(name):
    pytest.importorskip("ai_edge_litert")
    data, x, ref = exported(name)
    model = from_onnx(data)
    got = run_litert(model, [x])
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert_close_rel(g, r, 1e-4)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_matches_onnxruntime_in_edgelite(name):
    data, x, ref = exported(name)
    model = from_onnx(data)
    got = run_edgelite(model, [x])
    for g, r in zip(got, ref):
        assert_close_rel(g, r, 1e-4)


@pytest.mark.parametrize("name", sorted(CNNS))
def test_cnn_has_no_interior_transpose(name):
    data, _, _ = exported(name)
    model = from_onnx(data)
    sg = model.main
    producers = sg.producers()
    consumers = sg.consumers()
    for op in sg.operators:
        if op.opcode != "TRANSPOSE":
            continue
        # allowed only right at a graph input or right before a graph output
        at_input = op.inputs[0] in sg.inputs
        at_output = op.outputs[0] in sg.outputs
        assert at_input or at_output, "TRANSPOSE inside the graph"
        assert not (op.inputs[0] in producers and op.outputs[0] in consumers and not at_output)
    n_in = sum(1 for op in sg.operators if op.opcode == "TRANSPOSE" and op.inputs[0] in sg.inputs)
    n_out = sum(1 for op in sg.operators if op.opcode == "TRANSPOSE" and op.outputs[0] in sg.outputs)
    assert n_in <= len(sg.inputs) and n_out <= len(sg.outputs)


@pytest.mark.parametrize("name", sorted(CNNS))
def test_cnn_nhwc_io_has_no_transpose(name):
    pytest.importorskip("ai_edge_litert")
    data, x, ref = exported(name)
    model = from_onnx(data, nhwc_io=True)
    assert "TRANSPOSE" not in model.op_histogram()
    got = run_litert(model, [x.transpose(0, 2, 3, 1)])
    for g, r in zip(got, ref):
        r = np.asarray(r)
        assert_close_rel(g, r.transpose(0, 2, 3, 1) if r.ndim == 4 else r, 1e-4)


def test_cnn_passes_fold_batchnorm_and_fuse_activations():
    data, _, _ = exported("mobilenetv2")
    stats = {}
    model = from_onnx(data, stats=stats)
    hist = model.op_histogram()
    # (torch's exporter already folds eval-mode BatchNorm into Conv; test_convert_basics covers ours)
    assert stats["fused_activations"] > 0
    assert "RELU6" not in hist and "MUL" not in hist  # BN folded, ReLU6 fused
    fused = [op.options["fused_activation_function"] for op in model.main.operators if op.opcode == "CONV_2D"]
    assert 3 in fused  # RELU6


def test_transformer_uses_gelu_and_softmax():
    data, _, _ = exported("transformer")
    hist = from_onnx(data).op_histogram()
    assert hist.get("GELU") == 2 and hist.get("SOFTMAX") == 2


def test_from_torch_end_to_end():
    pytest.importorskip("ai_edge_litert")
    from edgelite.convert import from_torch
    module, x = build("lstm")
    model = from_torch(module, (x,))
    with torch.no_grad():
        ref = module(x).numpy()
    assert_close_rel(run_litert(model, [x.numpy()])[0], ref, 1e-4)
