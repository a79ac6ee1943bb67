"""edgelite.viz without a browser: the page's content, the overlays, the CLI on every model."""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from edgelite.errors import ModelError
from edgelite.reader import load_model
from edgelite.tools.cli import main
from edgelite.viz import Overlay, View, delegated_nodes, quant_debug_overlay, render
from edgelite.viz.graph_data import model_data, name_scope, op_family, weights_summary

from conftest import MANIFEST, ZOO, zoo_path

from .synthetic import synthetic_model

REALMODELS = ZOO.parent / "realmodels"


def page_data(html: str) -> dict:
    m = re.search(r'<script id="edgelite-data" type="application/json">(.*?)</script>', html, re.S)
    assert m, "no data block in the page"
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_page_is_self_contained():
    html = render(synthetic_model(30))
    # no external resources: no src/href attributes, no URLs the page could load, a strict CSP
    assert not re.search(r'\b(src|href)\s*=\s*["\']?(https?:)?//', html)
    assert "default-src 'none'" in html
    assert html.count("<script") == 5 and "dagre" in html
    data = page_data(html)
    assert len(data["subgraphs"][0]["ops"]) == 30


def test_package_data_is_shipped():
    import edgelite.viz
    assets = Path(edgelite.viz.__file__).parent / "assets"
    for name in ("dagre.min.js", "dagre.LICENSE", "scopes.js", "widgets.js", "viewer.js", "viewer.css"):
        assert (assets / name).is_file(), name
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"edgelite.viz" = ["assets/*"]' in pyproject


def test_model_data_numbers_ops_and_describes_tensors():
    if "efficientnet_b0_int8" not in MANIFEST:
        pytest.skip("zoo not found")
    model = load_model(zoo_path("efficientnet_b0_int8"))
    data = model_data(model)
    ops = data["subgraphs"][0]["ops"]
    assert [op["type"] for op in ops] == [op.name for op in model.main.operators]
    conv = next(i for i, op in enumerate(model.main.operators) if op.opcode == "CONV_2D")
    assert ops[conv]["family"] == "conv" and ops[conv]["options"]["stride_w"] >= 1
    w = data["subgraphs"][0]["tensors"][model.main.operators[conv].inputs[1]]
    assert w["const"] and w["dtype"] == "int8" and w["q"]["count"] > 1  # per-channel weights
    assert sum(w["w"]["hist"]) == w["w"]["count"] and -128 <= w["w"]["min"] <= w["w"]["max"] <= 127
    act = data["subgraphs"][0]["tensors"][model.main.operators[conv].outputs[0]]
    assert "const" not in act and act["q"]["count"] == 1 and act["shape_signature"][0] == -1


def test_control_flow_calls_and_signatures():
    if "ops_control_flow_f32" not in MANIFEST:
        pytest.skip("zoo not found")
    model = load_model(zoo_path("ops_control_flow_f32"))
    data = model_data(model)
    calls = [c for op in data["subgraphs"][0]["ops"] for c in op.get("calls", [])]
    assert {c["role"] for c in calls} >= {"then", "else", "cond", "body"}
    for c in calls:
        assert any(w["subgraph"] == 0 for w in data["subgraphs"][c["subgraph"]]["called_by"])
    sigs = model_data(load_model(zoo_path("signatures_f32")))["signatures"]
    assert {s["key"] for s in sigs} == {"infer", "train"}


def test_helpers():
    assert name_scope("model/block1/conv/Conv2D;model/block1/bn") == ["model", "block1", "conv"]
    assert name_scope("input") == []
    assert op_family("DEPTHWISE_CONV_2D") == "conv" and op_family("CUSTOM") == "custom"
    assert op_family("SOME_NEW_OP") == "other"
    from edgelite.ir import Tensor
    s = weights_summary(Tensor("w", (4,), data=np.array([0, 1, 1, 3], np.float32)))
    assert s["min"] == 0 and s["max"] == 3 and s["zeros"] == 0.25 and sum(s["hist"]) == 4
    assert weights_summary(Tensor("e", (0,), data=np.zeros(0, np.float32))) is None


def test_overlays_validate_and_serialize(tmp_path):
    ov = Overlay("time", {0: 1.5, (0, 2): 3.0, 3: float("nan")}, unit="ms")
    assert ov.values == {(0, 0): 1.5, (0, 2): 3.0}
    with pytest.raises(ValueError, match="hot"):
        Overlay("x", {}, hot="warm")
    model = synthetic_model(5)
    with pytest.raises(ModelError, match="node 9"):
        render(model, [Overlay("time", {9: 1.0})])
    data = page_data(render(model, {"time": {0: 1.0, 4: 2.0}}))
    assert data["overlays"] == [{"name": "time", "unit": "", "hot": "high", "values": {"0:0": 1.0, "0:4": 2.0}}]
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"ops": [{"op_index": 1, "snr_db": 30.0, "local_snr_db": 12.0},
                                          {"op_index": 3, "snr_db": 20.0, "local_snr_db": None}],
                                  "keep_float": []}))
    q = quant_debug_overlay(report)
    assert q.values == {(0, 1): 12.0, (0, 3): 20.0} and q.hot == "low" and q.unit == "dB"
    report.write_text("[1, 2]")
    with pytest.raises(ModelError, match="ops"):
        quant_debug_overlay(report)
    report.write_text("not json")
    with pytest.raises(ModelError, match="debug-quant"):
        quant_debug_overlay(report)


def test_delegated_nodes_are_marked():
    rows = [{"partition": 0, "delegate": "onnxruntime", "subgraph": 0, "nodes": [1, 2], "ops": ["ADD", "RELU"]}]
    marks = delegated_nodes(rows)
    assert marks == {(0, 1): "onnxruntime", (0, 2): "onnxruntime"}
    ops = page_data(render(synthetic_model(4), delegated=marks))["subgraphs"][0]["ops"]
    assert [op.get("delegate") for op in ops] == [None, "onnxruntime", "onnxruntime", None]


def test_view_repr_html_and_model_repr(tmp_path):
    model = synthetic_model(3)
    view = View(model)
    frame = view._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "&lt;script" in frame
    assert view.save(tmp_path / "v.html").read_text() == view.html
    assert model._repr_html_().startswith("<iframe")  # a Model as a notebook cell's last expression


def test_core_does_not_import_viz():
    import subprocess
    import sys
    code = ("import sys, edgelite, edgelite.interpreter, edgelite.reader, edgelite.writer; "
            "print('edgelite.viz' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_render_rejects_bad_input(tmp_path):
    with pytest.raises(TypeError):
        render(42)
    with pytest.raises(FileNotFoundError):
        render(tmp_path / "missing.tflite")
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError):
        render(bad)


def _all_model_files() -> list[Path]:
    files = sorted(ZOO.glob("*.tflite")) if ZOO.is_dir() else []
    if REALMODELS.is_dir():
        files += sorted(REALMODELS.rglob("*.tflite"))
    return files


def test_cli_writes_a_page_for_every_zoo_and_realmodels_file(tmp_path, capsys):
    files = _all_model_files()
    if not files:
        pytest.skip(f"no models under {ZOO} or {REALMODELS}")
    for i, f in enumerate(files):
        out = tmp_path / f"{i}_{f.stem}.html"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # third-party models warn about quirks the reader repairs
            assert main(["viz", str(f), "-o", str(out)]) == 0, f
        data = page_data(out.read_text())
        assert [len(sg["ops"]) for sg in data["subgraphs"]] == [len(s.operators) for s in _cached(f).subgraphs], f
    assert "wrote" in capsys.readouterr().out


def _cached(f: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model(str(f))


def test_cli_default_output_profile_and_quant_debug(tmp_path, capsys):
    model = synthetic_model(6)
    path = tmp_path / "m.tflite"
    model.save(path)
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"ops": [{"op_index": 2, "snr_db": 9.0, "local_snr_db": None}], "keep_float": []}))
    assert main(["viz", str(path), "--profile", "--runs", "2", "--quant-debug", str(report)]) == 0
    data = page_data((tmp_path / "m.html").read_text())
    names = [o["name"] for o in data["overlays"]]
    assert names == ["time", "SNR"]
    assert set(data["overlays"][0]["values"]) == {f"0:{k}" for k in range(6)}
    assert data["overlays"][1]["values"] == {"0:2": 9.0}
    assert main(["viz", str(tmp_path / "nope.tflite")]) == 2
    assert main(["viz", str(path), "--quant-debug", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_weights_summary_of_huge_constant_values():
    from edgelite.ir import Tensor
    from edgelite.schema import TensorType
    s = weights_summary(Tensor("big", (3,), TensorType.INT64, data=np.full(3, 2**62, np.int64)))
    assert s["count"] == 3 and sum(s["hist"]) == 3 and s["min"] == s["max"] == float(2**62)


SUPPORT_DETECTOR = (ZOO.parent / "support" / "metadata" / "object_detector"
                    / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_score_calibration.tflite")


def test_metadata_and_associated_files():
    pytest.importorskip("edgelite.metadata", reason="edgelite.metadata is not installed")
    if not SUPPORT_DETECTOR.is_file():
        pytest.skip(f"{SUPPORT_DETECTOR} not found")
    md = page_data(render(SUPPORT_DETECTOR))["metadata"]
    assert json.loads(md["json"])["name"] == "ObjectDetector"
    assert md["associated_files"] == ["score_calibration_dummy.csv", "labelmap.txt"]
    assert md["entries"] == [{"name": "TFLITE_METADATA", "bytes": 1580}]


def test_quant_debug_overlay_reads_debuggers_json():
    from edgelite.optimize.debugger import OpError, to_json
    rows = [OpError(4, "CONV_2D", "conv", 0.1, 0.2, 0.9, 1.1, 18.5, 11.25),
            OpError(7, "ADD", "add", 0.1, 0.2, 0.9, 1.1, float("inf"), None)]
    ov = quant_debug_overlay(json.loads(to_json(rows, ["conv"])))
    assert ov.values == {(0, 4): 11.25}  # an infinite SNR (exact op) is written as null and left out


def test_interpreter_with_delegate_marks_its_nodes():
    import edgelite
    from edgelite.delegates import Delegate, DelegateKernel

    class AddOnly(Delegate):
        name = "adder"

        def supports(self, op, subgraph):
            return op.opcode == "ADD"

        def create_kernel(self, partition):
            return DelegateKernel(partition)

    model = synthetic_model(10)  # ops 0, 3, 6 (ADD const) and 9 (residual ADD) are ADDs
    it = edgelite.Interpreter(model_content=model.to_bytes(), experimental_delegates=[AddOnly()])
    ops = page_data(render(it))["subgraphs"][0]["ops"]
    assert len(ops) == 10  # the original graph, not the one with DELEGATE nodes
    marked = [i for i, op in enumerate(ops) if op.get("delegate") == "adder"]
    assert marked == sorted(n for p in it._delegation.summary() for n in p["nodes"]) == [0, 3, 6, 9]
    plain = page_data(render(edgelite.Interpreter(model_content=model.to_bytes())))["subgraphs"][0]["ops"]
    assert not any("delegate" in op for op in plain)


def test_cli_delegate_option(tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnxruntime delegate needs onnxruntime")
    path = tmp_path / "m.tflite"
    synthetic_model(4).save(path)
    assert main(["viz", str(path), "-o", str(tmp_path / "d.html"), "--delegate", "onnxruntime"]) == 0
    ops = page_data((tmp_path / "d.html").read_text())["subgraphs"][0]["ops"]
    assert [op.get("delegate") for op in ops] == ["onnxruntime"] * 4
    assert main(["viz", str(path), "--delegate-option", "x=1"]) == 2  # an option without --delegate


def test_cli_profile_of_a_model_edgelite_cannot_run(tmp_path, capsys):
    from edgelite.ir import Model, Subgraph
    sg = Subgraph(name="main")
    x, y = sg.add_tensor("x", (1, 4)), sg.add_tensor("y", (1, 4))
    sg.add_operator("CUSTOM", [x], [y], custom_code="NoSuchOp")
    sg.inputs, sg.outputs = [x], [y]
    path = tmp_path / "custom.tflite"
    Model(subgraphs=[sg]).save(path)
    assert main(["viz", str(path), "--profile"]) == 2
    assert "--profile: edgelite cannot run this model" in capsys.readouterr().err
    assert main(["viz", str(path)]) == 0  # drawing needs no kernel
    ops = page_data((tmp_path / "custom.html").read_text())["subgraphs"][0]["ops"]
    assert ops == [{"type": "NoSuchOp", "family": "custom", "inputs": [0], "outputs": [1], "version": 1,
                    "scope": []}]
