"""Fast table reading through per-vtable compiled layouts.

FlatBuffers writers share one vtable among all tables of a type that have the
same fields present at the same offsets (a model's 170 ``Tensor`` tables
typically use two or three vtables). :class:`LayoutCache` validates each
distinct vtable once and compiles it into a :class:`Layout`: a single
``struct.Struct`` that reads every known field of such a table in one call,
plus an ``itemgetter`` that puts the values in schema slot order with the
schema defaults for absent fields. Reading a table is then one ``soffset``
read, one dict lookup, one bounds check and one unpack.

What is checked is what :class:`~edgelite.schema.codec.Decoder` checks (vtable
position, vtable and table sizes, every present field inside its table); the
compiled struct only reads bytes inside the table. Layouts that the slow decoder
would accept but that no writer produces (fields overlapping each other) raise
:class:`FastPathUnsupported`, and the caller falls back to the checked decoder.
Offset fields come back as the raw relative ``uoffset`` (``None`` if absent);
``Layout.field_offsets[slot]`` turns them into absolute positions.

The helpers :func:`int32_tuple`, :func:`vector_head` and :func:`read_string`
read vectors and strings with the same bounds and work-budget accounting as the
checked decoder, raising :class:`FastPathUnsupported` where it would raise.
"""
from __future__ import annotations

import codecs
import struct
from collections import defaultdict
from operator import add, itemgetter

from ._spec import TABLES

_STRUCT_CODES = {
    "bool": "?", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i",
    "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d",
}
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_VT_HEAD = struct.Struct("<HH")
_utf8 = codecs.utf_8_decode
# int32 vectors up to this length use a cached Struct; longer ones get a fresh one.
_CACHED_VECTOR_LEN = 256
_INT32_STRUCTS = [struct.Struct(f"<{n}i") for n in range(_CACHED_VECTOR_LEN + 1)]
# INT32_UNPACK[n](buf, pos) reads n int32 (n <= _CACHED_VECTOR_LEN; fastread inlines it for tensor shapes, at most MAX_RANK long).
INT32_UNPACK = tuple(st.unpack_from for st in _INT32_STRUCTS)
_UOFFSET_STRUCTS = [struct.Struct(f"<{n}I") for n in range(_CACHED_VECTOR_LEN + 1)]


class FastPathUnsupported(Exception):
    """The fast path cannot (or must not) decide on this input; use the checked decoder."""


class Layout:
    """How one vtable lays out a table: see the module docstring."""

    __slots__ = ("table_size", "unpack", "getter", "defaults", "field_offsets", "empty")

    def __init__(self, table_size: int, unpack, getter, defaults: tuple, field_offsets: tuple):
        self.table_size = table_size
        self.unpack = unpack  # Struct.unpack_from over the present fields, in offset order
        self.getter = getter  # itemgetter: (present values + defaults) -> values in slot order
        self.defaults = defaults
        self.field_offsets = field_offsets  # per schema slot: offset inside the table (0 = absent)
        self.empty = not any(field_offsets)  # no field present: every value is its default

    def read(self, view, pos: int) -> tuple:
        """All fields of the table at ``pos`` in slot order (see module docstring)."""
        return self.getter(self.unpack(view, pos) + self.defaults)


def _slot_table(tname: str) -> tuple[list, tuple]:
    """Per slot (code, size) or None for gaps, and the defaults tuple in slot order."""
    fields = TABLES[tname]
    n_slots = fields[-1][0] + 1 if fields else 0
    kinds: list = [None] * n_slots
    defaults: list = [None] * n_slots
    for slot, _name, kind, default in fields:
        if kind[0] == "scalar":
            code = _STRUCT_CODES[kind[1]]
            kinds[slot] = (code, struct.calcsize("<" + code))
            defaults[slot] = bool(default) if kind[1] == "bool" else default
        else:  # string, table, vector, union value: a uoffset
            kinds[slot] = ("I", 4)
    return kinds, tuple(defaults)


_SLOTS = {tname: _slot_table(tname) for tname in TABLES}
_SLOT_STRUCTS = [struct.Struct(f"<{n}H") for n in range(max(len(k) for k, _ in _SLOTS.values()) + 1)]


def _no_fields(_values: tuple) -> tuple:
    return ()


class LayoutCache:
    """Layouts of one buffer's vtables, per table type and vtable position.

    A layout depends only on the vtable's bytes, so compiled layouts are also kept
    process-wide by (table, vtable bytes): loading a model again, or another model
    from the same writer, compiles nothing. Per buffer only the vtable's position
    and sizes are checked.
    """

    def __init__(self, view, size: int):
        self.view, self.size = view, size
        self.by_table: dict[str, dict[int, Layout]] = defaultdict(dict)  # table -> vt -> layout

    def compile(self, tname: str, vt: int) -> Layout:
        """The layout of the vtable at ``vt`` for table ``tname`` (checked, then cached)."""
        view, size = self.view, self.size
        if vt < 0 or vt + 4 > size:
            raise FastPathUnsupported(f"{tname}: vtable at {vt} outside the buffer")
        vt_size, t_size = _VT_HEAD.unpack_from(view, vt)
        if vt_size < 4 or vt_size % 2 or vt + vt_size > size or t_size < 4:
            raise FastPathUnsupported(f"{tname}: invalid vtable at {vt}")
        key = (tname, bytes(view[vt:vt + vt_size]))
        layout = _COMPILED.get(key)
        if layout is None:
            layout = _compile(tname, key[1])
            if len(_COMPILED) < _MAX_COMPILED:
                _COMPILED[key] = layout
        self.by_table[tname][vt] = layout
        return layout


_COMPILED: dict[tuple[str, bytes], Layout] = {}
_MAX_COMPILED = 4096  # corrupt files can have many odd vtables; do not keep them all


def _compile(tname: str, vtable: bytes) -> Layout:
    vt_size, t_size = _VT_HEAD.unpack_from(vtable, 0)
    kinds, defaults = _SLOTS[tname]
    n = min((vt_size - 4) >> 1, len(kinds))
    offsets = _SLOT_STRUCTS[n].unpack_from(vtable, 4)
    present = []
    for slot, off in enumerate(offsets):
        if off and kinds[slot] is not None:
            code, width = kinds[slot]
            if off + width > t_size:
                raise FastPathUnsupported(f"{tname}: field {slot} outside its table")
            present.append((off, width, code, slot))
    present.sort()
    fmt, end = ["<"], 0
    raw_index = [len(present) + slot for slot in range(len(kinds))]  # the default by default
    field_offsets = [0] * len(kinds)
    for i, (off, width, code, slot) in enumerate(present):
        if off < end:
            raise FastPathUnsupported(f"{tname}: overlapping fields")
        if off > end:
            fmt.append(f"{off - end}x")
        fmt.append(code)
        end = off + width
        raw_index[slot] = i
        field_offsets[slot] = off
    if not raw_index:  # a table without fields
        getter = _no_fields
    elif len(raw_index) == 1:  # itemgetter of one index returns a bare value, not a tuple
        only = raw_index[0]
        getter = lambda values: (values[only],)  # noqa: E731
    else:
        getter = itemgetter(*raw_index)
    return Layout(t_size, struct.Struct("".join(fmt)).unpack_from, getter, defaults,
                  tuple(field_offsets))


# The vtables that TensorFlow's converter (the FlatBuffers builder behind it) writes for
# the tables the fast path reads, as found in the converter's output for convolutional,
# recurrent, transformer, control-flow, sparse and quantized models (hex of each vtable,
# space-separated). They are compiled when this module is imported, so that loading a
# converted model compiles no layout: compiling is ~10 us a vtable but, being the
# first thing a fresh process runs, it cost ~0.3-0.9 ms of the first load. Any other
# vtable is compiled on first sight as before. Refresh with
# ``python bench/bench_load.py --dump-vtables MODEL...``.
KNOWN_WRITER_VTABLES = {
    "AddOptions": "04000400",
    "ArgMaxOptions": "060008000700",
    "ArgMinOptions": "060008000700",
    "BatchMatMulOptions": "04000400 060008000700 0800080000000700",
    "Buffer": "04000400 04000600 060008000400",
    "CallOnceOptions": "060008000400",
    "ConcatenationOptions": "04000400 060008000400",
    "Conv2DOptions": "0a000c00000008000400 0a0010000f0008000400 0c00100000000c0008000700 0c00140013000c0008000700 10001400000010000c00000008000400",
    "CumsumOptions": "04000400",
    "DepthToSpaceOptions": "060008000400",
    "DepthwiseConv2DOptions": "0c00100000000c0008000400 0e001400000010000c0008000700",
    "DivOptions": "04000400",
    "ExpOptions": "04000400",
    "ExpandDimsOptions": "04000400",
    "GatherOptions": "04000400 060008000400",
    "GeluOptions": "04000400",
    "IfOptions": "08000c0008000400",
    "L2NormOptions": "04000400",
    "LeakyReluOptions": "060008000400",
    "LogSoftmaxOptions": "04000400",
    "MirrorPadOptions": "04000400",
    "Model": "140020001c001800140010000c00000008000400",
    "MulOptions": "04000400 060008000700",
    "NegOptions": "04000400",
    "Operator": "0a000c00000008000400 0a0010000c0008000400 0e001400000010000c000b000400 0e001600000010000c000b000400 0e001800140010000c000b000400 0e001a00140010000c000b000400 16001c001800140010000f0008000000000000000400",
    "PackOptions": "060008000400 08000c0008000400",
    "PadOptions": "04000400",
    "Pool2DOptions": "0e001400000010000c0008000400 0e001800170010000c0008000400",
    "QuantizationParameters": "04000400 0c000c000000000008000400 0c00140010000c0008000400 12001000000000000c000800000000000400",
    "ReducerOptions": "04000400 060008000700",
    "ResizeNearestNeighborOptions": "0800080000000700",
    "SelectOptions": "04000400",
    "SelectV2Options": "04000400",
    "ShapeOptions": "060008000700",
    "SoftmaxOptions": "060008000400",
    "SpaceToDepthOptions": "060008000400",
    "SplitOptions": "060008000400",
    "SplitVOptions": "060008000400",
    "SquareOptions": "04000400",
    "StridedSliceOptions": "04000400 08000c0008000400 0e00080000000000000000000400 0e0010000c000800000000000400",
    "SubGraph": "0e001800140010000c0008000400",
    "SubOptions": "04000400",
    "Tensor": "0c000c000800000000000400 160014001000000000000c0008000700000000000600 160018001400000010000c0008000000000000000700 16001c0018000000140010000c000000000008000700 16001c0018000000140010000c000000080000000700 16001c001800170010000c0008000000000000000700 16001e0018000000140010000c000000080000000700 16001e001800170010000c0008000000000000000700 160020001c001b00140010000c000000000008000700 160020001c001b00140010000c000000080000000700 160022001c001b00140010000c000000080000000700",
    "TopKV2Options": "04000400",
    "TransposeConvOptions": "0a000c00000008000400",
    "UnidirectionalSequenceLSTMOptions": "08000c000b000400 0e0010000f000800000000000700",
    "UnpackOptions": "060008000400 08000c0008000400",
    "WhileOptions": "08000c0008000400",
}


def _precompile(known: dict[str, str]) -> None:
    for tname, vtables in known.items():
        if tname not in _SLOTS:  # a table this schema version does not have
            continue
        for text in vtables.split():
            vtable = bytes.fromhex(text)
            _COMPILED[(tname, vtable)] = _compile(tname, vtable)


def dump_vtables() -> dict[str, str]:
    """The vtables compiled so far in this process, in :data:`KNOWN_WRITER_VTABLES`'s format."""
    out: dict[str, list[str]] = {}
    for tname, vtable in _COMPILED:
        out.setdefault(tname, []).append(vtable.hex())
    return {tname: " ".join(sorted(v)) for tname, v in sorted(out.items())}


_precompile(KNOWN_WRITER_VTABLES)


def int32_tuple(view, size: int, pos: int) -> tuple:
    """The int32 vector at ``pos`` as a tuple of ints (bounds-checked)."""
    if pos + 4 > size:
        raise FastPathUnsupported("vector length outside the buffer")
    n = _U32.unpack_from(view, pos)[0]
    if 4 * n > size - pos - 4:
        raise FastPathUnsupported("vector longer than the buffer")
    st = _INT32_STRUCTS[n] if n <= _CACHED_VECTOR_LEN else struct.Struct(f"<{n}i")
    return st.unpack_from(view, pos + 4)


def uoffset_targets(view, size: int, pos: int) -> list[int]:
    """Absolute targets of the vector of tables/strings at ``pos`` (bounds-checked)."""
    if pos + 4 > size:
        raise FastPathUnsupported("vector length outside the buffer")
    n = _U32.unpack_from(view, pos)[0]
    if 4 * n > size - pos - 4:
        raise FastPathUnsupported("vector longer than the buffer")
    st = _UOFFSET_STRUCTS[n] if n <= _CACHED_VECTOR_LEN else struct.Struct(f"<{n}I")
    base = pos + 4
    # element i's target is its own position (base + 4 i) plus its value
    targets = list(map(add, range(base, base + 4 * n, 4), st.unpack_from(view, base)))
    if targets and max(targets) >= size:
        raise FastPathUnsupported("vector element points past the buffer")
    return targets


def vector_head(view, size: int, pos: int, itemsize: int) -> int:
    """Element count of the vector at ``pos`` whose elements take ``itemsize`` bytes."""
    if pos + 4 > size:
        raise FastPathUnsupported("vector length outside the buffer")
    n = _U32.unpack_from(view, pos)[0]
    if n * itemsize > size - pos - 4:
        raise FastPathUnsupported("vector longer than the buffer")
    return n


def read_string(view, size: int, pos: int) -> tuple[str, int]:
    """(the string at ``pos``, its length in bytes)."""
    if pos + 4 > size:
        raise FastPathUnsupported("string length outside the buffer")
    n = _U32.unpack_from(view, pos)[0]
    if n > size - pos - 4:
        raise FastPathUnsupported("string longer than the buffer")
    return _utf8(view[pos + 4:pos + 4 + n], "replace")[0], n


soffset = _I32.unpack_from
uint32 = _U32.unpack_from
utf8_decode = _utf8
