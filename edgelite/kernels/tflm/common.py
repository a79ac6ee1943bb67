"""What the TFLM kernel variants share: when they apply, and their registry priority."""
from __future__ import annotations

from ..resolver import resolver_of

#: above every LiteRT tier (faster kernels register at 1..10)
TFLM_PRIORITY = 100


def is_tflm(node) -> bool:
    """Whether ``node`` runs in an interpreter with ``numerics="tflm"``."""
    return resolver_of(node).numerics == "tflm"
