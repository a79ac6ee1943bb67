"""Fixed-point helpers against hand-computed values, including the rounding corner cases."""
import numpy as np

from edgelite.kernels.quant_math import (INT32_MAX, INT32_MIN, activation_range,
                                         multiply_by_quantized_multiplier,
                                         multiply_by_quantized_multiplier_int64,
                                         quantize_multiplier, rounding_divide_by_pot,
                                         saturating_rounding_doubling_high_mul)


def test_quantize_multiplier_values():
    m, s = quantize_multiplier([0.5, 1.0, 0.75, 0.0, 2.0**-40, 1 - 2.0**-40])
    assert m.tolist() == [2**30, 2**30, 3 * 2**29, 0, 0, 2**30]
    assert s.tolist() == [0, 1, 0, 0, 0, 1]  # 1 - 2^-40 rounds up to 2^31: halved, shift bumped


def test_srdhm_rounding_and_saturation():
    f = saturating_rounding_doubling_high_mul
    assert int(f(INT32_MIN, INT32_MIN)) == INT32_MAX
    assert int(f(3, 2**30)) == 2      # 1.5 rounds up
    assert int(f(-3, 2**30)) == -1    # -1.5: nudge then C truncation gives -1
    assert int(f(-5, 2**30)) == -2    # -2.5 -> -2
    assert int(f(INT32_MIN, INT32_MAX)) == INT32_MIN + 1


def test_rounding_divide_by_pot_halves_away_from_zero():
    x = np.array([5, -5, 6, -6, 7, -7, -4, 0])
    e = np.array([1, 1, 2, 2, 2, 2, 1, 3])
    assert rounding_divide_by_pot(x, e).tolist() == [3, -3, 2, -2, 2, -2, -2, 0]


def test_multiply_by_quantized_multiplier():
    m, s = quantize_multiplier(0.5)
    # -50.5: the doubling high-mul rounds negative ties toward zero (gemmlowp)
    assert multiply_by_quantized_multiplier([100, -101, 0], m, s).tolist() == [50, -50, 0]
    m, s = quantize_multiplier(3.0)  # left shift path
    assert multiply_by_quantized_multiplier([7, -7], m, s).tolist() == [21, -21]
    m, s = quantize_multiplier(np.array([0.25, 0.125]))  # per channel broadcast
    assert multiply_by_quantized_multiplier([[8, 8]], m, s).tolist() == [[2, 1]]


def test_multiply_by_quantized_multiplier_int64():
    m, s = quantize_multiplier(0.5)
    assert multiply_by_quantized_multiplier_int64([2**40, -3, 3], m, s).tolist() == [2**39, -1, 2]


def test_activation_range():
    assert activation_range(0, 0.1, -5, -128, 127) == (-128, 127)
    assert activation_range(1, 0.1, -5, -128, 127) == (-5, 127)
    assert activation_range(3, 0.1, -128, -128, 127) == (-128, -68)
    assert activation_range(2, 0.05, 0, -128, 127) == (-20, 20)


def test_quantize_multiplier_scalar_matches_the_vector_version():
    from edgelite.kernels.quant_math import quantize_multiplier_scalar
    rng = np.random.default_rng(0)
    values = np.concatenate([np.exp(rng.uniform(-30, 30, 500)), -np.exp(rng.uniform(-5, 5, 20)),
                             [0.0, 1 - 2.0**-40, 2.0**-40, 2.0**40, 0.5, 1.0]])
    m, s = quantize_multiplier(values)
    assert [quantize_multiplier_scalar(v) for v in values.tolist()] == list(zip(m.tolist(), s.tolist()))
    assert quantize_multiplier_scalar(2.0**40) == (INT32_MAX, 30)
