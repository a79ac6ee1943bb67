"""SVDF: a float64 step-by-step reference, LiteRT's builtin kernel (state as a variable tensor,
several invocations), and the hybrid (int8 weights) path against LiteRT."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels.testing import run_op, run_op_litert_stateful, run_op_stateful
from test_recurrent import close

ACTS = {0: lambda v: v, 1: lambda v: np.maximum(v, 0), 4: np.tanh}


def svdf_inputs(rng, batch=2, n_input=3, units=4, rank=1, memory=5, bias=True):
    filters = units * rank
    return [rng.standard_normal((batch, n_input)).astype(np.float32),
            (rng.standard_normal((filters, n_input)) * 0.5).astype(np.float32),
            (rng.standard_normal((filters, memory)) * 0.5).astype(np.float32),
            rng.standard_normal(units).astype(np.float32) if bias else None,
            np.zeros((batch, filters * memory), np.float32)]


def reference_svdf(xs, wf, wt, bias, rank, act, state):
    """Outputs for the inputs ``xs`` in turn, from the memory of past feature projections."""
    batch, filters, memory = state.shape[0], wf.shape[0], wt.shape[1]
    mem = state.reshape(batch, filters, memory).astype(np.float64)
    outs = []
    for x in xs:
        mem = np.concatenate([mem[:, :, 1:], (x.astype(np.float64) @ wf.T)[:, :, None]], axis=2)
        per_filter = (mem * wt).sum(-1)
        y = per_filter.reshape(batch, filters // rank, rank).sum(-1) + (0 if bias is None else bias)
        outs.append(ACTS[act](y))
    return outs


def run_svdf(ins, xs, opts, constants=(1, 2, 3), **kw):
    outs = []
    for x in xs:
        ins[0] = x
        outs.append(run_op("SVDF", ins, opts, constant_inputs=constants, **kw)[0])  # ins[4] updated in place
    return outs


@pytest.mark.parametrize("rank,act,bias", [(1, 0, True), (2, 1, True), (3, 4, False), (1, 4, True)])
def test_svdf_matches_reference(rank, act, bias):
    rng = np.random.default_rng(rank * 10 + act)
    ins = svdf_inputs(rng, rank=rank, bias=bias)
    ins[4] = rng.standard_normal(ins[4].shape).astype(np.float32)  # a non-zero initial memory
    xs = [rng.standard_normal(ins[0].shape).astype(np.float32) for _ in range(4)]
    want = reference_svdf(xs, ins[1], ins[2], ins[3], rank, act, ins[4].copy())
    got = run_svdf(ins, xs, dict(rank=rank, fused_activation_function=act),
                   constants=(1, 2, 3) if bias else (1, 2))
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert close(g, w)


def test_svdf_non_constant_weights():
    rng = np.random.default_rng(3)
    ins = svdf_inputs(rng, rank=2)
    xs = [rng.standard_normal(ins[0].shape).astype(np.float32) for _ in range(2)]
    want = reference_svdf(xs, ins[1], ins[2], ins[3], 2, 0, ins[4].copy())
    got = run_svdf(ins, xs, dict(rank=2), constants=())
    assert all(close(g, w) for g, w in zip(got, want))


def test_svdf_rejects_rank_not_dividing_filters():
    rng = np.random.default_rng(4)
    ins = svdf_inputs(rng, units=3)
    with pytest.raises(ValueError, match="rank 2 does not divide"):
        run_op("SVDF", ins, dict(rank=2), constant_inputs=(1, 2, 3))


@pytest.mark.parametrize("rank,act,batch", [(1, 0, 2), (2, 4, 1), (2, 1, 3)])
def test_svdf_matches_litert(rank, act, batch):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(50 + rank + act)
    ins = svdf_inputs(rng, rank=rank, batch=batch)
    xs = [rng.standard_normal(ins[0].shape).astype(np.float32) for _ in range(4)]
    opts = dict(rank=rank, fused_activation_function=act)
    want = run_op_litert_stateful("SVDF", ins, opts, state_inputs=(4,), feeds=[[x] for x in xs],
                                  constant_inputs=(1, 2, 3))
    got = run_svdf(ins, xs, opts)
    for g, w in zip(got, want):
        assert g.shape == w[0].shape
        assert close(g, w[0])


def quantize_weights(w):
    scale = float(np.abs(w).max()) / 127
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), Quantization(
        scale=np.array([scale], np.float32), zero_point=np.array([0], np.int64))


@pytest.mark.parametrize("asymmetric", [False, True])
def test_hybrid_svdf_matches_litert(asymmetric):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(60 + asymmetric)
    ins = svdf_inputs(rng, batch=2, n_input=6, units=4, rank=2, memory=4)
    (ins[1], q1), (ins[2], q2) = quantize_weights(ins[1]), quantize_weights(ins[2])
    quant = [None, q1, q2, None, None]
    xs = [rng.standard_normal(ins[0].shape).astype(np.float32) + 0.3 for _ in range(3)]
    xs.insert(1, np.zeros_like(xs[0]))  # an all-zero input skips the feature product
    opts = dict(rank=2, fused_activation_function=1, asymmetric_quantize_inputs=asymmetric)
    want = run_op_litert_stateful("SVDF", ins, opts, state_inputs=(4,), feeds=[[x] for x in xs],
                                  constant_inputs=(1, 2, 3), input_quant=quant, output_dtypes=[np.float32])
    got = run_svdf(ins, xs, opts, input_quant=quant, output_dtypes=[np.float32])
    for g, w in zip(got, want):
        assert close(g, w[0])


def test_svdf_state_carries_over_in_the_interpreter_like_litert():
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(80)
    ins = svdf_inputs(rng, rank=2, memory=3)
    xs = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(4)]
    kw = dict(state_inputs=(4,), feeds=xs, constant_inputs=(1, 2, 3))
    ours = run_op_stateful("SVDF", ins, dict(rank=2, fused_activation_function=4), interpreter="edgelite", **kw)
    want = run_op_litert_stateful("SVDF", ins, dict(rank=2, fused_activation_function=4), **kw)
    for g, w in zip(ours, want):
        assert close(g[0], w[0])
    assert not np.allclose(ours[0][0], ours[3][0])
