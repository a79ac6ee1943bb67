"""3-D convolutions: CONV_3D and CONV_3D_TRANSPOSE (float32, LiteRT's conv3d.cc and
conv3d_transpose.cc).

Layouts: input NDHWC; CONV_3D filter [kd, kh, kw, in, out], CONV_3D_TRANSPOSE filter
[kd, kh, kw, out, in] with inputs (output_shape int32[5], filter, input, bias?).
Options (Conv3DOptions): padding (0 SAME, 1 VALID), stride_{d,h,w}, dilation_{d,h,w}_factor,
fused_activation_function (clamped, as LiteRT's conv kernels do).

Output sizes and padding follow LiteRT's ComputePadding3DValues: SAME gives
ceil(in / stride), VALID ceil((in - effective_kernel + 1) / stride); the padding before is
half the total (the odd element goes after). The transpose derives its padding from the
requested output size the same way (as the forward conv that the transpose inverts).

Both are computed tap by tap: for each of the kd*kh*kw kernel offsets one float32 matmul
of [positions, in] x [in, out], accumulated into the output (the forward conv reads strided
views of the zero-padded input; the transpose adds into strided views of a padded output
which is then cropped). LiteRT's optimized kernel runs an im2col GEMM instead, so sums are
ordered differently: results agree to float32 rounding (~1e-6 relative), not bit for bit.
"""
from __future__ import annotations

import numpy as np

from .activation_fn import apply_fused_activation, check_activation
from .base import Kernel, register


def _out_size(padding: int, size: int, kernel: int, stride: int, dilation: int) -> int:
    effective = (kernel - 1) * dilation + 1
    if padding == 0:  # SAME
        return (size + stride - 1) // stride
    return max((size + stride - effective) // stride, 0)


def _pad_before(size: int, kernel: int, stride: int, dilation: int, out: int) -> int:
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2


class _Conv3DBase(Kernel):
    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.padding = int(o.get("padding", 0))
        self.strides = (int(o.get("stride_d", 0)), int(o.get("stride_h", 0)), int(o.get("stride_w", 0)))
        self.dilations = (int(o.get("dilation_d_factor", 1)), int(o.get("dilation_h_factor", 1)),
                          int(o.get("dilation_w_factor", 1)))
        try:
            self.activation = check_activation(o.get("fused_activation_function", 0))
        except ValueError as e:
            raise self.fail(str(e)) from None

    def check_common(self, x, w, bias, out, out_channels: int) -> None:
        if len(x.shape) != 5 or len(w.shape) != 5:
            raise self.fail(f"input and filter must be 5-D, got shapes {list(x.shape)} and {list(w.shape)}")
        if x.dtype != np.float32 or w.dtype != np.float32 or out.dtype != np.float32:
            raise self.fail(f"input, filter and output must be float32, got {x.dtype}, {w.dtype}, {out.dtype}")
        if bias is not None and (bias.dtype != np.float32 or bias.size != out_channels):
            raise self.fail(f"bias must be float32 with {out_channels} values, got {bias.dtype} "
                            f"of shape {list(bias.shape)}")
        if min(self.strides) <= 0:
            raise self.fail(f"strides must be > 0, got {list(self.strides)}")
        if min(self.dilations) <= 0:
            raise self.fail(f"dilations must be > 0, got {list(self.dilations)}")
        if self.padding not in (0, 1):
            raise self.fail(f"unknown padding {self.padding}")
        if min(x.shape[1:]) <= 0 or min(w.shape) <= 0:
            raise self.fail(f"empty input {list(x.shape)} or filter {list(w.shape)}")

    def finish(self, out: np.ndarray, bias) -> None:
        if bias is not None:
            np.add(out, bias.reshape(-1), out=out)
        apply_fused_activation(out, self.activation)


@register("CONV_3D", kind="float")
class Conv3D(_Conv3DBase):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "input, filter[, bias]", 2, optional=1)
        x, w = inputs[0], inputs[1]
        bias = inputs[2] if len(inputs) == 3 else None
        self.check_common(x, w, bias, outputs[0], w.shape[4] if len(w.shape) == 5 else 0)
        if x.shape[4] != w.shape[3]:
            raise self.fail(f"input channels {x.shape[4]} differ from the filter's {w.shape[3]}")
        self.kernel = tuple(w.shape[:3])
        spatial = tuple(x.shape[1:4])
        self.out_spatial = tuple(_out_size(self.padding, n, k, s, d)
                                 for n, k, s, d in zip(spatial, self.kernel, self.strides, self.dilations))
        self.pads = tuple(_pad_before(n, k, s, d, o) for n, k, s, d, o in
                          zip(spatial, self.kernel, self.strides, self.dilations, self.out_spatial))
        # padded extent so that every tap's strided view stays inside
        self.padded = tuple(max(p + n, (o - 1) * s + (k - 1) * d + 1) for p, n, o, s, k, d in
                            zip(self.pads, spatial, self.out_spatial, self.strides, self.kernel, self.dilations))
        return [(x.shape[0],) + self.out_spatial + (w.shape[4],)]

    def eval(self, inputs, outputs):
        x, w = inputs[0], inputs[1]
        bias = inputs[2] if len(inputs) == 3 else None
        out = outputs[0]
        n, cin, cout = x.shape[0], x.shape[4], w.shape[4]
        od, oh, ow = self.out_spatial
        padded = np.zeros((n,) + self.padded + (cin,), np.float32)
        pd, ph, pw = self.pads
        padded[:, pd:pd + x.shape[1], ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
        acc = out.reshape(-1, cout)
        acc.fill(0)
        sd, sh, sw = self.strides
        dd, dh, dw = self.dilations
        for a in range(self.kernel[0]):
            for b in range(self.kernel[1]):
                for c in range(self.kernel[2]):
                    view = padded[:, a * dd:a * dd + (od - 1) * sd + 1:sd,
                                  b * dh:b * dh + (oh - 1) * sh + 1:sh,
                                  c * dw:c * dw + (ow - 1) * sw + 1:sw]
                    acc += view.reshape(-1, cin) @ w[a, b, c]
        self.finish(out, bias)


@register("CONV_3D_TRANSPOSE", kind="float")
class Conv3DTranspose(_Conv3DBase):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "output_shape, filter, input[, bias]", 3, optional=1)
        shape, w, x = inputs[:3]
        bias = inputs[3] if len(inputs) == 4 else None
        self.check_common(x, w, bias, outputs[0], w.shape[3] if len(w.shape) == 5 else 0)
        if shape.dtype != np.int32 or tuple(shape.shape) != (5,):
            raise self.fail(f"output_shape must be an int32 vector of 5, got {shape.dtype} of shape "
                            f"{list(shape.shape)}")
        if x.shape[4] != w.shape[4]:
            raise self.fail(f"input channels {x.shape[4]} differ from the filter's {w.shape[4]}")
        self.kernel = tuple(w.shape[:3])
        self.in_shape = tuple(x.shape)
        self.out_channels = w.shape[3]
        if shape.is_constant:
            return [self.output_shape(shape.data)]
        return [None]

    def output_shape(self, shape) -> tuple[int, ...]:
        dims = tuple(int(v) for v in np.asarray(shape).reshape(-1))
        if dims[0] != self.in_shape[0] or dims[4] != self.out_channels:
            raise self.fail(f"output_shape {list(dims)} must keep the batch {self.in_shape[0]} and have "
                            f"the filter's {self.out_channels} output channels")
        if min(dims) < 0:
            raise self.fail(f"output_shape {list(dims)} has a negative dimension")
        return dims

    def eval(self, inputs, outputs):
        shape, w, x = inputs[:3]
        bias = inputs[3] if len(inputs) == 4 else None
        dims = self.output_shape(shape)
        out = outputs[0]
        if out is None or out.shape != dims:
            out = np.empty(dims, np.float32)
        n, (d, h, wd), cin = x.shape[0], x.shape[1:4], x.shape[4]
        cout = self.out_channels
        out_spatial = dims[1:4]
        pads = [_pad_before(o, k, s, dl, i) for o, k, s, dl, i in
                zip(out_spatial, self.kernel, self.strides, self.dilations, (d, h, wd))]
        sd, sh, sw = self.strides
        dd, dh, dw = self.dilations
        # full (uncropped) output: every input position scatters a whole kernel window
        full = tuple(max((i - 1) * s + (k - 1) * dl + 1, p + o) for i, s, k, dl, p, o in
                     zip((d, h, wd), self.strides, self.kernel, self.dilations, pads, out_spatial))
        buf = np.zeros((n,) + full + (cout,), np.float32)
        cols = x.reshape(-1, cin)
        for a in range(self.kernel[0]):
            for b in range(self.kernel[1]):
                for c in range(self.kernel[2]):
                    tap = (cols @ w[a, b, c].T).reshape(n, d, h, wd, cout)
                    buf[:, a * dd:a * dd + (d - 1) * sd + 1:sd,
                        b * dh:b * dh + (h - 1) * sh + 1:sh,
                        c * dw:c * dw + (wd - 1) * sw + 1:sw] += tap
        pd, ph, pw = pads
        out[...] = buf[:, pd:pd + out_spatial[0], ph:ph + out_spatial[1], pw:pw + out_spatial[2]]
        self.finish(out, bias)
        return [out]
