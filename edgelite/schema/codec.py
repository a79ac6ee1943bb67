"""Checked FlatBuffers decoding and encoding driven by the schema facts in ``_spec``.

Decoding
--------
``Decoder(buf).root("Model")`` turns a FlatBuffer into plain Python values:
tables become dicts keyed by the schema's field names, unions a ``(type, dict)``
pair stored as ``<field>_type`` (int) and ``<field>`` (dict), scalar vectors
zero-copy little-endian numpy views into ``buf``, strings ``str``.

Every offset is checked against the buffer before it is followed, every vector
length against the bytes left, vtable sizes against the table. Decoded work is
charged to a budget proportional to the file size (about two units per byte: a
table costs one, a string its length, a vector its element count), so a file
whose offsets point many times at the same large vector cannot make us allocate
more than its size implies. Any violation raises :class:`edgelite.ModelError`
with the path of the field, e.g. ``Model.subgraphs[0].tensors[3].shape``.

For speed each table has a precompiled plan (``_PLANS``): its defaults and one
handler per vtable slot, so decoding a table is one vtable unpack and a loop over
the fields actually present; error paths are only formatted when an error occurs.

Encoding
--------
``encode_table(builder, name, value)`` is the inverse on a
``flatbuffers.Builder``: children first (strings, vectors, sub-tables, union
values), then the table with its scalars; scalars equal to their default are
omitted, as flatc-generated code does. Byte vectors named in ``FORCE_ALIGN``
are aligned to 16 bytes as the schema's ``force_align`` attribute asks.
"""
from __future__ import annotations

import codecs
import struct

import numpy as np

from ..errors import ModelError
from ._spec import ENUMS, TABLES

SCALAR_FORMATS = {
    "bool": "<B", "int8": "<b", "uint8": "<B", "int16": "<h", "uint16": "<H",
    "int32": "<i", "uint32": "<I", "int64": "<q", "uint64": "<Q",
    "float32": "<f", "float64": "<d",
}
SCALAR_DTYPES = {
    "bool": np.dtype("u1"), "int8": np.dtype("i1"), "uint8": np.dtype("u1"),
    "int16": np.dtype("<i2"), "uint16": np.dtype("<u2"), "int32": np.dtype("<i4"),
    "uint32": np.dtype("<u4"), "int64": np.dtype("<i8"), "uint64": np.dtype("<u8"),
    "float32": np.dtype("<f4"), "float64": np.dtype("<f8"),
}
_STRUCTS = {k: struct.Struct(v) for k, v in SCALAR_FORMATS.items()}
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_VT_HEAD = struct.Struct("<HH")

# (table, field) pairs whose byte vectors the schema force-aligns to 16 bytes.
FORCE_ALIGN = {("Buffer", "data"): 16, ("CustomQuantization", "custom"): 16}

# union name -> {type code: member table name}
UNION_TABLES = {kind[1]: {v: k for k, v in ENUMS[kind[1]].items() if v}
                for fields in TABLES.values() for _slot, _name, kind, _d in fields
                if kind[0] == "union"}


# Field handler codes of a decoding plan.
_SCALAR, _BOOL, _STRING, _TABLE, _VECTOR, _UNION = range(6)


def _plan(tname: str, tables: dict, force_align: dict, union_tables: dict) -> tuple[dict, tuple]:
    """(defaults, handlers by vtable slot) for one table of ``tables``; handlers are tuples:
    (code, name, arg, extra) with arg a Struct, table name, element type or union map."""
    fields = tables[tname]
    defaults = {name: default for _slot, name, _kind, default in fields}
    n_slots = fields[-1][0] + 1 if fields else 0
    handlers: list = [None] * n_slots
    for slot, name, kind, _default in fields:
        if kind[0] == "scalar":
            st = _STRUCTS[kind[1]]
            handlers[slot] = (_BOOL if kind[1] == "bool" else _SCALAR, name, st, st.size)
        elif kind[0] == "string":
            handlers[slot] = (_STRING, name, None, None)
        elif kind[0] == "table":
            handlers[slot] = (_TABLE, name, kind[1], None)
        elif kind[0] == "vector":
            handlers[slot] = (_VECTOR, name, kind[1], force_align.get((tname, name)))
        else:
            handlers[slot] = (_UNION, name, union_tables[kind[1]], kind[1])
    return defaults, tuple(handlers)


_SLOT_STRUCTS: list = []  # struct for n uint16 vtable slots, index n


class SchemaFacts:
    """A FlatBuffer schema's facts (``TABLES``/``ENUMS``-shaped, as in ``_spec``) with their
    decoding plans, so that :class:`Decoder` and :func:`encode_table` read and write it. The
    TFLite schema is :data:`TFLITE_SCHEMA`; others (the TFLite metadata schema) pass theirs."""

    def __init__(self, tables: dict, enums: dict, force_align: dict | None = None):
        self.tables, self.enums = tables, enums
        self.force_align = dict(force_align or {})
        self.union_tables = {kind[1]: {v: k for k, v in enums[kind[1]].items() if v}
                             for fields in tables.values() for _slot, _name, kind, _d in fields
                             if kind[0] == "union"}
        self.plans = {t: _plan(t, tables, self.force_align, self.union_tables) for t in tables}
        widest = max((len(h) for _d, h in self.plans.values()), default=0)
        for n in range(len(_SLOT_STRUCTS), widest + 1):
            _SLOT_STRUCTS.append(struct.Struct(f"<{n}H"))


TFLITE_SCHEMA = SchemaFacts(TABLES, ENUMS, FORCE_ALIGN)
_PLANS = TFLITE_SCHEMA.plans
_utf8 = codecs.utf_8_decode


class Decoder:
    """Decode a FlatBuffer held in ``buf`` (bytes, bytearray, mmap or memoryview) of the TFLite
    schema, or of ``schema`` (a :class:`SchemaFacts`)."""

    def __init__(self, buf, schema: SchemaFacts | None = None):
        self._plans = _PLANS if schema is None else schema.plans
        self.buf = buf
        self.view = memoryview(buf)
        if self.view.ndim != 1 or self.view.itemsize != 1:
            self.view = self.view.cast("B")
        self.size = len(self.view)
        # Work budget, in units of roughly one byte of the file: a table costs 1, a string
        # its length, a vector its element count (1/16 per byte for byte vectors, which
        # stay zero-copy views). Honest files spend less than their size; a file whose
        # offsets point many times at the same large data runs out.
        self.budget = 2 * self.size + 4096

    # -- primitives -----------------------------------------------------------------
    def _need(self, pos: int, length: int, where: str) -> None:
        if pos < 0 or length < 0 or pos + length > self.size:
            raise ModelError(f"{where}: offset {pos} (+{length} bytes) lies outside the "
                             f"{self.size}-byte buffer")

    def _charge(self, units: int, where: str) -> None:
        self.budget -= units
        if self.budget < 0:
            raise ModelError(f"{where}: the file's offsets reference far more data than its "
                             f"{self.size} bytes hold (shared or looping offsets)")

    def _follow(self, pos: int, where: str) -> int:
        if pos < 0 or pos + 4 > self.size:
            self._need(pos, 4, where)
        target = pos + _U32.unpack_from(self.view, pos)[0]
        if target >= self.size:
            raise ModelError(f"{where}: offset points to {target}, past the end of the "
                             f"{self.size}-byte buffer")
        return target

    def root(self, table: str, where: str | None = None) -> dict:
        where = where or table
        if self.size < 8:
            raise ModelError(f"{where}: buffer of {self.size} bytes is too small to be a FlatBuffer")
        return self.table(self._follow(0, where + " root offset"), table, where)

    # -- tables ---------------------------------------------------------------------
    def table(self, pos: int, tname: str, where: str) -> dict:
        self.budget -= 1
        if self.budget < 0:
            self._charge(0, where)
        view, size = self.view, self.size
        if pos < 0 or pos + 4 > size:
            self._need(pos, 4, where)
        vt = pos - _I32.unpack_from(view, pos)[0]
        if vt < 0 or vt + 4 > size:
            self._need(vt, 4, where + " (vtable)")
        vt_size, t_size = _VT_HEAD.unpack_from(view, vt)
        if vt_size < 4 or vt_size % 2:
            raise ModelError(f"{where}: invalid vtable size {vt_size}")
        if vt + vt_size > size:
            self._need(vt, vt_size, where + " (vtable)")
        if t_size < 4:
            raise ModelError(f"{where}: invalid table size {t_size}")
        if pos + t_size > size:
            self._need(pos, t_size, where)
        defaults, handlers = self._plans[tname]
        out = defaults.copy()
        n = (vt_size - 4) >> 1
        if n > len(handlers):  # slots of a newer schema: ignored
            n = len(handlers)
        if not n:
            return out
        for off, handler in zip(_SLOT_STRUCTS[n].unpack_from(view, vt + 4), handlers):
            if not off or handler is None:  # absent, or a slot this schema does not know
                continue
            code, name, arg, extra = handler
            if code <= _BOOL:
                if off + extra > t_size:
                    raise ModelError(f"{where}.{name}: field offset {off} outside its {t_size}-byte table")
                value = arg.unpack_from(view, pos + off)[0]
                out[name] = bool(value) if code == _BOOL else value
                continue
            if off + 4 > t_size:
                raise ModelError(f"{where}.{name}: field offset {off} outside its {t_size}-byte table")
            fpos = pos + off
            target = fpos + _U32.unpack_from(view, fpos)[0]
            if target >= size:
                raise ModelError(f"{where}.{name}: offset points to {target}, past the end of the "
                                 f"{size}-byte buffer")
            if code == _VECTOR:
                if arg in _NUMERIC:
                    out[name] = self._numeric(target, arg, where, name)
                else:
                    out[name] = self.vector(target, arg, f"{where}.{name}", extra)
            elif code == _STRING:
                out[name] = self.string(target, f"{where}.{name}")
            elif code == _TABLE:
                out[name] = self.table(target, arg, f"{where}.{name}")
            else:  # union: its type was decoded just before, in the preceding slot
                utype = out.get(name + "_type") or 0
                if utype == 0:
                    out[name] = None
                elif utype not in arg:
                    raise ModelError(f"{where}.{name}: unknown {extra} type {utype}")
                else:
                    out[name] = self.table(target, arg[utype], f"{where}.{name}")
        return out

    def string(self, pos: int, where: str) -> str:
        n = self._length(pos, 1, where)
        self._charge(n, where)
        return _utf8(self.view[pos + 4:pos + 4 + n], "replace")[0]

    def _length(self, pos: int, itemsize: int, where: str) -> int:
        self._need(pos, 4, where)
        n = _U32.unpack_from(self.view, pos)[0]
        if n * itemsize > self.size - pos - 4:
            raise ModelError(f"{where}: vector of {n} elements ({n * itemsize} bytes) does not "
                             f"fit in the {self.size - pos - 4} bytes that follow it")
        return n

    def _numeric(self, pos: int, etype: str, where: str, name: str):
        """A scalar vector as a zero-copy numpy view (bool vectors: a bool copy)."""
        dtype = SCALAR_DTYPES[etype]
        if pos + 4 > self.size:
            self._need(pos, 4, f"{where}.{name}")
        n = _U32.unpack_from(self.view, pos)[0]
        isz = dtype.itemsize
        if n * isz > self.size - pos - 4:
            self._length(pos, isz, f"{where}.{name}")
        if not n:
            return np.zeros(0, dtype)
        units = n if isz > 1 else n >> 4
        self.budget -= units
        if self.budget < 0:
            self._charge(0, f"{where}.{name}")
        arr = np.frombuffer(self.buf, dtype=dtype, count=n, offset=pos + 4)
        if etype == "bool":
            self.budget -= n
            if self.budget < 0:
                self._charge(0, f"{where}.{name}")
            arr = arr != 0
        return arr

    def vector(self, pos: int, etype: str, where: str, align: int | None = None):
        if etype in _NUMERIC:
            base, _, name = where.rpartition(".")
            return self._numeric(pos, etype, base, name)
        n = self._length(pos, 4, where)
        self._charge(n, where)
        items = []
        view, size = self.view, self.size
        is_string = etype == "string"
        sub = None if is_string else etype[6:]
        for i in range(n):
            epos = pos + 4 + 4 * i
            target = epos + _U32.unpack_from(view, epos)[0]
            if target >= size:
                raise ModelError(f"{where}[{i}]: offset points to {target}, past the end of the "
                                 f"{size}-byte buffer")
            if is_string:
                items.append(self.string(target, f"{where}[{i}]"))
            else:
                items.append(self.table(target, sub, f"{where}[{i}]"))
        return items


_NUMERIC = frozenset(SCALAR_DTYPES)


# -- encoding -----------------------------------------------------------------------
_PREPEND = {
    "bool": "PrependBoolSlot", "int8": "PrependInt8Slot", "uint8": "PrependUint8Slot",
    "int16": "PrependInt16Slot", "uint16": "PrependUint16Slot", "int32": "PrependInt32Slot",
    "uint32": "PrependUint32Slot", "int64": "PrependInt64Slot", "uint64": "PrependUint64Slot",
    "float32": "PrependFloat32Slot", "float64": "PrependFloat64Slot",
}


def encode_bytes(builder, data, itemsize: int = 1, align: int = 1) -> int:
    """Write ``data`` (anything exposing the buffer protocol) as a vector."""
    mv = memoryview(data).cast("B")
    n = len(mv)
    builder.StartVector(itemsize, n // itemsize, max(align, itemsize))
    builder.head -= n
    builder.Bytes[builder.head:builder.head + n] = mv
    return builder.EndVector()


def encode_table(builder, tname: str, value: dict, schema: SchemaFacts | None = None) -> int:
    """Encode ``value`` (a dict like those :class:`Decoder` returns) as table ``tname`` of the
    TFLite schema, or of ``schema``."""
    schema = TFLITE_SCHEMA if schema is None else schema
    fields = schema.tables[tname]
    offsets = {}
    for slot, name, kind, _default in fields:
        v = value.get(name)
        if v is None or kind[0] == "scalar":
            continue
        if kind[0] == "string":
            offsets[slot] = builder.CreateString(v)
        elif kind[0] == "table":
            offsets[slot] = encode_table(builder, kind[1], v, schema)
        elif kind[0] == "union":
            utype = value.get(name + "_type", 0)
            if utype:
                offsets[slot] = encode_table(builder, schema.union_tables[kind[1]][utype], v, schema)
        else:
            offsets[slot] = _encode_vector(builder, kind[1], v, schema.force_align.get((tname, name), 1),
                                           schema)
    builder.StartObject(fields[-1][0] + 1 if fields else 0)
    for slot, name, kind, default in fields:
        if kind[0] == "scalar":
            v = value.get(name)
            if v is not None and v != default:
                getattr(builder, _PREPEND[kind[1]])(slot, v, default if default is not None else 0)
        elif slot in offsets:
            builder.PrependUOffsetTRelativeSlot(slot, offsets[slot], 0)
    return builder.EndObject()


def _encode_vector(builder, etype: str, items, align: int, schema: SchemaFacts | None = None) -> int:
    if etype == "string" or etype.startswith("table:"):
        if etype == "string":
            offs = [builder.CreateString(s) for s in items]
        else:
            offs = [encode_table(builder, etype[6:], t, schema) for t in items]
        builder.StartVector(4, len(offs), 4)
        for off in reversed(offs):
            builder.PrependUOffsetTRelative(off)
        return builder.EndVector()
    dtype = SCALAR_DTYPES[etype]
    arr = np.ascontiguousarray(np.asarray(items).astype(dtype, copy=False).reshape(-1))
    return encode_bytes(builder, arr, dtype.itemsize, align)
