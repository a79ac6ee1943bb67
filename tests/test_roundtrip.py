"""Read -> write -> read gives an equal IR, for every model of the zoo; and the
reader's fast path builds exactly the IR its checked decoder builds."""
import mmap

import numpy as np

import edgelite
from conftest import zoo_path
from edgelite.reader import parse_model_checked, parse_model_fast


def test_roundtrip_equal_ir(zoo_key):
    model = edgelite.load_model(zoo_path(zoo_key))
    data = model.to_bytes()
    again = edgelite.load_model(data)
    assert model.equals(again)
    assert again.to_bytes() == data  # writing is deterministic


def test_roundtrip_external_buffers(zoo_key):
    model = edgelite.load_model(zoo_path(zoo_key))
    data = model.to_bytes(external=True)
    again = edgelite.load_model(data)
    assert model.equals(again)
    assert ir_difference(parse_model_fast(data), parse_model_checked(data)) is None


# -- fast path == checked path ------------------------------------------------------------
def ir_difference(a, b, path: str = "model") -> str | None:
    """Where two IR values differ -- stricter than ``Model.equals``: exact types, dict key
    order, array dtype/shape/bytes/writability, and which tensors share one array
    (the writer deduplicates by identity) -- or None."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            return f"{path}: arrays differ ({a.dtype}{a.shape} vs {b.dtype}{b.shape})"
        if a.flags.writeable != b.flags.writeable:
            return f"{path}: writeable {a.flags.writeable} vs {b.flags.writeable}"
        return None
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} vs {list(b)}"
        items = ((f"{path}[{k!r}]", a[k], b[k]) for k in a)
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return f"{path}: length {len(a)} vs {len(b)}"
        items = ((f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b)))
    elif hasattr(a, "__dataclass_fields__"):
        if set(vars(a)) != set(vars(b)):
            return f"{path}: fields {sorted(vars(a))} vs {sorted(vars(b))}"
        if type(a).__name__ == "Subgraph":
            sharing = [_sharing(sg.tensors) for sg in (a, b)]
            if sharing[0] != sharing[1]:
                return f"{path}: tensors share constant arrays differently"
        items = ((f"{path}.{k}", v, getattr(b, k)) for k, v in vars(a).items())
    elif isinstance(a, float) and a != a:
        return None if b != b else f"{path}: nan vs {b!r}"
    else:
        return None if a == b else f"{path}: {a!r} vs {b!r}"
    for where, x, y in items:
        problem = ir_difference(x, y, where)
        if problem:
            return problem
    return None


def _sharing(tensors) -> list[int]:
    first: dict[int, int] = {}
    return [-1 if t.data is None else first.setdefault(id(t.data), i) for i, t in enumerate(tensors)]


def test_fast_path_takes_every_zoo_model(zoo_key):
    """No zoo model falls back to the checked decoder, and both give the same IR
    from a memory map (read-only) and from a bytearray (writable)."""
    path = zoo_path(zoo_key)
    with open(path, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    assert ir_difference(parse_model_fast(mapped), parse_model_checked(mapped)) is None
    writable = bytearray(path.read_bytes())
    fast = parse_model_fast(writable)
    assert ir_difference(fast, parse_model_checked(writable)) is None
    for sg in fast.subgraphs:  # constants stay read-only views even of writable memory
        assert all(not t.data.flags.writeable for t in sg.tensors
                   if t.data is not None and t.sparsity is None and t.data.dtype.kind != "O"
                   and t.dtype not in (17, 19, 20))  # packed INT4/INT2/UINT4 stay raw bytes


def test_fast_path_ir_behaves_like_constructed_ir(zoo_key):
    """Objects built without __post_init__ hold what the constructors would make."""
    model = edgelite.load_model(zoo_path(zoo_key))
    for sg in model.subgraphs:
        for t in sg.tensors:
            rebuilt = edgelite.ir.Tensor(**vars(t))
            assert ir_difference(rebuilt, t) is None
            if t.quantization is not None:
                q = edgelite.ir.Quantization(**vars(t.quantization))
                assert ir_difference(q.scale.tolist(), t.quantization.scale.tolist()) is None
                assert q.scale.dtype == t.quantization.scale.dtype
                assert q.zero_point.dtype == t.quantization.zero_point.dtype
        for op in sg.operators:
            rebuilt = edgelite.ir.Operator(**vars(op))
            if op.options is None:  # the reader keeps "no options table" as it is in the file
                rebuilt.options, rebuilt.options_type = None, None
            assert ir_difference(rebuilt, op) is None
