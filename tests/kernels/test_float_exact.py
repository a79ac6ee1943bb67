"""Float kernels that reproduce LiteRT bit for bit: same operation order, same rounding.

Each case runs one op in edgelite and in LiteRT's builtin kernels and requires equal
values (``exact=True``), on data spread over several orders of magnitude so that any
change of summation order shows.
"""
import numpy as np
import pytest
from kernel_cases import assert_matches_litert

from edgelite.kernels.reduce import eigen_row_sums, in_order_sum

RNG = np.random.default_rng(2024)


def spread(*shape):
    """Values of random sign over 10^-3 .. 10^3: float sums depend on their order."""
    return (RNG.standard_normal(shape) * 10.0 ** RNG.uniform(-3, 3, shape)).astype(np.float32)


def floats(*shape, scale=2.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def conv_options(stride=1, padding=0, act=0, dilation=1, **extra):
    return {"padding": padding, "stride_w": stride, "stride_h": stride, "fused_activation_function": act,
            "dilation_w_factor": dilation, "dilation_h_factor": dilation, **extra}


@pytest.mark.parametrize("stride, padding, dilation, multiplier, act", [
    (1, 0, 1, 1, 0), (2, 0, 1, 1, 3), (1, 1, 1, 2, 1), (2, 1, 1, 3, 0), (1, 0, 2, 1, 0), (3, 0, 1, 1, 2),
])
@pytest.mark.parametrize("const_filter", [True, False])
def test_depthwise_conv(stride, padding, dilation, multiplier, act, const_filter):
    c = 5
    x, w, b = spread(2, 13, 11, c), floats(1, 3, 3, c * multiplier), spread(c * multiplier)
    consts = (1, 2) if const_filter else ()
    assert_matches_litert("DEPTHWISE_CONV_2D", [x, w, b],
                          conv_options(stride, padding, act, dilation, depth_multiplier=multiplier),
                          constant_inputs=consts, exact=True)


def test_depthwise_conv_zero_bias_and_wide_kernel():
    x, w = spread(1, 9, 10, 4), floats(1, 5, 4, 4)
    assert_matches_litert("DEPTHWISE_CONV_2D", [x, w, np.zeros(4, np.float32)],
                          conv_options(padding=0, depth_multiplier=1), constant_inputs=(1, 2), exact=True)


@pytest.mark.parametrize("size, align_corners, half_pixel", [
    ((11, 13), False, False), ((11, 13), True, False), ((11, 13), False, True),
    ((3, 4), False, True),                      # downsampling
    ((10, 14), False, False),                   # exact 2x: LiteRT's ResizeBilinear2x2 kernel
    ((10, 14), False, True), ((10, 14), True, False),  # 2x with a flag: the generic kernel
    ((10, 7), False, False),                    # 2x on one axis only: generic
])
def test_resize_bilinear_float(size, align_corners, half_pixel):
    x = spread(2, 5, 7, 3)
    assert_matches_litert("RESIZE_BILINEAR", [x, np.array(size, np.int32)],
                          {"align_corners": align_corners, "half_pixel_centers": half_pixel},
                          constant_inputs=(1,), exact=True)


def test_resize_bilinear_2x_single_pixel_and_channel_tails():
    assert_matches_litert("RESIZE_BILINEAR", [spread(1, 1, 1, 3), np.array([2, 2], np.int32)],
                          {"align_corners": False, "half_pixel_centers": False}, constant_inputs=(1,), exact=True)
    assert_matches_litert("RESIZE_BILINEAR", [spread(1, 4, 3, 13), np.array([8, 6], np.int32)],
                          {"align_corners": False, "half_pixel_centers": False}, constant_inputs=(1,), exact=True)


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("filt, stride, padding", [((3, 3), 1, 0), ((3, 2), 2, 0), ((2, 2), 2, 1), ((5, 5), 1, 0)])
def test_sum_pools(op, filt, stride, padding):
    x = spread(2, 9, 8, 3) if op == "AVERAGE_POOL_2D" else np.abs(spread(2, 9, 8, 3))
    assert_matches_litert(op, [x], {"padding": padding, "stride_w": stride, "stride_h": stride,
                                    "filter_height": filt[0], "filter_width": filt[1],
                                    "fused_activation_function": 0}, exact=True)


REDUCTIONS = [
    ((5, 7), [1]), ((3, 64), [1]), ((4, 1003), [-1]), ((6, 40), [0]), ((2, 5, 9), [0, 2]),
    ((2, 5, 9), [1, 2]), ((2, 5, 9), [2]), ((1, 200), [0, 1]), ((3, 4, 6), [0, 1]), ((6, 1, 7), [2, 1]),
    ((2, 3, 4, 5), [1, 2]), ((2, 3, 4, 5), [3, 1]), ((30,), [0]), ((7, 2), [1]),
]


@pytest.mark.parametrize("op", ["SUM", "MEAN"])
@pytest.mark.parametrize("shape, axes", REDUCTIONS)
@pytest.mark.parametrize("keep_dims", [False, True])
def test_sum_and_mean(op, shape, axes, keep_dims):
    assert_matches_litert(op, [spread(*shape), np.array(axes, np.int32)], {"keep_dims": keep_dims},
                          constant_inputs=(1,), exact=True)


@pytest.mark.parametrize("shape, axes", [((2, 0, 4), [2]), ((2, 0, 4), [1]), ((0, 3), [1]), ((3, 0), [1])])
@pytest.mark.parametrize("keep_dims", [False, True])
def test_sum_of_empty_tensors(shape, axes, keep_dims):
    x = np.zeros(shape, np.float32)
    expected = np.sum(x, axis=tuple(axes), keepdims=keep_dims)
    got = in_order_sum(x, tuple(axes), keep_dims)
    assert got.shape == expected.shape and np.array_equal(got, expected)
    assert_matches_litert("SUM", [x, np.array(axes, np.int32)], {"keep_dims": keep_dims},
                          constant_inputs=(1,), exact=True)


@pytest.mark.parametrize("shape", [(4, 7), (3, 64), (2, 3, 100), (5, 33)])
def test_l2_normalization(shape):
    assert_matches_litert("L2_NORMALIZATION", [spread(*shape)], {"fused_activation_function": 0}, exact=True)


# -- the summation orders themselves (no LiteRT needed) ---------------------------------
def test_in_order_sum_adds_left_to_right():
    x = np.array([[1e8, 1.0, -1e8, 1.0, 3.0]], np.float32)
    # 1e8 + 1 rounds back to 1e8, - 1e8 = 0, + 1 + 3 = 4 (pairwise summation would differ)
    assert in_order_sum(x, (1,), keepdims=False).tolist() == [4.0]
    assert in_order_sum(x.T.copy(), (0,), keepdims=True).tolist() == [[4.0]]


def test_eigen_row_sums_lanes_and_alignment():
    # an aligned row: the packets (1e8, 1, 1, 1) and (-1e8, 1, 1, 1) added lane-wise give
    # (0, 2, 2, 2), reduced as (0 + 2) + (2 + 2) = 6, then the 9th value: 11 (in order: 8)
    x = np.array([[1e8, 1, 1, 1, -1e8, 1, 1, 1, 5]], np.float32)
    assert eigen_row_sums(x).tolist() == [11.0]
    # with 3 values per row, row 1 starts at element 3: one value before the aligned address,
    # too few for a packet after it, so the row is summed in order
    y = np.array([[1, 2, 3], [1e8, 1, -1e8]], np.float32)
    assert eigen_row_sums(y).tolist() == [6.0, 0.0]


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "L2_POOL_2D"])
def test_global_pools(op):
    x = np.abs(spread(2, 7, 6, 40))
    assert_matches_litert(op, [x], {"padding": 1, "stride_w": 1, "stride_h": 1, "filter_height": 7,
                                    "filter_width": 6, "fused_activation_function": 0}, exact=True)
    assert_matches_litert(op, [x], {"padding": 0, "stride_w": 4, "stride_h": 4, "filter_height": 5,
                                    "filter_width": 5, "fused_activation_function": 0}, exact=True)
