"""EMBEDDING_LOOKUP (plain and hybrid), EMBEDDING_LOOKUP_SPARSE, HASHTABLE_LOOKUP:
hand-checked values and LiteRT (bit-exact, LiteRT's quirks included)."""
from functools import partial

import numpy as np
import pytest
from kernel_cases import assert_matches_litert

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op

both = partial(assert_matches_litert, exact=True)  # edgelite and LiteRT, bit for bit


def test_embedding_lookup_by_hand():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    (out,) = run_op("EMBEDDING_LOOKUP", [np.array([3, 0, 3], np.int32), table], output_dtypes=[np.float32])
    np.testing.assert_array_equal(out, [[9, 10, 11], [0, 1, 2], [9, 10, 11]])


def test_embedding_lookup_hybrid_by_hand():
    table = np.array([[1, -2], [127, -128], [-56, 3]], np.int8)
    q = Quantization(scale=[0.5], zero_point=[0])
    (out,) = run_op("EMBEDDING_LOOKUP", [np.array([1, 0], np.int32), table], constant_inputs=(1,),
                    input_quant=[None, q], output_dtypes=[np.float32])
    np.testing.assert_array_equal(out, [[63.5, -64], [0.5, -1]])
    rows = Quantization(scale=[1.0, 2.0, 4.0], zero_point=[0, 0, 0])
    (out,) = run_op("EMBEDDING_LOOKUP", [np.array([2], np.int32), table], constant_inputs=(1,),
                    input_quant=[None, rows], output_dtypes=[np.float32])
    np.testing.assert_array_equal(out, [[-56 * 4, 12]])


def test_embedding_lookup_uint8_read_as_int8_like_litert():
    table = np.array([[255, 128, 127]], np.uint8)
    (out,) = run_op("EMBEDDING_LOOKUP", [np.array([0], np.int32), table], constant_inputs=(1,),
                    input_quant=[None, Quantization(scale=[1.0], zero_point=[0])], output_dtypes=[np.float32])
    np.testing.assert_array_equal(out, [[-1, -128, 127]])


def test_embedding_lookup_errors():
    table = np.zeros((3, 2), np.float32)
    with pytest.raises(KernelError, match="out of bounds"):
        run_op("EMBEDDING_LOOKUP", [np.array([3], np.int32), table], output_dtypes=[np.float32])
    with pytest.raises(KernelError, match="1-D int32"):
        run_op("EMBEDDING_LOOKUP", [np.array([1], np.int64), table], output_dtypes=[np.float32])
    with pytest.raises(KernelError, match="at least 2"):
        run_op("EMBEDDING_LOOKUP", [np.array([1], np.int32), np.zeros(3, np.float32)], output_dtypes=[np.float32])
    with pytest.raises(KernelError, match="symmetric"):
        run_op("EMBEDDING_LOOKUP", [np.array([1], np.int32), np.zeros((3, 2), np.int8)], constant_inputs=(1,),
               input_quant=[None, Quantization(scale=[1.0], zero_point=[3])], output_dtypes=[np.float32])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8, np.uint8, np.int64, np.float16, np.bool_])
@pytest.mark.parametrize("const", [(), (1,)])
def test_embedding_lookup_matches_litert(dtype, const):
    table = (np.random.default_rng(0).standard_normal((6, 2, 3)) * 50).astype(dtype)
    both("EMBEDDING_LOOKUP", [np.array([5, 0, 2, 2, 1], np.int32), table], constant_inputs=const,
         output_dtypes=[dtype])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("scales", [[0.25], "rows", []])
@pytest.mark.parametrize("out_dtype", [np.float32, np.float16])
def test_embedding_lookup_hybrid_matches_litert(dtype, scales, out_dtype):
    rng = np.random.default_rng(1)
    table = rng.integers(0 if dtype == np.uint8 else -128, 128 if dtype == np.int8 else 256, (5, 4)).astype(dtype)
    if scales == "rows":
        q = Quantization(scale=rng.random(5).astype(np.float32), zero_point=np.zeros(5, np.int64))
    elif scales:
        q = Quantization(scale=scales, zero_point=[0])
    else:
        q = None  # no scale: LiteRT multiplies by 0
    both("EMBEDDING_LOOKUP", [np.array([4, 1, 1, 0], np.int32), table], constant_inputs=(1,),
         input_quant=[None, q], output_dtypes=[out_dtype])


def test_embedding_lookup_sparse_by_hand():
    table = np.array([[1, 2], [10, 20], [100, 200], [1000, 2000]], np.float32)
    ids = np.array([1, 3, 0, 1], np.int32)
    idx = np.array([[0, 0], [0, 1], [1, 0], [2, 3]], np.int32)
    shape = np.array([3, 4], np.int32)
    w = np.array([2.0, 0.5, 1.0, 3.0], np.float32)
    expect_sum = [[2 * 10 + 0.5 * 1000, 2 * 20 + 0.5 * 2000], [1, 2], [30, 60]]
    for combiner, divisors in ((0, [1, 1, 1]), (1, [2.5, 1, 3]), (2, [np.sqrt(4.25), 1, 3])):
        (out,) = run_op("EMBEDDING_LOOKUP_SPARSE", [ids, idx, shape, w, table], {"combiner": combiner},
                        output_dtypes=[np.float32])
        want = np.array(expect_sum, np.float32) / np.array(divisors, np.float32)[:, None]
        np.testing.assert_allclose(out, want, rtol=1e-6)


def test_embedding_lookup_sparse_errors():
    table = np.ones((2, 2), np.float32)
    args = [np.array([2], np.int32), np.array([[0, 0]], np.int32), np.array([1, 1], np.int32),
            np.ones(1, np.float32), table]
    with pytest.raises(KernelError, match="out of bounds"):
        run_op("EMBEDDING_LOOKUP_SPARSE", args, output_dtypes=[np.float32])
    args[0] = np.array([0], np.int32)
    args[1] = np.array([[4, 0]], np.int32)
    with pytest.raises(KernelError, match="dimension 0"):
        run_op("EMBEDDING_LOOKUP_SPARSE", args, output_dtypes=[np.float32])


@pytest.mark.parametrize("combiner", [0, 1, 2])
@pytest.mark.parametrize("rank,unsorted", [(2, False), (3, False), (3, True)])
def test_embedding_lookup_sparse_matches_litert(combiner, rank, unsorted):
    rng = np.random.default_rng(combiner + rank)
    n = 12
    dense = np.array([3, 2, 4][:rank - 1] + [5], np.int32)
    idx = np.stack([rng.integers(0, d, n) for d in dense], 1).astype(np.int32)
    if not unsorted:
        idx = idx[np.lexsort(idx.T[::-1])]
    ids = rng.integers(0, 7, n).astype(np.int32)
    w = rng.random(n).astype(np.float32) + 0.1
    table = rng.standard_normal((7, 3, 2)).astype(np.float32)
    both("EMBEDDING_LOOKUP_SPARSE", [ids, idx, dense, w, table], {"combiner": combiner}, output_dtypes=[np.float32])


def test_hashtable_lookup_by_hand():
    out, hits = run_op("HASHTABLE_LOOKUP", [np.array([7, 2, 5], np.int32), np.array([2, 5, 9], np.int32),
                                            np.array([[1, 1], [2, 2], [3, 3]], np.float32)],
                       num_outputs=2, output_dtypes=[np.float32, np.uint8])
    np.testing.assert_array_equal(out, [[0, 0], [1, 1], [2, 2]])
    np.testing.assert_array_equal(hits, [0, 1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8])
def test_hashtable_lookup_matches_litert(dtype):
    rng = np.random.default_rng(4)
    keys = np.sort(rng.choice(100, 10, replace=False)).astype(np.int32)
    look = np.concatenate([keys[::3], [-1, 101, 50]]).astype(np.int32)
    values = (rng.random((10, 3)) * 100).astype(dtype)
    both("HASHTABLE_LOOKUP", [look, keys, values], num_outputs=2, output_dtypes=[dtype, np.uint8])


def test_farmhash_fingerprint64_known_values():
    from edgelite.kernels.farmhash import fingerprint64
    # farmhash's Fingerprint64 of "" is k2; lengths 1..3 mix the first, middle and last byte
    assert int(fingerprint64(np.zeros((1, 0), np.uint8))[0]) == 0x9AE16A3B2F90404F
    keys = np.frombuffer(b"abcdefgh" * 21, np.uint8)
    for n in (1, 3, 4, 8, 9, 16, 17, 32, 33, 64, 65, 127, 128, 160):
        rows = np.stack([keys[:n], keys[1:n + 1]])
        h = fingerprint64(rows)
        assert h.dtype == np.uint64 and h[0] != h[1]
        assert int(fingerprint64(rows[:1])[0]) == int(h[0])  # row-independent


def test_lsh_projection_sparse_packs_dense_bits():
    rng = np.random.default_rng(6)
    h = rng.standard_normal((3, 4)).astype(np.float32)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    (dense,) = run_op("LSH_PROJECTION", [h, x], {"type": 2}, constant_inputs=(0,), output_dtypes=[np.int32])
    (sparse,) = run_op("LSH_PROJECTION", [h, x], {"type": 1}, constant_inputs=(0,), output_dtypes=[np.int32])
    assert set(np.unique(dense)) <= {0, 1}
    packed = dense.reshape(3, 4) @ np.array([8, 4, 2, 1]) + np.arange(3) * 16
    np.testing.assert_array_equal(sparse, packed)
    with pytest.raises(KernelError, match="projection type"):
        run_op("LSH_PROJECTION", [h, x], {"type": 0}, output_dtypes=[np.int32])
    with pytest.raises(KernelError, match="32 bits"):
        run_op("LSH_PROJECTION", [np.zeros((1, 33), np.float32), x], {"type": 2}, output_dtypes=[np.int32])


@pytest.mark.parametrize("kind", [1, 2])
@pytest.mark.parametrize("cols,dtype", [(1, np.float32), (3, np.float32), (15, np.float32), (40, np.float32),
                                        (2, np.int32), (1, np.uint8), (3, np.int8), (0, np.float32)])
@pytest.mark.parametrize("weighted", [False, True])
def test_lsh_projection_matches_litert(kind, cols, dtype, weighted):
    rng = np.random.default_rng(cols + kind)
    x = (rng.standard_normal((4, cols) if cols else (4,)) * 10).astype(dtype)
    h = rng.standard_normal((3, 5)).astype(np.float32)
    args = [h, x] + ([rng.random(4).astype(np.float32)] if weighted else [])
    both("LSH_PROJECTION", args, {"type": kind}, constant_inputs=(0, 2) if weighted else (0,),
         output_dtypes=[np.int32])
