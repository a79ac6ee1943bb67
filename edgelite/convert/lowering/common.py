"""Helpers shared by lowerings: layout negotiation for elementwise ops, axis normalisation, op chains
on temporaries (:class:`Expr`, :func:`emit_temp`) and the RESHAPE/TRANSPOSE emitters."""
from __future__ import annotations

import numpy as np

from .. import layout as L
from ..context import Context, Unsupported
from ..onnx_import import Node


def norm_axis(axis: int, rank: int) -> int:
    a = int(axis)
    if a < 0:
        a += rank
    if not 0 <= a < max(rank, 1):
        raise Unsupported(f"axis {axis} out of range for rank {rank}")
    return a


def require_dtype(ctx: Context, node, name: str, dtype=np.float32) -> np.dtype:
    """The dtype of value ``name``; ``Unsupported("<op type> on <dtype>")`` unless it is ``dtype``."""
    dt = ctx.dtype(name)
    if dt != dtype:
        raise Unsupported(f"{node.op_type} on {dt}")
    return dt


def pick_layout(ctx: Context, names: list[str], out_rank: int) -> L.Perm:
    """The layout an elementwise op runs in: the layout of its runtime inputs of full rank."""
    perms = set()
    for n in names:
        if n and not ctx.is_const(n) and n in ctx.values:
            if ctx.rank(n) != out_rank:
                if ctx.layout(n) is not None:
                    return None
                continue
            perms.add(ctx.layout(n))
    if len(perms) == 1:
        return perms.pop()
    non_id = [p for p in perms if p is not None]
    return non_id[0] if non_id else None


def layout_with_axis_last(ctx: Context, name: str, axis: int) -> L.Perm:
    """The current layout of ``name`` if logical ``axis`` is physically last there, else that layout
    with ``axis`` moved to the end (for ops that work on the innermost axis: SOFTMAX, TOPK_V2)."""
    perm = ctx.layout(name)
    rank = ctx.rank(name)
    if L.physical_axis(axis, perm) == rank - 1:
        return perm
    order = list(perm) if perm else list(range(rank))
    order.remove(axis)
    return L.norm(tuple(order + [axis]))


def broadcast_input(ctx: Context, name: str, perm: L.Perm, out_rank: int, dtype=None) -> int:
    """Tensor for ``name`` usable in a broadcasting op running in layout ``perm`` of rank ``out_rank``."""
    if perm is None:
        return ctx.input(name, None, dtype)
    r = ctx.rank(name)
    if r == out_rank:
        return ctx.input(name, perm, dtype)
    if ctx.is_const(name):
        arr = np.asarray(ctx.const(name))
        if dtype is not None:
            arr = arr.astype(dtype)
        arr = arr.reshape((1,) * (out_rank - r) + arr.shape).transpose(perm)
        return ctx.constant(arr)
    # lower-rank runtime value: reshape to full rank (logical), then permute
    src = ctx.input(name, None, dtype)
    full = (1,) * (out_rank - r) + ctx.shape(name)
    t = ctx.temp(full, ctx.sg.tensors[src].numpy_dtype, "bcast")
    emit_reshape(ctx, src, full, t)
    phys = L.physical_shape(full, perm)
    if L.moves_only_unit_axes(perm, full):
        t2 = ctx.temp(phys, ctx.sg.tensors[src].numpy_dtype, "bcast")
        emit_reshape(ctx, t, phys, t2)
    else:
        t2 = ctx.temp(phys, ctx.sg.tensors[src].numpy_dtype, "bcast")
        ctx.emit("TRANSPOSE", [t, ctx.constant(np.array(perm, np.int32))], [t2])
    return t2


def elementwise(ctx: Context, node, opcode: str, inputs: list[str] | None = None, options=None,
                out_dtype=None, in_dtype=None) -> int:
    """Emit a broadcasting elementwise op in the best layout; registers node.outputs[0]."""
    inputs = inputs if inputs is not None else node.inputs
    out = node.outputs[0]
    rank = ctx.rank(out)
    perm = pick_layout(ctx, inputs, rank)
    tensors = [broadcast_input(ctx, n, perm, rank, in_dtype) for n in inputs]
    o = ctx.output(out, perm, dtype=out_dtype)
    ctx.emit(opcode, tensors, [o], options)
    return o


def unary(ctx: Context, node, opcode: str, options=None, out_dtype=None) -> int:
    x = node.inputs[0]
    perm = ctx.layout(x)
    o = ctx.output(node.outputs[0], perm, dtype=out_dtype)
    ctx.emit(opcode, [ctx.input(x, perm)], [o], options)
    return o


class Expr:
    """Emit ops on temporaries shaped like value ``x`` in its current layout.

    ``op`` writes a new temporary and returns its index, ``done`` writes the node's first output.
    Python floats among the inputs become constants of x's dtype; ints are tensor indices.
    ``require`` (a dtype) refuses any other element type with ``Unsupported("<op> on <dtype>")``.
    """

    def __init__(self, ctx: Context, node, x: str, require=None):
        self.ctx, self.node = ctx, node
        self.dt = ctx.dtype(x) if require is None else require_dtype(ctx, node, x, require)
        self.perm = ctx.layout(x)
        self.shape = L.physical_shape(ctx.shape(x), self.perm)
        self.x = ctx.input(x, self.perm)

    def c(self, v) -> int:
        return self.ctx.constant(np.array(v, self.dt))

    def _tensors(self, ins) -> list[int]:
        return [self.c(i) if isinstance(i, float) else i for i in ins]

    def op(self, opcode: str, *ins, dtype=None, shape=None, opts=None) -> int:
        return emit_temp(self.ctx, opcode, self._tensors(ins), shape or self.shape, dtype or self.dt, opts)

    def done(self, opcode: str, *ins, opts=None) -> int:
        ins = self._tensors(ins)
        o = self.ctx.output(self.node.outputs[0], self.perm)
        self.ctx.emit(opcode, ins, [o], opts)
        return o


def emit_temp(ctx: Context, opcode: str, inputs, shape, dtype=np.float32, options=None, hint: str | None = None) -> int:
    """Emit ``opcode`` writing a new temporary of ``shape`` and ``dtype``; returns the temporary."""
    t = ctx.temp(shape, dtype, hint or opcode.lower())
    ctx.emit(opcode, inputs, [t], options)
    return t


def emit_reshape(ctx: Context, src: int, shape, out: int) -> None:
    """RESHAPE tensor ``src`` into the existing tensor ``out`` of shape ``shape``."""
    ctx.emit("RESHAPE", [src, ctx.constant(np.array(shape, np.int32))], [out], {"new_shape": list(shape)})


def emit_permute(ctx: Context, src: int, shape, perm, out: int) -> None:
    """Write tensor ``src`` (of shape ``shape``) permuted by ``perm`` into ``out``: a RESHAPE
    (a copy) when ``perm`` is the identity, else a TRANSPOSE."""
    if L.is_identity(tuple(perm)):
        emit_reshape(ctx, src, shape, out)
    else:
        ctx.emit("TRANSPOSE", [src, ctx.constant(np.array(perm, np.int32))], [out])


class OnnxBuilder:
    """Lower synthetic ONNX nodes through the registered lowerings (a composite op written as ONNX ops),
    naming the intermediate values after ``node``. ``value`` declares a value (a constant if ``const`` is
    given), ``op`` lowers one node and returns its output's name (``out`` to write a real output)."""

    def __init__(self, ctx, node):
        self.ctx, self.node, self.n = ctx, node, 0

    def value(self, shape, dtype, const=None) -> str:
        self.n += 1
        name = f"{self.node.name}/v{self.n}"
        g = self.ctx.graph
        g.shapes[name] = tuple(shape)
        g.dtypes[name] = np.dtype(dtype)
        if const is not None:
            g.consts[name] = np.asarray(const, dtype)
        return name

    def op(self, op_type, inputs, shape, dtype, out=None, **attrs) -> str:
        out = out or self.value(shape, dtype)
        sub = Node(name=f"{self.node.name}/{op_type}{self.n}", op_type=op_type, inputs=list(inputs), outputs=[out],
                   attrs=attrs)
        saved = self.ctx.node
        self.ctx.node = sub
        from . import LOWERINGS
        try:
            LOWERINGS[op_type](self.ctx, sub)
        finally:
            self.ctx.node = saved
        return out
