"""GridSample (linear, nearest and cubic, 2-D and 3-D, zeros / border / reflection padding) from GATHER_ND.

Runtime coordinates, so the sampling is computed in the graph, following ONNX's reference: each grid
coordinate is denormalized (``(g + 1) / 2 * (d - 1)`` with align_corners, else ``((g + 1) * d - 1) / 2``),
rounded half to even for nearest, then brought into range (border: clamped to [0, d - 1]; reflection:
reflected at the borders with a FLOOR_MOD of period 2 * (max - min)). Linear mode reads the 2**n corner
taps ``floor(x)`` and ``floor(x) + 1`` (their indices clamped, reflected or masked to zero by the padding
mode) with GATHER_ND from the channels-last input and sums them weighted by the products of
``1 - frac`` / ``frac``; cubic mode reads 4 taps per axis weighted by Keys' cubic (a = -0.75). The output is channels-last ([N, *out, C]), as conv outputs are.
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import emit_temp

F32, I32 = np.float32, np.int32


def _c(ctx, v, dt=F32):
    return ctx.constant(np.array(v, dt))


def _reflect(ctx, v, lo: float, hi: float, shape):
    """Reflect float coordinates into [lo, hi] (the reference's repeated reflection, closed form)."""
    rng = hi - lo
    t = emit_temp(ctx, "SUB", [v, _c(ctx, lo)], shape)
    t = emit_temp(ctx, "FLOOR_MOD", [t, _c(ctx, 2 * rng)], shape)
    low_half = emit_temp(ctx, "LESS_EQUAL", [t, _c(ctx, rng)], shape, np.bool_)
    up = emit_temp(ctx, "ADD", [t, _c(ctx, lo)], shape)
    down = emit_temp(ctx, "SUB", [_c(ctx, hi + rng), t], shape)
    return emit_temp(ctx, "SELECT_V2", [low_half, up, down], shape)


def _cubic_weights(ctx, t, shape, a: float = -0.75):
    """Keys cubic convolution weights of the taps at -1, 0, 1, 2 for the fraction ``t`` (the reference's
    polynomials, Horner form)."""
    def poly(u, coeffs):  # ((c0 u + c1) u + c2) u + c3
        r = emit_temp(ctx, "MUL", [u, _c(ctx, coeffs[0])], shape)
        for k in range(1, len(coeffs)):
            r = emit_temp(ctx, "ADD", [r, _c(ctx, coeffs[k])], shape)
            if k < len(coeffs) - 1:
                r = emit_temp(ctx, "MUL", [r, u], shape)
        return r
    far = (a, -5 * a, 8 * a, -4 * a)          # |u| in [1, 2]
    near = (a + 2, -(a + 3), 0.0, 1.0)        # |u| in [0, 1]
    t1 = emit_temp(ctx, "ADD", [t, _c(ctx, 1.0)], shape)
    om = emit_temp(ctx, "SUB", [_c(ctx, 1.0), t], shape)
    t2 = emit_temp(ctx, "SUB", [_c(ctx, 2.0), t], shape)
    return [poly(t1, far), poly(t, near), poly(om, near), poly(t2, far)]


@lowers("GridSample")
def lower_grid_sample(ctx, node):
    x, grid = node.inputs[:2]
    if ctx.dtype(x) != F32 or ctx.dtype(grid) != F32:
        raise Unsupported(f"GridSample on {ctx.dtype(x)}")
    mode = node.attr("mode", "linear")
    pad_mode = node.attr("padding_mode", "zeros")
    mode, pad_mode = (m.decode() if isinstance(m, bytes) else m for m in (mode, pad_mode))
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if mode not in ("linear", "nearest", "cubic"):
        raise Unsupported(f"GridSample mode {mode!r}")
    align = bool(node.attr("align_corners", 0))
    xs, gs = ctx.shape(x), ctx.shape(grid)
    nd = len(xs) - 2
    if nd not in (2, 3) or gs[-1] != nd:
        raise Unsupported(f"GridSample of input {xs} with grid {gs}")
    n, c, dims = xs[0], xs[1], xs[2:]
    out_sp = gs[1:-1]
    cshape = (n, *out_sp, 1)  # one coordinate per output position
    cl = L.norm(L.channels_last(len(xs)))
    data = ctx.input(x, cl)
    g = ctx.input(grid, None)
    coords = []
    for i in range(nd):  # spatial dim i is grid component nd - 1 - i
        gi = emit_temp(ctx, "GATHER", [g, ctx.constant(np.array([nd - 1 - i], I32))], cshape,
                       options={"axis": nd + 1, "batch_dims": 0})
        d = dims[i]
        if align:
            v = emit_temp(ctx, "MUL", [emit_temp(ctx, "ADD", [gi, _c(ctx, 1.0)], cshape), _c(ctx, 0.5 * (d - 1))],
                          cshape)
            lo, hi = 0.0, d - 1.0
        else:
            v = emit_temp(ctx, "ADD", [gi, _c(ctx, 1.0)], cshape)
            v = emit_temp(ctx, "MUL", [emit_temp(ctx, "SUB", [emit_temp(ctx, "MUL", [v, _c(ctx, float(d))], cshape),
                                                              _c(ctx, 1.0)], cshape), _c(ctx, 0.5)], cshape)
            lo, hi = -0.5, d - 0.5
        if mode == "nearest":
            v = emit_temp(ctx, "ROUND", [v], cshape)
        if pad_mode == "border":  # clamped to [0, d - 1] when outside [lo, hi], as the reference does
            clamped = emit_temp(ctx, "MINIMUM", [emit_temp(ctx, "MAXIMUM", [v, _c(ctx, 0.0)], cshape),
                                                 _c(ctx, d - 1.0)], cshape)
            below = emit_temp(ctx, "LESS", [v, _c(ctx, lo)], cshape, np.bool_)
            above = emit_temp(ctx, "GREATER", [v, _c(ctx, hi)], cshape, np.bool_)
            outside = emit_temp(ctx, "LOGICAL_OR", [below, above], cshape, np.bool_)
            v = emit_temp(ctx, "SELECT_V2", [outside, clamped, v], cshape)
        elif pad_mode == "reflection":
            v = _reflect(ctx, v, lo, hi, cshape)
        elif pad_mode != "zeros":
            raise Unsupported(f"GridSample padding_mode {pad_mode!r}")
        coords.append((v, d, lo, hi))
    taps_per_dim = []
    for v, d, lo, hi in coords:
        base = emit_temp(ctx, "FLOOR", [v], cshape) if mode != "nearest" else v
        if mode == "nearest":
            taps_per_dim.append([(base, None)])
            continue
        frac = emit_temp(ctx, "SUB", [v, base], cshape)
        if mode == "cubic":
            taps_per_dim.append([(emit_temp(ctx, "ADD", [base, _c(ctx, float(k))], cshape), w)
                                 for k, w in zip((-1, 0, 1, 2), _cubic_weights(ctx, frac, cshape))])
            continue
        one_minus = emit_temp(ctx, "SUB", [_c(ctx, 1.0), frac], cshape)
        nxt = emit_temp(ctx, "ADD", [base, _c(ctx, 1.0)], cshape)
        taps_per_dim.append([(base, one_minus), (nxt, frac)])
    tap_idx = []  # per dim: list of (int index tensor, validity mask or None, weight or None)
    for (v, d, lo, hi), taps in zip(coords, taps_per_dim):
        row = []
        for pos, w in taps:
            valid = None
            if pad_mode == "reflection":
                pos = _reflect(ctx, pos, lo, hi, cshape)
            elif pad_mode == "zeros":
                ge = emit_temp(ctx, "GREATER_EQUAL", [pos, _c(ctx, 0.0)], cshape, np.bool_)
                le = emit_temp(ctx, "LESS_EQUAL", [pos, _c(ctx, d - 1.0)], cshape, np.bool_)
                valid = emit_temp(ctx, "LOGICAL_AND", [ge, le], cshape, np.bool_)
            ip = emit_temp(ctx, "CAST", [pos], cshape, I32)  # truncation, as the reference's int()
            ip = emit_temp(ctx, "MINIMUM", [emit_temp(ctx, "MAXIMUM", [ip, _c(ctx, 0, I32)], cshape, I32),
                                            _c(ctx, d - 1, I32)], cshape, I32)
            row.append((ip, valid, w))
        tap_idx.append(row)
    batch = np.broadcast_to(np.arange(n, dtype=I32).reshape((n,) + (1,) * (nd + 1)), cshape)
    batch_t = ctx.constant(np.ascontiguousarray(batch))
    pshape = (n, *out_sp, c)
    terms = []
    for combo in itertools.product(*tap_idx):
        idx = emit_temp(ctx, "CONCATENATION", [batch_t] + [t[0] for t in combo], (n, *out_sp, nd + 1), I32,
                        {"axis": nd + 1, "fused_activation_function": 0})
        pix = emit_temp(ctx, "GATHER_ND", [data, idx], pshape)
        weight = None
        for _ip, valid, w in combo:
            if w is not None:
                weight = w if weight is None else emit_temp(ctx, "MUL", [weight, w], cshape)
            if valid is not None:
                z = emit_temp(ctx, "SELECT_V2", [valid, weight if weight is not None else _c(ctx, 1.0),
                                                 _c(ctx, 0.0)], cshape)
                weight = z
        terms.append((pix, weight))
    out = ctx.output(node.outputs[0], cl)
    if len(terms) == 1:
        pix, weight = terms[0]
        if weight is None:
            ctx.emit("RESHAPE", [pix, ctx.constant(np.array(pshape, I32))], [out], {"new_shape": list(pshape)})
        else:
            ctx.emit("MUL", [pix, weight], [out])
        return
    acc = None
    for k, (pix, weight) in enumerate(terms):
        term = pix if weight is None else emit_temp(ctx, "MUL", [pix, weight], pshape)
        if acc is None:
            acc = term
        elif k == len(terms) - 1:
            ctx.emit("ADD", [acc, term], [out])
        else:
            acc = emit_temp(ctx, "ADD", [acc, term], pshape)
