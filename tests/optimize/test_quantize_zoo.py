"""Every quantization mode on the float zoo models: the result loads and runs in
LiteRT and in edgelite, and the two agree (integers exactly, floats to 1e-5).

No extra allowance for float islands (float ops inside an integer model) or for
the float ops of hybrid models: those kernels reproduce LiteRT bit for bit, so a
QUANTIZE after an island or an on-the-fly input quantization rounds the same way."""
import pytest

from conftest import MANIFEST, zoo_inputs, zoo_path
from edgelite.optimize import quantize
from edgelite.runtime import UnsupportedOpsError
from helpers import assert_outputs_match, representative, run_model

FAST = ["mlp_dynamic_f32", "audio_conv1d_f32", "unet_f32", "tiny_bert_f32", "ops_image_f32",
        "ops_matmul_f32", "ops_elementwise_f32", "ops_reduce_f32", "ops_shape_f32", "ops_nms_f32",
        "ops_control_flow_f32", "lstm_text_f32", "rnn_mixed_f32"]
SLOW = ["mobilenet_v2_f32", "mobilenet_v3_small_f32"]
MODES = ["int8", "int8io", "int16x8", "dynamic", "float16"]
# (key, mode) -> why edgelite cannot reproduce LiteRT bit for bit there (xfail, never a tolerance)
KNOWN_KERNEL_ISSUES: dict[tuple[str, str], str] = {}


def _quantize(key, mode):
    kw = {}
    if mode == "int8io":
        mode, kw = "int8", dict(inference_input_type="int8", inference_output_type="int8")
    return quantize(str(zoo_path(key)), mode, representative(key, 3), progress=False, return_report=True, **kw)


def _check(key, mode):
    pytest.importorskip("ai_edge_litert")
    model, _report = _quantize(key, mode)
    content = model.to_bytes()
    inputs = zoo_inputs(key)
    ref = run_model(content, inputs, "litert")
    try:
        got = run_model(content, inputs, "edgelite")
    except UnsupportedOpsError as e:
        pytest.xfail(f"edgelite kernel missing: {str(e).splitlines()[0]}")
    try:
        assert_outputs_match(ref, got, f"{key} {mode}")
    except AssertionError as e:
        if (key, mode) in KNOWN_KERNEL_ISSUES:
            pytest.xfail(f"{KNOWN_KERNEL_ISSUES[key, mode]}: {e}")
        raise


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", [k for k in FAST if k in MANIFEST])
def test_quantized_model_runs_and_agrees(key, mode):
    _check(key, mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("key", [k for k in SLOW if k in MANIFEST])
def test_quantized_model_runs_and_agrees_slow(key, mode):
    _check(key, mode)
