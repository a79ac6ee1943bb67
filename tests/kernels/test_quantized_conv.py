"""Integer CONV_2D / DEPTHWISE_CONV_2D / TRANSPOSE_CONV / FULLY_CONNECTED / BATCH_MATMUL
against LiteRT's builtin kernels (must be identical) and small hand-checked cases."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.quantized_conv import conv_out_and_padding
from edgelite.kernels.testing import run_op, run_op_litert


def q(scale, zp=0, dim=0):
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    zp = np.atleast_1d(np.asarray(zp, np.int64))
    if zp.size == 1 and scale.size > 1:
        zp = np.zeros(scale.size, np.int64) + zp[0]
    return Quantization(scale=scale, zero_point=zp, quantized_dimension=dim)


def both(opcode, inputs, options, **kw):
    ours = run_op(opcode, inputs, options, **kw)
    litert = pytest.importorskip("ai_edge_litert")  # noqa: F841
    ref = run_op_litert(opcode, inputs, options, **kw)
    return ours, ref


def rand_act(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, size=shape).astype(dtype)


def act_quant(rng, dtype):
    if dtype == np.int16:
        return q(rng.uniform(0.002, 0.02), 0)
    return q(rng.uniform(0.01, 0.05), int(rng.integers(-128, 128)))


def bias_quant(xq, wscale):
    """The bias quantization TFLite expects: input scale times filter scale, zero point 0."""
    return q(np.float32(xq.scale[0]) * wscale.astype(np.float32), 0)


def conv_operands(rng, dtype, xshape, wshape, channels, bias_limit, scales=None):
    """Random input, int8 filter, input quantization, ``scales`` (default ``channels``) filter scales
    and a bias of ``channels`` values below ``bias_limit`` with its quantization."""
    x = rand_act(rng, xshape, dtype)
    w = rng.integers(-127, 128, size=wshape).astype(np.int8)
    xq = act_quant(rng, dtype)
    wscale = rng.uniform(0.002, 0.02, size=channels if scales is None else scales)
    b = rng.integers(-bias_limit, bias_limit, size=channels).astype(np.int64 if dtype == np.int16 else np.int32)
    return x, w, xq, wscale, b, bias_quant(xq, wscale)


def out_quant(rng, dtype, xq, wscale, depth):
    """An output scale that spreads the accumulators over a good part of the type's range."""
    x_std = 18900.0 if dtype == np.int16 else 74.0
    typical = float(xq.scale[0]) * float(np.mean(wscale)) * np.sqrt(depth) * x_std * 74.0
    if dtype == np.int16:
        return q(typical * 4 / 32767, 0)
    return q(typical * 4 / 127, int(rng.integers(-20, 20)))


CONV_CASES = [
    # (input shape, filter (O,KH,KW,I), stride, dilation, padding, activation)
    ((1, 9, 11, 4), (6, 3, 3, 4), (1, 1), (1, 1), 0, 0),
    ((2, 10, 9, 3), (5, 3, 3, 3), (2, 2), (1, 1), 1, 1),
    ((1, 8, 8, 16), (24, 1, 1, 16), (1, 1), (1, 1), 0, 3),
    ((1, 12, 12, 5), (7, 5, 3, 5), (2, 1), (2, 1), 0, 2),
    ((1, 7, 7, 8), (8, 3, 3, 4), (1, 1), (1, 1), 0, 0),   # grouped (2 groups)
    ((1, 6, 6, 1100), (4, 1, 1, 1100), (1, 1), (1, 1), 1, 0),  # deep: chunked GEMM
]


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d_matches_litert(dtype, case):
    xshape, wshape, (sh, sw), (dh, dw), pad, act = CONV_CASES[case]
    if dtype == np.int16 and wshape[3] != xshape[3]:
        pytest.skip("LiteRT has no int16 grouped convolution")
    rng = np.random.default_rng(case)
    x, w, xq, wscale, b, bq = conv_operands(rng, dtype, xshape, wshape, wshape[0], 20000)
    oq = out_quant(rng, dtype, xq, wscale, np.prod(wshape[1:]))
    opts = dict(padding=pad, stride_h=sh, stride_w=sw, dilation_h_factor=dh, dilation_w_factor=dw,
                fused_activation_function=act)
    ours, ref = both("CONV_2D", [x, w, b], opts, constant_inputs=(1, 2), input_quant=[xq, q(wscale), bq],
                     output_quant=[oq], output_dtypes=[dtype], version=3 if dtype == np.int8 else 4)
    assert ours[0].shape == ref[0].shape
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > (1 if act in (2, 3) else 4)  # the case is not all saturated


DW_CASES = [
    ((1, 9, 11, 4), (1, 3, 3, 4), (1, 1), (1, 1), 0, 0),
    ((2, 10, 9, 3), (1, 3, 3, 6), (2, 2), (1, 1), 1, 3),
    ((1, 12, 12, 8), (1, 5, 5, 8), (1, 2), (2, 2), 0, 1),
]


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("case", range(len(DW_CASES)))
def test_depthwise_matches_litert(dtype, case):
    xshape, wshape, (sh, sw), (dh, dw), pad, act = DW_CASES[case]
    rng = np.random.default_rng(10 + case)
    x, w, xq, wscale, b, bq = conv_operands(rng, dtype, xshape, wshape, wshape[3], 5000)
    oq = out_quant(rng, dtype, xq, wscale, wshape[1] * wshape[2])
    opts = dict(padding=pad, stride_h=sh, stride_w=sw, dilation_h_factor=dh, dilation_w_factor=dw,
                fused_activation_function=act, depth_multiplier=wshape[3] // xshape[3])
    ours, ref = both("DEPTHWISE_CONV_2D", [x, w, b], opts, constant_inputs=(1, 2),
                     input_quant=[xq, q(wscale, 0, 3), bq], output_quant=[oq], output_dtypes=[dtype],
                     version=3 if dtype == np.int8 else 5)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > (1 if act in (2, 3) else 4)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("pad,stride,with_bias", [(0, 2, False), (1, 2, True), (0, 1, True)])
def test_transpose_conv_matches_litert(dtype, pad, stride, with_bias):
    rng = np.random.default_rng(stride * 7 + pad)
    x = rand_act(rng, (1, 5, 6, 8), dtype)
    w = rng.integers(-127, 128, size=(4, 3, 3, 8)).astype(np.int8)
    xq = act_quant(rng, dtype)
    wscale = rng.uniform(0.002, 0.02, size=4)
    oh = 5 * stride if pad == 0 else (5 - 1) * stride + 3
    ow = 6 * stride if pad == 0 else (6 - 1) * stride + 3
    oshape = np.array([1, oh, ow, 4], np.int32)
    oq = out_quant(rng, dtype, xq, wscale, 8 * 3)
    inputs = [oshape, w, x]
    quants = [None, q(wscale), xq]
    consts = (0, 1)
    if with_bias:
        bias_dtype = np.int64 if dtype == np.int16 else np.int32
        inputs.append(rng.integers(-3000, 3000, size=4).astype(bias_dtype))
        quants.append(bias_quant(xq, wscale))
        consts = (0, 1, 3)
    opts = dict(padding=pad, stride_h=stride, stride_w=stride)
    ours, ref = both("TRANSPOSE_CONV", inputs, opts, constant_inputs=consts, input_quant=quants,
                     output_quant=[oq], output_dtypes=[dtype], version=3)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > 4


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("keep_dims,act", [(False, 0), (True, 1), (False, 3)])
def test_fully_connected_matches_litert(dtype, per_channel, keep_dims, act):
    rng = np.random.default_rng(int(per_channel) * 3 + act + keep_dims)
    x, w, xq, wscale, b, bq = conv_operands(rng, dtype, (2, 3, 40), (24, 40), 24, 5000,
                                            scales=24 if per_channel else 1)
    oq = out_quant(rng, dtype, xq, wscale, 40)
    opts = dict(fused_activation_function=act, keep_num_dims=keep_dims,
                quantized_bias_type=4 if dtype == np.int16 else 0)
    ours, ref = both("FULLY_CONNECTED", [x, w, b], opts, constant_inputs=(1, 2), input_quant=[xq, q(wscale), bq],
                     output_quant=[oq], output_dtypes=[dtype], version=5 if dtype == np.int8 else 7)
    assert ours[0].shape == ref[0].shape
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > (1 if act in (2, 3) else 4)


def test_fully_connected_int8_no_bias_nonconstant_weights():
    rng = np.random.default_rng(5)
    x = rand_act(rng, (3, 33), np.int8)
    w = rng.integers(-127, 128, size=(7, 33)).astype(np.int8)
    xq, wq, oq = q(0.02, 5), q(rng.uniform(0.005, 0.01, size=7)), q(0.2, -3)
    ours, ref = both("FULLY_CONNECTED", [x, w, None], {}, input_quant=[xq, wq, None], output_quant=[oq],
                     output_dtypes=[np.int8], version=5)
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("adj_x,adj_y,bshape", [(False, False, (2, 1, 16, 8)), (False, True, (3, 8, 16)),
                                                (True, False, (2, 3, 16, 8))])
def test_batch_matmul_matches_litert(dtype, adj_x, adj_y, bshape):
    rng = np.random.default_rng(int(adj_x) + 2 * int(adj_y))
    ashape = (2, 3, 16, 5) if adj_x else (2, 3, 5, 16)
    a = rand_act(rng, ashape, dtype)
    b = rand_act(rng, bshape, dtype)
    aq, bq = act_quant(rng, dtype), act_quant(rng, dtype)
    if dtype == np.int8:  # zero points near the middle keep the products centred
        aq.zero_point[:], bq.zero_point[:] = 3, -5
    bound = 128 if dtype == np.int8 else 32768
    typical = float(aq.scale[0] * bq.scale[0]) * np.sqrt(16) * (bound / 1.7) ** 2
    oq = q(typical * 4 / (bound - 1), 0 if dtype == np.int16 else 7)
    opts = dict(adj_x=adj_x, adj_y=adj_y)
    ours, ref = both("BATCH_MATMUL", [a, b], opts, input_quant=[aq, bq], output_quant=[oq],
                     output_dtypes=[dtype], version=4)
    assert ours[0].shape == ref[0].shape
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > 4


def test_padding_rules():
    assert conv_out_and_padding(224, 3, 2, 1, 0) == (112, 0, 1)
    assert conv_out_and_padding(224, 3, 2, 1, 1) == (111, 0, 0)
    assert conv_out_and_padding(10, 3, 1, 2, 0) == (10, 2, 2)


def test_fully_connected_hand_checked():
    # x - zp = [1, 2], w = [[1, 1], [2, -1]], bias [3, 0] -> acc [6, 0]; real scale 0.5 -> [3, 0] + zp 1
    x = np.array([[3, 4]], np.int8)
    w = np.array([[1, 1], [2, -1]], np.int8)
    b = np.array([3, 0], np.int32)
    out = run_op("FULLY_CONNECTED", [x, w, b], {}, constant_inputs=(1, 2),
                 input_quant=[q(1.0, 2), q(0.5), q(0.5)], output_quant=[q(1.0, 1)], output_dtypes=[np.int8])
    np.testing.assert_array_equal(out[0], [[4, 1]])


def test_conv_hand_checked_padding_uses_zero_point():
    # 1x1 image, 3x3 SAME filter of ones: only the centre tap sees data, padding counts as real 0
    x = np.array([[[[10]]]], np.int8)
    w = np.ones((1, 3, 3, 1), np.int8)
    out = run_op("CONV_2D", [x, w, np.zeros(1, np.int32)], {"padding": 0, "stride_h": 1, "stride_w": 1}, constant_inputs=(1, 2),
                 input_quant=[q(1.0, 4), q(1.0), q(1.0)], output_quant=[q(1.0, 0)], output_dtypes=[np.int8])
    np.testing.assert_array_equal(out[0], [[[[6]]]])


# Power-of-two scales make the rescaling hit exact ties often, which tells apart the rounding
# variants LiteRT uses in different kernels (gemmlowp's, ruy's, int64, double).
def _tie_case(opcode, dtype, rng):
    small = (lambda a: a) if dtype == np.int8 else (lambda a: (a // 256).astype(np.int16))
    bias_dtype = np.int32 if dtype == np.int8 else np.int64
    if opcode == "FULLY_CONNECTED":
        x = small(rand_act(rng, (64, 64), dtype))
        w = rng.integers(-127, 128, (32, 64)).astype(np.int8)
        b = rng.integers(-50, 50, 32).astype(bias_dtype)
        return dict(inputs=[x, w, b], options={}, constant_inputs=(1, 2),
                    input_quant=[q(1.0), q(np.ones(32)), q(np.ones(32))], output_quant=[q(512.0 if dtype == np.int8 else 4.0)])
    if opcode == "BATCH_MATMUL":
        a, b = small(rand_act(rng, (4, 16, 32), dtype)), small(rand_act(rng, (4, 32, 16), dtype))
        return dict(inputs=[a, b], options={}, input_quant=[q(1.0), q(1.0)],
                    output_quant=[q(256.0 if dtype == np.int8 else 4.0)])
    x = small(rand_act(rng, (1, 10, 10, 16), dtype))
    geometry = dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1)
    if opcode == "DEPTHWISE_CONV_2D":
        w = rng.integers(-127, 128, (1, 3, 3, 16)).astype(np.int8)
        return dict(inputs=[x, w, np.zeros(16, bias_dtype)], options=dict(geometry, depth_multiplier=1),
                    constant_inputs=(1, 2), input_quant=[q(1.0), q(np.ones(16), 0, 3), q(np.ones(16))],
                    output_quant=[q(32.0 if dtype == np.int8 else 1.0)])
    w = rng.integers(-127, 128, (8, 3, 3, 16)).astype(np.int8)
    if opcode == "CONV_2D":
        return dict(inputs=[x, w, np.zeros(8, bias_dtype)], options=geometry, constant_inputs=(1, 2),
                    input_quant=[q(1.0), q(np.ones(8)), q(np.ones(8))], output_quant=[q(64.0 if dtype == np.int8 else 1.0)])
    return dict(inputs=[np.array([1, 20, 20, 8], np.int32), w, x], options=dict(padding=0, stride_h=2, stride_w=2),
                constant_inputs=(0, 1), input_quant=[None, q(np.ones(8)), q(1.0)],
                output_quant=[q(64.0 if dtype == np.int8 else 1.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("opcode", ["FULLY_CONNECTED", "BATCH_MATMUL", "DEPTHWISE_CONV_2D", "CONV_2D",
                                    "TRANSPOSE_CONV"])
def test_rounding_ties_match_litert(opcode, dtype):
    case = _tie_case(opcode, dtype, np.random.default_rng(99))
    inputs, options = case.pop("inputs"), case.pop("options")
    ours, ref = both(opcode, inputs, options, output_dtypes=[dtype], **case)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert len(np.unique(ref[0])) > 20


def test_transpose_conv_computed_output_shape():
    """output_shape fed at run time (as unet's SHAPE/PACK chain does): output allocated in eval."""
    rng = np.random.default_rng(21)
    x = rand_act(rng, (1, 4, 4, 8), np.int8)
    w = rng.integers(-127, 128, size=(5, 3, 3, 8)).astype(np.int8)
    oshape = np.array([1, 8, 8, 5], np.int32)
    quants = [None, q(rng.uniform(0.002, 0.02, 5)), q(0.03, 2)]
    kw = dict(constant_inputs=(1,), input_quant=quants, output_quant=[q(0.5, -3)], output_dtypes=[np.int8])
    ours, ref = both("TRANSPOSE_CONV", [oshape, w, x], dict(padding=0, stride_h=2, stride_w=2), **kw)
    assert ours[0].shape == (1, 8, 8, 5)
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("channels", [4, 12, 20])
def test_depthwise_simd_and_tail_channel_rounding(channels):
    """Channels in blocks of 8 round ties up, the remaining channels away from zero (as LiteRT)."""
    rng = np.random.default_rng(channels)
    x = rand_act(rng, (1, 10, 10, channels), np.int8)
    w = rng.integers(-127, 128, (1, 3, 3, channels)).astype(np.int8)
    geometry = dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1, depth_multiplier=1)
    ours, ref = both("DEPTHWISE_CONV_2D", [x, w, np.zeros(channels, np.int32)], geometry, constant_inputs=(1, 2),
                     input_quant=[q(1.0), q(np.ones(channels), 0, 3), q(np.ones(channels))],
                     output_quant=[q(32.0)], output_dtypes=[np.int8])
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("channels", [4, 12])
def test_transpose_conv_simd_and_tail_channel_rounding(channels):
    rng = np.random.default_rng(channels + 1)
    x = rand_act(rng, (1, 6, 6, 8), np.int8)
    w = rng.integers(-127, 128, (channels, 3, 3, 8)).astype(np.int8)
    ours, ref = both("TRANSPOSE_CONV", [np.array([1, 13, 13, channels], np.int32), w, x],
                     dict(padding=1, stride_h=2, stride_w=2), constant_inputs=(0, 1),
                     input_quant=[None, q(np.ones(channels)), q(1.0)], output_quant=[q(32.0)],
                     output_dtypes=[np.int8])
    np.testing.assert_array_equal(ours[0], ref[0])


def test_packed_weights_are_built_once_per_array_and_forgotten_with_it():
    import gc

    from edgelite.kernels import quantized_conv as qc
    calls = []

    def build():
        calls.append(1)
        return np.zeros(3)

    w = np.arange(6, dtype=np.int8)
    first = qc.packed_once(w, ("k",), build)
    assert qc.packed_once(w, ("k",), build) is first and len(calls) == 1
    qc.packed_once(w, ("other",), build)
    assert len(calls) == 2
    keys = [(id(w), "k"), (id(w), "other")]
    del w
    gc.collect()
    assert not any(k in qc._PACKED for k in keys)
