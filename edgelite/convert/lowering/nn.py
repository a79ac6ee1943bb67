"""Neural-network ONNX ops: Conv, ConvTranspose, Gemm, MatMul, pools, BatchNorm, normalisations,
Softmax, Resize, DepthToSpace. Spatial ops run channels-last (NHWC) and leave their result there."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported
from . import lowers
from .pool_gather import max_pool_with_indices, pool_by_gathers
from .resize_matrix import resize_by_matrices
from .common import (
    broadcast_input,
    emit_reshape,
    emit_temp,
    layout_with_axis_last,
    norm_axis,
    require_dtype,
)

SAME, VALID = 0, 1


def _spatial_attrs(ctx, node, nsp: int, kernel: tuple[int, ...]):
    strides = tuple(node.attr("strides", [1] * nsp))
    dil = tuple(node.attr("dilations", [1] * nsp))
    pads = list(node.attr("pads", [0] * (2 * nsp)))
    auto = node.attr("auto_pad", "NOTSET")
    in_sp = ctx.shape(node.inputs[0])[2:]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * (2 * nsp)
        for i in range(nsp):
            out = -(-in_sp[i] // strides[i])
            total = max((out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in_sp[i], 0)
            small, big = total // 2, total - total // 2
            pads[i], pads[i + nsp] = (small, big) if auto == "SAME_UPPER" else (big, small)
    elif auto == "VALID":
        pads = [0] * (2 * nsp)
    return strides, dil, pads


def choose_padding(in_sp, out_sp, kernel, strides, dil, pads) -> int | None:
    """SAME or VALID if TFLite's padding rule reproduces the ONNX pads and output size, else None."""
    nsp = len(in_sp)
    if all(p == 0 for p in pads) and \
            all((in_sp[i] - (kernel[i] - 1) * dil[i] - 1) // strides[i] + 1 == out_sp[i] for i in range(nsp)):
        return VALID
    for i in range(nsp):
        out = -(-in_sp[i] // strides[i])
        total = max((out - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - in_sp[i], 0)
        if out != out_sp[i] or pads[i] != total // 2 or pads[i + nsp] != total - total // 2:
            return None
    return SAME


def _pad_input(ctx, x_tensor, phys_shape, pads, nsp, value=None, dtype=np.float32):
    """Explicit PAD (or PADV2 with ``value``) of a channels-last tensor; returns (tensor, new shape)."""
    spec = [[0, 0]] + [[pads[i], pads[i + nsp]] for i in range(nsp)] + [[0, 0]]
    if any(p < 0 for pair in spec for p in pair):
        raise Unsupported(f"negative pads {pads}")
    new_shape = tuple(d + a + b for d, (a, b) in zip(phys_shape, spec))
    out = ctx.temp(new_shape, dtype, "pad")
    pt = ctx.constant(np.array(spec, np.int32))
    if value is None:
        ctx.emit("PAD", [x_tensor, pt], [out])
    else:
        ctx.emit("PADV2", [x_tensor, pt, ctx.constant(np.array(value, dtype))], [out])
    return out, new_shape


def _padding_mode(ctx, xt, phys, in_sp, out_sp, kernel, strides, dil, pads):
    """TFLite padding for a channels-last input ``xt`` of shape ``phys``: SAME or VALID where that
    reproduces the ONNX pads, else VALID after an explicit PAD. Returns (tensor, its shape, mode)."""
    mode = choose_padding(in_sp, out_sp, kernel, strides, dil, pads)
    if mode is None:
        xt, phys = _pad_input(ctx, xt, phys, pads, len(in_sp))
        mode = VALID
    return xt, phys, mode


def _conv_bias(ctx, node, n_out: int) -> np.ndarray:
    """The constant bias of a Conv/ConvTranspose node (input 2), zeros when it has none."""
    b = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    if b is None:
        return np.zeros(n_out, np.float32)
    return ctx.need_const(b, f"{node.op_type} bias")


def _bias(ctx, node, n_out, dtype):
    b = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    if b is None:
        return ctx.constant(np.zeros(n_out, dtype))
    return ctx.input(b, None)


@lowers("Conv")
def lower_conv(ctx, node):
    x, w_name = node.inputs[0], node.inputs[1]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    rank = len(xs)
    require_dtype(ctx, node, x)
    w = ctx.need_const(w_name, "Conv weights")
    bias = _conv_bias(ctx, node, w.shape[0])
    nsp = rank - 2
    kernel = tuple(w.shape[2:])
    strides, dil, pads = _spatial_attrs(ctx, node, nsp, kernel)
    group = int(node.attr("group", 1))
    if nsp == 1:
        _conv1d(ctx, node, w, bias, strides, dil, pads, group)
        return
    if nsp == 3:
        _conv3d(ctx, node, w, bias, strides, dil, pads, group)
        return
    if nsp != 2:
        raise Unsupported(f"Conv with {nsp} spatial dims")
    cl = L.channels_last(4)
    xt = ctx.input(x, cl)
    xt, phys, pad_mode = _padding_mode(ctx, xt, L.physical_shape(xs, cl), xs[2:], ys[2:], kernel, strides,
                                       dil, pads)
    out = ctx.output(node.outputs[0], cl)
    _emit_conv2d(ctx, xt, phys, w, bias, group, strides, dil, pad_mode, out, L.physical_shape(ys, cl))


def _emit_conv2d(ctx, xt, phys, w, bias, group, strides, dil, pad_mode, out, out_phys):
    cin = phys[3]
    m = w.shape[0]
    opts = {"padding": pad_mode, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
            "dilation_h_factor": int(dil[0]), "dilation_w_factor": int(dil[1])}
    bias_t = ctx.constant(np.asarray(bias, np.float32))
    if group == 1:
        ctx.emit("CONV_2D", [xt, ctx.constant(np.ascontiguousarray(w.transpose(0, 2, 3, 1)).astype(np.float32)),
                             bias_t], [out], opts)
    elif group == cin and w.shape[1] == 1:
        dw = np.ascontiguousarray(w.transpose(1, 2, 3, 0)).astype(np.float32)  # (1, kh, kw, M)
        ctx.emit("DEPTHWISE_CONV_2D", [xt, ctx.constant(dw), bias_t], [out],
                 dict(opts, depth_multiplier=m // cin))
    else:
        # grouped convolution: split channels, one CONV_2D per group, concatenate
        cg, mg = cin // group, m // group
        parts_in = [ctx.temp(phys[:3] + (cg,), np.float32, "group_in") for _ in range(group)]
        ctx.emit("SPLIT", [ctx.constant(np.array(3, np.int32)), xt], parts_in, {"num_splits": group})
        parts_out = []
        for g in range(group):
            o = ctx.temp(tuple(out_phys[:3]) + (mg,), np.float32, "group_out")
            wg = np.ascontiguousarray(w[g * mg:(g + 1) * mg].transpose(0, 2, 3, 1)).astype(np.float32)
            ctx.emit("CONV_2D", [parts_in[g], ctx.constant(wg),
                                 ctx.constant(np.asarray(bias[g * mg:(g + 1) * mg], np.float32))], [o], opts)
            parts_out.append(o)
        ctx.emit("CONCATENATION", parts_out, [out], {"axis": 3})


def _conv1d(ctx, node, w, bias, strides, dil, pads, group):
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    cl = (0, 2, 1)
    xt = ctx.input(x, cl)
    phys4 = (xs[0], 1, xs[2], xs[1])
    x4 = ctx.temp(phys4, np.float32, "as2d")
    emit_reshape(ctx, xt, phys4, x4)
    w4 = w[:, :, None, :]
    x4, phys4, pad_mode = _padding_mode(ctx, x4, phys4, (1, xs[2]), (1, ys[2]), (1, w.shape[2]), (1, strides[0]),
                                        (1, dil[0]), [0, pads[0], 0, pads[1]])
    out_phys4 = (ys[0], 1, ys[2], ys[1])
    o4 = ctx.temp(out_phys4, np.float32, "conv2d")
    _emit_conv2d(ctx, x4, phys4, w4, bias, group, (1, strides[0]), (1, dil[0]), pad_mode, o4, out_phys4)
    out = ctx.output(node.outputs[0], cl)
    emit_reshape(ctx, o4, L.physical_shape(ys, cl), out)


def _conv3d(ctx, node, w, bias, strides, dil, pads, group):
    if group != 1:
        raise Unsupported("grouped 3-D Conv")
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    cl = L.channels_last(5)
    xt, _, pad_mode = _padding_mode(ctx, ctx.input(x, cl), L.physical_shape(xs, cl), xs[2:], ys[2:], w.shape[2:],
                                    strides, dil, pads)
    out = ctx.output(node.outputs[0], cl)
    filt = np.ascontiguousarray(w.transpose(2, 3, 4, 1, 0)).astype(np.float32)
    ctx.emit("CONV_3D", [xt, ctx.constant(filt), ctx.constant(np.asarray(bias, np.float32))], [out],
             {"padding": pad_mode, "stride_d": strides[0], "stride_h": strides[1], "stride_w": strides[2],
              "dilation_d_factor": dil[0], "dilation_h_factor": dil[1], "dilation_w_factor": dil[2]})


@lowers("ConvTranspose")
def lower_conv_transpose(ctx, node):
    """TRANSPOSE_CONV (2-D; 1-D as 2-D with a height of 1). Groups become one block-diagonal filter and
    dilations a filter with zeros between the taps: both exact rewrites of the same sums."""
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    if len(xs) not in (3, 4):
        raise Unsupported(f"ConvTranspose of rank {len(xs)} (1-D and 2-D are lowered)")
    require_dtype(ctx, node, x)
    w = np.asarray(ctx.need_const(node.inputs[1], "ConvTranspose weights"), np.float32)
    one_d = len(xs) == 3
    attr = (lambda k, d: [d[0]] + list(node.attr(k, d[1:]))) if one_d else (lambda k, d: list(node.attr(k, d)))
    strides = tuple(attr("strides", [1, 1]))
    dil = tuple(attr("dilations", [1, 1]))
    pads = node.attr("pads")
    if one_d:
        w = w[:, :, None, :]
        xs, ys = (xs[0], xs[1], 1, xs[2]), (ys[0], ys[1], 1, ys[2])
        pads = None if pads is None else [0, pads[0], 0, pads[1]]
    group = int(node.attr("group", 1))
    if group != 1:  # block-diagonal [C_in, M, kh, kw]
        cin, mg = w.shape[0], w.shape[1]
        dense = np.zeros((cin, mg * group) + w.shape[2:], np.float32)
        cg = cin // group
        for g in range(group):
            dense[g * cg:(g + 1) * cg, g * mg:(g + 1) * mg] = w[g * cg:(g + 1) * cg]
        w = dense
    if any(d != 1 for d in dil):  # zeros between the taps
        kh, kw = w.shape[2:]
        dilated = np.zeros(w.shape[:2] + ((kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1), np.float32)
        dilated[:, :, ::dil[0], ::dil[1]] = w
        w = dilated
    kernel = w.shape[2:]
    m = w.shape[1]
    full = [(xs[2 + i] - 1) * strides[i] + kernel[i] for i in range(2)]
    out_sp = ys[2:]
    auto = node.attr("auto_pad", "NOTSET")
    out_padding = attr("output_padding", [0, 0])
    begin = []
    for i in range(2):
        opad = out_padding[i]
        total = full[i] + opad - out_sp[i]
        if pads is not None and auto == "NOTSET":
            begin.append(pads[i])
        elif auto == "SAME_UPPER":
            begin.append(total // 2)
        else:
            begin.append(total - total // 2)
    cl = L.channels_last(4)
    if one_d:  # [N, L, C] -> [N, 1, L, C]
        x3 = ctx.input(x, (0, 2, 1))
        xt = ctx.temp(L.physical_shape(xs, cl), np.float32, "as2d")
        emit_reshape(ctx, x3, L.physical_shape(xs, cl), xt)
    else:
        xt = ctx.input(x, cl)
    filt = ctx.constant(np.ascontiguousarray(w.transpose(1, 2, 3, 0)).astype(np.float32))
    bias_t = ctx.constant(np.asarray(_conv_bias(ctx, node, m), np.float32))
    out_phys = L.physical_shape(ys, cl)
    opts = {"stride_h": int(strides[0]), "stride_w": int(strides[1])}
    same_ok = all(-(-out_sp[i] // strides[i]) == xs[2 + i] and
                  begin[i] == max((xs[2 + i] - 1) * strides[i] + kernel[i] - out_sp[i], 0) // 2 for i in range(2))
    valid_ok = all(begin[i] == 0 and out_sp[i] <= full[i] for i in range(2)) and \
        all(out_sp[i] == full[i] for i in range(2))
    if valid_ok or same_ok:
        out = _deconv_out(ctx, node, out_phys, one_d)
        ctx.emit("TRANSPOSE_CONV", [ctx.constant(np.array(out_phys, np.int32)), filt, xt, bias_t], [out],
                 dict(opts, padding=VALID if valid_ok else SAME))
        _finish_1d(ctx, node, out, out_phys, one_d)
        return
    # general case: full VALID result, then pad/slice to the wanted window
    need = [max(begin[i] + out_sp[i], full[i]) for i in range(2)]
    full_phys = (xs[0], full[0], full[1], m)
    t = ctx.temp(full_phys, np.float32, "deconv_full")
    ctx.emit("TRANSPOSE_CONV", [ctx.constant(np.array(full_phys, np.int32)), filt, xt,
                                ctx.constant(np.zeros(m, np.float32))], [t], dict(opts, padding=VALID))
    if need != full:
        padded = (xs[0], need[0], need[1], m)
        t2 = ctx.temp(padded, np.float32, "deconv_pad")
        ctx.emit("PAD", [t, ctx.constant(np.array([[0, 0], [0, need[0] - full[0]], [0, need[1] - full[1]],
                                                   [0, 0]], np.int32))], [t2])
        t = t2
    if min(begin) < 0:
        raise Unsupported(f"ConvTranspose with negative pads {begin}")
    s = ctx.temp(out_phys, np.float32, "deconv_crop")
    ctx.emit("SLICE", [t, ctx.constant(np.array([0, begin[0], begin[1], 0], np.int32)),
                       ctx.constant(np.array(out_phys, np.int32))], [s])
    out = _deconv_out(ctx, node, out_phys, one_d)
    ctx.emit("ADD", [s, bias_t], [out])
    _finish_1d(ctx, node, out, out_phys, one_d)


def _deconv_out(ctx, node, out_phys, one_d: bool) -> int:
    """The NHWC result tensor: the node's output, or a temporary reshaped to [N, L, M] for 1-D."""
    if one_d:
        return ctx.temp(out_phys, np.float32, "deconv_2d")
    return ctx.output(node.outputs[0], L.channels_last(4))


def _finish_1d(ctx, node, t: int, out_phys, one_d: bool) -> None:
    if one_d:
        shp = (out_phys[0], out_phys[2], out_phys[3])
        emit_reshape(ctx, t, shp, ctx.output(node.outputs[0], (0, 2, 1)))


@lowers("MaxPool", "AveragePool", "LpPool")
def lower_pool(ctx, node):
    """The TFLite pooling builtins where they express the ONNX op, else per-axis window gathers."""
    if len(node.outputs) > 1 and node.outputs[1]:
        kernel = tuple(node.attr("kernel_shape"))
        max_pool_with_indices(ctx, node, kernel, *_spatial_attrs(ctx, node, len(kernel), kernel))
        return
    try:
        (_lppool_builtin if node.op_type == "LpPool" else _pool_builtin)(ctx, node)
    except Unsupported as builtin_reason:
        kernel = tuple(node.attr("kernel_shape"))
        strides, dil, pads = _spatial_attrs(ctx, node, len(kernel), kernel)
        try:
            pool_by_gathers(ctx, node, kernel, strides, dil, pads)
        except Unsupported as e:
            raise Unsupported(f"{builtin_reason}; by window gathers: {e}") from None


def _pool_builtin(ctx, node):
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    if len(xs) not in (3, 4):
        raise Unsupported(f"{node.op_type} of rank {len(xs)}")
    if len(node.outputs) > 1 and node.outputs[1]:
        raise Unsupported("MaxPool indices output")
    dt = require_dtype(ctx, node, x)
    kernel = tuple(node.attr("kernel_shape"))
    nsp = len(kernel)
    strides, dil, pads = _spatial_attrs(ctx, node, nsp, kernel)
    if any(d != 1 for d in dil):
        raise Unsupported("dilated pooling")
    if nsp == 1:
        xs4, ys4 = (xs[0], xs[1], 1, xs[2]), (ys[0], ys[1], 1, ys[2])
        kernel, strides, pads = (1,) + kernel, (1,) + tuple(strides), [0, pads[0], 0, pads[1]]
        cl3 = (0, 2, 1)
        x3 = ctx.input(x, cl3)
        phys = (xs[0], 1, xs[2], xs[1])
        xt = ctx.temp(phys, dt, "as2d")
        emit_reshape(ctx, x3, phys, xt)
    else:
        xs4, ys4 = xs, ys
        cl = L.channels_last(4)
        xt = ctx.input(x, cl)
        phys = L.physical_shape(xs, cl)
    is_max = node.op_type == "MaxPool"
    include_pad = bool(node.attr("count_include_pad", 0))
    mode = choose_padding(xs4[2:], ys4[2:], kernel, strides, (1, 1), pads)
    if mode == SAME and not is_max and include_pad and any(pads):
        mode = None
    if mode is None:
        if not is_max and not include_pad:
            raise Unsupported("AveragePool with count_include_pad=0 and pads TFLite cannot express")
        # explicit padding; extend the end so VALID gives the ONNX output size (ceil_mode)
        p = list(pads)
        for i in range(2):
            need = (ys4[2 + i] - 1) * strides[i] + kernel[i] - xs4[2 + i] - p[i]
            if need > p[i + 2]:
                if not is_max:
                    raise Unsupported("AveragePool with ceil_mode padding")
                p[i + 2] = need
        xt, phys = _pad_input(ctx, xt, phys, p, 2, value=np.finfo(np.float32).min if is_max else None)
        mode = VALID
    opts = {"padding": mode, "stride_h": int(strides[0]), "stride_w": int(strides[1]),
            "filter_height": int(kernel[0]), "filter_width": int(kernel[1])}
    opcode = "MAX_POOL_2D" if is_max else "AVERAGE_POOL_2D"
    if nsp == 1:
        o4 = ctx.temp((ys[0], 1, ys[2], ys[1]), dt, "pool")
        ctx.emit(opcode, [xt], [o4], opts)
        out = ctx.output(node.outputs[0], (0, 2, 1))
        shp = (ys[0], ys[2], ys[1])
        emit_reshape(ctx, o4, shp, out)
        return
    out = ctx.output(node.outputs[0], L.channels_last(4))
    ctx.emit(opcode, [xt], [out], opts)


@lowers("Gemm")
def lower_gemm(ctx, node):
    a, b = node.inputs[0], node.inputs[1]
    c = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    ta, tb = int(node.attr("transA", 0)), int(node.attr("transB", 0))
    dt = require_dtype(ctx, node, a)
    ys = ctx.shape(node.outputs[0])
    a_t = ctx.input(a, (1, 0) if ta else None)
    bc = ctx.const(b)
    cc = ctx.const(c) if c else None
    if bc is not None:
        w = np.asarray(bc, np.float32)
        w = (w if tb else w.T) * np.float32(alpha)
        bias_t = -1
        post_c = None
        if c is not None and cc is not None and np.asarray(cc).size in (1, ys[1]) and \
                np.asarray(cc).ndim <= 1 or (cc is not None and np.asarray(cc).shape == (1, ys[1])):
            bias_t = ctx.constant(np.broadcast_to(np.asarray(cc, np.float32).reshape(-1) * beta, (ys[1],)).copy())
        elif c is not None:
            post_c = c
        if post_c is None:
            out = ctx.output(node.outputs[0])
            ctx.emit("FULLY_CONNECTED", [a_t, ctx.constant(np.ascontiguousarray(w)), bias_t], [out])
            return
        t = ctx.temp(ys, dt, "fc")
        ctx.emit("FULLY_CONNECTED", [a_t, ctx.constant(np.ascontiguousarray(w)), -1], [t])
    else:
        t = ctx.temp(ys, dt, "matmul") if (c or alpha != 1.0) else ctx.output(node.outputs[0])
        ctx.emit("BATCH_MATMUL", [a_t, ctx.input(b, None)], [t], {"adj_y": bool(tb)})
        if alpha != 1.0:
            t2 = ctx.temp(ys, dt, "alpha") if c else ctx.output(node.outputs[0])
            ctx.emit("MUL", [t, ctx.constant(np.array(alpha, np.float32))], [t2])
            t = t2
        post_c = c
        if not c:
            return
    cin = ctx.input(post_c, None)
    if beta != 1.0:
        t3 = ctx.temp(ctx.shape(post_c), dt, "beta")
        ctx.emit("MUL", [cin, ctx.constant(np.array(beta, np.float32))], [t3])
        cin = t3
    out = ctx.output(node.outputs[0])
    ctx.emit("ADD", [t, cin], [out])


@lowers("MatMul")
def lower_matmul(ctx, node):
    a, b = node.inputs
    dt = ctx.dtype(a)
    if dt not in (np.float32,):
        raise Unsupported(f"MatMul on {dt}")
    sa, sb, ys = ctx.shape(a), ctx.shape(b), ctx.shape(node.outputs[0])
    at = ctx.input(a, None)
    if len(sa) == 1:
        t = ctx.temp((1,) + sa, dt, "row")
        ctx.emit("RESHAPE", [at, ctx.constant(np.array((1,) + sa, np.int32))], [t], {"new_shape": [1, sa[0]]})
        at, sa = t, (1,) + sa
    bconst = ctx.const(b)
    if bconst is not None and len(sb) == 2:
        w = np.ascontiguousarray(np.asarray(bconst, np.float32).T)
        full = sa[:-1] + (sb[1],)
        o = ctx.output(node.outputs[0]) if full == ys else ctx.temp(full, dt, "fc")
        ctx.emit("FULLY_CONNECTED", [at, ctx.constant(w), -1], [o], {"keep_num_dims": True})
    else:
        bt = ctx.input(b, None)
        if len(sb) == 1:
            t = ctx.temp(sb + (1,), dt, "col")
            ctx.emit("RESHAPE", [bt, ctx.constant(np.array(sb + (1,), np.int32))], [t], {"new_shape": [sb[0], 1]})
            bt, sb = t, sb + (1,)
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
        full = tuple(batch) + (sa[-2], sb[-1])
        o = ctx.output(node.outputs[0]) if full == ys else ctx.temp(full, dt, "bmm")
        ctx.emit("BATCH_MATMUL", [at, bt], [o])
    if full != ys:
        out = ctx.output(node.outputs[0])
        emit_reshape(ctx, o, ys, out)


def _channel_const(arr, rank):
    """A per-channel (axis 1) vector shaped to broadcast against a logical NC... tensor."""
    return np.asarray(arr).reshape((1, -1) + (1,) * (rank - 2))


@lowers("BatchNormalization")
def lower_batchnorm(ctx, node):
    x = node.inputs[0]
    rank = ctx.rank(x)
    require_dtype(ctx, node, x)
    if node.attr("training_mode", 0):
        raise Unsupported("BatchNormalization in training mode")
    scale, bias, mean, var = (np.asarray(ctx.need_const(n, "BatchNormalization parameter"), np.float64)
                              for n in node.inputs[1:5])
    eps = float(node.attr("epsilon", 1e-5))
    s = scale / np.sqrt(var + eps)
    b = bias - mean * s
    _scale_shift(ctx, node, x, _channel_const(s.astype(np.float32), rank), _channel_const(b.astype(np.float32), rank))


def _scale_shift(ctx, node, x, s, b):
    """out = x * s + b with constant s, b broadcast in logical space, computed in x's layout."""
    perm = ctx.layout(x)
    rank = ctx.rank(x)
    shape = ctx.shape(node.outputs[0])
    xi = ctx.input(x, perm)
    full = lambda a: np.asarray(a).reshape((1,) * (rank - np.ndim(a)) + np.shape(a))
    sp = full(s).transpose(perm) if perm else full(s)
    bp = full(b).transpose(perm) if perm else full(b)
    t = ctx.temp(L.physical_shape(shape, perm), np.float32, "scaled")
    ctx.emit("MUL", [xi, ctx.constant(np.ascontiguousarray(sp))], [t])
    out = ctx.output(node.outputs[0], perm)
    ctx.emit("ADD", [t, ctx.constant(np.ascontiguousarray(bp))], [out])


def _normalize(ctx, node, x, axes, eps, perm):
    """(x - mean) * rsqrt(var + eps) over logical ``axes``, in layout ``perm``; returns (tensor, phys shape)."""
    shape = ctx.shape(x)
    phys = L.physical_shape(shape, perm)
    dt = np.float32
    xi = ctx.input(x, perm)
    pax = sorted(L.physical_axis(a, perm) for a in axes)
    red = tuple(1 if i in pax else d for i, d in enumerate(phys))
    ax_t = ctx.constant(np.array(pax, np.int32))
    mean = ctx.temp(red, dt, "mean")
    ctx.emit("MEAN", [xi, ax_t], [mean], {"keep_dims": True})
    d = ctx.temp(phys, dt, "centered")
    ctx.emit("SUB", [xi, mean], [d])
    sq = ctx.temp(phys, dt, "sq")
    ctx.emit("MUL", [d, d], [sq])
    var = ctx.temp(red, dt, "var")
    ctx.emit("MEAN", [sq, ax_t], [var], {"keep_dims": True})
    ve = ctx.temp(red, dt, "var_eps")
    ctx.emit("ADD", [var, ctx.constant(np.array(eps, dt))], [ve])
    inv = ctx.temp(red, dt, "rstd")
    ctx.emit("RSQRT", [ve], [inv])
    n = ctx.temp(phys, dt, "normed")
    ctx.emit("MUL", [d, inv], [n])
    ctx.norm_stats = (mean, inv)
    return n, phys


def _affine(ctx, node, n, phys, perm, rank, gamma, beta):
    dt = np.float32
    if gamma is not None:
        g = broadcast_input(ctx, gamma, perm, rank)
        t = ctx.temp(phys, dt, "gamma") if beta is not None else ctx.output(node.outputs[0], perm)
        ctx.emit("MUL", [n, g], [t])
        n = t
    if beta is not None:
        b = broadcast_input(ctx, beta, perm, rank)
        t = ctx.output(node.outputs[0], perm)
        ctx.emit("ADD", [n, b], [t])
        n = t
    if gamma is None and beta is None:
        ctx.alias(node.outputs[0], n, perm)


@lowers("LayerNormalization")
def lower_layernorm(ctx, node):
    x = node.inputs[0]
    require_dtype(ctx, node, x)
    if node.attr("stash_type", 1) != 1:
        raise Unsupported("LayerNormalization with stash_type other than float32")
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", -1), rank)
    perm = ctx.layout(x)
    n, phys = _normalize(ctx, node, x, range(axis, rank), float(node.attr("epsilon", 1e-5)), perm)
    for extra, t in zip(node.outputs[1:3], ctx.norm_stats):
        if extra:
            ctx.alias(extra, t, perm)
    gamma = node.inputs[1] if len(node.inputs) > 1 and node.inputs[1] else None
    beta = node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    _affine(ctx, node, n, phys, perm, rank, gamma, beta)


@lowers("InstanceNormalization")
def lower_instancenorm(ctx, node):
    x, scale, bias = node.inputs
    require_dtype(ctx, node, x)
    rank = ctx.rank(x)
    perm = ctx.layout(x) or (L.channels_last(rank) if rank >= 3 else None)
    n, phys = _normalize(ctx, node, x, range(2, rank), float(node.attr("epsilon", 1e-5)), perm)
    s = _channel_const(ctx.need_const(scale, "InstanceNormalization scale"), rank)
    b = _channel_const(ctx.need_const(bias, "InstanceNormalization bias"), rank)
    sp = s.transpose(perm) if perm else s
    bp = b.transpose(perm) if perm else b
    t = ctx.temp(phys, np.float32, "scaled")
    ctx.emit("MUL", [n, ctx.constant(np.ascontiguousarray(sp, np.float32))], [t])
    out = ctx.output(node.outputs[0], perm)
    ctx.emit("ADD", [t, ctx.constant(np.ascontiguousarray(bp, np.float32))], [out])


def _softmax_like(ctx, node, opcode):
    x = node.inputs[0]
    rank = ctx.rank(x)
    dt = require_dtype(ctx, node, x)
    default = -1 if ctx.graph.opset >= 13 else 1
    axis = norm_axis(node.attr("axis", default), rank)
    opts = {"beta": 1.0} if opcode == "SOFTMAX" else None
    if ctx.graph.opset < 13 and axis != rank - 1:
        # old semantics: flatten to 2-D [prod(:axis), prod(axis:)], softmax rows, restore shape
        shape = ctx.shape(x)
        flat = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        xi = ctx.input(x, None)
        t = ctx.temp(flat, dt, "flat")
        emit_reshape(ctx, xi, flat, t)
        s = ctx.temp(flat, dt, "softmax")
        ctx.emit(opcode, [t], [s], opts)
        out = ctx.output(node.outputs[0])
        emit_reshape(ctx, s, shape, out)
        return
    perm = layout_with_axis_last(ctx, x, axis)
    out = ctx.output(node.outputs[0], perm)
    ctx.emit(opcode, [ctx.input(x, perm)], [out], opts)


@lowers("Softmax")
def lower_softmax(ctx, node):
    _softmax_like(ctx, node, "SOFTMAX")


@lowers("LogSoftmax")
def lower_log_softmax(ctx, node):
    _softmax_like(ctx, node, "LOG_SOFTMAX")


@lowers("Resize", "Upsample")
def lower_resize(ctx, node):
    """RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR where they match ONNX, else interpolation matrices."""
    try:
        _resize_builtin(ctx, node)
    except NeedsConstant:
        raise
    except Unsupported as builtin_reason:
        try:
            resize_by_matrices(ctx, node)
        except NeedsConstant:
            raise
        except Unsupported as e:
            raise Unsupported(f"{builtin_reason}; as interpolation matrices: {e}") from None


def _resize_builtin(ctx, node):
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    if len(xs) != 4 or xs[:2] != ys[:2]:
        raise Unsupported(f"Resize of {xs} -> {ys}: only the two spatial axes of a 4-D tensor can be resized")
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"Resize on {ctx.dtype(x)}")
    mode = node.attr("mode", "nearest")
    ctm = node.attr("coordinate_transformation_mode", "half_pixel" if node.op_type == "Resize" else "asymmetric")
    if node.op_type == "Upsample" or ctx.graph.opset < 11:
        ctm = "asymmetric"
    nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
    if node.op_type == "Upsample" or ctx.graph.opset < 11:
        nearest_mode = "floor"
    if node.attr("antialias", 0):
        raise Unsupported("antialiased Resize")
    if node.attr("axes") is not None and sorted(node.attr("axes")) not in ([2, 3], [0, 1, 2, 3]):
        raise Unsupported(f"Resize over axes {node.attr('axes')}")
    if node.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise Unsupported("Resize keep_aspect_ratio_policy")
    # scales given explicitly must equal out/in, since TFLite derives the scale from sizes
    scales_name = (node.inputs[2] if node.op_type == "Resize" and len(node.inputs) > 2 and ctx.graph.opset >= 11
                   else node.inputs[1] if len(node.inputs) > 1 else "")
    if node.op_type == "Resize" and ctx.graph.opset < 11:
        scales_name = node.inputs[1]
    for n in node.inputs[1:]:
        if n and not ctx.is_const(n) and ctx.graph.shapes.get(n) != (0,):
            raise NeedsConstant(n, "Resize roi/scales/sizes")
    if scales_name and ctx.const(scales_name) is not None and np.asarray(ctx.const(scales_name)).size:
        sc = np.asarray(ctx.const(scales_name), np.float64).reshape(-1)
        axes = node.attr("axes")
        if axes is not None:
            full = np.ones(4)
            for a, v in zip(axes, sc):
                full[a % 4] = v
            sc = full
        sc = sc[-2:]
        if not np.allclose(sc, [ys[2] / xs[2], ys[3] / xs[3]], rtol=0, atol=1e-6):
            raise Unsupported(f"Resize scales {sc.tolist()} that are not out/in size ratios")
    if mode == "linear":
        opcode = "RESIZE_BILINEAR"
        table = {"half_pixel": (False, True), "asymmetric": (False, False), "align_corners": (True, False)}
        if ctm == "pytorch_half_pixel" and min(ys[2:]) > 1:
            ctm = "half_pixel"
    elif mode == "nearest":
        opcode = "RESIZE_NEAREST_NEIGHBOR"
        table = {}
        if ctm == "asymmetric" and nearest_mode == "floor":
            table[ctm] = (False, False)
        elif ctm == "half_pixel" and nearest_mode == "round_prefer_ceil":
            table[ctm] = (False, True)
        elif ctm == "align_corners" and nearest_mode == "round_prefer_ceil":
            table[ctm] = (True, False)
        elif ctm == "half_pixel" and nearest_mode == "round_prefer_floor" and \
                all(ys[i] % xs[i] == 0 for i in (2, 3)):
            # integer upsampling by k: x = q + (r + 0.5) / k - 0.5 for y = q * k + r is never a tie, so it
            # rounds to q = floor(y / k) as TFLite's half-pixel nearest does (floor would give q - 1 for
            # small r: not expressible)
            table[ctm] = (False, True)
    else:
        raise Unsupported(f"Resize mode {mode!r}")
    if ctm not in table:
        raise Unsupported(f"Resize mode={mode} coordinate_transformation_mode={ctm} nearest_mode={nearest_mode}")
    align, half = table[ctm]
    cl = L.channels_last(4)
    out = ctx.output(node.outputs[0], cl)
    ctx.emit(opcode, [ctx.input(x, cl), ctx.constant(np.array(ys[2:], np.int32))], [out],
             {"align_corners": align, "half_pixel_centers": half})


@lowers("DepthToSpace", "SpaceToDepth")
def lower_depth_space(ctx, node):
    x = node.inputs[0]
    if ctx.rank(x) != 4:
        raise Unsupported(f"{node.op_type} of rank {ctx.rank(x)}")
    bs = int(node.attr("blocksize"))
    cl = L.channels_last(4)
    if node.op_type == "DepthToSpace" and node.attr("mode", "DCR") == "CRD":
        # CRD: channel index = c * bs * bs + (i * bs + j); regroup channels to DCR order first
        c = ctx.shape(x)[1]
        co = c // (bs * bs)
        order = np.arange(c).reshape(co, bs * bs).T.reshape(-1)
        xs = ctx.shape(x)
        phys = L.physical_shape(xs, cl)
        xt = ctx.input(x, cl)
        g = ctx.temp(phys, ctx.dtype(x), "crd_to_dcr")
        ctx.emit("GATHER", [xt, ctx.constant(order.astype(np.int32))], [g], {"axis": 3})
        out = ctx.output(node.outputs[0], cl)
        ctx.emit("DEPTH_TO_SPACE", [g], [out], {"block_size": bs})
        return
    if node.op_type == "SpaceToDepth" and node.attr("mode", "DCR") == "CRD":
        # SPACE_TO_DEPTH yields channel (i * bs + j) * C + c; CRD wants c * bs * bs + (i * bs + j)
        ys = ctx.shape(node.outputs[0])
        phys = L.physical_shape(ys, cl)
        t = ctx.temp(phys, ctx.dtype(x), "s2d_dcr")
        ctx.emit("SPACE_TO_DEPTH", [ctx.input(x, cl)], [t], {"block_size": bs})
        order = np.arange(ys[1]).reshape(bs * bs, ys[1] // (bs * bs)).T.reshape(-1)
        out = ctx.output(node.outputs[0], cl)
        ctx.emit("GATHER", [t, ctx.constant(order.astype(np.int32))], [out], {"axis": 3})
        return
    out = ctx.output(node.outputs[0], cl)
    ctx.emit("DEPTH_TO_SPACE" if node.op_type == "DepthToSpace" else "SPACE_TO_DEPTH",
             [ctx.input(x, cl)], [out], {"block_size": bs})


@lowers("LRN")
def lower_lrn(ctx, node):
    x = node.inputs[0]
    size = int(node.attr("size"))
    if size % 2 == 0:
        raise Unsupported("LRN with an even size")
    cl = L.channels_last(ctx.rank(x))
    alpha, beta, bias = float(node.attr("alpha", 1e-4)), float(node.attr("beta", 0.75)), float(node.attr("bias", 1.0))
    out = ctx.output(node.outputs[0], cl)
    ctx.emit("LOCAL_RESPONSE_NORMALIZATION", [ctx.input(x, cl)], [out],
             {"radius": (size - 1) // 2, "bias": bias, "alpha": alpha / size, "beta": beta})


@lowers("RMSNormalization")
def lower_rmsnorm(ctx, node):
    x = node.inputs[0]
    require_dtype(ctx, node, x)
    rank = ctx.rank(x)
    axis = norm_axis(node.attr("axis", -1), rank)
    perm = ctx.layout(x)
    shape = ctx.shape(x)
    phys = L.physical_shape(shape, perm)
    pax = sorted(L.physical_axis(a, perm) for a in range(axis, rank))
    red = tuple(1 if i in pax else d for i, d in enumerate(phys))
    xi = ctx.input(x, perm)
    sq = ctx.temp(phys, np.float32, "sq")
    ctx.emit("MUL", [xi, xi], [sq])
    ms = ctx.temp(red, np.float32, "meansq")
    ctx.emit("MEAN", [sq, ctx.constant(np.array(pax, np.int32))], [ms], {"keep_dims": True})
    me = ctx.temp(red, np.float32, "meansq_eps")
    ctx.emit("ADD", [ms, ctx.constant(np.array(node.attr("epsilon", 1e-5), np.float32))], [me])
    inv = ctx.temp(red, np.float32, "rrms")
    ctx.emit("RSQRT", [me], [inv])
    n = ctx.temp(phys, np.float32, "normed")
    ctx.emit("MUL", [xi, inv], [n])
    scale = node.inputs[1] if len(node.inputs) > 1 and node.inputs[1] else None
    _affine(ctx, node, n, phys, perm, rank, scale, None)


def _lppool_builtin(ctx, node):
    """(sum over the window of |x|^p)^(1/p): zero PAD, AVERAGE_POOL_2D (VALID) times the window size."""
    x = node.inputs[0]
    xs, ys = ctx.shape(x), ctx.shape(node.outputs[0])
    if len(xs) != 4 or ctx.dtype(x) != np.float32:
        raise Unsupported(f"LpPool of rank {len(xs)} / {ctx.dtype(x)}")
    kernel = tuple(node.attr("kernel_shape"))
    strides, dil, pads = _spatial_attrs(ctx, node, 2, kernel)
    if any(d != 1 for d in dil):
        raise Unsupported("dilated LpPool")
    p = float(node.attr("p", 2))
    cl = L.channels_last(4)
    phys = L.physical_shape(xs, cl)
    xt = ctx.input(x, cl)
    mag = ctx.temp(phys, np.float32, "abs")
    ctx.emit("ABS", [xt], [mag])
    if p != 1:
        pw = ctx.temp(phys, np.float32, "pow")
        ctx.emit("MUL" if p == 2 else "POW", [mag, mag if p == 2 else ctx.constant(np.array(p, np.float32))], [pw])
        mag = pw
    p_end = list(pads)
    for i in range(2):  # extend the end padding so that VALID pooling yields the ONNX size (ceil_mode)
        need = (ys[2 + i] - 1) * strides[i] + kernel[i] - xs[2 + i] - p_end[i]
        p_end[i + 2] = max(p_end[i + 2], need)
    if any(p_end):
        mag, phys = _pad_input(ctx, mag, phys, p_end, 2)
    out_phys = L.physical_shape(ys, cl)
    avg = ctx.temp(out_phys, np.float32, "avg")
    ctx.emit("AVERAGE_POOL_2D", [mag], [avg], {"padding": VALID, "stride_h": int(strides[0]),
                                                "stride_w": int(strides[1]), "filter_height": int(kernel[0]),
                                                "filter_width": int(kernel[1])})
    total = ctx.temp(out_phys, np.float32, "sum")
    ctx.emit("MUL", [avg, ctx.constant(np.array(kernel[0] * kernel[1], np.float32))], [total])
    out = ctx.output(node.outputs[0], cl)
    if p == 1:
        ctx.emit("RELU", [total], [out])  # identity on the non-negative sum; keeps the output op simple
    elif p == 2:
        ctx.emit("SQRT", [total], [out])
    else:
        ctx.emit("POW", [total, ctx.constant(np.array(1.0 / p, np.float32))], [out])


@lowers("GroupNormalization")
def lower_group_norm(ctx, node):
    """Reshape (N, C, ...) to (N, G, C/G * ...), normalize per group, reshape back, per-channel affine."""
    x, scale, bias = node.inputs[:3]
    require_dtype(ctx, node, x)
    shape = ctx.shape(x)
    g = int(node.attr("num_groups"))
    eps = float(node.attr("epsilon", 1e-5))
    s = np.asarray(ctx.need_const(scale, "GroupNormalization scale"), np.float32)
    b = np.asarray(ctx.need_const(bias, "GroupNormalization bias"), np.float32)
    c = shape[1]
    if s.size == g and c != g:  # opset 18 form: one scale per group
        s, b = np.repeat(s, c // g), np.repeat(b, c // g)
    grouped = (shape[0], g, int(np.prod(shape[1:])) // g)
    xi = ctx.input(x, None)
    t = ctx.temp(grouped, np.float32, "grouped")
    emit_reshape(ctx, xi, grouped, t)
    red = (shape[0], g, 1)
    ax = ctx.constant(np.array([2], np.int32))

    def op(code, ins, shp, opts=None):
        return emit_temp(ctx, code, ins, shp, np.float32, opts)

    mean = op("MEAN", [t, ax], red, {"keep_dims": True})
    d = op("SUB", [t, mean], grouped)
    var = op("MEAN", [op("MUL", [d, d], grouped), ax], red, {"keep_dims": True})
    inv = op("RSQRT", [op("ADD", [var, ctx.constant(np.array(eps, np.float32))], red)], red)
    n = op("MUL", [d, inv], grouped)
    back = op("RESHAPE", [n, ctx.constant(np.array(shape, np.int32))], shape, {"new_shape": list(shape)})
    sc = op("MUL", [back, ctx.constant(_channel_const(s, len(shape)))], shape)
    ctx.emit("ADD", [sc, ctx.constant(_channel_const(b, len(shape)))], [ctx.output(node.outputs[0])])


@lowers("MeanVarianceNormalization")
def lower_mvn(ctx, node):
    x = node.inputs[0]
    require_dtype(ctx, node, x)
    rank = ctx.rank(x)
    axes = [norm_axis(a, rank) for a in node.attr("axes", [0, 2, 3])]
    perm = ctx.layout(x)
    n, _ = _normalize(ctx, node, x, axes, 1e-9, perm)
    ctx.alias(node.outputs[0], n, perm)
