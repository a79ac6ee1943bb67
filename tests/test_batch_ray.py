"""edgelite.batch on a local Ray cluster: bit-exact with a serial loop, errors per row, evaluate."""
import json
from pathlib import Path

import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Subgraph

ray = pytest.importorskip("ray", reason="edgelite.batch needs ray (pip install 'edgelite[ray]')")
pytest.importorskip("ray.data")

pytestmark = pytest.mark.ray
ZOO = Path(__file__).resolve().parent.parent.parent / "shared" / "zoo"


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


def fc_model(batch: int = 1) -> Model:
    """y = relu(x @ W.T + b), x of shape (batch, 4): a fixed batch of 1 unless batch=-1."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32)
    sg.tensors[x].shape_signature = (batch, 4)
    w = sg.add_constant("W", np.arange(12, dtype=np.float32).reshape(3, 4) / 10)
    b = sg.add_constant("b", np.array([-1.0, 0.0, 1.0], np.float32))
    y = sg.add_tensor("y", (1, 3), np.float32)
    sg.add_operator("FULLY_CONNECTED", [x, w, b], [y], {"fused_activation_function": 1})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


def image_mean_model() -> Model:
    """Mean colour of a 4x4 RGB float image (pixels / 255 by the default image decoding)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("image", (1, 4, 4, 3), np.float32)
    axes = sg.add_constant("axes", np.array([1, 2], np.int32))
    y = sg.add_tensor("mean", (1, 3), np.float32)
    sg.add_operator("MEAN", [x, axes], [y], {"keep_dims": False})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


def serial(model_bytes: bytes, rows: np.ndarray) -> np.ndarray:
    it = Interpreter(model_content=model_bytes)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    results = []
    for row in rows:
        it.set_tensor(inp["index"], row[None].astype(inp["dtype"]))
        it.invoke()
        results.append(it.get_tensor(out["index"])[0].copy())
    return np.stack(results)


def test_predict_equals_a_serial_loop_bit_for_bit():
    from edgelite.batch import predict
    from edgelite.writer import write_model
    content = write_model(fc_model())
    rows = np.random.default_rng(0).normal(size=(600, 4)).astype(np.float32)
    ds = ray.data.from_numpy(rows).repartition(4)
    got = predict(ds, content, batch_size=64, num_workers=2).to_pandas()
    assert list(got.columns) == ["data", "y", "error"]
    assert got["error"].isna().all()
    # Ray keeps the order of rows within a dataset's blocks; match rows by their input anyway
    order = np.lexsort(np.stack(got["data"].to_list()).T)
    expect = serial(content, rows)
    np.testing.assert_array_equal(np.stack(got["y"].to_list())[order], expect[np.lexsort(rows.T)])


def test_batch_invoke_resizes_dynamic_batch_models_and_loops_fixed_ones():
    from edgelite.batch import ModelRunner
    from edgelite.writer import write_model
    rows = np.random.default_rng(1).normal(size=(10, 4)).astype(np.float32)
    fixed = ModelRunner(write_model(fc_model()), batch_invoke=True)
    dynamic = ModelRunner(write_model(fc_model(batch=-1)), batch_invoke=True)
    assert not fixed.batchable and dynamic.batchable
    a, b = fixed({"x": rows}), dynamic({"x": rows})
    assert dynamic._batch_size == 10  # one invoke for the whole batch
    np.testing.assert_allclose(a["y"], b["y"], rtol=1e-6, atol=1e-6)


def test_bad_rows_land_in_the_error_column(tmp_path):
    from PIL import Image

    from edgelite.batch import predict
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(2)
    pixels = {}
    for i in range(5):
        px = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        Image.fromarray(px).save(folder / f"img{i}.png")
        pixels[f"img{i}.png"] = px
    (folder / "broken.png").write_bytes(b"\x89PNG not really an image")
    out = predict(str(folder), image_mean_model(), batch_size=4, num_workers=1).to_pandas()
    assert sorted(out.columns) == ["error", "mean", "path"]
    assert len(out) == 6
    broken = out[out["path"].str.endswith("broken.png")]
    assert len(broken) == 1 and "cannot decode image" in broken["error"].iloc[0]
    good = out[out["error"].isna()]
    assert len(good) == 5
    for path, mean in zip(good["path"], good["mean"]):
        px = np.asarray(Image.fromarray(pixels[Path(path).name]).resize((4, 4), Image.BILINEAR), np.float32)
        np.testing.assert_allclose(mean, (px / 255.0).mean(axis=(0, 1)), rtol=1e-5)


def test_wrong_shapes_are_errors_not_failures():
    from edgelite.batch import predict
    ds = ray.data.from_numpy(np.zeros((8, 5), np.float32))
    out = predict(ds, fc_model(), num_workers=1, keep_inputs=False).to_pandas()
    assert list(out.columns) == ["y", "error"]
    assert out["error"].str.contains("fits neither").all()


def test_several_inputs_are_fed_by_column_name():
    from edgelite.batch import predict
    sg = Subgraph(name="main")
    a = sg.add_tensor("a", (1, 3), np.float32)
    b = sg.add_tensor("b", (1, 3), np.float32)
    y = sg.add_tensor("sum", (1, 3), np.float32)
    sg.add_operator("SUB", [a, b], [y], {})
    sg.inputs, sg.outputs = [a, b], [y]
    rng = np.random.default_rng(3)
    va, vb = rng.normal(size=(20, 3)).astype(np.float32), rng.normal(size=(20, 3)).astype(np.float32)
    ds = ray.data.from_items([{"b": vb[i], "a": va[i]} for i in range(20)])
    out = predict(ds, Model(subgraphs=[sg]), num_workers=1).to_pandas()
    got = np.stack(out["sum"].to_list())
    np.testing.assert_array_equal(got, np.stack(out["a"].to_list()) - np.stack(out["b"].to_list()))


@pytest.mark.skipif(not (ZOO / "mobilenet_v2_int8.tflite").exists(), reason="zoo not found")
def test_evaluate_float_vs_int8_matches_a_serial_computation():
    from edgelite.batch import evaluate
    from edgelite.optimize.debugger import snr_db_from_powers
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, size=(12, 224, 224, 3)).astype(np.float32)
    fa, fb = ZOO / "mobilenet_v2_f32.tflite", ZOO / "mobilenet_v2_int8.tflite"
    ya, yb = serial(fa.read_bytes(), x).astype(np.float64), serial(fb.read_bytes(), x).astype(np.float64)
    labels = ya.argmax(1)
    labels[::3] = 0  # some rows wrong for the reference model too
    ds = ray.data.from_items([{"x": x[i], "label": int(labels[i])} for i in range(12)])
    report = evaluate(ds, fa, fb, labels="label", batch_size=4, num_workers=2)
    assert report.rows == 12 and report.errors == 0
    (o,) = report.outputs
    assert o.top1_agreement == pytest.approx(float((ya.argmax(1) == yb.argmax(1)).mean()), abs=0)
    err = yb - ya
    assert o.max_abs == pytest.approx(np.abs(err).max(), rel=1e-12)
    assert o.mean_abs == pytest.approx(np.abs(err).mean(), rel=1e-9)
    assert o.snr_db == pytest.approx(snr_db_from_powers((ya ** 2).sum(), (err ** 2).sum(), ya.size), rel=1e-9)
    assert report.accuracy_a == pytest.approx(float((ya.argmax(1) == labels).mean()), abs=0)
    assert report.accuracy_b == pytest.approx(float((yb.argmax(1) == labels).mean()), abs=0)
    assert json.loads(report.to_json())["rows"] == 12


def test_cli_batch_writes_parquet_and_batch_eval_prints(tmp_path, capsys):
    import pyarrow.parquet as pq

    from edgelite.tools.cli import main
    from edgelite.writer import save_model
    save_model(fc_model(), tmp_path / "m.tflite")
    rows = np.random.default_rng(5).normal(size=(30, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", rows)
    assert main(["batch", str(tmp_path / "m.tflite"), str(tmp_path / "x.npy"),
                 "-o", str(tmp_path / "out.parquet"), "--workers", "1"]) == 0
    assert "30 rows written" in capsys.readouterr().out
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 30 and set(table.column_names) == {"data", "y", "error"}
    assert main(["batch-eval", str(tmp_path / "m.tflite"), str(tmp_path / "m.tflite"),
                 str(tmp_path / "x.npy"), "--workers", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 30 and report["outputs"][0]["max_abs"] == 0.0


SUPPORT = ZOO.parent / "support" / "task" / "vision"


@pytest.mark.skipif(not (SUPPORT / "mobilenet_v1_0.25_224_quant.tflite").exists(), reason="support data not found")
def test_classify_images_equals_the_task_api_row_by_row(tmp_path):
    pytest.importorskip("PIL")
    import shutil

    from edgelite.batch.tasks import classify_images
    from edgelite.tasks import core, processor, vision
    model = SUPPORT / "mobilenet_v1_0.25_224_quant.tflite"
    for name in ("burger.jpg", "cats_and_dogs.jpg", "sparrow.png"):
        shutil.copy(SUPPORT / name, tmp_path / name)
    (tmp_path / "truncated.jpg").write_bytes((SUPPORT / "burger.jpg").read_bytes()[:300])
    table = classify_images(str(tmp_path), model, max_results=3, num_workers=1).to_pandas()
    assert len(table) == 4
    bad = table[table["path"].str.endswith("truncated.jpg")]
    assert "decoding failed" in bad["error"].iloc[0] and bad["label"].isna().iloc[0]
    classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=str(model)),
        classification_options=processor.ClassificationOptions(max_results=3)))
    for _, row in table[table["error"].isna()].iterrows():
        cats = classifier.classify(vision.TensorImage.create_from_file(row["path"])).classifications[0].categories
        assert list(row["labels"]) == [c.category_name for c in cats]
        assert list(row["scores"]) == [c.score for c in cats]
        assert row["label"] == cats[0].category_name
