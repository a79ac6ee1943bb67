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
    # quantization, bitwise, signal, LLM and interpolation lowerings
    "test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear_axis", "test_dequantizelinear_int16",
    "test_dynamicquantizelinear", "test_dynamicquantizelinear_expanded", "test_qlinearmatmul_2D_int8_float32",
    "test_qlinearconv", "test_matmulinteger", "test_convinteger_with_padding", "test_bitcast_float32_to_int32",
    "test_bitwise_and_i32_2d", "test_bitwise_or_ui8_bcast_4v3d", "test_bitwise_not_3d",
    "test_bitshift_left_int32_negative_shift", "test_bitshift_right_int8_shift_ge_width", "test_dft_rfft",
    "test_dft_axis_opset19", "test_stft_with_window", "test_hannwindow_symmetric", "test_cumprod_2d_axis_0",
    "test_compress_0", "test_mod_int64_fmod", "test_mod_mixed_sign_float32", "test_swiglu", "test_rotary_embedding",
    "test_rotary_embedding_3d_input", "test_tensorscatter_circular", "test_unique_sorted_without_axis",
    "test_unique_not_sorted_without_axis", "test_scatternd_max", "test_scatter_elements_with_reduction_mul",
    "test_einsum_batch_diagonal", "test_einsum_inner_prod", "test_reduce_max_empty_set", "test_reduce_max_bool_inputs",
    "test_resize_upsample_scales_cubic", "test_resize_downsample_scales_linear_antialias",
    "test_resize_tf_crop_and_resize_extrapolation_value", "test_resize_upsample_sizes_nearest_not_larger",
    "test_gridsample_reflection_padding", "test_gridsample_volumetric_bilinear_align_corners_0", "test_col2im_pads",
    "test_maxunpool_export_with_output_shape", "test_affine_grid_3d", "test_maxpool_3d_dilations",
    "test_averagepool_3d_dilations_large_count_include_pad_is_0_ceil_mode_is_True", "test_lppool_3d_default",
    "test_maxpool_2d_uint8", "test_hammingwindow_expanded", "test_causal_conv_with_state_silu_with_past_state",
    "test_linear_attention_gated_delta_gqa", "test_linear_attention_decode_step", "test_det_nd", "test_nonzero_example",
    "test_convtranspose_1d", "test_convtranspose_group_2", "test_convtranspose_dilations", "test_gridsample_bicubic",
    "test_training_dropout_zero_ratio_mask", "test_center_crop_pad_crop_expanded",
    "test_maxpool_with_argmax_2d_precomputed_pads",
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
