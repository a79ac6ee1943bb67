"""The compiled tier's AVX-512F float32 DEPTHWISE_CONV_2D (``_compiled_depthwise_float``): through
the interpreter against the reference tier bit for bit on random geometries (strides 1-2, 3x3 /
5x5 and other kernels, dilation 1-2, SAME / VALID, 1..70 channels (multiples of 16: the in-place
rows), batch 2, bias / no bias, every fused activation), with special values (inf, -inf, -0.0;
and NaN: see :func:`test_nan_inputs`), checking that the new path ran; and the AVX2 block
steps against the AVX-512 ones. Skipped where the CPU lacks AVX-512F."""
import os

import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, run_from_calls  # noqa: E402

from edgelite.kernels.fast import depthwise as fast_depthwise  # noqa: E402

pytestmark = pytest.mark.fast


def _require_simd():
    if os.environ.get("EDGELITE_FAST_DW_SIMD", "").strip() == "0":
        pytest.skip("EDGELITE_FAST_DW_SIMD=0: _compiled.depthwise_float runs")
    from edgelite.kernels.fast.loader import compiled_module
    if not compiled_module("_compiled_depthwise_float").simd_available():
        pytest.skip("the CPU has no AVX-512F (or numba does not compile for the host): "
                    "_compiled.depthwise_float runs")


@pytest.fixture
def simd_calls(monkeypatch):
    """The names of the compiled functions the float depthwise kernel ran through ``run_from``."""
    return run_from_calls(monkeypatch, fast_depthwise)


def _random_case(rng, seed, specials=()):
    c = int(rng.choice([1, 5, 15, 16, 17, 32, 33, 48, 64, 70]))
    kh, kw = [(3, 3), (5, 5), (3, 3), (5, 5), (1, 1), (2, 3), (3, 4), (7, 5)][seed % 8]
    dh, dw = (1, 1) if seed % 5 else (2, 2)
    s = int(rng.integers(1, 3))
    opts = dict(stride_h=s, stride_w=s, dilation_h_factor=dh, dilation_w_factor=dw,
                padding=int(rng.integers(0, 2)), depth_multiplier=1,
                fused_activation_function=int(rng.choice([0, 1, 2, 3])))
    h = int(rng.integers((kh - 1) * dh + 1, 16))
    w = int(rng.integers((kw - 1) * dw + 1, 16))
    x = rng.standard_normal((2, h, w, c)).astype(np.float32) * 3
    wt = rng.standard_normal((1, kh, kw, c)).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32) if seed % 3 else None
    if specials:
        values = np.array(specials, np.float32)
        for arr in (x, wt):
            flat = arr.reshape(-1)
            idx = rng.integers(0, flat.size, max(1, flat.size // 40))
            flat[idx] = rng.choice(values, idx.size)
    return [x, wt, b], opts


@pytest.mark.parametrize("seed", range(24))
def test_simd_float_depthwise_bit_exact(monkeypatch, simd_calls, seed):
    _require_simd()
    rng = np.random.default_rng(700 + seed)
    inputs, opts = _random_case(rng, seed, specials=(np.inf, -np.inf, -0.0) if seed % 2 else ())
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, constant_inputs=(1, 2))
    assert_same_bits(ref, got)
    assert simd_calls == ["depthwise_float_simd"]


@pytest.mark.parametrize("seed", range(8))
def test_nan_inputs(monkeypatch, simd_calls, seed):
    """NaN in inputs and weights: every non-NaN output has the reference's bits and the NaNs are
    at the same places. The sign of a NaN made from two NaN operands (an input's +NaN meeting
    the -NaN of ``inf * 0``) is the one thing not compared: numpy's own loops (the reference)
    return one operand's in their vector body and the other's in their tail."""
    _require_simd()
    rng = np.random.default_rng(900 + seed)
    inputs, opts = _random_case(rng, seed, specials=(np.inf, -np.inf, np.nan, -0.0))
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, constant_inputs=(1, 2))
    r, g = ref[0], got[0]
    assert r.shape == g.shape and r.dtype == g.dtype
    nan = np.isnan(r)
    assert np.array_equal(nan, np.isnan(g))
    assert r[~nan].tobytes() == g[~nan].tobytes()
    assert simd_calls == ["depthwise_float_simd"]


def test_non_constant_bias_and_weights(monkeypatch, simd_calls):
    """Weights and bias as runtime inputs: packed on every call, the same bits."""
    _require_simd()
    rng = np.random.default_rng(11)
    inputs, opts = _random_case(rng, 1)
    inputs[2] = rng.standard_normal(inputs[1].shape[3]).astype(np.float32)
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, constant_inputs=())
    assert_same_bits(ref, got)
    assert simd_calls == ["depthwise_float_simd"]


def test_switch_keeps_the_numba_loops(monkeypatch, simd_calls):
    _require_simd()
    rng = np.random.default_rng(9)
    inputs, opts = _random_case(rng, 0)
    monkeypatch.setenv("EDGELITE_FAST_DW_SIMD", "0")
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, constant_inputs=(1, 2))
    assert_same_bits(ref, got)
    assert simd_calls == []


def test_parallel_twin_bands_equal_serial():
    """The parallel twin splits the output rows into bands (each with its own ring)."""
    _require_simd()
    from edgelite.kernels.fast.loader import compiled_module
    mod = compiled_module("_compiled_depthwise_float")
    rng = np.random.default_rng(4)
    for c in (20, 32):
        x = rng.standard_normal((2, 13, 11, c)).astype(np.float32)
        wt = rng.standard_normal((3, 3, c)).astype(np.float32)
        cpad = mod.padded_channels(c)
        cols, rows = mod.tap_offsets(3, 3, 1, 1, cpad)
        span, wp = mod.ring_shape(3, 3, 1, 1, 1, 11)
        init = mod.padded_init(rng.standard_normal(c).astype(np.float32))
        outs = []
        for fn, threads in ((mod.depthwise_float_simd, 1), (mod.depthwise_float_simd, 3),
                            (mod.depthwise_float_simd_parallel, 2)):
            out = np.empty((2, 7, 11, c), np.float32)
            fn(x, mod.pack_weights(wt), wt, cols, rows, init, np.float32(0), np.float32(6), out, span, wp,
               2, 1, 1, 1, 1, 1, threads)
            outs.append(out.tobytes())
        assert outs[0] == outs[1] == outs[2]


@pytest.mark.parametrize("seed", range(12))
def test_avx2_block_steps_give_the_avx512_bits(seed):
    """The AVX2 block steps (two 8-lane halves per 16 channels, 4 pixels a step; CPUs without
    AVX-512F, or ``EDGELITE_FAST_ISA=avx2``) run the same IEEE operations in the same order
    lane by lane: the same bytes as the AVX-512 ones (checked against the reference above),
    NaNs included, on strides, dilations, channel tails and both row paths."""
    from edgelite.kernels.fast.isa import runs_here
    from edgelite.kernels.fast.loader import compiled_module
    if not runs_here("avx512f"):
        pytest.skip("the CPU has no AVX-512F: nothing to compare the AVX2 block steps with here")
    mod = compiled_module("_compiled_depthwise_float")
    rng = np.random.default_rng(1300 + seed)
    (x, wt, b), opts = _random_case(rng, seed, specials=(np.inf, -np.inf, np.nan, -0.0) if seed % 3 == 0 else ())
    kh, kw, c = wt.shape[1], wt.shape[2], wt.shape[3]
    sh = sw = opts["stride_h"]
    dh, dw = opts["dilation_h_factor"], opts["dilation_w_factor"]
    n, h, w = x.shape[:3]
    if opts["padding"]:  # SAME
        oh, ow = -(-h // sh), -(-w // sw)
        pt = max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h) // 2
        pl = max(0, (ow - 1) * sw + (kw - 1) * dw + 1 - w) // 2
    else:
        oh, ow, pt, pl = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1, 0, 0
    w3 = np.ascontiguousarray(wt[0])
    cpad = mod.padded_channels(c)
    cols, rows = mod.tap_offsets(kh, kw, dh, dw, cpad)
    span, wp = mod.ring_shape(kh, kw, dh, dw, sw, ow)
    init = mod.padded_init(b if b is not None else np.full(c, -0.0, np.float32))
    outs = []
    for isa in ("avx512", "avx2"):
        out = np.empty((n, oh, ow, c), np.float32)
        mod.KERNELS[isa][0](x, mod.pack_weights(w3), w3, cols, rows, init, np.float32(-np.inf),
                            np.float32(np.inf), out, span, wp, sh, sw, dh, dw, pt, pl, 1)
        outs.append(out)
    assert outs[0].tobytes() == outs[1].tobytes()
