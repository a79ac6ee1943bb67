"""The ONNX Runtime delegate's speed choices, checked for what they promise (not for speed):

* the ``allow_spinning`` policy: off by default; "auto" spins only when it is the one parallel layer
  active (its partition is the whole subgraph, more than one thread), and then stops
  spinning when a run returns; options force either way;
* ``Partition.covers_subgraph`` says whether a partition is all its subgraph runs;
* the int8 spatial MEAN as QLinearGlobalAveragePool (``contrib_ops``): one node, within one
  quantization step of LiteRT's integer result (edgelite's, bit-exact with it) everywhere;
  ``exact_int8_mean=True`` keeps LiteRT's exact arithmetic.
"""
import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import edgelite  # noqa: E402
from edgelite.export_onnx import export_onnx, infer_static, lower_subgraph  # noqa: E402
from edgelite.ir import Model, Quantization, Subgraph  # noqa: E402
from edgelite.kernels.base import Kernel, register  # noqa: E402

SPIN = "session.intra_op.allow_spinning"
STOP = "session.force_spinning_stop"


def _chain(with_custom: bool) -> Model:
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4), np.float32)
    t = [sg.add_tensor(f"t{i}", (1, 4), np.float32) for i in range(4)]
    sg.add_operator("ADD", [x, x], [t[0]])
    if with_custom:
        sg.add_operator("CUSTOM", [t[0]], [t[1]], custom_code="SpinTestDouble")
    else:
        sg.add_operator("MUL", [t[0], t[0]], [t[1]])
    sg.add_operator("SUB", [t[1], t[0]], [t[2]])
    sg.add_operator("RELU", [t[2]], [t[3]])
    sg.inputs, sg.outputs = [x], [t[3]]
    return Model(subgraphs=[sg])


@register("SpinTestDouble")
class _Double(Kernel):
    def prepare(self, inputs, outputs):
        return [inputs[0].shape]

    def eval(self, inputs, outputs):
        np.multiply(inputs[0], 2, out=outputs[0])


def _entries(options, threads: int, covers: bool) -> tuple:
    so = edgelite.load_delegate("onnxruntime", options).session_options(threads, covers)
    try:
        stop = so.get_session_config_entry(STOP)
    except Exception:  # not set (ORT raises for a missing key)
        stop = None
    return so.get_session_config_entry(SPIN), stop


def test_spinning_policy():
    assert _entries({}, 2, True) == ("0", None)       # default: off, even where ORT is the one parallel layer
    auto = {"allow_spinning": "auto"}
    assert _entries(auto, 2, True) == ("1", "1")      # auto: the one parallel layer -> spin, stop after a run
    assert _entries(auto, 2, False) == ("0", None)    # edgelite kernels run between partitions -> sleep
    assert _entries(auto, 1, True) == ("0", None)     # one thread: no pool to wake
    assert _entries({"allow_spinning": "auto", "intra_op_num_threads": 4}, 1, True) == ("1", "1")
    assert _entries({"allow_spinning": False}, 2, True) == ("0", None)
    assert _entries({"allow_spinning": "on"}, 2, False) == ("1", "1")
    assert _entries({"session_config": {STOP: "0"}, "allow_spinning": True}, 2, True) == ("1", "0")
    so = edgelite.load_delegate("onnxruntime", {"spin_duration_us": "100", "allow_spinning": True}).session_options(2, True)
    assert so.get_session_config_entry("session.intra_op.spin_duration_us") == "100"
    from edgelite.delegates import DelegateError
    with pytest.raises(DelegateError, match="spin_duration_us"):
        edgelite.load_delegate("onnxruntime", {"spin_duration_us": -1})


def test_covers_subgraph_and_the_sessions_built_with_it():
    whole = edgelite.Interpreter(model_content=_chain(False).to_bytes(), num_threads=2,
                                 experimental_delegates=[edgelite.load_delegate("onnxruntime")])
    assert [p.covers_subgraph for p in whole._delegation.partitions] == [True]
    split = edgelite.Interpreter(model_content=_chain(True).to_bytes(), num_threads=2,
                                 experimental_delegates=[edgelite.load_delegate("onnxruntime")])
    assert [o["op_name"] for o in split._get_ops_details()] == ["DELEGATE", "SpinTestDouble", "DELEGATE"]
    assert [p.covers_subgraph for p in split._delegation.partitions] == [False, False]
    x = np.array([[1, -2, 0.5, 3]], np.float32)
    for it, expected in ((whole, (2 * x) ** 2 - 2 * x), (split, 2 * x)):
        it.allocate_tensors()
        it.set_tensor(0, x)
        it.invoke()
        np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"]),
                                   np.maximum(expected, 0), rtol=1e-6)


def _mean_model(shape, keep: bool, si=0.0213, zi=-7, so=0.00871, zo=3) -> Model:
    sg = Subgraph(name="m")
    x = sg.add_tensor("x", shape, np.int8, quantization=Quantization([si], [zi]))
    a = sg.add_constant("axes", np.array([1, 2], np.int32))
    out_shape = [shape[0], 1, 1, shape[3]] if keep else [shape[0], shape[3]]
    y = sg.add_tensor("y", out_shape, np.int8, quantization=Quantization([so], [zo]))
    sg.add_operator("MEAN", [x, a], [y], {"keep_dims": keep})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


@pytest.mark.parametrize("shape,keep,qparams", [((1, 7, 9, 40), True, (0.0213, -7, 0.00871, 3)),
                                                ((1, 56, 56, 24), False, (0.05, -128, 0.01, -128)),
                                                ((2, 5, 6, 20), False, (0.1, 12, 0.2, -20))])
def test_spatial_int8_mean_as_qlinear_global_average_pool(shape, keep, qparams):
    model = _mean_model(shape, keep, *qparams)
    shapes, values = infer_static(model)
    proto = lower_subgraph(model.main, shapes, values, contrib_ops=True)
    assert [n.op_type for n in proto.graph.node if n.op_type not in ("Cast", "Add", "Sub", "Identity", "Reshape")] \
        == ["QLinearGlobalAveragePool"]
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    it = edgelite.Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    rng = np.random.default_rng(shape[1])
    equal = total = 0
    for _ in range(4):
        xv = rng.integers(-128, 128, shape).astype(np.int8)
        it.set_tensor(0, xv)
        it.invoke()
        ref = it.get_tensor(it.get_output_details()[0]["index"]).astype(np.int32)
        got = sess.run(None, {sess.get_inputs()[0].name: xv})[0].astype(np.int32)
        assert np.abs(got - ref).max() <= 1
        equal += int(np.sum(got == ref))
        total += ref.size
    assert equal / total > 0.5  # one rounding instead of two: most channels agree exactly


def test_exact_int8_mean_option_keeps_litert_arithmetic():
    model = _mean_model((1, 7, 9, 40), True)
    fast, exact = (edgelite.Interpreter(model_content=model.to_bytes(), experimental_delegates=[
        edgelite.load_delegate("onnxruntime", {"exact_int8_mean": flag, "fallback": "raise"})]) for flag in (False, True))
    plain = edgelite.Interpreter(model_content=model.to_bytes())
    xv = np.random.default_rng(3).integers(-128, 128, (1, 7, 9, 40)).astype(np.int8)
    outs = []
    for it in (fast, exact, plain):
        it.allocate_tensors()
        it.set_tensor(0, xv)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]).astype(np.int32))
    np.testing.assert_array_equal(outs[1], outs[2])
    assert np.abs(outs[0] - outs[2]).max() <= 1
    # the standalone export keeps to standard ONNX (no com.microsoft operators) by default
    assert all(n.domain in ("", "ai.onnx") for n in export_onnx(model).graph.node)


def _lstm_model(batch: int, steps: int, time_major: bool, clip: float) -> Model:
    """One float UNIDIRECTIONAL_SEQUENCE_LSTM (4 gates, no peepholes/projection), random weights."""
    rng = np.random.default_rng(batch * 10 + steps)
    n_in, hidden = 5, 6
    sg = Subgraph(name="lstm")
    x = sg.add_tensor("x", (steps, batch, n_in) if time_major else (batch, steps, n_in), np.float32)
    consts = [sg.add_constant(f"w{i}", rng.standard_normal((hidden, n_in)).astype(np.float32)) for i in range(4)]
    consts += [sg.add_constant(f"r{i}", rng.standard_normal((hidden, hidden)).astype(np.float32)) for i in range(4)]
    biases = [sg.add_constant(f"b{i}", rng.standard_normal(hidden).astype(np.float32)) for i in range(4)]
    h = sg.add_tensor("h", (batch, hidden), np.float32, is_variable=True, data=np.zeros((batch, hidden), np.float32))
    c = sg.add_tensor("c", (batch, hidden), np.float32, is_variable=True, data=np.zeros((batch, hidden), np.float32))
    y = sg.add_tensor("y", (steps, batch, hidden) if time_major else (batch, steps, hidden), np.float32)
    inputs = [x, *consts, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    sg.add_operator("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y],
                    {"fused_activation_function": 4, "cell_clip": clip, "proj_clip": 0.0, "time_major": time_major,
                     "asymmetric_quantize_inputs": False, "diagonal_recurrent_tensors": False})
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


@pytest.mark.parametrize("batch,steps,time_major,clip", [(3, 4, False, 0.5), (2, 5, True, 0.0), (1, 1, False, 3.0),
                                                         (1, 6, True, 0.0)])
def test_lstm_lowering_per_step_split_and_concat(batch, steps, time_major, clip):
    """The unrolled LSTM (one Split into steps, one Concat of them, gates reordered for one Sigmoid)
    matches edgelite's kernel for batch- and time-major layouts, and carries its state."""
    model = _lstm_model(batch, steps, time_major, clip)
    d = edgelite.load_delegate("onnxruntime", {"fallback": "raise", "keep_on_edgelite": ""})
    it = edgelite.Interpreter(model_content=model.to_bytes(), experimental_delegates=[d])
    plain = edgelite.Interpreter(model_content=model.to_bytes())
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE"]
    rng = np.random.default_rng(7)
    for interp in (it, plain):
        interp.allocate_tensors()
    for _ in range(2):  # the second invoke continues from the first one's state
        xv = rng.standard_normal(model.main.tensors[0].shape).astype(np.float32) * 2
        outs = []
        for interp in (it, plain):
            interp.set_tensor(0, xv)
            interp.invoke()
            outs.append(interp.get_tensor(interp.get_output_details()[0]["index"]))
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)


def _layer_norm_model(beta_form: bool, leak: bool = False) -> Model:
    """TensorFlow's float layer norm over the last axis (see edgelite/export_onnx/fusions.py);
    ``leak``: an intermediate (the variance) is also a graph output, so the group cannot fuse."""
    rng = np.random.default_rng(5)
    shape, c = (2, 3, 8), 8
    sg = Subgraph(name="ln")
    f = lambda name, s=shape: sg.add_tensor(name, s, np.float32)  # noqa: E731
    x, m, sd, v, ve, r, rg, xg, mg, y = (f(n) if n in ("x", "sd", "rg", "xg", "mg", "y") else f(n, (2, 3, 1))
                                         for n in ("x", "m", "sd", "v", "ve", "r", "rg", "xg", "mg", "y"))
    axes = sg.add_constant("axes", np.array([-1], np.int32))
    eps = sg.add_constant("eps", np.float32(1e-3))
    gamma = sg.add_constant("gamma", rng.standard_normal((1, 1, c)).astype(np.float32))
    sg.add_operator("MEAN", [x, axes], [m], {"keep_dims": True})
    sg.add_operator("SQUARED_DIFFERENCE", [x, m], [sd])
    sg.add_operator("MEAN", [sd, axes], [v], {"keep_dims": True})
    sg.add_operator("ADD", [v, eps], [ve])
    sg.add_operator("RSQRT", [ve], [r])
    sg.add_operator("MUL", [r, gamma], [rg])
    sg.add_operator("MUL", [x, rg], [xg])
    if beta_form:
        beta = sg.add_constant("beta", rng.standard_normal(c).astype(np.float32))
        bm = f("bm")
        sg.add_operator("MUL", [m, rg], [mg])
        sg.add_operator("SUB", [beta, mg], [bm])
        sg.add_operator("ADD", [xg, bm], [y])
    else:
        nm = f("nm", (2, 3, 1))
        sg.add_operator("NEG", [m], [nm])
        sg.add_operator("MUL", [nm, rg], [mg])
        sg.add_operator("ADD", [xg, mg], [y])
    sg.inputs, sg.outputs = [x], [y, v] if leak else [y]
    return Model(subgraphs=[sg])


@pytest.mark.parametrize("beta_form,leak", [(False, False), (True, False), (False, True)])
def test_layer_norm_pattern_becomes_one_node(beta_form, leak):
    model = _layer_norm_model(beta_form, leak)
    proto = export_onnx(model)
    ops = [n.op_type for n in proto.graph.node if n.op_type != "Identity"]
    assert (ops == ["LayerNormalization"]) != leak
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    it = edgelite.Interpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    xv = np.random.default_rng(1).standard_normal((2, 3, 8)).astype(np.float32) * 3 + 1
    it.set_tensor(0, xv)
    it.invoke()
    for got, d in zip(sess.run(None, {sess.get_inputs()[0].name: xv}), it.get_output_details()):
        np.testing.assert_allclose(got, it.get_tensor(d["index"]), rtol=1e-5, atol=1e-5)


def test_thread_policy_gives_small_partitions_one_thread():
    from edgelite.delegates.onnxruntime import SMALL_PARTITION_MACS, estimated_macs
    auto = edgelite.load_delegate("onnxruntime")
    assert auto.intra_op_threads(2, SMALL_PARTITION_MACS - 1) == 1
    assert auto.intra_op_threads(2, SMALL_PARTITION_MACS) == 2
    assert auto.intra_op_threads(2, None) == 2 and auto.intra_op_threads(None, None) == 1
    assert edgelite.load_delegate("onnxruntime", {"intra_op_num_threads": 2}).intra_op_threads(1, 10) == 2
    so = auto.session_options(2, True, 1000)  # one thread: nothing to spin
    assert so.intra_op_num_threads == 1 and so.get_session_config_entry(SPIN) == "0"
    from edgelite.delegates import DelegateError
    with pytest.raises(DelegateError, match="intra_op_num_threads"):
        edgelite.load_delegate("onnxruntime", {"intra_op_num_threads": 0})
    # a 3x3 convolution, 8 -> 16 channels on 10x10 (SAME): 10*10*16 outputs of 3*3*8 MACs each
    sg = Subgraph(name="c")
    x = sg.add_tensor("x", (1, 10, 10, 8), np.float32)
    w = sg.add_constant("w", np.zeros((16, 3, 3, 8), np.float32))
    y = sg.add_tensor("y", (1, 10, 10, 16), np.float32)
    sg.add_operator("CONV_2D", [x, w, -1], [y], {"padding": 0, "stride_w": 1, "stride_h": 1})
    assert estimated_macs(sg, {x: (1, 10, 10, 8), w: (16, 3, 3, 8), y: (1, 10, 10, 16)}) == 10 * 10 * 16 * 72
