"""A 1-D per-channel bias whose quantized_dimension is not 0 (TFLM's person_detect: 3).

TFLM runs such a model and LiteRT refuses it; edgelite reads the scales along the only
dimension, warns naming the tensor, and computes what TFLM computes.
"""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.errors import ModelError
from edgelite.ir import Quantization
from edgelite.kernels.testing import single_op_model

from conftest import run_with_inputs

CHANNELS = 4


def conv_model(bias_qdim: int, bias_scales: int = CHANNELS) -> bytes:
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, (1, 5, 5, 3)).astype(np.int8)
    w = rng.integers(-127, 128, (CHANNELS, 3, 3, 3)).astype(np.int8)
    b = rng.integers(-2000, 2000, CHANNELS).astype(np.int32)
    w_scales = [0.01, 0.02, 0.015, 0.03]
    model = single_op_model(
        "CONV_2D", [x, w, b], dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1),
        constant_inputs=(1, 2), output_dtypes=[np.int8],
        input_quant=[Quantization(scale=[0.05], zero_point=[-3]),
                     Quantization(scale=w_scales, zero_point=[0] * CHANNELS, quantized_dimension=0),
                     Quantization(scale=[0.05 * s for s in w_scales][:bias_scales],
                                  zero_point=[0] * bias_scales, quantized_dimension=bias_qdim)],
        output_quant=[Quantization(scale=[0.2], zero_point=[1])])
    sg = model.main
    sg.tensors[sg.outputs[0]].shape = (1, 5, 5, CHANNELS)  # TFLM does not infer output shapes
    return model.to_bytes()


def feed():
    return [np.random.default_rng(6).integers(-128, 128, (1, 5, 5, 3)).astype(np.int8)]


def test_bias_quantized_dimension_3_warns_and_runs():
    with pytest.warns(UserWarning, match=r"tensor 'in2' is 1-D with 4 per-axis scales but quantized_dimension 3"):
        it = Interpreter(model_content=conv_model(3))
    bias = it.model.main.tensors[it.model.main.operators[0].inputs[2]]
    assert bias.quantization.quantized_dimension == 0
    ours = run_with_inputs(it, feed())[0]
    # the same model written with quantized_dimension 0 in LiteRT (which refuses the original)
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    ref = run_with_inputs(lite.Interpreter(model_content=conv_model(0),
                                           experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
                          feed())[0]
    np.testing.assert_array_equal(ours, ref)
    with pytest.raises(ValueError, match="quantized_dimension"):
        lite.Interpreter(model_content=conv_model(3)).allocate_tensors()


def test_bias_quantized_dimension_3_matches_tflm():
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime",
                                  reason="TFLM's Python interpreter (tflite-micro wheel) is not installed")
    tflm = runtime.Interpreter.from_bytes(conv_model(3), arena_size=1 << 16)
    tflm.set_input(feed()[0], 0)
    tflm.invoke()
    with pytest.warns(UserWarning):
        it = Interpreter(model_content=conv_model(3))
    np.testing.assert_array_equal(run_with_inputs(it, feed())[0], tflm.get_output(0))


def test_scale_count_not_matching_the_only_dimension_is_still_refused():
    with pytest.raises((ModelError, ValueError), match="per-axis scales do not match"):
        Interpreter(model_content=conv_model(3, bias_scales=3))
