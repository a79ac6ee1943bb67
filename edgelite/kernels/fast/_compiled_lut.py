"""256-entry byte-table lookups with AVX-512 VBMI ``vpermi2b``, numba driven.

``lookup_bytes(index, table, out, start, stop)`` computes ``out[i] = table[index[i]]`` for
1-byte indices (int8 data viewed as uint8) and a 256-entry table of 1-byte entries: the
lookups of the 8-bit table activations (``int8_activations.py``) and of the fused int8
swish (``elementwise.py``; the other 8-bit MUL / ADD / SUB run integer loops, or 65536-entry
pair tables that keep the scalar gather). The scalar loop it replaces
(``_compiled_int8.gather_bytes``) does one table load per byte.

* numba exposes no SIMD intrinsics and LLVM does not turn a byte gather into a permute, so
  the 64-byte step is written in LLVM IR (``numba.extending.intrinsic``), as the VNNI GEMM
  tile of ``_compiled_gemm``: the table is loaded once into four 64-byte registers
  ``T0..T3``; each step loads 64 index bytes ``x`` and calls
  ``llvm.x86.avx512.vpermi2var.qi.512`` twice: ``lo = vpermi2b(T0, x, T1)`` (bit 6 of each
  index picks the register, bits 0-5 the byte: entries 0-127; bit 7 is ignored) and
  ``hi = vpermi2b(T2, x, T3)`` (entries 128-255), then ``select(x < 0 as signed, hi, lo)``
  (LLVM emits ``vpermt2b``, ``vpmovb2m`` and a masked ``vmovdqu8``) and one 64-byte store. The loop over the steps is inside
  the intrinsic, so the table stays in registers.
* ``lookup_bytes_masked(index, vector, scalar, lanes, out)`` picks one of two tables per
  element (the fused swish on LiteRT's partial SIMD lanes): both tables in eight registers,
  both looked up, then a select on ``lanes != 0``.
* Each step loads its 64 index bytes before it stores its 64 outputs: ``index`` and ``out``
  may be the same buffer (an in-place lookup). Positions past the last full step take a
  scalar tail loop.
* The lookup is exact by construction (a byte permute copies table bytes), so it gives the
  bits of numpy's ``table[index]`` and of the reference kernels.
* Used only when the host CPU has AVX-512 F, BW and VBMI (:func:`vbmi_available`) and numba
  compiles for the host; elsewhere, and for any other table (the 65536-entry pair tables,
  non-contiguous operands), callers keep ``_compiled_int8.gather_bytes`` /
  ``gather_bytes_masked`` (the choice is made in ``byte_tables.py``). Compiled with
  ``cache=True``: numba's cache key includes the CPU name and features.

Measured at one thread on the reference machine (AMD EPYC Zen 4): see docs/kernels.md,
"Where the tier stands".
"""
from __future__ import annotations

import os

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

STEP = 64  # bytes per vpermi2b pair

_I8, _I64 = ir.IntType(8), ir.IntType(64)
_V64 = ir.VectorType(_I8, STEP)
_ADDR = types.intp


def _step_loop(builder, steps, body):
    """``for k in range(steps): body(64 * k)`` in IR (``steps`` an i64), ending after the loop."""
    def const(v):
        return ir.Constant(_I64, v)
    entry = builder.basic_block
    loop = builder.append_basic_block("lut_loop")
    done = builder.append_basic_block("lut_done")
    builder.cbranch(builder.icmp_signed(">", steps, const(0)), loop, done)
    builder.position_at_end(loop)
    k = builder.phi(_I64)
    body(builder.mul(k, const(STEP)))
    k_next = builder.add(k, const(1))
    k.add_incoming(const(0), entry)
    k.add_incoming(k_next, builder.basic_block)
    builder.cbranch(builder.icmp_signed("<", k_next, steps), loop, done)
    builder.position_at_end(done)


def _vector_at(builder, address, offset=0):
    if not isinstance(offset, ir.Value):
        offset = ir.Constant(_I64, offset)
    return builder.inttoptr(builder.add(address, offset), _V64.as_pointer())


def _table_registers(builder, table):
    """The 256-byte table at address ``table`` as four 64-byte vectors."""
    return [builder.load(_vector_at(builder, table, STEP * q), align=1) for q in range(4)]


def _looked_up(builder, quarters, x):
    """``table[x]`` for 64 index bytes ``x``: entries 0-127 and 128-255 by one ``vpermi2b``
    each (bit 6 picks the register, bits 0-5 the byte), picked by bit 7 (``x < 0`` as signed)."""
    permute = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V64, [_V64, _V64, _V64]),
                                             "llvm.x86.avx512.vpermi2var.qi.512")
    low = builder.call(permute, [quarters[0], x, quarters[1]])
    high = builder.call(permute, [quarters[2], x, quarters[3]])
    return builder.select(builder.icmp_signed("<", x, ir.Constant(_V64, None)), high, low)


@intrinsic
def _lookup_steps(typingctx, index, table, out, steps):
    """``out[j] = table[index[j]]`` for ``j < 64 * steps`` (addresses as intp; ``table`` 256 bytes)."""
    sig = types.void(_ADDR, _ADDR, _ADDR, _ADDR)

    def codegen(context, builder, signature, args):
        index, table, out, steps = args
        quarters = _table_registers(builder, table)

        def body(offset):
            x = builder.load(_vector_at(builder, index, offset), align=1)
            builder.store(_looked_up(builder, quarters, x), _vector_at(builder, out, offset), align=1)

        _step_loop(builder, steps, body)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _lookup_steps_masked(typingctx, index, vector, scalar, lanes, out, steps):
    """``out[j] = (vector if lanes[j] else scalar)[index[j]]`` for ``j < 64 * steps`` (addresses
    as intp; two 256-byte tables in eight registers, ``lanes`` one byte per element)."""
    sig = types.void(_ADDR, _ADDR, _ADDR, _ADDR, _ADDR, _ADDR)

    def codegen(context, builder, signature, args):
        index, vector, scalar, lanes, out, steps = args
        vector_quarters = _table_registers(builder, vector)
        scalar_quarters = _table_registers(builder, scalar)

        def body(offset):
            x = builder.load(_vector_at(builder, index, offset), align=1)
            m = builder.load(_vector_at(builder, lanes, offset), align=1)
            picked = builder.select(builder.icmp_unsigned("!=", m, ir.Constant(_V64, None)),
                                    _looked_up(builder, vector_quarters, x), _looked_up(builder, scalar_quarters, x))
            builder.store(picked, _vector_at(builder, out, offset), align=1)

        _step_loop(builder, steps, body)
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def lookup_bytes(index, table, out, start, stop):
    """``out[i] = table[index[i]]`` for flat positions ``start..stop`` of 1-D C-contiguous
    1-byte arrays ``index`` and ``out`` (possibly the same buffer) and a C-contiguous table of
    256 1-byte entries (an entry's bits are copied, so int8 and uint8 tables both work):
    64-byte ``vpermi2b`` steps, then a scalar tail."""
    if stop <= start:
        return
    steps = np.intp((stop - start) // STEP)
    if steps > 0:
        _lookup_steps(np.intp(index.ctypes.data) + start, np.intp(table.ctypes.data),
                      np.intp(out.ctypes.data) + start, steps)
    for i in range(start + steps * STEP, stop):
        out[i] = table[np.intp(index[i]) & 255]


@nb.njit(cache=True, error_model="numpy", boundscheck=False)
def lookup_bytes_masked(index, vector, scalar, lanes, out):
    """``out[i] = (vector if lanes[i] else scalar)[index[i]]`` (``_compiled_int8.gather_bytes_masked``)
    for 1-D C-contiguous 1-byte ``index``, ``lanes`` (bool) and ``out`` of one size and two
    C-contiguous 256-entry tables: 64-byte steps, then a scalar tail."""
    n = index.size
    steps = np.intp(n // STEP)
    if steps > 0:
        _lookup_steps_masked(np.intp(index.ctypes.data), np.intp(vector.ctypes.data), np.intp(scalar.ctypes.data),
                             np.intp(lanes.ctypes.data), np.intp(out.ctypes.data), steps)
    for i in range(steps * STEP, n):
        k = np.intp(index[i]) & 255
        out[i] = vector[k] if lanes[i] else scalar[k]


def vbmi_available() -> bool:
    """Whether the VBMI lookup can run: the host has AVX-512 F, BW and VBMI and numba compiles
    for it (:func:`.isa.usable`: not under ``EDGELITE_FAST_ISA=avx2``), and
    ``EDGELITE_FAST_VBMI_LUT`` is not ``0`` (which keeps the scalar gather)."""
    if os.environ.get("EDGELITE_FAST_VBMI_LUT", "").strip() == "0":
        return False
    from .isa import usable
    return usable("avx512f", "avx512bw", "avx512vbmi")


def operands_fit(index: np.ndarray, table: np.ndarray, out: np.ndarray) -> bool:
    """Whether :func:`lookup_bytes` takes these operands: flat C-contiguous 1-byte ``index``
    and ``out``, a flat C-contiguous 256-entry table of ``out``'s dtype."""
    return (index.itemsize == 1 and out.itemsize == 1 and table.dtype == out.dtype and table.size == 256
            and index.ndim == 1 and out.ndim == 1 and table.ndim == 1
            and index.flags.c_contiguous and out.flags.c_contiguous and table.flags.c_contiguous)


def takes_table(index: np.ndarray, table: np.ndarray, out: np.ndarray) -> bool:
    """Whether :func:`lookup_bytes` runs for these operands on this host
    (:func:`operands_fit` and :func:`vbmi_available`)."""
    return operands_fit(index, table, out) and vbmi_available()
