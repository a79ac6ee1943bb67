"""The ONNX backend node test suite through edgelite.convert + LiteRT (harness: tools/onnx_node_suite.py).

Every case must either match the expected outputs at the suite's tolerances or be refused with a clean
ConversionError (reported as a skip with the converter's reason). Cases in onnx_node_skips.txt are skipped
with the reason given there. The whole suite takes about 20 s, so it is not marked slow; KEY_CASES must
actually pass (a regression to "unsupported" would otherwise only show up as a skip).
"""
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("ai_edge_litert")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import onnx_node_suite as suite  # noqa: E402

KEY_CASES = {
    "test_abs", "test_add_bcast", "test_relu", "test_sigmoid", "test_tanh", "test_softmax_axis_1",
    "test_conv_with_strides_padding", "test_conv_with_autopad_same", "test_convtranspose", "test_gemm_default_no_bias",
    "test_matmul_3d", "test_maxpool_2d_pads", "test_averagepool_2d_same_upper", "test_globalaveragepool",
    "test_batchnorm_example", "test_layer_normalization_4d_axis1", "test_concat_3d_axis_negative_1",
    "test_reshape_reordered_all_dims", "test_slice_neg_steps", "test_gather_1", "test_gather_elements_1",
    "test_transpose_all_permutations_3", "test_reduce_mean_keepdims_example", "test_reduce_log_sum_exp_do_not_keepdims_random",
    "test_argmax_keepdims_example_select_last_index", "test_where_example", "test_clip_default_min", "test_constant_pad",
    "test_resize_upsample_scales_nearest", "test_resize_upsample_scales_linear_align_corners", "test_lstm_defaults",
    "test_gru_with_initial_bias", "test_einsum_batch_matmul", "test_depthtospace_crd_mode_example", "test_top_k",
    "test_cumsum_1d_reverse_exclusive", "test_onehot_negative_indices", "test_erf", "test_gelu_tanh_1",
    "test_attention_4d_gqa_with_past_and_present", "test_attention_3d_causal", "test_sce_mean_weight_ii",
    "test_nllloss_NCd1d2_with_weight_reduction_mean", "test_split_variable_parts_2d_opset18", "test_expand_dim_changed",
    "test_tile", "test_hardsigmoid", "test_leakyrelu", "test_prelu_broadcast", "test_greater_uint8", "test_cast_DOUBLE_to_FLOAT",
}

CASES = suite.load_cases()
SKIPS = suite.load_skips()


BY_NAME = {c.name: c for c in CASES}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_onnx_node_case(case):
    reason = suite.skip_reason(case.name, SKIPS)
    if reason:
        pytest.skip(f"skip list: {reason}")
    status, detail, _ = suite.run_case(case)
    if status == "unsupported":
        pytest.skip(f"not convertible (clean ConversionError): {detail}")
    assert status == "pass", f"{status}: {detail}"


def test_skip_list_entries_have_reasons_and_match_cases():
    names = {c.name for c in CASES}
    for pattern, reason in SKIPS.items():
        assert reason.strip()
        if pattern.endswith("*"):
            assert any(n.startswith(pattern[:-1]) for n in names), pattern
        else:
            assert pattern in names, pattern


@pytest.mark.parametrize("name", sorted(KEY_CASES))
def test_key_case_passes(name):
    assert name in BY_NAME, f"{name} is not in this onnx version's node suite"
    status, detail, _ = suite.run_case(BY_NAME[name])
    assert status == "pass", f"{status}: {detail}"
