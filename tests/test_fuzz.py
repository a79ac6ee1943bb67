"""Fuzzing the reader (and the writer on what it accepts) with corrupted zoo models.

Every case either loads or raises :class:`edgelite.ModelError` (nothing else may
escape: IndexError, struct.error, OverflowError, MemoryError, RecursionError, numpy
errors... are bugs), within a second; a model that loads must also survive
``to_bytes()`` or raise ModelError, and its ``edgelite inspect`` analysis must work. Mutations:

* truncations at random lengths;
* random bit flips (1 to 4 per case, half of them inside structural fields);
* patches of *structural* positions found by walking the FlatBuffer: the root
  offset, each table's vtable soffset, vtable and table sizes, vtable entries,
  every uoffset field and vector element, every vector/string length and every
  scalar field, each set to a value chosen to break things (0, -1, huge, off by a
  little, pointing at another table, ...).

Every case is also a differential test of the reader's two decoders: whatever the
fast path accepts, the checked decoder must accept too and build the identical IR
(``test_roundtrip.ir_difference``); the fast path may give up on anything.

The default run has 4,000 deterministic cases (plus ~4,500 systematic patches); set ``EDGELITE_FUZZ_CASES`` (e.g.
50000) for a longer one and ``EDGELITE_FUZZ_SEED`` to vary the seeds.
"""
import json
import os
import struct
import time
import tracemalloc

import numpy as np
import pytest

import edgelite
from conftest import MANIFEST, zoo_path
from edgelite.reader import _FAST_PATH_GIVES_UP, FILE_IDENTIFIER, parse_model_checked, parse_model_fast
from test_roundtrip import ir_difference
from edgelite.schema._spec import ENUMS, TABLES
from edgelite.tools.analyze import analyze, format_text

FUZZ_MODELS = ["signatures_f32", "sparse_mlp_int8", "ops_control_flow_f32", "mlp_dynamic_int8",
               "ops_elementwise_int8", "ops_matmul_q_int16x8", "ops_shape_f32", "lstm_text_dyn"]
TOTAL_CASES = int(os.environ.get("EDGELITE_FUZZ_CASES", "4000"))
BASE_SEED = int(os.environ.get("EDGELITE_FUZZ_SEED", "20240531"))
TIME_LIMIT_S = 1.0
# share of cases per mutation kind
SHARES = {"truncate": 0.15, "bitflip": 0.30, "structural": 0.55}

# how often the reader's fast path decided a mutated file itself, and how often it gave up
FAST_PATH_STATS = {"decided": 0, "gave up": 0}

_SCALAR_SIZES = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4,
                 "uint32": 4, "int64": 8, "uint64": 8, "float32": 4, "float64": 8}
_UNION_TABLES = {kind[1]: {v: k for k, v in ENUMS[kind[1]].items() if v}
                 for fields in TABLES.values() for _s, _n, kind, _d in fields if kind[0] == "union"}


# -- an independent FlatBuffer walker that records where the structure lives --------------
def structure_positions(buf: bytes) -> list[tuple[str, int, int]]:
    """(kind, position, size) of every structural field of a valid .tflite file."""
    found: dict[int, tuple[str, int, int]] = {}
    tables: set[int] = set()

    def u32(p):
        return struct.unpack_from("<I", buf, p)[0]

    def add(kind, pos, size):
        found.setdefault(pos, (kind, pos, size))

    def table(pos, tname):
        if pos in tables:
            return
        tables.add(pos)
        add("soffset", pos, 4)
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        vt_size = struct.unpack_from("<H", buf, vt)[0]
        add("vt_size", vt, 2)
        add("t_size", vt + 2, 2)
        n = (vt_size - 4) // 2
        offs = struct.unpack_from(f"<{n}H", buf, vt + 4)
        utypes = {}
        for slot, name, kind, _default in TABLES[tname]:
            if slot >= n or offs[slot] == 0:
                continue
            add("vt_entry", vt + 4 + 2 * slot, 2)
            fpos = pos + offs[slot]
            if kind[0] == "scalar":
                add("scalar_" + kind[1], fpos, _SCALAR_SIZES[kind[1]])
                if name.endswith("_type"):
                    utypes[name[:-5]] = buf[fpos]
                continue
            add("uoffset", fpos, 4)
            target = fpos + u32(fpos)
            if kind[0] == "table":
                table(target, kind[1])
            elif kind[0] == "union":
                code = utypes.get(name, 0)
                if code in _UNION_TABLES[kind[1]]:
                    table(target, _UNION_TABLES[kind[1]][code])
            else:
                add("length", target, 4)
                etype = kind[1] if kind[0] == "vector" else "string"
                if kind[0] == "vector" and (etype == "string" or etype.startswith("table:")):
                    for i in range(u32(target)):
                        epos = target + 4 + 4 * i
                        add("uoffset", epos, 4)
                        if etype == "string":
                            add("length", epos + u32(epos), 4)
                        else:
                            table(epos + u32(epos), etype[6:])

    add("root", 0, 4)
    table(u32(0), "Model")
    return sorted(found.values(), key=lambda k: k[1]), sorted(tables)


def _patch_values(kind: str, old: int, pos: int, size: int, tables: list[int], rng) -> list[int]:
    other = int(tables[rng.integers(len(tables))]) if tables else 0
    if kind in ("root", "uoffset"):
        return [0, 1, 2, 4, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, size, size - pos, size - pos - 1,
                old + 4, old - 4, old + 1, (other - pos) & 0xFFFFFFFF, int(rng.integers(0, 2**32))]
    if kind == "soffset":
        return [0, 4, -4, 2**31 - 1, -2**31, pos, pos + 1, pos - size, old + 2, old - 2,
                pos - other, int(rng.integers(-2**31, 2**31))]
    if kind in ("vt_size", "t_size", "vt_entry"):
        return [0, 1, 2, 3, 5, 0xFFFF, 0xFFFE, old + 2, max(old - 2, 0), old + 1,
                int(rng.integers(0, 2**16))]
    if kind == "length":
        return [0, 1, 0xFFFFFFFF, 0x3FFFFFFF, 0x7FFFFFFF, old + 1, old * 2 + 1, size, size // 4,
                max(old - 1, 0), int(rng.integers(0, 2**32))]
    bits = 8 * struct.calcsize({1: "b", 2: "h", 4: "i", 8: "q"}[_width(kind)])
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return [-1, 0, 1, hi, lo, old + 1, old - 1, old + 1000, int(rng.integers(lo, hi, endpoint=True))]


def _width(kind: str) -> int:
    return _SCALAR_SIZES[kind[len("scalar_"):]]


def _write(buf: bytearray, kind: str, pos: int, value: int) -> None:
    if kind in ("root", "uoffset", "length"):
        struct.pack_into("<I", buf, pos, value & 0xFFFFFFFF)
    elif kind == "soffset":
        struct.pack_into("<i", buf, pos, ((value + 2**31) % 2**32) - 2**31)
    elif kind in ("vt_size", "t_size", "vt_entry"):
        struct.pack_into("<H", buf, pos, value & 0xFFFF)
    else:
        width = _width(kind)
        fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[width]
        struct.pack_into(fmt, buf, pos, value & ((1 << (8 * width)) - 1))


def _read(buf: bytes, kind: str, pos: int) -> int:
    if kind == "soffset":
        return struct.unpack_from("<i", buf, pos)[0]
    width = 2 if kind in ("vt_size", "t_size", "vt_entry") else (
        4 if kind in ("root", "uoffset", "length") else _width(kind))
    fmt = {1: "<b", 2: "<H", 4: "<I", 8: "<q"}[width]
    if kind.startswith("scalar_"):
        fmt = {1: "<b", 2: "<h", 4: "<i", 8: "<q"}[width]
    return struct.unpack_from(fmt, buf, pos)[0]


# -- mutation generators -------------------------------------------------------------------
def truncation(data: bytes, rng) -> bytes:
    cut = int(rng.integers(0, len(data)))
    return data[:cut]


def bitflips(data: bytes, positions, rng) -> bytes:
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        if rng.random() < 0.5:  # anywhere, weights included
            pos = int(rng.integers(0, len(buf)))
        else:  # inside a structural field, where a flip does the most damage
            _kind, start, size = positions[int(rng.integers(len(positions)))]
            pos = start + int(rng.integers(0, size))
        buf[pos] ^= 1 << int(rng.integers(0, 8))
    return bytes(buf)


def structural(data: bytes, positions, tables, rng) -> bytes:
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 3))):
        kind, pos, _size = positions[int(rng.integers(len(positions)))]
        old = _read(data, kind, pos)
        values = _patch_values(kind, old, pos, len(data), tables, rng)
        _write(buf, kind, pos, values[int(rng.integers(len(values)))])
    return bytes(buf)


# -- the harness ---------------------------------------------------------------------------
def check_case(data: bytes) -> str | None:
    """Load (and re-write) one mutated file; return a problem description or None."""
    start = time.perf_counter()
    try:
        model = edgelite.load_model(data)
        try:
            model.to_bytes()
        except edgelite.ModelError:
            pass
        info = analyze(data)  # what `edgelite inspect` shows must not break either
        json.loads(json.dumps(info, allow_nan=False))
        format_text(info)
    except edgelite.ModelError as e:
        if not str(e):
            return "ModelError without a message"
    except Exception as e:  # noqa: BLE001 - anything else is the bug we hunt
        return f"{type(e).__name__}: {e}"
    elapsed = time.perf_counter() - start
    if elapsed > TIME_LIMIT_S:
        return f"took {elapsed:.2f} s"
    return fast_path_difference(data)


def fast_path_difference(data: bytes) -> str | None:
    """The reader's fast path must accept no file its checked decoder refuses, and build
    the very same IR from the files it accepts (it may give up on any file)."""
    if len(data) < 8 or data[4:8] != FILE_IDENTIFIER:
        return None  # refused before either decoder runs
    try:
        fast = parse_model_fast(data)
    except _FAST_PATH_GIVES_UP:
        FAST_PATH_STATS["gave up"] += 1
        return None
    FAST_PATH_STATS["decided"] += 1
    try:
        checked = parse_model_checked(data)
    except edgelite.ModelError as e:
        return f"fast path accepted a file the checked decoder refuses: {e}"
    problem = ir_difference(fast, checked)
    return f"fast path and checked decoder differ: {problem}" if problem else None


def _cases_for(kind: str) -> int:
    per_model = TOTAL_CASES * SHARES[kind] / len(FUZZ_MODELS)
    return max(1, int(round(per_model)))


_STRUCT_CACHE = {}


def _model_bytes(key):
    if key not in MANIFEST:
        pytest.skip(f"zoo model {key} missing")
    if key not in _STRUCT_CACHE:
        data = zoo_path(key).read_bytes()
        _STRUCT_CACHE[key] = (data, *structure_positions(data))
    return _STRUCT_CACHE[key]


def _run_cases(key: str, kind: str) -> None:
    data, positions, tables = _model_bytes(key)
    seed = BASE_SEED + FUZZ_MODELS.index(key) * 1000 + list(SHARES).index(kind)
    rng = np.random.default_rng(seed)
    failures = []
    n = _cases_for(kind)
    for i in range(n):
        if kind == "truncate":
            mutated = truncation(data, rng)
        elif kind == "bitflip":
            mutated = bitflips(data, positions, rng)
        else:
            mutated = structural(data, positions, tables, rng)
        problem = check_case(mutated)
        if problem and problem.startswith("took"):
            # a hang repeats; a pause of this shared machine (other processes, GC) does not
            problem = check_case(mutated)
        if problem:
            failures.append(f"case {i} (seed {seed}): {problem}")
    assert not failures, f"{len(failures)}/{n} {kind} cases of {key} failed:\n" + "\n".join(failures[:10])


@pytest.mark.parametrize("kind", list(SHARES))
@pytest.mark.parametrize("key", FUZZ_MODELS)
def test_fuzz(key, kind):
    _run_cases(key, kind)


def test_walker_finds_structure():
    data, positions, tables = _model_bytes("signatures_f32")
    kinds = {k for k, _p, _s in positions}
    assert {"root", "soffset", "vt_size", "t_size", "vt_entry", "uoffset", "length",
            "scalar_int32"} <= kinds
    assert len(tables) > 50
    assert edgelite.load_model(data).equals(edgelite.load_model(zoo_path("signatures_f32")))


def test_every_structural_position_once():
    """Each recorded position of one model set to each of its interesting values."""
    data, positions, tables = _model_bytes("ops_control_flow_f32")
    rng = np.random.default_rng(BASE_SEED)
    failures = []
    for kind, pos, _size in positions:
        old = _read(data, kind, pos)
        for value in _patch_values(kind, old, pos, len(data), tables, rng)[:6]:
            buf = bytearray(data)
            _write(buf, kind, pos, value)
            problem = check_case(bytes(buf))
            if problem:
                failures.append(f"{kind}@{pos}={value}: {problem}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:10])


# -- allocation bounds -----------------------------------------------------------------------
def _peak_alloc(data: bytes) -> int:
    tracemalloc.start()
    try:
        try:
            edgelite.load_model(data)
        except edgelite.ModelError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _shared_offsets_case(data: bytes, positions) -> bytes:
    """Point every element of every table/string vector at the first element's target."""
    buf = bytearray(data)
    lengths = [p for k, p, _s in positions if k == "length"]
    for lp in lengths:
        n = struct.unpack_from("<I", data, lp)[0]
        first = lp + 4
        if n < 2 or not any(k == "uoffset" and p == first for k, p, _s in positions):
            continue
        target = first + struct.unpack_from("<I", data, first)[0]
        for i in range(1, n):
            epos = first + 4 * i
            struct.pack_into("<I", buf, epos, target - epos)
    return bytes(buf)


def test_allocation_bounded_huge_lengths():
    data, positions, _tables = _model_bytes("sparse_mlp_int8")
    for kind, pos, _size in positions:
        if kind != "length":
            continue
        for value in (0x7FFFFFFF, 0xFFFFFFFF, len(data) // 4):
            buf = bytearray(data)
            struct.pack_into("<I", buf, pos, value)
            peak = _peak_alloc(bytes(buf))
            assert peak < 20 * len(data) + (1 << 20), (pos, value, peak)


def test_allocation_bounded_shared_offsets():
    data, positions, _tables = _model_bytes("lstm_text_dyn")
    evil = _shared_offsets_case(data, positions)
    assert evil != data
    baseline = _peak_alloc(data)
    peak = _peak_alloc(evil)
    assert peak < 20 * len(data) + (1 << 20), peak
    assert check_case(evil) is None
    assert baseline < 20 * len(data) + (1 << 20)


def test_allocation_bounded_big_shared_vector():
    """Many tensors' shape fields pointing at one long vector must not blow up."""
    data, positions, _tables = _model_bytes("ops_shape_f32")
    buf = bytearray(data)
    lengths = sorted((struct.unpack_from("<I", data, p)[0], p) for k, p, _s in positions if k == "length")
    _n, big = lengths[-1]  # the longest vector in the file
    # redirect every uoffset that leads to a length field at that vector
    for kind, pos, _size in positions:
        if kind == "uoffset":
            target = pos + struct.unpack_from("<I", data, pos)[0]
            if any(k == "length" and p == target for k, p, _s in positions):
                struct.pack_into("<I", buf, pos, (big - pos) & 0xFFFFFFFF)
    peak = _peak_alloc(bytes(buf))
    assert peak < 20 * len(data) + (1 << 20), peak
    assert check_case(bytes(buf)) is None


def test_deep_nesting_no_recursion_error():
    """A table whose sub-table offset points back at itself is caught, not a RecursionError."""
    data, positions, tables = _model_bytes("signatures_f32")
    failures = []
    rng = np.random.default_rng(BASE_SEED + 7)
    offsets = [p for k, p, _s in positions if k == "uoffset"]
    for pos in rng.choice(offsets, size=min(60, len(offsets)), replace=False).tolist():
        for target in rng.choice(tables, size=min(5, len(tables)), replace=False).tolist():
            buf = bytearray(data)
            struct.pack_into("<I", buf, pos, (target - pos) & 0xFFFFFFFF)
            problem = check_case(bytes(buf))
            if problem:
                failures.append(f"uoffset@{pos}->{target}: {problem}")
        if len(failures) > 10:
            break
    assert not failures, "\n".join(failures[:10])


def test_differential_is_not_vacuous():
    """Mutations that keep a file valid (most bit flips in weights) must be decided by
    the fast path, so the differential checks above compare real models."""
    data, positions, _tables = _model_bytes("mlp_dynamic_int8")
    rng = np.random.default_rng(BASE_SEED + 11)
    decided = 0
    for _ in range(100):
        buf = bytearray(data)
        pos = int(rng.integers(0, len(buf)))
        buf[pos] ^= 1 << int(rng.integers(0, 8))
        try:
            parse_model_fast(bytes(buf))
            decided += 1
        except _FAST_PATH_GIVES_UP:
            pass
        assert fast_path_difference(bytes(buf)) is None
    assert decided >= 50, decided
