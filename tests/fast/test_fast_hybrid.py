"""Compiled hybrid (dynamic-range) CONV_2D and DEPTHWISE_CONV_2D: the same bits as the
reference kernels (``kernels.hybrid``) on random geometries, per-channel and per-tensor
weight scales, every fused activation, batches, constant and one-signed inputs."""
import numpy as np
import pytest

pytest.importorskip("numba")

from edgelite.ir import Quantization  # noqa: E402
from edgelite.kernels.base import Node, lookup  # noqa: E402
from edgelite.kernels.testing import single_op_model  # noqa: E402

from test_fast_tier import assert_same_bits, both  # noqa: E402

pytestmark = pytest.mark.fast


def picked_name(opcode, inputs, options, **kw) -> str:
    model = single_op_model(opcode, inputs, options, **kw)
    sg = model.main
    return lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__name__


def weight_quant(rng, channels: int, per_channel: bool, dim: int) -> Quantization:
    scale = rng.uniform(1e-3, 2e-2, channels if per_channel else 1).astype(np.float32)
    return Quantization(scale=scale, zero_point=np.zeros(scale.shape, np.int64), quantized_dimension=dim)


def random_input(rng, shape, seed: int) -> np.ndarray:
    x = (rng.standard_normal(shape) * rng.uniform(0.1, 4)).astype(np.float32)
    kind = seed % 5
    if kind == 1:    # one sign: the asymmetric range pins one end at 0
        x = np.abs(x)
    elif kind == 2:
        x = -np.abs(x)
    elif kind == 3:  # ties of the rounding: range [-128, 127] (scale 1), halves; another item all zero
        x = np.clip(np.round(x * 8) / 2, -128, 127).astype(np.float32)
        x[..., 0, 0, 0], x[..., 0, 0, -1] = -128, 127
        if x.shape[0] > 1:
            x[1] = 0
    return x


def random_window(rng, seed: int):
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    if seed % 4 == 0:
        kh = kw = 1
    dh, dw = (int(v) for v in rng.integers(1, 3, 2))
    opts = dict(stride_h=int(rng.integers(1, 3)), stride_w=int(rng.integers(1, 3)), dilation_h_factor=dh,
                dilation_w_factor=dw, padding=int(rng.integers(0, 2)),
                fused_activation_function=int(rng.choice([0, 1, 2, 3, 4, 6])))
    if seed % 8 == 0:  # the pointwise fast path
        opts.update(stride_h=1, stride_w=1)
    n = 2 if seed % 3 == 0 else 1
    shape = (n, int(rng.integers(kh * dh, 12)), int(rng.integers(kw * dw, 12)), int(rng.integers(1, 24)))
    return shape, kh, kw, opts


@pytest.mark.parametrize("int_gemm", [True, False], ids=["int8-gemm-tile", "float32-blas"])
@pytest.mark.parametrize("seed", range(16))
def test_hybrid_conv_bit_exact(monkeypatch, seed, int_gemm):
    """Both GEMM paths: the int8 tile (VNNI or AVX2, where the host has one) and the exact float32 BLAS one."""
    if not int_gemm:
        from edgelite.kernels.fast import epilogue
        monkeypatch.setattr(epilogue, "_int_gemm_host", False)
    rng = np.random.default_rng(600 + seed)
    shape, kh, kw, opts = random_window(rng, seed)
    o = int(rng.integers(1, 20))
    x = random_input(rng, shape, seed)
    w = rng.integers(-127, 128, (o, kh, kw, shape[3])).astype(np.int8)
    per_channel = seed % 2 == 0
    b = rng.standard_normal(o).astype(np.float32) if seed % 5 else None
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, o, per_channel, 0), None],
               output_dtypes=[np.float32])
    assert picked_name("CONV_2D", [x, w, b], opts, **kw_) == "FastHybridConv2D"
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, **kw_)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("seed", range(16))
def test_hybrid_depthwise_bit_exact(monkeypatch, seed):
    rng = np.random.default_rng(700 + seed)
    shape, kh, kw, opts = random_window(rng, seed)
    mult = int(rng.choice([1, 1, 2, 3]))
    opts["depth_multiplier"] = mult
    oc = shape[3] * mult
    x = random_input(rng, shape, seed)
    w = rng.integers(-128, 128, (1, kh, kw, oc)).astype(np.int8)
    b = rng.standard_normal(oc).astype(np.float32) if seed % 5 else None
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, oc, seed % 2 == 0, 3), None],
               output_dtypes=[np.float32])
    assert picked_name("DEPTHWISE_CONV_2D", [x, w, b], opts, **kw_) == "FastHybridDepthwiseConv2D"
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", [x, w, b], opts, **kw_)
    assert_same_bits(ref, got)


def test_hybrid_conv_deep_product(monkeypatch):
    """Depth >= 1024: the exact chunked GEMM (int64 accumulators) feeds the compiled epilogue."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 3, 3, 1100)).astype(np.float32)
    w = rng.integers(-127, 128, (5, 1, 1, 1100)).astype(np.int8)
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, 5, True, 0), None],
               output_dtypes=[np.float32])
    ref, got = both(monkeypatch, "CONV_2D", [x, w, None], {"padding": 1, "stride_h": 1, "stride_w": 1}, **kw_)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("opcode", ["CONV_2D", "DEPTHWISE_CONV_2D"])
def test_hybrid_non_finite_input_runs_the_reference(monkeypatch, opcode):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 4, 4, 3)).astype(np.float32)
    x[0, 1, 1, 1] = np.inf
    shape = (2, 3, 3, 3) if opcode == "CONV_2D" else (1, 3, 3, 3)
    w = rng.integers(-127, 128, shape).astype(np.int8)
    dim = 0 if opcode == "CONV_2D" else 3
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, shape[dim], True, dim), None],
               output_dtypes=[np.float32])
    opts = {"padding": 0, "stride_h": 1, "stride_w": 1}
    if opcode == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    with np.errstate(invalid="ignore", over="ignore"):
        ref, got = both(monkeypatch, opcode, [x, w, None], opts, **kw_)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("asymmetric", [False, True])
def test_row_quantization_matches_the_reference(asymmetric):
    """The compiled per-row scalars and quantized values equal hybrid.py's, row by row: wide and
    narrow ranges, one-signed rows, constant rows, zero rows, tiny and huge magnitudes."""
    from edgelite.kernels.fast import hybrid_conv, loader
    from edgelite.kernels.hybrid import asymmetric_quantize_rows, symmetric_quantize_rows
    rng = np.random.default_rng(5)
    rows = (rng.standard_normal((64, 50)) * 10.0 ** rng.uniform(-30, 30, (64, 1))).astype(np.float32)
    rows[1::4] = np.abs(rows[1::4])
    rows[2::8] = -np.abs(rows[2::8])
    rows[3], rows[5] = 0, np.float32(2.5)
    rows[7] = np.round(rows[7] * 4) / 2
    rows[7, :2] = -128, 127
    kernel = type("K", (), {})()
    inv, zp, zeroed, sf, lo, hi = hybrid_conv.row_quantization(kernel, rows, asymmetric)
    q = np.empty_like(rows)
    loader.compiled_module("_compiled_hybrid").quantize_rows(rows, inv, zp, zeroed, lo, hi,
                                                            np.zeros(len(rows), np.int64), q)
    if asymmetric:
        ref_q, ref_sf, ref_zp = asymmetric_quantize_rows(rows)
        assert np.array_equal(zp, ref_zp)
    else:
        ref_q, ref_sf = symmetric_quantize_rows(rows)
    assert sf.tobytes() == ref_sf.tobytes()
    # equal values (the reference's symmetric q keeps a -0.0 for small negatives: the same integer)
    assert np.array_equal(q, ref_q)


@pytest.mark.parametrize("seed", range(12))
def test_hybrid_fully_connected_bit_exact(monkeypatch, seed):
    """Hybrid FULLY_CONNECTED on the VNNI tile (kernels/fast/hybrid_fc.py): the reference's bits
    for symmetric and asymmetric rows, per-channel and per-tensor scales, depths past 1023 (where
    the reference sums in float64 chunks), several rows, every fused activation, no bias."""
    from edgelite.kernels.fast import epilogue
    if not epilogue.int_gemm_host():
        pytest.skip("no integer GEMM tile (AVX-512 VNNI or AVX2) on this host: the hybrid FULLY_CONNECTED runs "
                    "the reference")
    rng = np.random.default_rng(1500 + seed)
    k = int(rng.choice([1, 7, 64, 300, 1280, 2049]))
    o, rows = int(rng.integers(1, 40)), int(rng.choice([1, 1, 3, 17]))
    x = random_input(rng, (rows, 1, 1, k), seed).reshape(rows, k)
    w = rng.integers(-127, 128, (o, k)).astype(np.int8)
    b = rng.standard_normal(o).astype(np.float32) if seed % 4 else None
    opts = {"fused_activation_function": int(rng.choice([0, 1, 2, 3, 4, 6])), "weights_format": 0,
            "keep_num_dims": False, "asymmetric_quantize_inputs": bool(seed % 2)}
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, o, seed % 3 == 0, 0), None],
               output_dtypes=[np.float32])
    assert picked_name("FULLY_CONNECTED", [x, w, b], opts, **kw_) == "FastHybridFullyConnected"
    with np.errstate(over="ignore"):
        ref, got = both(monkeypatch, "FULLY_CONNECTED", [x, w, b], opts, **kw_)
    assert_same_bits(ref, got)


def test_hybrid_fully_connected_non_finite_row_runs_the_reference(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 10)).astype(np.float32)
    x[1, 3] = np.nan
    w = rng.integers(-127, 128, (4, 10)).astype(np.int8)
    kw_ = dict(constant_inputs=(1, 2), input_quant=[None, weight_quant(rng, 4, False, 0), None],
               output_dtypes=[np.float32])
    opts = {"fused_activation_function": 0, "asymmetric_quantize_inputs": True}
    with np.errstate(invalid="ignore"):
        ref, got = both(monkeypatch, "FULLY_CONNECTED", [x, w, None], opts, **kw_)
    assert_same_bits(ref, got)
