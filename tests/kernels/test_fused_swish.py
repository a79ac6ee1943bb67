"""int8 swish MUL(x, LOGISTIC(x)) runs as one table (kernels/fused_swish.py): same bytes as LiteRT,
and fused only when nobody else can see the LOGISTIC's output."""
import numpy as np
import pytest

from edgelite import Interpreter
from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels.fused_swish import FusedSwishMul, SkippedLogistic
from edgelite.kernels.testing import run_op
from edgelite.schema import TensorType

I8 = TensorType.INT8


def _q(scale, zp):
    return Quantization(scale=np.array([scale], np.float32), zero_point=np.array([zp], np.int64))


def swish_model(shape, x_q=(0.05, -3), y_q=(0.03, -100), gate_first=False, extra_reader=False,
                activation=0) -> Model:
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", shape, I8, quantization=_q(*x_q))
    s = sg.add_tensor("sigmoid", shape, I8, quantization=_q(1 / 256, -128))
    y = sg.add_tensor("y", shape, I8, quantization=_q(*y_q))
    sg.add_operator("LOGISTIC", [x], [s])
    sg.add_operator("MUL", [s, x] if gate_first else [x, s], [y], {"fused_activation_function": activation})
    sg.inputs, sg.outputs = [x], [y]
    if extra_reader:  # the gate is read twice: it must really be computed
        y2 = sg.add_tensor("y2", shape, I8, quantization=_q(*y_q))
        sg.add_operator("ADD", [s, x], [y2], {"fused_activation_function": 0})
        sg.outputs.append(y2)
    return Model(subgraphs=[sg]).validate()


def _run(model, x, engine="edgelite", **kw):
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter as Lite
        from ai_edge_litert.interpreter import OpResolverType
        it = Lite(model_content=model.to_bytes(),
                  experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        it = Interpreter(model_content=model.to_bytes(), **kw)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _kernels(it) -> list[type]:
    return [type(p.kernel) for p in it._runtime.executor(0)._placed]


CASES = [  # shape, x quantization, y quantization (0.05 * 1/256 / 0.00001 > 1: LiteRT's int16 SIMD lanes)
    ((1, 8, 8, 16), (0.05, -3), (0.03, -100)),
    ((1, 5, 5, 7), (0.05, 10), (0.00001, 0)),
    ((2, 3, 300), (0.2, -128), (0.1, -120)),
]


@pytest.mark.parametrize("shape,x_q,y_q", CASES)
@pytest.mark.parametrize("gate_first", [False, True])
def test_fused_swish_matches_litert(shape, x_q, y_q, gate_first):
    pytest.importorskip("ai_edge_litert")
    model = swish_model(shape, x_q, y_q, gate_first)
    x = np.random.default_rng(0).integers(-128, 128, shape).astype(np.int8)
    it, ours = _run(model, x)
    kinds = _kernels(it)  # the fused MUL, or its compiled twin (kernels/fast: same tables)
    assert kinds[0] is SkippedLogistic and issubclass(kinds[1], FusedSwishMul) and len(kinds) == 2
    _, ref = _run(model, x, "litert")
    np.testing.assert_array_equal(ours[0], ref[0])


def test_fused_activation_is_kept():
    pytest.importorskip("ai_edge_litert")
    model = swish_model((1, 4, 4, 8), activation=1)  # RELU
    x = np.arange(-128, 0, dtype=np.int8).reshape(1, 4, 4, 8)
    it, ours = _run(model, x)
    assert any(issubclass(k, FusedSwishMul) for k in _kernels(it))
    np.testing.assert_array_equal(ours[0], _run(model, x, "litert")[1][0])


def test_not_fused_when_the_gate_has_another_reader():
    pytest.importorskip("ai_edge_litert")
    model = swish_model((1, 4, 4, 8), extra_reader=True)
    x = np.random.default_rng(1).integers(-128, 128, (1, 4, 4, 8)).astype(np.int8)
    it, ours = _run(model, x)
    assert not any(issubclass(k, (FusedSwishMul, SkippedLogistic)) for k in _kernels(it))
    for a, b in zip(ours, _run(model, x, "litert")[1]):
        np.testing.assert_array_equal(a, b)


def test_not_fused_when_all_tensors_are_preserved():
    model = swish_model((1, 4, 4, 8))
    x = np.random.default_rng(2).integers(-128, 128, (1, 4, 4, 8)).astype(np.int8)
    it, ours = _run(model, x, experimental_preserve_all_tensors=True)
    assert not any(issubclass(k, FusedSwishMul) for k in _kernels(it))
    gate = it.get_tensor(1)  # the LOGISTIC output stays readable, and is LOGISTIC's
    expected = run_op("LOGISTIC", [x], input_quant=[_q(0.05, -3)], output_quant=[_q(1 / 256, -128)])[0]
    np.testing.assert_array_equal(gate, expected)
    np.testing.assert_array_equal(ours[0], _run(model, x)[1][0])  # fused or not: the same bytes
