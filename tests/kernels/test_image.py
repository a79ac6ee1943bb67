"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR: coordinate rules by hand and against LiteRT."""
import numpy as np
import pytest

from edgelite.ir import Quantization
from edgelite.kernels import KernelError
from edgelite.kernels.image import bilinear_fixed_axis, bilinear_float_axis, nearest_axis
from edgelite.kernels.testing import run_op, run_op_litert

I32 = np.int32
MODES = [(False, False), (True, False), (False, True)]
SIZES = [(4, 5, 8, 10), (5, 7, 3, 4), (3, 3, 7, 5), (1, 4, 3, 1), (2, 9, 5, 17)]


def size(h, w):
    return np.array([h, w], I32)


# -- hand-checked ---------------------------------------------------------------------
def test_nearest_rounding_differs_by_mode():
    # 3 -> 5: scale 0.6 (floor), align_corners scale 0.5 (round half away), half pixels (v + .5) * .6
    assert nearest_axis(3, 5, False, False).tolist() == [0, 0, 1, 1, 2]
    assert nearest_axis(3, 5, True, False).tolist() == [0, 1, 1, 2, 2]
    assert nearest_axis(3, 5, False, True).tolist() == [0, 0, 1, 2, 2]


def test_bilinear_coordinates_by_mode():
    low, high, frac = bilinear_float_axis(2, 4, False, False)  # source v * 0.5
    assert low.tolist() == [0, 0, 1, 1] and high.tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(frac, [0, 0.5, 0, 0.5])
    low, high, frac = bilinear_float_axis(2, 4, False, True)  # (v + .5) * .5 - .5
    assert low.tolist() == [0, 0, 0, 1] and high.tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(frac, [-0.25, 0.25, 0.75, 0.25])
    low, high, frac = bilinear_float_axis(2, 3, True, False)  # v * (1 / 2)
    assert high.tolist() == [0, 1, 1]
    np.testing.assert_allclose(frac, [0, 0.5, 0])
    low, high, w_low, w_high = bilinear_fixed_axis(2, 4, False, True)
    assert (w_low + w_high).tolist() == [1024] * 4 and w_high.tolist() == [-256, 256, 768, 256]


def test_bilinear_float_by_hand():
    x = np.array([0, 10], np.float32).reshape(1, 1, 2, 1)
    (out,) = run_op("RESIZE_BILINEAR", [x, size(1, 4)], {}, constant_inputs=(1,))
    assert out.ravel().tolist() == [0, 5, 10, 10]
    (out,) = run_op("RESIZE_BILINEAR", [x, size(1, 3)], {"align_corners": True}, constant_inputs=(1,))
    assert out.ravel().tolist() == [0, 5, 10]


def test_resize_rejects_bad_arguments():
    x = np.zeros((1, 2, 2, 1), np.float32)
    with pytest.raises(KernelError, match="cannot both"):
        run_op("RESIZE_BILINEAR", [x, size(3, 3)], {"align_corners": True, "half_pixel_centers": True},
               constant_inputs=(1,))
    with pytest.raises(KernelError, match="positive"):
        run_op("RESIZE_NEAREST_NEIGHBOR", [x, size(0, 3)], {}, constant_inputs=(1,))
    with pytest.raises(KernelError, match="4-D"):
        run_op("RESIZE_NEAREST_NEIGHBOR", [x[0], size(3, 3)], {}, constant_inputs=(1,))


# -- against LiteRT -------------------------------------------------------------------
def _inputs(dtype, shape, rng):
    if dtype == np.float32:
        return rng.standard_normal(shape).astype(np.float32), None
    info = np.iinfo(dtype)
    zp = 0 if dtype == np.int16 else (128 if dtype == np.uint8 else -3)
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype), Quantization(scale=[0.05], zero_point=[zp])


@pytest.mark.parametrize("op", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"])
@pytest.mark.parametrize("dtype", [np.float32, np.int8, np.int16, np.uint8])
def test_resize_matches_litert(op, dtype):
    """Bit-exact for every type: the float and uint8 blends add the corners in LiteRT's order."""
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(0)
    for h, w, oh, ow in SIZES:
        x, q = _inputs(dtype, (2, h, w, 3), rng)
        kw = dict(output_dtypes=[dtype])
        if q is not None:
            kw.update(input_quant=[q, None], output_quant=[q])
        for ac, hp in MODES:
            opts = {"align_corners": ac, "half_pixel_centers": hp}
            for const in [(1,), ()]:
                (ours,) = run_op(op, [x, size(oh, ow)], opts, constant_inputs=const, **kw)
                (ref,) = run_op_litert(op, [x, size(oh, ow)], opts, constant_inputs=const, **kw)
                assert ours.shape == ref.shape and ours.dtype == ref.dtype
                np.testing.assert_array_equal(ours, ref, err_msg=f"{(h, w, oh, ow)} {opts}")


def test_uint8_nearest_matches_litert_fast_path():
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(1)
    for h, w, oh, ow in SIZES + [(7, 3, 9, 13)]:
        x, q = _inputs(np.uint8, (1, h, w, 2), rng)
        for ac, hp in MODES:
            opts = {"align_corners": ac, "half_pixel_centers": hp}
            args = dict(constant_inputs=(1,), input_quant=[q, None], output_quant=[q])
            (ours,) = run_op("RESIZE_NEAREST_NEIGHBOR", [x, size(oh, ow)], opts, **args)
            (ref,) = run_op_litert("RESIZE_NEAREST_NEIGHBOR", [x, size(oh, ow)], opts, **args)
            np.testing.assert_array_equal(ours, ref)
