"""8-bit MUL, ADD and SUB, compiled.

* Plain MUL / ADD / SUB whose inputs are the output's shape, a broadcast scalar, or a
  broadcast trailing block (``[1, 1, 1, C]`` against ``[1, H, W, C]``, EfficientNet's
  squeeze-excite multiply): one compiled loop doing the reference's integer arithmetic per
  element (``_compiled_int8``), LiteRT's SIMD-lane and scalar-tail variants element by element
  as its vector loops split them. No table to build, no index arrays.
* Fused swish (``FusedSwishMul``) and the 8-bit ops in other broadcast layouts: the
  reference's byte / pair tables, looked up by a compiled gather (the tables have one
  entry per index value, so the gather needs no bound checks and vectorises; 256-entry
  byte tables by AVX-512 VBMI permutes where the host has them, ``byte_tables.py``).
* Everything else (int16, a dynamic output): the reference ``eval``.
"""
from __future__ import annotations

import math

import numpy as np

from ..base import register
from ..fused_swish import FusedSwishMul, _is_fused_mul
from ..quantized_elementwise import QuantizedAdd, QuantizedMul, QuantizedSub
from . import FAST_PRIORITY, enabled
from .byte_tables import gather_table, gather_table_masked
from .loader import run_from

_MODULE = "_compiled_int8"
_BYTES = (np.dtype(np.int8), np.dtype(np.uint8))
FLAT_CHUNK = 1 << 14  # outputs per row of a same-shape operation


def _operand(shape, out_shape):
    """How an input walks the output: "full" (same shape), "scalar" (one element), an int
    (a trailing block of that many outputs, repeated: leading dimensions all 1), or None."""
    n = len(out_shape)
    e = (1,) * (n - len(shape)) + tuple(shape)
    if e == tuple(out_shape):
        return "full"
    if math.prod(e) == 1:
        return "scalar"
    k = 0
    while k < n and e[n - 1 - k] == out_shape[n - 1 - k]:
        k += 1
    if all(d == 1 for d in e[:n - k]):
        return math.prod(out_shape[n - k:])
    return None


def binary_layout(shape1, shape2, out_shape, lanes) -> tuple | None:
    """(rows, run, size, s1, e1, s2, e2, vec_n, vec_total) for the compiled loops, or None for a
    layout they do not walk: output row ``r`` has ``run`` elements, input ``i`` reads row
    ``r`` from ``r * s_i`` on with step ``e_i``; the first ``min(vec_n, vec_total - r * run)``
    elements of a row take LiteRT's SIMD-lane arithmetic."""
    out_shape = tuple(out_shape)
    size = math.prod(out_shape)
    if size == 0:
        return None
    a, b = _operand(shape1, out_shape), _operand(shape2, out_shape)
    if a is None or b is None or (a != "full" and b != "full"):
        return None
    other = b if a == "full" else a
    if other == "full" or other == "scalar":
        run = min(size, FLAT_CHUNK)
        rows = -(-size // run)
        strides = {"full": (run, 1), "scalar": (0, 0)}
        (s1, e1), (s2, e2) = strides[a], strides[b]
    else:
        run, rows = other, size // other
        (s1, e1), (s2, e2) = ((run, 1), (0, 1)) if a == "full" else ((0, 1), (run, 1))
    if lanes.none:
        vec_n = vec_total = 0
    elif lanes.all:
        vec_n, vec_total = run, size
    elif lanes.tail_start is not None:
        vec_n, vec_total = run, lanes.tail_start
    else:  # SIMD lanes: the first run - run % block of every lane run of outputs
        lane_run, block = lanes._runs
        if lane_run == size:
            vec_n, vec_total = run, size - size % block
        elif lane_run == run:
            vec_n, vec_total = run - run % block, size
        else:
            return None
    return rows, run, size, s1, e1, s2, e2, vec_n, vec_total


class _CompiledLookup:
    """The reference's table lookups as compiled gathers."""

    def lookup(self, index, scalar, vector, out):
        lanes = self.lanes
        tables = [t for t in (scalar, vector) if t is not None]
        if out is None or index.shape != out.shape or not (index.flags.c_contiguous and out.flags.c_contiguous) \
                or any(t.size != 1 << (8 * index.itemsize) for t in tables):
            return super().lookup(index, scalar, vector, out)
        idx, flat = index.reshape(-1), out.reshape(-1)
        if lanes.none:
            gather_table(self, idx, scalar, flat, 0, idx.size)
        elif lanes.all:
            gather_table(self, idx, vector, flat, 0, idx.size)
        elif lanes.tail_start is not None:
            gather_table(self, idx, vector, flat, 0, lanes.tail_start)
            gather_table(self, idx, scalar, flat, lanes.tail_start, idx.size)
        else:
            mask = self.__dict__.get("flat_mask")
            if mask is None or mask.size != idx.size:
                mask = self.flat_mask = np.ascontiguousarray(np.broadcast_to(lanes.mask, out.shape)).reshape(-1)
            gather_table_masked(self, idx, vector, scalar, mask, flat)
        return None


class _CompiledArithmetic(_CompiledLookup):
    """Mixin: ``eval`` by the compiled per-element loop ``loop`` when the layout allows."""

    loop = ""

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        a, b, out = inputs[0], inputs[1], outputs[0]
        self.layout = None
        if np.dtype(a.dtype) in _BYTES and np.dtype(b.dtype) == np.dtype(a.dtype) \
                and np.dtype(out.dtype) in _BYTES and not getattr(self, "pot", False):
            self.layout = binary_layout(tuple(a.shape), tuple(b.shape), shapes[0], self.lanes)
            if self.layout is not None:
                self.params = self.loop_params()
        return shapes

    def loop_params(self) -> tuple:
        raise NotImplementedError

    def eval(self, inputs, outputs):
        x1, x2, out = inputs[0], inputs[1], outputs[0]
        layout = self.layout
        if layout is None or out is None or x1.dtype not in _BYTES or x2.dtype != x1.dtype \
                or not (x1.flags.c_contiguous and x2.flags.c_contiguous and out.flags.c_contiguous):
            return super().eval(inputs, outputs)
        run_from(_MODULE, self, self.loop, x1.reshape(-1), x2.reshape(-1), out.reshape(-1), *layout,
                 self.params, parallel=False)
        return None


def _plain_mul(node) -> bool:
    return enabled() and not _is_fused_mul(node)


def _fused_mul(node) -> bool:
    return enabled() and _is_fused_mul(node)


@register("MUL", kind="int8", priority=FAST_PRIORITY, when=_plain_mul)
class FastQuantizedMul(_CompiledArithmetic, QuantizedMul):
    loop = "mul_rows"

    def loop_params(self):
        m, shift = self.m
        return (self.off1, self.off2, m, shift, self.off_out, self.act_min, self.act_max)


@register("MUL", kind="int8", priority=FAST_PRIORITY, when=_fused_mul)
class FastFusedSwishMul(_CompiledLookup, FusedSwishMul):
    pass


class _FastAddSub(_CompiledArithmetic):
    loop = "add_rows"

    def loop_params(self):
        (m1, s1), (m2, s2), (mo, so) = self.m1, self.m2, self.mo
        return (self.off1, self.off2, m1, s1, m2, s2, mo, so, self.off_out, self.act_min, self.act_max,
                self.left_shift, self.sign)


@register("ADD", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedAdd(_FastAddSub, QuantizedAdd):
    pass


@register("SUB", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedSub(_FastAddSub, QuantizedSub):
    pass
