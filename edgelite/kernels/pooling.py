"""Float 2-D pooling: AVERAGE_POOL_2D, MAX_POOL_2D and L2_POOL_2D (NHWC).

Windows use the convolution geometry of :mod:`.conv` (dilation 1). Padding never
counts: LiteRT's average and L2 pools divide by the number of window elements
inside the input, which ``prepare`` tabulates per output pixel, and the max pool
pads with ``-inf``.

The max pool is separable and order-free, so ``eval`` reduces in two passes over
strided slices: first along the width (``KW`` slices into a ``[N, Hp, OW, C]``
buffer), then along the height (``KH`` slices into the output) -- ``KH + KW``
vectorised passes instead of ``KH * KW``. The average and L2 pools instead add the
window's taps one by one, row by row and left to right, as LiteRT does, then the
average divides by the count and the L2 pool multiplies by its float32 reciprocal
(LiteRT's two kernels differ there): their float results are bit-exact.
"""
from __future__ import annotations

import numpy as np

from .activation_fn import apply_fused_activation, check_activation
from .base import Kernel, register
from ..runtime.budget import budget_of, nbytes_of
from .conv import PADDING_SAME, PaddedInput, WindowPlan, tap_slice, window_plan, window_view


def pool_plan(in_h: int, in_w: int, options: dict) -> WindowPlan:
    """The window plan of a Pool2DOptions table over an ``in_h x in_w`` input.

    A SAME window longer than ``in + (out - 1) * stride`` covers the whole axis at every
    output position (its taps past that lie in the padding, which never counts). Such an
    axis is planned with that length instead, centred the same way: the in-bounds taps, and
    so the results and the window counts, are unchanged, while the padded buffer stays
    within three times the input (a 16-million-row filter in a hostile file asked for
    gigabytes of padding before).
    """
    plan = window_plan(in_h, in_w, int(options.get("filter_height", 1)), int(options.get("filter_width", 1)),
                       int(options.get("stride_h", 1)), int(options.get("stride_w", 1)), 1, 1,
                       int(options.get("padding", PADDING_SAME)))
    reach_h = plan.in_h + (plan.out_h - 1) * plan.stride_h
    reach_w = plan.in_w + (plan.out_w - 1) * plan.stride_w
    if plan.k_h <= reach_h and plan.k_w <= reach_w:
        return plan
    k_h, top, bottom = ((reach_h, reach_h - plan.in_h, reach_h - plan.in_h) if plan.k_h > reach_h
                        else (plan.k_h, plan.pad_top, plan.pad_bottom))
    k_w, left, right = ((reach_w, reach_w - plan.in_w, reach_w - plan.in_w) if plan.k_w > reach_w
                        else (plan.k_w, plan.pad_left, plan.pad_right))
    return WindowPlan(plan.in_h, plan.in_w, k_h, k_w, plan.stride_h, plan.stride_w, 1, 1, plan.out_h, plan.out_w,
                      top, bottom, left, right)


def checked_pool_plan(kernel: Kernel, x) -> WindowPlan:
    """Check that ``x`` (a TensorSpec) is 4-D NHWC and return its pool plan; errors name the node."""
    if x is None or len(x.shape) != 4:
        raise kernel.fail(f"input must be 4-D NHWC, got {None if x is None else list(x.shape)}")
    try:
        return pool_plan(x.shape[1], x.shape[2], kernel.options)
    except ValueError as e:
        raise kernel.fail(str(e)) from None


def check_pool_memory(kernel: Kernel, x_shape, plan: WindowPlan, dtype) -> None:
    """Ask the interpreter's memory budget for a pool's padded input and row buffer before
    they are made (a ResourceError naming the node when they do not fit)."""
    budget = budget_of(kernel.node)
    if budget is None:
        return
    n, _, _, c = x_shape
    nbytes = nbytes_of((n, plan.padded_h, plan.padded_w + plan.out_w, c), dtype)
    budget.check(nbytes, f"{kernel.op_desc.name} (node {kernel.node.index}) padded input and row buffer",
                 f" (window {plan.k_h}x{plan.k_w} over {plan.in_h}x{plan.in_w})")


def separable_reduce(padded: np.ndarray, plan: WindowPlan, ufunc, row_buffer: np.ndarray,
                     out: np.ndarray) -> np.ndarray:
    """``out[n, oy, ox, c] = ufunc-reduce of padded over the window of (oy, ox)``."""
    sw, sh = plan.stride_w, plan.stride_h
    span_w = (plan.out_w - 1) * sw + 1
    span_h = (plan.out_h - 1) * sh + 1
    np.copyto(row_buffer, padded[:, :, 0:span_w:sw, :])
    for kx in range(1, plan.k_w):
        ufunc(row_buffer, padded[:, :, kx:kx + span_w:sw, :], out=row_buffer)
    np.copyto(out, row_buffer[:, 0:span_h:sh])
    for ky in range(1, plan.k_h):
        ufunc(out, row_buffer[:, ky:ky + span_h:sh], out=out)
    return out


FEW_WINDOWS = 16  # up to this many windows, sum each window in one numpy reduction


def sequential_sum(padded: np.ndarray, plan: WindowPlan, out: np.ndarray) -> np.ndarray:
    """``out[n, oy, ox, c] = sum of padded over the window of (oy, ox)``, taps added in
    row-major order (LiteRT's order; a tap in the zero padding adds nothing)."""
    if out.shape[0] * plan.out_h * plan.out_w <= FEW_WINDOWS:
        # a global pool: one reduction over the windows' (ky, kx) axes, which numpy walks
        # row by row (the ky stride is the larger), beats a numpy call per tap
        np.add.reduce(window_view(padded, plan), axis=(3, 4), out=out)
        return out
    for ky in range(plan.k_h):
        for kx in range(plan.k_w):
            tap = tap_slice(padded, plan, ky, kx)
            if ky == 0 and kx == 0:
                np.copyto(out, tap)
            else:
                np.add(out, tap, out=out)
    return out


class _Pool2D(Kernel):
    """Shared prepare/eval; subclasses set the border value and the reduction."""

    fill = 0.0
    reducer = np.add

    def __init__(self, node):
        super().__init__(node)
        self.activation = check_activation(self.options.get("fused_activation_function", 0))

    def prepare(self, inputs, outputs):
        x = inputs[0]
        self.plan = plan = checked_pool_plan(self, x)
        n, h, w, c = x.shape
        check_pool_memory(self, x.shape, plan, np.float32)
        self.padded = PaddedInput(x.shape, plan, np.float32, self.fill)
        # Made on the first eval: allocate_tensors only plans.
        self.row_buffer: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        self._inverse_counts: np.ndarray | None = None
        return [(n, plan.out_h, plan.out_w, c)]

    @property
    def counts(self) -> np.ndarray:
        """[OH, OW, 1] in-bounds window sizes (at least 1), the divisor of the mean-like pools."""
        if self._counts is None:
            counts = self.plan.valid_counts().astype(np.float32)
            self._counts = np.maximum(counts, 1.0)[:, :, None]
        return self._counts

    @property
    def inverse_counts(self) -> np.ndarray:
        """``1 / counts`` in float32."""
        if self._inverse_counts is None:
            self._inverse_counts = np.float32(1) / self.counts
        return self._inverse_counts

    def pooled(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        if out.size == 0:
            return out
        if self.reducer is np.add:
            return sequential_sum(self.padded.fill_from(x), self.plan, out)
        if self.row_buffer is None:
            n, _, _, c = x.shape
            self.row_buffer = np.empty((n, self.plan.padded_h, self.plan.out_w, c), np.float32)
        return separable_reduce(self.padded.fill_from(x), self.plan, self.reducer, self.row_buffer, out)


@register("AVERAGE_POOL_2D", kind="float")
class AveragePool2D(_Pool2D):
    """Mean over the in-bounds part of each window."""

    def eval(self, inputs, outputs):
        out = self.pooled(inputs[0], outputs[0])
        np.divide(out, self.counts, out=out)
        apply_fused_activation(out, self.activation)


@register("MAX_POOL_2D", kind="float")
class MaxPool2D(_Pool2D):
    """Max over each window (padding never wins)."""

    fill = -np.inf
    reducer = np.maximum

    def eval(self, inputs, outputs):
        out = self.pooled(inputs[0], outputs[0])
        apply_fused_activation(out, self.activation)


@register("L2_POOL_2D", kind="float")
class L2Pool2D(_Pool2D):
    """sqrt(mean of squares) over the in-bounds part of each window."""

    def eval(self, inputs, outputs):
        out = self.pooled(np.square(inputs[0]), outputs[0])
        np.multiply(out, self.inverse_counts, out=out)  # LiteRT multiplies by 1/count here
        np.sqrt(out, out=out)
        apply_fused_activation(out, self.activation)
