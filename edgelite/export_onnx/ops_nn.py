"""ONNX lowerings of the TFLite network ops: convolutions, fully connected, matmul, pooling,
resize, depth/space moves.

TFLite keeps images NHWC; ONNX's Conv, pools and Resize want NCHW. Each such op is lowered
as ``Transpose(NHWC->NCHW) -> op -> Transpose(NCHW->NHWC)``, and ONNX Runtime's transpose
optimizer (graph optimization level >= basic) pushes the transposes through the
elementwise, concat and reduction ops between them and cancels the pairs, so a conv net
keeps transposes only at its boundaries (docs/delegates.md has the measurements).

Every lowering reads inputs with :meth:`OnnxBuilder.get` (float view) and binds outputs
with :meth:`OnnxBuilder.set`, so the same code serves float32, float16-weight and int8 (QDQ)
models.
"""
from __future__ import annotations

import numpy as np

from .builder import LoweringError, OnnxBuilder


def _same_pads(in_size: int, out_size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (k - 1) * dilation + 1
    total = max((out_size - 1) * stride + effective - in_size, 0)
    return total // 2, total - total // 2


def _pads_2d(op, b: OnnxBuilder, x: int, out: int, kh: int, kw: int, sh: int, sw: int, dh=1, dw=1) -> list[int]:
    if op.opt("padding", 0) == 1:  # VALID
        return [0, 0, 0, 0]
    _, h, w, _ = b.shape(x)
    _, oh, ow, _ = b.shape(out)
    top, bottom = _same_pads(h, oh, kh, sh, dh)
    left, right = _same_pads(w, ow, kw, sw, dw)
    return [top, left, bottom, right]


def _bias(op, b: OnnxBuilder, index: int) -> list[str]:
    if len(op.inputs) > index and op.inputs[index] >= 0:
        return [b.weight(op, op.inputs[index])]
    return []


def _qlinear_ok(op, b: OnnxBuilder, x: int, w: int, out: int) -> bool:
    """Whether an int8 conv can be one QLinearConv (per-tensor activations, int8 weights)."""
    if not (b.quantized(x) and b.quantized(out) and b.quantized(w)) or b.const_value(w) is None:
        return False
    if b.tensor(w).numpy_dtype != np.int8 or np.any(b.qparams(w)[1] != 0):
        return False
    return b.qparams(x)[0].size == 1 and b.qparams(out)[0].size == 1 and b.const_value(w).dtype == np.int8


def _qlinear_conv(op, b: OnnxBuilder, x: int, w: int, out: int, weight: np.ndarray, bias_index: int,
                  **attrs) -> None:
    """An int8 convolution as one QLinearConv on the raw int8 tensors, the fused activation
    as a clamp in the quantized domain (TFLite's own order)."""
    w_scale = b.qparams(w)[0]
    inputs = [b.to_nchw(b.raw(x)), *b.scalar_qparams(x), b.const(weight, dtype=np.int8, hint="qw"),
              b.const(w_scale if w_scale.size > 1 else w_scale.reshape(())),
              b.const(np.zeros(w_scale.size if w_scale.size > 1 else (), np.int8)), *b.scalar_qparams(out)]
    if len(op.inputs) > bias_index and op.inputs[bias_index] >= 0:
        bias = b.const_value(op.inputs[bias_index])
        if bias is None or bias.dtype != np.int32:
            raise b.fail(op, "an int8 convolution needs a constant int32 bias")
        inputs.append(b.const(bias, hint="qb"))
    y = b.one("QLinearConv", inputs, **attrs)
    y = b.quantized_activation(y, op.opt("fused_activation_function", 0), out, op)
    b.set_raw(out, b.to_nhwc(y))


def lower_conv_2d(op, b: OnnxBuilder) -> None:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    _, kh, kw, i = b.shape(w)
    channels = b.shape(x)[3]
    if channels % i:
        raise b.fail(op, f"input channels {channels} not a multiple of filter depth {i}")
    _conv_nchw(op, b, x, w, out, (0, 3, 1, 2), channels // i, kh, kw)


def _conv_nchw(op, b: OnnxBuilder, x: int, w: int, out: int, perm: tuple, group: int,
               kh: int, kw: int) -> None:
    """ONNX Conv (or QLinearConv) of a TFLite conv/depthwise node: filters permuted by ``perm``
    to [M, C/group, kh, kw] (the quantized axis lands on 0), NCHW inside, NHWC at the edges."""
    sh, sw = op.opt("stride_h", 1), op.opt("stride_w", 1)
    dh, dw = op.opt("dilation_h_factor", 1), op.opt("dilation_w_factor", 1)
    attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw], group=group,
                 pads=_pads_2d(op, b, x, out, kh, kw, sh, sw, dh, dw))
    if b.qlinear and _qlinear_ok(op, b, x, w, out):
        return _qlinear_conv(op, b, x, w, out, b.const_value(w).transpose(*perm), 2, **attrs)
    weight = b.weight(op, w, lambda a: np.ascontiguousarray(a.transpose(*perm)), axis_after=0)
    y = b.one("Conv", [b.to_nchw(b.get(x)), weight] + _bias(op, b, 2), **attrs)
    y = b.activation(y, op.opt("fused_activation_function", 0), op)
    b.set(out, b.to_nhwc(y))


def lower_depthwise_conv_2d(op, b: OnnxBuilder) -> None:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    _, kh, kw, oc = b.shape(w)
    channels = b.shape(x)[3]
    if oc % channels:
        raise b.fail(op, f"output channels {oc} not a multiple of input channels {channels}")
    # [1, kh, kw, C*m] -> [C*m, 1, kh, kw]; the quantized axis 3 becomes 0
    _conv_nchw(op, b, x, w, out, (3, 0, 1, 2), channels, kh, kw)


def lower_transpose_conv(op, b: OnnxBuilder) -> None:
    w, x, out = op.inputs[1], op.inputs[2], op.outputs[0]
    _, kh, kw, _ = b.shape(w)
    _, h, wd, _ = b.shape(x)
    _, oh, ow, _ = b.shape(out)
    sh, sw = op.opt("stride_h", 1), op.opt("stride_w", 1)
    pads = [0, 0, 0, 0]
    if op.opt("padding", 0) == 0:  # SAME: the forward conv's padding, output cropped by it
        top, bottom = _same_pads(oh, h, kh, sh, 1)
        left, right = _same_pads(ow, wd, kw, sw, 1)
        pads = [top, left, bottom, right]
    extra_h = oh - ((h - 1) * sh + kh - pads[0] - pads[2])
    extra_w = ow - ((wd - 1) * sw + kw - pads[1] - pads[3])
    if extra_h < 0 or extra_w < 0:
        raise b.fail(op, "output shape smaller than the transposed convolution's")
    # [O, kh, kw, I] -> ONNX ConvTranspose [I, O, kh, kw]; the quantized axis 0 becomes 1
    weight = b.weight(op, w, lambda a: np.ascontiguousarray(a.transpose(3, 0, 1, 2)), axis_after=1)
    attrs = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": pads}
    if extra_h or extra_w:
        attrs["output_padding"] = [extra_h, extra_w]
    y = b.one("ConvTranspose", [b.to_nchw(b.get(x)), weight] + _bias(op, b, 3), **attrs)
    y = b.activation(y, op.opt("fused_activation_function", 0), op)
    b.set(out, b.to_nhwc(y))


def lower_fully_connected(op, b: OnnxBuilder) -> None:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    if op.opt("weights_format", 0) != 0:
        raise b.fail(op, "shuffled weights are not supported")
    o, k = b.shape(w)
    xs = b.shape(x)
    value = b.get(x)
    if (len(xs) > 2 and xs[-1] == k and tuple(b.shape(out)) == (*xs[:-1], o) and not b.quantized(w)
            and b.const_value(w) is not None):
        # float, N-D input keeping its leading dims: one MatMul (no Reshape -> Gemm -> Reshape);
        # ONNX Runtime flattens the leading dims itself and fuses a bias Add into it
        y = b.one("MatMul", [value, b.weight(op, w, lambda v: np.ascontiguousarray(v.T))])
        bias = _bias(op, b, 2)
        if bias:
            y = b.one("Add", [y, bias[0]])
        b.set(out, b.activation(y, op.opt("fused_activation_function", 0), op))
        return
    if len(xs) != 2 or xs[-1] != k:
        value = b.reshape(value, [-1, k])
    weight = b.weight(op, w, axis_after=0) if b.const_value(w) is not None else b.get(w)
    y = b.one("Gemm", [value, weight] + _bias(op, b, 2), transB=1)
    y = b.activation(y, op.opt("fused_activation_function", 0), op)
    if tuple(b.shape(out)) != (int(np.prod(xs)) // k, o):
        y = b.reshape(y, b.shape(out))
    b.set(out, y)


def lower_batch_matmul(op, b: OnnxBuilder) -> None:
    x, y, out = op.inputs[0], op.inputs[1], op.outputs[0]
    a, c = b.get(x), b.get(y)
    for flag, name, t in (("adj_x", "a", x), ("adj_y", "c", y)):
        if op.opt(flag, False):
            rank = len(b.shape(t))
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
            if name == "a":
                a = b.one("Transpose", [a], perm=perm)
            else:
                c = b.one("Transpose", [c], perm=perm)
    b.set(out, b.one("MatMul", [a, c]))


def _pool(op, b: OnnxBuilder, onnx_op: str, **extra) -> None:
    x, out = op.inputs[0], op.outputs[0]
    kh, kw = op.opt("filter_height", 1), op.opt("filter_width", 1)
    sh, sw = op.opt("stride_h", 1), op.opt("stride_w", 1)
    y = b.one(onnx_op, [b.to_nchw(b.get(x))], kernel_shape=[kh, kw], strides=[sh, sw],
              pads=_pads_2d(op, b, x, out, kh, kw, sh, sw), **extra)
    y = b.activation(y, op.opt("fused_activation_function", 0), op)
    b.set(out, b.to_nhwc(y))


def lower_average_pool_2d(op, b: OnnxBuilder) -> None:
    _pool(op, b, "AveragePool", count_include_pad=0)


def lower_max_pool_2d(op, b: OnnxBuilder) -> None:
    _pool(op, b, "MaxPool")


def _resize(op, b: OnnxBuilder, mode: str) -> None:
    x, out = op.inputs[0], op.outputs[0]
    align, half = op.opt("align_corners", False), op.opt("half_pixel_centers", False)
    attrs = {"mode": mode}
    if mode == "linear":
        attrs["coordinate_transformation_mode"] = ("align_corners" if align else
                                                   "half_pixel" if half else "asymmetric")
    else:
        if align:
            attrs.update(coordinate_transformation_mode="align_corners", nearest_mode="round_prefer_ceil")
        elif half:
            attrs.update(coordinate_transformation_mode="tf_half_pixel_for_nn", nearest_mode="floor")
        else:
            attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    n, oh, ow, c = b.shape(out)
    sizes = b.const(np.array([n, c, oh, ow], np.int64))
    y = b.one("Resize", [b.to_nchw(b.get(x)), "", "", sizes], **attrs)
    b.set(out, b.to_nhwc(y))


def lower_resize_bilinear(op, b: OnnxBuilder) -> None:
    _resize(op, b, "linear")


def lower_resize_nearest_neighbor(op, b: OnnxBuilder) -> None:
    _resize(op, b, "nearest")


def _depth_space(op, b: OnnxBuilder, onnx_op: str) -> None:
    attrs = {"blocksize": int(op.opt("block_size", 1))}
    if onnx_op == "DepthToSpace":
        attrs["mode"] = "DCR"
    y = b.one(onnx_op, [b.to_nchw(b.get(op.inputs[0]))], **attrs)
    b.set(op.outputs[0], b.to_nhwc(y))


def lower_depth_to_space(op, b: OnnxBuilder) -> None:
    _depth_space(op, b, "DepthToSpace")


def lower_space_to_depth(op, b: OnnxBuilder) -> None:
    _depth_space(op, b, "SpaceToDepth")


LOWERINGS = {
    "CONV_2D": lower_conv_2d, "DEPTHWISE_CONV_2D": lower_depthwise_conv_2d,
    "TRANSPOSE_CONV": lower_transpose_conv, "FULLY_CONNECTED": lower_fully_connected,
    "BATCH_MATMUL": lower_batch_matmul, "AVERAGE_POOL_2D": lower_average_pool_2d,
    "MAX_POOL_2D": lower_max_pool_2d, "RESIZE_BILINEAR": lower_resize_bilinear,
    "RESIZE_NEAREST_NEIGHBOR": lower_resize_nearest_neighbor, "DEPTH_TO_SPACE": lower_depth_to_space,
    "SPACE_TO_DEPTH": lower_space_to_depth,
}

__all__ = ["LOWERINGS", "LoweringError"]
