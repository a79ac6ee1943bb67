"""Quantized pooling, reductions, resize, concatenation and L2 norm against LiteRT (bit-exact)."""
import numpy as np
import pytest

from edgelite.ir import Quantization as Q
from edgelite.kernels.testing import run_op
from kernel_cases import assert_matches_litert


def rand(shape, seed, dtype=np.int8):
    info = np.iinfo(dtype)
    return np.random.default_rng(seed).integers(info.min, info.max + 1, size=shape, dtype=dtype)


POOL_CASES = [  # filter, stride, padding (0 SAME, 1 VALID), activation
    (2, 2, 1, 0), (3, 2, 0, 0), (3, 1, 0, 1), (3, 3, 0, 3), (5, 2, 0, 0), (2, 1, 1, 2),
]


@pytest.mark.parametrize("opcode", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_pooling_matches_litert(opcode, case, dtype):
    k, s, pad, act = case
    x = rand((2, 9, 11, 5), 1, dtype)
    zp = 0 if dtype == np.int16 else -7
    q = Q([0.05], [zp])
    opts = {"filter_height": k, "filter_width": k, "stride_h": s, "stride_w": s, "padding": pad,
            "fused_activation_function": act}
    assert_matches_litert(opcode, [x], opts, input_quant=[q], output_quant=[q], version=2 if dtype == np.int8 else 3)


def test_average_pool_rounds_half_away_from_zero():
    x = np.array([1, 2, -1, -2], np.int8).reshape(1, 2, 2, 1)
    x2 = np.array([1, 0, -1, -2], np.int8).reshape(1, 2, 2, 1)
    q = Q([0.1], [0])
    opts = {"filter_height": 2, "filter_width": 2, "stride_h": 2, "stride_w": 2, "padding": 1}
    # sums 0 -> 0 ; -2 / 4 = -0.5 -> -1 (away from zero)
    assert run_op("AVERAGE_POOL_2D", [x], opts, input_quant=[q], output_quant=[q])[0].item() == 0
    assert run_op("AVERAGE_POOL_2D", [x2], opts, input_quant=[q], output_quant=[q])[0].item() == -1


MEAN_CASES = [  # input shape, axes, keep_dims
    ((2, 7, 5, 6), [1, 2], True),   # LiteRT's 4-D fast path
    ((2, 7, 5, 6), [1, 2], False),
    ((2, 7, 5, 6), [2, 1], True),
    ((3, 9, 13), [-1], False),
    ((3, 9, 13), [0, 2], True),
    ((4, 33), [1], False),
    ((1, 50, 60, 3), [1, 2], False),
]


REDUCE_INT8 = ([("MEAN", case, quant, 2) for case in MEAN_CASES
                for quant in [(0.05, 3, 0.05, 3), (0.1, -20, 0.02, 10), (0.02, 100, 0.3, -100)]]
               + [("SUM", case, quant, 4) for case in MEAN_CASES[:6]
                  for quant in [(0.05, 3, 0.5, 3), (0.01, -20, 0.3, 10)]])


@pytest.mark.parametrize("opcode,case,quant,seed", REDUCE_INT8)
def test_mean_sum_int8_matches_litert(opcode, case, quant, seed):
    shape, axes, keep = case
    si, zi, so, zo = quant
    x = rand(shape, seed)
    assert_matches_litert(opcode, [x, np.array(axes, np.int32)], {"keep_dims": keep}, constant_inputs=(1,),
                          input_quant=[Q([si], [zi]), None], output_quant=[Q([so], [zo])], version=2)


@pytest.mark.parametrize("case", MEAN_CASES[:5])
def test_mean_int16_matches_litert(case):
    shape, axes, keep = case
    x = rand(shape, 3, np.int16)
    assert_matches_litert("MEAN", [x, np.array(axes, np.int32)], {"keep_dims": keep}, constant_inputs=(1,),
                          input_quant=[Q([0.001], [0]), None], output_quant=[Q([0.0007], [0])], version=3)


@pytest.mark.parametrize("opcode", ["REDUCE_MAX", "REDUCE_MIN"])
def test_reduce_max_min_int8(opcode):
    x = rand((3, 4, 5), 5)
    q = Q([0.1], [4])
    assert_matches_litert(opcode, [x, np.array([0, 2], np.int32)], {"keep_dims": False}, constant_inputs=(1,),
                          input_quant=[q, None], output_quant=[q], version=2)


def test_l2_normalization_int8():
    x = rand((7, 40), 6)
    x[0] = 0  # all at the zero point
    x[1, :] = 127
    assert_matches_litert("L2_NORMALIZATION", [x], None, input_quant=[Q([0.05], [0])],
                          output_quant=[Q([1 / 128], [0])], version=2)


@pytest.mark.parametrize("opcode,seed,size", [("RESIZE_BILINEAR", 7, [9, 12]),
                                               ("RESIZE_NEAREST_NEIGHBOR", 8, [11, 4])])
@pytest.mark.parametrize("align,half", [(False, False), (True, False), (False, True)])
def test_resize_int8(opcode, seed, size, align, half):
    x = rand((2, 5, 7, 3), seed)
    q = Q([0.05], [-3])
    assert_matches_litert(opcode, [x, np.array(size, np.int32)],
                          {"align_corners": align, "half_pixel_centers": half}, constant_inputs=(1,),
                          input_quant=[q, None], output_quant=[q], version=3)


def test_concatenation_int8_same_quantization():
    q = Q([0.05], [-3])
    a, b = rand((2, 3, 4), 9), rand((2, 5, 4), 10)
    assert_matches_litert("CONCATENATION", [a, b], {"axis": 1}, input_quant=[q, q], output_quant=[q], version=2)


@pytest.mark.parametrize("channels", [7, 16, 17, 40])
def test_mean_fast_path_simd_rounding(channels):
    # negative sums put many requantized values exactly on a .5 tie: LiteRT's SIMD
    # channel blocks (of 16) round those up, its scalar tail rounds away from zero
    x = np.random.default_rng(channels).integers(-128, -60, size=(3, 7, 7, channels), dtype=np.int8)
    assert_matches_litert("MEAN", [x, np.array([1, 2], np.int32)], {"keep_dims": True}, constant_inputs=(1,),
                          input_quant=[Q([0.02652784], [-114]), None], output_quant=[Q([0.00369594], [-75])],
                          version=2)


@pytest.mark.parametrize("seed", range(6))
def test_mean_fast_path_random_scales(seed):
    # prepare computes the fast path's bias and multiplier in float32 arithmetic on Python floats
    rng = np.random.default_rng(100 + seed)
    si, so = (float(v) for v in 10.0 ** rng.uniform(-3, 0, 2))
    zi, zo = (int(v) for v in rng.integers(-128, 128, 2))
    h, w = (int(v) for v in rng.integers(1, 12, 2))
    x = rand((2, h, w, 19), 200 + seed)
    assert_matches_litert("MEAN", [x, np.array([1, 2], np.int32)], {"keep_dims": True}, constant_inputs=(1,),
                          input_quant=[Q([si], [zi]), None], output_quant=[Q([so], [zo])], version=2)
