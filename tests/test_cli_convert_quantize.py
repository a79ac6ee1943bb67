"""`edgelite convert` takes the quantization flags of `edgelite quantize`."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from convert.onnx_builders import conv_bn_act  # noqa: E402
from edgelite import Interpreter, load_model  # noqa: E402
from edgelite.schema import TensorType  # noqa: E402
from edgelite.tools.cli import main  # noqa: E402


@pytest.fixture()
def onnx_file(tmp_path):
    src = tmp_path / "m.onnx"
    onnx.save(conv_bn_act("Relu"), str(src))
    return src


def test_convert_with_int8_quantization(tmp_path, onnx_file, capsys):
    calib = tmp_path / "calib.npz"
    rng = np.random.default_rng(0)
    np.savez(calib, input_0=rng.uniform(-1, 1, (8, 8, 8, 3)).astype(np.float32))  # NHWC: --nhwc-io
    out = tmp_path / "m_int8.tflite"
    rc = main(["convert", str(onnx_file), "-o", str(out), "--nhwc-io", "--mode", "int8",
               "--calibration", str(calib), "--io", "int8"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "int8" in printed.lower()
    model = load_model(str(out))
    sg = model.main
    assert sg.tensors[sg.inputs[0]].dtype == TensorType.INT8
    conv = [op for op in sg.operators if op.opcode == "CONV_2D"]
    assert len(conv) == 1 and sg.tensors[conv[0].inputs[1]].dtype == TensorType.INT8
    it = Interpreter(model_path=str(out))
    it.allocate_tensors()
    d = it.get_input_details()[0]
    it.set_tensor(d["index"], np.zeros(d["shape"], np.int8))
    it.invoke()


def test_convert_with_dynamic_quantization_alias_flag(tmp_path, onnx_file):
    out = tmp_path / "m_dyn.tflite"
    assert main(["convert", str(onnx_file), "-o", str(out), "--quantize", "float16"]) == 0
    types = {t.dtype for t in load_model(str(out)).main.tensors if t.data is not None}
    assert TensorType.FLOAT16 in types


def test_convert_int8_without_calibration_is_a_user_error(tmp_path, onnx_file, capsys):
    rc = main(["convert", str(onnx_file), "-o", str(tmp_path / "x.tflite"), "--mode", "int8"])
    assert rc == 2
    assert "--calibration" in capsys.readouterr().err


def test_convert_without_mode_stays_float(tmp_path, onnx_file):
    out = tmp_path / "m.tflite"
    assert main(["convert", str(onnx_file), "-o", str(out)]) == 0
    consts = [t for t in load_model(str(out)).main.tensors if t.data is not None]
    assert consts and not {t.dtype for t in consts} & {TensorType.INT8, TensorType.FLOAT16}


@pytest.mark.parametrize("keep", [False, True])
def test_convert_qdq_model_folds_unless_keep_qdq(tmp_path, keep, capsys):
    from convert.test_quantize_lowering import _qdq_conv_model
    src = tmp_path / "qdq.onnx"
    onnx.save(_qdq_conv_model(np.int8, True), str(src))
    out = tmp_path / "qdq.tflite"
    assert main(["convert", str(src), "-o", str(out)] + (["--keep-qdq"] if keep else [])) == 0
    printed = capsys.readouterr().out
    assert ("int8_ops_from_qdq" in printed) != keep
    sg = load_model(str(out)).main
    conv = next(op for op in sg.operators if op.opcode == "CONV_2D")
    assert sg.tensors[conv.outputs[0]].dtype == (TensorType.FLOAT32 if keep else TensorType.INT8)
