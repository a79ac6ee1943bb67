"""Small hand-made hostile models, built with the IR, for the reliability tests.

Each returns ``bytes`` of a .tflite file (what a user would download), a few hundred bytes.
"""
from __future__ import annotations

import numpy as np

from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType


def huge_tensor_model(shape=(100_000, 1_000_000)) -> bytes:
    """y = x + x with x declared as float32[shape] (400 GB for the default shape)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", shape, TensorType.FLOAT32)
    y = sg.add_tensor("big_sum", shape, TensorType.FLOAT32)
    sg.add_operator("ADD", [x, x], [y])
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


def fill_model() -> bytes:
    """y = FILL(dims, 1.0) with dims an int32[2] input: the output size is known only at invoke."""
    sg = Subgraph(name="main")
    dims = sg.add_tensor("dims", (2,), TensorType.INT32)
    one = sg.add_constant("one", np.array(1.0, np.float32))
    y = sg.add_tensor("filled", (-1, -1), TensorType.FLOAT32)
    sg.add_operator("FILL", [dims, one], [y])
    sg.inputs, sg.outputs = [dims], [y]
    return Model(subgraphs=[sg]).to_bytes()


def float16_weights_model(n: int) -> bytes:
    """y = x * DEQUANTIZE(w16): float16 constant weights of n elements widened at allocate."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (n,), TensorType.FLOAT32)
    w16 = sg.add_constant("w16", np.full(n, 0.5, np.float16))
    w = sg.add_tensor("w", (n,), TensorType.FLOAT32)
    sg.add_operator("DEQUANTIZE", [w16], [w])
    y = sg.add_tensor("y", (n,), TensorType.FLOAT32)
    sg.add_operator("MUL", [x, w], [y])
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


def counting_loop_model(always_true: bool = False) -> bytes:
    """i = 0; while i < n (or forever): i += 1; returns i. Inputs: n (int32 scalar)."""
    main = Subgraph(name="main")
    n = main.add_tensor("n", (), TensorType.INT32)
    zero = main.add_constant("zero", np.array(0, np.int32))
    i_out = main.add_tensor("i_out", (), TensorType.INT32)
    n_out = main.add_tensor("n_out", (), TensorType.INT32)
    main.add_operator("WHILE", [zero, n], [i_out, n_out], {"cond_subgraph_index": 1, "body_subgraph_index": 2})
    main.inputs, main.outputs = [n], [i_out]

    cond = Subgraph(name="cond")
    ci, cn = cond.add_tensor("i", (), TensorType.INT32), cond.add_tensor("n", (), TensorType.INT32)
    c = cond.add_tensor("c", (), TensorType.BOOL)
    if always_true:
        cond.add_operator("GREATER_EQUAL", [ci, ci], [c])  # i >= i: never false
    else:
        cond.add_operator("LESS", [ci, cn], [c])
    cond.inputs, cond.outputs = [ci, cn], [c]

    body = Subgraph(name="body")
    bi, bn = body.add_tensor("i", (), TensorType.INT32), body.add_tensor("n", (), TensorType.INT32)
    one = body.add_constant("one", np.array(1, np.int32))
    bi2 = body.add_tensor("i2", (), TensorType.INT32)
    body.add_operator("ADD", [bi, one], [bi2])
    body.inputs, body.outputs = [bi, bn], [bi2, bn]
    return Model(subgraphs=[main, cond, body]).to_bytes()


def self_calling_while_model() -> bytes:
    """A WHILE in subgraph 0 whose body is subgraph 0 itself."""
    main = Subgraph(name="main")
    x = main.add_tensor("x", (), TensorType.INT32)
    y = main.add_tensor("y", (), TensorType.INT32)
    main.add_operator("WHILE", [x], [y], {"cond_subgraph_index": 1, "body_subgraph_index": 0})
    main.inputs, main.outputs = [x], [y]
    cond = Subgraph(name="cond")
    ci = cond.add_tensor("i", (), TensorType.INT32)
    c = cond.add_tensor("c", (), TensorType.BOOL)
    cond.add_operator("GREATER_EQUAL", [ci, ci], [c])
    cond.inputs, cond.outputs = [ci], [c]
    return Model(subgraphs=[main, cond]).to_bytes()


def mutual_call_model() -> bytes:
    """Subgraph 1 CALLs subgraph 2, which CALLs subgraph 1; subgraph 0 CALLs 1."""
    subgraphs = []
    for index, callee in ((0, 1), (1, 2), (2, 1)):
        sg = Subgraph(name=f"sg{index}")
        x = sg.add_tensor("x", (2,), TensorType.FLOAT32)
        y = sg.add_tensor("y", (2,), TensorType.FLOAT32)
        sg.add_operator("CALL", [x], [y], {"subgraph": callee})
        sg.inputs, sg.outputs = [x], [y]
        subgraphs.append(sg)
    return Model(subgraphs=subgraphs).to_bytes()


def if_wrong_arity_model() -> bytes:
    """IF whose else branch takes two inputs where the op passes one."""
    main = Subgraph(name="main")
    c = main.add_tensor("c", (), TensorType.BOOL)
    x = main.add_tensor("x", (2,), TensorType.FLOAT32)
    y = main.add_tensor("y", (2,), TensorType.FLOAT32)
    main.add_operator("IF", [c, x], [y], {"then_subgraph_index": 1, "else_subgraph_index": 2})
    main.inputs, main.outputs = [c, x], [y]
    then = Subgraph(name="then")
    a = then.add_tensor("a", (2,), TensorType.FLOAT32)
    then.inputs, then.outputs = [a], [a]
    other = Subgraph(name="else")
    a, b = other.add_tensor("a", (2,), TensorType.FLOAT32), other.add_tensor("b", (2,), TensorType.FLOAT32)
    other.inputs, other.outputs = [a, b], [a]
    return Model(subgraphs=[main, then, other]).to_bytes()


def mlp_model(seed: int = 0, width: int = 16) -> bytes:
    """A small float MLP (FULLY_CONNECTED, RELU, FULLY_CONNECTED, SOFTMAX)."""
    rng = np.random.default_rng(seed)
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, width), TensorType.FLOAT32)
    w1 = sg.add_constant("w1", rng.standard_normal((width, width)).astype(np.float32))
    b1 = sg.add_constant("b1", rng.standard_normal(width).astype(np.float32))
    h = sg.add_tensor("h", (1, width), TensorType.FLOAT32)
    sg.add_operator("FULLY_CONNECTED", [x, w1, b1], [h], {"fused_activation_function": 1})  # RELU
    w2 = sg.add_constant("w2", rng.standard_normal((4, width)).astype(np.float32))
    b2 = sg.add_constant("b2", rng.standard_normal(4).astype(np.float32))
    logits = sg.add_tensor("logits", (1, 4), TensorType.FLOAT32)
    sg.add_operator("FULLY_CONNECTED", [h, w2, b2], [logits])
    y = sg.add_tensor("y", (1, 4), TensorType.FLOAT32)
    sg.add_operator("SOFTMAX", [logits], [y], {"beta": 1.0})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


def int_cast_model() -> bytes:
    """y = x + 1 on int32 (to probe set_tensor with int64 values)."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (3,), TensorType.INT32)
    one = sg.add_constant("one", np.array([1], np.int32))
    y = sg.add_tensor("y", (3,), TensorType.INT32)
    sg.add_operator("ADD", [x, one], [y])
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg]).to_bytes()


__all__ = ["huge_tensor_model", "fill_model", "float16_weights_model", "counting_loop_model",
           "self_calling_while_model", "mutual_call_model", "if_wrong_arity_model", "mlp_model",
           "int_cast_model"]
