"""MediaPipe's segmentation ops: Convolution2DTransposeBias, MaxPoolingWithArgmax2D, MaxUnpooling2D.

Semantics follow ``mediapipe/util/tflite/operations/{transpose_conv_bias,max_pool_argmax,
max_unpooling}.cc``. All three are float32 only and read a raw C struct as options.

* **Convolution2DTransposeBias** (options ``TfLiteTransposeConvParams``: padding, stride_width,
  stride_height): a transposed convolution ``input [N,H,W,I]``, ``weights [O,KH,KW,I]``,
  ``bias [O]`` with no output-shape input. Its output size is
  ``stride * (in - 1) + k - pad`` with ``pad = max(0, k - (in - 1) % stride - 1)`` for SAME
  (0 otherwise) and the output starts ``pad // 2`` into the full result. That is exactly
  the geometry of LiteRT's TRANSPOSE_CONV asked for that output size, so the op runs
  through the TRANSPOSE_CONV kernel of :mod:`..conv` (GEMM + col2im, then the bias).
* **MaxPoolingWithArgmax2D** (options ``TfLitePoolParams``: padding, stride_width,
  stride_height, filter_width, filter_height, activation): MAX_POOL_2D that also outputs,
  as float32, the position of each maximum inside its window, ``ky * filter_width + kx + 0.1``
  (the 0.1 makes the later float -> int truncation safe). Ties keep the first maximum in
  row-major window order; taps outside the input never win.
* **MaxUnpooling2D** (same options): scatters ``input`` into a zero output of
  ``H * filter_height x W * filter_width`` at the positions the indices name, relative to
  each input pixel's window origin ``(y * stride - pad, x * stride - pad)``; a later write to
  the same position wins, as MediaPipe's loop (y, x, channel order) does.
"""
from __future__ import annotations

import numpy as np

from ..activation_fn import apply_fused_activation, check_activation
from ..base import Kernel, TensorSpec, register
from ..conv import PADDING_SAME, PADDING_VALID, TransposeConv
from .options import (TFLITE_PADDING_NAMES, TFLITE_PADDING_SAME, TFLITE_PADDING_VALID,
                      c_struct_ints)

F32 = np.dtype(np.float32)

TRANSPOSE_CONV_PARAMS = ("padding", "stride_width", "stride_height")
POOL_PARAMS = ("padding", "stride_width", "stride_height", "filter_width", "filter_height", "activation")


def require_float32(kernel: Kernel, specs, what: str) -> None:
    for spec, name in zip(specs, what.split(", ")):
        if spec is not None and np.dtype(spec.dtype) != F32:
            raise kernel.fail(f"{name} must be float32, got {np.dtype(spec.dtype).name}")


def require_4d(kernel: Kernel, spec: TensorSpec | None, what: str) -> tuple[int, int, int, int]:
    if spec is None or len(spec.shape) != 4:
        raise kernel.fail(f"{what} must be 4-D NHWC, got {None if spec is None else list(spec.shape)}")
    return tuple(int(d) for d in spec.shape)


def compute_padding(stride: int, in_size: int, filter_size: int, out_size: int) -> int:
    """LiteRT's ComputePadding (dilation 1): half the total padding, at least 0."""
    total = (out_size - 1) * stride + filter_size - in_size
    return max(int(total / 2), 0)  # C division truncates toward zero


# -- Convolution2DTransposeBias ------------------------------------------------------------
@register("Convolution2DTransposeBias", kind="any")
class Convolution2DTransposeBias(TransposeConv):
    """Inputs: input [N,H,W,I], weights [O,KH,KW,I], bias [O]; output [N,OH,OW,O] (float32)."""

    def __init__(self, node):
        super().__init__(node)
        p = c_struct_ints(self, TRANSPOSE_CONV_PARAMS, "TfLiteTransposeConvParams")
        if p["padding"] not in TFLITE_PADDING_NAMES:
            raise self.fail(f"padding {p['padding']} is not a TfLitePadding (0 unknown, 1 SAME, 2 VALID)")
        self.mp_padding = p["padding"]
        self.stride = (p["stride_height"], p["stride_width"])
        if min(self.stride) < 1:
            raise self.fail(f"strides must be >= 1, got stride_height {self.stride[0]}, "
                            f"stride_width {self.stride[1]}")
        # MediaPipe pads only for SAME; any other value means no padding, as VALID.
        self.padding = PADDING_SAME if self.mp_padding == TFLITE_PADDING_SAME else PADDING_VALID
        self.activation = 0  # the op has no fused activation
        self._shape_value = None

    def mediapipe_output_shape(self, x_shape, w_shape) -> tuple[int, int, int, int]:
        n, in_h, in_w, _ = x_shape
        out_c, k_h, k_w, _ = w_shape
        s_h, s_w = self.stride
        pad_h = pad_w = 0
        if self.mp_padding == TFLITE_PADDING_SAME:
            pad_h = max(0, k_h - (in_h - 1) % s_h - 1)
            pad_w = max(0, k_w - (in_w - 1) % s_w - 1)
        return (n, s_h * (in_h - 1) + k_h - pad_h, s_w * (in_w - 1) + k_w - pad_w, out_c)

    def prepare(self, inputs, outputs):
        if len(inputs) != 3 or any(x is None for x in inputs) or len(outputs) != 1:
            raise self.fail("needs inputs (input, weights, bias) and one output")
        x, w, b = inputs
        require_float32(self, [x, w, b, outputs[0]], "input, weights, bias, output")
        x_shape = require_4d(self, x, "input")
        w_shape = require_4d(self, w, "weights")
        if len(b.shape) != 1 or b.shape[0] != w_shape[0]:
            raise self.fail(f"bias must be 1-D with {w_shape[0]} elements (the weights' output "
                            f"channels), got shape {list(b.shape)}")
        if x_shape[3] != w_shape[3]:
            raise self.fail(f"input depth {x_shape[3]} != weights depth {w_shape[3]}")
        if min(x_shape[1:3]) < 1:
            raise self.fail(f"input {list(x_shape)} has an empty spatial dimension")
        shape = self.mediapipe_output_shape(x_shape, w_shape)
        self._shape_value = np.array(shape, np.int32)
        shape_spec = TensorSpec(index=-1, name=f"{self.op_desc.name}.output_shape", shape=(4,),
                                dtype=np.dtype(np.int32), data=self._shape_value)
        return super().prepare([shape_spec, w, x, b], outputs)

    def eval(self, inputs, outputs):
        x, w, b = inputs
        return super().eval([self._shape_value, w, x, b], outputs)


# -- pooling with argmax ---------------------------------------------------------------------
class _PoolParamsKernel(Kernel):
    """Reads a ``TfLitePoolParams`` struct from the custom options."""

    def __init__(self, node):
        super().__init__(node)
        p = c_struct_ints(self, POOL_PARAMS, "TfLitePoolParams")
        self.mp_padding = p["padding"]
        self.stride = (p["stride_height"], p["stride_width"])
        self.filter = (p["filter_height"], p["filter_width"])
        for name in ("stride_height", "stride_width", "filter_height", "filter_width"):
            if p[name] < 1:
                raise self.fail(f"{name} must be >= 1, got {p[name]}")
        try:
            self.activation = check_activation(p["activation"])
        except ValueError as e:
            raise self.fail(str(e)) from None


@register("MaxPoolingWithArgmax2D", kind="any")
class MaxPoolingWithArgmax2D(_PoolParamsKernel):
    """Input [N,H,W,C] -> output [N,OH,OW,C] (maxima) and indices [N,OH,OW,C] (float32)."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or inputs[0] is None or len(outputs) != 2:
            raise self.fail("needs one input and two outputs (output, indices)")
        require_float32(self, [inputs[0], *outputs], "input, output, indices")
        n, h, w, c = require_4d(self, inputs[0], "input")
        (s_h, s_w), (f_h, f_w) = self.stride, self.filter
        if self.mp_padding == TFLITE_PADDING_SAME:
            out_h, out_w = (h + s_h - 1) // s_h, (w + s_w - 1) // s_w
        elif self.mp_padding == TFLITE_PADDING_VALID:
            out_h, out_w = int((h - f_h + s_h) / s_h), int((w - f_w + s_w) / s_w)
        else:
            raise self.fail(f"padding {self.mp_padding} is not SAME (1) or VALID (2)")
        if out_h < 0 or out_w < 0:
            raise self.fail(f"a {f_h}x{f_w} window does not fit in a {h}x{w} input with VALID padding")
        self.out_hw = (out_h, out_w)
        self.pad = (compute_padding(s_h, h, f_h, out_h), compute_padding(s_w, w, f_w, out_w))
        shape = (n, out_h, out_w, c)
        return [shape, shape]

    def eval(self, inputs, outputs):
        x = inputs[0]
        n, h, w, c = x.shape
        (out_h, out_w), (pad_t, pad_l) = self.out_hw, self.pad
        (s_h, s_w), (f_h, f_w) = self.stride, self.filter
        if min(n, out_h, out_w, c) == 0:
            empty = np.zeros((n, out_h, out_w, c), np.float32)
            return [empty, empty.copy()]
        need_h, need_w = (out_h - 1) * s_h + f_h, (out_w - 1) * s_w + f_w
        padded = np.full((n, max(need_h, pad_t + h), max(need_w, pad_l + w), c), -np.inf, np.float32)
        padded[:, pad_t:pad_t + h, pad_l:pad_l + w, :] = x
        best = np.full((n, out_h, out_w, c), np.finfo(np.float32).min, np.float32)
        where = np.zeros((n, out_h, out_w, c), np.int32)
        for ky in range(f_h):
            for kx in range(f_w):
                tap = padded[:, ky:ky + (out_h - 1) * s_h + 1:s_h, kx:kx + (out_w - 1) * s_w + 1:s_w, :]
                better = tap > best  # strict: the first maximum in row-major order stays
                np.copyto(best, tap, where=better)
                where[better] = ky * f_w + kx
        apply_fused_activation(best, self.activation)
        indices = where.astype(np.float32) + np.float32(0.1)
        return [best, indices]


@register("MaxUnpooling2D", kind="any")
class MaxUnpooling2D(_PoolParamsKernel):
    """Inputs: values [N,H,W,C], indices [N,H,W,C] (float32) -> output [N,H*FH,W*FW,C]."""

    def prepare(self, inputs, outputs):
        if len(inputs) != 2 or any(x is None for x in inputs) or len(outputs) != 1:
            raise self.fail("needs inputs (input, indices) and one output")
        require_float32(self, [*inputs, outputs[0]], "input, indices, output")
        n, h, w, c = require_4d(self, inputs[0], "input")
        if tuple(require_4d(self, inputs[1], "indices")) != (n, h, w, c):
            raise self.fail(f"indices shape {list(inputs[1].shape)} != input shape {[n, h, w, c]}")
        (s_h, s_w), (f_h, f_w) = self.stride, self.filter
        out_h, out_w = h * f_h, w * f_w
        self.pad = (compute_padding(s_h, out_h, f_h, h), compute_padding(s_w, out_w, f_w, w))
        self.out_shape = (n, out_h, out_w, c)
        grid = np.indices((n, h, w, c), dtype=np.int64)
        self._b, self._y0, self._x0, self._c = (grid[0], grid[1] * s_h - self.pad[0],
                                                grid[2] * s_w - self.pad[1], grid[3])
        return [self.out_shape]

    def eval(self, inputs, outputs):
        x, idx_f = inputs
        f_w = self.filter[1]
        idx = np.trunc(idx_f).astype(np.int64)  # C's float -> int conversion
        max_y = np.sign(idx) * (np.abs(idx) // f_w)  # C's division truncates toward zero...
        max_x = idx - max_y * f_w                     # ...and its remainder keeps the sign
        out_y, out_x = self._y0 + max_y, self._x0 + max_x
        _, out_h, out_w, _ = self.out_shape
        bad = (out_y < 0) | (out_y >= out_h) | (out_x < 0) | (out_x >= out_w)
        if bad.any():
            pos = tuple(int(v[0]) for v in np.nonzero(bad))
            raise self.fail(f"index {float(idx_f[pos])} at input position {list(pos)} points outside "
                            f"the {out_h}x{out_w} output")
        target = np.ravel_multi_index((self._b, out_y, out_x, self._c), self.out_shape).ravel()
        values = x.ravel()
        # Where several inputs land on one position the C loop (y, x, channel order) leaves
        # the last one; numpy does not promise an order for repeated indices, so keep only
        # the last write to each position.
        _, last_from_end = np.unique(target[::-1], return_index=True)
        if last_from_end.size != target.size:
            keep = target.size - 1 - last_from_end
            target, values = target[keep], values[keep]
        flat = np.zeros(int(np.prod(self.out_shape)), np.float32)
        flat[target] = values
        return [flat.reshape(self.out_shape)]
