"""Compiled float32 spatial MEAN (axes {1, 2} of NHWC, kernels/fast/_compiled_mean.py) and the
int8 DEPTHWISE_CONV_2D row path for column strides above 1 (kernels/fast/_compiled.py): the
reference tier's bits on random cases."""
import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, picked, quant  # noqa: E402

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("seed", range(10))
def test_float_spatial_mean_bit_exact(monkeypatch, seed):
    rng = np.random.default_rng(700 + seed)
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 30)), int(rng.integers(1, 30)),
             int(rng.choice([2, 3, 5, 16, 17, 96])))
    x = (rng.standard_normal(shape) * float(rng.choice([1e-3, 1.0, 1e3]))).astype(np.float32)
    if seed == 3:  # a channel of negative zeros: the running sum starts from +0.0 as the reference's
        x[..., 0] = -0.0
    axes = np.array([2, 1] if seed == 4 else [1, 2], np.int32)
    opts = {"keep_dims": bool(seed % 2)}
    kernel = picked("MEAN", [x, axes], opts)
    assert kernel.__name__ == "FastMean"
    ref, got = both(monkeypatch, "MEAN", [x, axes], opts, constant_inputs=(1,))
    assert_same_bits(ref, got)


def test_single_channel_spatial_mean_stays_exact(monkeypatch):
    """One channel: the reference's numpy reduction sums pairwise; the kernel falls back to it."""
    x = np.random.default_rng(1).standard_normal((1, 37, 29, 1)).astype(np.float32)
    ref, got = both(monkeypatch, "MEAN", [x, np.array([1, 2], np.int32)], {"keep_dims": True},
                    constant_inputs=(1,))
    assert_same_bits(ref, got)
