"""UNIDIRECTIONAL_SEQUENCE_LSTM: a numpy reference written gate by gate, LiteRT, and the zoo."""
import numpy as np
import pytest

from edgelite.kernels.testing import run_op, run_op_litert_stateful

OPTS = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, time_major=False)


def make_lstm_inputs(rng, batch=2, steps=5, n_input=3, n_cell=4, n_output=None, cifg=False,
                     peephole=False, projection=False, proj_bias=False, layer_norm=False,
                     time_major=False, scale=0.6):
    """The 24 LSTM inputs (None where omitted) with random weights and random initial states."""
    n_output = n_output or n_cell
    if not projection:
        n_output = n_cell

    def r(*shape):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    ins = [None] * 24
    ins[0] = r(steps, batch, n_input) if time_major else r(batch, steps, n_input)
    for g in range(4):
        if g == 0 and cifg:
            continue
        ins[1 + g] = r(n_cell, n_input)
        ins[5 + g] = r(n_cell, n_output)
        ins[12 + g] = r(n_cell)
        if layer_norm:
            ins[20 + g] = (1.0 + r(n_cell)).astype(np.float32)
    if peephole:
        if not cifg:
            ins[9] = r(n_cell)
        ins[10] = r(n_cell)
        ins[11] = r(n_cell)
    if projection:
        ins[16] = r(n_output, n_cell)
        if proj_bias:
            ins[17] = r(n_output)
    ins[18] = r(batch, n_output)
    ins[19] = r(batch, n_cell)
    return ins


CONSTANTS = tuple(i for i in range(1, 24) if i not in (18, 19))


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def reference_lstm(ins, opts):
    """Straightforward float64 LSTM, gate by gate and step by step."""
    x = ins[0].astype(np.float64)
    if not opts.get("time_major"):
        x = x.transpose(1, 0, 2)
    act = {4: np.tanh, 0: lambda v: v, 1: lambda v: np.maximum(v, 0)}[opts["fused_activation_function"]]
    h, c = ins[18].astype(np.float64), ins[19].astype(np.float64)
    use_ln = ins[21] is not None

    def gate(g, cell, fn):
        pre = x_t @ ins[1 + g].T.astype(np.float64) + h @ ins[5 + g].T.astype(np.float64)
        if g != 2 and ins[9 + (g if g < 2 else 2)] is not None:
            pre = pre + cell * ins[9 + (g if g < 2 else 2)]
        if use_ln:
            mu = pre.mean(-1, keepdims=True)
            var = ((pre - mu) ** 2).mean(-1, keepdims=True)
            pre = (pre - mu) / np.sqrt(var + 1e-8) * ins[20 + g]
        return fn(pre + ins[12 + g])

    outs = []
    for x_t in x:
        f = gate(1, c, sigmoid)
        i = 1.0 - f if ins[1] is None else gate(0, c, sigmoid)
        g = gate(2, None, act)
        c = f * c + i * g
        if opts.get("cell_clip", 0) > 0:
            c = np.clip(c, -opts["cell_clip"], opts["cell_clip"])
        o = gate(3, c, sigmoid)
        h = o * act(c)
        if ins[16] is not None:
            h = h @ ins[16].T.astype(np.float64) + (0 if ins[17] is None else ins[17])
            if opts.get("proj_clip", 0) > 0:
                h = np.clip(h, -opts["proj_clip"], opts["proj_clip"])
        outs.append(h)
    y = np.stack(outs)
    return (y if opts.get("time_major") else y.transpose(1, 0, 2)), h, c


def run_lstm_litert(ins, opts, second_input):
    """LiteRT on ``ins[0]`` then on ``second_input`` (its states, variables starting at zero, carry over)."""
    return run_stateful_litert("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, (18, 19), [ins[0], second_input],
                               CONSTANTS)


def close(a, b, tol=1e-5):
    return np.abs(np.asarray(a, np.float64) - b).max() <= tol * max(1.0, float(np.abs(b).max()))


def test_lstm_matches_reference_and_updates_state():
    rng = np.random.default_rng(1)
    ins = make_lstm_inputs(rng)
    y_ref, h_ref, c_ref = reference_lstm(ins, OPTS)
    state_h, state_c = ins[18].copy(), ins[19].copy()
    ins[18], ins[19] = state_h, state_c
    y = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, OPTS, constant_inputs=CONSTANTS)[0]
    assert y.shape == (2, 5, 4)
    assert close(y, y_ref)
    assert close(state_h, h_ref) and close(state_c, c_ref)  # final states written back
    assert close(y[:, -1], h_ref)


@pytest.mark.parametrize("variant", [
    dict(cifg=True), dict(peephole=True), dict(cifg=True, peephole=True),
    dict(projection=True, n_output=3), dict(projection=True, proj_bias=True, n_output=5),
    dict(layer_norm=True), dict(layer_norm=True, cifg=True, peephole=True),
    dict(time_major=True), dict(batch=1, steps=1), dict(batch=3, steps=7, n_input=6, n_cell=8),
])
def test_lstm_variants_match_reference(variant):
    rng = np.random.default_rng(len(str(variant)))
    ins = make_lstm_inputs(rng, **variant)
    opts = dict(OPTS, time_major=variant.get("time_major", False))
    y_ref, _, _ = reference_lstm(ins, opts)
    y = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, constant_inputs=CONSTANTS)[0]
    assert close(y, y_ref)


def test_lstm_clipping_and_relu_activation():
    rng = np.random.default_rng(7)
    ins = make_lstm_inputs(rng, projection=True, n_output=3, scale=2.0)
    opts = dict(OPTS, cell_clip=0.5, proj_clip=0.3, fused_activation_function=1)
    y_ref, _, _ = reference_lstm(ins, opts)
    y = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, constant_inputs=CONSTANTS)[0]
    assert np.abs(y).max() <= 0.3 + 1e-6
    assert close(y, y_ref)


def test_lstm_rejects_bad_state_size():
    rng = np.random.default_rng(3)
    ins = make_lstm_inputs(rng)
    ins[19] = np.zeros((2, 7), np.float32)
    with pytest.raises(ValueError, match="state input 19"):
        run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, OPTS, constant_inputs=CONSTANTS)


@pytest.mark.parametrize("seed", range(6))
def test_lstm_matches_litert(seed):
    rng = np.random.default_rng(100 + seed)
    variant = dict(cifg=bool(seed & 1), peephole=bool(seed & 2), layer_norm=seed >= 4,
                   projection=seed in (2, 3, 5), proj_bias=seed == 3, n_output=3,
                   time_major=seed == 1, batch=1 + seed % 3, steps=2 + seed)
    ins = make_lstm_inputs(rng, **variant)
    opts = dict(OPTS, time_major=variant["time_major"], cell_clip=1.5 if seed % 2 else 0.0,
                proj_clip=0.4 if seed == 3 else 0.0)
    ins[18] = np.zeros_like(ins[18])
    ins[19] = np.zeros_like(ins[19])
    second = rng.standard_normal(ins[0].shape).astype(np.float32)
    expected = run_lstm_litert(ins, opts, second)
    first_out = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, constant_inputs=CONSTANTS)[0]
    ins[0] = second  # the state arrays now hold the first call's final states
    second_out = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, constant_inputs=CONSTANTS)[0]
    for got, want in zip((first_out, second_out), expected):
        assert got.shape == want.shape
        assert close(got, want)


def run_stateful_litert(opcode, ins, opts, state_indices, inputs_seq, constants):
    """LiteRT on each array of ``inputs_seq`` in turn; the state inputs are zero-initialised variables."""
    pytest.importorskip("ai_edge_litert.interpreter")
    runs = run_op_litert_stateful(opcode, ins, opts, state_inputs=tuple(state_indices),
                                  feeds=[[x] for x in inputs_seq], constant_inputs=constants)
    return [outs[0] for outs in runs]


LSTM_OP_OPTS = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0)


@pytest.mark.parametrize("variant", [dict(), dict(cifg=True, peephole=True), dict(projection=True, n_output=3),
                                     dict(layer_norm=True)])
def test_single_step_lstm_op_matches_litert(variant):
    rng = np.random.default_rng(len(str(variant)) + 11)
    ins = make_lstm_inputs(rng, steps=1, batch=2, time_major=True, **variant)
    ins[0] = ins[0][0]  # [B, I]
    ins[18], ins[19] = np.zeros_like(ins[18]), np.zeros_like(ins[19])
    xs = [ins[0], rng.standard_normal(ins[0].shape).astype(np.float32)]
    want = run_stateful_litert("LSTM", ins, LSTM_OP_OPTS, (18, 19), xs, CONSTANTS)
    for x, expected in zip(xs, want):
        ins[0] = x
        got = run_op("LSTM", ins, LSTM_OP_OPTS, constant_inputs=CONSTANTS)[0]
        assert got.shape == expected.shape == (2, ins[18].shape[1])
        assert close(got, expected)


def make_rnn_inputs(rng, batch=2, steps=4, n_input=3, units=5, time_major=False):
    x_shape = (steps, batch, n_input) if time_major else (batch, steps, n_input)
    return [rng.standard_normal(x_shape).astype(np.float32),
            (rng.standard_normal((units, n_input)) * 0.5).astype(np.float32),
            (rng.standard_normal((units, units)) * 0.5).astype(np.float32),
            rng.standard_normal(units).astype(np.float32),
            np.zeros((batch, units), np.float32)]


def reference_rnn(ins, act, time_major):
    x = ins[0].astype(np.float64)
    x = x if time_major else x.transpose(1, 0, 2)
    h = ins[4].astype(np.float64)
    outs = []
    for x_t in x:
        h = act(x_t @ ins[1].T + h @ ins[2].T + ins[3])
        outs.append(h)
    y = np.stack(outs)
    return y if time_major else y.transpose(1, 0, 2)


@pytest.mark.parametrize("act,fn", [(4, np.tanh), (1, lambda v: np.maximum(v, 0)), (0, lambda v: v)])
@pytest.mark.parametrize("time_major", [False, True])
def test_sequence_rnn_matches_reference(act, fn, time_major):
    rng = np.random.default_rng(act)
    ins = make_rnn_inputs(rng, time_major=time_major)
    opts = dict(fused_activation_function=act, time_major=time_major)
    ins[4] = rng.standard_normal(ins[4].shape).astype(np.float32)  # a non-zero initial state
    expected = reference_rnn(ins, fn, time_major)  # before run_op: it updates the state in place
    y = run_op("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, constant_inputs=(1, 2, 3))[0]
    assert close(y, expected)
    assert close(ins[4], (expected if time_major else expected.transpose(1, 0, 2))[-1])


@pytest.mark.parametrize("time_major", [False, True])
def test_sequence_rnn_matches_litert(time_major):
    rng = np.random.default_rng(21)
    ins = make_rnn_inputs(rng, time_major=time_major)
    opts = dict(fused_activation_function=4, time_major=time_major)
    xs = [ins[0], rng.standard_normal(ins[0].shape).astype(np.float32)]
    want = run_stateful_litert("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, (4,), xs, (1, 2, 3))
    for x, expected in zip(xs, want):
        ins[0] = x
        got = run_op("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, constant_inputs=(1, 2, 3))[0]
        assert close(got, expected)


def test_rnn_op_matches_litert():
    rng = np.random.default_rng(22)
    ins = make_rnn_inputs(rng, steps=1, time_major=True)
    ins[0] = ins[0][0]
    opts = dict(fused_activation_function=1)
    xs = [ins[0], rng.standard_normal(ins[0].shape).astype(np.float32)]
    want = run_stateful_litert("RNN", ins, opts, (4,), xs, (1, 2, 3))
    for x, expected in zip(xs, want):
        ins[0] = x
        got = run_op("RNN", ins, opts, constant_inputs=(1, 2, 3))[0]
        assert got.shape == (2, 5)
        assert close(got, expected)


def test_lstm_zoo_model_runs_twice_like_litert():
    """The zoo's Keras LSTM keeps its state in variables between invocations, as LiteRT does."""
    interp_mod = pytest.importorskip("ai_edge_litert.interpreter")
    edgelite = pytest.importorskip("edgelite")
    from conftest import zoo_inputs, zoo_path, MANIFEST
    if "lstm_text_f32" not in MANIFEST or not hasattr(edgelite, "Interpreter"):
        pytest.skip("zoo or interpreter not available")
    path = str(zoo_path("lstm_text_f32"))
    runs = []
    for it in (edgelite.Interpreter(model_path=path), interp_mod.Interpreter(
            model_path=path, experimental_op_resolver_type=interp_mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)):
        it.allocate_tensors()
        outs = []
        for _ in range(2):
            for d, x in zip(it.get_input_details(), zoo_inputs("lstm_text_f32")):
                it.set_tensor(d["index"], x)
            it.invoke()
            outs.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
        runs.append(outs)
    for got, want in zip(*runs):
        assert close(got, want)
    assert not np.allclose(runs[1][0], runs[1][1])  # the second call saw the carried state


def test_lstm_diagonal_recurrent_weights_equal_diagonal_matrices():
    rng = np.random.default_rng(9)
    ins = make_lstm_inputs(rng, peephole=True)
    diag = list(ins)
    for k in range(5, 9):
        diag[k] = np.ascontiguousarray(ins[k].diagonal())
        ins[k] = np.diag(diag[k]).astype(np.float32)
    y_ref, _, _ = reference_lstm(ins, OPTS)
    diag[18], diag[19] = ins[18].copy(), ins[19].copy()
    y = run_op("UNIDIRECTIONAL_SEQUENCE_LSTM", diag, dict(OPTS, diagonal_recurrent_tensors=True),
               constant_inputs=CONSTANTS)[0]
    assert close(y, y_ref)
