"""Integer bitwise ops: RIGHT_SHIFT and BITWISE_XOR (LiteRT's builtin semantics).

Both take two integer tensors of one type (int8/16/32, uint8/16/32) and
broadcast numpy-style at any rank (LiteRT 2.x broadcasts 5-D and 6-D shapes too).

RIGHT_SHIFT clamps the shift amount to ``[0, bits - 1]`` before shifting (LiteRT
does so to avoid C++ undefined behaviour), so a negative amount leaves the value
unchanged and a too-large one gives 0 or -1; signed values shift arithmetically.
"""
from __future__ import annotations

import numpy as np

from .base import register
from .elementwise import BinaryKernel

BITWISE_TYPES = (np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)


class IntegerBinaryKernel(BinaryKernel):
    """A BinaryKernel restricted to LiteRT's bitwise integer types."""

    allowed_kinds = "iu"

    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        if self.dtype not in [np.dtype(t) for t in BITWISE_TYPES]:
            raise self.fail(f"unsupported input type {self.dtype}: expects 8/16/32-bit (unsigned) integers")
        return shapes


@register("BITWISE_XOR", kind="any")
class BitwiseXor(IntegerBinaryKernel):
    def compute(self, a, b, out):
        np.bitwise_xor(a, b, out=out)


@register("RIGHT_SHIFT", kind="any")
class RightShift(IntegerBinaryKernel):
    def prepare(self, inputs, outputs):
        shapes = super().prepare(inputs, outputs)
        self.max_shift = np.iinfo(self.dtype).bits - 1
        shift = inputs[1]
        self.shift = None if shift.data is None else self.clamped_shift(shift.data)
        return shapes

    def clamped_shift(self, amount: np.ndarray) -> np.ndarray:
        """The shift amounts clamped to ``[0, bits - 1]``, in the input's dtype."""
        if self.dtype.kind == "u":
            return np.minimum(amount, self.max_shift).astype(self.dtype)
        return np.clip(amount, 0, self.max_shift).astype(self.dtype)

    def compute(self, a, b, out):
        shift = self.shift if self.shift is not None else self.clamped_shift(b)
        np.right_shift(a, shift, out=out)
