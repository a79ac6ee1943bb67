"""Float convolutions: CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (NHWC).

Geometry follows LiteRT (ComputePaddingHeightWidth): with dilation ``d`` the
effective kernel is ``(k - 1) * d + 1``; SAME gives ``ceil(in / stride)``
outputs, VALID ``(in - eff + stride) // stride``; the total padding is
``max((out - 1) * stride + eff - in, 0)`` with the odd element at the end.

Strategy (everything constant is planned in ``prepare``):

* CONV_2D is an im2col GEMM: the input is copied into a zero-bordered buffer
  kept between calls, a strided view ``[N, OH, OW, KH, KW, C]`` over it is
  copied into a ``[N*OH*OW, KH*KW*C]`` matrix and multiplied with the weights
  reshaped once to ``[KH*KW*C, O]`` (BLAS). 1x1 convolutions skip im2col.
  Grouped convolutions (filter depth < input depth) run one GEMM per group.
* DEPTHWISE_CONV_2D is a sum over the ``KH*KW`` taps of a strided slice of the
  padded input times that tap's weights (channels repeated for a depth multiplier),
  in LiteRT's order: from the bias, taps row by row (bit-exact with LiteRT).
* TRANSPOSE_CONV is one GEMM ``[N*H*W, I] x [I, KH*KW*O]`` followed by a
  col2im scatter-add of each tap into a strided slice of the output.

Init cost: prepare only validates and computes the output geometry (it runs for
every node in allocate_tensors). The rest is made on the first eval and kept: the
im2col / padded-input plan (``setup``), the packed constant filter (CONV_2D
[K, O], depthwise tiled taps, TRANSPOSE_CONV [I, KH*KW*O]); padded inputs and
im2col matrices live, in an interpreter, in its shared scratch (one buffer for
all layers, border rewritten every call).

The geometry helpers (:func:`window_plan`, :class:`PaddedInput`,
:func:`window_view`, :func:`tap_slice`, :func:`transpose_conv_plan`) are shared
with pooling and the quantized/hybrid convolutions.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .activation_fn import apply_fused_activation, check_activation
from .base import Kernel, TensorSpec, register

PADDING_SAME, PADDING_VALID = 0, 1


# -- geometry --------------------------------------------------------------------------
def output_size(in_size: int, k: int, stride: int, dilation: int, padding: int) -> int:
    """Output length along one axis, as LiteRT computes it."""
    eff = (k - 1) * dilation + 1
    if padding == PADDING_SAME:
        return (in_size + stride - 1) // stride
    if padding == PADDING_VALID:
        out = int((in_size - eff + stride) / stride)  # C division, truncating toward zero
        if out < 0:
            raise ValueError(f"a window of {eff} (kernel {k}, dilation {dilation}) does not fit in "
                             f"an input of {in_size} with VALID padding")
        return out
    raise ValueError(f"unknown padding {padding} (0 = SAME, 1 = VALID)")


class WindowPlan(NamedTuple):
    """Where a 2-D window (kernel or pooling filter) goes over an NHWC input (immutable)."""

    in_h: int
    in_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    out_h: int
    out_w: int
    pad_top: int
    pad_bottom: int
    pad_left: int
    pad_right: int

    @property
    def has_padding(self) -> bool:
        return bool(self.pad_top or self.pad_bottom or self.pad_left or self.pad_right)

    @property
    def padded_h(self) -> int:
        return self.in_h + self.pad_top + self.pad_bottom

    @property
    def padded_w(self) -> int:
        return self.in_w + self.pad_left + self.pad_right

    def valid_counts(self) -> np.ndarray:
        """[OH, OW] number of window positions inside the (unpadded) input (int64)."""
        def per_axis(out, stride, k, dil, pad, size):
            # taps j in [0, k) with 0 <= o*stride - pad + j*dil < size, in closed form
            counts = []
            for o in range(out):
                s = o * stride - pad
                lo = max(0, (dil - 1 - s) // dil)
                hi = min(k - 1, (size - 1 - s) // dil)
                counts.append(max(0, hi - lo + 1))
            return np.array(counts, dtype=np.int64)
        rows = per_axis(self.out_h, self.stride_h, self.k_h, self.dil_h, self.pad_top, self.in_h)
        cols = per_axis(self.out_w, self.stride_w, self.k_w, self.dil_w, self.pad_left, self.in_w)
        return np.multiply.outer(rows, cols)


def _axis_padding(in_size: int, k: int, stride: int, dil: int, padding: int) -> tuple[int, int, int]:
    out = output_size(in_size, k, stride, dil, padding)
    eff = (k - 1) * dil + 1
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2, total - total // 2


def window_plan(in_h: int, in_w: int, k_h: int, k_w: int, stride_h: int = 1, stride_w: int = 1,
                dil_h: int = 1, dil_w: int = 1, padding: int = PADDING_SAME) -> WindowPlan:
    """Plan a window over an ``in_h x in_w`` image; raises ValueError on bad geometry."""
    if min(k_h, k_w, stride_h, stride_w, dil_h, dil_w) < 1:
        for name, v in (("kernel height", k_h), ("kernel width", k_w), ("stride_h", stride_h),
                        ("stride_w", stride_w), ("dilation_h", dil_h), ("dilation_w", dil_w)):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
    if padding == PADDING_SAME:  # the common case, inline (prepare runs for every node)
        out_h, out_w = (in_h + stride_h - 1) // stride_h, (in_w + stride_w - 1) // stride_w
        pad_h = max((out_h - 1) * stride_h + (k_h - 1) * dil_h + 1 - in_h, 0)
        pad_w = max((out_w - 1) * stride_w + (k_w - 1) * dil_w + 1 - in_w, 0)
        top, left = pad_h // 2, pad_w // 2
        return WindowPlan(in_h, in_w, k_h, k_w, stride_h, stride_w, dil_h, dil_w, out_h, out_w,
                          top, pad_h - top, left, pad_w - left)
    out_h, top, bottom = _axis_padding(in_h, k_h, stride_h, dil_h, padding)
    out_w, left, right = _axis_padding(in_w, k_w, stride_w, dil_w, padding)
    return WindowPlan(in_h, in_w, k_h, k_w, stride_h, stride_w, dil_h, dil_w, out_h, out_w,
                      top, bottom, left, right)


class PaddedInput:
    """A reusable buffer holding an NHWC input inside a constant border.

    ``repeat`` > 1 repeats every channel that many times (channel ``c`` becomes
    ``c*repeat .. c*repeat+repeat-1``), as a depthwise convolution with a depth
    multiplier needs. ``fill`` is the border value (0, -inf, a zero point...).

    ``scratch`` (optional, ``nbytes -> uint8 array``) supplies the memory from a
    buffer shared with other kernels (:meth:`Runtime.scratch`): the buffer is then
    fetched and its border rewritten on every :meth:`fill_from` and on every
    :meth:`fill_rows` that starts at row 0, i.e. once per eval.
    """

    def __init__(self, shape: tuple[int, ...], plan: WindowPlan, dtype, fill=0, repeat: int = 1,
                 scratch: Callable[[int], np.ndarray] | None = None):
        self.shape, self.plan, self.repeat = tuple(shape), plan, repeat
        self.dtype, self.fill, self.scratch = np.dtype(dtype), fill, scratch
        self.passthrough = not plan.has_padding and repeat == 1
        # Made on the first fill (kernels are prepared at allocate_tensors; until a
        # kernel runs, its scratch costs neither time nor resident memory).
        self.buffer: np.ndarray | None = None
        self._inner: np.ndarray | None = None

    def _allocate(self) -> None:
        """Create the buffer; only its border is written, since every fill overwrites the
        interior (writing it here too would just page in memory that is not read yet)."""
        n, h, w, c = self.shape
        plan, fill = self.plan, self.fill
        shape = (n, plan.padded_h, plan.padded_w, c * self.repeat)
        if self.scratch is None:
            buf = np.empty(shape, dtype=self.dtype)
        else:
            buf = self.scratch(math.prod(shape) * self.dtype.itemsize).view(self.dtype).reshape(shape)
        top, left = plan.pad_top, plan.pad_left
        buf[:, :top] = fill
        buf[:, top + h:] = fill
        buf[:, top:top + h, :left] = fill
        buf[:, top:top + h, left + w:] = fill
        inner = buf[:, top:top + h, left:left + w, :]
        self._inner = inner.reshape(n, h, w, c, self.repeat) if self.repeat > 1 else inner
        self.buffer = buf

    def fill_from(self, x: np.ndarray) -> np.ndarray:
        """Copy ``x`` into the buffer's interior and return the padded array."""
        if self.passthrough:
            return x
        if self.buffer is None or self.scratch is not None:
            self._allocate()
        np.copyto(self._inner, x[..., None] if self.repeat > 1 else x)
        return self.buffer

    def fill_rows(self, x: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Copy only the input rows behind padded rows ``start:stop``; returns the padded array.

        Lets a caller fill the buffer block by block, just before reading it.
        """
        if self.passthrough:
            return x
        if self.buffer is None or (self.scratch is not None and start == 0):
            self._allocate()
        top = self.plan.pad_top
        lo, hi = max(start - top, 0), min(stop - top, x.shape[1])
        if lo < hi:
            np.copyto(self._inner[:, lo:hi], x[:, lo:hi, ..., None] if self.repeat > 1 else x[:, lo:hi])
        return self.buffer


def window_view(padded: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """Read-only strided view ``[N, OH, OW, KH, KW, C]`` of the windows over ``padded``."""
    n, _, _, c = padded.shape
    sn, sh, sw, sc = padded.strides
    return as_strided(padded, shape=(n, plan.out_h, plan.out_w, plan.k_h, plan.k_w, c),
                      strides=(sn, sh * plan.stride_h, sw * plan.stride_w, sh * plan.dil_h,
                               sw * plan.dil_w, sc), writeable=False)


def tap_slice(padded: np.ndarray, plan: WindowPlan, ky: int, kx: int) -> np.ndarray:
    """``[N, OH, OW, C]`` view of the input element under tap (ky, kx) for every output pixel."""
    y0, x0 = ky * plan.dil_h, kx * plan.dil_w
    return padded[:, y0:y0 + (plan.out_h - 1) * plan.stride_h + 1:plan.stride_h,
                  x0:x0 + (plan.out_w - 1) * plan.stride_w + 1:plan.stride_w, :]


def matrix_view(a: np.ndarray, cols: int) -> np.ndarray | None:
    """``a`` as a [rows, cols] view without copying, or None if it is not C-contiguous."""
    if not a.flags.c_contiguous:
        return None
    return a.reshape(-1, cols)


def add_bias_and_activate(out: np.ndarray, bias: np.ndarray | None, activation: int) -> None:
    if bias is not None:
        np.add(out, bias, out=out)
    apply_fused_activation(out, activation)


def _nhwc(kernel: Kernel, spec: TensorSpec | None, what: str) -> tuple[int, ...]:
    if spec is None:
        raise kernel.fail(f"{what} is missing")
    if len(spec.shape) != 4:
        raise kernel.fail(f"{what} must be 4-D, got shape {list(spec.shape)}")
    return tuple(spec.shape)


def _bias_of(kernel: Kernel, spec: TensorSpec | None, channels: int) -> np.ndarray | None:
    """The constant float bias, or None; checks its size."""
    if spec is None:
        return None
    size = math.prod(spec.shape)
    if size != channels:
        raise kernel.fail(f"bias has {size} elements, expected {channels}")
    return None if spec.data is None else np.asarray(spec.data, np.float32).reshape(channels)


def shared_scratch(kernel: Kernel, slot: int) -> Callable[[int], np.ndarray] | None:
    """``nbytes -> uint8 buffer`` from the interpreter's shared scratch ``slot``, or None when
    the kernel runs outside an interpreter (then it keeps private buffers)."""
    scratch = getattr(getattr(kernel.node, "runtime", None), "scratch", None)
    if scratch is None:
        return None
    return lambda nbytes: scratch(slot, nbytes)


def scratch_array(scratch: Callable[[int], np.ndarray] | None, shape: tuple, dtype) -> np.ndarray:
    """A work array of ``shape`` and ``dtype`` in the buffer ``scratch`` (from
    :func:`shared_scratch`), or a new array when there is none (outside an interpreter) or the
    array is empty."""
    dtype = np.dtype(dtype)
    size = math.prod(int(d) for d in shape)
    if scratch is None or size == 0:
        return np.empty(shape, dtype)
    return scratch(size * dtype.itemsize).view(dtype).reshape(shape)


def _plan_or_fail(kernel: Kernel, *args, **kw) -> WindowPlan:
    try:
        return window_plan(*args, **kw)
    except ValueError as e:
        raise kernel.fail(str(e)) from None


class _StridedWindowKernel(Kernel):
    """Reads the stride / dilation / padding / fused activation of Conv2D-style options."""

    prepare_reads_constants = False  # prepare keeps views of the filter and bias; eval reads them

    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.stride = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
        self.dilation = (int(o.get("dilation_h_factor", 1) or 1), int(o.get("dilation_w_factor", 1) or 1))
        self.padding = int(o.get("padding", PADDING_SAME))
        self.activation = check_activation(o.get("fused_activation_function", 0))


# -- CONV_2D ---------------------------------------------------------------------------
@register("CONV_2D", kind="float")
class Conv2D(_StridedWindowKernel):
    """Float CONV_2D: im2col + GEMM (grouped when the filter is shallower than the input)."""

    def prepare(self, inputs, outputs):
        x_shape = _nhwc(self, inputs[0], "input")
        w_shape = _nhwc(self, inputs[1], "filter")
        n, h, w, c = x_shape
        out_c, k_h, k_w, group_c = w_shape
        if group_c < 1 or c % group_c:
            raise self.fail(f"input depth {c} is not a multiple of the filter depth {group_c}")
        self.groups = c // group_c
        if out_c % self.groups:
            raise self.fail(f"{out_c} output channels cannot be split into {self.groups} groups")
        self.out_c, self.group_c = out_c, group_c
        self.plan = plan = _plan_or_fail(self, h, w, k_h, k_w, *self.stride, *self.dilation, padding=self.padding)
        self.bias = _bias_of(self, inputs[2] if len(inputs) > 2 else None, out_c)
        self.const_filter = inputs[1].data  # packed on first use (see packed_weights)
        self.weights = None
        self.x_shape = x_shape
        self.pointwise = k_h == 1 and k_w == 1 and self.groups == 1
        self.padded = self.col_shape = None  # planned by setup() on the first eval
        self.col = None
        return [(n, plan.out_h, plan.out_w, out_c)]

    def setup(self) -> None:
        """The im2col plan, made on the first eval (allocate_tensors only validates and sizes)."""
        n, c = self.x_shape[0], self.x_shape[3]
        plan = self.plan
        if not self.pointwise:
            self.padded = PaddedInput(self.x_shape, plan, np.float32, 0.0, scratch=shared_scratch(self, 0))
        self.col_scratch = shared_scratch(self, 1)
        rows = n * plan.out_h * plan.out_w
        self.col_shape = ((self.groups, rows, plan.k_h * plan.k_w * self.group_c) if self.groups > 1
                          else (rows, plan.k_h * plan.k_w * c))

    def weight_matrix(self, w: np.ndarray, contiguous: bool = True) -> np.ndarray:
        """[O, KH, KW, Cg] filter -> [KH*KW*Cg, O] (or [G, KH*KW*Cg, O/G] for grouped conv).

        With ``contiguous=False`` it is a transposed view (BLAS reads it as is): for
        weights that change between calls, where a copy would cost more than it saves.
        """
        out_c, k_h, k_w, cg = w.shape
        if self.groups == 1:
            mat = w.reshape(out_c, -1).T
        else:
            mat = w.reshape(self.groups, out_c // self.groups, k_h * k_w * cg).transpose(0, 2, 1)
        return np.ascontiguousarray(mat) if contiguous else mat

    def packed_weights(self, filter_value: np.ndarray) -> np.ndarray:
        """The GEMM weights for this call.

        A constant filter is packed into a contiguous [K, O] matrix once, on the first
        eval, and kept (as LiteRT caches prepacked constant GEMM operands on first use):
        allocate_tensors then copies no weights, and invoke pays no per-call repacking
        (BLAS reading the transposed view re-packs it on every call, which costs up to
        ~40% on the small-row GEMMs of late layers). A run-time filter uses the view.
        """
        if self.weights is not None:
            return self.weights
        if self.const_filter is not None:
            self.weights = self.weight_matrix(np.asarray(self.const_filter, np.float32))
            return self.weights
        return self.weight_matrix(np.asarray(filter_value, np.float32), contiguous=False)

    def col_buffer(self) -> np.ndarray:
        """The patch matrix's buffer: the runtime's shared scratch (shared with the other
        convolutions, so fetched on every call), or one private array outside an interpreter."""
        if self.col_scratch is not None:
            self.col = self.col_scratch(4 * math.prod(self.col_shape)).view(np.float32).reshape(self.col_shape)
        elif self.col is None:
            self.col = np.empty(self.col_shape, np.float32)
        return self.col

    def im2col(self, x: np.ndarray) -> np.ndarray:
        """The patch matrix for ``x`` (a reused buffer)."""
        if self.col_shape is None:
            self.setup()
        plan = self.plan
        if self.pointwise:
            if plan.stride_h == 1 and plan.stride_w == 1:
                flat = matrix_view(x, x.shape[-1])
                if flat is not None:
                    return flat
            return np.ascontiguousarray(x[:, ::plan.stride_h, ::plan.stride_w, :]).reshape(-1, x.shape[-1])
        col = self.col_buffer()
        view = window_view(self.padded.fill_from(x), plan)
        if self.groups == 1:
            np.copyto(col.reshape(view.shape), view)
        else:
            n, oh, ow, kh, kw, _ = view.shape
            grouped = view.reshape(n, oh, ow, kh, kw, self.groups, self.group_c)
            np.copyto(col.reshape(self.groups, n, oh, ow, kh, kw, self.group_c),
                      grouped.transpose(5, 0, 1, 2, 3, 4, 6))
        return col

    def eval(self, inputs, outputs):
        x = inputs[0]
        weights = self.packed_weights(inputs[1])
        bias = self.bias
        if bias is None and len(inputs) > 2 and inputs[2] is not None:
            bias = np.asarray(inputs[2], np.float32).reshape(-1)
        out = outputs[0]
        col = self.im2col(x)
        if self.groups == 1:
            target = matrix_view(out, self.out_c)
            if target is not None:
                np.matmul(col, weights, out=target)
            else:
                out[...] = np.matmul(col, weights).reshape(out.shape)
        else:
            res = np.matmul(col, weights)  # [G, rows, O/G]
            np.copyto(out.reshape(-1, self.groups, self.out_c // self.groups), res.transpose(1, 0, 2))
        add_bias_and_activate(out, bias, self.activation)


# -- DEPTHWISE_CONV_2D -----------------------------------------------------------------
@register("DEPTHWISE_CONV_2D", kind="float")
class DepthwiseConv2D(_StridedWindowKernel):
    """Float DEPTHWISE_CONV_2D: a multiply-add of strided slices per kernel tap."""

    def prepare(self, inputs, outputs):
        x_shape = _nhwc(self, inputs[0], "input")
        w_shape = _nhwc(self, inputs[1], "filter")
        n, h, w, c = x_shape
        one, k_h, k_w, out_c = w_shape
        if one != 1:
            raise self.fail(f"filter must have shape [1, KH, KW, O], got {list(w_shape)}")
        if c == 0 or out_c % c:
            raise self.fail(f"filter depth {out_c} is not a multiple of the input depth {c}")
        self.multiplier = out_c // c
        self.out_c = out_c
        self.plan = plan = _plan_or_fail(self, h, w, k_h, k_w, *self.stride, *self.dilation, padding=self.padding)
        self.bias = _bias_of(self, inputs[2] if len(inputs) > 2 else None, out_c)
        self.x_shape = x_shape
        self.const_filter = inputs[1].data
        self.taps = None  # tiled from a constant filter on the first eval
        self.bias_tiled = None  # likewise for a constant bias
        self.scratch = None
        self.padded = None  # made by setup() on the first eval
        return [(n, plan.out_h, plan.out_w, out_c)]

    def setup(self) -> None:
        """The padded-input buffer and row blocking, made on the first eval."""
        n = self.x_shape[0]
        self.block_rows = max(1, self.BLOCK_ELEMENTS // max(1, n * self.plan.out_w * self.out_c))
        self.padded = PaddedInput(self.x_shape, self.plan, np.float32, 0.0, repeat=self.multiplier,
                                  scratch=shared_scratch(self, 0))

    # Output rows are done in blocks of about this many elements, so that the
    # block, its scratch and the input rows it reads stay in cache over all taps.
    BLOCK_ELEMENTS = 32768

    def _accumulate_rows(self, padded: np.ndarray, taps: np.ndarray, bias_row: np.ndarray | None,
                         out: np.ndarray, tmp: np.ndarray, r0: int) -> None:
        """out = bias + sum over taps of (input under the tap) * (tap weights), for output rows r0..

        LiteRT's order, so results are bit-exact: the sum starts from the bias and adds
        the taps row by row, left to right (a tap over the zero padding adds nothing).
        """
        plan = self.plan
        rows = out.shape[1]
        span_w = (plan.out_w - 1) * plan.stride_w + 1
        for ky in range(plan.k_h):
            y0 = r0 * plan.stride_h + ky * plan.dil_h
            src_rows = padded[:, y0:y0 + (rows - 1) * plan.stride_h + 1:plan.stride_h]
            for kx in range(plan.k_w):
                x0 = kx * plan.dil_w
                src = src_rows[:, :, x0:x0 + span_w:plan.stride_w]
                if ky == 0 and kx == 0:
                    if bias_row is None:
                        np.multiply(src, taps[0, 0], out=out)
                    else:
                        np.multiply(src, taps[0, 0], out=tmp)
                        np.add(bias_row, tmp, out=out)
                else:
                    np.multiply(src, taps[ky, kx], out=tmp)
                    np.add(out, tmp, out=out)

    def tap_weights(self, w: np.ndarray) -> np.ndarray:
        """[1, KH, KW, O] -> [KH, KW, OW, O]: each tap's weights tiled over an output row.

        Tiling makes the multiply's operands share their layout, so numpy runs it
        over whole contiguous rows instead of one channel vector at a time.
        """
        w = np.asarray(w, np.float32)[0]
        return np.ascontiguousarray(np.broadcast_to(w[:, :, None, :], w.shape[:2] + (self.plan.out_w, self.out_c)))

    def bias_row(self, bias: np.ndarray) -> np.ndarray:
        """[O] -> [OW, O], the bias tiled over an output row (as :meth:`tap_weights`)."""
        return np.ascontiguousarray(np.broadcast_to(bias, (self.plan.out_w, self.out_c)))

    def eval(self, inputs, outputs):
        if self.padded is None:
            self.setup()
        out = outputs[0]
        taps = self.taps
        if taps is None:
            if self.const_filter is not None:
                taps = self.taps = self.tap_weights(self.const_filter)
            else:
                taps = self.tap_weights(inputs[1])
        bias_row = self.bias_tiled
        if bias_row is None:
            if self.bias is not None:
                bias_row = self.bias_tiled = self.bias_row(self.bias)
            elif len(inputs) > 2 and inputs[2] is not None:
                bias_row = self.bias_row(np.asarray(inputs[2], np.float32).reshape(-1))
        if out.size == 0:
            return
        x = inputs[0]
        if self.scratch is None:
            self.scratch = np.empty(out.shape, np.float32)
        plan = self.plan
        filled = 0  # padded rows [0, filled) hold the input already
        for r0 in range(0, plan.out_h, self.block_rows):
            r1 = min(plan.out_h, r0 + self.block_rows)
            needed = (r1 - 1) * plan.stride_h + (plan.k_h - 1) * plan.dil_h + 1
            padded = self.padded.fill_rows(x, filled, needed)
            filled = max(filled, needed)
            block = out[:, r0:r1]
            self._accumulate_rows(padded, taps, bias_row, block, self.scratch[:, :r1 - r0], r0)
            apply_fused_activation(block, self.activation)


# -- TRANSPOSE_CONV --------------------------------------------------------------------
def transpose_conv_plan(out_h: int, out_w: int, k_h: int, k_w: int, stride_h: int, stride_w: int,
                        padding: int) -> WindowPlan:
    """Padding of a transposed convolution producing ``out_h x out_w``.

    LiteRT computes it as for a forward convolution reading the *output* size.
    """
    return window_plan(out_h, out_w, k_h, k_w, stride_h, stride_w, 1, 1, padding)


@register("TRANSPOSE_CONV", kind="float")
class TransposeConv(Kernel):
    """Float TRANSPOSE_CONV: GEMM to per-tap contributions, then a col2im scatter-add.

    Inputs: output_shape (int32 [4]), weights [O, KH, KW, I], input [N, H, W, I], bias [O] (optional).
    """

    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.stride = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
        self.padding = int(o.get("padding", PADDING_SAME))
        self.activation = check_activation(o.get("fused_activation_function", 0))
        self._plans: dict[tuple[int, ...], tuple] = {}

    def prepare(self, inputs, outputs):
        if inputs[0] is None or inputs[0].size != 4:
            raise self.fail("output_shape must be a 1-D tensor of 4 elements")
        w_shape = _nhwc(self, inputs[1], "weights")
        self.x_shape = _nhwc(self, inputs[2], "input")
        out_c, k_h, k_w, in_c = w_shape
        if self.x_shape[3] != in_c:
            raise self.fail(f"input depth {self.x_shape[3]} != weights depth {in_c}")
        if self.stride[0] < 1 or self.stride[1] < 1:
            raise self.fail(f"strides must be >= 1, got {list(self.stride)}")
        self.out_c, self.k = out_c, (k_h, k_w)
        self.bias = _bias_of(self, inputs[3] if len(inputs) > 3 else None, out_c)
        self.const_filter = inputs[1].data
        self.weights = None  # packed from a constant filter on the first eval
        self._plans.clear()
        if inputs[0].data is not None:
            return [self.output_shape(inputs[0].data)]
        return [None]

    def weight_matrix(self, w: np.ndarray) -> np.ndarray:
        """[O, KH, KW, I] -> [I, KH*KW*O]."""
        w = np.asarray(w, np.float32)
        return np.ascontiguousarray(w.transpose(3, 1, 2, 0).reshape(w.shape[3], -1))

    def output_shape(self, value) -> tuple[int, ...]:
        shape = tuple(int(v) for v in np.asarray(value).reshape(-1))
        if len(shape) != 4 or any(d < 0 for d in shape):
            raise self.fail(f"output_shape must be 4 non-negative sizes, got {list(shape)}")
        if shape[0] != self.x_shape[0]:
            raise self.fail(f"output_shape batch {shape[0]} != input batch {self.x_shape[0]}")
        if shape[3] != self.out_c:
            raise self.fail(f"output_shape depth {shape[3]} != weights output channels {self.out_c}")
        return shape

    def _plan_for(self, shape: tuple[int, ...]):
        cached = self._plans.get(shape)
        if cached is None:
            n, h, w, _ = self.x_shape
            try:
                plan = transpose_conv_plan(shape[1], shape[2], *self.k, *self.stride, self.padding)
            except ValueError as e:
                raise self.fail(str(e)) from None
            if (plan.out_h, plan.out_w) != (h, w):
                raise self.fail(f"output_shape {list(shape)} does not match the input: a convolution of "
                                f"that size gives {plan.out_h}x{plan.out_w}, the input is {h}x{w}")
            full_h = max((h - 1) * self.stride[0] + self.k[0], plan.pad_top + shape[1])
            full_w = max((w - 1) * self.stride[1] + self.k[1], plan.pad_left + shape[2])
            acc = np.empty((n, full_h, full_w, self.out_c), np.float32)
            cached = self._plans[shape] = (plan, acc)
        return cached

    def eval(self, inputs, outputs):
        shape = self.output_shape(inputs[0])
        plan, acc = self._plan_for(shape)
        x = inputs[2]
        n, h, w, in_c = x.shape
        sh, sw = self.stride
        k_h, k_w = self.k
        weights = self.weights
        if weights is None:
            if self.const_filter is not None:
                weights = self.weights = self.weight_matrix(self.const_filter)
            else:
                weights = self.weight_matrix(inputs[1])
        bias = self.bias
        if bias is None and len(inputs) > 3 and inputs[3] is not None:
            bias = np.asarray(inputs[3], np.float32).reshape(-1)
        cols = np.matmul(x.reshape(-1, in_c), weights).reshape(n, h, w, k_h, k_w, self.out_c)
        acc.fill(0.0)
        for ky in range(k_h):
            for kx in range(k_w):
                dst = acc[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (w - 1) * sw + 1:sw, :]
                np.add(dst, cols[:, :, :, ky, kx, :], out=dst)
        result = acc[:, plan.pad_top:plan.pad_top + shape[1], plan.pad_left:plan.pad_left + shape[2], :]
        out = outputs[0]
        if out is None:
            out = np.empty(shape, np.float32)
        np.copyto(out, result)
        add_bias_and_activate(out, bias, self.activation)
        return [out] if outputs[0] is None else None
