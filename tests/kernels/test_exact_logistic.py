"""Float LOGISTIC in LiteRT's exact arithmetic (edgelite/kernels/exact_logistic.py).

The function alone against LiteRT's one-op LOGISTIC (SSE packets and the scalar tail), and
a zoo-style model -- a swish gate ``x * LOGISTIC(x)`` feeding a hybrid (int8-weight)
CONV_2D, as in a dynamic-range EfficientNet -- whose every tensor must equal LiteRT's.
"""
import numpy as np
import pytest

import edgelite
from edgelite.ir import Model, Quantization, Subgraph
from edgelite.kernels import lookup
from edgelite.kernels.activations import LogisticKernel
from edgelite.kernels.base import Node
from edgelite.kernels.exact_logistic import EigenLogisticKernel, eigen_logistic, logistic_scalar
from edgelite.kernels.testing import run_op_litert

RNG = np.random.default_rng(2024)


def numpy_logistic(x):
    with np.errstate(over="ignore"):
        return (np.float32(1) / (np.float32(1) + np.exp(-x))).astype(np.float32)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13, 4099, 30001])
def test_eigen_logistic_matches_litert(n):
    pytest.importorskip("ai_edge_litert")
    x = (RNG.standard_normal(n) * 5).astype(np.float32)
    special = np.array([0.0, -0.0, 16.6355324, 16.7, 40.0, -9.5, -87.0, -103.9, -104.5, np.inf, -np.inf],
                       np.float32)
    x[: min(n, special.size)] = special[: min(n, special.size)]
    ref = run_op_litert("LOGISTIC", [x])[0]
    out = np.empty_like(x)
    eigen_logistic(x, out)
    np.testing.assert_array_equal(out, ref)
    if n > 1000:  # numpy's formula is not LiteRT's: the exact kernel is needed
        assert np.mean(numpy_logistic(x) != ref) > 0.1


def test_scalar_tail_is_bounded_like_the_packets():
    out = logistic_scalar(np.array([100.0, 0.0, -200.0], np.float32))
    assert out[0] == 1.0 and out[1] == 0.5 and out[2] == 0.0


def swish_then_hybrid_conv(shape=(1, 9, 9, 8), out_channels=6) -> Model:
    """x -> LOGISTIC -> MUL(x, .) -> hybrid CONV_2D (int8 per-channel weights, float bias)."""
    sg = Subgraph(name="main")
    c = shape[-1]
    x = sg.add_tensor("x", shape, np.float32)
    gate = sg.add_tensor("gate", shape, np.float32)
    swish = sg.add_tensor("swish", shape, np.float32)
    sg.add_operator("LOGISTIC", [x], [gate])
    sg.add_operator("MUL", [x, gate], [swish], {"fused_activation_function": 0})
    w = sg.add_constant("w", RNG.integers(-127, 128, (out_channels, 3, 3, c)).astype(np.int8),
                        quantization=Quantization(scale=RNG.uniform(0.002, 0.02, out_channels).astype(np.float32),
                                                  zero_point=np.zeros(out_channels, np.int64), quantized_dimension=0))
    b = sg.add_constant("b", RNG.standard_normal(out_channels).astype(np.float32))
    y = sg.add_tensor("y", (shape[0], shape[1], shape[2], out_channels), np.float32)
    sg.add_operator("CONV_2D", [swish, w, b], [y],
                    {"padding": 0, "stride_w": 1, "stride_h": 1, "fused_activation_function": 0,
                     "dilation_w_factor": 1, "dilation_h_factor": 1}, version=5)
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


def run_all_tensors(it, x, names):
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return {n: np.array(it.get_tensor(i)) for n, i in names.items()}


@pytest.mark.parametrize("shape", [(1, 9, 9, 8), (2, 7, 5, 3)])  # 648 values (packets only), 210 (tail of 2)
def test_swish_gated_hybrid_conv_matches_litert_bit_for_bit(shape):
    pytest.importorskip("ai_edge_litert")
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    model = swish_then_hybrid_conv(shape)
    names = {t.name: i for i, t in enumerate(model.main.tensors) if t.name in ("gate", "swish", "y")}
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    content = model.to_bytes()
    ref = run_all_tensors(Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                                      experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
                          x, names)
    ours = run_all_tensors(edgelite.Interpreter(model_content=content, experimental_preserve_all_tensors=True),
                           x, names)
    for name in ("gate", "swish", "y"):
        np.testing.assert_array_equal(ours[name], ref[name], err_msg=name)
    assert np.any(numpy_logistic(x) != ref["gate"])  # the plain formula would have differed


def test_exact_kernel_only_where_a_hybrid_op_reads_the_logistic():
    model = swish_then_hybrid_conv()
    assert lookup(Node(op=model.main.operators[0], index=0, subgraph=model.main)) is EigenLogisticKernel
    sg = Subgraph(name="main")  # a pure float LOGISTIC keeps the fast kernel
    a, b = sg.add_tensor("a", (4,), np.float32), sg.add_tensor("b", (4,), np.float32)
    sg.add_operator("LOGISTIC", [a], [b])
    sg.inputs, sg.outputs = [a], [b]
    assert lookup(Node(op=sg.operators[0], index=0, subgraph=sg)) is LogisticKernel
