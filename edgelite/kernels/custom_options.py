"""Decoding (and encoding) the options of CUSTOM ops.

A CUSTOM op carries its options as an opaque byte string, ``Operator.custom_options``. Two
layouts are found in real models:

* a **FlexBuffer map** (TFLite's own custom ops, TFLite_Detection_PostProcess, AudioSpectrogram,
  Mfcc, the TFLM signal library): :func:`flexbuffer_options` returns it as a ``dict``;
* a **raw C struct** copied byte for byte (MediaPipe's ops store ``TfLitePoolParams`` and the
  like): :func:`struct_options` unpacks it with a :mod:`struct` format and field names.

Both take the op in any form a kernel holds it: an ``ir.Operator``, an interpreter node
(``kernel.node``) or the kernel itself. Undecodable bytes raise :class:`~edgelite.errors.ModelError`
naming the op. :func:`flexbuffer_bytes` and :func:`struct_bytes` encode options when building a
model (``Operator(custom_options=...)``).
"""
from __future__ import annotations

import struct
from typing import Any, Mapping, Sequence

from ..errors import ModelError

__all__ = ["custom_options_bytes", "flexbuffer_options", "struct_options", "flexbuffer_bytes",
           "struct_bytes"]


def _operator(op):
    """The ir.Operator behind ``op`` (an Operator, a Node, or a Kernel)."""
    for attr in ("op_desc", "op"):  # Kernel.op_desc, Node.op (a Kernel's .op is its name)
        inner = getattr(op, attr, None)
        if inner is not None and not isinstance(inner, str):
            return inner
    return op


def _where(op) -> str:
    return f"custom op {getattr(op, 'name', None) or getattr(op, 'custom_code', None) or '?'}"


def custom_options_bytes(op) -> bytes:
    """The raw custom options of ``op`` (empty when it has none)."""
    raw = getattr(_operator(op), "custom_options", None)
    return b"" if raw is None else bytes(raw)


def flexbuffer_options(op) -> dict[str, Any]:
    """The FlexBuffer map in ``op``'s custom options as a dict ({} when there are none).

    Values come back as Python types: ints, floats, bools, strings, lists, nested dicts.
    """
    raw = custom_options_bytes(op)
    if not raw:
        return {}
    from flatbuffers import flexbuffers
    op = _operator(op)
    try:
        value = flexbuffers.Loads(raw)
    except Exception as e:  # the decoder raises assorted errors on garbage
        raise ModelError(f"{_where(op)}: custom options are not a valid FlexBuffer "
                         f"({len(raw)} bytes): {e}") from None
    if not isinstance(value, dict):
        raise ModelError(f"{_where(op)}: custom options hold a FlexBuffer "
                         f"{type(value).__name__}, not a map")
    return value


def struct_options(op, fmt: str, names: Sequence[str]) -> dict[str, Any]:
    """The C struct in ``op``'s custom options, unpacked with :mod:`struct` format ``fmt``.

    ``fmt`` follows the :mod:`struct` module; without a byte-order prefix it uses the native
    layout with C alignment, which is how a struct copied with ``memcpy`` looks (e.g.
    ``"iiiiii"`` for six ``int`` fields). ``names`` names the unpacked values in order. Extra
    trailing bytes are ignored (compilers pad structs); too few bytes raise ModelError.
    """
    raw = custom_options_bytes(op)
    op = _operator(op)
    try:
        layout = struct.Struct(fmt)
    except struct.error as e:
        raise ValueError(f"bad struct format {fmt!r}: {e}") from None
    if len(raw) < layout.size:
        raise ModelError(f"{_where(op)}: custom options have {len(raw)} bytes, the struct "
                         f"{fmt!r} needs {layout.size}")
    values = layout.unpack_from(raw)
    names = list(names)
    if len(names) != len(values):
        raise ValueError(f"struct format {fmt!r} unpacks {len(values)} values but {len(names)} "
                         f"names were given")
    return dict(zip(names, values))


def flexbuffer_bytes(options: Mapping[str, Any]) -> bytes:
    """``options`` encoded as a FlexBuffer map, for ``Operator(custom_options=...)``.

    Python ints become FlexBuffer ints, floats become floats and bools become bools, which is
    how TFLite's converters write the options of its custom ops.
    """
    from flatbuffers import flexbuffers
    return bytes(flexbuffers.Dumps(dict(options)))


def struct_bytes(fmt: str, values: Mapping[str, Any] | Sequence[Any],
                 names: Sequence[str] | None = None) -> bytes:
    """A C struct packed with :mod:`struct` format ``fmt`` (the inverse of :func:`struct_options`).

    ``values`` is a sequence in field order, or a mapping read in the order of ``names``.
    """
    if isinstance(values, Mapping):
        if names is None:
            raise ValueError("struct_bytes: give the field names when values is a mapping")
        values = [values[n] for n in names]
    return struct.pack(fmt, *values)
