"""The compiled tier's AVX-512 VNNI / AVX2 int8/uint8 DEPTHWISE_CONV_2D (``_compiled_depthwise``): its
int32 window sums against an int64 numpy computation (extreme values, channel tails, strides,
odd and even kernel widths), and through the interpreter against the reference tier bit for
bit on random geometries (strides 1-3, 3x3 / 5x5 and other kernels, SAME / VALID, 1..70
channels (multiples of 16: the requantization inside the block steps), batch 2, int8 and uint8 inputs, per-channel and per-tensor weights, every fused
activation), checking that the SIMD path ran. The direct kernel cases run both ISAs' block
steps where the CPU can (AVX-512 hosts run the AVX2 ones too); skipped where it has neither."""
import os

import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, quant, run_from_calls  # noqa: E402

from edgelite.kernels.fast import depthwise as fast_depthwise  # noqa: E402

pytestmark = pytest.mark.fast


def _simd_module():
    from edgelite.kernels.fast.loader import compiled_module
    if os.environ.get("EDGELITE_FAST_DW_SIMD", "").strip() == "0":
        pytest.skip("EDGELITE_FAST_DW_SIMD=0: _compiled.depthwise_int runs")
    mod = compiled_module("_compiled_depthwise")
    if not mod.simd_available():
        pytest.skip("the CPU has neither AVX-512 VNNI nor AVX2 (or EDGELITE_FAST_INT_GEMM=0): "
                    "_compiled.depthwise_int runs")
    return mod


ISAS = ["vnni", "avx2"]


def _block_steps(isa):
    """(module, depthwise_int_simd, its parallel twin, depthwise_sums_simd) over one ISA's block
    steps, skipped where the CPU cannot run them."""
    from edgelite.kernels.fast.loader import compiled_module
    if not compiled_module("_compiled_gemm").tiles_run_here(isa):
        pytest.skip(f"the CPU cannot run the {isa} block steps")
    mod = compiled_module("_compiled_depthwise")
    return (mod, *mod.KERNELS[isa])


def _same_padding(size, k, s):
    out = -(-size // s)
    total = max(0, (out - 1) * s + k - size)
    return out, total // 2, total - total // 2


def _reference_sums(x, wc, zp, k_h, k_w, s_h, s_w, oh, ow, pt, pl):
    n, h, w, c = x.shape
    xp = np.zeros((n, pt + h + k_h + s_h * oh, pl + w + k_w + s_w * ow, c), np.int64)
    xp[:, pt:pt + h, pl:pl + w] = x.astype(np.int64) - zp
    acc = np.zeros((n, oh, ow, c), np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            acc += xp[:, ky:ky + s_h * oh:s_h, kx:kx + s_w * ow:s_w][:, :oh, :ow] * wc[ky, kx]
    return acc


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("case", range(10))
def test_window_sums_equal_int64(case, isa):
    mod, _, _, depthwise_sums_simd = _block_steps(isa)
    rng = np.random.default_rng(case)
    k_h, k_w = [(3, 3), (5, 5), (1, 1), (2, 3), (3, 4), (7, 5), (1, 6), (3, 3), (5, 5), (4, 1)][case]
    s_h, s_w = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    c = int(rng.choice([1, 15, 16, 17, 33, 70]))
    h, w = int(rng.integers(k_h, 12)), int(rng.integers(k_w, 12))
    unsigned = case % 2 == 1
    x = rng.integers(0, 256, (2, h, w, c)).astype(np.uint8) if unsigned else \
        rng.integers(-128, 128, (2, h, w, c)).astype(np.int8)
    zp = np.int32(255 if unsigned and case % 4 == 1 else (-128 if not unsigned and case % 4 == 0 else 3))
    wc = rng.integers(-255, 256, (k_h, k_w, c)).astype(np.int32)
    x.reshape(-1)[::5] = 0 if unsigned else -128  # the extreme products
    wc.reshape(-1)[::3] = 255
    if case % 3:
        oh, pt, _ = _same_padding(h, k_h, s_h)
        ow, pl, _ = _same_padding(w, k_w, s_w)
    else:
        oh, ow, pt, pl = (h - k_h) // s_h + 1, (w - k_w) // s_w + 1, 0, 0
    geom = (k_h, k_w, s_h, s_w, 1, 1, pt, 0, pl, 0, oh, ow)
    _, wq, cpad = mod.pair_image_shape(geom, c)
    cols, rows = mod.pair_steps(k_h, k_w, s_w, cpad)
    acc = np.full((2, oh, ow, cpad), 12345, np.int32)
    depthwise_sums_simd(x, mod.pack_pair_weights(wc), cols, rows, zp, acc, k_h, wq, s_h, s_w, pt, pl)
    assert np.array_equal(acc[..., :c], _reference_sums(x, wc, zp, k_h, k_w, s_h, s_w, oh, ow, pt, pl))
    assert not acc[..., c:].any()  # the padded channels have zero weights


KERNELS = [(3, 3), (5, 5), (3, 3), (5, 5), (1, 1), (2, 2), (3, 5), (7, 7), (4, 3), (1, 3)]


def _random_case(rng, seed, dtype):
    k_h, k_w = KERNELS[seed % len(KERNELS)]
    # even seeds: channels a multiple of 16 (the requantization inside the block steps)
    c = int(rng.choice([16, 32, 48, 64])) if seed % 2 == 0 else int(rng.integers(1, 71))
    opts = dict(stride_h=int(rng.choice([1, 2, 2, 3])), stride_w=int(rng.choice([1, 2, 2, 3])),
                dilation_h_factor=1, dilation_w_factor=1, padding=int(rng.integers(0, 2)), depth_multiplier=1,
                fused_activation_function=int(seed % 4))
    shape = (2, int(rng.integers(k_h, 16)), int(rng.integers(k_w, 16)), c)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max + 1
    x = rng.integers(lo, hi, shape).astype(dtype)
    if dtype == np.int8:
        w = rng.integers(-127, 128, (1, k_h, k_w, c)).astype(np.int8)
        w_scale = rng.uniform(1e-3, 1e-2, c) if seed % 3 else np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, 0, 3), int(rng.integers(-128, 128))
    else:
        w = rng.integers(0, 256, (1, k_h, k_w, c)).astype(np.uint8)
        w_scale = np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, int(rng.integers(0, 256))), int(rng.integers(0, 256))
    x_scale = 2.0 ** -int(rng.integers(3, 7)) if seed % 2 else float(rng.uniform(0.01, 0.1))
    b = rng.integers(-3000, 3000, c).astype(np.int32)
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    out_zp = int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0)
    qin, qout = quant(x_scale, x_zp), quant(float(rng.uniform(0.05, 0.3)), out_zp)
    return [x, w, b], opts, dict(constant_inputs=(1, 2), input_quant=[qin, qw, qb], output_quant=[qout])


@pytest.fixture
def simd_calls(monkeypatch):
    """The names of the compiled functions the int8 depthwise kernel ran through ``run_from``."""
    return run_from_calls(monkeypatch, fast_depthwise)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_simd_depthwise_bit_exact(monkeypatch, simd_calls, seed, dtype):
    _simd_module()
    rng = np.random.default_rng(500 + seed)
    inputs, opts, kw = _random_case(rng, seed, dtype)
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, **kw)
    assert_same_bits(ref, got)
    assert simd_calls == ["depthwise_int_simd"]


def test_switch_keeps_the_numba_loops(monkeypatch, simd_calls):
    _simd_module()
    rng = np.random.default_rng(9)
    inputs, opts, kw = _random_case(rng, 0, np.int8)
    monkeypatch.setenv("EDGELITE_FAST_DW_SIMD", "0")
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", inputs, opts, **kw)
    assert_same_bits(ref, got)
    assert simd_calls == []


@pytest.mark.parametrize("isa", ISAS)
def test_parallel_twin_bands_equal_serial(isa):
    """The parallel twin splits the output rows into bands, each with its own ring of pair rows."""
    mod, serial, parallel, _ = _block_steps(isa)
    rng = np.random.default_rng(4)
    x = rng.integers(-128, 128, (2, 13, 11, 20)).astype(np.int8)
    wc = rng.integers(-127, 128, (3, 3, 20)).astype(np.int32)
    oh, pt, _ = _same_padding(13, 3, 2)
    ow, pl, _ = _same_padding(11, 3, 1)
    geom = (3, 3, 2, 1, 1, 1, pt, 0, pl, 0, oh, ow)
    _, wq, cpad = mod.pair_image_shape(geom, 20)
    cols, rows = mod.pair_steps(3, 3, 1, cpad)
    c = 20
    bias = rng.integers(-500, 500, c).astype(np.int64)
    mults = rng.integers(1 << 29, 1 << 30, c).astype(np.int64)
    shifts = np.full(c, -8, np.int64)
    ties = np.arange(c) < 16  # the last 4 channels take the general requantization
    consts = np.full(c, 1 << 30, np.int64) + (np.int64(128) << 31)
    totals = np.full(c, 39, np.int64)
    rows_c = mod.merged_row_constants(bias, mults, consts, totals, 16, ow)
    outs = []
    for fn, threads in ((serial, 1), (serial, 3), (parallel, 3)):
        out = np.zeros((2, oh, ow, c), np.int8)
        fn(x, mod.pack_pair_weights(wc), cols, rows, np.int32(5), bias, mults, shifts, ties, 2, -128, 127, 16,
           consts, totals, *rows_c, mod.fused_constants(bias, mults, consts, totals, 16), out, 3, wq, 2, 1, pt, pl,
           threads)
        outs.append(out)
    assert outs[0].any() and np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("c", [16, 48])
def test_fused_requantization_equals_the_row_pass(c, isa):
    """The block steps' own requantization (channels a multiple of 16, every channel on the
    merged rounding) gives the bytes of the separate row pass."""
    mod, serial, _, _ = _block_steps(isa)
    rng = np.random.default_rng(c)
    x = rng.integers(0, 256, (2, 9, 10, c)).astype(np.uint8)
    wc = rng.integers(-255, 256, (5, 5, c)).astype(np.int32)
    oh, pt, _ = _same_padding(9, 5, 1)
    ow, pl, _ = _same_padding(10, 5, 2)
    geom = (5, 5, 1, 2, 1, 1, pt, 0, pl, 0, oh, ow)
    _, wq, cpad = mod.pair_image_shape(geom, c)
    cols, rows = mod.pair_steps(5, 5, 2, cpad)
    bias = rng.integers(-5000, 5000, c).astype(np.int64)
    mults = rng.integers(1 << 29, 1 << 31, c).astype(np.int64)
    shifts = rng.integers(-12, -6, c).astype(np.int64)
    ties = np.ones(c, np.bool_)
    consts = (np.int64(1) << 30) + ((((np.int64(1) << -shifts) >> 1) + (np.int64(130) << -shifts)) << 31)
    totals = 31 - shifts
    fused = mod.fused_constants(bias, mults, consts, totals, c)
    assert fused.shape == (c // 16, 3, 16)
    outs = []
    for rq in (fused, fused[:0]):
        out = np.zeros((2, oh, ow, c), np.uint8)
        serial(x, mod.pack_pair_weights(wc), cols, rows, np.int32(128), bias, mults, shifts, ties, 130, 0, 255, c,
               consts, totals, *mod.merged_row_constants(bias, mults, consts, totals, c, ow), rq, out, 5, wq, 1, 2,
               pt, pl, 1)
        outs.append(out)
    assert 0 < outs[0].mean() < 255 and np.array_equal(outs[0], outs[1])
