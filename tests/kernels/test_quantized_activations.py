"""Quantized activations (LOGISTIC, TANH, GELU, PRELU, SOFTMAX, LOG_SOFTMAX...) against LiteRT's
builtin kernels (bit-exact), and the lookup tables they share."""
import numpy as np
import pytest

from edgelite.ir import Quantization as Q
from edgelite.kernels.testing import run_op
from kernel_cases import assert_matches_litert

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(2, 128)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(4, 16384)


def rand8(shape, seed):
    return np.random.default_rng(seed).integers(-128, 128, size=shape, dtype=np.int8)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_int8_approximate_option(approximate):
    assert_matches_litert("GELU", [ALL_INT8], {"approximate": approximate}, input_quant=[Q([0.04], [-3])],
                          output_quant=[Q([0.02], [-60])], version=2)


@pytest.mark.parametrize("si,zi", [(0.05, 3), (1 / 256, -128), (0.1, 0)])
def test_logistic_int8_exhaustive(si, zi):
    assert_matches_litert("LOGISTIC", [ALL_INT8], None, input_quant=[Q([si], [zi])],
                          output_quant=[Q([1 / 256], [-128])], version=2)


# ---------------------------------------------------------------- softmax

@pytest.mark.parametrize("beta", [1.0, 0.7])
@pytest.mark.parametrize("si,zi", [(0.1, 0), (0.03, -20), (0.25, 60)])
def test_softmax_int8_matches_litert(beta, si, zi):
    x = rand8((6, 7, 33), 11)
    assert_matches_litert("SOFTMAX", [x], {"beta": beta}, input_quant=[Q([si], [zi])],
                          output_quant=[Q([1 / 256], [-128])], version=2)


def test_softmax_int8_single_class_and_ties():
    x = np.array([[5, 5, 5, 5], [-128, -128, 127, 127], [0, 0, 0, 0]], np.int8)
    ours = assert_matches_litert("SOFTMAX", [x], {"beta": 1.0}, input_quant=[Q([0.05], [0])],
                                 output_quant=[Q([1 / 256], [-128])], version=2)
    assert ours[0][0].tolist() == [-64, -64, -64, -64]  # 0.25 * 256 - 128


@pytest.mark.parametrize("quant", [(0.05, 3, 0.02, -5, 0.03, -2), (0.1, -100, 0.004, 20, 0.05, 60)])
def test_prelu_int8_matches_litert(quant):
    si, zi, sa, za, so, zo = quant
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 4, 8, 8)
    alpha = rand8((1, 1, 8), 4)
    assert_matches_litert("PRELU", [x, alpha], None, input_quant=[Q([si], [zi]), Q([sa], [za])],
                          output_quant=[Q([so], [zo])], version=1, constant_inputs=(1,))


@pytest.mark.parametrize("si,zi", [(0.1, 0), (0.03, -20), (0.25, 60)])
def test_log_softmax_int8_matches_litert(si, zi):
    x = rand8((6, 7, 33), 12)
    assert_matches_litert("LOG_SOFTMAX", [x], None, input_quant=[Q([si], [zi])],
                          output_quant=[Q([16 / 256], [127])], version=2)


def test_softmax_int8_input_int16_output():
    x = rand8((5, 40), 13)
    assert_matches_litert("SOFTMAX", [x], {"beta": 1.0}, input_quant=[Q([0.07], [-3])],
                          output_quant=[Q([1 / 32768], [0])], output_dtypes=[np.int16], version=2)


@pytest.mark.parametrize("si", [0.001, 0.0003, 1 / 4096])
@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_softmax_int16_matches_litert(si, beta):
    x = np.random.default_rng(14).integers(-32768, 32768, size=(6, 7, 33), dtype=np.int16)
    assert_matches_litert("SOFTMAX", [x], {"beta": beta}, input_quant=[Q([si], [0])],
                          output_quant=[Q([1 / 32768], [0])], version=3)


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("si", [0.001, 0.0003, 10 / 32768, 2 ** -10])
def test_logistic_tanh_int16_exhaustive(opcode, si):
    assert_matches_litert(opcode, [ALL_INT16], None, input_quant=[Q([si], [0])],
                          output_quant=[Q([1 / 32768], [0])], version=3)


# Power-of-two input scales 2^-12 (LOGISTIC, TANH) and 2^-11 (TANH) take LiteRT's gemmlowp fixed-point
# path; 2^-10 and 2^-13 do not (their left shift is out of range): every int16 input, exhaustively.
@pytest.mark.parametrize("opcode,log2_scale", [("LOGISTIC", -12), ("LOGISTIC", -11), ("LOGISTIC", -13),
                                               ("TANH", -12), ("TANH", -11), ("TANH", -10)])
def test_int16_logistic_tanh_power_of_two_scales_exhaustive(opcode, log2_scale):
    assert_matches_litert(opcode, [ALL_INT16], None, input_quant=[Q([2.0 ** log2_scale], [0])],
                          output_quant=[Q([1 / 32768], [0])], version=3)


def test_int16_gemmlowp_logistic_tanh_hand_checked():
    from edgelite.kernels.quantized_activations import gemmlowp_logistic_16, gemmlowp_tanh_16
    x = np.array([-32768, -4096, 0, 4096, 32767])  # Q3.12: -8, -1, 0, 1, ~8
    np.testing.assert_allclose(gemmlowp_logistic_16(x) / 32768, 1 / (1 + np.exp(-x / 4096)), atol=5e-4)
    np.testing.assert_allclose(gemmlowp_tanh_16(x) / 32768, np.tanh(x / 4096), atol=5e-4)
    assert gemmlowp_logistic_16(np.array([0]))[0] == 16384 and gemmlowp_tanh_16(np.array([0]))[0] == 0


def test_int16_logistic_refuses_an_output_scale_other_than_2_pow_minus_15():
    with pytest.raises(Exception, match="output scale 2\\^-15"):
        run_op("LOGISTIC", [ALL_INT16], None, input_quant=[Q([2 ** -12], [0])],
               output_quant=[Q([1 / 16384], [0])], version=3)


def test_hard_swish_refuses_a_too_fine_output_scale_at_prepare():
    with pytest.raises(Exception, match="output scale too small"):
        run_op("HARD_SWISH", [ALL_INT8], None, input_quant=[Q([1.0], [0])], output_quant=[Q([0.001], [0])])


def test_lookup_tables_are_shared_by_kernels_with_the_same_quantization():
    from edgelite.kernels import quantized_elementwise as qe
    qe._TABLES.clear()
    quant = {"input_quant": [Q([0.0371], [7])], "output_quant": [Q([1 / 256], [-128])], "version": 2}
    first = run_op("LOGISTIC", [ALL_INT8], None, **quant)
    assert len(qe._TABLES) == 1
    again = run_op("LOGISTIC", [ALL_INT8[:1]], None, **quant)
    assert len(qe._TABLES) == 1
    np.testing.assert_array_equal(again[0], first[0][:1])
    run_op("LOGISTIC", [ALL_INT8], None, input_quant=[Q([0.0372], [7])], output_quant=quant["output_quant"])
    assert len(qe._TABLES) == 2
