"""`edgelite quantize` and `edgelite debug-quant`."""
import json

import numpy as np
import pytest

from conftest import MANIFEST, zoo_path
from edgelite.optimize.data import load_samples, read_pnm
from edgelite.reader import load_model
from edgelite.schema import TensorType
from edgelite.tools.cli import main
from helpers import representative, run_model

pytestmark = pytest.mark.skipif("mlp_dynamic_f32" not in MANIFEST, reason="zoo missing")
KEY = "mlp_dynamic_f32"


@pytest.fixture()
def npz(tmp_path):
    path = tmp_path / "calib.npz"
    np.savez(path, input_0=np.stack([s[0] for s in representative(KEY, 4)]))
    return path


@pytest.mark.parametrize("mode", ["int8", "int16x8", "dynamic", "float16"])
def test_cli_quantize_modes(tmp_path, npz, mode, capsys):
    out = tmp_path / "q.tflite"
    rc = main(["quantize", str(zoo_path(KEY)), "-o", str(out), "--mode", mode, "--calibration", str(npz), "-q"])
    assert rc == 0 and out.exists()
    m = load_model(str(out))
    types = {t.dtype for t in m.main.tensors}
    expected = {"int8": TensorType.INT8, "int16x8": TensorType.INT16, "dynamic": TensorType.INT8,
                "float16": TensorType.FLOAT16}[mode]
    assert expected in types


def test_cli_quantize_needs_calibration(tmp_path, capsys):
    rc = main(["quantize", str(zoo_path(KEY)), "-o", str(tmp_path / "q.tflite"), "--mode", "int8"])
    assert rc == 2 and "needs --calibration" in capsys.readouterr().err


def test_cli_quantize_int8_io_and_summary(tmp_path, npz, capsys):
    out = tmp_path / "q.tflite"
    rc = main(["quantize", str(zoo_path(KEY)), "-o", str(out), "--calibration", str(npz), "--io", "int8",
               "--keep-float", "TANH"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "TANH" in text and "left in float" in text and "wrote" in text
    m = load_model(str(out))
    assert m.main.tensors[m.main.inputs[0]].dtype == TensorType.INT8


def test_cli_debug_quant(tmp_path, npz, capsys):
    out = tmp_path / "q.tflite"
    assert main(["quantize", str(zoo_path(KEY)), "-o", str(out), "--calibration", str(npz), "-q"]) == 0
    rc = main(["debug-quant", str(zoo_path(KEY)), str(out), "--data", str(npz), "--json",
               str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "local SNR" in text and "suggested keep_float" in text
    report = json.loads((tmp_path / "r.json").read_text())
    assert len(report["ops"]) == 5
    assert "<table>" in (tmp_path / "r.html").read_text()


def _write_ppm(path, img):
    h, w, _ = img.shape
    path.write_bytes(b"P6\n# test\n%d %d\n255\n" % (w, h) + img.astype(np.uint8).tobytes())


def test_image_folder_calibration(tmp_path):
    key = "unet_f32"
    rng = np.random.default_rng(0)
    for i in range(2):
        _write_ppm(tmp_path / f"img{i}.ppm", rng.integers(0, 256, (40, 50, 3)))
    (tmp_path / "notes.txt").write_text("not an image")
    assert read_pnm(tmp_path / "img0.ppm").shape == (40, 50, 3)
    samples = load_samples(tmp_path, load_model(str(zoo_path(key))), mean=[127.5], std=[127.5])
    assert len(samples) == 2 and samples[0][0].shape == (1, 96, 96, 3)
    assert samples[0][0].min() >= -1 and samples[0][0].max() <= 1
    out = tmp_path / "q.tflite"
    rc = main(["quantize", str(zoo_path(key)), "-o", str(out), "--calibration", str(tmp_path),
               "--mean", "0", "--std", "255", "-q"])
    assert rc == 0
    res = run_model(out.read_bytes(), [samples[0][0]])
    assert np.all(np.isfinite(res[0]))


def test_bad_data_files(tmp_path, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("1,2")
    rc = main(["quantize", str(zoo_path(KEY)), "-o", str(tmp_path / "q.tflite"), "--calibration", str(bad)])
    assert rc == 2 and ".npz, .npy" in capsys.readouterr().err
    npz = tmp_path / "wrong.npz"
    np.savez(npz, other=np.zeros((2, 1, 20), np.float32))
    rc = main(["quantize", str(zoo_path(KEY)), "-o", str(tmp_path / "q.tflite"), "--calibration", str(npz)])
    assert rc == 2 and "no array for input" in capsys.readouterr().err


@pytest.mark.skipif("signatures_f32" not in MANIFEST, reason="zoo missing")
def test_cli_quantize_multi_signature_model(tmp_path, capsys):
    """Several signatures: an .npz with arrays named SIGNATURE/INPUT calibrates each one."""
    sig_key = "signatures_f32"
    data = representative(sig_key, 3)
    npz = tmp_path / "sigs.npz"
    np.savez(npz, **{"infer/x": np.stack([s["x"] for s in data["infer"]])})
    out = tmp_path / "q.tflite"
    rc = main(["quantize", str(zoo_path(sig_key)), "-o", str(out), "--mode", "int8", "--calibration", str(npz)])
    printed = capsys.readouterr().out
    assert rc == 0 and "signature(s) quantized: infer" in printed and "'train' left in float" in printed
    m = load_model(str(out))
    infer = m.subgraphs[m.signature_defs[0].subgraph_index]
    assert any(t.dtype == TensorType.INT8 for t in infer.tensors)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **{"infer/z": np.zeros((2, 1, 6), np.float32)})
    rc = main(["quantize", str(zoo_path(sig_key)), "-o", str(out), "--calibration", str(bad)])
    assert rc == 2 and "name no signature input" in capsys.readouterr().err
    empty = tmp_path / "train_only.npz"
    np.savez(empty, **{"train/x": np.zeros((2, 1, 6), np.float32), "train/y": np.zeros((2, 1, 3), np.float32)})
    rc = main(["quantize", str(zoo_path(sig_key)), "-o", str(out), "--calibration", str(empty)])
    assert rc == 2 and "no samples for signature 'infer'" in capsys.readouterr().err
    rc = main(["quantize", str(zoo_path(sig_key)), "-o", str(out), "--calibration", str(empty),
               "--keep-float", "infer", "-q"])
    assert rc == 0
