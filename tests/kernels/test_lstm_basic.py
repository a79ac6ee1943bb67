"""LSTM with kernel_type BASIC (the TF1 4-gate LSTM cell): float, and the quantized uint8/int16
form (LiteRT's LstmCell<4>, must be bit-exact), against LiteRT's builtin kernels."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.testing import run_op, run_op_litert

OPTIONS = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, kernel_type=1)


def q(scale, zp=0):
    return Quantization(scale=[scale], zero_point=[zp])


def both(inputs, **kw):
    ours = run_op("LSTM", inputs, OPTIONS, num_outputs=4, constant_inputs=(2, 3), version=2, **kw)
    pytest.importorskip("ai_edge_litert")
    return ours, run_op_litert("LSTM", inputs, OPTIONS, num_outputs=4, constant_inputs=(2, 3), version=2, **kw)


def test_basic_lstm_float_matches_litert():
    rng = np.random.default_rng(0)
    b, i, d = 3, 5, 4
    inputs = [rng.normal(size=(b, i)), rng.normal(size=(b, d)), rng.normal(size=(4 * d, i + d)) * 0.5,
              rng.normal(size=4 * d), rng.normal(size=(b, d))]
    ours, ref = both([a.astype(np.float32) for a in inputs])
    for a, r in zip(ours, ref):
        assert a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=0, atol=1e-5 * max(1.0, float(np.abs(r).max())))


def quantized_case(rng, b, i, d, weight_scale, bias_scale, near_zero=False):
    if near_zero:  # small values: accumulators hit the requantization ties often
        x = (128 + rng.integers(-3, 4, (b, i))).astype(np.uint8)
        h = (128 + rng.integers(-3, 4, (b, d))).astype(np.uint8)
        w = (120 + rng.integers(-5, 6, (4 * d, i + d))).astype(np.uint8)
    else:
        x, h = rng.integers(0, 256, (b, i)).astype(np.uint8), rng.integers(0, 256, (b, d)).astype(np.uint8)
        w = rng.integers(0, 256, (4 * d, i + d)).astype(np.uint8)
    bias = rng.integers(-3000, 3000, 4 * d).astype(np.int32)
    state = rng.integers(-20000, 20000, (b, d)).astype(np.int16)
    kw = dict(input_quant=[q(1 / 128, 128), q(1 / 128, 128), q(weight_scale, 120), q(bias_scale), q(2 ** -11)],
              output_quant=[q(1 / 128, 128), q(2 ** -11), q(1 / 128, 128), q(2 ** -12)],
              output_dtypes=[np.uint8, np.int16, np.uint8, np.int16])
    return [x, h, w, bias, state], kw


@pytest.mark.parametrize("shape", [(3, 5, 4), (1, 16, 8), (4, 7, 9)])
def test_basic_lstm_quantized_matches_litert(shape):
    rng = np.random.default_rng(sum(shape))
    inputs, kw = quantized_case(rng, *shape, weight_scale=0.02, bias_scale=0.02 / 128)
    ours, ref = both(inputs, **kw)
    for a, r in zip(ours, ref):
        assert a.dtype == r.dtype
        np.testing.assert_array_equal(a, r)
    assert len(np.unique(ref[0])) > 3


def test_basic_lstm_quantized_rounding_ties_match_litert():
    """bias scale 2^-15: the gate rescaling is an exact 1/8, ties are frequent (ruy rounds them up)."""
    rng = np.random.default_rng(4)
    inputs, kw = quantized_case(rng, 8, 16, 16, weight_scale=2 ** -8, bias_scale=2 ** -15, near_zero=True)
    ours, ref = both(inputs, **kw)
    for a, r in zip(ours, ref):
        np.testing.assert_array_equal(a, r)
    assert len(np.unique(ref[3])) > 20


def test_basic_lstm_quantized_needs_a_state_with_4_integer_bits():
    inputs, kw = quantized_case(np.random.default_rng(1), 2, 3, 4, weight_scale=0.02, bias_scale=0.02 / 128)
    kw["output_quant"][1] = q(2 ** -12)
    with pytest.raises(ValueError, match="4 integer bits"):
        run_op("LSTM", inputs, OPTIONS, num_outputs=4, constant_inputs=(2, 3), version=2, **kw)


def test_basic_lstm_refuses_clipping():
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=s).astype(np.float32) for s in ((2, 3), (2, 4), (16, 7), (16,), (2, 4))]
    with pytest.raises(ValueError, match="clipping"):
        run_op("LSTM", inputs, dict(OPTIONS, cell_clip=1.0), num_outputs=4, constant_inputs=(2, 3), version=2)
