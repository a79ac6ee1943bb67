"""Metadata FlatBuffer -> JSON text, as tflite-support's ``MetadataDisplayer.get_metadata_json``.

tflite-support prints metadata with flatbuffers' text generator (``GenerateText`` with
``strict_json``); this module reproduces its output character for character:

* fields in schema declaration order, only those *present* in the FlatBuffer (a scalar stored
  with its default value is printed; an absent one is not), names quoted;
* two-space indentation; every table and every vector opens on its line and puts each field or
  element on a line of its own (``[`` and ``{`` followed by a newline, even when empty);
* enum-typed scalars (union types included) as their name in quotes when the value has one, else
  as a number;
* ``float`` as C++ ``std::fixed`` with 6 decimals (``double`` 12) with trailing zeros removed but
  one kept after the point (``127.5``, ``0.0``, ``nan``, ``inf``);
* strings escaped as JSON with every character outside printable ASCII as ``\\uXXXX`` (upper-case
  hex, surrogate pairs above U+FFFF);
* a final newline.
"""
from __future__ import annotations

import math

import numpy as np

from .schema import ENUMS, METADATA_SCHEMA, ROOT_TABLE, TABLES

_ENUM_NAMES = {name: {v: k for k, v in values.items()} for name, values in ENUMS.items()}
_FLOAT_DIGITS = {"float32": 6, "float64": 12}
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
            "\f": "\\f"}


def format_float(value: float, digits: int = 6) -> str:
    """A float as flatbuffers' ``FloatToString`` prints it."""
    value = float(value)
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}f}"
    stripped = text.rstrip("0")
    return stripped + "0" if stripped.endswith(".") else stripped


def escape_string(text: str) -> str:
    """A string as flatbuffers' ``EscapeString`` prints it (strict JSON, ASCII output)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0x20 <= code <= 0x7E:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04X}")
        else:
            base = code - 0x10000
            out.append(f"\\u{0xD800 + (base >> 10):04X}\\u{0xDC00 + (base & 0x3FF):04X}")
    out.append('"')
    return "".join(out)


def _scalar(value, etype: str, enum: str | None) -> str:
    if enum is not None:
        name = _ENUM_NAMES[enum].get(int(value))
        if name is not None:
            return f'"{name}"'
    if etype == "bool":
        return "true" if value else "false"
    if etype in _FLOAT_DIGITS:
        return format_float(value, _FLOAT_DIGITS[etype])
    return str(int(value))


def _vector(items, etype: str, indent: int, out: list) -> None:
    inner = " " * (indent + 2)
    out.append("[\n")
    for i, item in enumerate(items):
        if i:
            out.append(",\n")
        out.append(inner)
        if etype == "string":
            out.append(escape_string(item))
        elif etype.startswith("table:"):
            _table(item, etype[6:], indent + 2, out)
        else:
            out.append(_scalar(item, etype, None))
    out.append("\n" + " " * indent + "]")


def _table(value: dict, tname: str, indent: int, out: list) -> None:
    inner = " " * (indent + 2)
    out.append("{")
    first = True
    for _slot, name, kind, _default in TABLES[tname]:
        item = value.get(name)
        if item is None:
            continue
        out.append("\n" if first else ",\n")
        first = False
        out.append(f'{inner}"{name}": ')
        if kind[0] == "scalar":
            out.append(_scalar(item, kind[1], kind[2] if len(kind) > 2 else None))
        elif kind[0] == "string":
            out.append(escape_string(item))
        elif kind[0] == "table":
            _table(item, kind[1], indent + 2, out)
        elif kind[0] == "union":
            member = METADATA_SCHEMA.union_tables[kind[1]].get(value.get(name + "_type") or 0)
            _table(item, member, indent + 2, out)
        else:
            items = item.tolist() if isinstance(item, np.ndarray) else item
            _vector(items, kind[1], indent + 2, out)
    out.append("\n" + " " * indent + "}")


def metadata_dict_to_json(root: dict, table: str = ROOT_TABLE) -> str:
    """The JSON text of a decoded metadata table (a dict from the codec's ``Decoder``)."""
    out: list = []
    _table(root, table, 0, out)
    out.append("\n")
    return "".join(out)
