"""BIDIRECTIONAL_SEQUENCE_LSTM / _RNN: the unidirectional float64 references run forward and
on the reversed sequence, and LiteRT's builtin kernels on the same one-op models."""
import numpy as np
import pytest

from edgelite.kernels.testing import run_op, run_op_litert_stateful, run_op_stateful
from test_recurrent import close, make_lstm_inputs, reference_lstm, reference_rnn

LSTM_STATES = (35, 36, 37, 38)
LSTM_CONSTANTS = tuple(i for i in range(1, 48) if i not in LSTM_STATES + (39,))


def bidi_lstm_inputs(rng, steps=4, batch=2, n_input=3, aux=0, aux_weights=False, fw=None, bw=None):
    """48 inputs (time-major) built from two unidirectional input sets; returns (inputs, fw24, bw24)."""
    fw24 = make_lstm_inputs(rng, steps=steps, batch=batch, n_input=n_input, time_major=True, **(fw or {}))
    bw24 = make_lstm_inputs(rng, steps=steps, batch=batch, n_input=n_input, time_major=True, **(bw or {}))
    ins = [None] * 48
    ins[0] = fw24[0]
    ins[1:18], ins[18:35] = fw24[1:18], bw24[1:18]
    ins[35], ins[36], ins[37], ins[38] = fw24[18], fw24[19], bw24[18], bw24[19]
    if aux:
        ins[39] = rng.standard_normal((steps, batch, aux)).astype(np.float32)
        if aux_weights:
            for base, cell in ((40, fw24), (44, bw24)):
                n_cell = cell[4].shape[0]
                for g in range(4):
                    if g == 0 and cell[1] is None:
                        continue
                    ins[base + g] = (rng.standard_normal((n_cell, aux)) * 0.5).astype(np.float32)
    return ins, fw24, bw24


def with_aux(cell24, x, aux, aux_ws):
    """A unidirectional input set equivalent to a cell with aux weights: [x | aux] and [W | A]."""
    cell = list(cell24)
    cell[0] = np.concatenate([x, aux], axis=-1)
    for g in range(4):
        if cell[1 + g] is not None:
            cell[1 + g] = np.concatenate([cell[1 + g], aux_ws[g]], axis=1)
    return cell


def reference_bidi_lstm(ins, opts):
    """(forward [T, B, n_fw], backward [T, B, n_bw]) from the unidirectional reference (time-major)."""
    x, aux = ins[0], ins[39]
    aux_ws = (ins[40:44], ins[44:48])
    cells = []
    for direction, (lo, states) in enumerate(((1, (35, 36)), (18, (37, 38)))):
        cell = [None] * 24
        cell[1:18] = ins[lo:lo + 17]
        cell[18], cell[19] = ins[states[0]], ins[states[1]]
        seq = x if aux is None or aux_ws[0][1] is not None or direction == 0 else aux
        cell[0] = seq
        if aux is not None and aux_ws[0][1] is not None:
            cell = with_aux(cell, seq, aux, aux_ws[direction])
        if direction == 1:
            cell[0] = cell[0][::-1]
        y, _, _ = reference_lstm(cell, dict(opts, time_major=True))
        cells.append(y if direction == 0 else y[::-1])
    return cells


BASE_OPTS = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, merge_outputs=False, time_major=True)


def run_bidi_lstm(ins, opts):
    n_out = 1 if opts["merge_outputs"] else 2
    return run_op("BIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, num_outputs=n_out, constant_inputs=LSTM_CONSTANTS)


@pytest.mark.parametrize("variant", [
    dict(), dict(fw=dict(cifg=True), bw=dict(cifg=True)), dict(fw=dict(peephole=True), bw=dict(peephole=True)),
    dict(fw=dict(projection=True, n_output=3, proj_bias=True), bw=dict(projection=True, n_output=3)),
    dict(aux=2, aux_weights=True), dict(aux=3, aux_weights=False, n_input=3),
    dict(aux=2, aux_weights=True, fw=dict(cifg=True), bw=dict(cifg=True)),
])
def test_bidi_lstm_matches_reference(variant):
    rng = np.random.default_rng(len(str(variant)))
    ins, _, _ = bidi_lstm_inputs(rng, **variant)
    want_fw, want_bw = reference_bidi_lstm(ins, BASE_OPTS)
    fw, bw = run_bidi_lstm(ins, BASE_OPTS)
    assert fw.shape == want_fw.shape and bw.shape == want_bw.shape
    assert close(fw, want_fw) and close(bw, want_bw)


def test_bidi_lstm_merge_batch_major_and_clipping():
    rng = np.random.default_rng(5)
    ins, _, _ = bidi_lstm_inputs(rng, steps=5, batch=3, fw=dict(scale=2.0), bw=dict(scale=2.0))
    opts = dict(BASE_OPTS, cell_clip=0.7)
    want_fw, want_bw = reference_bidi_lstm(ins, opts)
    ins[0] = np.ascontiguousarray(ins[0].transpose(1, 0, 2))  # [B, T, I]
    merged = run_bidi_lstm(ins, dict(opts, merge_outputs=True, time_major=False))[0]
    assert merged.shape == (3, 5, 8)
    assert close(merged, np.concatenate([want_fw, want_bw], -1).transpose(1, 0, 2))


def test_bidi_lstm_updates_states():
    rng = np.random.default_rng(6)
    ins, _, _ = bidi_lstm_inputs(rng)
    before = [ins[i].copy() for i in LSTM_STATES]
    fw, bw = run_bidi_lstm(ins, BASE_OPTS)
    assert close(ins[35], fw[-1]) and close(ins[37], bw[0])  # final fw state = last step, bw = first
    assert not np.allclose(before[1], ins[36]) and not np.allclose(before[3], ins[38])


@pytest.mark.parametrize("variant", [
    dict(), dict(fw=dict(cifg=True, peephole=True), bw=dict(cifg=True, peephole=True), merge=True),
    dict(fw=dict(projection=True, n_output=2), bw=dict(projection=True, n_output=2), time_major=False),
    dict(aux=2, aux_weights=True), dict(aux=3, aux_weights=False, merge=True),
    dict(aux=2, aux_weights=True, time_major=False), dict(aux=3, aux_weights=False, time_major=False),
])
def test_bidi_lstm_matches_litert(variant):
    pytest.importorskip("ai_edge_litert")
    variant = dict(variant)
    merge, time_major = variant.pop("merge", False), variant.pop("time_major", True)
    rng = np.random.default_rng(40 + len(str(variant)))
    ins, _, _ = bidi_lstm_inputs(rng, **variant)
    for i in LSTM_STATES:
        ins[i] = np.zeros_like(ins[i])
    opts = dict(BASE_OPTS, merge_outputs=merge, time_major=time_major, cell_clip=1.0)
    layout = (lambda a: a) if time_major else (lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)))
    seq_inputs = [k for k in (0, 39) if ins[k] is not None]
    feeds = []
    for _ in range(2):
        feeds.append([layout(rng.standard_normal(ins[k].shape).astype(np.float32)) for k in seq_inputs])
    for k, v in zip(seq_inputs, feeds[0]):
        ins[k] = v
    n_out = 1 if merge else 2
    want = run_op_litert_stateful("BIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, state_inputs=LSTM_STATES,
                                  feeds=feeds, constant_inputs=LSTM_CONSTANTS, num_outputs=n_out)
    for feed, expected in zip(feeds, want):
        for k, v in zip(seq_inputs, feed):
            ins[k] = v
        got = run_bidi_lstm(ins, opts)  # the states carry over in place between the two calls
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            assert close(g, e)


def test_bidi_lstm_rejects_wrong_output_count():
    rng = np.random.default_rng(8)
    ins, _, _ = bidi_lstm_inputs(rng)
    with pytest.raises(ValueError, match="expects 1 outputs"):
        run_op("BIDIRECTIONAL_SEQUENCE_LSTM", ins, dict(BASE_OPTS, merge_outputs=True), num_outputs=2,
               constant_inputs=LSTM_CONSTANTS)


# -- BIDIRECTIONAL_SEQUENCE_RNN ---------------------------------------------------------------------
RNN_STATES = (4, 8)


def bidi_rnn_inputs(rng, steps=4, batch=2, n_input=3, units=(5, 4), aux=0, aux_weights=False):
    def r(*shape, s=0.5):
        return (rng.standard_normal(shape) * s).astype(np.float32)
    ins = [r(steps, batch, n_input, s=1.0)]
    for u in units:
        ins += [r(u, n_input), r(u, u), r(u), r(batch, u)]
    ins += [None, None, None]  # LiteRT wants all 12 inputs, the aux ones omitted
    if aux:
        ins[9:] = [r(steps, batch, aux, s=1.0), r(units[0], aux) if aux_weights else None,
                   r(units[1], aux) if aux_weights else None]
    return ins


def reference_bidi_rnn(ins, act):
    aux = ins[9]
    use_aux_w = aux is not None and ins[10] is not None
    outs = []
    for direction in range(2):
        w, r, b, h = ins[1 + 4 * direction: 5 + 4 * direction]
        x = aux if aux is not None and not use_aux_w and direction == 1 else ins[0]
        if use_aux_w:
            x = np.concatenate([x, aux], -1)
            w = np.concatenate([w, ins[10 + direction]], 1)
        if direction == 1:
            x = x[::-1]
        y = reference_rnn([x, w, r, b, h], act, True)
        outs.append(y if direction == 0 else y[::-1])
    return outs


ACTS = {0: lambda v: v, 1: lambda v: np.maximum(v, 0), 4: np.tanh}


@pytest.mark.parametrize("variant", [dict(), dict(aux=2, aux_weights=True), dict(aux=3, aux_weights=False)])
@pytest.mark.parametrize("act", [4, 1])
def test_bidi_rnn_matches_reference(variant, act):
    rng = np.random.default_rng(act + len(str(variant)))
    ins = bidi_rnn_inputs(rng, **variant)
    want = reference_bidi_rnn(ins, ACTS[act])
    got = run_op("BIDIRECTIONAL_SEQUENCE_RNN", ins, dict(fused_activation_function=act, time_major=True),
                 num_outputs=2, constant_inputs=(1, 2, 3, 5, 6, 7, 10, 11))
    for g, w in zip(got, want):
        assert close(g, w)


@pytest.mark.parametrize("variant", [
    dict(), dict(merge=True, time_major=False), dict(aux=3, aux_weights=True),
    dict(aux=2, aux_weights=True, time_major=False), dict(aux=3, aux_weights=False, merge=True),
    dict(aux=3, aux_weights=False, time_major=False),  # LiteRT's backward cell reads the input here
])
def test_bidi_rnn_matches_litert(variant):
    """(Time-major aux inputs keep the input's depth: LiteRT strides through them with that depth.)"""
    pytest.importorskip("ai_edge_litert")
    variant = dict(variant)
    merge, time_major = variant.pop("merge", False), variant.pop("time_major", True)
    rng = np.random.default_rng(70 + len(str(variant)))
    ins = bidi_rnn_inputs(rng, **variant)
    for i in RNN_STATES:
        ins[i] = np.zeros_like(ins[i])
    opts = dict(fused_activation_function=4, time_major=time_major, merge_outputs=merge)
    layout = (lambda a: a) if time_major else (lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)))
    seq_inputs = [k for k in (0, 9) if ins[k] is not None]
    feeds = [[layout(rng.standard_normal(ins[k].shape).astype(np.float32)) for k in seq_inputs] for _ in range(2)]
    for k, v in zip(seq_inputs, feeds[0]):
        ins[k] = v
    consts = tuple(k for k in (1, 2, 3, 5, 6, 7, 10, 11) if ins[k] is not None)
    n_out = 1 if merge else 2
    want = run_op_litert_stateful("BIDIRECTIONAL_SEQUENCE_RNN", ins, opts, state_inputs=RNN_STATES, feeds=feeds,
                                  constant_inputs=consts, num_outputs=n_out)
    for feed, expected in zip(feeds, want):
        for k, v in zip(seq_inputs, feed):
            ins[k] = v
        got = run_op("BIDIRECTIONAL_SEQUENCE_RNN", ins, opts, num_outputs=n_out, constant_inputs=consts)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            assert close(g, e)


@pytest.mark.parametrize("opcode", ["BIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_RNN"])
def test_bidi_states_carry_over_in_the_interpreter_like_litert(opcode):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(90)
    if opcode == "BIDIRECTIONAL_SEQUENCE_LSTM":
        ins, _, _ = bidi_lstm_inputs(rng, fw=dict(peephole=True), bw=dict(peephole=True))
        states, consts, opts = LSTM_STATES, LSTM_CONSTANTS, BASE_OPTS
    else:
        ins = bidi_rnn_inputs(rng)
        states, consts = RNN_STATES, (1, 2, 3, 5, 6, 7)
        opts = dict(fused_activation_function=4, time_major=True, merge_outputs=False)
    feeds = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(3)]
    kw = dict(state_inputs=states, feeds=feeds, constant_inputs=consts, num_outputs=2)
    ours = run_op_stateful(opcode, ins, opts, interpreter="edgelite", **kw)
    want = run_op_litert_stateful(opcode, ins, opts, **kw)
    for got, expected in zip(ours, want):
        for g, e in zip(got, expected):
            assert close(g, e)
