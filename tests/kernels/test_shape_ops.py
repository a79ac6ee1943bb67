"""Data-movement kernels: hand-checked cases and comparisons with LiteRT."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op, run_op_litert

I32 = np.int32
Q = Quantization(scale=[0.05], zero_point=[-3])


def i32(*v):
    return np.array(v, I32)


def assert_same_as_litert(op, inputs, options=None, quant=None, **kw):
    """Run ``op`` in edgelite and LiteRT; ``quant`` quantizes input 0 and every output alike."""
    pytest.importorskip("ai_edge_litert")
    if quant is not None:
        kw.update(input_quant=[quant] + [None] * (len(inputs) - 1), output_quant=[quant] * kw.get("num_outputs", 1))
    ours = run_op(op, inputs, options, **kw)
    ref = run_op_litert(op, inputs, options, **kw)
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    return ours


X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)


# -- hand-checked ---------------------------------------------------------------------
def test_reshape_infers_minus_one_from_constant_and_dynamic_shape():
    for const in [(1,), ()]:
        (out,) = run_op("RESHAPE", [X, i32(-1, 6)], constant_inputs=const)
        assert out.shape == (4, 6)
        np.testing.assert_array_equal(out.ravel(), X.ravel())


def test_reshape_from_options_and_legacy_scalar():
    (out,) = run_op("RESHAPE", [X], {"new_shape": [6, -1]})
    assert out.shape == (6, 4)
    (scalar,) = run_op("RESHAPE", [np.array([7.0], np.float32)], {"new_shape": [0]})
    assert scalar.shape == () and scalar == 7.0


def test_reshape_rejects_bad_shapes():
    with pytest.raises(KernelError, match="cannot reshape"):
        run_op("RESHAPE", [X, i32(5, -1)], constant_inputs=(1,))
    with pytest.raises(KernelError, match="more than one -1"):
        run_op("RESHAPE", [X, i32(-1, -1)], constant_inputs=(1,))


def test_reshape_empty_shape_tensor_is_a_scalar_even_without_data():
    one = np.array([[7.0]], np.float32)
    for const in [(1,), ()]:
        (out,) = run_op("RESHAPE", [one, np.zeros(0, I32)], constant_inputs=const)
        assert out.shape == () and out == 7.0
    with pytest.raises(KernelError, match="cannot reshape"):
        run_op("RESHAPE", [X, np.zeros(0, I32)], constant_inputs=(1,))


def test_reshape_takes_only_int32_vectors_else_the_options():
    """LiteRT reads the shape input only when it is a 1-D int32 tensor; otherwise new_shape."""
    for shape_in in (np.array([4, 6], np.int64), np.array([[4, 6]], I32), np.array([4, 6], np.int16)):
        (out,) = run_op("RESHAPE", [X, shape_in], {"new_shape": [24]}, constant_inputs=(1,))
        assert out.shape == (24,)
    (out,) = run_op("RESHAPE", [X, None], {"new_shape": [3, 8]})
    assert out.shape == (3, 8)
    with pytest.raises(KernelError, match="into \\[\\]"):  # no usable shape: a scalar, as in LiteRT
        run_op("RESHAPE", [X, np.array([4, 6], np.int64)], constant_inputs=(1,))


def test_reshape_minus_one_with_zero_sized_dimensions():
    empty = np.zeros((0, 3), np.float32)
    assert run_op("RESHAPE", [empty, i32(0, -1)], constant_inputs=(1,))[0].shape == (0, 3)
    assert run_op("RESHAPE", [empty, i32(-1, 3)], constant_inputs=(1,))[0].shape == (0, 3)
    assert run_op("RESHAPE", [empty, i32(-1, 0)], constant_inputs=(1,))[0].shape == (3, 0)
    with pytest.raises(KernelError, match="cannot reshape"):
        run_op("RESHAPE", [np.zeros(2, np.float32)], {"new_shape": [0]})  # legacy [0] means a scalar


@pytest.mark.parametrize("x,shape_in,options,const", [
    (np.array([5.0], np.float32), np.zeros(0, I32), None, (1,)),
    (np.array([5.0], np.float32), np.zeros(0, I32), None, ()),
    (np.ones((1, 1), np.float32), None, {"new_shape": [0]}, ()),
    (X, np.array([4, 6], np.int64), {"new_shape": [2, 12]}, (1,)),
    (X, np.array([[4, 6]], I32), {"new_shape": [12, 2]}, (1,)),
    (np.zeros((0, 3), np.float32), i32(0, -1), None, (1,)),
    (np.zeros((0, 3), np.float32), i32(-1, 0), None, ()),
])
def test_reshape_shape_input_forms_match_litert(x, shape_in, options, const):
    inputs = [x] if shape_in is None else [x, shape_in]
    assert_same_as_litert("RESHAPE", inputs, options, constant_inputs=const)


def test_shape_rank_expand_squeeze():
    (s,) = run_op("SHAPE", [X], {"out_type": 4}, output_dtypes=[np.int64])
    assert s.dtype == np.int64 and s.tolist() == [2, 3, 4]
    (r,) = run_op("RANK", [X], output_dtypes=[I32])
    assert r.shape == () and r == 3
    (e,) = run_op("EXPAND_DIMS", [X, i32(-1)], constant_inputs=(1,))
    assert e.shape == (2, 3, 4, 1)
    (q,) = run_op("SQUEEZE", [X.reshape(1, 2, 1, 12)], {"squeeze_dims": [-2]})
    assert q.shape == (1, 2, 12)
    (q,) = run_op("SQUEEZE", [X.reshape(1, 2, 1, 12)])
    assert q.shape == (2, 12)
    with pytest.raises(KernelError, match="cannot squeeze"):
        run_op("SQUEEZE", [X], {"squeeze_dims": [0]})


def test_strided_slice_masks_by_hand():
    x = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    cases = [
        (dict(), (0, 1, 4), (3, 3, 0), (1, 1, -2), x[0:3, 1:3, 4:0:-2]),
        (dict(begin_mask=2, end_mask=4), (1, 3, 1), (2, 3, 0), (1, 1, 1), x[1:2, :3, 1:]),
        (dict(begin_mask=2), (1, 3, 1), (2, 0, 5), (1, 1, 1), x[1:2, 0:0, 1:]),
        (dict(shrink_axis_mask=1), (-1, 0, 0), (0, 4, 5), (1, 1, 1), x[-1, 0:4, 0:5]),
        (dict(ellipsis_mask=1), (0, 2), (0, 4), (1, 1), x[..., 2:4]),
        (dict(new_axis_mask=2), (1, 0, 0), (3, 1, 1), (1, 1, 1), x[1:3, None, 0:1]),
        (dict(end_mask=1), (-1,), (0,), (-1,), x[::-1]),
        (dict(offset=True), (1, 1, 0), (1, 2, 3), (1, 1, 1), x[1:2, 1:3, 0:3]),
    ]
    for opts, b, e, s, want in cases:
        (out,) = run_op("STRIDED_SLICE", [x, i32(*b), i32(*e), i32(*s)], opts, constant_inputs=(1, 2, 3))
        np.testing.assert_array_equal(out, want, err_msg=str(opts))


def test_slice_minus_one_and_empty():
    (out,) = run_op("SLICE", [X, i32(1, 1, 0), i32(-1, 2, 0)], constant_inputs=(1, 2))
    assert out.shape == (1, 2, 0)
    (out,) = run_op("SLICE", [X, i32(0, 1, 2), i32(-1, -1, -1)], constant_inputs=(1, 2))
    np.testing.assert_array_equal(out, X[:, 1:, 2:])
    with pytest.raises(KernelError, match="out of bounds"):
        run_op("SLICE", [X, i32(0, 0, 3), i32(1, 1, 2)], constant_inputs=(1, 2))


def test_gather_negative_axis_batch_dims_and_bounds():
    idx = np.array([[2, 0], [1, 1]], I32)
    (out,) = run_op("GATHER", [X, idx], {"axis": -1, "batch_dims": 1})
    want = np.stack([X[b][:, idx[b]] for b in range(2)])
    np.testing.assert_array_equal(out, want)
    with pytest.raises(KernelError, match="out of range"):
        run_op("GATHER", [X, i32(0, 3)], {"axis": 1})


def test_split_v_and_unpack_and_pack():
    outs = run_op("SPLIT_V", [X, i32(3, -1), i32(-1)], constant_inputs=(1, 2), num_outputs=2)
    assert [o.shape for o in outs] == [(2, 3, 3), (2, 3, 1)]
    parts = run_op("UNPACK", [X], {"num": 3, "axis": -2}, num_outputs=3)
    np.testing.assert_array_equal(parts[1], X[:, 1])
    (packed,) = run_op("PACK", parts, {"values_count": 3, "axis": 1})
    np.testing.assert_array_equal(packed, X)


def test_scatter_nd_adds_duplicates_and_where_is_dynamic():
    (out,) = run_op("SCATTER_ND", [np.array([[1], [1], [0]], I32), np.array([1, 2, 5], np.float32), i32(3)],
                    constant_inputs=(2,), output_dtypes=[np.float32])
    assert out.tolist() == [5, 3, 0]
    (coords,) = run_op("WHERE", [np.array([[0, 3], [1, 0]], np.float32)], output_dtypes=[np.int64])
    assert coords.tolist() == [[0, 1], [1, 0]]
    (none,) = run_op("WHERE", [np.zeros((2, 2), bool)], output_dtypes=[np.int64])
    assert none.shape == (0, 2)


def test_concat_fused_relu_and_requantize_mismatch():
    (out,) = run_op("CONCATENATION", [X - 10, X], {"axis": 0, "fused_activation_function": 1})
    assert out.min() == 0 and out.shape == (4, 3, 4)
    a = np.zeros((1, 2), np.int8)
    with pytest.raises(KernelError, match="share the output's quantization"):
        run_op("CONCATENATION", [a, a], {"axis": 1}, input_quant=[Q, Quantization(scale=[1.0], zero_point=[0])],
               output_quant=[Q])


def test_range_one_hot_by_hand():
    (r,) = run_op("RANGE", [np.int32(10), np.int32(1), np.int32(-4)])
    assert r.tolist() == [10, 6, 2]
    (h,) = run_op("ONE_HOT", [i32(1, -1, 2), np.int32(3), np.float32(1), np.float32(0)], {"axis": -1},
                  constant_inputs=(1,), output_dtypes=[np.float32])
    assert h.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]


# -- against LiteRT -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int32, np.bool_])
def test_movement_ops_all_dtypes_match_litert(dtype):
    rng = np.random.default_rng(0)
    x = (rng.integers(-100, 100, (2, 3, 4)) > 0) if dtype == np.bool_ else rng.integers(-100, 100, (2, 3, 4))
    x = x.astype(dtype)
    qk = dict(quant=Q) if dtype == np.int8 else {}
    assert_same_as_litert("TRANSPOSE", [x, i32(2, 0, 1)], constant_inputs=(1,), **qk)
    assert_same_as_litert("RESHAPE", [x, i32(4, -1)], **qk)
    assert_same_as_litert("EXPAND_DIMS", [x, i32(1)], constant_inputs=(1,), **qk)
    assert_same_as_litert("SLICE", [x, i32(1, 0, 1), i32(-1, 2, 2)], constant_inputs=(1, 2), **qk)
    if dtype != np.bool_:
        assert_same_as_litert("TILE", [x, i32(1, 2, 3)], constant_inputs=(1,), **qk)
        assert_same_as_litert("REVERSE_V2", [x, i32(-1)], constant_inputs=(1,), **qk)
        assert_same_as_litert("GATHER", [x, i32(2, 0, 2, 1)], {"axis": 2}, **qk)


def test_concat_pack_unpack_split_match_litert():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((2, 1, 4)).astype(np.float32)
    assert_same_as_litert("CONCATENATION", [a, b], {"axis": -2})
    assert_same_as_litert("PACK", [a, a * 2], {"values_count": 2, "axis": -1})
    assert_same_as_litert("UNPACK", [a], {"num": 4, "axis": 2}, num_outputs=4)
    assert_same_as_litert("SPLIT", [i32(-1), a], {"num_splits": 2}, num_outputs=2, constant_inputs=(0,),
                          output_dtypes=[np.float32] * 2)
    assert_same_as_litert("SPLIT_V", [a, i32(1, -1), i32(1)], {"num_splits": 2}, num_outputs=2,
                          constant_inputs=(1, 2))
    qa, qo = Quantization(scale=[0.1], zero_point=[100]), Quantization(scale=[0.13], zero_point=[120])
    ua = rng.integers(0, 256, (2, 3)).astype(np.uint8)
    assert_same_as_litert("CONCATENATION", [ua, ua[:, :1]], {"axis": 1}, input_quant=[qa, qo], output_quant=[qo])


def test_strided_slice_random_matches_litert():
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    for _ in range(60):
        begin = rng.integers(-7, 7, 3)
        end = rng.integers(-7, 7, 3)
        strides = rng.choice([-3, -2, -1, 1, 2, 3], 3)
        opts = {"begin_mask": int(rng.integers(0, 8)), "end_mask": int(rng.integers(0, 8))}
        if rng.random() < 0.3:
            mask = int(rng.integers(1, 8))
            ok = all(-x.shape[i] <= begin[i] < x.shape[i] for i in range(3) if mask >> i & 1)
            if ok:
                opts["shrink_axis_mask"] = mask
                # LiteRT leaves the output unwritten for a shrunk axis with a negative stride
                strides = np.where([mask >> i & 1 for i in range(3)], np.abs(strides), strides)
        const = (1, 2, 3) if rng.random() < 0.5 else ()
        args = [x, begin.astype(I32), end.astype(I32), strides.astype(I32)]
        if run_op("STRIDED_SLICE", args, opts, constant_inputs=const)[0].size == 0:
            continue  # LiteRT's Python API cannot read back empty tensors
        assert_same_as_litert("STRIDED_SLICE", [x, begin.astype(I32), end.astype(I32), strides.astype(I32)],
                              opts, constant_inputs=const)


def test_gather_nd_scatter_nd_where_range_one_hot_match_litert():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    idx = np.stack([rng.integers(0, 3, 6), rng.integers(0, 4, 6)], 1).astype(I32).reshape(2, 3, 2)
    assert_same_as_litert("GATHER_ND", [x, idx])
    upd = rng.standard_normal((2, 3, 5)).astype(np.float32)
    assert_same_as_litert("SCATTER_ND", [idx, upd, i32(3, 4, 5)], constant_inputs=(2,), output_dtypes=[np.float32])
    assert_same_as_litert("WHERE", [x > 0.5], output_dtypes=[np.int64])
    assert_same_as_litert("RANGE", [np.float32(-1.5), np.float32(2.2), np.float32(0.37)])
    assert_same_as_litert("ONE_HOT", [i32(0, 4, 2, -1, 3), np.int32(4), np.float32(2), np.float32(-1)],
                          {"axis": 0}, constant_inputs=(1,), output_dtypes=[np.float32])


def test_shape_chain_is_cheap_per_invoke():
    """SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE on dynamic int32 tensors, as zoo models run them."""
    import time

    from edgelite.ir import Model, Subgraph
    from edgelite.kernels.base import Node, lookup
    from edgelite.kernels.testing import single_op_model, spec_of

    model: Model = single_op_model("STRIDED_SLICE", [i32(2, 3, 4), i32(0), i32(1), i32(1)], {"shrink_axis_mask": 1},
                                   constant_inputs=(1, 2, 3))
    sg: Subgraph = model.main
    node = Node(op=sg.operators[0], index=0, subgraph=sg)
    kernel = lookup(node)(node)
    kernel.prepare([spec_of(sg, i) for i in node.op.inputs], [spec_of(sg, i) for i in node.op.outputs])
    start = time.perf_counter()
    for _ in range(2000):
        out = kernel.eval([i32(2, 3, 4), None, None, None], [np.zeros((), I32)])
    per_call = (time.perf_counter() - start) / 2000
    assert out[0] == 2
    assert per_call < 200e-6
