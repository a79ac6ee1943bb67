"""Quantized elementwise kernels (and unary ops shared with activations) against LiteRT's builtin kernels
(bit-exact)."""
import numpy as np
import pytest

from edgelite.ir import Quantization as Q
from edgelite.kernels import quantized_elementwise as qe
from edgelite.kernels.quantized_elementwise import (count_leading_sign_bits_32, count_leading_zeros_32,
                                                    inv_sqrt_multiplier_exp, lut_populate_8bit,
                                                    one_over_one_plus_x_for_x_in_0_1)
from edgelite.kernels.testing import run_op
from kernel_cases import assert_matches_litert

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(2, 128)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16).reshape(4, 16384)

# (input scale, input zp, output scale, output zp)
UNARY_QUANTS = [(0.05, 3, 0.03, -5), (0.1, -20, 0.02, 10), (0.011, 0, 0.4, -128), (0.2, 100, 0.5, 0)]
BINARY_QUANTS = [  # s1, z1, s2, z2, so, zo
    (0.05, 3, 0.05, 3, 0.1, -2),
    (0.02, -10, 0.07, 5, 0.06, 1),
    (0.3, 0, 0.004, -100, 0.25, 20),
    (0.011, 127, 0.013, -128, 0.009, 0),
]


def rand8(shape, seed):
    return np.random.default_rng(seed).integers(-128, 128, size=shape, dtype=np.int8)


# ---------------------------------------------------------------- binary

@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("qi", range(len(BINARY_QUANTS)))
def test_binary_int8_matches_litert(opcode, qi):
    s1, z1, s2, z2, so, zo = BINARY_QUANTS[qi]
    a = rand8((2, 3, 4, 5), qi)
    b = rand8((1, 3, 1, 5), qi + 10)
    assert_matches_litert(opcode, [a, b], None, input_quant=[Q([s1], [z1]), Q([s2], [z2])],
                          output_quant=[Q([so], [zo])], version=2)


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("act", [1, 2, 3])
def test_binary_int8_fused_activation(opcode, act):
    a, b = rand8((3, 50), 1), rand8((3, 50), 2)
    assert_matches_litert(opcode, [a, b], {"fused_activation_function": act},
                          input_quant=[Q([0.05], [3]), Q([0.04], [-7])], output_quant=[Q([0.03], [-4])], version=2)


def test_add_all_pairs_exhaustive():
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(256, 256)
    b = a.T.copy()
    for s1, z1, s2, z2, so, zo in BINARY_QUANTS[:2]:
        for op in ("ADD", "MUL"):
            assert_matches_litert(op, [a, b], None, input_quant=[Q([s1], [z1]), Q([s2], [z2])],
                                  output_quant=[Q([so], [zo])], version=2)


@pytest.mark.parametrize("opcode", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("scales", [(0.001, 0.0007, 0.0013), (2**-10, 2**-12, 2**-10), (2**-8, 2**-8, 2**-8)])
def test_binary_int16_matches_litert(opcode, scales):
    rng = np.random.default_rng(5)
    a = rng.integers(-32768, 32768, size=(4, 60), dtype=np.int16)
    b = rng.integers(-32768, 32768, size=(4, 60), dtype=np.int16)
    s1, s2, so = scales
    assert_matches_litert(opcode, [a, b], None, input_quant=[Q([s1], [0]), Q([s2], [0])],
                          output_quant=[Q([so], [0])], version=3 if opcode != "MUL" else 4)


@pytest.mark.parametrize("opcode", ["LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL"])
def test_comparisons_int8_rescaled(opcode):
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 64).reshape(256, 64)
    b = rand8((256, 64), 3)
    assert_matches_litert(opcode, [a, b], None, input_quant=[Q([0.05], [3]), Q([0.07], [-9])],
                          output_dtypes=[np.bool_], version=2)


def test_div_int8_matches_litert():
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 255).reshape(256, 255)
    b = np.tile(np.arange(-128, 128, dtype=np.int8)[np.arange(256) != 128], (256, 1))  # skip zero point 0
    for qs in [(0.05, 0, 0.03, 0, 0.1, -3), (0.02, 7, 0.1, 0, 0.005, 12)]:
        s1, z1, s2, z2, so, zo = qs
        bb = b if z2 == 0 else np.where(b == z2, z2 + 1, b).astype(np.int8)
        assert_matches_litert("DIV", [a, bb], None, input_quant=[Q([s1], [z1]), Q([s2], [z2])],
                              output_quant=[Q([so], [zo])], version=2)


# ---------------------------------------------------------------- unary, exhaustive over int8

UNARY = ["EXP", "LOG", "TANH", "GELU", "ABS", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH", "ELU",
         "RELU_N1_TO_1"]


@pytest.mark.parametrize("opcode", UNARY)
@pytest.mark.parametrize("qi", range(len(UNARY_QUANTS)))
def test_unary_int8_exhaustive(opcode, qi):
    si, zi, so, zo = UNARY_QUANTS[qi]
    options = {"alpha": 0.2} if opcode == "LEAKY_RELU" else None
    version = 1 if opcode in ("HARD_SWISH", "ELU", "RELU_N1_TO_1") else 2
    if opcode == "TANH":
        so, zo = 1 / 128, 0
    assert_matches_litert(opcode, [ALL_INT8], options, input_quant=[Q([si], [zi])], output_quant=[Q([so], [zo])],
                          version=version)


@pytest.mark.parametrize("opcode", ["SQRT", "RSQRT"])
@pytest.mark.parametrize("si,zi,so,zo", [(0.05, -128, 0.02, -128), (0.003, -20, 0.1, -100), (0.5, 0, 0.04, 3)])
def test_sqrt_rsqrt_int8_nonnegative_inputs(opcode, si, zi, so, zo):
    x = np.arange(zi, 128, dtype=np.int8).reshape(1, -1)
    assert_matches_litert(opcode, [x], None, input_quant=[Q([si], [zi])], output_quant=[Q([so], [zo])], version=2)


def test_rsqrt_rejects_negative_inputs():
    x = np.array([[-5, 4]], np.int8)
    with pytest.raises(Exception, match="positive"):
        run_op("RSQRT", [x], None, input_quant=[Q([0.1], [0])], output_quant=[Q([0.1], [0])], version=2)


@pytest.mark.parametrize("opcode", ["LOG", "ABS", "GELU", "EXP"])
def test_unary_int16_exhaustive(opcode):
    assert_matches_litert(opcode, [ALL_INT16], None, input_quant=[Q([3 / 32768], [0])],
                          output_quant=[Q([5 / 32768], [0])], version=2)


# ---------------------------------------------------------------- hand-checked helpers

def test_lut_populate_rounds_half_away_and_saturates():
    # identity with in_scale 0.5, out_scale 1.0: x*0.5 rounds half away from zero
    t = lut_populate_8bit(0.5, 0, 1.0, 0, lambda v: v)
    assert t[[128 - 3, 128 - 1, 128 + 1, 128 + 3]].tolist() == [-2, -1, 1, 2]
    # exp overflowing to inf converts (x86 cvttss2si) to INT32_MIN, which clamps to -128
    def exp32(v):
        with np.errstate(over="ignore"):
            return np.exp(v.astype(np.float64)).astype(np.float32)
    t = lut_populate_8bit(100.0, 0, 0.01, 0, exp32)
    assert t[255] == -128      # exp(12700) = inf
    assert t[128] == 100       # exp(0) / 0.01
    assert t[127] == 0         # exp(-100) ~ 0


def test_fixed_point_helpers():
    assert count_leading_zeros_32(np.array([1, 2**31 - 1, 0, 256])).tolist() == [31, 1, 32, 23]
    assert count_leading_sign_bits_32(np.array([0, 1, -1, -2**31, 2**30])).tolist() == [31, 30, 31, 0, 0]
    # 1 / (1 + 0.5) = 2/3 in Q0.31
    r = int(one_over_one_plus_x_for_x_in_0_1(np.array([2**30]))[0])
    assert abs(r - round(2 / 3 * 2**31)) < 64
    # 1/sqrt(4) = 0.5: multiplier * 2^shift / 2^31
    m, s = inv_sqrt_multiplier_exp(4)
    assert abs(m * 2.0**s / 2**31 - 0.5) < 1e-6


@pytest.mark.parametrize("shapes", [((300,), (300,)), ((5, 37), (1, 37)), ((1,), (45,)), ((37,), (1,)),
                                    ((4, 1, 9), (1, 6, 1))])
def test_mul_int8_results_beyond_int16_follow_simd_lanes(shapes):
    # a multiplier > 1 pushes raw results past int16: LiteRT's SIMD lanes wrap, its tails clamp
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=shapes[0], dtype=np.int8)
    b = rng.integers(-128, 128, size=shapes[1], dtype=np.int8)
    assert_matches_litert("MUL", [a, b], None, input_quant=[Q([0.05], [-105]), Q([0.05], [27])],
                          output_quant=[Q([0.0002], [33])], version=2)


@pytest.mark.parametrize("n", [15, 16, 17, 40])
def test_add_int8_simd_lanes_fold_the_input_shift(n):
    # (116, -28) at these scales rounds differently in LiteRT's SIMD loop and its scalar tail
    a, b = np.full((n,), 116, np.int8), np.full((n,), -28, np.int8)
    ours = assert_matches_litert("ADD", [a, b], None, input_quant=[Q([0.02], [-10]), Q([0.07], [5])],
                                 output_quant=[Q([0.06], [1])], version=2)
    assert ours[0][0] == (4 if n >= 16 else 5)


LANE_MUL = [(0.05, -105), (0.05, 27), (0.0002, 33)]  # multiplier > 1: SIMD lanes differ
LANE_ADD = [(0.02, -10), (0.07, 5), (0.06, 1)]  # the SIMD loop rounds differently from the tail


@pytest.mark.parametrize("table", [False, True])
@pytest.mark.parametrize("opcode,quant,shapes", [
    ("MUL", LANE_MUL, ((300,), (300,))), ("MUL", LANE_MUL, ((5, 37), (1, 37))),
    ("MUL", LANE_MUL, ((4, 1, 9), (1, 6, 1))), ("MUL", BINARY_QUANTS[1], ((6, 40), (6, 40))),
    ("ADD", LANE_ADD, ((40,), (40,))), ("ADD", LANE_ADD, ((3, 37), (1, 37))),
    ("ADD", LANE_ADD, ((2, 3, 5), (2, 1, 5))), ("SUB", LANE_ADD, ((3, 37), (3, 37))),
    ("SQUARED_DIFFERENCE", BINARY_QUANTS[2], ((3, 37), (1, 37))),
])
def test_binary_int8_pair_tables_match_the_arithmetic(monkeypatch, table, opcode, quant, shapes):
    # large outputs go through the 65536-entry pair tables: force either path on small shapes
    monkeypatch.setattr(qe, "PAIR_TABLE_SIZE", 1 if table else 1 << 40)
    if len(quant) == 6:
        quant = [quant[0:2], quant[2:4], quant[4:6]]
    rng = np.random.default_rng(len(shapes[0]) + shapes[1][-1])
    a = rng.integers(-128, 128, size=shapes[0], dtype=np.int8)
    b = rng.integers(-128, 128, size=shapes[1], dtype=np.int8)
    (s1, z1), (s2, z2), (so, zo) = quant
    assert_matches_litert(opcode, [a, b], None, input_quant=[Q([s1], [z1]), Q([s2], [z2])],
                          output_quant=[Q([so], [zo])], version=2)


@pytest.mark.parametrize("opcode,options,version", [("LEAKY_RELU", {"alpha": 0.2}, 2), ("RELU", None, 3),
                                                    ("RELU6", None, 3), ("ABS", None, 4)])
def test_unary_int16_rescaling_ops_exhaustive(opcode, options, version):
    assert_matches_litert(opcode, [ALL_INT16], options, input_quant=[Q([0.0004], [0])],
                          output_quant=[Q([0.0003], [0])], version=version)


@pytest.mark.parametrize("si,so", [(0.0004, 0.0003), (1 / 32768, 0.01)])
def test_rsqrt_int16_nonnegative_exhaustive(si, so):
    x = np.arange(0, 32768, dtype=np.int16).reshape(4, -1)
    assert_matches_litert("RSQRT", [x], None, input_quant=[Q([si], [0])], output_quant=[Q([so], [0])], version=3)
