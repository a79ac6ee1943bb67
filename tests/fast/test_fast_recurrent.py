"""The compiled LSTM / RNN time loops: the same bits as the reference tier's numpy loops.

Each case runs a one-op model in edgelite's interpreter twice (so the variable states carry
over into the second invoke), once with ``EDGELITE_KERNELS=reference`` and once with the
compiled tier, and requires identical outputs and final states. Random configurations
cover CIFG, peephole, projection (with and without bias), layer norm, cell and projection
clipping, time-major and batch-major layouts, batches above 1, every cell activation, one
output unit, diagonal recurrent weights, the one-step ops, both bidirectional ops, the
hybrid (int8 weights) LSTM with symmetric and asymmetric input quantization, and the
full-integer LSTM (the configurations of tests/kernels/test_integer_lstm.py).
"""
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "kernels"))
from test_bidirectional import LSTM_CONSTANTS, LSTM_STATES, bidi_lstm_inputs, bidi_rnn_inputs  # noqa: E402
from test_integer_lstm import CASES as INTEGER_CASES  # noqa: E402
from test_integer_lstm import build_lstm, random_states  # noqa: E402
from test_integer_lstm import run as run_integer_lstm  # noqa: E402
from test_recurrent import CONSTANTS, make_lstm_inputs  # noqa: E402

from edgelite.kernels import fast  # noqa: E402,F401
from edgelite.kernels.base import Node, lookup  # noqa: E402
from edgelite.kernels.cell_arithmetic import logistic_, tanh_  # noqa: E402
from edgelite.kernels.testing import run_op_stateful, single_op_model  # noqa: E402

pytestmark = pytest.mark.fast

LSTM_OPTS = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, time_major=False)


def both_tiers(monkeypatch, opcode, ins, opts, **kw):
    """(reference runs, compiled runs): each a list of invocations' outputs plus final states."""
    results = []
    for tier in ("reference", None):
        if tier:
            monkeypatch.setenv("EDGELITE_KERNELS", tier)
        else:
            monkeypatch.delenv("EDGELITE_KERNELS", raising=False)
        results.append(run_op_stateful(opcode, [None if a is None else a.copy() for a in ins], opts,
                                       interpreter="edgelite", **kw))
    return results


def assert_same_bits(ref_runs, got_runs):
    assert len(ref_runs) == len(got_runs)
    for ref, got in zip(ref_runs, got_runs):
        for r, g in zip(ref, got):
            assert r.shape == g.shape and r.dtype == g.dtype
            assert r.tobytes() == g.tobytes(), f"max |diff| {np.abs(r.astype(np.float64) - g).max()}"


def picked_module(opcode, ins, opts, consts):
    sg = single_op_model(opcode, ins, opts, constant_inputs=consts).main
    return lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__module__


def random_lstm_case(rng, seed):
    variant = dict(cifg=bool(rng.integers(2)), peephole=bool(rng.integers(2)),
                   layer_norm=bool(rng.integers(3) == 0), projection=bool(rng.integers(2)),
                   proj_bias=bool(rng.integers(2)), time_major=bool(rng.integers(2)),
                   batch=int(rng.integers(1, 4)), steps=int(rng.integers(1, 7)),
                   n_input=int(rng.integers(1, 6)), n_cell=int(rng.integers(1, 9)),
                   n_output=int(rng.integers(1, 5)), scale=float(rng.choice([0.4, 1.0, 2.5])))
    ins = make_lstm_inputs(rng, **variant)
    act = int(rng.choice([4, 4, 0, 1, 3, 2, 5, 6])) if seed % 3 else 4
    opts = dict(LSTM_OPTS, time_major=variant["time_major"], fused_activation_function=act,
                cell_clip=float(rng.choice([0.0, 0.8, 3.0])), proj_clip=float(rng.choice([0.0, 0.5])))
    return ins, opts


@pytest.mark.parametrize("seed", range(16))
def test_sequence_lstm_same_bits(monkeypatch, seed):
    rng = np.random.default_rng(1000 + seed)
    ins, opts = random_lstm_case(rng, seed)
    assert picked_module("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, CONSTANTS) == "edgelite.kernels.fast.recurrent"
    feeds = [[(rng.standard_normal(ins[0].shape) * 1.5).astype(np.float32)] for _ in range(2)]
    if seed == 7:  # signed zeros and tiny values take the exact paths too
        feeds[0][0].reshape(-1)[::3] = -0.0
        feeds[1][0] *= np.float32(1e-5)
    ref, got = both_tiers(monkeypatch, "UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, state_inputs=(18, 19),
                          feeds=feeds, constant_inputs=CONSTANTS)
    assert_same_bits(ref, got)


def test_lstm_with_one_output_unit_and_long_sequence_same_bits(monkeypatch):
    rng = np.random.default_rng(7)
    ins = make_lstm_inputs(rng, batch=2, steps=40, n_input=3, n_cell=5, n_output=1, projection=True,
                           proj_bias=True)
    feeds = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(2)]
    ref, got = both_tiers(monkeypatch, "UNIDIRECTIONAL_SEQUENCE_LSTM", ins, LSTM_OPTS, state_inputs=(18, 19),
                          feeds=feeds, constant_inputs=CONSTANTS)
    assert_same_bits(ref, got)


def test_diagonal_recurrent_lstm_same_bits(monkeypatch):
    rng = np.random.default_rng(8)
    ins = make_lstm_inputs(rng, batch=2, steps=4, n_input=3, n_cell=4, peephole=True)
    for g in range(4):
        ins[5 + g] = (rng.standard_normal(4) * 0.7).astype(np.float32)
    opts = dict(LSTM_OPTS, diagonal_recurrent_tensors=True)
    feeds = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(2)]
    ref, got = both_tiers(monkeypatch, "UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, state_inputs=(18, 19),
                          feeds=feeds, constant_inputs=CONSTANTS)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("seed", range(3))
def test_one_step_lstm_op_same_bits(monkeypatch, seed):
    rng = np.random.default_rng(50 + seed)
    ins = make_lstm_inputs(rng, batch=1 + seed, steps=1, cifg=seed == 1, peephole=seed > 0,
                           projection=seed == 2, n_output=3, time_major=True)
    ins[0] = ins[0][0]
    opts = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, kernel_type=0)
    feeds = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(3)]
    ref, got = both_tiers(monkeypatch, "LSTM", ins, opts, state_inputs=(18, 19), feeds=feeds,
                          constant_inputs=CONSTANTS)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("variant", [
    dict(), dict(fw=dict(cifg=True, peephole=True), bw=dict(layer_norm=True), merge=True),
    dict(fw=dict(projection=True, n_output=2), bw=dict(projection=True, n_output=3), time_major=False),
    dict(aux=2, aux_weights=True, batch=3),
])
def test_bidirectional_lstm_same_bits(monkeypatch, variant):
    variant = dict(variant)
    merge, time_major = variant.pop("merge", False), variant.pop("time_major", True)
    rng = np.random.default_rng(60 + len(str(variant)))
    ins, _, _ = bidi_lstm_inputs(rng, **variant)
    opts = dict(fused_activation_function=4, cell_clip=1.0, proj_clip=0.0, merge_outputs=merge,
                time_major=time_major)
    layout = (lambda a: a) if time_major else (lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)))
    seq_inputs = [k for k in (0, 39) if ins[k] is not None]
    feeds = [[layout(rng.standard_normal(ins[k].shape).astype(np.float32)) for k in seq_inputs] for _ in range(2)]
    for k, v in zip(seq_inputs, feeds[0]):
        ins[k] = v
    consts = tuple(k for k in LSTM_CONSTANTS if ins[k] is not None)
    ref, got = both_tiers(monkeypatch, "BIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, state_inputs=LSTM_STATES,
                          feeds=feeds, constant_inputs=consts, num_outputs=1 if merge else 2)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("act", [4, 1, 0, 6])
@pytest.mark.parametrize("time_major", [False, True])
def test_sequence_rnn_same_bits(monkeypatch, act, time_major):
    rng = np.random.default_rng(act * 2 + time_major)
    batch, steps, n_input, units = 3, 6, 4, (1 if act == 0 else 5)
    x = rng.standard_normal((steps, batch, n_input) if time_major else (batch, steps, n_input)).astype(np.float32)
    ins = [x, (rng.standard_normal((units, n_input)) * 0.8).astype(np.float32),
           (rng.standard_normal((units, units)) * 0.8).astype(np.float32),
           rng.standard_normal(units).astype(np.float32), np.zeros((batch, units), np.float32)]
    opts = dict(fused_activation_function=act, time_major=time_major)
    assert picked_module("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, (1, 2, 3)) == "edgelite.kernels.fast.recurrent"
    feeds = [[rng.standard_normal(x.shape).astype(np.float32)] for _ in range(2)]
    ref, got = both_tiers(monkeypatch, "UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, state_inputs=(4,), feeds=feeds,
                          constant_inputs=(1, 2, 3))
    assert_same_bits(ref, got)
    ref1, got1 = both_tiers(monkeypatch, "RNN", [x[0] if time_major else x[:, 0]] + ins[1:],
                            dict(fused_activation_function=act),
                            state_inputs=(4,), feeds=[[f[0][0] if time_major else f[0][:, 0]] for f in feeds],
                            constant_inputs=(1, 2, 3))
    assert_same_bits(ref1, got1)


@pytest.mark.parametrize("variant", [dict(), dict(aux=2, aux_weights=True), dict(aux=3, aux_weights=False)])
def test_bidirectional_rnn_same_bits(monkeypatch, variant):
    rng = np.random.default_rng(80 + len(str(variant)))
    ins = bidi_rnn_inputs(rng, **variant)
    seq_inputs = [k for k in (0, 9) if ins[k] is not None]
    feeds = [[rng.standard_normal(ins[k].shape).astype(np.float32) for k in seq_inputs] for _ in range(2)]
    for k, v in zip(seq_inputs, feeds[0]):
        ins[k] = v
    consts = tuple(k for k in (1, 2, 3, 5, 6, 7, 10, 11) if ins[k] is not None)
    opts = dict(fused_activation_function=4, time_major=True, merge_outputs=False)
    ref, got = both_tiers(monkeypatch, "BIDIRECTIONAL_SEQUENCE_RNN", ins, opts, state_inputs=(4, 8), feeds=feeds,
                          constant_inputs=consts, num_outputs=2)
    assert_same_bits(ref, got)


def test_scalar_functions_match_numpy_on_special_values():
    """The compiled logistic / tanh against cell_arithmetic's numpy ones, value by value."""
    from edgelite.kernels.fast.loader import compiled_module
    mod = compiled_module("_compiled_recurrent")
    rng = np.random.default_rng(3)
    special = [0.0, -0.0, 1e-30, -3.9e-4, 4e-4, 7.9053, 7.906, -7.906, 9.0, 16.63, 16.7, -103.9, -104.0,
               -104.1, 1e30, -1e30, np.inf, -np.inf, np.nan]
    x = np.concatenate([special, rng.standard_normal(4000) * 6, rng.standard_normal(200) * 1e-3]).astype(np.float32)
    with np.errstate(all="ignore"):
        want_t = tanh_(x.copy())
        want_l = logistic_(x.copy())
    got_t = np.array([mod.tanh(v) for v in x], np.float32)
    got_l = np.array([mod.logistic(v) for v in x], np.float32)
    assert got_t.tobytes() == want_t.tobytes()
    assert got_l.tobytes() == want_l.tobytes()


def hybrid_lstm_model(rng, batch, steps, n_in, n_cell, n_output, *, asymmetric, cifg, peephole, layer_norm,
                      projection, cell_clip, proj_clip):
    """A one-op hybrid UNIDIRECTIONAL_SEQUENCE_LSTM: int8 weights (and peepholes, projection), float
    activations, variable states."""
    from edgelite.ir import Model, Quantization, Subgraph

    def quant(scale):
        return Quantization(scale=np.array([scale], np.float32), zero_point=np.zeros(1, np.int64))

    def int8(name, shape, scale):
        return sg.add_constant(name, rng.integers(-127, 128, size=shape).astype(np.int8), quantization=quant(scale))

    n_output = n_output if projection else n_cell
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (batch, steps, n_in), np.float32)
    ins = [x]
    for k in range(8):
        ins.append(-1 if cifg and k in (0, 4) else
                   int8(f"w{k}", (n_cell, n_in if k < 4 else n_output), float(rng.uniform(0.002, 0.02))))
    for k in range(3):
        ins.append(int8(f"p{k}", (n_cell,), 0.003) if peephole and not (cifg and k == 0) else -1)
    for k in range(4):
        ins.append(-1 if cifg and k == 0 else
                   sg.add_constant(f"b{k}", rng.normal(0, 0.5, size=n_cell).astype(np.float32)))
    if projection:
        ins += [int8("proj", (n_output, n_cell), 0.01),
                sg.add_constant("proj_b", rng.normal(0, 0.2, size=n_output).astype(np.float32))]
    else:
        ins += [-1, -1]
    ins.append(sg.add_tensor("h", (batch, n_output), np.float32, is_variable=True))
    ins.append(sg.add_tensor("c", (batch, n_cell), np.float32, is_variable=True))
    for k in range(4):
        ins.append(sg.add_constant(f"ln{k}", rng.uniform(0.5, 1.5, size=n_cell).astype(np.float32))
                   if layer_norm and not (cifg and k == 0) else -1)
    out = sg.add_tensor("y", (batch, steps, n_output), np.float32)
    sg.add_operator("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, [out],
                    dict(fused_activation_function=4, cell_clip=cell_clip, proj_clip=proj_clip, time_major=False,
                         asymmetric_quantize_inputs=asymmetric), version=3)
    sg.inputs, sg.outputs = [x], [out]
    return Model(subgraphs=[sg])


@pytest.mark.parametrize("seed", range(10))
def test_hybrid_lstm_same_bits(monkeypatch, seed):
    from edgelite import Interpreter
    rng = np.random.default_rng(500 + seed)
    batch, steps = int(rng.integers(1, 4)), int(rng.integers(1, 7))
    n_in = int(rng.integers(1, 12))
    model = hybrid_lstm_model(rng, batch, steps, n_in, int(rng.integers(2, 12)), int(rng.integers(1, 6)),
                              asymmetric=bool(seed % 2), cifg=bool(rng.integers(2)), peephole=bool(rng.integers(2)),
                              layer_norm=bool(rng.integers(3) == 0), projection=bool(rng.integers(2)),
                              cell_clip=float(rng.choice([0.0, 3.0])), proj_clip=float(rng.choice([0.0, 0.3])))
    xs = [(rng.standard_normal((batch, steps, n_in)) * 2).astype(np.float32) for _ in range(2)]
    xs[0][0, 0] = 0  # a zero row (scale 1, no contribution) beside non-zero ones
    if seed == 3:
        xs[1][:] = 0  # an all-zero step skips the input products
    runs = []
    for tier in ("reference", None):
        if tier:
            monkeypatch.setenv("EDGELITE_KERNELS", tier)
        else:
            monkeypatch.delenv("EDGELITE_KERNELS", raising=False)
        it = Interpreter(model_content=model.to_bytes())
        it.allocate_tensors()
        if tier is None:
            sg = model.main
            assert lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__name__ == \
                "FastHybridUnidirectionalSequenceLSTM"
        outs = []
        for x in xs:  # twice: the states carry over
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            outs.append([np.array(it.get_tensor(it.get_output_details()[0]["index"]))])
        runs.append(outs)
    assert_same_bits(*runs)
    assert np.abs(runs[0][1][0]).max() > 0.01


@pytest.mark.parametrize("name", sorted(INTEGER_CASES))
def test_integer_lstm_same_bits(monkeypatch, name):
    import zlib
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    model, feeds, states = build_lstm(rng, **INTEGER_CASES[name])
    init = random_states(rng, model, states)
    sg = model.main
    kernel = lookup(Node(op=sg.operators[0], index=0, subgraph=sg))
    assert kernel.__name__ == "FastIntegerUnidirectionalSequenceLSTM"
    runs = []
    for tier in ("reference", None):
        if tier:
            monkeypatch.setenv("EDGELITE_KERNELS", tier)
        else:
            monkeypatch.delenv("EDGELITE_KERNELS", raising=False)
        runs.append(run_integer_lstm(model, feeds, states, "edgelite", init))
    assert_same_bits(*runs)
