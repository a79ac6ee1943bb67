"""CONV_3D and CONV_3D_TRANSPOSE: hand-checked values and LiteRT (float32, tolerance: LiteRT's
im2col GEMM sums in another order)."""
import numpy as np
import pytest

from edgelite.kernels import KernelError
from edgelite.kernels.conv3d import _out_size
from edgelite.kernels.testing import run_op, run_op_litert


def opts(padding=1, strides=(1, 1, 1), dilations=(1, 1, 1), act=0):
    return {"padding": padding, "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2],
            "dilation_d_factor": dilations[0], "dilation_h_factor": dilations[1],
            "dilation_w_factor": dilations[2], "fused_activation_function": act}


def close(ours, ref):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5 * max(1.0, float(np.abs(ref).max())))


def reference_conv3d(x, w, b, strides, dilations, pads, out_spatial):
    """A direct (slow) float64 NDHWC convolution for hand checks."""
    n, cout = x.shape[0], w.shape[4]
    out = np.zeros((n,) + tuple(out_spatial) + (cout,))
    for od in range(out_spatial[0]):
        for oh in range(out_spatial[1]):
            for ow in range(out_spatial[2]):
                for a in range(w.shape[0]):
                    for bb in range(w.shape[1]):
                        for c in range(w.shape[2]):
                            i = (od * strides[0] - pads[0] + a * dilations[0], oh * strides[1] - pads[1] + bb * dilations[1],
                                 ow * strides[2] - pads[2] + c * dilations[2])
                            if all(0 <= i[k] < x.shape[k + 1] for k in range(3)):
                                out[:, od, oh, ow] += x[:, i[0], i[1], i[2]] @ w[a, bb, c]
    return out + (0 if b is None else b)


def test_conv3d_valid_by_hand():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 4, 5, 3, 2)).astype(np.float32)
    w = rng.standard_normal((2, 3, 2, 2, 3)).astype(np.float32)
    b = np.array([1, -1, 0.5], np.float32)
    (out,) = run_op("CONV_3D", [x, w, b], opts(1, (1, 2, 1)), constant_inputs=(1, 2))
    want = reference_conv3d(x, w, b, (1, 2, 1), (1, 1, 1), (0, 0, 0), (3, 2, 2))
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_conv3d_same_padding_and_relu6_by_hand():
    x = np.ones((1, 3, 3, 3, 1), np.float32)
    w = np.ones((3, 3, 3, 1, 1), np.float32)
    (out,) = run_op("CONV_3D", [x, w], opts(0), constant_inputs=(1,))
    assert out.shape == (1, 3, 3, 3, 1)
    assert out[0, 1, 1, 1, 0] == 27 and out[0, 0, 0, 0, 0] == 8  # full window vs a corner
    (clamped,) = run_op("CONV_3D", [x, w], opts(0, act=3), constant_inputs=(1,))
    assert clamped.max() == 6


def test_conv3d_errors():
    x = np.ones((1, 3, 3, 3, 2), np.float32)
    with pytest.raises(KernelError, match="input channels"):
        run_op("CONV_3D", [x, np.ones((1, 1, 1, 3, 1), np.float32)], opts(), constant_inputs=(1,))
    with pytest.raises(KernelError, match="strides"):
        run_op("CONV_3D", [x, np.ones((1, 1, 1, 2, 1), np.float32)], opts(strides=(0, 1, 1)), constant_inputs=(1,))
    with pytest.raises(KernelError, match="bias"):
        run_op("CONV_3D", [x, np.ones((1, 1, 1, 2, 1), np.float32), np.ones(2, np.float32)], opts(),
               constant_inputs=(1, 2))


def test_conv3d_transpose_is_the_adjoint_of_conv3d():
    """<conv(x), y> == <x, conv_transpose(y)> for the same filter, strides and padding."""
    rng = np.random.default_rng(1)
    for padding, strides, dil in ((1, (2, 1, 2), (1, 1, 1)), (0, (2, 2, 1), (1, 2, 1))):
        x = rng.standard_normal((1, 5, 6, 4, 2)).astype(np.float32)
        w = rng.standard_normal((3, 2, 3, 2, 3)).astype(np.float32)
        (y,) = run_op("CONV_3D", [x, w], opts(padding, strides, dil), constant_inputs=(1,))
        g = rng.standard_normal(y.shape).astype(np.float32)
        # the forward filter [kd, kh, kw, 2, 3] is already the transpose's [kd, kh, kw, out=2, in=3]
        (xt,) = run_op("CONV_3D_TRANSPOSE", [np.array(x.shape, np.int32), w, g], opts(padding, strides, dil),
                       constant_inputs=(0, 1), output_dtypes=[np.float32])
        assert xt.shape == x.shape
        np.testing.assert_allclose(np.vdot(y.astype(np.float64), g), np.vdot(x.astype(np.float64), xt), rtol=1e-4)


def transpose_output_shape(x_shape, kernel, padding, strides, dilations, cout):
    outs = []
    for n, k, s, d in zip(x_shape[1:4], kernel, strides, dilations):
        outs.append(next(o for o in range(1, 64) if _out_size(padding, o, k, s, d) == n))
    return np.array([x_shape[0]] + outs + [cout], np.int32)


CASES = [(0, (1, 1, 1), (1, 1, 1)), (1, (1, 1, 1), (1, 1, 1)), (0, (2, 1, 2), (1, 1, 1)),
         (1, (1, 2, 1), (2, 1, 2)), (0, (2, 2, 2), (1, 2, 1)), (1, (3, 1, 2), (1, 1, 1))]


@pytest.mark.parametrize("padding,strides,dilations", CASES)
@pytest.mark.parametrize("bias,act", [(True, 1), (False, 0)])
def test_conv3d_matches_litert(padding, strides, dilations, bias, act):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(sum(strides) + padding)
    x = rng.standard_normal((2, 5, 6, 7, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3, 4)).astype(np.float32)
    args = [x, w] + ([rng.standard_normal(4).astype(np.float32)] if bias else [])
    const = (1, 2) if bias else (1,)
    o = opts(padding, strides, dilations, act)
    close(run_op("CONV_3D", args, o, constant_inputs=const)[0], run_op_litert("CONV_3D", args, o, constant_inputs=const)[0])


@pytest.mark.parametrize("padding,strides,dilations", CASES)
@pytest.mark.parametrize("bias,act,const_shape", [(True, 3, True), (False, 0, False)])
def test_conv3d_transpose_matches_litert(padding, strides, dilations, bias, act, const_shape):
    pytest.importorskip("ai_edge_litert")
    rng = np.random.default_rng(sum(dilations) + padding)
    x = rng.standard_normal((2, 3, 4, 5, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 4, 3)).astype(np.float32)
    shape = transpose_output_shape(x.shape, (3, 2, 3), padding, strides, dilations, 4)
    args = [shape, w, x] + ([rng.standard_normal(4).astype(np.float32)] if bias else [])
    const = ((0,) if const_shape else ()) + (1,) + ((3,) if bias else ())
    o = opts(padding, strides, dilations, act)
    kw = {"constant_inputs": const, "output_dtypes": [np.float32]}
    close(run_op("CONV_3D_TRANSPOSE", args, o, **kw)[0], run_op_litert("CONV_3D_TRANSPOSE", args, o, **kw)[0])
