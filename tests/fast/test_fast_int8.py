"""The compiled tier's 8-bit elementwise ops and integer MEAN against the reference kernels,
bit for bit (random data, zero points, scales that make LiteRT's SIMD lanes differ from its
scalar tails, broadcasts, fused activations, int8 and uint8)."""
import numpy as np
import pytest

pytest.importorskip("numba")

from test_fast_tier import assert_same_bits, both, picked, quant  # noqa: E402

pytestmark = pytest.mark.fast

SHAPES = [((1, 9, 7, 5), (1, 9, 7, 5)),            # same shape, scalar tail (315 = 19 * 16 + 11)
          ((1, 64, 64, 33), (1, 64, 64, 33)),      # same shape, several rows of FLAT_CHUNK
          ((1, 20, 20, 144), (1, 1, 1, 144)),      # squeeze-excite broadcast, 16-lane channels
          ((1, 1, 1, 21), (1, 30, 30, 21)),        # the broadcast operand first, a channel tail
          ((2, 5, 6, 7), (1,)),                    # a broadcast scalar
          ((1, 70, 70, 20), (1, 70, 1, 20))]       # other broadcasts: the pair table


def _binary_case(rng, opcode, shapes, dtype, variant):
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max + 1, shapes[0]).astype(dtype)
    b = rng.integers(info.min, info.max + 1, shapes[1]).astype(dtype)
    base = 128 if dtype == np.uint8 else 0
    q = [quant(0.03, base + int(rng.integers(-20, 20))), quant(0.02, base + int(rng.integers(-20, 20)))]
    if opcode == "MUL":
        # 2e-5: a product multiplier above 1 (a left shift: LiteRT's int16-narrowed SIMD lanes)
        so = {"plain": 0.01, "left_shift": 2e-5, "pow2": 2.0 ** -8}[variant]
    else:
        so = {"plain": 0.05, "left_shift": 0.011, "pow2": 2.0 ** -5}[variant]
    if variant == "pow2":  # power-of-two scales put many values on rounding ties
        q = [quant(2.0 ** -6, q[0].zero_point[0]), quant(2.0 ** -7, q[1].zero_point[0])]
    qout = [quant(so, base + int(rng.integers(-5, 5)))]
    opts = {"fused_activation_function": int(rng.choice([0, 1, 3]))}
    return [a, b], opts, dict(input_quant=q, output_quant=qout)


@pytest.mark.parametrize("variant", ["plain", "left_shift", "pow2"])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("shapes", SHAPES, ids=[f"{a}x{b}" for a, b in SHAPES])
@pytest.mark.parametrize("opcode", ["ADD", "MUL", "SUB"])
def test_int8_binary_bit_exact(monkeypatch, opcode, shapes, dtype, variant):
    rng = np.random.default_rng(sum(shapes[0]) + 7 * len(variant) + (dtype == np.uint8))
    inputs, opts, kw = _binary_case(rng, opcode, shapes, dtype, variant)
    assert picked(opcode, inputs, opts, **kw).__module__ == "edgelite.kernels.fast.elementwise"
    ref, got = both(monkeypatch, opcode, inputs, opts, **kw)
    assert_same_bits(ref, got)


def test_int8_binary_layouts():
    from edgelite.kernels.fast.elementwise import FLAT_CHUNK, binary_layout
    from edgelite.kernels.quantized_elementwise import SimdLanes, simd_lane_runs

    def layout(s1, s2, out):
        return binary_layout(s1, s2, out, SimdLanes(simd_lane_runs(s1, s2), out, s1 == s2))
    # same shapes: rows of FLAT_CHUNK, the SIMD lanes up to the last whole block of 16
    size = 3 * FLAT_CHUNK + 5
    assert layout((size,), (size,), (size,)) == (4, FLAT_CHUNK, size, FLAT_CHUNK, 1, FLAT_CHUNK, 1, FLAT_CHUNK,
                                                 size - 5)
    # channel broadcast: one row per pixel, 16-lane blocks of the 40 channels
    assert layout((1, 3, 3, 40), (1, 1, 1, 40), (1, 3, 3, 40)) == (9, 40, 360, 40, 1, 0, 1, 32, 360)
    assert layout((1, 1, 1, 40), (1, 3, 3, 40), (1, 3, 3, 40)) == (9, 40, 360, 0, 1, 40, 1, 32, 360)
    assert layout((1, 3, 1, 4), (1, 1, 5, 4), (1, 3, 5, 4)) is None


MEAN_CASES = [((1, 7, 9, 40), [1, 2], True),    # LiteRT's Mean4D: 32 SIMD channels, 8 in the scalar tail
              ((2, 12, 12, 32), [2, 1], True),
              ((1, 14, 14, 144), [1, 2], False),  # EfficientNet's squeeze: no keep_dims, general path
              ((3, 10, 6), [1], True),
              ((2, 3, 5, 7), [2, 3], False),
              ((4, 5, 6), [0, 1, 2], True),
              ((2, 5, 3, 4), [1, 3], True)]       # not adjacent: the reference


@pytest.mark.parametrize("pow2", [False, True])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("shape,axes,keep", MEAN_CASES)
def test_int8_mean_bit_exact(monkeypatch, shape, axes, keep, dtype, pow2):
    rng = np.random.default_rng(sum(shape) + len(axes) + pow2)
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    base = 128 if dtype == np.uint8 else 0
    # power-of-two scales: many sums fall on rounding ties (ties up in the SIMD channels)
    si, so = (2.0 ** -4, 2.0 ** -4) if pow2 else (float(rng.uniform(0.01, 0.1)), float(rng.uniform(0.01, 0.1)))
    kw = dict(input_quant=[quant(si, base + int(rng.integers(-30, 30))), None],
              output_quant=[quant(so, base + int(rng.integers(-10, 10)))], constant_inputs=(1,))
    opts = {"keep_dims": keep}
    a = np.array(axes, np.int32)
    assert picked("MEAN", [x, a], opts, input_quant=kw["input_quant"],
                  output_quant=kw["output_quant"]).__name__ == "FastQuantizedMean"
    ref, got = both(monkeypatch, "MEAN", [x, a], opts, **kw)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("seed", range(8))
def test_int8_first_layer_conv_bit_exact(monkeypatch, seed):
    """CONV_2D over 1-4 input channels (a CNN's first layer: short window runs in the compiled
    im2col), SAME/VALID padding at the input zero point, strides, dilations, int8 per-channel
    and legacy uint8 weights, a left-shift multiplier."""
    from test_fast_tier import random_geometry
    rng = np.random.default_rng(500 + seed)
    shape, wshape, opts = random_geometry(rng)
    opts.pop("depth_multiplier")
    c, o = int(rng.integers(1, 5)), int(rng.integers(1, 40))
    shape = shape[:3] + (c,)
    dtype = np.uint8 if seed % 4 == 3 else np.int8
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, shape).astype(dtype)
    if dtype == np.int8:
        w = rng.integers(-127, 128, (o, wshape[1], wshape[2], c)).astype(np.int8)
        w_scale = rng.uniform(1e-3, 1e-2, o)
        qw, x_zp = quant(w_scale, 0, 0), int(rng.integers(-128, 128))
    else:
        w = rng.integers(0, 256, (o, wshape[1], wshape[2], c)).astype(np.uint8)
        w_scale = np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, int(rng.integers(0, 256))), int(rng.integers(0, 256))
    x_scale = 2.0 ** -5 if seed % 2 else 0.05  # power of two: rounding ties
    b = rng.integers(-3000, 3000, o).astype(np.int32)
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    qout = quant(float(rng.uniform(0.05, 0.5)) if seed != 6 else 2e-6, int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0))
    kw = dict(constant_inputs=(1, 2), input_quant=[quant(x_scale, x_zp), qw, qb], output_quant=[qout])
    ref, got = both(monkeypatch, "CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("kernel,width,dilation,padding", [(3, 9, 1, 0), (3, 9, 1, 1), (5, 11, 1, 0), (5, 11, 1, 1),
                                                           (3, 12, 2, 0), (5, 13, 2, 0), (5, 4, 1, 0), (3, 2, 1, 0),
                                                           (5, 6, 1, 1), (3, 1, 1, 0)])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_int8_depthwise_whole_kernel_rows_bit_exact(monkeypatch, kernel, width, dilation, padding, dtype):
    """3- and 5-tap kernel rows in one pass over the inner pixels, tap by tap at the borders
    (SAME padding, dilations, inputs narrower than the kernel)."""
    rng = np.random.default_rng(kernel * 100 + width * 3 + dilation + padding + (dtype == np.uint8))
    c = int(rng.integers(1, 40))
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max + 1, (1, 7, width, c)).astype(dtype)
    if dtype == np.int8:
        w = rng.integers(-127, 128, (1, kernel, kernel, c)).astype(np.int8)
        w_scale = rng.uniform(1e-3, 1e-2, c)
        qw, x_zp = quant(w_scale, 0, 3), int(rng.integers(-128, 128))
    else:
        w = rng.integers(0, 256, (1, kernel, kernel, c)).astype(np.uint8)
        w_scale = np.float32(rng.uniform(1e-3, 1e-2))
        qw, x_zp = quant(w_scale, int(rng.integers(0, 256))), int(rng.integers(0, 256))
    b = rng.integers(-3000, 3000, c).astype(np.int32)
    x_scale = 2.0 ** -5
    qb = quant(np.float32(x_scale) * np.asarray(w_scale, np.float32), 0)
    qout = quant(float(rng.uniform(0.05, 0.3)), int(rng.integers(-5, 5)) + (128 if dtype == np.uint8 else 0))
    opts = dict(stride_h=1, stride_w=1, dilation_h_factor=dilation, dilation_w_factor=dilation, padding=padding,
                depth_multiplier=1, fused_activation_function=int(rng.choice([0, 1, 3])))
    kw = dict(constant_inputs=(1, 2), input_quant=[quant(x_scale, x_zp), qw, qb], output_quant=[qout])
    if padding == 1 and width < (kernel - 1) * dilation + 1:  # 1: VALID
        pytest.skip("VALID padding: no output")
    ref, got = both(monkeypatch, "DEPTHWISE_CONV_2D", [x, w, b], opts, **kw)
    assert_same_bits(ref, got)


@pytest.mark.parametrize("size", [1, 7, 8, 1003, 150528])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
def test_quantize_float_bit_exact(monkeypatch, size, dtype):
    """float32 -> 8/16-bit QUANTIZE: SIMD blocks of 8 (ties to even) and the scalar tail (ties
    away), values on ties, out of range and infinite; a NaN goes to the reference."""
    rng = np.random.default_rng(size)
    scale = 2.0 ** -6  # exact ties at x = (k + 0.5) * scale
    x = (rng.integers(-3000, 3000, size) * 0.5 * scale).astype(np.float32)
    x[: size // 3] = rng.standard_normal(size // 3).astype(np.float32) * 4
    if size > 10:
        x[[1, 5, 9]] = [np.inf, -np.inf, 1e30]
    zp = {np.int8: -3, np.uint8: 128, np.int16: 0}[dtype]
    kw = dict(input_quant=[None], output_quant=[quant(scale, zp)], output_dtypes=[dtype])
    assert picked("QUANTIZE", [x], {}, **kw).__name__ == "FastQuantize"
    ref, got = both(monkeypatch, "QUANTIZE", [x], {}, **kw)
    assert_same_bits(ref, got)
    if size > 10:
        x[2] = np.nan
        with np.errstate(invalid="ignore"):
            ref, got = both(monkeypatch, "QUANTIZE", [x], {}, **kw)
        assert_same_bits(ref, got)


@pytest.mark.parametrize("opcode,options", [("HARD_SWISH", {}), ("LOGISTIC", {}), ("TANH", {}), ("ELU", {}),
                                            ("GELU", {"approximate": False}), ("LEAKY_RELU", {"alpha": 0.2}),
                                            ("RELU", {}), ("RELU6", {}), ("RELU_N1_TO_1", {})])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_int8_table_activations_bit_exact(monkeypatch, opcode, options, dtype):
    """The reference's byte tables looked up by the compiled gather (every input byte, and a
    tensor of several gather chunks)."""
    from edgelite.kernels.fast._compiled_int8 import GATHER_CHUNK
    rng = np.random.default_rng(len(opcode))
    info = np.iinfo(dtype)
    x = np.concatenate([np.arange(info.min, info.max + 1),
                        rng.integers(info.min, info.max + 1, 3 * GATHER_CHUNK)]).astype(dtype).reshape(1, 1, -1, 4)
    base = 128 if dtype == np.uint8 else 0
    out_q = {"LOGISTIC": quant(1 / 256, -128 + base), "TANH": quant(1 / 128, base)}.get(opcode, quant(0.04, base - 3))
    kw = dict(input_quant=[quant(0.05, base + 7)], output_quant=[out_q])
    try:
        ref, got = both(monkeypatch, opcode, [x], options, **kw)
    except Exception as e:  # noqa: BLE001 -- an op the reference does not take for this type
        pytest.skip(f"reference refuses {opcode} {np.dtype(dtype)}: {e}")
    assert picked(opcode, [x], options, **kw).__name__.startswith("Fast")
    assert_same_bits(ref, got)


@pytest.mark.parametrize("pad,stride,channels,with_bias", [(0, 2, 4, False), (1, 2, 13, True), (0, 1, 8, True),
                                                           (1, 1, 20, False), (0, 3, 9, True)])
def test_int8_transpose_conv_bit_exact(monkeypatch, pad, stride, channels, with_bias):
    """int8 TRANSPOSE_CONV: exact GEMM, compiled tap scatter and requantization (16-lane SIMD
    channels and the tail), SAME/VALID, strides up to 3, a kernel larger than the stride."""
    rng = np.random.default_rng(stride * 10 + pad + channels)
    x = rng.integers(-128, 128, (2, 5, 6, 7)).astype(np.int8)
    k = 3 if stride < 3 else 4
    w = rng.integers(-127, 128, (channels, k, k, 7)).astype(np.int8)
    w_scale = rng.uniform(0.002, 0.02, channels)
    x_scale = 2.0 ** -5  # power of two: rounding ties
    oh = 5 * stride if pad == 0 else (5 - 1) * stride + k
    ow = 6 * stride if pad == 0 else (6 - 1) * stride + k
    inputs = [np.array([2, oh, ow, channels], np.int32), w, x]
    quants = [None, quant(w_scale, 0, 0), quant(x_scale, int(rng.integers(-20, 20)))]
    consts = (0, 1)
    if with_bias:
        inputs.append(rng.integers(-3000, 3000, channels).astype(np.int32))
        quants.append(quant(np.float32(x_scale) * w_scale.astype(np.float32), 0))
        consts = (0, 1, 3)
    kw = dict(constant_inputs=consts, input_quant=quants, output_quant=[quant(0.08, -3)], output_dtypes=[np.int8],
              version=3)
    opts = dict(padding=pad, stride_h=stride, stride_w=stride)
    from edgelite.kernels.base import Node, lookup
    from edgelite.kernels.testing import single_op_model
    sg = single_op_model("TRANSPOSE_CONV", inputs, opts, **kw).main
    assert lookup(Node(op=sg.operators[0], index=0, subgraph=sg)).__name__ == "FastQuantizedTransposeConv"
    ref, got = both(monkeypatch, "TRANSPOSE_CONV", inputs, opts, **kw)
    assert_same_bits(ref, got)
