"""Float FULLY_CONNECTED and BATCH_MATMUL, both straight BLAS GEMMs via np.matmul.

FULLY_CONNECTED: ``y = x @ W.T + b`` with weights ``[out, in]``; the input is
flattened to ``[size / in, in]`` and, with ``keep_num_dims``, the output keeps
the input's leading dimensions. The transposed constant weights are a free view
(BLAS reads the transpose flag), so prepare only validates and fixes shapes.

BATCH_MATMUL: ``adj_x`` / ``adj_y`` transpose the last two dimensions of the
operands; the batch dimensions broadcast numpy-style.
"""
from __future__ import annotations

import math
from functools import partial

import numpy as np

from .activation_fn import activation_range, apply_fused_activation, check_activation
from .base import Kernel, register


def fully_connected_shapes(in_shape: tuple[int, ...], w_shape: tuple[int, ...],
                           keep_num_dims: bool) -> tuple[int, tuple[int, ...]]:
    """(batch rows, output shape) of FULLY_CONNECTED; ValueError when they don't fit."""
    if len(w_shape) != 2:
        raise ValueError(f"weights must be 2-D [out, in], got shape {list(w_shape)}")
    units, depth = w_shape
    size = math.prod(int(d) for d in in_shape)
    if depth == 0:
        raise ValueError("weights have an input depth of 0")
    if size % depth:
        raise ValueError(f"input of shape {list(in_shape)} cannot be flattened into rows of {depth}")
    rows = size // depth
    if keep_num_dims:
        if not in_shape or in_shape[-1] != depth:
            raise ValueError(f"keep_num_dims needs the input's last dimension ({list(in_shape)}) "
                             f"to equal the weights' input depth {depth}")
        return rows, tuple(in_shape[:-1]) + (units,)
    return rows, (rows, units)


SMALL_GEMM_MACS = 1 << 18  # FULLY_CONNECTED.bind calls np.dot up to this many multiply-adds
SMALL_TILED_BIAS = 1 << 14  # and keeps its constant bias tiled over the rows up to this many outputs


@register("FULLY_CONNECTED", kind="float")
class FullyConnected(Kernel):
    """Float FULLY_CONNECTED (weights [out, in], optional bias, keep_num_dims)."""

    prepare_reads_constants = False  # keeps views of the filter and bias; reads them in eval

    def __init__(self, node):
        super().__init__(node)
        self.keep_num_dims = bool(self.options.get("keep_num_dims", False))
        self.activation = check_activation(self.options.get("fused_activation_function", 0))
        if int(self.options.get("weights_format", 0) or 0) != 0:
            raise self.fail("float FULLY_CONNECTED supports only the DEFAULT weights format")

    def prepare(self, inputs, outputs):
        if inputs[0] is None or inputs[1] is None:
            raise self.fail("input and weights are required")
        try:
            self.rows, out_shape = fully_connected_shapes(inputs[0].shape, inputs[1].shape,
                                                          self.keep_num_dims)
        except ValueError as e:
            raise self.fail(str(e)) from None
        self.units, self.depth = inputs[1].shape
        bias = inputs[2] if len(inputs) > 2 else None
        if bias is not None and bias.size != self.units:
            raise self.fail(f"bias has {bias.size} elements, expected {self.units}")
        self.weights_t = (np.asarray(inputs[1].data, np.float32).T if inputs[1].data is not None else None)
        self.bias = (np.asarray(bias.data, np.float32).reshape(-1)
                     if bias is not None and bias.data is not None else None)
        return [out_shape]

    def eval(self, inputs, outputs):
        x = inputs[0].reshape(self.rows, self.depth)
        weights_t = self.weights_t if self.weights_t is not None else np.asarray(inputs[1], np.float32).T
        bias = self.bias
        if bias is None and len(inputs) > 2 and inputs[2] is not None:
            bias = np.asarray(inputs[2], np.float32).reshape(-1)
        out = outputs[0]
        target = out.reshape(self.rows, self.units) if out.flags.c_contiguous else None
        if target is not None:
            np.matmul(x, weights_t, out=target)
        else:
            out[...] = np.matmul(x, weights_t).reshape(out.shape)
        if bias is not None:
            np.add(out, bias, out=out)
        apply_fused_activation(out, self.activation)

    def bind(self, inputs, outputs):
        x, out = inputs[0], outputs[0]
        if self.weights_t is None or not (x.flags.c_contiguous and out.flags.c_contiguous):
            return None  # eval's general path
        x = x.reshape(self.rows, self.depth)  # views of the fixed buffers, made once
        target = out.reshape(self.rows, self.units)
        weights_t, bias = self.weights_t, self.bias
        if bias is None and len(inputs) > 2 and inputs[2] is not None:
            if inputs[2].dtype != np.float32:
                return None
            bias = inputs[2].reshape(-1)
        low, high = activation_range(self.activation)
        # np.dot runs the same BLAS call as np.matmul with less dispatch; it loses on large GEMMs
        matmul = np.dot if self.rows * self.units * self.depth <= SMALL_GEMM_MACS else np.matmul
        add = np.add
        if bias is None and low is None and high is None:
            return partial(matmul, x, weights_t, target)
        if bias is self.bias and bias is not None and target.size <= SMALL_TILED_BIAS:
            # a constant bias repeated over the rows: a same-shape add skips numpy's broadcasting
            # (0.4 instead of 1.2 us for 24 x 64); the same additions, so the same bits
            bias = np.ascontiguousarray(np.broadcast_to(bias, target.shape))

        def run():
            matmul(x, weights_t, target)
            if bias is not None:
                add(target, bias, target)
            if low is not None or high is not None:
                np.clip(target, low, high, out=target)
        return run


def batch_matmul_shape(a_shape: tuple[int, ...], b_shape: tuple[int, ...], adj_x: bool,
                       adj_y: bool) -> tuple[int, ...]:
    """Output shape of BATCH_MATMUL; ValueError when the operands don't fit."""
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise ValueError(f"operands must have rank >= 2, got {list(a_shape)} and {list(b_shape)}")
    m, k = (a_shape[-1], a_shape[-2]) if adj_x else (a_shape[-2], a_shape[-1])
    k2, n = (b_shape[-1], b_shape[-2]) if adj_y else (b_shape[-2], b_shape[-1])
    if k != k2:
        raise ValueError(f"contracted dimensions differ: {k} (lhs {list(a_shape)}, adj_x={adj_x}) vs "
                         f"{k2} (rhs {list(b_shape)}, adj_y={adj_y})")
    try:
        batch = np.broadcast_shapes(tuple(a_shape[:-2]), tuple(b_shape[:-2]))
    except ValueError:
        raise ValueError(f"batch dimensions {list(a_shape[:-2])} and {list(b_shape[:-2])} "
                         f"do not broadcast") from None
    return tuple(batch) + (m, n)


@register("BATCH_MATMUL", kind="float")
class BatchMatMul(Kernel):
    """Float BATCH_MATMUL with adj_x / adj_y and broadcasting batch dimensions."""

    def __init__(self, node):
        super().__init__(node)
        self.adj_x = bool(self.options.get("adj_x", False))
        self.adj_y = bool(self.options.get("adj_y", False))

    def prepare(self, inputs, outputs):
        if inputs[0] is None or inputs[1] is None:
            raise self.fail("both operands are required")
        try:
            shape = batch_matmul_shape(inputs[0].shape, inputs[1].shape, self.adj_x, self.adj_y)
        except ValueError as e:
            raise self.fail(str(e)) from None
        self.rhs = None
        if inputs[1].data is not None:
            rhs = np.asarray(inputs[1].data, np.float32)
            self.rhs = rhs.swapaxes(-1, -2) if self.adj_y else rhs
        return [shape]

    def eval(self, inputs, outputs):
        a = inputs[0].swapaxes(-1, -2) if self.adj_x else inputs[0]
        b = self.rhs
        if b is None:
            b = inputs[1].swapaxes(-1, -2) if self.adj_y else inputs[1]
        np.matmul(a, b, out=outputs[0])

    def bind(self, inputs, outputs):
        a = inputs[0].swapaxes(-1, -2) if self.adj_x else inputs[0]
        b = self.rhs
        if b is None:
            b = inputs[1].swapaxes(-1, -2) if self.adj_y else inputs[1]
        return partial(np.matmul, a, b, outputs[0])
