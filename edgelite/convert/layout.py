"""Layout bookkeeping: every ONNX value lives in TFLite as a tensor plus a *perm*.

``perm`` says how the physical (TFLite) tensor relates to the logical (ONNX)
value: ``physical = logical.transpose(perm)``; ``None`` means identity. Conv-like
ops produce channels-last values (``perm = (0, 2, 3, 1)`` for 4-D) and layout-aware
lowerings (elementwise, concat, pools, reductions, softmax, pads, transposes...)
keep whatever layout their inputs have, remapping axes. Only ops that need the
logical order (reshape, matmul...) materialize it, which costs one TRANSPOSE, or
a free RESHAPE when only size-1 axes move. ONNX ``Transpose`` nodes never emit
anything: they only relabel the perm, so NCHW<->NHWC transpose pairs cancel.
"""
from __future__ import annotations

from collections.abc import Sequence

Perm = tuple[int, ...] | None


def channels_last(rank: int) -> tuple[int, ...]:
    """(0, 2, 3, ..., rank-1, 1): NCHW -> NHWC for rank 4."""
    return (0,) + tuple(range(2, rank)) + (1,)


def is_identity(perm: Perm) -> bool:
    return perm is None or tuple(perm) == tuple(range(len(perm)))


def norm(perm: Perm) -> Perm:
    return None if is_identity(perm) else tuple(perm)


def inverse(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def physical_shape(shape: Sequence[int], perm: Perm) -> tuple[int, ...]:
    return tuple(shape) if perm is None else tuple(shape[p] for p in perm)


def physical_axis(axis: int, perm: Perm) -> int:
    """Where logical ``axis`` sits in the physical tensor."""
    return axis if perm is None else list(perm).index(axis)


def conversion(src: Perm, dst: Perm, rank: int) -> tuple[int, ...]:
    """The TRANSPOSE perm turning a physical tensor laid out as ``src`` into one laid out as ``dst``."""
    s = tuple(range(rank)) if src is None else tuple(src)
    d = tuple(range(rank)) if dst is None else tuple(dst)
    inv_s = inverse(s)
    return tuple(inv_s[a] for a in d)


def after_transpose(src: Perm, onnx_perm: Sequence[int]) -> Perm:
    """Perm of the result of ONNX ``Transpose(perm=onnx_perm)`` applied to a value laid out as ``src``."""
    rank = len(onnx_perm)
    q = tuple(range(rank)) if src is None else tuple(src)
    inv_p = inverse(onnx_perm)
    return norm(tuple(inv_p[a] for a in q))


def moves_only_unit_axes(t: Sequence[int], physical: Sequence[int]) -> bool:
    """True if transposing by ``t`` keeps the order of all axes longer than 1 (a reshape suffices)."""
    big = [a for a in t if physical[a] != 1]
    return big == sorted(big)


def drop_axes(perm: Perm, axes: Sequence[int]) -> Perm:
    """Perm after the logical ``axes`` are removed (reductions without keepdims, squeeze)."""
    if perm is None:
        return None
    axes = set(axes)
    kept = [p for p in perm if p not in axes]
    rank_map = {a: i for i, a in enumerate(sorted(kept))}
    return norm(tuple(rank_map[p] for p in kept))
