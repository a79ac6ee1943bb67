"""HASHTABLE, HASHTABLE_IMPORT, HASHTABLE_FIND, HASHTABLE_SIZE: a table built, filled and
queried in one graph, in edgelite.Interpreter and in LiteRT (exact), plus hand-checked cases."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Subgraph
from edgelite.kernels import KernelError
from edgelite.schema import TensorType as T


def table_model(key_type, value_type, n_keys: int, n_query: int, *, table_id: int = 3,
                with_import: bool = True) -> Model:
    """inputs (keys, values, query, default) -> outputs (found values, table size)."""
    sg = Subgraph(name="main")
    h = sg.add_tensor("handle", (1,), T.RESOURCE)
    k = sg.add_tensor("keys", (n_keys,), key_type)
    v = sg.add_tensor("values", (n_keys,), value_type)
    q = sg.add_tensor("query", (n_query,), key_type)
    d = sg.add_tensor("default", (1,), value_type)
    o = sg.add_tensor("found", (n_query,), value_type)
    s = sg.add_tensor("size", (1,), T.INT64)
    sg.add_operator("HASHTABLE", [], [h], {"table_id": table_id, "key_dtype": int(key_type),
                                          "value_dtype": int(value_type)})
    if with_import:
        sg.add_operator("HASHTABLE_IMPORT", [h, k, v], [])
    sg.add_operator("HASHTABLE_FIND", [h, q, d], [o])
    sg.add_operator("HASHTABLE_SIZE", [h], [s])
    sg.inputs = [k, v, q, d]
    sg.outputs = [o, s]
    return Model(subgraphs=[sg])


def run(model: Model, feeds: list, engine: str) -> list:
    if engine == "litert":
        litert = pytest.importorskip("ai_edge_litert.interpreter")
        it = litert.Interpreter(model_content=model.to_bytes(),
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        it = Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    results = []
    for feed in feeds:
        for d, x in zip(it.get_input_details(), feed):
            it.set_tensor(d["index"], x)
        it.invoke()
        results.append([it.get_tensor(d["index"]) for d in it.get_output_details()])
    return results


def strings(*items) -> np.ndarray:
    a = np.empty(len(items), object)
    a[:] = list(items)
    return a


STRING_TO_INT = [
    [strings(b"apple", b"kiwi", b"fig", b"apple"), np.array([1, 2, 3, 4], np.int64),
     strings(b"fig", b"nope", b"apple", b"kiwi", b""), np.array([-1], np.int64)],
    # a second import is ignored: the table keeps its first contents
    [strings(b"x", b"y", b"z", b"w"), np.array([10, 20, 30, 40], np.int64),
     strings(b"fig", b"nope", b"apple", b"kiwi", b"x"), np.array([-7], np.int64)],
]
INT_TO_STRING = [[np.array([5, -2, 9], np.int64), strings(b"five", b"minus two", b"nine"),
                  np.array([9, 5, 0, -2], np.int64), strings(b"?")]]


def test_string_to_int_table_by_hand():
    results = run(table_model(T.STRING, T.INT64, 4, 5), STRING_TO_INT, "edgelite")
    (found, size), (found2, size2) = results
    np.testing.assert_array_equal(found, [3, -1, 1, 2, -1])  # a duplicate key keeps its first value
    np.testing.assert_array_equal(size, [3])
    np.testing.assert_array_equal(found2, [3, -7, 1, 2, -7])
    np.testing.assert_array_equal(size2, [3])


def test_int_to_string_table_by_hand_and_str_inputs():
    [[found, size]] = run(table_model(T.INT64, T.STRING, 3, 4), INT_TO_STRING, "edgelite")
    assert list(found) == [b"nine", b"five", b"?", b"minus two"]
    feed = [np.array([1, 2], np.int64), strings("one", "two"), np.array([2, 3], np.int64), strings("none")]
    [[found, size]] = run(table_model(T.INT64, T.STRING, 2, 2), [feed], "edgelite")
    assert list(found) == [b"two", b"none"] and size[0] == 2


@pytest.mark.parametrize("types,feeds,n_keys,n_query", [((T.STRING, T.INT64), STRING_TO_INT, 4, 5),
                                                        ((T.INT64, T.STRING), INT_TO_STRING, 3, 4)])
def test_hashtable_matches_litert(types, feeds, n_keys, n_query):
    model = table_model(*types, n_keys, n_query)
    ours = run(model, feeds, "edgelite")
    ref = run(model, feeds, "litert")
    for a_outs, b_outs in zip(ours, ref):
        for a, b in zip(a_outs, b_outs):
            assert a.shape == b.shape
            assert a.tolist() == b.tolist()


def test_find_before_import_fails():
    model = table_model(T.INT64, T.STRING, 3, 4, with_import=False)
    with pytest.raises(KernelError, match="imported"):
        run(model, INT_TO_STRING, "edgelite")


def test_unsupported_key_value_types():
    model = table_model(T.INT32, T.FLOAT32, 2, 2)
    with pytest.raises(KernelError, match="INT64/STRING"):
        Interpreter(model_content=model.to_bytes()).allocate_tensors()


def encode_strings(items: list[bytes]) -> np.ndarray:
    """A constant STRING tensor's buffer in TFLite's layout (count, offsets, bytes)."""
    header = 4 * (len(items) + 2)
    offsets = np.cumsum([header] + [len(s) for s in items]).astype("<i4")
    raw = np.int32(len(items)).astype("<i4").tobytes() + offsets.tobytes() + b"".join(items)
    return np.frombuffer(raw, np.uint8)


def constant_table_model(keys: list[bytes], values: list[int], n_query: int) -> Model:
    """A string -> int64 table whose keys and values are model constants (as converters emit)."""
    sg = Subgraph(name="main")
    h = sg.add_tensor("handle", (1,), T.RESOURCE)
    k = sg.add_tensor("keys", (len(keys),), T.STRING, data=encode_strings(keys))
    v = sg.add_tensor("values", (len(values),), T.INT64, data=np.array(values, np.int64))
    q = sg.add_tensor("query", (n_query,), T.STRING)
    d = sg.add_tensor("default", (), T.INT64, data=np.array(-1, np.int64))
    o = sg.add_tensor("found", (n_query,), T.INT64)
    sg.add_operator("HASHTABLE", [], [h], {"table_id": 1, "key_dtype": int(T.STRING), "value_dtype": int(T.INT64)})
    sg.add_operator("HASHTABLE_IMPORT", [h, k, v], [])
    sg.add_operator("HASHTABLE_FIND", [h, q, d], [o])
    sg.inputs, sg.outputs = [q], [o]
    return Model(subgraphs=[sg])


def test_constant_string_keys_are_decoded():
    model = constant_table_model([b"cat", b"", b"dog"], [7, 8, 9], 4)
    feeds = [[strings(b"dog", b"cow", b"", b"cat")]]
    [[found]] = run(model, feeds, "edgelite")
    np.testing.assert_array_equal(found, [9, -1, 8, 7])
    [[ref]] = run(model, feeds, "litert")
    np.testing.assert_array_equal(found, ref)


def test_constant_string_values_and_default_are_decoded():
    sg = Subgraph(name="main")
    h = sg.add_tensor("handle", (1,), T.RESOURCE)
    k = sg.add_tensor("keys", (2,), T.INT64, data=np.array([4, 2], np.int64))
    v = sg.add_tensor("values", (2,), T.STRING, data=encode_strings([b"four", b"two"]))
    q = sg.add_tensor("query", (3,), T.INT64)
    d = sg.add_tensor("default", (1,), T.STRING, data=encode_strings([b"unknown"]))
    o = sg.add_tensor("found", (3,), T.STRING)
    sg.add_operator("HASHTABLE", [], [h], {"table_id": 2, "key_dtype": int(T.INT64), "value_dtype": int(T.STRING)})
    sg.add_operator("HASHTABLE_IMPORT", [h, k, v], [])
    sg.add_operator("HASHTABLE_FIND", [h, q, d], [o])
    sg.inputs, sg.outputs = [q], [o]
    model = Model(subgraphs=[sg])
    feeds = [[np.array([2, 3, 4], np.int64)]]
    [[found]] = run(model, feeds, "edgelite")
    assert list(found) == [b"two", b"unknown", b"four"]
    [[ref]] = run(model, feeds, "litert")
    assert list(ref) == list(found)
