"""The compiled tier's exact 8-bit GEMM (``_compiled_gemm``: AVX-512 VNNI and AVX2 tiles) against an
int64 numpy product and, through CONV_2D / FULLY_CONNECTED, against the reference tier bit
for bit: row, channel and depth tails (M, N, K not multiples of the 4 x 32 tile or of the
4-byte depth group, odd K, K < 4), int8 and uint8 rows, per-channel and per-tensor weights,
merged and general requantization, and the float32 BLAS fallback. Skips the direct kernel
cases of a tile set the CPU cannot run (the layer cases then check the fallback); the AVX2
tiles run here too when the CPU has AVX-512, and end to end under ``EDGELITE_FAST_ISA=avx2``."""
import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, picked, quant  # noqa: E402

from edgelite.kernels.fast import epilogue  # noqa: E402

pytestmark = pytest.mark.fast


def _gemm_module():
    from edgelite.kernels.fast.loader import compiled_module
    return compiled_module("_compiled_gemm")


ISAS = ["vnni", "avx2"]


def _tiles(isa):
    """(module, pack_weights, gemm_int32, gemm_requantize, gemm_requantize_parallel) of one tile set."""
    gemm = _gemm_module()
    if not gemm.tiles_run_here(isa):
        pytest.skip(f"the CPU cannot run the {isa} tiles (or numba does not compile for the host)")
    return (gemm, *gemm.KERNELS[isa])


GEMM_SHAPES = [(1, 1, 1), (1, 3, 5), (3, 4, 16), (4, 5, 32), (5, 7, 33), (9, 13, 17), (8, 64, 48),
               (13, 27, 96), (37, 131, 50), (6, 1000, 7), (130, 16, 1)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("m,k,n", GEMM_SHAPES)
def test_int_gemm_equals_int64_product(m, k, n, dtype, isa):
    gemm, pack_weights, gemm_int32, _, _ = _tiles(isa)
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, (m, k)).astype(dtype)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    b[0, 0], a[0, 0] = -128, info.min  # the extreme products
    bp = pack_weights(b)
    assert bp.shape == ((k + 3) // 4, (n + 15) // 16 * 16, 4)
    got = np.full((m, bp.shape[1]), 12345, np.int32)
    signed = dtype == np.int8
    gemm_int32(a, bp, k, gemm.SIGNED_FLIP if signed else np.int32(0), got)
    expected = a.astype(np.int64) @ b.astype(np.int64)
    if signed:  # the tile sums (a + 128) * b
        expected += 128 * b.astype(np.int64).sum(axis=0)
    assert np.array_equal(got[:, :n], expected)
    assert not got[:, n:].any()  # the padded channels multiply zero weights


@pytest.mark.parametrize("isa", ISAS)
def test_int_gemm_rows_with_a_stride(isa):
    """Rows of a wider buffer (an im2col scratch): the tile reads only the first K values."""
    _, pack_weights, gemm_int32, _, _ = _tiles(isa)
    rng = np.random.default_rng(3)
    wide = rng.integers(0, 256, (11, 40)).astype(np.uint8)
    b = rng.integers(-128, 128, (30, 20)).astype(np.int8)
    got = np.zeros((11, 32), np.int32)
    gemm_int32(wide[:, :30], pack_weights(b), 30, np.int32(0), got)
    assert np.array_equal(got[:, :20], wide[:, :30].astype(np.int64) @ b.astype(np.int64))


@pytest.mark.parametrize("isa", ISAS)
def test_parallel_twin_matches_serial_and_the_tile_sets_agree(isa):
    gemm, pack_weights, _, serial, parallel = _tiles(isa)
    rng = np.random.default_rng(4)
    a = rng.integers(-128, 128, (1000, 45)).astype(np.int8)
    b = rng.integers(-128, 128, (45, 70)).astype(np.int8)
    n = b.shape[1]
    offset = rng.integers(-10000, 10000, n).astype(np.int64)
    mults = rng.integers(1 << 30, (1 << 31) - 1, n).astype(np.int64)
    shifts = rng.integers(-12, -6, n).astype(np.int64)
    ties = np.ones(n, np.bool_)
    from edgelite.kernels.fast.depthwise import merged_constants
    _, consts, totals = merged_constants(mults, shifts, ties, 3)
    outs = []
    for fn in (serial, parallel):
        for merged in (True, False):
            out = np.empty((1000, n), np.int8)
            fn(a, pack_weights(b), 45, gemm.SIGNED_FLIP, offset, merged, mults, shifts, ties, consts, totals,
               3, -128, 127, out)
            outs.append(out)
    assert all(np.array_equal(outs[0], o) for o in outs[1:])
    # the float32 product of the same integers (exact: |sum| < 2^24), requantized by the reference's rule
    acc = a.astype(np.int64) @ b.astype(np.int64) + 128 * b.astype(np.int64).sum(axis=0) + offset
    from edgelite.kernels.fast._compiled import requantize
    expected = np.array([[requantize(acc[r, ch], mults[ch], shifts[ch], ties[ch], 3, -128, 127) for ch in range(n)]
                         for r in range(0, 1000, 97)], np.int8)
    assert np.array_equal(outs[1][::97], expected)


def _count_int_gemm(monkeypatch):
    calls = []
    original = epilogue._FastEpilogue.int_gemm_requantize

    def counted(self, *args):
        calls.append(type(self).__name__)
        return original(self, *args)
    monkeypatch.setattr(epilogue._FastEpilogue, "int_gemm_requantize", counted)
    return calls


# (input shape, filter size, stride, padding SAME, dilation, output channels)
CONV_CASES = [((1, 9, 7, 5), 1, 1, 0, 1, 17),     # pointwise: 63 rows, K = 5 (one tail group), N = 17
              ((2, 10, 11, 3), 3, 2, 1, 1, 33),   # im2col, K = 27, 33 channels (a 16-wide tile)
              ((1, 6, 6, 16), 3, 1, 1, 2, 40),    # dilated, K = 144
              ((1, 5, 5, 2), 1, 1, 0, 1, 1),      # K = 2 (< one group), one channel
              ((1, 3, 3, 131), 1, 1, 0, 1, 64),   # M = 9, K = 131
              ((1, 1, 1, 1100), 1, 1, 0, 1, 8)]   # deep: the float path needs chunks, not this one


@pytest.mark.parametrize("variant", ["int8", "uint8", "uint8_off_zp", "left_shift"])
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv_and_fc_through_int_gemm_bit_exact(monkeypatch, case, variant):
    shape, k, stride, same, dilation, o = CONV_CASES[case]
    rng = np.random.default_rng(40 + case * 7 + len(variant))
    dtype = np.int8 if variant in ("int8", "left_shift") else np.uint8
    c = shape[3]
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    if dtype == np.int8:  # per-channel symmetric int8 weights (full range: -128 too)
        w = rng.integers(-128, 128, (o, k, k, c)).astype(np.int8)
        w_scale = rng.uniform(1e-4, 1e-3, o)
        qw, x_zp = quant(w_scale, 0, 0), int(rng.integers(-128, 128))
    else:  # legacy uint8, per-tensor zero point: 128 keeps w - zp in int8, 3 does not (float path)
        w = rng.integers(0, 256, (o, k, k, c)).astype(np.uint8)
        w_scale = np.float32(3e-4)
        qw, x_zp = quant(w_scale, 3 if variant == "uint8_off_zp" else 128), int(rng.integers(0, 256))
    x_scale = 2.0 ** -4  # a power of two: rounding ties
    b = rng.integers(-5000, 5000, o).astype(np.int32)
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    base = 128 if dtype == np.uint8 else 0
    qout = quant(2e-6 if variant == "left_shift" else float(rng.uniform(0.1, 0.6)), base + int(rng.integers(-5, 5)))
    opts = dict(stride_h=stride, stride_w=stride, padding=same, dilation_h_factor=dilation,
                dilation_w_factor=dilation, fused_activation_function=int(rng.choice([0, 1, 3])))
    kw = dict(constant_inputs=(1, 2), input_quant=[quant(x_scale, x_zp), qw, qb], output_quant=[qout])
    assert picked("CONV_2D", [x, w, b], opts, input_quant=kw["input_quant"],
                  output_quant=[qout]).__name__ == "FastQuantizedConv2D"
    calls = _count_int_gemm(monkeypatch)
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)
    # the same weights as a fully connected layer over the flattened pixels
    wf = np.ascontiguousarray(w.reshape(o, -1)[:, :c])
    ref, got = both(monkeypatch, "FULLY_CONNECTED", [x.reshape(-1, c), wf, b], {"fused_activation_function": 1},
                    **kw)
    assert_same_bits(ref, got)
    takes_tile = _gemm_module().int_gemm_isa() is not None and variant != "uint8_off_zp"
    assert calls == (["FastQuantizedConv2D", "FastQuantizedFullyConnected"] if takes_tile else [])


def test_env_setting_keeps_the_float_path(monkeypatch):
    rng = np.random.default_rng(9)
    x = rng.integers(-128, 128, (1, 6, 6, 12)).astype(np.int8)
    w = rng.integers(-127, 128, (20, 1, 1, 12)).astype(np.int8)
    kw = dict(constant_inputs=(1,), input_quant=[quant(0.05, 2), quant(np.full(20, 0.01), 0, 0)],
              output_quant=[quant(0.3, -1)])
    monkeypatch.setenv("EDGELITE_FAST_INT_GEMM", "0")
    monkeypatch.setattr(epilogue, "_int_gemm_host", None)
    calls = _count_int_gemm(monkeypatch)
    ref, got = both(monkeypatch, "CONV_2D", [x, w, None], dict(padding=1, stride_h=1, stride_w=1), **kw)
    assert_same_bits(ref, got)
    assert calls == [] and epilogue._int_gemm_host is False
