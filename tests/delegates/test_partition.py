"""The delegate API: partitioning (connected, convex, minimum size), the graph rewrite, and the
interpreter running DELEGATE nodes through its op resolver."""
import numpy as np
import pytest

import edgelite
from edgelite.delegates import Delegate, DelegateError, DelegateKernel, load_delegate
from edgelite.delegates.partition import is_convex, node_edges, partition_nodes
from edgelite.ir import Model, SignatureDef, Subgraph
from edgelite.kernels.base import Kernel, register


class NumpyKernel(DelegateKernel):
    """Runs a partition of ADD/MUL/SUB/RELU nodes with plain numpy (counts its calls)."""

    FUNCS = {"ADD": np.add, "MUL": np.multiply, "SUB": np.subtract}

    def invoke(self, inputs):
        self.partition.delegate.calls += 1
        sg = self.partition.subgraph
        values = dict(zip(sg.inputs, inputs))
        for op in sg.operators:
            args = [values[t] if sg.tensors[t].data is None else sg.tensors[t].data for t in op.inputs]
            values[op.outputs[0]] = np.maximum(args[0], 0) if op.opcode == "RELU" else self.FUNCS[op.opcode](*args)
        return [values[t] for t in sg.outputs]


class NumpyDelegate(Delegate):
    name = "numpy"

    def __init__(self, ops=("ADD", "MUL", "SUB", "RELU"), min_partition_size=1):
        self.ops = set(ops)
        self.min_partition_size = min_partition_size
        self.calls = 0

    def supports(self, op, subgraph):
        return op.opcode in self.ops

    def create_kernel(self, partition):
        return NumpyKernel(partition)


def chain_model(opcodes, batch=-1):
    """x -> op0 -> op1 -> ... (binary ops take the previous value twice; TANH/RELU unary)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32, shape_signature=(batch, 4))
    cur = x
    for i, opc in enumerate(opcodes):
        y = sg.add_tensor(f"y{i}", (1, 4), np.float32, shape_signature=(batch, 4))
        ins = [cur] if opc in ("TANH", "RELU", "LOGISTIC") else [cur, cur]
        sg.add_operator(opc, ins, [y])
        cur = y
    sg.inputs, sg.outputs = [x], [cur]
    return Model(subgraphs=[sg], signature_defs=[SignatureDef("serve", 0, {"x": x}, {"y": cur})])


def reference(opcodes, x):
    for opc in opcodes:
        x = {"ADD": lambda v: v + v, "MUL": lambda v: v * v, "SUB": lambda v: v - v, "RELU": lambda v: np.maximum(v, 0),
             "TANH": np.tanh, "LOGISTIC": lambda v: 1 / (1 + np.exp(-v))}[opc](x)
    return x


def test_chain_interleavings_partitions_and_results():
    ops = ["ADD", "MUL", "TANH", "ADD", "RELU", "TANH", "MUL"]
    d = NumpyDelegate()
    it = edgelite.Interpreter(model_content=chain_model(ops).to_bytes(), experimental_delegates=[d])
    summary = it._delegation.summary()
    assert [p["nodes"] for p in summary] == [[0, 1], [3, 4], [6]]
    names = [o["op_name"] for o in it._get_ops_details()]
    assert names == ["DELEGATE", "TANH", "DELEGATE", "TANH", "DELEGATE"]
    it.allocate_tensors()
    x = np.array([[0.5, -1.0, 0.25, 2.0]], np.float32)
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]), reference(ops, x), rtol=1e-6)
    assert d.calls == 3


def test_minimum_partition_size_keeps_small_groups_on_edgelite():
    ops = ["ADD", "MUL", "TANH", "ADD", "TANH", "MUL", "SUB", "ADD"]
    d = NumpyDelegate(min_partition_size=3)
    it = edgelite.Interpreter(model_content=chain_model(ops).to_bytes(), experimental_delegates=[d])
    assert [p["nodes"] for p in it._delegation.summary()] == [[5, 6, 7]]
    assert [o["op_name"] for o in it._get_ops_details()] == ["ADD", "MUL", "TANH", "ADD", "TANH", "DELEGATE"]


def test_partition_never_creates_a_cycle():
    """a -> b(unsupported) -> c, and a -> c: {a, c} is connected but not convex."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32)
    t = [sg.add_tensor(f"t{i}", (1, 4), np.float32) for i in range(3)]
    sg.add_operator("ADD", [x, x], [t[0]])
    sg.add_operator("TANH", [t[0]], [t[1]])
    sg.add_operator("ADD", [t[0], t[1]], [t[2]])
    sg.inputs, sg.outputs = [x], [t[2]]
    groups = partition_nodes(sg.operators, {0, 2})
    assert groups == [[0], [2]]
    preds, succs = node_edges(sg.operators)
    assert not is_convex({0, 2}, preds, succs) and is_convex({0, 1, 2}, preds, succs)
    it = edgelite.Interpreter(model_content=Model(subgraphs=[sg]).to_bytes(), experimental_delegates=[NumpyDelegate()])
    it.allocate_tensors()
    xv = np.array([[1, -2, 3, 0.5]], np.float32)
    it.set_tensor(0, xv)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]), 2 * xv + np.tanh(2 * xv), rtol=1e-6)


def test_siblings_merge_through_a_common_consumer_and_reorder():
    """Two branches joined by a supported node form one partition; the unsupported node reading
    the first branch runs after the DELEGATE node (topological order is restored)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32)
    a, b, c, d = (sg.add_tensor(n, (1, 4), np.float32) for n in "abcd")
    sg.add_operator("ADD", [x, x], [a])       # 0 supported
    sg.add_operator("TANH", [a], [d])         # 1 unsupported, reads a (an output of the partition)
    sg.add_operator("MUL", [x, x], [b])       # 2 supported
    sg.add_operator("SUB", [a, b], [c])       # 3 supported: joins 0 and 2
    sg.inputs, sg.outputs = [x], [c, d]
    it = edgelite.Interpreter(model_content=Model(subgraphs=[sg]).to_bytes(), experimental_delegates=[NumpyDelegate()])
    assert [p["nodes"] for p in it._delegation.summary()] == [[0, 2, 3]]
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE", "TANH"]
    it.allocate_tensors()
    xv = np.array([[1, -2, 3, 0.5]], np.float32)
    it.set_tensor(0, xv)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(c), 2 * xv - xv * xv, rtol=1e-6)
    np.testing.assert_allclose(it.get_tensor(d), np.tanh(2 * xv), rtol=1e-6)


def test_internal_tensors_are_unreadable_and_io_indices_kept():
    ops = ["ADD", "MUL", "SUB"]
    plain = edgelite.Interpreter(model_content=chain_model(ops).to_bytes())
    it = edgelite.Interpreter(model_content=chain_model(ops).to_bytes(), experimental_delegates=[NumpyDelegate()],
                              experimental_preserve_all_tensors=True)
    assert it.get_input_details()[0]["index"] == plain.get_input_details()[0]["index"]
    assert it.get_output_details()[0]["index"] == plain.get_output_details()[0]["index"]
    assert len(it.get_tensor_details()) == len(plain.get_tensor_details())
    it.allocate_tensors()
    it.set_tensor(0, np.ones((1, 4), np.float32))
    it.invoke()
    with pytest.raises(ValueError, match="null"):
        it.get_tensor(1)  # y0: inside the partition


def test_resize_after_delegation_and_signatures():
    ops = ["ADD", "TANH", "MUL"]
    d = NumpyDelegate()
    it = edgelite.Interpreter(model_content=chain_model(ops).to_bytes(), experimental_delegates=[d])
    idx = it.get_input_details()[0]["index"]
    for batch in (3, 1, 5):
        it.resize_tensor_input(idx, [batch, 4])
        it.allocate_tensors()
        x = np.random.default_rng(batch).standard_normal((batch, 4)).astype(np.float32)
        it.set_tensor(idx, x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]), reference(ops, x), rtol=1e-6)
    runner = it.get_signature_runner("serve")
    x = np.full((2, 4), 0.3, np.float32)
    np.testing.assert_allclose(runner(x=x)["y"], reference(ops, x), rtol=1e-6)


def _if_model():
    """main: IF(cond) with branches that ADD; the branches are control-flow bodies."""
    def branch(name, opcode):
        sg = Subgraph(name=name)
        a = sg.add_tensor("a", (1, 4), np.float32)
        b = sg.add_tensor("b", (1, 4), np.float32)
        c = sg.add_tensor("c", (1, 4), np.float32)
        sg.add_operator(opcode, [a, a], [b])
        sg.add_operator("ADD", [b, b], [c])
        sg.inputs, sg.outputs = [a], [c]
        return sg
    main = Subgraph(name="main")
    cond = main.add_tensor("cond", (), np.bool_)
    x = main.add_tensor("x", (1, 4), np.float32)
    y = main.add_tensor("y", (1, 4), np.float32)
    z = main.add_tensor("z", (1, 4), np.float32)
    main.add_operator("IF", [cond, x], [y], {"then_subgraph_index": 1, "else_subgraph_index": 2})
    main.add_operator("ADD", [y, y], [z])
    main.inputs, main.outputs = [cond, x], [z]
    return Model(subgraphs=[main, branch("then", "MUL"), branch("else", "SUB")])


def test_control_flow_bodies_stay_on_edgelite():
    d = NumpyDelegate()
    it = edgelite.Interpreter(model_content=_if_model().to_bytes(), experimental_delegates=[d])
    assert [(p["subgraph"], p["nodes"]) for p in it._delegation.summary()] == [(0, [1])]
    it.allocate_tensors()
    x = np.array([[1, 2, -3, 0.5]], np.float32)
    it.set_tensor(0, np.array(True))
    it.set_tensor(1, x)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(3), 4 * x * x, rtol=1e-6)
    assert d.calls == 1


@register("DelegTestOp", kind="any")
class _DoubleIt(Kernel):
    def prepare(self, inputs, outputs):
        return [inputs[0].shape]

    def eval(self, inputs, outputs):
        np.multiply(inputs[0], 2, out=outputs[0])


def test_custom_op_in_the_middle_gives_two_partitions():
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32)
    t = [sg.add_tensor(f"t{i}", (1, 4), np.float32) for i in range(5)]
    sg.add_operator("ADD", [x, x], [t[0]])
    sg.add_operator("MUL", [t[0], t[0]], [t[1]])
    sg.add_operator("CUSTOM", [t[1]], [t[2]], custom_code="DelegTestOp")
    sg.add_operator("SUB", [t[2], t[0]], [t[3]])
    sg.add_operator("RELU", [t[3]], [t[4]])
    sg.inputs, sg.outputs = [x], [t[4]]
    d = NumpyDelegate()
    it = edgelite.Interpreter(model_content=Model(subgraphs=[sg]).to_bytes(), experimental_delegates=[d])
    assert [p["nodes"] for p in it._delegation.summary()] == [[0, 1], [3, 4]]
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE", "DelegTestOp", "DELEGATE"]
    it.allocate_tensors()
    xv = np.array([[1, -2, 0.5, 3]], np.float32)
    it.set_tensor(0, xv)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(t[4]), np.maximum(2 * (2 * xv) ** 2 - 2 * xv, 0), rtol=1e-6)
    assert d.calls == 2


def test_profiler_sees_partitions_as_single_nodes():
    it = edgelite.Interpreter(model_content=chain_model(["ADD", "TANH", "MUL"]).to_bytes(),
                              experimental_delegates=[NumpyDelegate()])
    it.allocate_tensors()
    records = []
    it.set_profiler(records.append)
    it.invoke()
    assert [r.op_name for r in records] == ["DELEGATE", "TANH", "DELEGATE"]


def test_load_delegate_errors_and_objects():
    d = NumpyDelegate()
    assert load_delegate(d) is d
    assert isinstance(load_delegate(NumpyDelegate, {"min_partition_size": 2}), NumpyDelegate)
    with pytest.raises(DelegateError, match="unknown delegate"):
        load_delegate("nope")
    with pytest.raises(DelegateError, match="native libraries"):
        load_delegate("libedgetpu.so.1")
    with pytest.raises(DelegateError, match="Delegate objects"):
        edgelite.Interpreter(model_content=chain_model(["ADD"]).to_bytes(), experimental_delegates=[object()])
    assert edgelite.load_delegate is load_delegate


def test_without_delegates_the_graph_is_untouched():
    it = edgelite.Interpreter(model_content=chain_model(["ADD", "TANH"]).to_bytes())
    assert it._delegation is None
    assert [o["op_name"] for o in it._get_ops_details()] == ["ADD", "TANH"]


def test_two_delegates_first_one_first():
    ops = ["ADD", "MUL", "SUB", "RELU", "ADD"]
    first, second = NumpyDelegate(ops=("ADD", "MUL")), NumpyDelegate(ops=("SUB", "RELU", "ADD"))
    first.name, second.name = "first", "second"
    it = edgelite.Interpreter(model_content=chain_model(ops).to_bytes(), experimental_delegates=[first, second])
    assert [(p["delegate"], p["nodes"]) for p in it._delegation.summary()] == [
        ("first", [0, 1]), ("first", [4]), ("second", [2, 3])]
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE", "DELEGATE", "DELEGATE"]
    it.allocate_tensors()
    x = np.array([[0.5, -1.0, 0.25, 2.0]], np.float32)
    it.set_tensor(0, x)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]), reference(ops, x), rtol=1e-6)
    assert (first.calls, second.calls) == (2, 1)
