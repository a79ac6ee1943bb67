"""Legacy uint8 (TF1-era asymmetric per-tensor) quantized kernels against LiteRT's builtin kernels.

uint8 models quantize activations *and* weights asymmetrically (both with zero points) and use int32
biases. Power-of-two scales with values near the zero points make the requantization hit exact ties
often, which tells apart the rounding variants: uint8 CONV_2D / FULLY_CONNECTED / TRANSPOSE_CONV
round ties up (ruy), uint8 DEPTHWISE_CONV_2D rounds them away from zero (gemmlowp).
"""
import numpy as np
import pytest

from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels.testing import run_op, run_op_litert


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


def both(opcode, inputs, options, **kw):
    ours = run_op(opcode, inputs, options, **kw)
    pytest.importorskip("ai_edge_litert")
    return ours, run_op_litert(opcode, inputs, options, **kw)


def u8(rng, *shape):
    return rng.integers(0, 256, shape).astype(np.uint8)


def near(rng, zp, *shape):
    """uint8 values within 4 of ``zp``: small accumulators, many rounding ties."""
    return (zp + rng.integers(-4, 5, shape)).astype(np.uint8)


GEOM = dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1)
TIE_QUANT = dict(input_quant=[q(1.0, 128), q(1.0, 120), q(1.0, 0)], output_quant=[q(4.0, 100)])


def _tie_case(name, rng):
    if name == "conv":
        return "CONV_2D", [near(rng, 128, 1, 10, 10, 16), near(rng, 120, 8, 3, 3, 16), np.zeros(8, np.int32)], GEOM
    if name == "conv_1x1":
        return "CONV_2D", [near(rng, 128, 1, 10, 10, 16), near(rng, 120, 8, 1, 1, 16), np.zeros(8, np.int32)], GEOM
    if name == "conv_dilated_relu":
        return "CONV_2D", [near(rng, 128, 2, 10, 10, 3), near(rng, 120, 5, 3, 3, 3), np.zeros(5, np.int32)], \
            dict(GEOM, dilation_h_factor=2, dilation_w_factor=2, fused_activation_function=1)
    if name.startswith("depthwise"):
        c, m = {"depthwise16": (16, 1), "depthwise13": (13, 1), "depthwise_m2": (5, 2)}[name]
        opts = dict(GEOM, depth_multiplier=m, stride_h=2 if m > 1 else 1, padding=1 if m > 1 else 0)
        return "DEPTHWISE_CONV_2D", [near(rng, 128, 1, 10, 10, c), near(rng, 120, 1, 3, 3, c * m),
                                     np.zeros(c * m, np.int32)], opts
    if name == "fc":
        return "FULLY_CONNECTED", [near(rng, 128, 64, 64), near(rng, 120, 32, 64), np.zeros(32, np.int32)], {}
    if name == "fc_one_row":
        return "FULLY_CONNECTED", [near(rng, 128, 1, 64), near(rng, 120, 32, 64), np.zeros(32, np.int32)], {}
    raise KeyError(name)


@pytest.mark.parametrize("name", ["conv", "conv_1x1", "conv_dilated_relu", "depthwise16", "depthwise13",
                                  "depthwise_m2", "fc", "fc_one_row"])
def test_uint8_rounding_ties_match_litert(name):
    opcode, inputs, options = _tie_case(name, np.random.default_rng(7))
    ours, ref = both(opcode, inputs, options, constant_inputs=(1, 2), output_dtypes=[np.uint8], **TIE_QUANT)
    assert ours[0].dtype == np.uint8
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > 15


@pytest.mark.parametrize("channels", [8, 13])
def test_uint8_transpose_conv_ties_match_litert(channels):
    rng = np.random.default_rng(8)
    inputs = [np.array([1, 20, 20, channels], np.int32), near(rng, 120, channels, 3, 3, 16), near(rng, 128, 1, 10, 10, 16)]
    ours, ref = both("TRANSPOSE_CONV", inputs, dict(padding=0, stride_h=2, stride_w=2), constant_inputs=(0, 1),
                     input_quant=[None, q(1.0, 120), q(1.0, 128)], output_quant=[q(4.0, 100)],
                     output_dtypes=[np.uint8])
    np.testing.assert_array_equal(ours[0], ref[0])


XS, WS = 0.02, 0.004  # realistic scales; bias scale XS * WS
REAL_QUANT = dict(input_quant=[q(XS, 118), q(WS, 131), q(XS * WS, 0)])


@pytest.mark.parametrize("case", ["conv_stride_relu6", "conv_deep", "depthwise_relu", "fc", "fc_no_bias",
                                  "fc_runtime_weights", "fc_keep_dims"])
def test_uint8_realistic_scales_match_litert(case):
    rng = np.random.default_rng(9)
    bias = lambda n: rng.integers(-2000, 2000, n).astype(np.int32)  # noqa: E731
    consts, quant = (1, 2), dict(REAL_QUANT)
    if case == "conv_stride_relu6":
        op, inputs, opts = "CONV_2D", [u8(rng, 2, 9, 9, 8), u8(rng, 12, 3, 3, 8), bias(12)], \
            dict(GEOM, stride_h=2, fused_activation_function=3)
    elif case == "conv_deep":
        op, inputs, opts = "CONV_2D", [u8(rng, 1, 5, 5, 1100), u8(rng, 4, 1, 1, 1100), bias(4)], GEOM
    elif case == "depthwise_relu":
        op, inputs, opts = "DEPTHWISE_CONV_2D", [u8(rng, 1, 9, 9, 6), u8(rng, 1, 3, 3, 12), bias(12)], \
            dict(GEOM, depth_multiplier=2, fused_activation_function=1)
    elif case == "fc_keep_dims":
        op, inputs, opts = "FULLY_CONNECTED", [u8(rng, 2, 3, 40), u8(rng, 10, 40), bias(10)], {"keep_num_dims": True}
    else:
        op, inputs, opts = "FULLY_CONNECTED", [u8(rng, 3, 40), u8(rng, 10, 40), bias(10)], {}
        if case == "fc_no_bias":
            inputs[2], consts = None, (1,)
            quant["input_quant"] = quant["input_quant"][:2] + [None]
        elif case == "fc_runtime_weights":
            consts = (2,)
    out_q = q(0.03, 3) if op != "FULLY_CONNECTED" else q(0.05, 120)
    ours, ref = both(op, inputs, opts, constant_inputs=consts, output_quant=[out_q], output_dtypes=[np.uint8], **quant)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > 5


def test_uint8_conv_rejects_int8_weights_and_per_channel_scales():
    rng = np.random.default_rng(1)
    x, b = u8(rng, 1, 4, 4, 3), np.zeros(2, np.int32)
    with pytest.raises(ValueError, match="needs uint8 weights"):
        run_op("CONV_2D", [x, rng.integers(-5, 5, (2, 1, 1, 3)).astype(np.int8), b], GEOM, constant_inputs=(1, 2),
               output_dtypes=[np.uint8], **REAL_QUANT, output_quant=[q(0.1, 0)])
    per_channel = Quantization(scale=[0.1, 0.2], zero_point=[0, 0])
    with pytest.raises(ValueError, match="per tensor"):
        run_op("CONV_2D", [x, u8(rng, 2, 1, 1, 3), b], GEOM, constant_inputs=(1, 2), output_dtypes=[np.uint8],
               input_quant=[q(XS, 1), per_channel, q(XS * WS)], output_quant=[q(0.1, 0)])


def test_uint8_hand_checked_fully_connected():
    """(x - 10) . (w - 3) + bias = (2*1 + 4*2) + 5 = 15; times 0.5 -> 7.5, ties up -> 8, + zp 1 -> 9."""
    x = np.array([[12, 14]], np.uint8)
    w = np.array([[4, 5]], np.uint8)
    out = run_op("FULLY_CONNECTED", [x, w, np.array([5], np.int32)], {}, constant_inputs=(1, 2),
                 input_quant=[q(1.0, 10), q(0.5, 3), q(0.5, 0)], output_quant=[q(1.0, 1)], output_dtypes=[np.uint8])
    np.testing.assert_array_equal(out[0], [[9]])


@pytest.mark.parametrize("zero_point", [0, 120, 255])
def test_uint8_l2_normalization_matches_litert(zero_point):
    rng = np.random.default_rng(zero_point)
    x = u8(rng, 40, 3, 17)
    x[0, 0] = zero_point  # an all-zero row
    ours, ref = both("L2_NORMALIZATION", [x], {}, input_quant=[q(0.1, zero_point)], output_quant=[q(1 / 128, 128)])
    np.testing.assert_array_equal(ours[0], ref[0])


XQ = q(0.05, 120)
OTHER_OPS = {
    "add_relu": ("ADD", lambda r: [u8(r, 1, 6, 6, 3), u8(r, 3)], {"fused_activation_function": 1},
                 dict(input_quant=[XQ, q(0.03, 100)], output_quant=[q(0.07, 128)])),
    "mul": ("MUL", lambda r: [u8(r, 1, 6, 6, 3), u8(r, 1, 6, 6, 3)], {},
            dict(input_quant=[XQ, q(0.03, 100)], output_quant=[q(0.07, 128)])),
    "concatenation": ("CONCATENATION", lambda r: [u8(r, 1, 6, 6, 3), u8(r, 1, 6, 6, 2)], {"axis": 3},
                      dict(input_quant=[XQ, q(0.03, 100)], output_quant=[q(0.07, 128)])),
    "average_pool": ("AVERAGE_POOL_2D", lambda r: [u8(r, 1, 7, 7, 3)],
                     dict(padding=0, stride_w=2, stride_h=2, filter_width=3, filter_height=3),
                     dict(input_quant=[XQ], output_quant=[XQ])),
    "max_pool": ("MAX_POOL_2D", lambda r: [u8(r, 1, 7, 7, 3)],
                 dict(padding=1, stride_w=2, stride_h=2, filter_width=2, filter_height=2),
                 dict(input_quant=[XQ], output_quant=[XQ])),
    "softmax": ("SOFTMAX", lambda r: [u8(r, 2, 10)], {"beta": 1.0},
                dict(input_quant=[q(0.1, 120)], output_quant=[q(1 / 256, 0)])),
    "logistic": ("LOGISTIC", lambda r: [u8(r, 2, 10)], {}, dict(input_quant=[q(0.1, 120)], output_quant=[q(1 / 256, 0)])),
    "tanh": ("TANH", lambda r: [u8(r, 2, 10)], {}, dict(input_quant=[q(0.1, 120)], output_quant=[q(1 / 128, 128)])),
    "resize_bilinear": ("RESIZE_BILINEAR", lambda r: [u8(r, 1, 6, 6, 3), np.array([9, 9], np.int32)], {},
                        dict(input_quant=[XQ, None], output_quant=[XQ], constant_inputs=(1,))),
    "mean": ("MEAN", lambda r: [u8(r, 1, 6, 6, 3), np.array([1, 2], np.int32)], {"keep_dims": True},
             dict(input_quant=[XQ, None], output_quant=[q(0.04, 110)], constant_inputs=(1,))),
    "reshape": ("RESHAPE", lambda r: [u8(r, 2, 10), np.array([4, 5], np.int32)], {},
                dict(input_quant=[XQ, None], output_quant=[XQ], constant_inputs=(1,))),
    "quantize_to_int8": ("QUANTIZE", lambda r: [u8(r, 3, 9)], {},
                         dict(input_quant=[XQ], output_quant=[q(0.05, -8)], output_dtypes=[np.int8])),
    "quantize_from_int8": ("QUANTIZE", lambda r: [r.integers(-128, 128, (3, 9)).astype(np.int8)], {},
                           dict(input_quant=[q(0.05, -8)], output_quant=[XQ], output_dtypes=[np.uint8])),
    "dequantize": ("DEQUANTIZE", lambda r: [u8(r, 3, 9)], {}, dict(input_quant=[XQ], output_dtypes=[np.float32])),
}


@pytest.mark.parametrize("name", sorted(OTHER_OPS))
def test_uint8_other_ops_match_litert(name):
    opcode, make, options, kw = OTHER_OPS[name]
    ours, ref = both(opcode, make(np.random.default_rng(3)), options, **kw)
    assert ours[0].dtype == ref[0].dtype
    np.testing.assert_array_equal(ours[0], ref[0])


def _uint8_model(rng) -> Model:
    """conv -> depthwise -> average pool -> reshape -> fully connected -> softmax, all uint8."""
    sg = Subgraph(name="main")
    t = lambda name, shape, quant, data=None, dtype=np.uint8: sg.add_tensor(  # noqa: E731
        name, shape, dtype, quantization=quant, data=data)
    x = t("input", (1, 12, 12, 3), q(1 / 128, 128))
    cw = t("conv_w", (8, 3, 3, 3), q(0.01, 127), u8(rng, 8, 3, 3, 3))
    cb = t("conv_b", (8,), q(0.01 / 128), rng.integers(-3000, 3000, 8).astype(np.int32), np.int32)
    c = t("conv_out", (1, 6, 6, 8), q(6 / 255, 0))
    sg.add_operator("CONV_2D", [x, cw, cb], [c], dict(GEOM, stride_h=2, stride_w=2, fused_activation_function=3))
    dw = t("dw_w", (1, 3, 3, 8), q(0.02, 140), u8(rng, 1, 3, 3, 8))
    db = t("dw_b", (8,), q(6 / 255 * 0.02), rng.integers(-500, 500, 8).astype(np.int32), np.int32)
    d = t("dw_out", (1, 6, 6, 8), q(6 / 255, 0))
    sg.add_operator("DEPTHWISE_CONV_2D", [c, dw, db], [d], dict(GEOM, depth_multiplier=1, fused_activation_function=3))
    p = t("pool_out", (1, 1, 1, 8), q(6 / 255, 0))
    sg.add_operator("AVERAGE_POOL_2D", [d], [p], dict(padding=1, stride_w=6, stride_h=6, filter_width=6,
                                                      filter_height=6))
    shape = t("shape", (2,), None, np.array([1, 8], np.int32), np.int32)
    r = t("flat", (1, 8), q(6 / 255, 0))
    sg.add_operator("RESHAPE", [p, shape], [r], {"new_shape": [1, 8]})
    fw = t("fc_w", (5, 8), q(0.05, 110), u8(rng, 5, 8))
    fb = t("fc_b", (5,), q(6 / 255 * 0.05), rng.integers(-200, 200, 5).astype(np.int32), np.int32)
    f = t("logits", (1, 5), q(0.1, 130))
    sg.add_operator("FULLY_CONNECTED", [r, fw, fb], [f], {})
    s = t("probs", (1, 5), q(1 / 256, 0))
    sg.add_operator("SOFTMAX", [f], [s], {"beta": 1.0})
    sg.inputs, sg.outputs = [x], [f, s]
    return Model(subgraphs=[sg])


def test_uint8_model_end_to_end_matches_litert():
    from edgelite import Interpreter
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    rng = np.random.default_rng(11)
    content = _uint8_model(rng).to_bytes()
    ours = Interpreter(model_content=content)
    ref = litert.Interpreter(model_content=content,
                             experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    for it in (ours, ref):
        it.allocate_tensors()
    distinct = set()
    for _ in range(4):
        x = u8(rng, 1, 12, 12, 3)
        results = []
        for it in (ours, ref):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            results.append([it.get_tensor(d["index"]) for d in it.get_output_details()])
        for a, b in zip(*results):
            assert a.dtype == b.dtype == np.uint8
            np.testing.assert_array_equal(a, b)
        distinct.update(results[1][0].ravel().tolist())
    assert len(distinct) > 5
