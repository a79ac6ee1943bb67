"""Index-shuffling spatial ops written with constant index tables: Col2Im, MaxUnpool, AffineGrid.

* Col2Im sums the columns of an im2col matrix back into an image. With image / block shape, pads,
  strides and dilations constant, every (channel, kernel offset, block position) either lands on one image
  element or in the padding, so the op is a GATHER of the contributing columns and a SCATTER_ND (which sums
  duplicate targets, as Col2Im does) into [C, *image, N], transposed to [N, C, *image].
* MaxUnpool writes X at the flat output positions given by its indices: one SCATTER_ND.
* AffineGrid is ``base @ theta^T`` for a constant grid of homogeneous positions (BATCH_MATMUL).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..context import Unsupported
from . import lowers
from .common import emit_temp


def _ints(ctx, name, what):
    return [int(v) for v in np.asarray(ctx.need_const(name, what)).reshape(-1)]


@lowers("Col2Im")
def lower_col2im(ctx, node):
    x, img_name, blk_name = node.inputs[:3]
    dt = ctx.dtype(x)
    image, block = _ints(ctx, img_name, "Col2Im image_shape"), _ints(ctx, blk_name, "Col2Im block_shape")
    nsp = len(image)
    dil = list(node.attr("dilations", [1] * nsp))
    strides = list(node.attr("strides", [1] * nsp))
    pads = list(node.attr("pads", [0] * (2 * nsp)))
    n, ck, length = ctx.shape(x)
    kprod = int(np.prod(block))
    if ck % kprod:
        raise Unsupported(f"Col2Im input channels {ck} not a multiple of the block size {kprod}")
    channels = ck // kprod
    blocks = [(image[d] + pads[d] + pads[nsp + d] - dil[d] * (block[d] - 1) - 1) // strides[d] + 1
              for d in range(nsp)]
    if int(np.prod(blocks)) != length:
        raise Unsupported(f"Col2Im: {length} columns for a grid of {blocks} blocks")
    src, dst = [], []
    for k, koff in enumerate(itertools.product(*[range(b) for b in block])):
        for li, lpos in enumerate(itertools.product(*[range(b) for b in blocks])):
            pos = [lpos[d] * strides[d] - pads[d] + koff[d] * dil[d] for d in range(nsp)]
            if all(0 <= pos[d] < image[d] for d in range(nsp)):
                for c in range(channels):
                    src.append((c * kprod + k) * length + li)
                    dst.append([c] + pos)
    if not src:
        raise Unsupported("Col2Im with no column inside the image")
    m = len(src)
    flat = emit_temp(ctx, "RESHAPE", [ctx.input(x, None), ctx.constant(np.array([n, ck * length], np.int32))],
                     (n, ck * length), dt, {"new_shape": [n, ck * length]})
    cols = emit_temp(ctx, "TRANSPOSE", [flat, ctx.constant(np.array([1, 0], np.int32))], (ck * length, n), dt)
    picked = emit_temp(ctx, "GATHER", [cols, ctx.constant(np.array(src, np.int32))], (m, n), dt,
                       {"axis": 0, "batch_dims": 0})
    img = (channels, *image, n)
    summed = emit_temp(ctx, "SCATTER_ND", [ctx.constant(np.array(dst, np.int32)), picked,
                                           ctx.constant(np.array(img, np.int32))], img, dt)
    perm = [nsp + 1] + list(range(nsp + 1))
    ctx.emit("TRANSPOSE", [summed, ctx.constant(np.array(perm, np.int32))], [ctx.output(node.outputs[0])])


@lowers("MaxUnpool")
def lower_max_unpool(ctx, node):
    x, idx = node.inputs[:2]
    dt = ctx.dtype(x)
    xs = ctx.shape(x)
    kernel = list(node.attr("kernel_shape"))
    nsp = len(kernel)
    strides = list(node.attr("strides", [1] * nsp))
    pads = list(node.attr("pads", [0] * (2 * nsp)))
    # the indices address the unpooled shape implied by kernel / strides / pads; a larger output_shape
    # only appends zeros at the end of each axis
    inferred = list(xs[:2]) + [(xs[2 + d] - 1) * strides[d] - pads[d] - pads[nsp + d] + kernel[d]
                               for d in range(nsp)]
    out_shape = ctx.shape(node.outputs[0])
    if any(o < i for o, i in zip(out_shape, inferred)):
        raise Unsupported(f"MaxUnpool output_shape {out_shape} smaller than the unpooled shape {inferred}")
    total = int(np.prod(inferred))
    m = int(np.prod(ctx.shape(x)))
    if total >= 2 ** 31:
        raise Unsupported("MaxUnpool output too large for int32 indices")
    i = ctx.input(idx, None)
    if ctx.dtype(idx) != np.int32:
        i = emit_temp(ctx, "CAST", [i], ctx.shape(idx), np.int32)
    i = emit_temp(ctx, "RESHAPE", [i, ctx.constant(np.array([m, 1], np.int32))], (m, 1), np.int32,
                  {"new_shape": [m, 1]})
    v = emit_temp(ctx, "RESHAPE", [ctx.input(x, None), ctx.constant(np.array([m], np.int32))], (m,), dt,
                  {"new_shape": [m]})
    flat = emit_temp(ctx, "SCATTER_ND", [i, v, ctx.constant(np.array([total], np.int32))], (total,), dt)
    if list(out_shape) == inferred:
        ctx.emit("RESHAPE", [flat, ctx.constant(np.array(out_shape, np.int32))], [ctx.output(node.outputs[0])],
                 {"new_shape": list(out_shape)})
        return
    un = emit_temp(ctx, "RESHAPE", [flat, ctx.constant(np.array(inferred, np.int32))], inferred, dt,
                   {"new_shape": inferred})
    pad = np.array([[0, o - i] for o, i in zip(out_shape, inferred)], np.int32)
    ctx.emit("PAD", [un, ctx.constant(pad)], [ctx.output(node.outputs[0])])


def _grid_axis(size: int, align_corners: bool) -> np.ndarray:
    if align_corners:
        return np.linspace(-1.0, 1.0, size) if size > 1 else np.zeros(1)
    return (2.0 * np.arange(size) + 1.0) / size - 1.0


@lowers("AffineGrid")
def lower_affine_grid(ctx, node):
    theta, size_name = node.inputs[:2]
    if ctx.dtype(theta) != np.float32:
        raise Unsupported(f"AffineGrid on {ctx.dtype(theta)}")
    size = _ints(ctx, size_name, "AffineGrid size")
    spatial = size[2:]
    nsp = len(spatial)
    if nsp not in (2, 3):
        raise Unsupported(f"AffineGrid of {nsp} spatial dimensions")
    align = bool(node.attr("align_corners", 0))
    axes = [_grid_axis(s, align) for s in spatial]  # D, H, W order; positions are (x=W, y=H, z=D)
    mesh = np.meshgrid(*axes, indexing="ij")
    coords = [mesh[nsp - 1 - d] for d in range(nsp)]  # x from the last spatial axis
    base = np.stack(coords + [np.ones_like(mesh[0])], -1).reshape(1, -1, nsp + 1).astype(np.float32)
    n = size[0]
    pts = base.shape[1]
    prod = emit_temp(ctx, "BATCH_MATMUL", [ctx.constant(base), ctx.input(theta, None)], (n, pts, nsp),
                     options={"adj_x": False, "adj_y": True, "asymmetric_quantize_inputs": False})
    out_shape = ctx.shape(node.outputs[0])
    ctx.emit("RESHAPE", [prod, ctx.constant(np.array(out_shape, np.int32))], [ctx.output(node.outputs[0])],
             {"new_shape": list(out_shape)})
