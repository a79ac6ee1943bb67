"""How far an op's output may overlap its input in TFLite Micro's reference kernels.

An op's output may start ``D`` bytes *below* its input's buffer (``D`` >= 0) when no write of
the kernel ever lands on an input element that a later step still reads. The reference kernels
of TFLM walk the output in order (batch, row, column, channel), and the input each output pixel
still needs starts at a known index, so the smallest safe ``D`` follows from their loops:

* element-by-element ops (ADD/SUB/MUL... without broadcasting, activations, QUANTIZE with equal
  element sizes): element ``i`` is read before it is written, so ``D = 0`` (fully in place);
* RESHAPE / SQUEEZE / EXPAND_DIMS: TFLM skips the copy when input and output share memory;
* CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D: writing output pixel ``p`` (all its
  channels) must stay below the first input element that pixel ``p`` or any later pixel reads,
  ``L(p) = (max(0, y*sh - pad_top) * W + max(0, x*sw - pad_left)) * C_in``, so
  ``D = max_p((p + 1) * C_out * out_size - min_{q >= p} L(q) * in_size)``.

* FULLY_CONNECTED: output row ``b`` is written channel by channel while input row ``b`` is still
  read, so ``D = max_b((b + 1) * O * out_size - b * K * in_size)``;
* UNIDIRECTIONAL_SEQUENCE_LSTM: each step reads its input block before copying the new hidden
  state into its output block, in memory order: ``D = max(0, output - input)``.

A 1x1 convolution thus needs only its larger tensor plus one pixel; a 3x3 one about one row
more than its input. The pair then takes ``max(D + input, output)`` bytes instead of their sum.
"""
from __future__ import annotations

import numpy as np

from ..ir import Operator, Subgraph
from .lifetimes import tensor_bytes

ELEMENTWISE = {
    "ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE",
    "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH", "ABS", "NEG",
    "QUANTIZE", "ELU", "FLOOR", "CEIL", "ROUND", "SQRT", "RSQRT", "SQUARE", "EXP", "LOG", "SIN", "COS",
}
NO_COPY_WHEN_SAME = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS"}
WINDOWED = {"CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"}
ROW_BY_ROW = {"FULLY_CONNECTED"}  # row b of the output from row b of the input, channel by channel
STEP_BY_STEP = {"UNIDIRECTIONAL_SEQUENCE_LSTM"}  # reads step k's input, then copies its output


def _same_padding(in_size: int, out_size: int, k: int, stride: int, dilation: int) -> int:
    eff = (k - 1) * dilation + 1
    total = max((out_size - 1) * stride + eff - in_size, 0)
    return total // 2


def _windowed_distance(op: Operator, sg: Subgraph) -> int | None:
    x, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(out.shape) != 4 or x.shape[0] != 1:
        return None
    _, h, w, c = x.shape
    _, oh, ow, oc = out.shape
    if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        f = sg.tensors[op.inputs[1]]
        kh, kw = f.shape[1], f.shape[2]
    else:
        kh, kw = int(op.opt("filter_height", 1)), int(op.opt("filter_width", 1))
    sh, sw = int(op.opt("stride_h", 1)), int(op.opt("stride_w", 1))
    if sh < 1 or sw < 1:
        return None
    dh, dw = int(op.opt("dilation_h_factor", 1) or 1), int(op.opt("dilation_w_factor", 1) or 1)
    same = int(op.opt("padding", 0)) == 0  # Padding.SAME
    pt = _same_padding(h, oh, kh, sh, dh) if same else 0
    pl = _same_padding(w, ow, kw, sw, dw) if same else 0
    ys = np.maximum(np.arange(oh) * sh - pt, 0)
    xs = np.maximum(np.arange(ow) * sw - pl, 0)
    first_needed = (ys[:, None] * w + xs[None, :]).reshape(-1).astype(np.int64) * c
    first_needed = np.minimum.accumulate(first_needed[::-1])[::-1]  # what any later pixel needs
    ein, eout = tensor_bytes(x) // max(x.shape[0] * h * w * c, 1), tensor_bytes(out) // max(oh * ow * oc, 1)
    written = (np.arange(1, oh * ow + 1, dtype=np.int64)) * oc * eout
    return max(0, int((written - first_needed * ein).max(initial=0)))


def overlap_distance(op: Operator, sg: Subgraph) -> int | None:
    """Bytes by which ``op``'s output must start below its first input (None: no overlap)."""
    outs = [o for o in op.outputs if o >= 0]
    if len(outs) != 1 or not op.inputs or op.inputs[0] < 0:
        return None
    x, out = sg.tensors[op.inputs[0]], sg.tensors[outs[0]]
    if op.name in NO_COPY_WHEN_SAME:
        return 0 if tensor_bytes(x) == tensor_bytes(out) else None
    if op.name in ELEMENTWISE:
        if x.dtype != out.dtype or tuple(x.shape) != tuple(out.shape):
            return None
        for i in op.inputs:  # no broadcasting: every activation input has the output's shape
            if i >= 0 and sg.tensors[i].data is None and tuple(sg.tensors[i].shape) != tuple(out.shape):
                return None
        return 0
    if op.name in WINDOWED:
        return _windowed_distance(op, sg)
    if op.name in ROW_BY_ROW:
        if not x.shape or not out.shape or len(op.inputs) < 2 or op.inputs[1] < 0:
            return None
        k = sg.tensors[op.inputs[1]].shape[-1]
        o = out.shape[-1]
        rows = tensor_bytes(x) // max(1, k)  # bytes per input element times rows
        ein = tensor_bytes(x) // max(1, int(np.prod(x.shape)))
        eout = tensor_bytes(out) // max(1, int(np.prod(out.shape)))
        n = rows // max(1, ein)
        b = np.arange(n, dtype=np.int64)
        return max(0, int(((b + 1) * o * eout - b * k * ein).max(initial=0)))
    if op.name in STEP_BY_STEP:
        # TFLM walks the steps in memory order (time-major: all batches of a step; batch-major: one
        # batch's steps): step k reads its input block, then copies its hidden state into output
        # block k, so the output may trail the input by what it outgrows it
        return max(0, tensor_bytes(out) - tensor_bytes(x))
    return None
