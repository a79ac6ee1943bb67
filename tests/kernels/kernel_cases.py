"""Shared check for kernel tests: run one op in edgelite and in LiteRT (the oracle) and compare.

Floats match within the suite's tolerance, rtol 1e-5 and atol 1e-5 * max(1, max |finite ref|) (LiteRT's
own float results vary with threads and SIMD); integers and booleans must be equal. ``exact=True``
asks for bit-equal floats too (data-movement kernels copy values, they compute nothing).
"""
from __future__ import annotations

import numpy as np
import pytest

from edgelite.kernels.testing import run_op, run_op_litert


def float_atol(ref: np.ndarray) -> float:
    """The absolute float tolerance for reference values ``ref``."""
    finite = ref[np.isfinite(ref)]
    return 1e-5 * max(1.0, float(np.abs(finite).max(initial=0)))


def assert_outputs_match(ours: list[np.ndarray], ref: list[np.ndarray], *, exact: bool = False) -> None:
    assert len(ours) == len(ref), (len(ours), len(ref))
    for got, want in zip(ours, ref):
        assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
        if want.dtype.kind == "f" and not exact:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=float_atol(want))
        else:
            np.testing.assert_array_equal(got, want)


def assert_matches_litert(opcode: str, inputs: list, options: dict | None = None, *, exact: bool = False,
                          **kw) -> list[np.ndarray]:
    """Run ``opcode`` on ``inputs`` with edgelite's kernel and LiteRT's builtin one (``kw`` as for
    :func:`edgelite.kernels.testing.run_op`), check the outputs agree, return edgelite's."""
    pytest.importorskip("ai_edge_litert")
    ours = run_op(opcode, inputs, options, **kw)
    ref = run_op_litert(opcode, inputs, options, **kw)
    assert_outputs_match(ours, ref, exact=exact)
    return ours
