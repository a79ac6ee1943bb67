"""Resize as one constant interpolation matrix per resized axis (the fallback behind RESIZE_BILINEAR /
RESIZE_NEAREST_NEIGHBOR).

ONNX Resize is separable: the reference resizes one axis after the other, each output element along an
axis being a fixed linear combination of the input elements on that axis (plus ``extrapolation_value``
outside a tf_crop_and_resize box). So every mode TFLite's builtins cannot express (cubic, antialiasing,
other coordinate transformations and nearest modes, scales that are not out/in ratios,
keep_aspect_ratio_policy, tf_crop_and_resize, resized non-spatial axes) is a FULLY_CONNECTED along each
resized axis, the axis moved innermost with a TRANSPOSE when needed: weights = the axis' interpolation
matrix, bias = the extrapolation value on extrapolated rows. The matrices are obtained by resizing the unit
basis with ``onnx.reference``'s own 1-D routine, so they follow the specification (coefficients,
neighbour choice, ``exclude_outside``, rounding of output sizes) exactly. Cost: n_out x n_in weights per
axis, so it is used up to ``MAX_MATRIX`` elements.
"""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import NeedsConstant, Unsupported

MAX_MATRIX = 1 << 22


def _coeff_function(node):
    from onnx.reference.ops import op_resize as R
    mode = node.attr("mode", "nearest")
    if isinstance(mode, bytes):
        mode = mode.decode()
    antialias = bool(node.attr("antialias", 0))
    if mode == "nearest":
        if antialias:
            raise Unsupported("antialiased nearest Resize")
        nearest_mode = node.attr("nearest_mode", "round_prefer_floor")
        return lambda x, scale: R._nearest_coeffs(x, mode=nearest_mode)
    if mode == "cubic":
        fn = R._cubic_coeffs_antialias if antialias else R._cubic_coeffs
        a = float(node.attr("cubic_coeff_a", -0.75))
        return lambda x, scale: fn(x, scale, A=a)
    if mode == "linear":
        return R._linear_coeffs_antialias if antialias else R._linear_coeffs
    raise Unsupported(f"Resize mode {mode!r}")


def _axis_parameters(ctx, node, in_shape):
    """Per axis: (scale, output size, roi pair or None), as onnx.reference's _interpolate_nd derives them."""
    r = len(in_shape)
    names = list(node.inputs) + [""] * 4
    for n in names[1:4]:
        if n and not ctx.is_const(n) and ctx.graph.shapes.get(n) != (0,):
            raise NeedsConstant(n, "Resize roi/scales/sizes")
    roi, scales, sizes = (np.asarray(ctx.const(n), np.float64).reshape(-1) if n and ctx.const(n) is not None
                          else None for n in names[1:4])
    roi = None if roi is None or roi.size == 0 else roi
    scales = None if scales is None or scales.size == 0 else scales
    sizes = None if sizes is None or sizes.size == 0 else sizes.astype(np.int64)
    axes = node.attr("axes")
    axes = list(range(r)) if axes is None else [a % r for a in axes]
    scale_full = [1.0] * r
    size_full = list(in_shape)
    roi_full = None if roi is None else [0.0] * r + [1.0] * r
    for i, a in enumerate(axes):
        if scales is not None:
            scale_full[a] = float(scales[i])
        if sizes is not None:
            size_full[a] = int(sizes[i])
        if roi is not None:
            roi_full[a], roi_full[r + a] = roi[i], roi[len(axes) + i]
    if sizes is not None:
        scale_full = [size_full[i] / in_shape[i] for i in range(r)]
        policy = node.attr("keep_aspect_ratio_policy", "stretch")
        if isinstance(policy, bytes):
            policy = policy.decode()
        if policy != "stretch":
            pick = min if policy == "not_larger" else max
            s = pick(scale_full[a] for a in axes)
            scale_full = [s if i in axes else 1.0 for i in range(r)]
            size_full = [int(s * in_shape[i] + 0.5) if i in axes else in_shape[i] for i in range(r)]
    elif scales is not None:
        size_full = [int(v) for v in (np.array(scale_full) * np.array(in_shape)).astype(int)]
    else:
        raise Unsupported("Resize without scales or sizes")
    out = []
    for a in axes:
        pair = None if roi_full is None else (roi_full[a], roi_full[r + a])
        identity = (np.isclose(scale_full[a], 1.0) and size_full[a] == in_shape[a]
                    and (pair is None or (np.isclose(pair[0], 0.0) and np.isclose(pair[1], 1.0))))
        if not identity:
            out.append((a, scale_full[a], size_full[a], pair))
    return out


def _matrix(node, fct, n_in, scale, n_out, roi):
    """(weights [n_out, n_in], bias [n_out]) of one axis."""
    from onnx.reference.ops import op_resize as R
    ctm = node.attr("coordinate_transformation_mode", "half_pixel")
    if isinstance(ctm, bytes):
        ctm = ctm.decode()
    kw = dict(roi=roi, coordinate_transformation_mode=ctm, exclude_outside=bool(node.attr("exclude_outside", 0)))
    w = R._interpolate_1d_along_axis(np.eye(n_in), 0, scale, n_out, fct, extrapolation_value=0.0, **kw)
    ev = float(node.attr("extrapolation_value", 0.0))
    b = R._interpolate_1d_along_axis(np.zeros((n_in, 1)), 0, scale, n_out, fct, extrapolation_value=ev, **kw)
    return np.asarray(w, np.float64), np.asarray(b, np.float64).reshape(-1)


def resize_by_matrices(ctx, node) -> None:
    """Lower Resize (opset >= 11) as interpolation-matrix products; raises Unsupported if it cannot."""
    if node.op_type != "Resize" or ctx.graph.opset < 11:
        raise Unsupported("Resize before opset 11")
    x = node.inputs[0]
    if ctx.dtype(x) != np.float32:
        raise Unsupported(f"Resize on {ctx.dtype(x)}")
    in_shape = ctx.shape(x)
    out_shape = ctx.shape(node.outputs[0])
    fct = _coeff_function(node)
    steps = _axis_parameters(ctx, node, in_shape)
    perm = ctx.layout(x)
    t = ctx.input(x, perm)
    logical = list(in_shape)
    rank = len(in_shape)
    final = list(in_shape)
    for axis, _scale, n_out, _roi in steps:
        final[axis] = n_out
    if tuple(final) != tuple(out_shape):
        raise Unsupported(f"Resize output shape {tuple(final)} does not match the inferred {out_shape}")
    if not steps:
        ctx.forward(node.outputs[0], x)
        return
    for k, (axis, scale, n_out, roi) in enumerate(steps):
        n_in = logical[axis]
        if n_out <= 0 or n_in * n_out > MAX_MATRIX:
            raise Unsupported(f"Resize of an axis {n_in} -> {n_out}")
        w, b = _matrix(node, fct, n_in, scale, n_out, roi)
        order = list(perm) if perm else list(range(rank))
        if order[-1] != axis:
            order.remove(axis)
            order.append(axis)
            new_perm = tuple(order)
            move = L.conversion(perm, new_perm, rank)
            moved = ctx.temp(L.physical_shape(logical, new_perm), np.float32, "resize_axis")
            ctx.emit("TRANSPOSE", [t, ctx.constant(np.array(move, np.int32))], [moved])
            t, perm = moved, L.norm(new_perm)
        logical[axis] = n_out
        last = k == len(steps) - 1
        res = ctx.output(node.outputs[0], perm) if last else ctx.temp(L.physical_shape(logical, perm), np.float32,
                                                                        "resized")
        bias = ctx.constant(b.astype(np.float32)) if np.any(b) else -1
        ctx.emit("FULLY_CONNECTED", [t, ctx.constant(w.astype(np.float32)), bias], [res],
                 {"fused_activation_function": 0, "weights_format": 0, "keep_num_dims": True,
                  "asymmetric_quantize_inputs": False})
        t = res
