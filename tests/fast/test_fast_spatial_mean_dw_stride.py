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


@pytest.mark.parametrize("seed", range(16))
def test_quantized_depthwise_column_stride_rows_bit_exact(monkeypatch, seed):
    """3- and 5-tap kernel rows with column stride 2 or 3 (EfficientNet's downsampling
    depthwise layers): the inner pixels take a row's taps at once, the border tap by tap."""
    rng = np.random.default_rng(900 + seed)
    dtype = np.int8 if seed % 4 else np.uint8
    kw = 3 if seed % 2 else 5
    kh = int(rng.choice([1, 3, 5]))
    dw = 2 if seed % 5 == 0 else 1
    c = int(rng.choice([1, 3, 8, 16, 19]))
    opts = dict(stride_h=int(rng.integers(1, 3)), stride_w=2 if seed % 3 else 3, dilation_h_factor=1,
                dilation_w_factor=dw, padding=int(seed % 2 == 0 or seed % 7 == 0), depth_multiplier=1,
                fused_activation_function=int(rng.choice([0, 1, 3])))
    shape = (int(rng.integers(1, 3)), int(rng.integers(kh, 16)), int(rng.integers((kw - 1) * dw + 1, 24)), c)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    wshape = (1, kh, kw, c)
    if dtype == np.int8:
        w = rng.integers(-127, 128, wshape).astype(np.int8)
        w_scale = rng.uniform(1e-3, 1e-2, c)
        qw, x_zp = quant(w_scale, 0, 3), int(rng.integers(-20, 20))
    else:
        w = rng.integers(0, 256, wshape).astype(np.uint8)
        w_scale = np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, 120), 128
    x_scale = 2.0 ** -int(rng.integers(3, 7)) if seed % 2 else float(rng.uniform(0.01, 0.1))
    b = rng.integers(-3000, 3000, c).astype(np.int32)
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    qin = quant(x_scale, x_zp)
    qout = quant(float(rng.uniform(0.05, 0.3)), int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0))
    kw_ = dict(input_quant=[qin, qw, qb], output_quant=[qout])
    assert picked("DEPTHWISE_CONV_2D", [x, w, b], opts, **kw_).__name__ == "FastQuantizedDepthwiseConv2D"
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", [x, w, b], opts, constant_inputs=(1, 2), **kw_)
    assert_same_bits(ref, got)
