"""The plain-Python scalar helpers prepare uses on every node (instead of numpy scalars) must
give exactly what the numpy float32 arithmetic they replace gives, and keep prepare's checks."""
import numpy as np
import pytest

from edgelite.kernels.base import KernelError, TensorSpec
from edgelite.kernels.quantized_conv import conv_geometry, conv_out_and_padding
from edgelite.kernels.quantized_elementwise import broadcast_shape, qparams, round_to_float32


def _scales(rng, n):
    """float32 scales over the range quantized models use, as Python floats."""
    return [float(v) for v in (10.0 ** rng.uniform(-9, 3, n)).astype(np.float32)]


def test_round_to_float32_matches_numpy_float32_arithmetic():
    rng = np.random.default_rng(0)
    a, b, c = _scales(rng, 3000), _scales(rng, 3000), _scales(rng, 3000)
    for s1, s2, so in zip(a, b, c):
        expect = float(np.float32(np.float32(s1) * np.float32(s2)) / np.float32(so))
        assert round_to_float32(round_to_float32(s1 * s2) / so) == expect
        zp = int(rng.integers(-128, 128))
        expect = float(np.float32(np.float32(zp) * np.float32(s1)) / np.float32(so))
        assert round_to_float32(round_to_float32(zp * s1) / so) == expect
        assert round_to_float32(s1 + 0.5) == float(np.float32(s1) + np.float32(0.5))


def test_round_to_float32_ties_and_overflow():
    ulp_half = 2.0 ** -24  # half an ulp of 1.0 in float32: the tie rounds to even (1.0)
    assert round_to_float32(1.0 + ulp_half) == 1.0
    assert round_to_float32(1.0 + 3 * ulp_half) == float(np.float32(1.0 + 3 * ulp_half))
    assert round_to_float32(1e39) == float("inf")
    assert round_to_float32(-1e39) == float("-inf")


def _spec(shape, scale=(), zero_point=(), scale_dtype=np.float32):
    return TensorSpec(0, "t", tuple(shape), np.dtype(np.int8), np.asarray(scale, scale_dtype),
                      np.asarray(zero_point, np.int64))


@pytest.mark.parametrize("scale_dtype", [np.float32, np.float64])
def test_qparams_gives_float32_scale_and_int_zero_point(scale_dtype):
    s, z = qparams(_spec((1,), [0.1], [-3], scale_dtype))
    assert type(s) is float and type(z) is int
    assert s == float(np.float32(0.1)) and z == -3
    assert qparams(_spec((1,), [0.5]))[1] == 0  # no zero points stored
    with pytest.raises(ValueError, match="not quantized"):
        qparams(_spec((1,)), "input")


@pytest.mark.parametrize("s1,s2", [((1, 4, 4, 8), (1, 4, 4, 8)), ((1, 4, 4, 8), (1, 1, 1, 8)),
                                   ((8,), (2, 3, 8)), ((2, 1, 5), (1, 3, 1)), ((0, 3), (1, 3)),
                                   ((), (2, 2))])
def test_broadcast_shape_matches_numpy(s1, s2):
    fail = KernelError
    assert broadcast_shape(_spec(s1), _spec(s2), fail) == tuple(np.broadcast_shapes(s1, s2))
    assert broadcast_shape(_spec(s2), _spec(s1), fail) == tuple(np.broadcast_shapes(s1, s2))


def test_broadcast_shape_refuses_incompatible_shapes():
    with pytest.raises(KernelError, match="do not broadcast"):
        broadcast_shape(_spec((2, 3)), _spec((4, 3)), KernelError)


@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("dilation", [1, 2])
def test_pointwise_conv_geometry_equals_general_formula(padding, dilation):
    options = {"padding": padding, "dilation_h_factor": dilation, "dilation_w_factor": dilation}
    for h, w in [(1, 1), (7, 5), (112, 112), (0, 3)]:
        oh, pt, pb = conv_out_and_padding(h, 1, 1, dilation, padding)
        ow, pl, pr = conv_out_and_padding(w, 1, 1, dilation, padding)
        assert conv_geometry(options, h, w, 1, 1) == (1, 1, 1, 1, dilation, dilation, pt, pb, pl, pr, oh, ow)


def test_conv_geometry_still_refuses_bad_strides():
    with pytest.raises(ValueError, match="must be >= 1"):
        conv_geometry({"stride_h": 0}, 4, 4, 1, 1)
    with pytest.raises(ValueError, match="must be >= 1"):
        conv_geometry({"dilation_w_factor": 0}, 4, 4, 3, 3)
