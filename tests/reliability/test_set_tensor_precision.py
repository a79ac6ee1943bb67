"""No silent precision loss in set_tensor: wider or other-typed values are refused exactly as LiteRT
refuses them (same exception, same message), never cast; edgelite also refuses byte-swapped arrays,
which LiteRT copies raw (silently wrong values)."""
import numpy as np
import pytest

import edgelite

from .hostile_models import int_cast_model, mlp_model

CASES = [
    ("float64 into float32", mlp_model, np.full((1, 16), 0.1, np.float64)),
    ("python floats into float32", mlp_model, [[0.1] * 16]),
    ("float16 into float32", mlp_model, np.ones((1, 16), np.float16)),
    ("int64 in range into int32", int_cast_model, np.array([1, 2, 3], np.int64)),
    ("int64 out of range into int32", int_cast_model, np.array([2 ** 40, -2 ** 35, 7], np.int64)),
    ("python ints into int32", int_cast_model, [1, 2, 3]),
    ("uint32 into int32", int_cast_model, np.array([1, 2, 3], np.uint32)),
    ("int16 into int32", int_cast_model, np.array([1, 2, 3], np.int16)),
]


def _outcome(engine, build, value):
    it = engine(model_content=build())
    it.allocate_tensors()
    try:
        it.set_tensor(it.get_input_details()[0]["index"], value)
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return type(e).__name__, str(e)
    it.invoke()
    return "ok", it.get_tensor(it.get_output_details()[0]["index"]).tolist()


@pytest.mark.parametrize("label,build,value", CASES, ids=[c[0] for c in CASES])
def test_same_as_litert(label, build, value):
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    ours = _outcome(edgelite.Interpreter, build, value)
    theirs = _outcome(lite.Interpreter, build, value)
    assert ours == theirs
    assert ours[0] == "ValueError" and "Cannot set tensor: Got value of type" in ours[1]


def test_signature_runner_refuses_float64_like_litert():
    lite = pytest.importorskip("ai_edge_litert.interpreter")
    from conftest import MANIFEST, zoo_path
    if "signatures_f32" not in MANIFEST:
        pytest.skip("zoo not available")
    messages = []
    for engine in (edgelite.Interpreter, lite.Interpreter):
        it = engine(model_path=str(zoo_path("signatures_f32")))
        key = next(iter(it.get_signature_list()))
        runner = it.get_signature_runner(key)
        feeds = {n: np.ones(tuple(d["shape"]), np.float64) for n, d in runner.get_input_details().items()}
        with pytest.raises(ValueError) as info:
            runner(**feeds)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_byte_swapped_input_is_refused_not_misread():
    x = np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 16)
    it = edgelite.Interpreter(model_content=mlp_model())
    it.allocate_tensors()
    with pytest.raises(ValueError, match="Cannot set tensor"):
        it.set_tensor(0, x.astype(">f4"))
    it.set_tensor(0, x.astype(">f4").astype(np.float32))  # converted by the caller: fine
    it.invoke()
