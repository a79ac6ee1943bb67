"""uint8 (legacy) convolutions derive their Q31 multiplier the way LiteRT does.

LiteRT's uint8 kernels multiply the input and filter scales in float32 and divide by the
output scale in double; int8 kernels do all of it in double. The two multipliers differ in
their last bits, which changes the result only for accumulators next to a rounding tie.
These tests search such accumulators (where the all-double multiplier would round the
other way) and feed them as biases, so every output value tells the two apart.
"""
import functools

import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.quant_math import multiply_by_quantized_multiplier, quantize_multiplier
from edgelite.kernels.testing import run_op, run_op_litert

GEOM = dict(padding=0, stride_h=1, stride_w=1, dilation_h_factor=1, dilation_w_factor=1)
X_ZP, W_ZP, OUT_ZP = 7, 3, 128


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


def multipliers(xs, ws, os_):
    """(multiplier, shift) from the all-double real scale and from the float32 scale product."""
    f64 = np.float64
    (m_d,), (s_d,) = quantize_multiplier(np.array([f64(xs) * f64(ws) / f64(os_)]))
    (m_f,), (s_f,) = quantize_multiplier(np.array([f64(np.float32(xs) * np.float32(ws)) / f64(os_)]))
    return (int(m_d), int(s_d)), (int(m_f), int(s_f))


def telling_accumulators(xs, ws, os_, limit=48):
    """Accumulators whose requantized value depends on how the real multiplier was computed.

    Near each tie of the final rounding shift (output k + 1/2), the accumulators just around
    (k + 1/2 - 2^-r) / multiplier are tried; small real scales (large shifts) widen the
    window where the two multipliers disagree.
    """
    (m_d, s_d), (m_f, s_f) = multipliers(xs, ws, os_)
    if (m_d, s_d) == (m_f, s_f) or s_d != s_f or s_d > 0:
        return np.zeros(0, np.int64)
    r = -s_d
    candidates = []
    for k in range(-90, 90):
        tie = (2 * k + 1) << (r - 1)  # the value before the last shift that sits on a tie
        centre = ((2 * tie - 1) << 30) // m_d
        candidates.extend(range(centre - 4, centre + 5))
    acc = np.array(candidates, np.int64)
    differ = multiply_by_quantized_multiplier(acc, m_d, s_d) != multiply_by_quantized_multiplier(acc, m_f, s_f)
    return acc[differ][:limit]


@functools.cache
def cases():
    rng = np.random.default_rng(11)
    found = []
    while len(found) < 4:
        # real scales near 2^-17..2^-15: shifts large enough for many disagreeing accumulators
        xs, ws = np.float32(rng.uniform(0.002, 0.05)), np.float32(rng.uniform(0.002, 0.05))
        os_ = np.float32(float(xs) * float(ws) * rng.uniform(2 ** 15, 2 ** 17))
        acc = telling_accumulators(xs, ws, os_)
        if acc.size >= 4:
            found.append((xs, ws, os_, acc))
    return found


def one_op(opcode, acc):
    """(inputs, options, constant input indices) of a 1x1 node whose accumulators are ``acc``."""
    n = acc.size
    bias = acc.astype(np.int32)  # (x - X_ZP) * (w - W_ZP) == 0: the accumulator is the bias
    if opcode == "CONV_2D":
        return [np.full((1, 1, 1, 2), X_ZP, np.uint8), np.full((n, 1, 1, 2), W_ZP + 5, np.uint8), bias], GEOM, (1, 2)
    if opcode == "DEPTHWISE_CONV_2D":
        return ([np.full((1, 1, 1, n), X_ZP, np.uint8), np.full((1, 1, 1, n), W_ZP + 5, np.uint8), bias],
                dict(GEOM, depth_multiplier=1), (1, 2))
    if opcode == "TRANSPOSE_CONV":
        return ([np.array([1, 1, 1, n], np.int32), np.full((n, 1, 1, 2), W_ZP + 5, np.uint8),
                 np.full((1, 1, 1, 2), X_ZP, np.uint8), bias], dict(padding=1, stride_h=1, stride_w=1), (0, 1, 3))
    return [np.full((1, 2), X_ZP, np.uint8), np.full((n, 2), W_ZP + 5, np.uint8), bias], {}, (1, 2)


@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"])
def test_uint8_multiplier_uses_float32_scale_product(opcode):
    pytest.importorskip("ai_edge_litert")
    for xs, ws, os_, acc in cases():
        inputs, options, consts = one_op(opcode, acc)
        quant = [q(xs, X_ZP), q(ws, W_ZP), q(float(xs) * float(ws))]
        kw = dict(constant_inputs=consts, output_dtypes=[np.uint8], output_quant=[q(os_, OUT_ZP)])
        if opcode == "TRANSPOSE_CONV":  # inputs: output_shape, filter, input, bias
            kw.update(input_quant=[None, quant[1], quant[0], quant[2]], version=3)
        else:
            kw.update(input_quant=quant)
        ours = run_op(opcode, inputs, options, **kw)[0]
        ref = run_op_litert(opcode, inputs, options, **kw)[0]
        np.testing.assert_array_equal(ours, ref)


def test_telling_accumulators_really_tell_the_multipliers_apart():
    # the cases are not vacuous: the all-double multiplier gives other outputs on them
    xs, ws, os_, acc = cases()[0]
    (m_d, s_d), _ = multipliers(xs, ws, os_)
    inputs, options, consts = one_op("CONV_2D", acc)
    ours = run_op("CONV_2D", inputs, options, constant_inputs=consts, output_dtypes=[np.uint8],
                  input_quant=[q(xs, X_ZP), q(ws, W_ZP), q(float(xs) * float(ws))],
                  output_quant=[q(os_, OUT_ZP)])[0].reshape(-1).astype(np.int64)
    assert np.any(ours != multiply_by_quantized_multiplier(acc, m_d, s_d) + OUT_ZP)


@pytest.mark.parametrize("out_hw,channels", [((5, 5), 3), ((4, 4), 4), ((3, 7), 5)])
def test_uint8_transpose_conv_rounds_flat_blocks_of_16(out_hw, channels):
    """LiteRT requantizes the flattened uint8 TRANSPOSE_CONV output 16 values at a time with ties
    sent up, the rest with ties away from zero: negative ties tell the two apart."""
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(channels)
    oh, ow = out_hw
    x = (128 + rng.integers(-4, 5, (1, (oh + 1) // 2, (ow + 1) // 2, 4))).astype(np.uint8)
    w = (120 + rng.integers(-4, 5, (channels, 3, 3, 4))).astype(np.uint8)
    inputs = [np.array([1, oh, ow, channels], np.int32), w, x, rng.integers(-40, 40, channels).astype(np.int32)]
    kw = dict(constant_inputs=(0, 1, 3), output_dtypes=[np.uint8], version=3,
              input_quant=[None, q(1.0, 120), q(1.0, 128), q(1.0)], output_quant=[q(4.0, 100)])
    opts = dict(padding=0, stride_h=2, stride_w=2)
    ours = run_op("TRANSPOSE_CONV", inputs, opts, **kw)[0]
    ref = run_op_litert("TRANSPOSE_CONV", inputs, opts, **kw)[0]
    np.testing.assert_array_equal(ours, ref)
