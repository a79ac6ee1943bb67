"""Float CONV_2D and TRANSPOSE_CONV in LiteRT's exact GEMM order, for hybrid models.

In a dynamic-range ("hybrid") model a float op that feeds a hybrid op decides how
that op quantizes its input on the fly (one scale per batch row): a last-bit
difference in the float value can move an int8 rounding step, which is far above
float tolerance at the output. The regular float kernels (:mod:`.conv`) use BLAS
and agree with LiteRT only to ~1e-7 relative; the kernels here reproduce LiteRT's
x86 build bit for bit (measured against ai-edge-litert on the zoo models) and are
chosen only for float nodes from which a hybrid op is reachable through float ops
(:func:`feeds_hybrid`), so pure float models keep the fast kernels. (Float
DEPTHWISE_CONV_2D and RESIZE_BILINEAR need no variant here: the regular kernels in
:mod:`.conv` and :mod:`.image` already follow LiteRT's order, at no cost.)

Measured orders (every product and sum rounded to float32, no fused multiply-add):

* CONV_2D as a GEMM ``out[m, o] = sum_k col[m, k] * w[o, k]`` (Eigen with 4-float
  SSE packets; M = output pixels over all batch items, O = output channels, K =
  im2col depth in (ky, kx, c) order), then ``+ bias``, then the clamp. Checked in
  this order:

  - ``M == 1`` or ``O == 1`` (a matrix-vector product, Eigen's row-major GEMV):
    lane ``l`` accumulates ``k = l, l + 4, ...`` over the first ``4 * (K // 4)``
    values, the lanes are reduced as ``(l0 + l2) + (l1 + l3)``, the remaining
    ``K % 4`` products are added one by one;
  - ``M + O + K < 20``: Eigen's coefficient-based product (:func:`coefficient_dot`);
  - otherwise Eigen's GEBP packet kernels (no FMA: 2 x 4 rows at most) cover the
    channels in blocks of 8, then one block of 4, then the ``O % 4`` left over
    one by one. For the first ``M - M % 4`` pixels: blocks of 8 sum sequentially
    over k from 0; the block of 4 sums even and odd k of the first
    ``8 * (K // 8)`` in two accumulators, adds them, then the rest in order; the
    left-over channels use 4 accumulators taking ``k = 0, 1, 2, 3 (mod 4)`` of
    the first ``4 * (K // 4)``, reduced as ``(a0 + a1) + (a2 + a3)``, then the
    remaining ``K % 4`` in order. The last ``M % 4`` pixels sum sequentially for
    every channel.
* TRANSPOSE_CONV (GEMM + col2im): the per-tap contributions are the GEMM above
  over the input depth; col2im adds them to a zeroed output input pixel by input
  pixel in row-major order (for one output pixel: taps in descending (ky, kx)
  order), then ``+ bias`` and the clamp. Its GEMM's rows are (ky, kx, o).

Eigen splits a long depth into blocks summed separately (measured: one block up to
K = 1000 at least, not at 1500), so these kernels are used only up to
:data:`MAX_SEQUENTIAL_DEPTH`. Dynamic-range quantization leaves float only weights of
fewer than 1024 values, so hybrid models stay well inside that.
"""
from __future__ import annotations

import math

import numpy as np

from .activation_fn import apply_fused_activation, check_activation
from .base import Kernel, lookup_pass_cached, op_data_kind, register
from .conv import TransposeConv
from .quantized_conv import conv_geometry, row_blocks

F32 = np.float32
LANES = 4  # SSE float packet of LiteRT's x86 Eigen build
MAX_SEQUENTIAL_DEPTH = 512  # GEMM depth (KH*KW*C, or input depth of TRANSPOSE_CONV)
EIGEN_COEFF_PRODUCT_LIMIT = 20  # EIGEN_GEMM_TO_COEFFBASED_THRESHOLD: tinier products go coefficient-wise


def op_kinds(sg) -> list[str]:
    """:func:`data_kind` of every op of subgraph ``sg``, computed once per kernel lookup pass
    (:func:`~.base.lookup_pass_cached`), so an edited graph is never judged by a stale list."""
    return lookup_pass_cached(("op_kinds", id(sg)), lambda: [op_data_kind(op, sg) for op in sg.operators])


def feeds_hybrid(node) -> bool:
    """True if a hybrid op consumes this node's outputs, directly or through float ops."""
    sg = node.subgraph
    kinds = op_kinds(sg)
    if "hybrid" not in kinds[node.index + 1:]:  # pure float models stop here
        return False
    reached = set(node.op.outputs)
    for j in range(node.index + 1, len(sg.operators)):
        op = sg.operators[j]
        if reached.isdisjoint(op.inputs):
            continue
        if kinds[j] == "hybrid":
            return True
        if kinds[j] == "float":
            reached.update(op.outputs)
    return False


def _conv_depth(node) -> int:
    w = node.tensor(node.op.inputs[1])
    return math.prod(w.shape[1:]) if len(w.shape) == 4 else 0


def grouped_dot(at: np.ndarray, wt: np.ndarray, groups: int, full: int) -> np.ndarray:
    """``[K, M]^T x [K, R] -> [R, M]`` summed as Eigen's GEBP kernels do.

    The products of ``k < full`` go to ``groups`` accumulators (``k % groups``), each
    summed in k order from 0; they are combined as ``a0``, ``a0 + a1`` or
    ``(a0 + a1) + (a2 + a3)``; the products of ``k >= full`` are then added in order.
    Channels x pixels layout: every numpy call runs over long contiguous rows.
    """
    depth, m = at.shape
    r = wt.shape[1]
    out = np.empty((r, m), F32)
    for c0, c1 in row_blocks(m, r, 1 << 17):  # blocks that stay in cache over the k loop
        tmp = np.empty((r, c1 - c0), F32)
        acc = [np.zeros((r, c1 - c0), F32) for _ in range(groups)]
        for k in range(full):
            np.multiply(wt[k][:, None], at[k, c0:c1], out=tmp)
            np.add(acc[k % groups], tmp, out=acc[k % groups])
        total = acc[0]
        if groups == 2:
            total = acc[0] + acc[1]
        elif groups == 4:
            total = (acc[0] + acc[1]) + (acc[2] + acc[3])
        for k in range(full, depth):
            np.multiply(wt[k][:, None], at[k, c0:c1], out=tmp)
            np.add(total, tmp, out=total)
        out[:, c0:c1] = total
    return out


def lane_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[M, K] x [O, K] -> [M, O]`` dot products as Eigen's SSE GEMV sums them (module doc)."""
    depth = a.shape[1]
    full = depth - depth % LANES
    lanes = np.zeros((a.shape[0], b.shape[0], LANES), F32)
    for j in range(0, full, LANES):
        lanes += a[:, None, j:j + LANES] * b[None, :, j:j + LANES]
    total = (lanes[..., 0] + lanes[..., 2]) + (lanes[..., 1] + lanes[..., 3])
    for j in range(full, depth):
        total += a[:, None, j] * b[None, :, j]
    return total


def coefficient_dot(a: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """``[M, K] x [K, R] -> [M, R]`` as Eigen's coefficient-based (lazy) product sums each dot
    product: two 4-lane accumulators over 8-value chunks, added, one more 4-value chunk,
    the lanes reduced as ``(l0 + l2) + (l1 + l3)``, then the last ``K % 4`` in order."""
    depth = a.shape[1]
    prod = a[:, None, :] * wt.T[None, :, :]  # [M, R, K], each product rounded
    if depth < LANES:
        total = prod[..., 0].copy()
        for k in range(1, depth):
            total += prod[..., k]
        return total
    packets = depth - depth % LANES
    pairs = depth - depth % (2 * LANES)
    acc0 = prod[..., 0:LANES].copy()
    if packets > LANES:
        acc1 = prod[..., LANES:2 * LANES].copy()
        for k in range(2 * LANES, pairs, 2 * LANES):
            acc0 += prod[..., k:k + LANES]
            acc1 += prod[..., k + LANES:k + 2 * LANES]
        acc0 += acc1
        if packets > pairs:
            acc0 += prod[..., pairs:pairs + LANES]
    total = (acc0[..., 0] + acc0[..., 2]) + (acc0[..., 1] + acc0[..., 3])
    for k in range(packets, depth):
        total += prod[..., k]
    return total


def transposed_patches(x: np.ndarray, geom: tuple) -> np.ndarray:
    """The im2col matrix of NHWC ``x``, transposed: ``[KH*KW*C, N*OH*OW]`` (zero padding)."""
    kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, oh, ow = geom
    n, h, w, c = x.shape
    xp = np.zeros((n, h + pt + pb, w + pl + pr, c), F32)
    xp[:, pt:pt + h, pl:pl + w] = x
    sn, sy, sx, sc = xp.strides
    windows = np.lib.stride_tricks.as_strided(
        xp, (kh, kw, c, n, oh, ow), (dh * sy, dw * sx, sc, sn, sh * sy, sw * sx), writeable=False)
    return np.ascontiguousarray(windows).reshape(kh * kw * c, n * oh * ow)


def eigen_gemm(a: np.ndarray, wt: np.ndarray, out: np.ndarray | None = None,
               at: np.ndarray | None = None) -> np.ndarray:
    """``a [M, K] x wt [K, N]`` summed as LiteRT's float GEMM (Eigen, SSE) does: module doc.

    ``at`` may give ``a`` transposed (``[K, M]``) instead; then ``a`` may be None."""
    if a is None:
        a = at.T
    m, depth = a.shape
    n = wt.shape[1]
    if out is None:
        out = np.empty((m, n), F32)
    if m == 1 or n == 1:
        out[...] = lane_dot(a, np.ascontiguousarray(wt.T))
        return out
    if m + n + depth < EIGEN_COEFF_PRODUCT_LIMIT:
        out[...] = coefficient_dot(a, wt)
        return out
    if at is None:
        at = np.ascontiguousarray(a.T)
    two_packets, packets = n - n % (2 * LANES), n - n % LANES
    cols = m - m % LANES  # output pixels in whole groups of 4 (the others are summed in order)
    # (channels, pixels, accumulators, depth they take) of each region of the result
    regions = [(slice(0, n), slice(0, m), 1, depth)]
    if cols and packets > two_packets:
        regions.append((slice(two_packets, packets), slice(0, cols), 2, depth - depth % 8))
    if cols and n > packets:
        regions.append((slice(packets, n), slice(0, cols), LANES, depth - depth % LANES))
    for channels, pixels, groups, full in regions:
        w_part = wt[:, channels]
        if groups == 1:  # the first region covers everything; later ones overwrite their part
            out[...] = grouped_dot(at, w_part, 1, full).T
        else:
            out[pixels, channels] = grouped_dot(at[:, pixels], w_part, groups, full).T
    return out


def _hybrid_feeding_conv(node) -> bool:
    if not feeds_hybrid(node):  # cached per graph: cheap, and false for every float-only model
        return False
    x, w = node.tensor(node.op.inputs[0]), node.tensor(node.op.inputs[1])
    ungrouped = len(x.shape) == 4 and len(w.shape) == 4 and x.shape[3] == w.shape[3]
    return ungrouped and 0 < _conv_depth(node) <= MAX_SEQUENTIAL_DEPTH


class _ExactConvBase(Kernel):
    """Shared prepare: checks, window geometry, constant filter and bias, fused activation."""

    prepare_reads_constants = False  # keeps views of the filter and bias; reads them in eval

    def out_channels(self, x_shape: tuple, w_shape: tuple) -> int:
        raise NotImplementedError

    def prepare(self, inputs, outputs):
        x, w = inputs[0], inputs[1]
        if x is None or w is None or len(x.shape) != 4 or len(w.shape) != 4:
            raise self.fail("needs a 4-D input and a 4-D filter")
        if x.dtype != np.float32 or w.dtype != np.float32:
            raise self.fail(f"float convolution needs float32 input and filter, got {x.dtype}, {w.dtype}")
        try:
            self.geom = conv_geometry(self.options, x.shape[1], x.shape[2], w.shape[1], w.shape[2])
            self.act = check_activation(self.options.get("fused_activation_function", 0))
        except ValueError as e:
            raise self.fail(str(e)) from None
        bias = inputs[2] if len(inputs) > 2 else None
        self.bias_const = None if bias is None or bias.data is None else np.asarray(bias.data, F32).reshape(-1)
        self.has_bias = bias is not None
        self.w_const = None if w.data is None else np.asarray(w.data, F32)
        channels = self.out_channels(tuple(x.shape), tuple(w.shape))
        return [(x.shape[0], self.geom[10], self.geom[11], channels)]

    def bias_of(self, inputs, channels: int) -> np.ndarray | None:
        if not self.has_bias:
            return None
        b = self.bias_const if self.bias_const is not None else np.asarray(inputs[2], F32).reshape(-1)
        if b.size != channels:
            raise self.fail(f"bias has {b.size} values for {channels} output channels")
        return b


@register("CONV_2D", kind="float", priority=10, when=_hybrid_feeding_conv)
class ExactOrderConv2D(_ExactConvBase):
    """Float CONV_2D with LiteRT's summation order (module doc), for hybrid models."""

    def out_channels(self, x_shape, w_shape):
        if w_shape[3] != x_shape[3]:
            raise self.fail(f"grouped convolution (input depth {x_shape[3]}, filter depth {w_shape[3]}) "
                            "is not supported here")
        return w_shape[0]

    def eval(self, inputs, outputs):
        w = self.w_const if self.w_const is not None else np.asarray(inputs[1], F32)
        o = w.shape[0]
        wmat = w.reshape(o, -1)
        out = outputs[0]
        at = transposed_patches(np.asarray(inputs[0], F32), self.geom)
        flat = out.reshape(-1, o)
        eigen_gemm(None, np.ascontiguousarray(wmat.T), flat, at=at)
        bias = self.bias_of(inputs, o)
        if bias is not None:
            np.add(flat, bias, out=flat)
        apply_fused_activation(out, self.act)
        return None


def _hybrid_feeding_transpose_conv(node) -> bool:
    w = node.tensor(node.op.inputs[1])
    depth = int(w.shape[3]) if len(w.shape) == 4 else 0
    return 0 < depth <= MAX_SEQUENTIAL_DEPTH and feeds_hybrid(node)


@register("TRANSPOSE_CONV", kind="float", priority=10, when=_hybrid_feeding_transpose_conv)
class ExactOrderTransposeConv(TransposeConv):
    """Float TRANSPOSE_CONV with LiteRT's GEMM and col2im summation order (module doc)."""

    def eval(self, inputs, outputs):
        shape = self.output_shape(inputs[0])
        plan, acc = self._plan_for(shape)
        x = np.asarray(inputs[2], F32)
        n, h, w, in_c = x.shape
        (sh, sw), (k_h, k_w) = self.stride, self.k
        weights = self.weights
        if weights is None:
            weights = self.weight_matrix(self.const_filter if self.const_filter is not None else inputs[1])
            if self.const_filter is not None:
                self.weights = weights
        cols = np.empty((n, h * w, weights.shape[1]), F32)
        for b in range(n):  # LiteRT multiplies one batch item at a time
            eigen_gemm(x[b].reshape(-1, in_c), weights, cols[b])
        cols = cols.reshape(n, h, w, k_h, k_w, self.out_c)
        acc.fill(0.0)
        for ky in reversed(range(k_h)):  # ascending input pixel = descending tap, per output pixel
            for kx in reversed(range(k_w)):
                dst = acc[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (w - 1) * sw + 1:sw, :]
                np.add(dst, cols[:, :, :, ky, kx, :], out=dst)
        out = outputs[0]
        created = out is None
        if created:
            out = np.empty(shape, F32)
        np.copyto(out, acc[:, plan.pad_top:plan.pad_top + shape[1], plan.pad_left:plan.pad_left + shape[2], :])
        bias = self.bias
        if bias is None and len(inputs) > 3 and inputs[3] is not None:
            bias = np.asarray(inputs[3], F32).reshape(-1)
        if bias is not None:
            np.add(out, bias, out=out)
        apply_fused_activation(out, check_activation(self.options.get("fused_activation_function", 0)))
        return [out] if created else None
