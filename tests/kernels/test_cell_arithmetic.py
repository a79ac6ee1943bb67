"""cell_arithmetic: the recurrent cells' float32 steps are what their docstrings promise (fixed
summation order, Eigen's logistic, LiteRT's tanh), whatever the array shapes."""
import numpy as np
import pytest

from edgelite.kernels import cell_arithmetic
from edgelite.kernels.cell_arithmetic import layer_normalize_, logistic_, sequential_matvec, tanh_
from edgelite.kernels.exact_logistic import logistic_packet


def loop_matvec(h, w):
    """sum_k h[b, k] * w[k, n] added one float32 product at a time, from 0.0."""
    out = np.zeros((h.shape[0], w.shape[1]), np.float32)
    for b in range(h.shape[0]):
        for n in range(w.shape[1]):
            acc = np.float32(0)
            for k in range(h.shape[1]):
                acc = np.float32(acc + np.float32(h[b, k] * w[k, n]))
            out[b, n] = acc
    return out


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 40, 1), (3, 33, 1), (1, 1, 5), (1, 37, 2), (2, 48, 12),
                                   (4, 9, 3)])
def test_sequential_matvec_sums_in_order(shape):
    rng = np.random.default_rng(sum(shape))
    batch, depth, cols = shape
    # wide magnitude range: a different summation order would round differently
    h = (rng.standard_normal((batch, depth)) * 10.0 ** rng.integers(-3, 4, (batch, depth))).astype(np.float32)
    w = rng.standard_normal((depth, cols)).astype(np.float32)
    assert sequential_matvec(h, w).tobytes() == loop_matvec(h, w).tobytes()


def test_sequential_matvec_in_chunks(monkeypatch):
    monkeypatch.setattr(cell_arithmetic, "_CHUNK_ELEMENTS", 20)
    rng = np.random.default_rng(1)
    h = (rng.standard_normal((2, 23)) * 100).astype(np.float32)
    w = rng.standard_normal((23, 4)).astype(np.float32)
    out = np.empty((2, 4), np.float32)
    sequential_matvec(h, w, out)
    assert out.tobytes() == loop_matvec(h, w).tobytes()


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
