"""RFFT2D, REAL, IMAG, COMPLEX_ABS: hand-checked values and LiteRT (exact here; RFFT2D is
documented as exact up to float32 rounding of float64 results)."""
import numpy as np
import pytest

from edgelite.kernels import KernelError
from edgelite.kernels.testing import run_op, run_op_litert


def test_rfft2d_by_hand():
    x = np.zeros((2, 4, 4), np.float32)
    x[0, 0, 0] = 1.0       # an impulse: flat spectrum
    x[1] = 2.0              # a constant: all energy at DC
    (out,) = run_op("RFFT2D", [x, np.array([4, 4], np.int32)], output_dtypes=[np.complex64])
    assert out.shape == (2, 4, 3) and out.dtype == np.complex64
    np.testing.assert_array_equal(out[0], np.ones((4, 3)))
    want = np.zeros((4, 3), np.complex64)
    want[0, 0] = 32
    np.testing.assert_array_equal(out[1], want)


def test_rfft2d_crops_and_pads():
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    (out,) = run_op("RFFT2D", [x, np.array([4, 8], np.int32)], constant_inputs=(1,), output_dtypes=[np.complex64])
    padded = np.zeros((4, 8))
    padded[:3, :6] = x
    np.testing.assert_allclose(out, np.fft.rfft2(padded), rtol=1e-6, atol=1e-6)


def test_rfft2d_errors():
    x = np.ones((4, 4), np.float32)
    with pytest.raises(KernelError, match="powers of 2"):
        run_op("RFFT2D", [x, np.array([4, 6], np.int32)], constant_inputs=(1,), output_dtypes=[np.complex64])
    with pytest.raises(KernelError, match="float32 only"):
        run_op("RFFT2D", [x.astype(np.float64), np.array([4, 4], np.int32)], output_dtypes=[np.complex64])


@pytest.mark.parametrize("shape,length", [((4, 4), (4, 4)), ((3, 5, 6), (8, 4)), ((2, 16, 16), (16, 16)),
                                          ((7, 9), (4, 8)), ((1, 32, 64), (32, 64)), ((2, 3, 8, 2), (2, 2))])
@pytest.mark.parametrize("const", [(), (1,)])
def test_rfft2d_matches_litert(shape, length, const):
    pytest.importorskip("ai_edge_litert")
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(np.float32)
    args = [x, np.array(length, np.int32)]
    (ours,) = run_op("RFFT2D", args, constant_inputs=const, output_dtypes=[np.complex64])
    (ref,) = run_op_litert("RFFT2D", args, constant_inputs=const, output_dtypes=[np.complex64])
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6 * scale)


def test_complex_parts_by_hand():
    z = np.array([3 + 4j, -1 - 0j, 0 + 2j], np.complex64)
    (re,) = run_op("REAL", [z], output_dtypes=[np.float32])
    (im,) = run_op("IMAG", [z], output_dtypes=[np.float32])
    (ab,) = run_op("COMPLEX_ABS", [z], output_dtypes=[np.float32])
    np.testing.assert_array_equal(re, [3, -1, 0])
    np.testing.assert_array_equal(im, [4, 0, 2])
    np.testing.assert_array_equal(ab, [5, 1, 2])
    with pytest.raises(KernelError, match="float64 output"):
        run_op("REAL", [z.astype(np.complex128)], output_dtypes=[np.float32])
    with pytest.raises(KernelError, match="not supported"):
        run_op("IMAG", [np.ones(2, np.float32)], output_dtypes=[np.float32])


@pytest.mark.parametrize("op", ["REAL", "IMAG", "COMPLEX_ABS"])
@pytest.mark.parametrize("ctype,ftype", [(np.complex64, np.float32), (np.complex128, np.float64)])
def test_complex_parts_match_litert(op, ctype, ftype):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(7)
    mag = 10.0 ** rng.uniform(-4, 4, (50, 6))
    z = (rng.standard_normal((50, 6)) * mag + 1j * rng.standard_normal((50, 6))).astype(ctype)
    (ours,) = run_op(op, [z], output_dtypes=[ftype])
    (ref,) = run_op_litert(op, [z], output_dtypes=[ftype])
    assert ours.dtype == ref.dtype and ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)
