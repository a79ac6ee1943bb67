"""Reductions, ARG_MAX/ARG_MIN and CUMSUM: hand-checked semantics and comparison with LiteRT."""
import numpy as np
import pytest
from kernel_cases import assert_matches_litert

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op

RNG = np.random.default_rng(7)


def floats(*shape):
    return (RNG.standard_normal(shape) * 3).astype(np.float32)


def axes(values):
    return np.array(values, np.int32)


# --------------------------------------------------------------------------- hand-checked

def test_negative_and_duplicate_axes_keep_dims():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out, = run_op("SUM", [x, axes([-1, 2, 0])], {"keep_dims": True}, constant_inputs=(1,))
    np.testing.assert_array_equal(out, x.sum(axis=(0, 2), keepdims=True))
    out, = run_op("REDUCE_MAX", [x, axes([1, -2])], {"keep_dims": False}, constant_inputs=(1,))
    np.testing.assert_array_equal(out, x.max(axis=1))


def test_runtime_axis_tensor():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out, = run_op("MEAN", [x, axes([1])], {"keep_dims": False})
    np.testing.assert_allclose(out, [1.0, 4.0])


def test_empty_axis_list_is_identity():
    x = floats(2, 3)
    np.testing.assert_array_equal(run_op("REDUCE_PROD", [x, axes([])], constant_inputs=(1,))[0], x)


def test_empty_input_gives_identities():
    x = np.zeros((2, 0), np.float32)
    ax = axes([1])
    assert run_op("SUM", [x, ax])[0].tolist() == [0.0, 0.0]
    assert run_op("REDUCE_PROD", [x, ax])[0].tolist() == [1.0, 1.0]
    assert run_op("REDUCE_MAX", [x, ax])[0].tolist() == [np.finfo(np.float32).min] * 2
    assert run_op("REDUCE_ALL", [x.astype(bool), ax])[0].tolist() == [True, True]
    assert run_op("REDUCE_ANY", [x.astype(bool), ax])[0].tolist() == [False, False]


def test_int_mean_truncates_toward_zero():
    x = np.array([[-7, -8, 1], [5, 6, -1]], np.int32)
    np.testing.assert_array_equal(run_op("MEAN", [x, axes([1])])[0], [-4, 3])


def test_int_sum_wraps_like_int32():
    x = np.array([2**31 - 1, 1], np.int32)
    assert run_op("SUM", [x, axes([0])])[0].tolist() == -(2**31)


def test_axis_out_of_range():
    with pytest.raises(KernelError, match="axis 3 out of range"):
        run_op("SUM", [floats(2, 3), axes([3])], constant_inputs=(1,))


def test_arg_max_first_occurrence_and_output_type():
    x = np.array([[1, 3, 3], [2, 2, 1]], np.int32)
    out, = run_op("ARG_MAX", [x, np.array(1, np.int32)], {"output_type": 4}, output_dtypes=[np.int64])
    assert out.dtype == np.int64 and out.tolist() == [1, 0]
    out, = run_op("ARG_MIN", [x, np.array([0], np.int32)], {"output_type": 2}, output_dtypes=[np.int32])
    assert out.dtype == np.int32 and out.tolist() == [0, 1, 1]


def test_cumsum_exclusive_reverse():
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    ax = np.array(0, np.int32)
    assert run_op("CUMSUM", [x, ax], {"exclusive": True})[0].tolist() == [0, 1, 3, 6]
    assert run_op("CUMSUM", [x, ax], {"reverse": True})[0].tolist() == [10, 9, 7, 4]
    assert run_op("CUMSUM", [x, ax], {"exclusive": True, "reverse": True})[0].tolist() == [9, 7, 4, 0]


# --------------------------------------------------------------------------- against LiteRT

REDUCERS = ["MEAN", "SUM", "REDUCE_PROD", "REDUCE_MAX", "REDUCE_MIN"]
AXES_CASES = [([1, -1], False), ([2, 2, -2], True), ([0], False), ([0, 1, 2, 3], True), ([], False)]


@pytest.mark.parametrize("op", REDUCERS)
@pytest.mark.parametrize("axis,keep", AXES_CASES)
@pytest.mark.parametrize("const_axis", [True, False])
def test_reduce_float_vs_litert(op, axis, keep, const_axis):
    x = floats(2, 3, 4, 5)
    if op == "REDUCE_PROD":
        x = np.clip(np.abs(x), 0.5, 1.5) * np.sign(x)
    assert_matches_litert(op, [x, axes(axis)], {"keep_dims": keep},
                          constant_inputs=(1,) if const_axis else ())


@pytest.mark.parametrize("op", REDUCERS)
def test_reduce_int32_vs_litert(op):
    x = RNG.integers(-9, 10, (3, 4, 5)).astype(np.int32)
    assert_matches_litert(op, [x, axes([0, 2])], {"keep_dims": False}, constant_inputs=(1,))


@pytest.mark.parametrize("op", REDUCERS)
def test_reduce_scalar_axis_and_empty_input_vs_litert(op):
    assert_matches_litert(op, [floats(3, 4), np.array(-1, np.int32)], {"keep_dims": False})
    assert_matches_litert(op, [np.zeros((2, 0, 3), np.float32), axes([1])], {"keep_dims": False},
                          constant_inputs=(1,))


@pytest.mark.parametrize("op", ["REDUCE_ANY", "REDUCE_ALL"])
@pytest.mark.parametrize("axis,keep", AXES_CASES)
def test_reduce_bool_vs_litert(op, axis, keep):
    x = floats(2, 3, 4, 5) > 1.0
    assert_matches_litert(op, [x, axes(axis)], {"keep_dims": keep}, constant_inputs=(1,))


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_reduce_max_min_quantized_vs_litert(op):
    q = Quantization([0.05], [3])
    x = RNG.integers(-128, 128, (3, 5, 2)).astype(np.int8)
    assert_matches_litert(op, [x, axes([1])], {"keep_dims": True}, input_quant=[q, None],
                          output_quant=[q], constant_inputs=(1,))


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("axis", [0, 2, -1])
@pytest.mark.parametrize("out_dtype,code", [(np.int32, 2), (np.int64, 4)])
def test_arg_vs_litert(op, axis, out_dtype, code):
    x = RNG.integers(-4, 4, (3, 4, 5)).astype(np.float32)  # many ties
    assert_matches_litert(op, [x, np.array([axis], np.int32)], {"output_type": code},
                          output_dtypes=[out_dtype], constant_inputs=(1,))
    assert_matches_litert(op, [x.astype(np.int32), np.array(axis, np.int32)], {"output_type": code},
                          output_dtypes=[out_dtype])


def test_arg_max_quantized_vs_litert():
    x = RNG.integers(-128, 128, (4, 6)).astype(np.int8)
    assert_matches_litert("ARG_MAX", [x, np.array([1], np.int32)], {"output_type": 2},
                          output_dtypes=[np.int32], input_quant=[Quantization([0.1], [-3]), None],
                          constant_inputs=(1,))


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_cumsum_vs_litert(exclusive, reverse, dtype):
    x = (floats(2, 3, 4) * 5).astype(dtype)
    opts = {"exclusive": exclusive, "reverse": reverse}
    assert_matches_litert("CUMSUM", [x, np.array(1, np.int32)], opts, constant_inputs=(1,))
    assert_matches_litert("CUMSUM", [x, np.array(-1, np.int32)], opts)


def test_reduce_max_min_of_infinite_rows_match_litert():
    """A row of -inf reduces to -inf (LiteRT starts from the first element, not the type's limit)."""
    from edgelite.kernels.testing import run_op
    x = np.array([[-np.inf, -np.inf], [1, 2]], np.float32)
    axis = np.array([1], np.int32)
    (mx,) = run_op("REDUCE_MAX", [x, axis], {"keep_dims": False}, constant_inputs=(1,))
    (mn,) = run_op("REDUCE_MIN", [-x, axis], {"keep_dims": False}, constant_inputs=(1,))
    assert mx.tolist() == [-np.inf, 2.0] and mn.tolist() == [np.inf, -2.0]
