"""The custom-op API: option decoding, registerers, register_custom_op, errors."""
from __future__ import annotations

import struct
import sys
import types

import numpy as np
import pytest
from flatbuffers import flexbuffers

import edgelite
from edgelite.errors import ModelError
from edgelite.interpreter import InterpreterWithCustomOps, UnsupportedOpsError
from edgelite.ir import Model, Operator, Subgraph
from edgelite.kernels import Kernel
from edgelite.kernels.custom_ops import apply_registerers, unregister_custom_op
from edgelite.kernels.custom_options import (flexbuffer_bytes, flexbuffer_options, struct_bytes,
                                             struct_options)
from edgelite.kernels.resolver import OpResolver

CODE = "TestOnly_AddConst"


def custom_model(code: str = CODE, options: bytes | None = None) -> bytes:
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (2, 3), np.float32)
    y = sg.add_tensor("y", (2, 3), np.float32)
    sg.add_operator("CUSTOM", [x], [y], custom_code=code,
                    custom_options=flexbuffer_bytes({"add": 1.5}) if options is None else options)
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


class AddConst(Kernel):
    def __init__(self, node):
        super().__init__(node)
        self.add = np.float32(flexbuffer_options(self)["add"])

    def prepare(self, inputs, outputs):
        self.require_io(inputs, outputs, "x", 1)
        return [inputs[0].shape]

    def eval(self, inputs, outputs):
        np.add(inputs[0], self.add, out=outputs[0])


class AddTen(AddConst):
    def eval(self, inputs, outputs):
        np.add(inputs[0], np.float32(10), out=outputs[0])


X = np.arange(6, dtype=np.float32).reshape(2, 3)


def run(it) -> np.ndarray:
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], X)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


@pytest.fixture(autouse=True)
def clean_registry():
    yield
    unregister_custom_op(CODE)
    unregister_custom_op("Mfcc")


# -- options ------------------------------------------------------------------------------
def test_flexbuffer_options_round_trip():
    options = {"i": 7, "f": 0.25, "b": True, "s": "text", "v": [1, 2, 3], "m": {"k": -1}}
    op = Operator("CUSTOM", [], [], custom_code="X", custom_options=flexbuffer_bytes(options))
    assert flexbuffer_options(op) == options
    assert flexbuffer_options(Operator("CUSTOM", [], [], custom_code="X")) == {}


def test_flexbuffer_options_refuse_garbage_naming_the_op():
    op = Operator("CUSTOM", [], [], custom_code="Broken", custom_options=b"\x01\x02\x03")
    with pytest.raises(ModelError, match="Broken"):
        flexbuffer_options(op)
    vector = Operator("CUSTOM", [], [], custom_code="Vec", custom_options=bytes(flexbuffers.Dumps([1])))
    with pytest.raises(ModelError, match="not a map"):
        flexbuffer_options(vector)


def test_struct_options_read_a_c_struct():
    # struct { int32 a; float b; int8 c; /* 3 bytes padding */ int32 d; } as memcpy'd by C
    raw = struct.pack("=ifb3xi", 4, 0.5, -3, 99)
    op = Operator("CUSTOM", [], [], custom_code="S", custom_options=raw)
    assert struct_options(op, "ifbi", ["a", "b", "c", "d"]) == {"a": 4, "b": 0.5, "c": -3, "d": 99}
    assert struct_bytes("ifbi", {"a": 4, "b": 0.5, "c": -3, "d": 99}, ["a", "b", "c", "d"]) == raw
    assert struct_options(op, "<i", ["a"]) == {"a": 4}  # trailing bytes are ignored
    with pytest.raises(ModelError, match="S: custom options have 16 bytes"):
        struct_options(op, "iiiii", list("abcde"))
    with pytest.raises(ValueError, match="2 names"):
        struct_options(op, "ifbi", ["a", "b"])


# -- registration ---------------------------------------------------------------------------
def test_missing_kernel_names_the_custom_code():
    with pytest.raises(UnsupportedOpsError, match=CODE) as caught:
        edgelite.Interpreter(model_content=custom_model()).allocate_tensors()
    assert "register_custom_op" in str(caught.value) and "docs/custom_ops.md" in str(caught.value)


def test_registerer_calling_add_custom_is_per_interpreter():
    it = edgelite.Interpreter(model_content=custom_model(),
                              custom_op_registerers=[lambda r: r.add_custom(CODE, AddConst)])
    np.testing.assert_array_equal(run(it), X + 1.5)
    with pytest.raises(UnsupportedOpsError):  # another interpreter does not see it
        edgelite.Interpreter(model_content=custom_model()).allocate_tensors()


@pytest.mark.parametrize("result", [
    lambda: [(CODE, AddConst)],
    lambda: {CODE: AddConst},
    lambda: {CODE: lambda x: x + np.float32(1.5)},  # a plain function
])
def test_registerer_returning_kernels(result):
    it = edgelite.Interpreter(model_content=custom_model(), custom_op_registerers=[lambda r: result()])
    np.testing.assert_array_equal(run(it), X + 1.5)


def test_function_kernel_output_count_is_checked():
    it = edgelite.Interpreter(model_content=custom_model(),
                              custom_op_registerers=[lambda r: {CODE: lambda x: (x, x)}])
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], X)
    with pytest.raises(ModelError, match="returned 2 array"):
        it.invoke()


def test_register_custom_op_is_global_and_latest_wins():
    edgelite.register_custom_op(CODE, AddConst)
    np.testing.assert_array_equal(run(edgelite.Interpreter(model_content=custom_model())), X + 1.5)
    edgelite.register_custom_op(CODE, AddTen)
    np.testing.assert_array_equal(run(edgelite.Interpreter(model_content=custom_model())), X + 10)
    # the interpreter's own registerers come first
    it = edgelite.Interpreter(model_content=custom_model(),
                              custom_op_registerers=[lambda r: r.add_custom(CODE, AddConst)])
    np.testing.assert_array_equal(run(it), X + 1.5)
    assert unregister_custom_op(CODE) == 2
    with pytest.raises(UnsupportedOpsError):
        edgelite.Interpreter(model_content=custom_model()).allocate_tensors()


def test_register_custom_op_overrides_a_shipped_op_until_unregistered():
    from edgelite.kernels.litert_custom.audio_features import Mfcc
    from edgelite.kernels.base import Node, lookup
    sg = Subgraph(name="main")
    node = Node(op=Operator("CUSTOM", [], [], custom_code="Mfcc"), index=0, subgraph=sg)
    edgelite.register_custom_op("Mfcc", AddTen)
    assert lookup(node) is AddTen
    unregister_custom_op("Mfcc")
    assert lookup(node) is Mfcc


def test_register_custom_op_refuses_non_kernels():
    with pytest.raises(TypeError, match="not a subclass"):
        edgelite.register_custom_op(CODE, dict)
    with pytest.raises(TypeError, match="non-empty str"):
        edgelite.register_custom_op("", AddConst)


def test_registerer_names():
    # pack names and shipped ops are accepted (registered by default already)
    it = InterpreterWithCustomOps(custom_op_registerers=["litert_custom", "TFLite_Detection_PostProcess"],
                                  model_content=custom_model())
    with pytest.raises(UnsupportedOpsError):
        it.allocate_tensors()
    with pytest.raises(ValueError, match="NoSuchRegisterer"):
        edgelite.Interpreter(model_content=custom_model(), custom_op_registerers=["NoSuchRegisterer"])


def test_registerer_module_function_name(monkeypatch):
    module = types.ModuleType("edgelite_test_custom_pack")
    module.register = lambda resolver: [(CODE, AddConst)]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    it = edgelite.Interpreter(model_content=custom_model(),
                              custom_op_registerers=[f"{module.__name__}:register"])
    np.testing.assert_array_equal(run(it), X + 1.5)
    with pytest.raises(ValueError, match="cannot import"):
        edgelite.Interpreter(model_content=custom_model(),
                             custom_op_registerers=[f"{module.__name__}:missing"])


@pytest.mark.parametrize("registerers, error", [
    ("litert_custom", TypeError),          # not a list
    ([42], TypeError),                     # neither a name nor a callable
    ([lambda r: 5], TypeError),            # returns something that is not pairs
    ([lambda r: [("x",)]], TypeError),     # a malformed pair
    ([lambda r: {CODE: 3}], TypeError),    # not a kernel
])
def test_bad_registerers(registerers, error):
    with pytest.raises(error):
        apply_registerers(OpResolver(), registerers)
