"""8-bit MUL and ADD computed through tables (the reference's ``by_table`` path: every pair
of input bytes, or every byte of a fused swish, maps to its output byte; a SIMD-path and a
scalar-path table, which element takes which following LiteRT's vector loops): the table
lookups as compiled gathers instead of ``np.take`` / ``np.where`` over temporaries."""
from __future__ import annotations

import numpy as np

from ..base import register
from ..fused_swish import FusedSwishMul, _is_fused_mul
from ..quantized_elementwise import QuantizedAdd, QuantizedMul
from . import FAST_PRIORITY, enabled
from .loader import run


class _CompiledLookup:
    def lookup(self, index, scalar, vector, out):
        lanes = self.lanes
        if out is None or index.shape != out.shape or not (index.flags.c_contiguous and out.flags.c_contiguous):
            return super().lookup(index, scalar, vector, out)
        idx, flat = index.reshape(-1), out.reshape(-1)
        if lanes.none:
            run(self, "table_lookup", idx, scalar, flat, 0, idx.size, parallel=False)
        elif lanes.all:
            run(self, "table_lookup", idx, vector, flat, 0, idx.size, parallel=False)
        elif lanes.tail_start is not None:
            run(self, "table_lookup", idx, vector, flat, 0, lanes.tail_start, parallel=False)
            run(self, "table_lookup", idx, scalar, flat, lanes.tail_start, idx.size, parallel=False)
        else:
            mask = self.__dict__.get("flat_mask")
            if mask is None or mask.size != idx.size:
                mask = self.flat_mask = np.ascontiguousarray(np.broadcast_to(lanes.mask, out.shape)).reshape(-1)
            run(self, "table_lookup_masked", idx, vector, scalar, mask, flat, parallel=False)
        return None


def _plain_mul(node) -> bool:
    return enabled() and not _is_fused_mul(node)


def _fused_mul(node) -> bool:
    return enabled() and _is_fused_mul(node)


@register("MUL", kind="int8", priority=FAST_PRIORITY, when=_plain_mul)
class FastQuantizedMul(_CompiledLookup, QuantizedMul):
    pass


@register("MUL", kind="int8", priority=FAST_PRIORITY, when=_fused_mul)
class FastFusedSwishMul(_CompiledLookup, FusedSwishMul):
    pass


@register("ADD", kind="int8", priority=FAST_PRIORITY, when=enabled)
class FastQuantizedAdd(_CompiledLookup, QuantizedAdd):
    pass
