"""Elementwise kernels: hand-checked semantics and randomized comparison with LiteRT."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op, run_op_litert

RNG = np.random.default_rng(1234)


def assert_matches_litert(opcode, inputs, options=None, skip_if_litert_lacks=False, **kw):
    pytest.importorskip("ai_edge_litert")
    ours = run_op(opcode, inputs, options, **kw)
    try:
        ref = run_op_litert(opcode, inputs, options, **kw)
    except RuntimeError as e:
        if skip_if_litert_lacks and "support" in str(e):
            pytest.skip(f"LiteRT has no kernel for this case: {e}")
        raise
    assert len(ours) == len(ref)
    for got, want in zip(ours, ref):
        assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(want).max(initial=0))))
        else:
            np.testing.assert_array_equal(got, want)


def floats(*shape, scale=3.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def ints(*shape, low=-20, high=20, dtype=np.int32):
    return RNG.integers(low, high, shape).astype(dtype)


def nonzero_ints(*shape, dtype=np.int32):
    return (RNG.integers(1, 8, shape) * RNG.choice([-1, 1], shape)).astype(dtype)


# --------------------------------------------------------------------------- hand-checked

def test_add_broadcasts_and_fuses_relu6():
    a = np.array([[1.0], [5.0]], np.float32)
    b = np.array([-3.0, 0.5, 4.0], np.float32)
    out, = run_op("ADD", [a, b], {"fused_activation_function": 3})
    np.testing.assert_array_equal(out, [[0.0, 1.5, 5.0], [2.0, 5.5, 6.0]])


def test_incompatible_shapes_name_both():
    with pytest.raises(KernelError, match=r"\[2, 3\] and \[4\]"):
        run_op("MUL", [np.zeros((2, 3), np.float32), np.zeros(4, np.float32)])


def test_mismatched_input_types_rejected():
    with pytest.raises(KernelError, match="types differ"):
        run_op("SUB", [np.zeros(3, np.float32), np.zeros(3, np.int32)])


def test_empty_tensors():
    out, = run_op("ADD", [np.zeros((0, 3), np.float32), np.ones((1, 3), np.float32)])
    assert out.shape == (0, 3)
    out, = run_op("EXP", [np.zeros((2, 0), np.float32)])
    assert out.shape == (2, 0)


def test_integer_div_truncates_floor_div_floors():
    a = np.array([7, -7, 7, -7, 6], np.int32)
    b = np.array([2, 2, -2, -2, 3], np.int32)
    np.testing.assert_array_equal(run_op("DIV", [a, b])[0], [3, -3, -3, 3, 2])
    np.testing.assert_array_equal(run_op("FLOOR_DIV", [a, b])[0], [3, -4, -4, 3, 2])
    np.testing.assert_array_equal(run_op("FLOOR_MOD", [a, b])[0], [1, 1, -1, -1, 0])


def test_float_floor_mod_takes_divisor_sign():
    a = np.array([7.5, -7.5, 7.5, -7.5], np.float32)
    b = np.array([2.0, 2.0, -2.0, -2.0], np.float32)
    np.testing.assert_allclose(run_op("FLOOR_MOD", [a, b])[0], [1.5, 0.5, -0.5, -1.5])


@pytest.mark.parametrize("op", ["DIV", "FLOOR_DIV", "FLOOR_MOD"])
def test_integer_division_by_zero_raises(op):
    with pytest.raises(KernelError, match="by zero"):
        run_op(op, [np.array([1, 2], np.int32), np.array([1, 0], np.int32)])


def test_integer_pow_negative_exponent_raises():
    with pytest.raises(KernelError, match="negative exponent"):
        run_op("POW", [np.array([2], np.int32), np.array([-1], np.int32)])


def test_round_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999], np.float32)
    np.testing.assert_array_equal(run_op("ROUND", [x])[0], [0, 2, 2, -0, -2, -2, 2])


def test_cast_saturates_floats_and_wraps_ints():
    x = np.array([-300.7, -1.5, 0.9, 300.2, np.nan], np.float32)
    np.testing.assert_array_equal(run_op("CAST", [x], output_dtypes=[np.int8])[0], [-128, -1, 0, 127, 127])
    y = np.array([-1, 256, 300], np.int32)
    np.testing.assert_array_equal(run_op("CAST", [y], output_dtypes=[np.uint8])[0], [255, 0, 44])


def test_select_rank1_condition_picks_rows():
    cond = np.array([True, False])
    x = np.ones((2, 3), np.float32)
    y = np.zeros((2, 3), np.float32)
    out, = run_op("SELECT", [cond, x, y], output_dtypes=[np.float32])
    np.testing.assert_array_equal(out, [[1, 1, 1], [0, 0, 0]])


def test_quantized_comparison_uses_real_values():
    # 10 * 0.1 = 1.0 vs 3 * 0.5 = 1.5: raw 10 > 3 but real 1.0 < 1.5.
    q = [Quantization([0.1], [0]), Quantization([0.5], [0])]
    out, = run_op("LESS", [np.array([10], np.int8), np.array([3], np.int8)],
                  output_dtypes=[np.bool_], input_quant=q)
    assert out.tolist() == [True]


def test_fill_with_runtime_dims():
    out, = run_op("FILL", [np.array([2, 3], np.int32), np.array(4, np.int32)], output_dtypes=[np.int32])
    np.testing.assert_array_equal(out, np.full((2, 3), 4))


# --------------------------------------------------------------------------- against LiteRT

BINARY_FLOAT = ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE",
                "FLOOR_DIV", "FLOOR_MOD"]
BINARY_INT = ["ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE",
              "FLOOR_DIV", "FLOOR_MOD", "POW"]


@pytest.mark.parametrize("op", BINARY_FLOAT)
@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (3, 1)), ((), (4, 5)),
                                    ((1, 5, 1, 3), (2, 1, 4, 1))])
def test_binary_float_vs_litert(op, shapes):
    assert_matches_litert(op, [floats(*shapes[0]), floats(*shapes[1])])


@pytest.mark.parametrize("op", BINARY_INT)
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_binary_int_vs_litert(op, dtype):
    a = ints(2, 3, 4, dtype=dtype)
    b = nonzero_ints(3, 1, dtype=dtype)
    if op == "POW":
        a, b = ints(2, 3, 4, low=-5, high=5, dtype=dtype), np.abs(b) % 4
    assert_matches_litert(op, [a, b], skip_if_litert_lacks=dtype == np.int64)


def test_pow_float_vs_litert():
    assert_matches_litert("POW", [np.abs(floats(3, 4)) + 0.1, floats(4, scale=1.0)])


def test_atan2_vs_litert():
    assert_matches_litert("ATAN2", [floats(3, 4), floats(3, 4)])


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL", "DIV"])
@pytest.mark.parametrize("act", [0, 1, 2, 3, 4])
def test_fused_activation_vs_litert(op, act):
    assert_matches_litert(op, [floats(2, 5), floats(5)], {"fused_activation_function": act})


@pytest.mark.parametrize("op", ["ADD", "MUL", "SUB"])
def test_fused_activation_int_vs_litert(op):
    assert_matches_litert(op, [ints(3, 4), ints(4)], {"fused_activation_function": 1})


UNARY_FLOAT = ["ABS", "NEG", "SIGN", "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS",
               "FLOOR", "CEIL", "ROUND", "ZEROS_LIKE"]


@pytest.mark.parametrize("op", UNARY_FLOAT)
def test_unary_float_vs_litert(op):
    x = floats(2, 3, 5)
    if op in ("LOG", "SQRT", "RSQRT"):
        x = np.abs(x) + 0.05
    if op == "ROUND":
        x = np.concatenate([x.ravel(), np.arange(-4.5, 5, 1.0, dtype=np.float32)])
    assert_matches_litert(op, [x])


@pytest.mark.parametrize("op", ["ABS", "NEG", "SIGN"])
def test_unary_int_vs_litert(op):
    assert_matches_litert(op, [ints(4, 5)])


COMPARISONS = ["LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL"]


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
def test_comparison_vs_litert(op, dtype):
    a = ints(3, 4, low=-3, high=3).astype(dtype)
    b = ints(4, low=-3, high=3).astype(dtype)
    assert_matches_litert(op, [a, b], output_dtypes=[np.bool_])


@pytest.mark.parametrize("op", COMPARISONS)
@pytest.mark.parametrize("params", [((0.05, 3), (0.07, -10)), ((0.0155, 0), (3.9e-9, 0)),
                                    ((0.02, -5), (0.02, -5))])
def test_quantized_comparison_vs_litert(op, params):
    a = ints(4, 6, low=-128, high=128, dtype=np.int8)
    b = ints(6, low=-128, high=128, dtype=np.int8)
    quant = [Quantization([s], [z]) for s, z in params]
    assert_matches_litert(op, [a, b], output_dtypes=[np.bool_], input_quant=quant)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_quantized_max_min_vs_litert(op):
    q = Quantization([0.05], [3])
    assert_matches_litert(op, [ints(3, 5, low=-128, high=128, dtype=np.int8),
                               ints(3, 5, low=-128, high=128, dtype=np.int8)],
                          input_quant=[q, q], output_quant=[q])


@pytest.mark.parametrize("op", ["LOGICAL_AND", "LOGICAL_OR"])
def test_logical_binary_vs_litert(op):
    assert_matches_litert(op, [floats(3, 4) > 0, floats(4) > 0])


def test_logical_not_vs_litert():
    assert_matches_litert("LOGICAL_NOT", [floats(3, 4) > 0])


@pytest.mark.parametrize("dst", [np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_, np.float32])
def test_cast_from_float_vs_litert(dst):
    x = np.concatenate([floats(20, scale=200.0), np.array([np.inf, -np.inf, np.nan, 1e10], np.float32)])
    assert_matches_litert("CAST", [x], output_dtypes=[dst])


@pytest.mark.parametrize("src,dst", [(np.int32, np.uint8), (np.int32, np.int8), (np.int32, np.float32),
                                     (np.int32, np.int64), (np.int64, np.int32), (np.bool_, np.float32),
                                     (np.bool_, np.int32), (np.int8, np.int32)])
def test_cast_integers_vs_litert(src, dst):
    x = ints(25, low=-70000, high=70000, dtype=np.int64)
    x = (x > 0) if src == np.bool_ else x.astype(src)
    assert_matches_litert("CAST", [x], output_dtypes=[dst])


def test_select_vs_litert():
    x, y = floats(3, 4), floats(3, 4)
    assert_matches_litert("SELECT", [x > 0, x, y], output_dtypes=[np.float32])
    assert_matches_litert("SELECT", [np.array([True, False, True]), x, y], output_dtypes=[np.float32])


def test_select_v2_broadcasts_vs_litert():
    cond = floats(1, 4, 1) > 0
    assert_matches_litert("SELECT_V2", [cond, floats(3, 1, 5), floats(5)], output_dtypes=[np.float32])
    assert_matches_litert("SELECT_V2", [cond, ints(3, 1, 5), ints(4, 5)], output_dtypes=[np.int32])


def test_select_quantized_copies_raw_values_vs_litert():
    q = Quantization([0.05], [3])
    x = ints(3, 5, low=-128, high=128, dtype=np.int8)
    y = ints(3, 5, low=-128, high=128, dtype=np.int8)
    assert_matches_litert("SELECT_V2", [x > 0, x, y], input_quant=[None, q, q], output_quant=[q],
                          output_dtypes=[np.int8])


def test_add_n_vs_litert():
    assert_matches_litert("ADD_N", [floats(2, 3), floats(2, 3), floats(2, 3)])
    assert_matches_litert("ADD_N", [ints(4), ints(4)])


@pytest.mark.parametrize("value", [np.array(1.5, np.float32), np.array(7, np.int32), np.array(True)])
def test_fill_vs_litert(value):
    assert_matches_litert("FILL", [np.array([2, 3], np.int32), value], output_dtypes=[value.dtype])
    assert_matches_litert("FILL", [np.array([3, 1, 2], np.int64), value], output_dtypes=[value.dtype],
                          constant_inputs=(0,))


def test_broadcast_shapes_matches_numpy():
    from edgelite.kernels.base import KernelError
    from edgelite.kernels.elementwise import broadcast_shapes

    class _Kernel:
        def fail(self, message):
            return KernelError(message)

    rng = np.random.default_rng(0)
    for _ in range(2000):
        shapes = [tuple(int(d) for d in rng.choice([0, 1, 2, 3], int(rng.integers(0, 4))))
                  for _ in range(int(rng.integers(1, 4)))]
        try:
            want = tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            with pytest.raises(KernelError, match="not broadcast-compatible"):
                broadcast_shapes(_Kernel(), *shapes)
            continue
        got = broadcast_shapes(_Kernel(), *shapes)
        assert got == want and all(type(d) is int for d in got), shapes
