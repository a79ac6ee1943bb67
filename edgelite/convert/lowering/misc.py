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
        training = ctx.const(node.inputs[2])
        if training is None or bool(np.asarray(training)):
            raise Unsupported("Dropout in training mode")
    if len(node.outputs) > 1 and node.outputs[1]:  # inference: the mask is all ones
        ctx.graph.consts[node.outputs[1]] = np.ones(ctx.shape(x), bool)
    ctx.forward(node.outputs[0], x)


def _parse_einsum(eq: str, n_inputs: int):
    eq = eq.replace(" ", "")
    if "->" not in eq:
        raise Unsupported(f"Einsum {eq!r} without an explicit output")
    lhs, out = eq.split("->")
    terms = lhs.split(",")
    if len(terms) != n_inputs or "." in eq:
        raise Unsupported(f"Einsum {eq!r}")
    return terms, out


@lowers("Einsum")
def lower_einsum(ctx, node):
    """Einsum as TRANSPOSE/RESHAPE + BATCH_MATMUL (two operands) or TRANSPOSE/SUM (one operand)."""
    terms, out = _parse_einsum(node.attr("equation"), len(node.inputs))
    dt = require_dtype(ctx, node, node.inputs[0])
    if len(terms) == 1:
        _einsum_unary(ctx, node, terms[0], out)
        return
    if len(terms) != 2:
        raise Unsupported("Einsum with more than two operands")
    a, b = terms
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        raise Unsupported("Einsum with repeated indices in one operand (diagonals)")
    sa, sb = ctx.shape(node.inputs[0]), ctx.shape(node.inputs[1])
    size = {**dict(zip(a, sa)), **dict(zip(b, sb))}
    batch = [c for c in a if c in b and c in out]
    contract = [c for c in a if c in b and c not in out]
    free_a = [c for c in a if c not in b]
    free_b = [c for c in b if c not in a]
    if any(c not in out for c in free_a + free_b):
        raise Unsupported("Einsum summing over an index of one operand only")
    prod = lambda cs: int(np.prod([size[c] for c in cs])) if cs else 1
    bshape = [size[c] for c in batch]
    a3 = _arrange(ctx, node.inputs[0], a, batch + free_a + contract, bshape + [prod(free_a), prod(contract)])
    b3 = _arrange(ctx, node.inputs[1], b, batch + contract + free_b, bshape + [prod(contract), prod(free_b)])
    mm_shape = tuple(bshape + [prod(free_a), prod(free_b)])
    mm = ctx.temp(mm_shape, dt, "einsum_mm")
    ctx.emit("BATCH_MATMUL", [a3, b3], [mm])
    order = batch + free_a + free_b
    full = tuple(size[c] for c in order)
    r = ctx.temp(full, dt, "einsum_unflat")
    emit_reshape(ctx, mm, full, r)
    emit_permute(ctx, r, full, [order.index(c) for c in out], ctx.output(node.outputs[0]))


def _arrange(ctx, name, term, order, shape):
    """Transpose operand ``name`` (indices ``term``) to ``order`` and reshape to ``shape``."""
    perm = tuple(term.index(c) for c in order)
    src = ctx.input(name, L.norm(perm))
    t = ctx.temp(tuple(shape), ctx.dtype(name), "einsum_in")
    emit_reshape(ctx, src, shape, t)
    return t


def _einsum_unary(ctx, node, term, out):
    if len(set(term)) != len(term):
        raise Unsupported("Einsum diagonal")
    x = node.inputs[0]
    summed = [i for i, c in enumerate(term) if c not in out]
    kept = [c for c in term if c in out]
    src = ctx.input(x, None)
    shape = ctx.shape(x)
    if summed:
        red = tuple(d for i, d in enumerate(shape) if i not in summed)
        t = ctx.temp(red, ctx.dtype(x), "einsum_sum")
        ctx.emit("SUM", [src, ctx.constant(np.array(summed, np.int32))], [t], {"keep_dims": False})
        src, shape = t, red
    emit_permute(ctx, src, shape, [kept.index(c) for c in out], ctx.output(node.outputs[0]))
