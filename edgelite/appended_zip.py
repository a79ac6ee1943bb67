"""The zip archive a ``.tflite`` file may carry after its FlatBuffer.

TFLite metadata packs its associated files (labels, vocabularies, ...) as an uncompressed zip
appended to the model, with the archive's offsets counted from the start of the *file*. The
reader keeps that archive (``Model.appended_zip``) with its offsets rewritten to count from the
archive's own start, so it is a standalone zip; the writer appends it after the new FlatBuffer
and rewrites the offsets to count from the file's start again.

Only offsets change: every local header, file name and file content, the central directory
records and the end record stay byte for byte what they were, except the 4-byte "offset of local
header" of each central directory record and the "offset of the central directory" of the end
record. When the new FlatBuffer has the size the old one had, the archive is byte-identical.

This module knows the zip layout (APPNOTE) and nothing about metadata. ZIP64 archives (over
4 GB or 65535 files) are not kept.
"""
from __future__ import annotations

import struct
import warnings
from typing import Optional

from .errors import ModelError

_END = struct.Struct("<4s4H2LH")          # end of central directory record, 22 bytes
_END_SIG = b"PK\x05\x06"
_CENTRAL_SIG = b"PK\x01\x02"
_CENTRAL = struct.Struct("<4s6H3L5H2L")   # central directory record, 46 bytes
_LOCAL_SIG = b"PK\x03\x04"
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_MAX_COMMENT = 0xFFFF


def _find_end(view: memoryview, buf=None) -> Optional[int]:
    """Position of the end record whose comment reaches exactly the end of ``view``
    (``buf``: the object under ``view``, searched in place when it can ``rfind``)."""
    size = len(view)
    if size >= _END.size and view[size - _END.size:size - _END.size + 4] == _END_SIG:
        return size - _END.size
    lo = max(0, size - _END.size - _MAX_COMMENT)
    if hasattr(buf, "rfind"):  # bytes, bytearray, mmap: no copy
        finder, base = buf, 0
    else:
        finder, base = bytes(view[lo:]), lo
    pos = finder.rfind(_END_SIG, lo - base)
    while pos >= 0:
        end = base + pos
        if end + _END.size <= size and end + _END.size + _END.unpack_from(view, end)[7] == size:
            return end
        pos = finder.rfind(_END_SIG, lo - base, pos)
    return None


def _central_records(view: memoryview, cd_start: int, cd_size: int, count: int) -> list[tuple[int, int]]:
    """(position of the record, its local header offset) for each central directory record."""
    out, pos, end = [], cd_start, cd_start + cd_size
    for _ in range(count):
        if pos + _CENTRAL.size > end or view[pos:pos + 4] != _CENTRAL_SIG:
            raise ValueError("bad central directory")
        fields = _CENTRAL.unpack_from(view, pos)
        out.append((pos, fields[16]))
        pos += _CENTRAL.size + fields[10] + fields[11] + fields[12]
    if pos != end:
        raise ValueError("central directory size mismatch")
    return out


def split_appended_zip(buf) -> Optional[tuple[int, bytes]]:
    """``(start, archive)`` for a zip appended to ``buf``, ``archive`` with offsets counted from
    its own start; ``None`` when ``buf`` ends with no (well-formed) zip archive."""
    view = memoryview(buf)
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    end = _find_end(view, buf if view.obj is buf else None)
    if end is None:
        return None
    _sig, disk, cd_disk, n_disk, count, cd_size, cd_offset, _comment = _END.unpack_from(view, end)
    if end >= 20 and view[end - 20:end - 16] == _ZIP64_LOCATOR_SIG or 0xFFFF in (n_disk, count) \
            or 0xFFFFFFFF in (cd_size, cd_offset):
        warnings.warn("the ZIP64 archive appended after the model is not kept", stacklevel=3)
        return None
    if disk or cd_disk or n_disk != count:
        return None
    cd_start = end - cd_size
    concat = cd_start - cd_offset  # bytes before the archive's offset 0 (0 if offsets are absolute)
    if cd_start < 8 or concat < 0:
        return None
    try:
        records = _central_records(view, cd_start, cd_size, count)
    except ValueError:
        return None
    starts = [concat + offset for _pos, offset in records]
    if any(s < 8 or s + 30 > cd_start or view[s:s + 4] != _LOCAL_SIG for s in starts):
        return None
    start = min(starts + [cd_start])
    archive = bytearray(view[start:])
    _shift(archive, records, end, concat - start, base=start)
    return start, bytes(archive)


def _shift(archive: bytearray, records, end: int, delta: int, base: int = 0) -> None:
    for pos, offset in records:
        struct.pack_into("<L", archive, pos - base + 42, offset + delta)
    struct.pack_into("<L", archive, end - base + 16, _END.unpack_from(archive, end - base)[6] + delta)


def relocate_zip(archive: bytes, start: int) -> bytes:
    """``archive`` (offsets from its own start) with offsets for a file where it begins at
    ``start``. Raises :class:`ModelError` if ``archive`` is not a zip this module can move."""
    view = memoryview(archive)
    end = _find_end(view)
    if end is None:
        raise ModelError("Model.appended_zip: not a zip archive (no end of central directory record)")
    _sig, _d, _cd, _n, count, cd_size, cd_offset, _c = _END.unpack_from(view, end)
    try:
        records = _central_records(view, end - cd_size, cd_size, count)
    except ValueError as e:
        raise ModelError(f"Model.appended_zip: {e}") from None
    if start == 0:
        return bytes(archive)
    if start + len(archive) > 0xFFFFFFFF:
        raise ModelError("Model.appended_zip: the file would be too large for zip offsets (ZIP64)")
    out = bytearray(archive)
    _shift(out, records, end, start)
    return bytes(out)
