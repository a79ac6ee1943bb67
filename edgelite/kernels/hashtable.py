"""Static hash tables: HASHTABLE, HASHTABLE_IMPORT, HASHTABLE_FIND, HASHTABLE_SIZE
(LiteRT's hashtable*.cc and experimental/resource/static_hashtable.cc).

HASHTABLE (HashtableOptions table_id, key_dtype, value_dtype; int64 -> string or
string -> int64, the only pairs LiteRT supports) writes a resource handle, like VAR_HANDLE
(see variables.py): the key ``"hashtable:<table_id>"``. The table itself lives in the
interpreter runtime (``runtime.hashtables``), keyed the same way, so all
subgraphs and signatures of one interpreter share it, as LiteRT's resource ids are shared.

A table is filled once: the first HASHTABLE_IMPORT(handle, keys, values) stores it (for a
key given twice the first value wins, as ``std::map::insert``) and later imports are
ignored, since converters leave the initializer in the main graph. It is kept as sorted keys
and their values, so HASHTABLE_FIND(handle, keys, default) is one ``np.searchsorted``;
missing keys get the first element of ``default``. HASHTABLE_SIZE gives the number of
distinct keys as int64[1]. String tensors are object arrays; strings are stored and returned
as ``bytes`` (``str`` inputs are UTF-8 encoded), as LiteRT's Python API returns them. Constant
string tensors (the keys/values converters store in the model) reach kernels as their raw
TFLite buffer (count, offsets, bytes); IMPORT and FIND decode them once in prepare.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..schema import TensorType
from .base import Kernel, register

_STRING, _INT64 = int(TensorType.STRING), int(TensorType.INT64)
_KINDS = {(_INT64, _STRING), (_STRING, _INT64)}


def decode_string_buffer(raw: np.ndarray) -> np.ndarray:
    """The strings of a constant STRING tensor's buffer (TFLite layout: int32 count n, n + 1
    int32 offsets from the buffer start, then the bytes) as a 1-D object array of bytes."""
    buf = np.ascontiguousarray(raw).view(np.uint8).tobytes()
    if len(buf) < 4:
        raise ValueError("a string buffer needs at least 4 bytes")
    n = int(np.frombuffer(buf, "<i4", 1)[0])
    offsets = np.frombuffer(buf, "<i4", n + 1, 4)
    out = np.empty(n, object)
    out[:] = [buf[a:b] for a, b in itertools.pairwise(offsets.tolist())]
    return out


def _as_keys(a: np.ndarray, is_string: bool) -> np.ndarray:
    flat = np.asarray(a).reshape(-1)
    if not is_string:
        return flat.astype(np.int64, copy=False)
    out = np.empty(flat.size, object)
    out[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in flat]
    return out


class _Table:
    """One static table: sorted distinct keys and their values."""

    def __init__(self, key_is_string: bool, value_is_string: bool):
        self.key_is_string = key_is_string
        self.value_is_string = value_is_string
        self.keys: np.ndarray | None = None
        self.values: np.ndarray | None = None

    @property
    def initialized(self) -> bool:
        return self.keys is not None

    def import_(self, keys: np.ndarray, values: np.ndarray) -> None:
        if self.initialized:
            return
        k = _as_keys(keys, self.key_is_string)
        v = _as_keys(values, self.value_is_string)
        uniq, first = np.unique(k, return_index=True)  # first occurrence of each key
        self.keys, self.values = uniq, v[first]

    def find(self, queries: np.ndarray, default) -> np.ndarray:
        q = _as_keys(queries, self.key_is_string)
        keys = self.keys
        out = np.empty(q.size, object if self.value_is_string else np.int64)
        out[:] = [default] if self.value_is_string else default
        if keys.size and q.size:
            pos = np.searchsorted(keys, q)
            pos_in = np.minimum(pos, keys.size - 1)
            hit = (pos < keys.size) & (keys[pos_in] == q)
            out[hit] = self.values[pos_in[hit]]
        return out.reshape(np.shape(queries))


class _HashtableKernel(Kernel):
    def tables(self) -> dict:
        rt = self.node.runtime
        if rt is None:
            raise self.fail("needs an interpreter runtime holding the tables (use edgelite.Interpreter)")
        return rt.hashtables

    def table_of(self, handle) -> _Table:
        key = np.asarray(handle).reshape(-1)[0] if np.size(handle) else None
        table = self.tables().get(key) if isinstance(key, str) else None
        if table is None:
            raise self.fail("the resource input holds no hash table handle (no HASHTABLE ran before)")
        return table

    def decoded_constant(self, k: int, spec) -> np.ndarray | None:
        if spec.data is None or spec.dtype != object or spec.data.dtype == object:
            return None
        try:
            strings = decode_string_buffer(spec.data)
        except ValueError as e:
            raise self.fail(f"constant string tensor {spec.name!r}: {e}") from None
        shape = tuple(self.node.tensor(self.op_desc.inputs[k]).shape)
        if strings.size != int(np.prod(shape, dtype=np.int64)):
            raise self.fail(f"constant string tensor {spec.name!r} holds {strings.size} strings, "
                            f"its shape is {list(shape)}")
        return strings.reshape(shape)

    def check_pair(self, key_dtype: np.dtype, value_dtype: np.dtype) -> None:
        ok = (key_dtype == np.int64 and value_dtype == object) or (key_dtype == object and value_dtype == np.int64)
        if not ok:
            raise self.fail(f"keys/values must be int64/string or string/int64, got {key_dtype}/{value_dtype}")


@register("HASHTABLE", kind="any")
class Hashtable(_HashtableKernel):
    def __init__(self, node):
        super().__init__(node)
        o = self.options
        self.table_id = int(o.get("table_id", 0))
        self.kinds = (int(o.get("key_dtype", 0)), int(o.get("value_dtype", 0)))
        self.key = f"hashtable:{self.table_id}"

    def prepare(self, inputs, outputs):
        if inputs or len(outputs) != 1:
            raise self.fail("takes no inputs and has one resource output")
        if self.kinds not in _KINDS:
            raise self.fail(f"key/value types must be INT64/STRING or STRING/INT64, got type codes {self.kinds}")
        if outputs[0].dtype != object:
            raise self.fail(f"the output must be a resource tensor, got {outputs[0].dtype}")
        return [(1,)]

    def eval(self, inputs, outputs):
        tables = self.tables()
        if self.key not in tables:
            tables[self.key] = _Table(self.kinds[0] == _STRING, self.kinds[1] == _STRING)
        out = outputs[0]
        if out is None or out.dtype != object:
            return [np.array([self.key], dtype=object)]
        out[...] = self.key
        return None


@register("HASHTABLE_IMPORT", kind="any")
class HashtableImport(_HashtableKernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 3 or None in inputs or outputs:
            raise self.fail("needs inputs (handle, keys, values) and no outputs")
        _, keys, values = inputs
        self.check_pair(keys.dtype, values.dtype)
        # constant string tensors arrive as their raw buffer (and its byte count as shape):
        # decode them once here
        self.decoded = [self.decoded_constant(k, spec) for k, spec in enumerate(inputs)]
        sizes = [spec.size if dec is None else dec.size for spec, dec in zip(inputs, self.decoded)]
        if sizes[1] != sizes[2]:
            raise self.fail(f"{sizes[1]} keys but {sizes[2]} values")
        return []

    def eval(self, inputs, outputs):
        handle, keys, values = (d if d is not None else a for d, a in zip(self.decoded, inputs))
        if np.size(keys) != np.size(values):
            raise self.fail(f"{np.size(keys)} keys but {np.size(values)} values")
        self.table_of(handle).import_(keys, values)


@register("HASHTABLE_FIND", kind="any")
class HashtableFind(_HashtableKernel):
    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "handle, keys, default_value", 3)
        _, keys, default = inputs
        self.check_pair(keys.dtype, outputs[0].dtype)
        if default.dtype != outputs[0].dtype:
            raise self.fail(f"default_value type {default.dtype} differs from the output's {outputs[0].dtype}")
        self.decoded = [self.decoded_constant(k, spec) for k, spec in enumerate(inputs)]
        shape = keys.shape if self.decoded[1] is None else self.decoded[1].shape
        return [tuple(shape)]

    def eval(self, inputs, outputs):
        handle, keys, default = (d if d is not None else a for d, a in zip(self.decoded, inputs))
        table = self.table_of(handle)
        if not table.initialized:
            raise self.fail("the hash table must be imported (HASHTABLE_IMPORT) before it is used")
        first = _as_keys(default, table.value_is_string)
        if first.size == 0:
            raise self.fail("default_value is empty")
        found = table.find(keys, first[0])
        out = outputs[0]
        if out is None or out.shape != found.shape:
            return [found]
        out[...] = found
        return None


@register("HASHTABLE_SIZE", kind="any")
class HashtableSize(_HashtableKernel):
    def prepare(self, inputs, outputs):
        if len(inputs) != 1 or inputs[0] is None or len(outputs) != 1:
            raise self.fail("needs one handle input and one output")
        if outputs[0].dtype != np.int64:
            raise self.fail(f"the output must be int64, got {outputs[0].dtype}")
        return [(1,)]

    def eval(self, inputs, outputs):
        table = self.table_of(inputs[0])
        outputs[0][...] = 0 if table.keys is None else table.keys.size
