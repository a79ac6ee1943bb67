"""Full-integer UNIDIRECTIONAL_SEQUENCE_LSTM (LiteRT's 8x8_16 LSTM) from int8 quantization:
no float islands, the tensor types / scales the integer kernel needs, the calibrated cell
range, the fall-backs to float, and bit-exact agreement with LiteRT."""
import numpy as np
import pytest

from conftest import zoo_inputs, zoo_path
from edgelite.interpreter import Interpreter
from edgelite.optimize import quantize
from edgelite.optimize.calibrate import calibrate
from edgelite.optimize.lstm import CELL_STATE, OPCODE, cell_log2
from edgelite.reader import load_model
from edgelite.schema import TensorType
from helpers import assert_outputs_match, representative, run_model

KEY = "lstm_text_f32"


def _quantize(mode="int8", model=None, **kw):
    model = model or load_model(str(zoo_path(KEY)))
    return quantize(model, mode, representative(KEY, 3), progress=False, return_report=True, **kw)


def _lstms(model):
    return [op for op in model.main.operators if op.opcode == OPCODE]


def test_int8_lstm_is_integer_with_litert_tensor_types():
    model, report = _quantize()
    assert report.float_ops == []
    assert not any(op.opcode in ("DEQUANTIZE", "QUANTIZE") for op in model.main.operators[1:-1])
    sg = model.main
    for op in _lstms(model):
        t = lambda i: sg.tensors[op.inputs[i]]
        assert t(0).dtype == TensorType.INT8 and sg.tensors[op.outputs[0]].dtype == TensorType.INT8
        for i in range(1, 9):
            assert t(i).dtype == TensorType.INT8 and t(i).quantization.scale.size == 1
            assert t(i).quantization.zero_point[0] == 0
        for g, i in enumerate(range(12, 16)):
            expected = np.float32(t(0).quantization.scale[0] * np.float64(t(1 + g).quantization.scale[0]))
            assert t(i).dtype == TensorType.INT32
            np.testing.assert_allclose(t(i).quantization.scale[0], expected, rtol=1e-6)
        assert t(18).dtype == TensorType.INT8 and t(18).is_variable
        assert t(18).quantization.same_as(sg.tensors[op.outputs[0]].quantization)
        cell = float(t(19).quantization.scale[0])
        assert t(19).dtype == TensorType.INT16 and np.log2(cell) == int(np.log2(cell))
        assert len(op.intermediates) == 5
        assert [sg.tensors[i].dtype for i in op.intermediates] == [TensorType.INT16] * 4 + [TensorType.INT8]
        assert all(sg.tensors[i].quantization.scale[0] == 2.0 ** -12 for i in op.intermediates[:4])


def test_int8_lstm_runs_bit_exact_with_litert():
    pytest.importorskip("ai_edge_litert")
    model, _ = _quantize(inference_input_type="int8", inference_output_type="int8")
    content = model.to_bytes()
    assert_outputs_match(run_model(content, zoo_inputs(KEY), "litert"),
                         run_model(content, zoo_inputs(KEY), "edgelite"), KEY)


def test_keep_float_leaves_lstm_float():
    model, report = _quantize(keep_float=["UNIDIRECTIONAL_SEQUENCE_LSTM"])
    assert [r for _, op, _, r in report.float_ops if op == OPCODE] == ["kept float (keep_float)"] * 2
    assert all(model.main.tensors[op.inputs[19]].dtype == TensorType.FLOAT32 for op in _lstms(model))


def test_int16x8_lstm_stays_float():
    _model, report = _quantize("int16x8")
    reasons = [r for _, op, _, r in report.float_ops if op == OPCODE]
    assert len(reasons) == 2 and all("int16x8" in r for r in reasons)


def test_unsupported_activation_stays_float():
    model = load_model(str(zoo_path(KEY)))
    _lstms(model)[0].options["fused_activation_function"] = 1  # RELU
    _model, report = _quantize(model=model)
    reasons = [r for _, op, _, r in report.float_ops if op == OPCODE]
    assert reasons == ["integer LSTM needs a tanh activation"]


def test_calibration_records_cell_state_range():
    model = load_model(str(zoo_path(KEY)))
    samples = representative(KEY, 2)
    ranges = calibrate(model, samples, progress=False)
    it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    for sample in samples:  # states carry over between runs, as in calibration
        it.set_tensor(it.get_input_details()[0]["index"], sample[0])
        it.invoke()
        for op in _lstms(model):
            lo, hi = ranges[op.inputs[CELL_STATE]]
            final = it.get_tensor(op.inputs[CELL_STATE])
            assert lo <= final.min() and final.max() <= hi
    for op in _lstms(model):
        lo, hi = ranges[op.inputs[CELL_STATE]]
        assert lo < 0 < hi


def test_missing_cell_range_keeps_lstm_float():
    model = load_model(str(zoo_path(KEY)))
    ranges = calibrate(model, representative(KEY, 2), progress=False)
    for op in _lstms(model):
        del ranges[op.inputs[CELL_STATE]]
    _m, report = quantize(model, "int8", ranges=ranges, progress=False, return_report=True)
    assert sum(op == OPCODE and "cell-state range" in r for _, op, _, r in report.float_ops) == 2


@pytest.mark.parametrize("rng,expected", [((-0.3, 0.5), -15), ((-1.0, 0.2), -15), ((-1.5, 0.2), -14),
                                          ((0.0, 10.0), -11), ((-63.0, 1.0), -9), ((0.0, 0.0), -15),
                                          ((-65.0, 1.0), None)])
def test_cell_scale_is_power_of_two_covering_range(rng, expected):
    assert cell_log2(*rng) == expected
