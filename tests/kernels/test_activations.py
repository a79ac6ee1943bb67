"""Activation kernels: hand-checked values and randomized comparison with LiteRT."""
import math

import numpy as np
import pytest
from kernel_cases import assert_matches_litert

from edgelite.kernels import KernelError
from edgelite.kernels.activations import erfc
from edgelite.kernels.testing import run_op, run_op_litert

RNG = np.random.default_rng(99)


def floats(*shape, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


# --------------------------------------------------------------------------- hand-checked

def test_erfc_matches_math_erfc():
    x = np.linspace(-6, 6, 241)
    want = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), want, rtol=2e-7, atol=1e-12)


def test_gelu_exact_and_tanh_forms():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0], np.float32)
    exact = [0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x.tolist()]
    approx = [0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))) for v in x.tolist()]
    np.testing.assert_allclose(run_op("GELU", [x], {"approximate": False})[0], exact, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(run_op("GELU", [x], {"approximate": True})[0], approx, rtol=1e-6, atol=1e-7)


def test_softmax_rows_sum_to_one_and_beta():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], np.float32)
    out, = run_op("SOFTMAX", [x], {"beta": 2.0})
    e = np.exp(2.0 * (x[0] - 3.0))
    np.testing.assert_allclose(out[0], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(out[1], [1 / 3] * 3, rtol=1e-6)


def test_l2_normalization_epsilon_keeps_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1e-8, 0.0]], np.float32)
    out, = run_op("L2_NORMALIZATION", [x])
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0], [1e-2, 0.0]], rtol=1e-6)


def test_hard_swish_leaky_elu_values():
    x = np.array([-4.0, -1.0, 0.0, 1.0, 4.0], np.float32)
    np.testing.assert_allclose(run_op("HARD_SWISH", [x])[0], [0.0, -1 / 3, 0.0, 2 / 3, 4.0], rtol=1e-6)
    np.testing.assert_allclose(run_op("LEAKY_RELU", [x], {"alpha": 0.1})[0], [-0.4, -0.1, 0, 1, 4], rtol=1e-6)
    np.testing.assert_allclose(run_op("ELU", [x])[0], [math.expm1(-4), math.expm1(-1), 0, 1, 4], rtol=1e-6)


def test_prelu_shapes_must_broadcast():
    with pytest.raises(KernelError, match="broadcast"):
        run_op("PRELU", [np.zeros((2, 3), np.float32), np.zeros((4,), np.float32)])


def test_lrn_needs_4d():
    with pytest.raises(KernelError, match="rank 2"):
        run_op("LOCAL_RESPONSE_NORMALIZATION", [np.zeros((2, 3), np.float32)])
    with pytest.raises(KernelError, match="4-D"):
        run_op("LOCAL_RESPONSE_NORMALIZATION", [np.zeros((1, 2, 3, 4, 5), np.float32)])


def test_empty_input():
    assert run_op("SOFTMAX", [np.zeros((0, 4), np.float32)])[0].shape == (0, 4)
    assert run_op("TANH", [np.zeros((3, 0), np.float32)])[0].shape == (3, 0)


# --------------------------------------------------------------------------- against LiteRT

SIMPLE = ["RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "ELU",
          "LOG_SOFTMAX", "L2_NORMALIZATION"]


@pytest.mark.parametrize("op", SIMPLE)
def test_simple_vs_litert(op):
    x = floats(2, 3, 4, 6)
    x.ravel()[:6] = [0.0, -0.0, 1.0, -1.0, 6.0, -3.0]
    assert_matches_litert(op, [x])


def test_logistic_tails_vs_litert():
    assert_matches_litert("LOGISTIC", [np.linspace(-40, 40, 801, dtype=np.float32)])


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_vs_litert(approximate):
    x = np.concatenate([floats(300), np.linspace(-12, 12, 481, dtype=np.float32)])
    assert_matches_litert("GELU", [x], {"approximate": approximate})


@pytest.mark.parametrize("beta", [1.0, 0.3, 2.5])
@pytest.mark.parametrize("shape", [(5, 10), (2, 3, 4, 7), (13,)])
def test_softmax_vs_litert(beta, shape):
    assert_matches_litert("SOFTMAX", [floats(*shape)], {"beta": beta})


@pytest.mark.parametrize("alpha", [0.0, 0.2, 1.5])
def test_leaky_relu_vs_litert(alpha):
    assert_matches_litert("LEAKY_RELU", [floats(4, 9)], {"alpha": alpha})


@pytest.mark.parametrize("alpha_shape", [(2, 3, 4, 5), (5,), (1, 1, 5), (3, 1, 1)])
def test_prelu_vs_litert(alpha_shape):
    assert_matches_litert("PRELU", [floats(2, 3, 4, 5), floats(*alpha_shape, scale=0.5)])
    assert_matches_litert("PRELU", [floats(2, 3, 4, 5), floats(*alpha_shape, scale=0.5)], constant_inputs=(1,))


@pytest.mark.parametrize("act", [1, 3])
def test_l2_norm_rejects_fused_activation_like_litert(act):
    with pytest.raises(KernelError, match="fused activation"):
        run_op("L2_NORMALIZATION", [floats(3, 8)], {"fused_activation_function": act})


@pytest.mark.parametrize("radius,bias,alpha,beta", [(2, 1.0, 0.1, 0.75), (0, 2.0, 1.0, 0.5),
                                                    (5, 0.5, 0.01, 1.0)])
def test_lrn_vs_litert(radius, bias, alpha, beta):
    assert_matches_litert("LOCAL_RESPONSE_NORMALIZATION", [floats(2, 3, 4, 9)],
                          {"radius": radius, "bias": bias, "alpha": alpha, "beta": beta})


@pytest.mark.parametrize("size", [1, 3, 4, 7, 16, 37, 1000, 4099])
def test_hard_swish_bit_exact_vs_litert(size):
    # the value a QUANTIZE after a float island rounds depends on the last bit
    pytest.importorskip("ai_edge_litert")
    x = floats(size, scale=4.0)
    ours = run_op("HARD_SWISH", [x])[0]
    ref = run_op_litert("HARD_SWISH", [x])[0]
    assert np.array_equal(ours.view(np.int32), ref.view(np.int32)), f"{int(np.sum(ours != ref))} values differ"
