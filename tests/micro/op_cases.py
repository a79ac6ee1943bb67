"""One-op models for the TFLM kernel variants: every formula of edgelite/kernels/tflm against TFLM."""
from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.schema import TensorType

_DT = {np.int8: TensorType.INT8, np.int16: TensorType.INT16, np.float32: TensorType.FLOAT32,
       np.int32: TensorType.INT32, np.int64: TensorType.INT64}


def _q(scale, zp=0, axis=0):
    scale = np.atleast_1d(np.asarray(scale, np.float32))
    zp = np.atleast_1d(np.asarray(zp, np.int64))
    return ir.Quantization(scale=scale, zero_point=zp if zp.size == scale.size else np.zeros(scale.size, np.int64),
                           quantized_dimension=axis)


def _rng(seed):
    return np.random.default_rng(seed)


def _ints(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, shape).astype(dtype)


def _single(op, opts, inputs, out_shape, out_dtype, out_q, consts=None):
    """inputs: list of (name, array or None shape spec, dtype, quant, is_const)."""
    sg = ir.Subgraph()
    ids, feed = [], []
    for name, value, dtype, q, const in inputs:
        if const:
            ids.append(sg.add_constant(name, np.asarray(value, dtype), quantization=q))
        else:
            ids.append(sg.add_tensor(name, value.shape, _DT[dtype], quantization=q))
            feed.append(value)
    out = sg.add_tensor("out", out_shape, _DT[out_dtype], quantization=out_q)
    sg.add_operator(op, ids, [out], opts)
    sg.inputs = [i for i, (_, _, _, _, const) in zip(ids, inputs) if not const]
    sg.outputs = [out]
    return ir.Model(subgraphs=[sg]), feed


def _conv(seed, act_dtype, shape, filt, stride, padding, per_channel=True, depthwise=False, mult=1):
    rng = _rng(seed)
    n, h, w, c = shape
    kh, kw, oc = filt
    x = _ints(rng, shape, act_dtype)
    if depthwise:
        oc = c * mult
        wt = rng.integers(-127, 128, (1, kh, kw, oc)).astype(np.int8)
        axis = 3
    else:
        wt = rng.integers(-127, 128, (oc, kh, kw, c)).astype(np.int8)
        axis = 0
    ws = rng.uniform(0.002, 0.02, oc if per_channel else 1)
    xs, os_ = (0.05, 0.4) if act_dtype == np.int8 else (0.0005, 0.004)
    xz = 3 if act_dtype == np.int8 else 0
    bias_dtype = np.int32 if act_dtype == np.int8 else np.int64
    bias = rng.integers(-2000, 2000, oc).astype(bias_dtype)
    pad = 0 if padding == "SAME" else 1
    oh = -(-h // stride) if pad == 0 else (h - kh) // stride + 1
    ow = -(-w // stride) if pad == 0 else (w - kw) // stride + 1
    opts = {"padding": pad, "stride_h": stride, "stride_w": stride}
    if depthwise:
        opts["depth_multiplier"] = mult
    inputs = [("x", x, act_dtype, _q(xs, xz), False), ("w", wt, np.int8, _q(ws, 0, axis), True),
              ("b", bias, bias_dtype, _q(xs * ws, 0), True)]
    return _single("DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", opts, inputs, (n, oh, ow, oc), act_dtype,
                   _q(os_, -5 if act_dtype == np.int8 else 0))


def _fc(seed, act_dtype, batch, k, o, bias_dtype):
    rng = _rng(seed)
    x = _ints(rng, (batch, k), act_dtype)
    wt = rng.integers(-127, 128, (o, k)).astype(np.int8)
    xs, ws, os_ = (0.05, 0.01, 0.5) if act_dtype == np.int8 else (0.0005, 0.01, 0.003)
    xz = -7 if act_dtype == np.int8 else 0
    inputs = [("x", x, act_dtype, _q(xs, xz), False), ("w", wt, np.int8, _q(ws), True)]
    if bias_dtype is not None:
        inputs.append(("b", rng.integers(-3000, 3000, o).astype(bias_dtype), bias_dtype, _q(xs * ws), True))
    return _single("FULLY_CONNECTED", {}, inputs, (batch, o), act_dtype, _q(os_, 4 if act_dtype == np.int8 else 0))


def _tconv(seed, act_dtype):
    rng = _rng(seed)
    x = _ints(rng, (1, 5, 6, 4), act_dtype)
    wt = rng.integers(-127, 128, (3, 3, 3, 4)).astype(np.int8)
    xs, os_ = (0.05, 0.3) if act_dtype == np.int8 else (0.0005, 0.003)
    inputs = [("shape", np.array([1, 10, 12, 3], np.int32), np.int32, None, True),
              ("w", wt, np.int8, _q(rng.uniform(0.002, 0.02, 3), 0, 0), True),
              ("x", x, act_dtype, _q(xs, 2 if act_dtype == np.int8 else 0), False)]
    return _single("TRANSPOSE_CONV", {"padding": 0, "stride_h": 2, "stride_w": 2}, inputs, (1, 10, 12, 3),
                   act_dtype, _q(os_, 1 if act_dtype == np.int8 else 0))


def _quantize(seed, src, dst):
    rng = _rng(seed)
    if src == np.float32:
        x = (rng.normal(size=(3, 37)) * 2).astype(np.float32)
        x[0, :8] = np.array([0.25, -0.25, 0.75, -0.75, 1.25, 0.0, 12.5, -12.5], np.float32) * 0.02
        qin = None
    else:
        x = _ints(rng, (3, 37), src)
        qin = _q(0.013 if src == np.int8 else 0.0007, 5 if src == np.int8 else 0)
    qout = _q(0.02 if dst == np.int8 else 0.0011, -3 if dst == np.int8 else 0)
    return _single("QUANTIZE", None, [("x", x, src, qin, False)], x.shape, dst, qout)


def _dequantize(seed, src):
    rng = _rng(seed)
    x = _ints(rng, (3, 37), src)
    return _single("DEQUANTIZE", None, [("x", x, src, _q(0.0137 if src == np.int8 else 0.00071, 5 if src == np.int8 else 0), False)],
                   x.shape, np.float32, None)


def _reduce(seed, op, dtype, axes, keep):
    rng = _rng(seed)
    x = _ints(rng, (1, 6, 7, 5), dtype)
    shape = [d for i, d in enumerate(x.shape) if i not in axes] if not keep else \
        [1 if i in axes else d for i, d in enumerate(x.shape)]
    z = 0 if dtype == np.int16 else 3
    return _single(op, {"keep_dims": keep}, [("x", x, dtype, _q(0.03, z), False),
                                              ("axes", np.array(axes, np.int32), np.int32, None, True)],
                   tuple(shape), dtype, _q(0.05 if op == "MEAN" else 0.4, -z))


def _leaky(seed, dtype, alpha):
    rng = _rng(seed)
    x = _ints(rng, (4, 50), dtype)
    z = 0 if dtype == np.int16 else 7
    return _single("LEAKY_RELU", {"alpha": alpha}, [("x", x, dtype, _q(0.0142143, z), False)], x.shape, dtype,
                   _q(0.00595885, -z))


def _softmax(seed, beta, depth, out_dtype, scale):
    rng = _rng(seed)
    x = _ints(rng, (6, depth), np.int8)
    x[0] = -128
    x[1, :2] = 127
    qout = _q(1 / 256, -128) if out_dtype == np.int8 else _q(1 / 65536, -32768)
    return _single("SOFTMAX", {"beta": beta}, [("x", x, np.int8, _q(scale, 2), False)], x.shape, out_dtype, qout)


def _fc_float(seed, batch, k, o, act):
    rng = _rng(seed)
    x = rng.normal(size=(batch, k)).astype(np.float32)
    inputs = [("x", x, np.float32, None, False),
              ("w", rng.normal(size=(o, k)).astype(np.float32), np.float32, None, True),
              ("b", rng.normal(size=o).astype(np.float32), np.float32, None, True)]
    return _single("FULLY_CONNECTED", {"fused_activation_function": act}, inputs, (batch, o), np.float32, None)


def _unary(seed, op, dtype, si, zi, so, zo, opts=None, shape=(4, 64)):
    x = _ints(_rng(seed), shape, dtype)
    return _single(op, opts, [("x", x, dtype, _q(si, zi), False)], shape, dtype, _q(so, zo))


def _binary(seed, op, dtype, shape1, shape2, s1, s2, so, zps=(3, -2, 5)):
    rng = _rng(seed)
    a, b = _ints(rng, shape1, dtype), _ints(rng, shape2, dtype)
    if dtype == np.int16:
        zps = (0, 0, 0)
    out = tuple(np.broadcast_shapes(shape1, shape2))
    return _single(op, None, [("a", a, dtype, _q(s1, zps[0]), False), ("b", b, dtype, _q(s2, zps[1]), False)],
                   out, dtype, _q(so, zps[2]))


def _max_pool(seed, dtype):
    x = _ints(_rng(seed), (1, 9, 9, 6), dtype)
    z = 0 if dtype == np.int16 else 4
    opts = {"padding": 0, "stride_h": 2, "stride_w": 2, "filter_height": 3, "filter_width": 3}
    return _single("MAX_POOL_2D", opts, [("x", x, dtype, _q(0.05, z), False)], (1, 5, 5, 6), dtype, _q(0.05, z))


# ops where TFLM's kernels and LiteRT's builtin ones compute the same (kept as regression cases)
def _avg_pool(dtype):
    x = _ints(_rng(3), (1, 9, 9, 6), dtype)
    z = 0 if dtype == np.int16 else 4
    opts = {"padding": 0, "stride_h": 2, "stride_w": 2, "filter_height": 3, "filter_width": 3}
    return _single("AVERAGE_POOL_2D", opts, [("x", x, dtype, _q(0.05, z), False)], (1, 5, 5, 6), dtype, _q(0.05, z))


def _resize(dtype, align_corners, half_pixel):
    x = _ints(_rng(4), (1, 5, 7, 3), dtype)
    inputs = [("x", x, dtype, _q(0.05, 2), False), ("size", np.array([9, 13], np.int32), np.int32, None, True)]
    opts = {"align_corners": align_corners, "half_pixel_centers": half_pixel}
    return _single("RESIZE_BILINEAR", opts, inputs, (1, 9, 13, 3), dtype, _q(0.05, 2))


def _l2norm():
    x = _ints(_rng(6), (3, 16), np.int8)
    return _single("L2_NORMALIZATION", None, [("x", x, np.int8, _q(0.05, 0), False)], (3, 16), np.int8,
                   _q(1 / 128, 0))


def _prelu():
    rng = _rng(7)
    x = _ints(rng, (2, 4, 4, 3), np.int8)
    alpha = rng.integers(-127, 128, (1, 1, 3)).astype(np.int8)
    inputs = [("x", x, np.int8, _q(0.05, 3), False), ("alpha", alpha, np.int8, _q(0.01, 0), True)]
    return _single("PRELU", None, inputs, (2, 4, 4, 3), np.int8, _q(0.04, -5))


def _batch_matmul(dtype):
    rng = _rng(8)
    a, b = _ints(rng, (2, 3, 5), dtype), _ints(rng, (2, 5, 4), dtype)
    z = (0, 0, 0) if dtype == np.int16 else (2, 0, -3)
    inputs = [("a", a, dtype, _q(0.05, z[0]), False), ("b", b, dtype, _q(0.03, z[1]), False)]
    return _single("BATCH_MATMUL", None, inputs, (2, 3, 4), dtype, _q(0.3, z[2]))


def _pad():
    x = _ints(_rng(9), (1, 3, 3, 2), np.int8)
    paddings = np.array([[0, 0], [1, 1], [2, 0], [0, 0]], np.int32)
    inputs = [("x", x, np.int8, _q(0.05, 7), False), ("paddings", paddings, np.int32, None, True)]
    return _single("PAD", None, inputs, (1, 5, 5, 2), np.int8, _q(0.05, 7))


def _reduce_max():
    x = _ints(_rng(10), (2, 5, 6), np.int8)
    inputs = [("x", x, np.int8, _q(0.05, 7), False), ("axes", np.array([1], np.int32), np.int32, None, True)]
    return _single("REDUCE_MAX", {"keep_dims": False}, inputs, (2, 6), np.int8, _q(0.05, 7))


def _requantize(src, dst, s_in, z_in, s_out, z_out):
    x = _ints(_rng(11), (3, 37), src)
    return _single("QUANTIZE", None, [("x", x, src, _q(s_in, z_in), False)], x.shape, dst, _q(s_out, z_out))


OP_CASES = {
    "conv_int8_3x3_same": lambda: _conv(1, np.int8, (1, 9, 8, 5), (3, 3, 6), 1, "SAME"),
    "conv_int8_1x1": lambda: _conv(2, np.int8, (1, 7, 7, 16), (1, 1, 24), 1, "VALID"),
    "conv_int8_s2_per_tensor": lambda: _conv(3, np.int8, (1, 11, 10, 3), (3, 3, 8), 2, "SAME", per_channel=False),
    "conv_int16": lambda: _conv(4, np.int16, (1, 8, 8, 4), (3, 3, 5), 1, "SAME"),
    "depthwise_int8": lambda: _conv(5, np.int8, (1, 9, 9, 12), (3, 3, 0), 1, "SAME", depthwise=True),
    "depthwise_int8_mult2_s2": lambda: _conv(6, np.int8, (1, 10, 9, 5), (3, 3, 0), 2, "VALID", depthwise=True, mult=2),
    "depthwise_int16": lambda: _conv(7, np.int16, (1, 8, 8, 6), (3, 3, 0), 1, "SAME", depthwise=True),
    "fc_float_k300": lambda: _fc_float(30, 3, 300, 20, 0),
    "fc_float_relu": lambda: _fc_float(31, 2, 64, 16, 1),
    "fc_int8": lambda: _fc(8, np.int8, 3, 40, 17, np.int32),
    "fc_int8_no_bias": lambda: _fc(9, np.int8, 2, 33, 9, None),
    "fc_int16_bias64": lambda: _fc(10, np.int16, 3, 40, 11, np.int64),
    "fc_int16_bias32": lambda: _fc(11, np.int16, 3, 40, 11, np.int32),
    "transpose_conv_int8": lambda: _tconv(12, np.int8),
    "transpose_conv_int16": lambda: _tconv(13, np.int16),
    "quantize_f32_int8": lambda: _quantize(14, np.float32, np.int8),
    "quantize_f32_int16": lambda: _quantize(15, np.float32, np.int16),
    "quantize_int8_int8": lambda: _quantize(16, np.int8, np.int8),
    "quantize_int16_int8": lambda: _quantize(17, np.int16, np.int8),
    "dequantize_int8": lambda: _dequantize(18, np.int8),
    "dequantize_int16": lambda: _dequantize(19, np.int16),
    "mean_int8_hw_keep": lambda: _reduce(20, "MEAN", np.int8, [1, 2], True),
    "mean_int8_axis3": lambda: _reduce(21, "MEAN", np.int8, [3], False),
    "mean_int16_hw": lambda: _reduce(22, "MEAN", np.int16, [1, 2], True),
    "sum_int8": lambda: _reduce(23, "SUM", np.int8, [2], False),
    "relu6_int8_rescaled": lambda: _unary(32, "RELU6", np.int8, 0.05, 3, 0.03, -128),
    "relu6_int8_same": lambda: _unary(33, "RELU6", np.int8, 0.03, -128, 0.03, -128),
    "relu6_int16": lambda: _unary(34, "RELU6", np.int16, 0.0005, 0, 0.0005, 0),
    "relu_int8": lambda: _unary(35, "RELU", np.int8, 0.05, 3, 0.03, -128),
    "logistic_int8": lambda: _unary(36, "LOGISTIC", np.int8, 0.1, 3, 1 / 256, -128),
    "tanh_int8": lambda: _unary(37, "TANH", np.int8, 0.05, -4, 1 / 128, 0),
    "logistic_int16": lambda: _unary(38, "LOGISTIC", np.int16, 0.001, 0, 1 / 32768, 0),
    "tanh_int16": lambda: _unary(39, "TANH", np.int16, 0.0007, 0, 1 / 32768, 0),
    "hard_swish_int8": lambda: _unary(40, "HARD_SWISH", np.int8, 0.05, 3, 0.04, -10),
    "elu_int8": lambda: _unary(41, "ELU", np.int8, 0.05, 3, 0.03, 20),
    "add_int8_broadcast": lambda: _binary(42, "ADD", np.int8, (4, 8), (1, 8), 0.05, 0.03, 0.07),
    "add_int16": lambda: _binary(43, "ADD", np.int16, (4, 8), (4, 8), 0.0005, 0.0003, 0.0007),
    "sub_int8": lambda: _binary(44, "SUB", np.int8, (4, 8), (4, 8), 0.05, 0.03, 0.07),
    "mul_int8_broadcast": lambda: _binary(45, "MUL", np.int8, (4, 8), (4, 1), 0.05, 0.03, 0.07),
    "mul_int16": lambda: _binary(46, "MUL", np.int16, (4, 8), (4, 8), 0.0005, 0.0003, 0.0007),
    "squared_difference_int8": lambda: _binary(47, "SQUARED_DIFFERENCE", np.int8, (4, 8), (4, 8), 0.05, 0.03, 0.2),
    "max_pool_int8": lambda: _max_pool(48, np.int8),
    "avg_pool_int8": lambda: _avg_pool(np.int8),
    "avg_pool_int16": lambda: _avg_pool(np.int16),
    "resize_bilinear_int8": lambda: _resize(np.int8, False, False),
    "resize_bilinear_int8_half_pixel": lambda: _resize(np.int8, False, True),
    "resize_bilinear_int8_align_corners": lambda: _resize(np.int8, True, False),
    "l2_normalization_int8": _l2norm,
    "prelu_int8": _prelu,
    "batch_matmul_int8": lambda: _batch_matmul(np.int8),
    "batch_matmul_int16": lambda: _batch_matmul(np.int16),
    "pad_int8": _pad,
    "reduce_max_int8": _reduce_max,
    "quantize_int8_int16": lambda: _requantize(np.int8, np.int16, 0.05, 3, 0.001, 0),
    "quantize_int16_int32": lambda: _requantize(np.int16, np.int32, 0.001, 0, 0.0001, 0),
    "div_int8": lambda: _binary(49, "DIV", np.int8, (4, 8), (4, 8), 0.05, 0.03, 0.2),
    "leaky_relu_int8_negative_alpha": lambda: _unary(50, "LEAKY_RELU", np.int8, 0.05, 3, 0.03, -10, {"alpha": -0.2}),
    "leaky_relu_int8": lambda: _leaky(24, np.int8, 0.3),
    "leaky_relu_int16": lambda: _leaky(25, np.int16, 0.3),
    "softmax_int8": lambda: _softmax(26, 1.0, 10, np.int8, 0.1),
    "softmax_int8_wide_beta2": lambda: _softmax(27, 2.0, 300, np.int8, 0.07),
    "softmax_int8_small_scale": lambda: _softmax(28, 0.5, 33, np.int8, 0.01),
    "softmax_int8_to_int16": lambda: _softmax(29, 1.0, 20, np.int16, 0.12),
}
