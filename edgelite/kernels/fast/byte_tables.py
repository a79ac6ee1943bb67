"""Which compiled gather looks up a table: the AVX-512 VBMI permute lookup
(``_compiled_lut.lookup_bytes``) for a 256-entry table of 1-byte entries on a host with
VBMI, the scalar gather (``_compiled_int8.gather_bytes``) for everything else (65536-entry
pair tables, other hosts, non-contiguous operands). Both give the bits of ``table[index]``."""
from __future__ import annotations

import numpy as np

from .loader import compiled_module, run_from


def gather_table(kernel, index: np.ndarray, table: np.ndarray, out: np.ndarray, start: int, stop: int) -> None:
    """``out[i] = table[index[i]]`` for flat positions ``start..stop`` of the 1-D C-contiguous
    ``index`` and ``out`` (``table`` has one entry per index value), compiled for ``kernel``.
    Whether the host takes the VBMI lookup is decided at the kernel's first call (its
    interpreter keeps that choice); the operands are checked at every call."""
    lut = kernel.__dict__.get("_vbmi_lut")
    if lut is None:
        module = compiled_module("_compiled_lut")
        lut = kernel._vbmi_lut = module if module.vbmi_available() else False
    if lut and lut.operands_fit(index, table, out):
        run_from("_compiled_lut", kernel, "lookup_bytes", index, table, out, start, stop, parallel=False)
    else:
        run_from("_compiled_int8", kernel, "gather_bytes", index, table, out, start, stop, parallel=False)
