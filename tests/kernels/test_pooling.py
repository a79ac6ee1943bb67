"""AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D: hand-checked cases, a numpy reference, LiteRT."""
import numpy as np
import pytest

from edgelite.kernels.base import KernelError
from edgelite.kernels.conv import PADDING_SAME as SAME, PADDING_VALID as VALID, window_plan
from edgelite.kernels.testing import run_op, run_op_litert


def pool_opts(k, s, padding=SAME, act=0):
    return dict(padding=padding, filter_height=k[0], filter_width=k[1], stride_h=s[0], stride_w=s[1],
                fused_activation_function=act)


def reference_pool(x, kind, k, s, padding):
    """Per output pixel: reduce the in-bounds part of its window."""
    n, h, w, c = x.shape
    plan = window_plan(h, w, k[0], k[1], s[0], s[1], 1, 1, padding)
    out = np.zeros((n, plan.out_h, plan.out_w, c))
    for oy in range(plan.out_h):
        for ox in range(plan.out_w):
            y0, x0 = oy * s[0] - plan.pad_top, ox * s[1] - plan.pad_left
            win = x[:, max(y0, 0):min(y0 + k[0], h), max(x0, 0):min(x0 + k[1], w)].astype(np.float64)
            win = win.reshape(n, -1, c)
            if kind == "MAX_POOL_2D":
                out[:, oy, ox] = win.max(axis=1)
            elif kind == "AVERAGE_POOL_2D":
                out[:, oy, ox] = win.mean(axis=1)
            else:
                out[:, oy, ox] = np.sqrt((win ** 2).mean(axis=1))
    return out


def close(a, b, tol=1e-5):
    return a.shape == b.shape and np.abs(np.asarray(a, np.float64) - b).max() <= tol * max(1.0, float(np.abs(b).max()))


def test_average_pool_divides_by_in_bounds_count():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    y = run_op("AVERAGE_POOL_2D", [x], pool_opts((2, 2), (2, 2), SAME))[0]
    # windows: {1,2,4,5}, {3,6}, {7,8}, {9}: padding never counts
    assert y[0, :, :, 0].tolist() == [[3.0, 4.5], [7.5, 9.0]]


def test_max_pool_padding_never_wins_and_activation_clamps():
    x = -np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    y = run_op("MAX_POOL_2D", [x], pool_opts((2, 2), (2, 2), SAME))[0]
    assert y[0, :, :, 0].tolist() == [[-1, -3], [-7, -9]]
    y = run_op("MAX_POOL_2D", [x], pool_opts((2, 2), (2, 2), SAME, act=2))[0]  # RELU_N1_TO_1
    assert y[0, :, :, 0].tolist() == [[-1, -1], [-1, -1]]


def test_l2_pool_hand_checked():
    x = np.array([3, 4, 0, 0], np.float32).reshape(1, 2, 2, 1)
    y = run_op("L2_POOL_2D", [x], pool_opts((2, 2), (1, 1), VALID))[0]
    assert y.reshape(-1).tolist() == [pytest.approx(np.sqrt(25 / 4))]


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("k,s,padding", [((2, 2), (2, 2), VALID), ((3, 3), (2, 2), SAME), ((3, 2), (1, 3), SAME),
                                         ((4, 5), (3, 2), VALID), ((7, 7), (1, 1), VALID)])
def test_pool_matches_reference(kind, k, s, padding):
    rng = np.random.default_rng(sum(k) + sum(s))
    x = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
    y = run_op(kind, [x], pool_opts(k, s, padding))[0]
    assert close(y, reference_pool(x, kind, k, s, padding))


def test_pool_empty_batch_and_errors():
    y = run_op("MAX_POOL_2D", [np.zeros((0, 4, 4, 2), np.float32)], pool_opts((2, 2), (2, 2)))[0]
    assert y.shape == (0, 2, 2, 2)
    with pytest.raises(KernelError, match="4-D"):
        run_op("AVERAGE_POOL_2D", [np.zeros((4, 4), np.float32)], pool_opts((2, 2), (2, 2)))
    with pytest.raises(KernelError, match="stride_h must be >= 1"):
        run_op("AVERAGE_POOL_2D", [np.zeros((1, 4, 4, 1), np.float32)], pool_opts((2, 2), (0, 1)))


POOL_CASES = [((1, 17, 19, 4), (3, 3), (2, 2), SAME, 0), ((2, 9, 11, 4), (2, 2), (2, 2), VALID, 1),
              ((1, 1, 4000, 3), (1, 4), (1, 4), SAME, 0), ((1, 10, 10, 2), (4, 5), (3, 2), SAME, 3),
              ((1, 7, 7, 8), (7, 7), (1, 1), VALID, 0), ((1, 6, 8, 2), (3, 2), (1, 3), VALID, 2)]


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_litert(kind, case):
    pytest.importorskip("ai_edge_litert")
    shape, k, s, padding, act = case
    rng = np.random.default_rng(abs(hash(case)) % 2**32)
    x = rng.standard_normal(shape).astype(np.float32)
    opts = pool_opts(k, s, padding, act)
    got = run_op(kind, [x], opts)[0]
    want = run_op_litert(kind, [x], opts)[0]
    assert close(got, want)


@pytest.mark.parametrize("kind", ["MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D"])
@pytest.mark.parametrize("k,s", [((40, 3), (1, 1)), ((5, 100), (2, 3)), ((16_318_467, 3), (1, 1)),
                                 ((2**31 - 1, 2**31 - 1), (3, 2))])
def test_pool_window_longer_than_the_padded_axis(kind, k, s):
    """A SAME window that covers the whole axis everywhere is planned compactly (a hostile file's
    16-million-row filter asked for gigabytes of padding): same results, small buffers."""
    from edgelite.kernels.pooling import pool_plan
    x = np.random.default_rng(1).standard_normal((1, 7, 9, 2)).astype(np.float32)
    plan = pool_plan(7, 9, pool_opts(k, s))
    assert plan.padded_h <= 3 * 7 and plan.padded_w <= 3 * 9
    got = run_op(kind, [x], options=pool_opts(k, s))[0]
    np.testing.assert_allclose(got, reference_pool(x, kind, k, s, SAME), rtol=1e-6, atol=1e-6)


def test_quantized_pool_window_longer_than_the_padded_axis():
    from edgelite.kernels.pooling import pool_plan
    plan = pool_plan(5, 5, pool_opts((1 << 24, 1 << 24), (1, 1)))
    assert (plan.k_h, plan.pad_top, plan.pad_bottom) == (9, 4, 4)
    assert plan.valid_counts().min() == 25
