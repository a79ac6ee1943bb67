"""Ops that vanish or reduce to others: Dropout, Einsum (the matmul-shaped equations)."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Unsupported
from . import lowers
from .common import emit_permute, emit_reshape, require_dtype


@lowers("Dropout")
def lower_dropout(ctx, node):
    x = node.inputs[0]
    if len(node.inputs) > 2 and node.inputs[2]:
        training = ctx.need_const(node.inputs[2], "Dropout training_mode")
        ratio = ctx.need_const(node.inputs[1], "Dropout ratio") if len(node.inputs) > 1 and node.inputs[1] \
            else np.array(0.5)
        if bool(np.asarray(training)) and float(np.asarray(ratio)) != 0.0:  # ratio 0 drops nothing
            raise Unsupported("Dropout in training mode (random)")
    if len(node.outputs) > 1 and node.outputs[1]:  # inference: the mask is all ones
        ctx.graph.consts[node.outputs[1]] = np.ones(ctx.shape(x), bool)
    ctx.forward(node.outputs[0], x)


def _parse_einsum(eq: str, ranks: list[int]):
    """Operand terms and output term with ``...`` expanded into fresh upper-case letters (aligned from the
    right, as broadcasting does) and an implicit output (``'ij,jk'``: the letters used once, sorted)."""
    eq = eq.replace(" ", "")
    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise Unsupported(f"Einsum {eq!r} with {len(ranks)} operands")
    fresh = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    n_ell = max([r - (len(t) - 3) for t, r in zip(terms, ranks) if "..." in t], default=0)
    ell = "".join(fresh[:n_ell])
    expanded = []
    for t, r in zip(terms, ranks):
        if "..." in t:
            k = r - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:] if k else "")
        if len(t) != r or "." in t:
            raise Unsupported(f"Einsum {eq!r}: term {t!r} for an operand of rank {r}")
        expanded.append(t)
    if out is None:
        letters = "".join(expanded)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


@lowers("Einsum")
def lower_einsum(ctx, node):
    """Einsum as TRANSPOSE/RESHAPE + BATCH_MATMUL (two operands) or TRANSPOSE/SUM (one operand);
    a repeated index inside one operand (a diagonal) is taken first with an identity mask and a SUM."""
    terms, out = _parse_einsum(node.attr("equation"), [ctx.rank(i) for i in node.inputs])
    dt = require_dtype(ctx, node, node.inputs[0])
    operands = [(n, t, ctx.shape(n)) if len(set(t)) == len(t) else
                _diagonal(ctx, ctx.input(n, None), t, ctx.shape(n), dt) for n, t in zip(node.inputs, terms)]
    if len(terms) == 1:
        _einsum_unary(ctx, node, *operands[0], out, dt)
        return
    if len(terms) != 2:
        raise Unsupported("Einsum with more than two operands")
    (ta, a, sa), (tb, b, sb) = operands
    size = {**dict(zip(a, sa)), **dict(zip(b, sb))}
    if any(size[c] != d for c, d in list(zip(a, sa)) + list(zip(b, sb))):
        raise Unsupported(f"Einsum {node.attr('equation')!r} with broadcast (size-1) dimensions")
    batch = [c for c in a if c in b and c in out]
    contract = [c for c in a if c in b and c not in out]
    free_a = [c for c in a if c not in b]
    free_b = [c for c in b if c not in a]
    if any(c not in out for c in free_a + free_b):
        raise Unsupported("Einsum summing over an index of one operand only")
    prod = lambda cs: int(np.prod([size[c] for c in cs])) if cs else 1
    bshape = [size[c] for c in batch]
    a3 = _arrange(ctx, ta, a, sa, batch + free_a + contract, bshape + [prod(free_a), prod(contract)], dt)
    b3 = _arrange(ctx, tb, b, sb, batch + contract + free_b, bshape + [prod(contract), prod(free_b)], dt)
    mm_shape = tuple(bshape + [prod(free_a), prod(free_b)])
    mm = ctx.temp(mm_shape, dt, "einsum_mm")
    ctx.emit("BATCH_MATMUL", [a3, b3], [mm])
    order = batch + free_a + free_b
    full = tuple(size[c] for c in order)
    r = ctx.temp(full, dt, "einsum_unflat")
    emit_reshape(ctx, mm, full, r)
    emit_permute(ctx, r, full, [order.index(c) for c in out], ctx.output(node.outputs[0]))


def _diagonal(ctx, t: int, term: str, shape, dt):
    """(tensor, term, shape) with every repeated index of ``term`` reduced to its diagonal."""
    shape = tuple(shape)
    while len(set(term)) != len(term):
        c = next(ch for ch in term if term.count(ch) > 1)
        p1 = term.index(c)
        p2 = term.index(c, p1 + 1)
        n = shape[p1]
        mshape = [1] * len(shape)
        mshape[p1] = mshape[p2] = n
        masked = ctx.temp(shape, dt, "einsum_diag")
        ctx.emit("MUL", [t, ctx.constant(np.eye(n, dtype=dt).reshape(mshape))], [masked])
        shape = shape[:p2] + shape[p2 + 1:]
        term = term[:p2] + term[p2 + 1:]
        t = ctx.temp(shape, dt, "einsum_diag")
        ctx.emit("SUM", [masked, ctx.constant(np.array([p2], np.int32))], [t], {"keep_dims": False})
    return t, term, shape


def _arrange(ctx, t, term, shape, order, new_shape, dt):
    """Transpose ``t`` (a tensor, or an ONNX value name, with indices ``term``) to ``order`` and reshape
    to ``new_shape``. A value name is fetched directly in the wanted layout (one TRANSPOSE at most)."""
    perm = tuple(term.index(c) for c in order)
    if isinstance(t, str):
        t = ctx.input(t, L.norm(perm))
    elif not L.is_identity(perm):
        moved = ctx.temp(tuple(shape[p] for p in perm), dt, "einsum_perm")
        ctx.emit("TRANSPOSE", [t, ctx.constant(np.array(perm, np.int32))], [moved])
        t = moved
    r = ctx.temp(tuple(new_shape), dt, "einsum_in")
    emit_reshape(ctx, t, new_shape, r)
    return r


def _einsum_unary(ctx, node, src, term, shape, out, dt):
    if isinstance(src, str):
        src = ctx.input(src, None)
    summed = [i for i, c in enumerate(term) if c not in out]
    kept = [c for c in term if c in out]
    if summed:
        red = tuple(d for i, d in enumerate(shape) if i not in summed)
        t = ctx.temp(red, dt, "einsum_sum")
        ctx.emit("SUM", [src, ctx.constant(np.array(summed, np.int32))], [t], {"keep_dims": False})
        src, shape = t, red
    emit_permute(ctx, src, shape, [kept.index(c) for c in out], ctx.output(node.outputs[0]))
