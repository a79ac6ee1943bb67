"""PAD family, space/depth/batch rearrangements and TOPK_V2."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op
from test_shape_ops import assert_same_as_litert

I32 = np.int32
Q = Quantization(scale=[0.1], zero_point=[5])


def i32(*v):
    return np.array(v, I32)




# -- hand-checked ---------------------------------------------------------------------
def test_pad_uses_zero_point_for_quantized_and_constant_for_padv2():
    x = np.array([[1, 2]], np.int8)
    pads = np.array([[1, 0], [0, 2]], I32)
    (out,) = run_op("PAD", [x, pads], constant_inputs=(1,), input_quant=[Q, None], output_quant=[Q])
    assert out.tolist() == [[5, 5, 5, 5], [1, 2, 5, 5]]
    (out,) = run_op("PADV2", [x.astype(np.float32), pads, np.float32(-7)])
    assert out.tolist() == [[-7, -7, -7, -7], [1, 2, -7, -7]]
    with pytest.raises(KernelError, match="non-negative"):
        run_op("PAD", [x, np.array([[0, 0], [-1, 0]], I32)], constant_inputs=(1,))


def test_mirror_pad_modes_by_hand():
    x = np.array([1, 2, 3], np.float32)
    (refl,) = run_op("MIRROR_PAD", [x, np.array([[2, 2]], I32)], {"mode": 0}, constant_inputs=(1,))
    assert refl.tolist() == [3, 2, 1, 2, 3, 2, 1]
    (sym,) = run_op("MIRROR_PAD", [x, np.array([[3, 1]], I32)], {"mode": 1}, constant_inputs=(1,))
    assert sym.tolist() == [3, 2, 1, 1, 2, 3, 3]
    with pytest.raises(KernelError, match="too large"):
        run_op("MIRROR_PAD", [x, np.array([[3, 0]], I32)], {"mode": 0}, constant_inputs=(1,))


def test_depth_space_round_trip_and_layout():
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 1, 16)
    (d2s,) = run_op("DEPTH_TO_SPACE", [x], {"block_size": 2})
    assert d2s.shape == (1, 2, 2, 4)
    assert d2s[0, 0, 1].tolist() == [4, 5, 6, 7] and d2s[0, 1, 0].tolist() == [8, 9, 10, 11]
    (back,) = run_op("SPACE_TO_DEPTH", [d2s], {"block_size": 2})
    np.testing.assert_array_equal(back, x)


def test_space_batch_round_trip():
    x = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)
    block, pads = i32(2, 3), np.array([[1, 1], [0, 3]], I32)
    (s2b,) = run_op("SPACE_TO_BATCH_ND", [x, block, pads], constant_inputs=(1, 2))
    assert s2b.shape == (12, 3, 3, 3)
    (b2s,) = run_op("BATCH_TO_SPACE_ND", [s2b, block, pads], constant_inputs=(1, 2))
    np.testing.assert_array_equal(b2s, x)


def test_topk_ties_prefer_lower_index():
    x = np.array([[1, 3, 3, 2, 3]], np.float32)
    values, indices = run_op("TOPK_V2", [x, np.int32(4)], constant_inputs=(1,), num_outputs=2,
                             output_dtypes=[np.float32, I32])
    assert values.tolist() == [[3, 3, 3, 2]] and indices.tolist() == [[1, 2, 4, 3]]


# -- against LiteRT -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int8])
def test_pads_match_litert(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((2, 3, 4, 5)) * 50).astype(dtype)
    qk = dict(input_quant=[Q, None], output_quant=[Q]) if dtype == np.int8 else {}
    for _ in range(4):
        pads = np.minimum(rng.integers(0, 3, (4, 2)), np.array(x.shape)[:, None] - 1).astype(I32)
        assert_same_as_litert("PAD", [x, pads], constant_inputs=(1,), **qk)
        assert_same_as_litert("PAD", [x, pads], **qk)
        fill = np.asarray(7, dtype)
        assert_same_as_litert("PADV2", [x, pads, fill], constant_inputs=(1, 2),
                              **(dict(input_quant=[Q, None, Q], output_quant=[Q]) if qk else {}))
        for mode in (0, 1):
            assert_same_as_litert("MIRROR_PAD", [x, pads], {"mode": mode}, constant_inputs=(1,), **qk)


def test_rearrangements_match_litert():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 6, 8)).astype(np.float32)
    assert_same_as_litert("DEPTH_TO_SPACE", [x], {"block_size": 2})
    assert_same_as_litert("SPACE_TO_DEPTH", [x], {"block_size": 2})
    assert_same_as_litert("SPACE_TO_BATCH_ND", [x, i32(2, 3), np.array([[1, 1], [0, 3]], I32)], constant_inputs=(1, 2))
    assert_same_as_litert("BATCH_TO_SPACE_ND", [x, i32(2, 1), np.array([[1, 2], [0, 3]], I32)], constant_inputs=(1, 2))
    x3 = rng.standard_normal((4, 6, 5)).astype(np.float32)
    assert_same_as_litert("SPACE_TO_BATCH_ND", [x3, i32(2), np.array([[1, 1]], I32)], constant_inputs=(1, 2))
    assert_same_as_litert("BATCH_TO_SPACE_ND", [x3, i32(2), np.array([[1, 0]], I32)], constant_inputs=(1, 2))
    xi = rng.integers(-128, 128, (2, 3, 4, 5)).astype(np.int8)
    assert_same_as_litert("SPACE_TO_BATCH_ND", [xi, i32(3, 2), np.array([[2, 1], [0, 0]], I32)], constant_inputs=(1, 2),
                          input_quant=[Q, None, None], output_quant=[Q])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int8])
def test_topk_matches_litert(dtype):
    rng = np.random.default_rng(2)
    x = rng.integers(-4, 4, (3, 5, 17)).astype(dtype)  # many ties
    kw = dict(input_quant=[Q, None], output_quant=[Q, None]) if dtype == np.int8 else {}
    for k in (1, 6, 17):
        assert_same_as_litert("TOPK_V2", [x, np.int32(k)], constant_inputs=(1,), num_outputs=2,
                              output_dtypes=[dtype, I32], **kw)


# -- REVERSE_SEQUENCE ------------------------------------------------------------------------
def reverse_sequence_by_hand(x, lengths, seq_dim, batch_dim):
    out = x.copy()
    for b, n in enumerate(lengths):
        src = np.take(x, b, axis=batch_dim)
        dst_axis = seq_dim - (seq_dim > batch_dim)
        flipped = np.concatenate([np.flip(np.take(src, range(n), axis=dst_axis), dst_axis),
                                  np.take(src, range(n, x.shape[seq_dim]), axis=dst_axis)], axis=dst_axis)
        index = [slice(None)] * x.ndim
        index[batch_dim] = b
        out[tuple(index)] = flipped
    return out


@pytest.mark.parametrize("shape,seq_dim,batch_dim", [((4, 3), 0, 1), ((3, 4), 1, 0), ((2, 5, 3), 1, 2),
                                                    ((3, 2, 4, 2), 2, 0)])
def test_reverse_sequence_by_hand(shape, seq_dim, batch_dim):
    rng = np.random.default_rng(len(shape) + seq_dim)
    x = rng.standard_normal(shape).astype(np.float32)
    lengths = rng.integers(0, shape[seq_dim] + 1, size=shape[batch_dim])
    want = reverse_sequence_by_hand(x, lengths, seq_dim, batch_dim)
    for const in [(1,), ()]:
        (out,) = run_op("REVERSE_SEQUENCE", [x, lengths.astype(I32)], dict(seq_dim=seq_dim, batch_dim=batch_dim),
                        constant_inputs=const)
        np.testing.assert_array_equal(out, want)


def test_reverse_sequence_example():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)  # batch along dim 0, time along dim 1
    (out,) = run_op("REVERSE_SEQUENCE", [x, np.array([1, 2, 4], np.int64)], dict(seq_dim=1, batch_dim=0))
    np.testing.assert_array_equal(out, [[0, 1, 2, 3], [5, 4, 6, 7], [11, 10, 9, 8]])


def test_reverse_sequence_rejects_bad_options_and_lengths():
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(KernelError, match="distinct"):
        run_op("REVERSE_SEQUENCE", [x, i32(1, 1, 1)], dict(seq_dim=0, batch_dim=0))
    with pytest.raises(KernelError, match="seq_lengths has 3 entries"):
        run_op("REVERSE_SEQUENCE", [x, i32(1, 1, 1)], dict(seq_dim=0, batch_dim=1))
    with pytest.raises(KernelError, match="exceed"):
        run_op("REVERSE_SEQUENCE", [x, i32(1, 5, 1)], dict(seq_dim=1, batch_dim=0), constant_inputs=(1,))
    with pytest.raises(KernelError, match="unsupported input type"):
        run_op("REVERSE_SEQUENCE", [x.astype(np.int8), i32(1, 1, 1)], dict(seq_dim=1, batch_dim=0))


@pytest.mark.parametrize("dtype,len_dtype,shape,seq_dim,batch_dim,const", [
    (np.float32, np.int32, (4, 3), 0, 1, (1,)), (np.int64, np.int64, (3, 4), 1, 0, ()),
    (np.int16, np.int32, (2, 5, 3, 2), 1, 2, (1,)), (np.uint8, np.int64, (2, 5, 3, 2), 3, 0, ()),
    (np.int32, np.int32, (3, 2, 5), 2, 0, (1,)),
])
def test_reverse_sequence_matches_litert(dtype, len_dtype, shape, seq_dim, batch_dim, const):
    rng = np.random.default_rng(shape[seq_dim] * 7 + batch_dim)
    x = (rng.standard_normal(shape) * 50).astype(dtype)
    lengths = rng.integers(0, shape[seq_dim] + 1, size=shape[batch_dim]).astype(len_dtype)
    assert_same_as_litert("REVERSE_SEQUENCE", [x, lengths], dict(seq_dim=seq_dim, batch_dim=batch_dim),
                          constant_inputs=const)
