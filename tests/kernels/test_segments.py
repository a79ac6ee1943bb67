"""SEGMENT_SUM, UNSORTED_SEGMENT_*, UNIQUE, BUCKETIZE: hand-checked values and LiteRT (bit-exact)."""
import numpy as np
import pytest

from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op, run_op_litert

UNSORTED = ["UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN"]


def assert_same(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_segment_sum_by_hand():
    data = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.int32)
    (out,) = run_op("SEGMENT_SUM", [data, np.array([0, 0, 1, 2], np.int32)])
    np.testing.assert_array_equal(out, [[4, 6], [5, 6], [7, 8]])
    (c,) = run_op("SEGMENT_SUM", [data, np.array([0, 1, 1, 1], np.int32)], constant_inputs=(0, 1))
    np.testing.assert_array_equal(c, [[1, 2], [15, 18]])


@pytest.mark.parametrize("ids,match", [([1, 1, 2, 2], "start at 0"), ([0, 2, 2, 3], "grow by at most 1"),
                                       ([0, 1, 0, 1], "grow by at most 1"), ([0, 1, 2], "one id per row")])
def test_segment_sum_rejects_bad_ids(ids, match):
    with pytest.raises(KernelError, match=match):
        run_op("SEGMENT_SUM", [np.ones((4, 2), np.float32), np.array(ids, np.int32)])


def test_unsorted_segments_by_hand():
    data = np.array([5, 1, -3, 2, 8], np.float32)
    ids = np.array([2, 0, 2, -1, 0], np.int32)  # -1 is dropped
    n = np.array(4, np.int32)
    expected = {"UNSORTED_SEGMENT_SUM": [9, 0, 2, 0], "UNSORTED_SEGMENT_PROD": [8, 1, -15, 1],
                "UNSORTED_SEGMENT_MAX": [8, np.finfo(np.float32).min, 5, np.finfo(np.float32).min],
                "UNSORTED_SEGMENT_MIN": [1, np.finfo(np.float32).max, -3, np.finfo(np.float32).max]}
    for op, want in expected.items():
        (out,) = run_op(op, [data, ids, n])
        np.testing.assert_array_equal(out, np.array(want, np.float32))


def test_unsorted_segment_multi_dim_ids_and_int_identity():
    data = np.arange(12, dtype=np.int32).reshape(2, 3, 2)
    ids = np.array([[0, 1, 0], [1, 1, 2]], np.int32)
    (out,) = run_op("UNSORTED_SEGMENT_MAX", [data, ids, np.array([4], np.int32)], constant_inputs=(1, 2))
    lo = np.iinfo(np.int32).min
    np.testing.assert_array_equal(out, [[4, 5], [8, 9], [10, 11], [lo, lo]])


def test_unsorted_segment_rejects_id_beyond_num_segments():
    with pytest.raises(KernelError, match="out of range"):
        run_op("UNSORTED_SEGMENT_SUM", [np.ones(3, np.float32), np.array([0, 3, 1], np.int32), np.array(3, np.int32)])
    with pytest.raises(KernelError, match="prefix"):
        run_op("UNSORTED_SEGMENT_SUM", [np.ones((3, 2), np.float32), np.zeros(2, np.int32), np.array(3, np.int32)])
    with pytest.raises(KernelError, match="float32 or int32"):
        run_op("UNSORTED_SEGMENT_SUM", [np.ones(3, np.int64), np.zeros(3, np.int32), np.array(3, np.int32)])


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("const", [(), (1,)])
def test_segment_sum_matches_litert(dtype, const):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(3)
    data = (rng.standard_normal((9, 3, 2)) * 100).astype(dtype)
    ids = np.array([0, 0, 0, 1, 2, 2, 3, 3, 3], np.int32)
    assert_same(run_op("SEGMENT_SUM", [data, ids], constant_inputs=const),
                run_op_litert("SEGMENT_SUM", [data, ids], constant_inputs=const))


@pytest.mark.parametrize("op", UNSORTED)
@pytest.mark.parametrize("dtype", [np.float32, np.int32])
@pytest.mark.parametrize("ids_shape,const", [((7,), ()), ((7,), (1, 2)), ((7, 2), ())])
def test_unsorted_segment_matches_litert(op, dtype, ids_shape, const):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(len(op) + len(ids_shape))
    data = (rng.standard_normal((7, 2, 3)) * 5).astype(dtype)
    ids = rng.integers(-1, 5, ids_shape).astype(np.int32)
    args = [data, ids, np.array(6, np.int32)]
    assert_same(run_op(op, args, constant_inputs=const), run_op_litert(op, args, constant_inputs=const))


def test_unique_by_hand():
    x = np.array([4, 1, 4, 7, 1, 1, 9], np.int32)
    vals, idx = run_op("UNIQUE", [x], num_outputs=2, output_dtypes=[np.int32, np.int32])
    np.testing.assert_array_equal(vals, [4, 1, 7, 9])
    np.testing.assert_array_equal(idx, [0, 1, 0, 2, 1, 1, 3])
    vals, idx = run_op("UNIQUE", [np.zeros(0, np.float32)], {"idx_out_type": 4}, num_outputs=2,
                       output_dtypes=[np.float32, np.int64])
    assert vals.shape == (0,) and idx.shape == (0,) and idx.dtype == np.int64


def test_unique_rejects():
    with pytest.raises(KernelError, match="1-D"):
        run_op("UNIQUE", [np.ones((2, 2), np.int32)], num_outputs=2, output_dtypes=[np.int32, np.int32])
    with pytest.raises(KernelError, match="idx_out_type"):
        run_op("UNIQUE", [np.ones(2, np.int32)], {"idx_out_type": 4}, num_outputs=2,
               output_dtypes=[np.int32, np.int32])
    with pytest.raises(KernelError, match="not supported"):
        run_op("UNIQUE", [np.ones(2, np.float64)], num_outputs=2, output_dtypes=[np.float64, np.int32])
    with pytest.raises(KernelError, match="not supported"):  # LiteRT 2.3.0 refuses uint16 too
        run_op("UNIQUE", [np.ones(2, np.uint16)], num_outputs=2, output_dtypes=[np.uint16, np.int32])


@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int16, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize("idx_type,idx_code", [(np.int32, 2), (np.int64, 4)])
def test_unique_matches_litert(dtype, idx_type, idx_code):
    pytest.importorskip("ai_edge_litert")
    x = np.random.default_rng(1).integers(0, 9, 40).astype(dtype)
    args = {"num_outputs": 2, "output_dtypes": [dtype, idx_type]}
    assert_same(run_op("UNIQUE", [x], {"idx_out_type": idx_code}, **args),
                run_op_litert("UNIQUE", [x], {"idx_out_type": idx_code}, **args))


def test_bucketize_by_hand():
    x = np.array([[-5, 0], [3, 10], [100, 4]], np.int32)
    (out,) = run_op("BUCKETIZE", [x], {"boundaries": [0.0, 3.0, 8.0, 11.0]}, output_dtypes=[np.int32])
    np.testing.assert_array_equal(out, [[0, 1], [2, 3], [4, 2]])  # a value on a boundary goes right
    with pytest.raises(KernelError, match="sorted"):
        run_op("BUCKETIZE", [x], {"boundaries": [1.0, 0.0]}, output_dtypes=[np.int32])
    with pytest.raises(KernelError, match="not supported"):
        run_op("BUCKETIZE", [x.astype(np.int16)], {"boundaries": [1.0]}, output_dtypes=[np.int32])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_bucketize_matches_litert(dtype):
    pytest.importorskip("ai_edge_litert")
    x = (np.random.default_rng(2).standard_normal((4, 9)) * 6).astype(dtype)
    opts = {"boundaries": [-4.0, -1.5, 0.0, 0.1, 2.0, 2.0, 5.0]}
    assert_same(run_op("BUCKETIZE", [x], opts, output_dtypes=[np.int32]),
                run_op_litert("BUCKETIZE", [x], opts, output_dtypes=[np.int32]))
