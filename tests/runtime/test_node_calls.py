"""The executor's call list (runtime/node_calls.py) and shared buffers (runtime/tensor_buffers.py):
kernels' bind functions stand in for eval only where that is safe, RESHAPE-like nodes whose
output shares its input's slot are skipped only where no value read can change, and the
invoke runs with numpy's floating-point warnings off."""
import warnings

import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Subgraph
from edgelite.kernels.elementwise import AddKernel, NegKernel
from edgelite.runtime.node_calls import _binder
from edgelite.schema import tensor_type_of

F32 = tensor_type_of(np.dtype(np.float32))
I32 = tensor_type_of(np.dtype(np.int32))


def graph(build) -> Model:
    """A one-subgraph model: ``build(sg, tensor)`` adds operators; ``tensor(name, shape)``
    makes a float32 activation."""
    sg = Subgraph(name="main")
    build(sg, lambda name, shape: sg.add_tensor(name, shape, F32))
    return Model(subgraphs=[sg])


def reshape(sg, src, dst, shape):
    s = sg.add_tensor(f"shape_{dst}", (len(shape),), I32, data=np.array(shape, np.int32))
    sg.add_operator("RESHAPE", [src, s], [dst], {"new_shape": list(shape)})


def run(model: Model, *xs, **kw):
    it = Interpreter(model_content=model.to_bytes(), **kw)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


def neg_reshape_neg(sg, t):
    """x -> NEG -> a -> RESHAPE -> b -> NEG -> y, plus ADD(a, x) -> z reading a after the RESHAPE."""
    x, a, b, y, z = t("x", (2, 6)), t("a", (2, 6)), t("b", (3, 4)), t("y", (3, 4)), t("z", (2, 6))
    sg.inputs, sg.outputs = [x], [y, z]
    sg.add_operator("NEG", [x], [a])
    reshape(sg, a, b, (3, 4))
    sg.add_operator("NEG", [b], [y])
    sg.add_operator("ADD", [a, x], [z], {"fused_activation_function": 0})


def test_reshape_shares_its_input_buffer_and_does_not_run():
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    it, (y, z) = run(graph(neg_reshape_neg), x)
    np.testing.assert_array_equal(y, x.reshape(3, 4))
    np.testing.assert_array_equal(z, np.zeros_like(x))
    ex = it._runtime.executor(0)
    assert ex._shared_nodes == {1}
    assert 1 not in [n for n, *_ in ex._calls]
    assert ex.offsets[1] == ex.offsets[2]  # a and b: one slot
    assert it.planned_bytes() == 5 * 48  # every tensor still counts in what no reuse would take


def test_preserve_all_tensors_keeps_every_tensor_apart():
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    it, (y, _z) = run(graph(neg_reshape_neg), x, experimental_preserve_all_tensors=True)
    ex = it._runtime.executor(0)
    assert ex._shared_nodes == set()
    np.testing.assert_array_equal(it.get_tensor(2), -x.reshape(3, 4))
    np.testing.assert_array_equal(y, x.reshape(3, 4))


def test_graph_inputs_and_outputs_are_never_shared():
    def build(sg, t):
        x, a, y = t("x", (2, 6)), t("a", (12,)), t("y", (3, 4))
        sg.inputs, sg.outputs = [x], [y, a]
        reshape(sg, x, a, (12,))   # reads a graph input
        reshape(sg, a, y, (3, 4))  # writes a graph output
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    it, (y, a) = run(graph(build), x)
    assert it._runtime.executor(0)._shared_nodes == set()
    np.testing.assert_array_equal(y, x.reshape(3, 4))
    it.set_tensor(0, x + 1)  # outputs are not views of the input
    np.testing.assert_array_equal(it.get_tensor(2), x.reshape(3, 4))


def test_a_tensor_written_twice_is_not_shared():
    def build(sg, t):  # a malformed graph: b is written by RESHAPE and by NEG
        x, a, b = t("x", (4,)), t("a", (4,)), t("b", (4,))
        y = t("y", (4,))
        sg.inputs, sg.outputs = [x], [y]
        sg.add_operator("NEG", [x], [a])
        reshape(sg, a, b, (4,))
        sg.add_operator("NEG", [x], [b])
        sg.add_operator("ADD", [a, b], [y], {"fused_activation_function": 0})
    x = np.arange(4, dtype=np.float32)
    it, (y,) = run(graph(build), x)
    assert it._runtime.executor(0)._shared_nodes == set()
    np.testing.assert_array_equal(y, -2 * x)


def test_chained_reshapes_share_one_slot():
    def build(sg, t):
        x, a, b, c, y = t("x", (2, 6)), t("a", (2, 6)), t("b", (12,)), t("c", (4, 3)), t("y", (4, 3))
        sg.inputs, sg.outputs = [x], [y]
        sg.add_operator("NEG", [x], [a])
        reshape(sg, a, b, (12,))
        reshape(sg, b, c, (4, 3))
        sg.add_operator("NEG", [c], [y])
    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    it, (y,) = run(graph(build), x)
    ex = it._runtime.executor(0)
    assert ex._shared_nodes == {1, 2} and ex.offsets[1] == ex.offsets[2] == ex.offsets[3]
    np.testing.assert_array_equal(y, x.reshape(4, 3))


def test_bind_is_used_only_where_eval_is_not_overridden():
    class CountingAdd(AddKernel):  # overrides eval: the inherited bind must not bypass it
        def eval(self, inputs, outputs):
            return super().eval(inputs, outputs)

    class PlainSubclass(AddKernel):
        pass

    assert _binder(AddKernel) is not None and _binder(PlainSubclass) is not None
    assert _binder(CountingAdd) is None
    assert _binder(NegKernel) is not None


def test_small_elementwise_nodes_run_their_bound_functions():
    def build(sg, t):
        x = t("x", (1,))
        sg.inputs = [x]
        for i in range(5):
            y = t(f"t{i}", (1,))
            sg.add_operator("NEG" if i % 2 else "ADD", [x] if i % 2 else [x, x], [y],
                            None if i % 2 else {"fused_activation_function": 0})
            x = y
        sg.outputs = [x]
    it, (y,) = run(graph(build), np.array([1.5], np.float32))
    assert y[0] == 1.5 * 8
    calls = it._runtime.executor(0)._calls
    assert len(calls) == 5 and not any(stores for _n, _run, stores in calls)


@pytest.mark.parametrize("profiled", [False, True])
def test_invoke_overflows_silently_as_litert(profiled):
    def build(sg, t):
        x, y, z = t("x", (3,)), t("y", (3,)), t("z", (3,))
        sg.inputs, sg.outputs = [x], [z]
        sg.add_operator("MUL", [x, x], [y], {"fused_activation_function": 0})
        sg.add_operator("SUB", [y, y], [z], {"fused_activation_function": 0})
    it = Interpreter(model_content=graph(build).to_bytes())
    it.allocate_tensors()
    if profiled:
        records = []
        it.set_profiler(records.append)
    it.set_tensor(0, np.array([3e38, 1.0, -3e38], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        it.invoke()
    z = it.get_tensor(it.get_output_details()[0]["index"])
    assert np.isnan(z[0]) and z[1] == 0 and np.isnan(z[2])
    if profiled:
        assert [r.op_name for r in records] == ["MUL", "SUB"]
