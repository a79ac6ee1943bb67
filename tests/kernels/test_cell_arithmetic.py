"""cell_arithmetic: the recurrent cells' float32 steps are what their docstrings promise (LiteRT's
summation orders, Eigen's logistic, LiteRT's tanh), whatever the array shapes; and with them
the float LSTM and RNN ops equal LiteRT's builtin kernels bit for bit."""
import numpy as np
import pytest

from edgelite.kernels import cell_arithmetic
from edgelite.kernels.cell_arithmetic import accumulate_lanes, gemv_products, layer_normalize_, logistic_, tanh_
from edgelite.kernels.exact_logistic import logistic_packet


def lanes_loop(v, w):
    """[R][N] lists of the four lane sums, one float32 product and addition at a time."""
    out = []
    for r in range(v.shape[0]):
        row = []
        for n in range(w.shape[1]):
            lanes = [np.float32(0)] * 4
            for k in range(v.shape[1] - v.shape[1] % 4):
                lanes[k % 4] = np.float32(lanes[k % 4] + np.float32(v[r, k] * w[k, n]))
            row.append(lanes)
        out.append(row)
    return out


def gemv_loop(v, w):
    out = np.zeros((v.shape[0], w.shape[1]), np.float32)
    for r, row in enumerate(lanes_loop(v, w)):
        for n, lanes in enumerate(row):
            acc = np.float32(np.float32(lanes[0] + lanes[2]) + np.float32(lanes[1] + lanes[3]))
            for k in range(v.shape[1] - v.shape[1] % 4, v.shape[1]):
                acc = np.float32(acc + np.float32(v[r, k] * w[k, n]))
            out[r, n] = acc
    return out


def neon_loop(acc0, v, w):
    out = acc0.copy()
    for r, row in enumerate(lanes_loop(v, w)):
        for n, lanes in enumerate(row):
            lane_total = np.float32(np.float32(np.float32(lanes[0] + lanes[1]) + lanes[2]) + lanes[3])
            acc = np.float32(out[r, n] + lane_total)
            for k in range(v.shape[1] - v.shape[1] % 4, v.shape[1]):
                acc = np.float32(acc + np.float32(v[r, k] * w[k, n]))
            out[r, n] = acc
    return out


SHAPES = [(1, 1, 1), (1, 3, 2), (1, 4, 1), (1, 40, 1), (3, 33, 1), (1, 1, 5), (1, 37, 2), (2, 48, 12), (4, 9, 3)]


def random_operands(shape):
    rng = np.random.default_rng(sum(shape))
    rows, depth, cols = shape
    # wide magnitude range: a different summation order would round differently
    v = (rng.standard_normal((rows, depth)) * 10.0 ** rng.integers(-3, 4, (rows, depth))).astype(np.float32)
    return v, rng.standard_normal((depth, cols)).astype(np.float32), rng.standard_normal((rows, cols)).astype(
        np.float32)


@pytest.mark.parametrize("shape", SHAPES)
def test_gemv_products_in_eigens_order(shape):
    v, w, _ = random_operands(shape)
    assert gemv_products(v, w).tobytes() == gemv_loop(v, w).tobytes()


@pytest.mark.parametrize("shape", SHAPES)
def test_accumulate_lanes_in_neons_order(shape):
    v, w, acc = random_operands(shape)
    assert accumulate_lanes(acc.copy(), v, w).tobytes() == neon_loop(acc, v, w).tobytes()


def test_lane_sums_in_chunks(monkeypatch):
    monkeypatch.setattr(cell_arithmetic, "_CHUNK_ELEMENTS", 20)
    rng = np.random.default_rng(1)
    v = (rng.standard_normal((7, 23)) * 100).astype(np.float32)
    w = rng.standard_normal((23, 4)).astype(np.float32)
    assert gemv_products(v, w).tobytes() == gemv_loop(v, w).tobytes()


def test_logistic_is_eigens_packet_logistic():
    x = np.concatenate([np.random.default_rng(2).standard_normal(5000) * 20,
                        [-1e30, -104.5, -104.0, 16.7, 1e30, 0.0, -0.0]]).astype(np.float32)
    assert logistic_(x.copy()).tobytes() == logistic_packet(x).tobytes()


def test_tanh_within_a_few_ulp_of_tanh():
    x = np.concatenate([np.linspace(-10, 10, 20001), [1e-6, -3e-4, 0.0]]).astype(np.float32)
    got = tanh_(x.copy())
    want = np.tanh(x.astype(np.float64))
    assert np.all(np.abs(got - want) <= 8 * np.spacing(np.abs(want).astype(np.float32)) + 1e-12)
    assert got[-3] == np.float32(1e-6) and got[-2] == np.float32(-3e-4)
    assert np.isnan(tanh_(np.array([np.nan], np.float32)))[0]


def test_tanh_is_litert_float_tanh():
    pytest.importorskip("ai_edge_litert")
    from edgelite.kernels.testing import run_op_litert
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal(20000) * 3, np.linspace(-9, 9, 4001), rng.standard_normal(500) * 1e-3,
                        [0.0, -0.0, 7.9073896, 7.9073897, 1e30, -1e30]]).astype(np.float32)
    assert tanh_(x.copy()).tobytes() == run_op_litert("TANH", [x])[0].tobytes()


def test_layer_normalize_is_litert_mean_stddev_normalization():
    rng = np.random.default_rng(4)
    g = (rng.standard_normal((3, 11)) * 5 + 2).astype(np.float32)
    coef, bias = rng.standard_normal(11).astype(np.float32), rng.standard_normal(11).astype(np.float32)
    want = np.empty_like(g)
    for b, row in enumerate(g):
        s = row[0]
        for v in row[1:]:
            s = np.float32(s + v)
        mean = np.float32(s / np.float32(11))
        d = (row - mean).astype(np.float32)
        ss = np.float32(d[0] * d[0])
        for v in d[1:]:
            ss = np.float32(ss + np.float32(v * v))
        inv = np.float32(1) / np.sqrt(np.float32(ss / np.float32(11)) + np.float32(1e-8))
        want[b] = (d * inv * coef + bias).astype(np.float32)
    assert layer_normalize_(g.copy(), coef, bias).tobytes() == want.tobytes()


# -- the ops against LiteRT, bit for bit ----------------------------------------------------------
# Cell widths are multiples of 4: Eigen runs a gate's last size % 4 values through its scalar
# path (the C library's expf), which is not reproduced.

@pytest.mark.parametrize("seed", range(8))
def test_float_lstm_equals_litert_bit_for_bit(seed):
    pytest.importorskip("ai_edge_litert")
    from test_recurrent import CONSTANTS, make_lstm_inputs

    from edgelite.kernels.testing import run_op_stateful
    rng = np.random.default_rng(700 + seed)
    variant = dict(cifg=bool(seed & 1), peephole=bool(seed & 2), layer_norm=seed in (4, 5, 7),
                   projection=seed in (2, 3, 5, 6), proj_bias=seed == 3, n_output=3 + seed % 3,
                   time_major=seed == 6, batch=1 + seed % 3, steps=5, n_input=3 + 2 * seed, n_cell=8 + 4 * (seed % 2))
    ins = make_lstm_inputs(rng, **variant)
    opts = dict(fused_activation_function=4, cell_clip=1.5 if seed % 3 == 1 else 0.0,
                proj_clip=0.4 if seed == 3 else 0.0, time_major=variant["time_major"])
    feeds = [[(rng.standard_normal(ins[0].shape) * 1.5).astype(np.float32)] for _ in range(2)]
    kw = dict(state_inputs=(18, 19), feeds=feeds, constant_inputs=CONSTANTS)
    want = run_op_stateful("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, interpreter="litert", **kw)
    got = run_op_stateful("UNIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, interpreter="edgelite", **kw)
    for w, g in zip(want, got):
        assert g[0].tobytes() == w[0].tobytes()


@pytest.mark.parametrize("batch", [1, 3])
def test_float_rnn_equals_litert_bit_for_bit(batch):
    pytest.importorskip("ai_edge_litert")
    from edgelite.kernels.testing import run_op_stateful
    rng = np.random.default_rng(batch)
    units, n_input = 8, 11
    x = rng.standard_normal((batch, 6, n_input)).astype(np.float32)
    ins = [x, (rng.standard_normal((units, n_input)) * 0.6).astype(np.float32),
           (rng.standard_normal((units, units)) * 0.6).astype(np.float32), rng.standard_normal(units).astype(np.float32),
           np.zeros((batch, units), np.float32)]
    feeds = [[rng.standard_normal(x.shape).astype(np.float32)] for _ in range(2)]
    kw = dict(state_inputs=(4,), feeds=feeds, constant_inputs=(1, 2, 3))
    opts = dict(fused_activation_function=4, time_major=False)
    want = run_op_stateful("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, interpreter="litert", **kw)
    got = run_op_stateful("UNIDIRECTIONAL_SEQUENCE_RNN", ins, opts, interpreter="edgelite", **kw)
    for w, g in zip(want, got):
        assert g[0].tobytes() == w[0].tobytes()


def test_bidirectional_lstm_equals_litert_bit_for_bit():
    pytest.importorskip("ai_edge_litert")
    from test_bidirectional import LSTM_CONSTANTS, LSTM_STATES, bidi_lstm_inputs

    from edgelite.kernels.testing import run_op_stateful
    rng = np.random.default_rng(9)
    ins, _, _ = bidi_lstm_inputs(rng, steps=5, batch=2, n_input=6, fw=dict(n_cell=8, peephole=True),
                                 bw=dict(n_cell=8, peephole=True))
    feeds = [[rng.standard_normal(ins[0].shape).astype(np.float32)] for _ in range(2)]
    opts = dict(fused_activation_function=4, cell_clip=0.0, proj_clip=0.0, merge_outputs=False, time_major=True)
    kw = dict(state_inputs=LSTM_STATES, feeds=feeds, constant_inputs=LSTM_CONSTANTS, num_outputs=2)
    want = run_op_stateful("BIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, interpreter="litert", **kw)
    got = run_op_stateful("BIDIRECTIONAL_SEQUENCE_LSTM", ins, opts, interpreter="edgelite", **kw)
    for w, g in zip(want, got):
        for a, b in zip(w, g):
            assert b.tobytes() == a.tobytes()
