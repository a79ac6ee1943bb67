"""``edgelite export-onnx``: exported zoo models run in ONNX Runtime and match edgelite."""
import numpy as np
import pytest

from conftest import MANIFEST, run_with_inputs, zoo_data, zoo_inputs, zoo_path
from test_onnxruntime_zoo import KNOWN, output_steps

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

import edgelite  # noqa: E402
from edgelite.export_onnx import LoweringError, export_onnx, supports  # noqa: E402
from edgelite.tools.cli import main  # noqa: E402


def _lowerable(key):
    m = edgelite.load_model(str(zoo_path(key)))
    sg = m.main
    producers = {t: op for op in sg.operators for t in op.outputs}
    return len(m.subgraphs) == 1 and all(supports(op, sg, producers) for op in sg.operators)


KEYS = [k for k in sorted(MANIFEST) if MANIFEST[k]["variant"] in ("f32", "f16", "int8", "int8io") and _lowerable(k)]


def _compare(key, got, want, model):
    """Floats within 1e-4 of scale; int8 results within one quantization step on at most 1%
    of the values (the outputs the zoo test documents as beyond that: XNNPACK's spread)."""
    for j, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"{key} output {j}"
        diff = np.abs(g.astype(np.float64) - w.astype(np.float64))
        step = output_steps(model, j) if MANIFEST[key]["variant"].startswith("int8") else None
        if step is None:
            tol = 1e-4 * max(1.0, float(np.abs(w).max())) if w.size else 0
            assert diff.max() <= tol, f"{key} output {j}: {diff.max()}"
        else:
            limit = 0.01
            if (key, j) in KNOWN:  # held to XNNPACK's own spread from LiteRT's builtin kernels
                z = zoo_data(key)
                limit = float(np.mean(np.abs(z[f"xnn_{j}"].astype(np.float64) - z[f"ref_{j}"]) > 1.0001 * step)) + 0.005
            assert np.mean(diff > 1.0001 * step) <= limit, f"{key} output {j}: {np.mean(diff > 1.0001 * step)}"


@pytest.mark.parametrize("key", KEYS)
def test_exported_zoo_model_runs_in_onnxruntime(key, tmp_path):
    xs = zoo_inputs(key)
    path = tmp_path / "m.onnx"
    assert main(["export-onnx", str(zoo_path(key)), "-o", str(path),
                 *sum((["--input-shape", ",".join(map(str, x.shape))] for x in xs), [])]) == 0
    onnx.checker.check_model(str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})
    it = edgelite.Interpreter(model_path=str(zoo_path(key)))
    want = run_with_inputs(it, xs)
    _compare(key, got, want, it.model)


def test_qdq_form_of_an_int8_model(tmp_path):
    key = "mobilenet_v2_int8"
    proto = export_onnx(str(zoo_path(key)), qlinear=False)
    types = {n.op_type for n in proto.graph.node}
    assert "QLinearConv" not in types and {"Conv", "QuantizeLinear", "DequantizeLinear"} <= types
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    xs = zoo_inputs(key)
    got = sess.run(None, {sess.get_inputs()[0].name: xs[0]})
    want = run_with_inputs(edgelite.Interpreter(model_path=str(zoo_path(key))), xs)
    _compare(key, got, want, edgelite.load_model(str(zoo_path(key))))


def test_unlowerable_model_names_the_nodes(tmp_path, capsys):
    assert main(["export-onnx", str(zoo_path("lstm_text_dyn")), "-o", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err
    assert "have no ONNX lowering" in err and "UNIDIRECTIONAL_SEQUENCE_LSTM (node 2)" in err  # hybrid LSTMs
    with pytest.raises(LoweringError):
        export_onnx(str(zoo_path("ops_control_flow_f32")))
