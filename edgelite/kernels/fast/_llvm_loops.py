"""LLVM-IR building block shared by the compiled tier's register-tile intrinsics
(``_compiled_gemm``, ``_compiled_depthwise``, ``_compiled_depthwise_float``).

Each of them emits one counted loop whose accumulators stay in registers: phi nodes that
start from initial values and take each step's results. :func:`counted_accumulation` emits
that loop once for all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from llvmlite import ir

I64 = ir.IntType(64)


def counted_accumulation(builder: ir.IRBuilder, count: ir.Value, initial: Sequence[ir.Value],
                         step: Callable[[ir.Value, list], list], name: str) -> list:
    """Emit ``values = initial; for t in range(count): values = step(t, values)`` and return the
    final values, with the builder left after the loop.

    ``count`` is an i64 that may be 0 or negative (the initial values then come out unchanged);
    ``step(t, values)`` emits the loop body for the i64 counter ``t`` and returns the new
    values, one per initial value and of the same types. The values live in phi nodes, so LLVM
    keeps them in registers across the iterations.
    """
    entry = builder.basic_block
    loop = builder.append_basic_block(name + "_loop")
    done = builder.append_basic_block(name + "_done")
    zero = ir.Constant(I64, 0)
    builder.cbranch(builder.icmp_signed(">", count, zero), loop, done)

    builder.position_at_end(loop)
    t = builder.phi(I64)
    values = [builder.phi(v.type) for v in initial]
    stepped = step(t, values)
    body_end = builder.basic_block
    t_next = builder.add(t, ir.Constant(I64, 1))
    t.add_incoming(zero, entry)
    t.add_incoming(t_next, body_end)
    for phi, start, new in zip(values, initial, stepped):
        phi.add_incoming(start, entry)
        phi.add_incoming(new, body_end)
    builder.cbranch(builder.icmp_signed("<", t_next, count), loop, done)

    builder.position_at_end(done)
    final = []
    for start, new in zip(initial, stepped):
        phi = builder.phi(start.type)
        phi.add_incoming(start, entry)
        phi.add_incoming(new, body_end)
        final.append(phi)
    return final
