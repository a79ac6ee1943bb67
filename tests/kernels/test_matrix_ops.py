"""MATRIX_DIAG, MATRIX_SET_DIAG, SPARSE_TO_DENSE, DYNAMIC_UPDATE_SLICE, BROADCAST_ARGS, BITCAST,
DILATE, REDUCE_WINDOW, FAKE_QUANT: hand-checked values and LiteRT (bit-exact)."""
from functools import partial

import numpy as np
import pytest
from kernel_cases import assert_matches_litert

from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op

REDUCE_WINDOW_OPTS = {"options2_type": "ReduceWindowOptions"}


both = partial(assert_matches_litert, exact=True)  # edgelite and LiteRT, bit for bit


DIAG_TYPES = [np.float32, np.int32, np.int8, np.uint8, np.int64, np.int16]


def test_matrix_diag_and_set_diag_by_hand():
    (d,) = run_op("MATRIX_DIAG", [np.array([[1, 2], [3, 4]], np.int32)])
    np.testing.assert_array_equal(d, [[[1, 0], [0, 2]], [[3, 0], [0, 4]]])
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (s,) = run_op("MATRIX_SET_DIAG", [x, np.array([-1, -2], np.float32)])
    np.testing.assert_array_equal(s, [[-1, 1, 2], [3, -2, 5]])
    with pytest.raises(KernelError, match="diagonal must have shape"):
        run_op("MATRIX_SET_DIAG", [x, np.zeros(3, np.float32)])
    with pytest.raises(KernelError, match="not supported"):
        run_op("MATRIX_DIAG", [np.ones(2, np.bool_)])


@pytest.mark.parametrize("dtype", DIAG_TYPES)
def test_matrix_diag_ops_match_litert(dtype):
    rng = np.random.default_rng(0)
    both("MATRIX_DIAG", [rng.integers(1, 9, (2, 3, 4)).astype(dtype)])
    both("MATRIX_SET_DIAG", [rng.integers(1, 9, (2, 3, 5)).astype(dtype), rng.integers(20, 30, (2, 3)).astype(dtype)])
    both("MATRIX_SET_DIAG", [rng.integers(1, 9, (4, 2)).astype(dtype), rng.integers(20, 30, (2,)).astype(dtype)])


def test_sparse_to_dense_by_hand():
    (out,) = run_op("SPARSE_TO_DENSE", [np.array([[0, 1], [2, 0]], np.int32), np.array([3, 2], np.int32),
                                        np.array([5, 6], np.int32), np.array(-1, np.int32)],
                    output_dtypes=[np.int32])
    np.testing.assert_array_equal(out, [[-1, 5], [-1, -1], [6, -1]])
    (s,) = run_op("SPARSE_TO_DENSE", [np.array([1, 3], np.int64), np.array([4], np.int64),
                                      np.array(2.5, np.float32), np.array(0, np.float32)],
                  constant_inputs=(1,), output_dtypes=[np.float32])
    np.testing.assert_array_equal(s, [0, 2.5, 0, 2.5])
    with pytest.raises(KernelError, match="out of range"):
        run_op("SPARSE_TO_DENSE", [np.array([4], np.int32), np.array([4], np.int32), np.array(1, np.int32),
                                   np.array(0, np.int32)], output_dtypes=[np.int32])
    with pytest.raises(KernelError, match="not supported"):
        run_op("SPARSE_TO_DENSE", [np.array([1], np.int32), np.array([4], np.int32), np.array(1, np.int16),
                                   np.array(0, np.int16)], output_dtypes=[np.int16])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.int8, np.uint8])
@pytest.mark.parametrize("index_type", [np.int32, np.int64])
@pytest.mark.parametrize("const", [(), (1,)])
def test_sparse_to_dense_matches_litert(dtype, index_type, const):
    idx = np.array([[0, 1, 2], [2, 0, 1], [1, 1, 1], [2, 3, 0]], index_type)
    args = [idx, np.array([3, 4, 3], index_type), np.array([1, 2, 3, 4], dtype), np.array(9, dtype)]
    both("SPARSE_TO_DENSE", args, constant_inputs=const, output_dtypes=[dtype])
    args = [np.array([5, 0, 2], index_type), np.array([7], index_type), np.array(3, dtype), np.array(1, dtype)]
    both("SPARSE_TO_DENSE", args, constant_inputs=const, output_dtypes=[dtype])


def test_dynamic_update_slice_by_hand_clamps_starts():
    x = np.zeros((3, 4), np.int32)
    (out,) = run_op("DYNAMIC_UPDATE_SLICE", [x, np.array([[1, 2]], np.int32), np.array([5, -3], np.int32)])
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [0, 0, 0, 0], [1, 2, 0, 0]])
    with pytest.raises(KernelError, match="exceeds"):
        run_op("DYNAMIC_UPDATE_SLICE", [x, np.zeros((4, 1), np.int32), np.array([0, 0], np.int32)])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("index_type", [np.int32, np.int64])
def test_dynamic_update_slice_matches_litert(dtype, index_type):
    rng = np.random.default_rng(5)
    op = rng.integers(0, 5, (4, 5, 3)).astype(dtype)
    up = rng.integers(5, 9, (2, 3, 3)).astype(dtype)
    for start in ([1, 1, 0], [3, -2, 2], [0, 9, 0]):
        both("DYNAMIC_UPDATE_SLICE", [op, up, np.array(start, index_type)])


def test_broadcast_args_by_hand():
    (out,) = run_op("BROADCAST_ARGS", [np.array([2, 1, 3], np.int32), np.array([4, 1], np.int32)])
    np.testing.assert_array_equal(out, [2, 4, 3])
    with pytest.raises(KernelError, match="not broadcast-compatible"):
        run_op("BROADCAST_ARGS", [np.array([2, 3], np.int64), np.array([4], np.int64)])


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_broadcast_args_matches_litert(dtype):
    for a, b in (([5, 1, 3], [1, 7, 1]), ([2], [3, 1, 2]), ([], [4, 4]), ([1, 0], [6, 1])):
        both("BROADCAST_ARGS", [np.array(a, dtype), np.array(b, dtype)])


def test_bitcast_shapes_by_hand():
    (u8,) = run_op("BITCAST", [np.array([1.0], np.float32)], output_dtypes=[np.uint8])
    assert u8.shape == (1, 4) and u8.view(np.float32)[0, 0] == 1.0
    (f,) = run_op("BITCAST", [u8], output_dtypes=[np.float32])
    np.testing.assert_array_equal(f, [1.0])
    with pytest.raises(KernelError, match="last input dimension of 4"):
        run_op("BITCAST", [np.zeros((2, 3), np.uint8)], output_dtypes=[np.int32])


@pytest.mark.parametrize("src,dst,shape", [(np.float32, np.int32, (2, 3)), (np.float32, np.uint8, (3,)),
                                           (np.uint8, np.float32, (2, 4)), (np.int16, np.uint16, (5,)),
                                           (np.int64, np.int16, (2, 2)), (np.int8, np.int16, (3, 2))])
def test_bitcast_matches_litert(src, dst, shape):
    x = np.random.default_rng(2).integers(-100, 100, shape).astype(src)
    both("BITCAST", [x], output_dtypes=[dst])


def test_dilate_by_hand():
    (out,) = run_op("DILATE", [np.array([[1, 2], [3, 4]], np.int32), np.array([2, 3], np.int32),
                               np.array(0, np.int32)])
    np.testing.assert_array_equal(out, [[1, 0, 0, 2], [0, 0, 0, 0], [3, 0, 0, 4]])
    with pytest.raises(KernelError, match=">= 1"):
        run_op("DILATE", [np.ones((2, 2), np.int32), np.array([0, 1], np.int32), np.array(0, np.int32)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("const", [(), (1,)])
def test_dilate_matches_litert(dtype, const):
    x = np.random.default_rng(3).integers(1, 5, (2, 3, 1, 2)).astype(dtype)
    both("DILATE", [x, np.array([3, 1, 2, 2], np.int32), np.array(7).astype(dtype)], constant_inputs=const)


def test_reduce_window_by_hand():
    x = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    args = [x, np.array(0, np.float32), np.array([2, 2], np.int64), np.array([1, 2], np.int64),
            np.array([1, 1], np.int64)]
    (out,) = run_op("REDUCE_WINDOW", args, constant_inputs=(2, 3, 4), options2={"reduce_function": 1},
                    **REDUCE_WINDOW_OPTS)
    np.testing.assert_array_equal(out, [[1 + 2 + 5 + 6, 3 + 4 + 7 + 8], [5 + 6 + 9 + 10, 7 + 8 + 11 + 12]])
    with pytest.raises(KernelError, match="constant"):
        run_op("REDUCE_WINDOW", args, constant_inputs=(2, 3), options2={"reduce_function": 1}, **REDUCE_WINDOW_OPTS)
    with pytest.raises(KernelError, match="reduce_function"):
        run_op("REDUCE_WINDOW", args, constant_inputs=(2, 3, 4), options2={"reduce_function": 0},
               **REDUCE_WINDOW_OPTS)


@pytest.mark.parametrize("fn,dtypes", [(1, [np.float32, np.int32, np.int64]), (2, [np.float32, np.int32]),
                                       (3, [np.float32, np.int8, np.uint8]), (4, [np.float32, np.int16, np.float64]),
                                       (5, [np.bool_]), (6, [np.bool_])])
@pytest.mark.parametrize("window,strides,dilations", [((2, 3, 1), (1, 2, 2), (2, 1, 1)),
                                                      ((1, 1, 3), (2, 1, 1), (1, 1, 1))])
def test_reduce_window_matches_litert(fn, dtypes, window, strides, dilations):
    rng = np.random.default_rng(fn)
    for dtype in dtypes:
        x = (rng.standard_normal((5, 6, 4)) * 3).astype(dtype)
        init = np.array(1 if fn == 2 else (True if fn == 5 else 0)).astype(dtype)
        args = [x, init, np.array(window, np.int64), np.array(strides, np.int64), np.array(dilations, np.int64)]
        both("REDUCE_WINDOW", args, constant_inputs=(2, 3, 4), options2={"reduce_function": fn}, **REDUCE_WINDOW_OPTS)


def test_fake_quant_by_hand():
    x = np.array([-1.0, 0.0, 0.3, 0.5, 1.0, 2.0], np.float32)
    (out,) = run_op("FAKE_QUANT", [x], {"min": 0.0, "max": 1.0, "num_bits": 2})
    np.testing.assert_allclose(out, [0, 0, 1 / 3, 2 / 3, 1, 1], rtol=1e-6)  # 0.5 rounds half up
    with pytest.raises(KernelError, match="narrow_range"):
        run_op("FAKE_QUANT", [x], {"min": 0.0, "max": 1.0, "num_bits": 8, "narrow_range": True})


@pytest.mark.parametrize("lo,hi,bits", [(0.0, 1.0, 8), (-1.0, 1.0, 8), (-0.3, 2.7, 4), (0.2, 3.3, 8),
                                        (-5.0, -1.0, 3), (-1.234, 0.567, 16), (-6.0, 6.0, 2)])
def test_fake_quant_matches_litert(lo, hi, bits):
    x = (np.random.default_rng(bits).standard_normal(200) * 3).astype(np.float32)
    both("FAKE_QUANT", [x], {"min": lo, "max": hi, "num_bits": bits})
