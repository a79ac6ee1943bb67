"""Every float32, float16 and int8 zoo model runs with the ONNX Runtime delegate within the
numerics contract of docs/delegates.md:

* float outputs within the zoo's float tolerance of LiteRT's builtin results: 1e-5 of scale, or
  the spread of LiteRT's own XNNPACK results (``xnn_j``) where that is larger;
* int8 results (int8 outputs, or float outputs DEQUANTIZEd from int8) within one quantization
  step of LiteRT's builtin results on at most 1% of the values;
* and the model really ran in ONNX Runtime (no partition fell back to edgelite).
"""
import warnings

import numpy as np
import pytest

from conftest import MANIFEST, run_with_inputs, zoo_data, zoo_inputs, zoo_path, zoo_refs

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import edgelite  # noqa: E402

CONTRACT_VARIANTS = ("f32", "f16", "int8", "int8io")
KEYS = sorted(k for k, v in MANIFEST.items() if v["variant"] in CONTRACT_VARIANTS and k != "signatures_f32")
SLOW: set[str] = set()  # every model takes well under a second
# Outputs that cannot meet the contract, with the reason; they are held to XNNPACK's own spread
# from LiteRT's builtin results instead (the npz's xnn_j), which the issue takes as the bar.
KNOWN = {
    ("ops_image_int8", 5): "int8 RESIZE_BILINEAR (half-pixel): LiteRT's builtin kernel interpolates with 10-bit "
                           "fixed-point weights; ONNX Runtime (like XNNPACK: 6.2% there too) in float: up to 3 "
                           "steps on 6.1% of the values",
    ("ops_image_int8", 6): "int8 RESIZE_BILINEAR (align_corners): 10-bit fixed-point weights in LiteRT's builtin "
                           "kernel; ONNX Runtime (like XNNPACK: 2.5%) differs by up to 3 steps on 2.6%",
    ("tiny_bert_int8", 0): "2 steps on 1 of the 2 output values, as XNNPACK's (2 steps, 50%): int8 "
                           "FULLY_CONNECTED/BATCH_MATMUL requantize in float in ONNX Runtime (one step off "
                           "LiteRT's fixed point at times), and the layer norms amplify it",
}


def _params():
    out = []
    for k in KEYS:
        marks = [pytest.mark.slow] if k in SLOW else []
        out.append(pytest.param(k, marks=marks))
    return out


def output_steps(model, j):
    """The quantization step of output ``j`` (int8 output, or a DEQUANTIZE of an int8 tensor), else None."""
    sg = model.main
    t = sg.outputs[j]
    tensor = sg.tensors[t]
    if tensor.quantization is not None and tensor.quantization.scale.size == 1 and tensor.dtype != 0:
        return 1.0
    for op in sg.operators:
        if t in op.outputs and op.opcode == "DEQUANTIZE":
            q = sg.tensors[op.inputs[0]].quantization
            if q is not None and q.scale.size == 1:
                return float(q.scale[0])
    return None


def check_contract(key, outs, model):
    z = zoo_data(key)
    problems = []
    for j, (o, r) in enumerate(zip(outs, zoo_refs(key))):
        assert o.shape == r.shape and o.dtype == r.dtype, f"output {j}: {o.shape}/{o.dtype} vs {r.shape}/{r.dtype}"
        step = output_steps(model, j) if MANIFEST[key]["variant"].startswith("int8") else None
        diff = np.abs(o.astype(np.float64) - r.astype(np.float64))
        if step is not None:
            beyond = float(np.mean(diff > step * 1.0001)) if diff.size else 0.0
            if (key, j) in KNOWN:  # documented: must stay no worse than XNNPACK's own spread
                xdiff = np.abs(z[f"xnn_{j}"].astype(np.float64) - r.astype(np.float64))
                x_beyond = float(np.mean(xdiff > step * 1.0001))
                if diff.max() > xdiff.max() + step * 1.0001 or beyond > x_beyond + 0.005:
                    problems.append(f"output {j}: {100 * beyond:.2f}% beyond one step (max {diff.max() / step:.1f}), "
                                    f"XNNPACK {100 * x_beyond:.2f}% (max {xdiff.max() / step:.1f})")
            elif beyond > 0.01:
                problems.append(f"output {j}: {100 * beyond:.2f}% of values beyond one step ({step:g})")
        elif r.dtype.kind == "f":
            tol = 1e-5 * max(1.0, float(np.abs(r).max())) if r.size else 0.0
            if f"xnn_{j}" in z.files:
                tol = max(tol, float(np.abs(z[f"xnn_{j}"].astype(np.float64) - r).max()))
            if diff.size and diff.max() > tol:
                problems.append(f"output {j}: max|diff| {diff.max():.3g} > {tol:.3g}")
        elif diff.size and diff.max() != 0:
            problems.append(f"output {j}: integers differ by {diff.max()}")
    assert not problems, f"{key}: " + "; ".join(problems)


@pytest.mark.parametrize("key", _params())
def test_zoo_model_with_onnxruntime_delegate(key):
    delegate = edgelite.load_delegate("onnxruntime")
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[delegate], num_threads=1)
    assert it._delegation.partitions, "nothing was delegated"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a partition falling back to edgelite fails
        outs = run_with_inputs(it, zoo_inputs(key))
    assert delegate.fallbacks == []
    check_contract(key, outs, it._delegation.original)


def test_delegated_nodes_and_fallback_accounting():
    """mobilenet_v2_f32 is one partition; the model's hybrid variant keeps its hybrid nodes on edgelite."""
    it = edgelite.Interpreter(model_path=str(zoo_path("mobilenet_v2_f32")),
                              experimental_delegates=[edgelite.load_delegate("onnxruntime")])
    assert [len(p["nodes"]) for p in it._delegation.summary()] == [len(it._delegation.original.main.operators)]
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE"]
    dyn = edgelite.Interpreter(model_path=str(zoo_path("mobilenet_v2_dyn")),
                               experimental_delegates=[edgelite.load_delegate("onnxruntime")])
    kept = [o["op_name"] for o in dyn._get_ops_details() if o["op_name"] != "DELEGATE"]
    assert "CONV_2D" in kept and "DELEGATE" in [o["op_name"] for o in dyn._get_ops_details()]


def test_resize_rebuilds_the_session_and_threads_option():
    key = "mlp_dynamic_f32"
    d = edgelite.load_delegate("onnxruntime", {"intra_op_num_threads": 2, "allow_spinning": False})
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[d])
    plain = edgelite.Interpreter(model_path=str(zoo_path(key)))
    for batch in (1, 7, 3):
        x = np.random.default_rng(batch).standard_normal((batch, 20)).astype(np.float32)
        a, = run_with_inputs(it, [x])
        b, = run_with_inputs(plain, [x])
        assert a.shape == (batch, 5)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    so = d.session_options(1)
    assert so.intra_op_num_threads == 2
    assert so.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert so.get_session_config_entry("session.inter_op.allow_spinning") == "0"


def test_bad_options_raise():
    from edgelite.delegates import DelegateError
    with pytest.raises(DelegateError, match="unknown onnxruntime delegate option"):
        edgelite.load_delegate("onnxruntime", {"threads": 2})
    with pytest.raises(DelegateError, match="graph_optimization_level"):
        edgelite.load_delegate("onnxruntime", {"graph_optimization_level": "max"})


def test_without_a_delegate_edgelite_stays_bit_exact():
    key = "mobilenet_v2_int8"
    outs = run_with_inputs(edgelite.Interpreter(model_path=str(zoo_path(key))), zoo_inputs(key))
    assert np.array_equal(outs[0], zoo_refs(key)[0])


def test_lstm_state_carries_over_invokes_as_on_edgelite():
    """The LSTM's state variables are updated by the delegated partition: three invokes in a row
    (each continuing from the last state) and reset_all_variables agree with edgelite's."""
    key = "lstm_text_f32"
    x = zoo_inputs(key)[0]
    plain = edgelite.Interpreter(model_path=str(zoo_path(key)))
    delegate = edgelite.load_delegate("onnxruntime", {"keep_on_edgelite": ""})  # the LSTMs too
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[delegate])
    assert [o["op_name"] for o in it._get_ops_details()] == ["DELEGATE"]
    for interp in (plain, it):
        interp.allocate_tensors()
    outs = {id(plain): [], id(it): []}
    for step in range(4):
        if step == 3:
            plain.reset_all_variables()
            it.reset_all_variables()
        for interp in (plain, it):
            interp.set_tensor(interp.get_input_details()[0]["index"], x)
            interp.invoke()
            outs[id(interp)].append(interp.get_tensor(interp.get_output_details()[0]["index"]))
    for a, b in zip(outs[id(plain)], outs[id(it)]):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert not np.allclose(outs[id(plain)][0], outs[id(plain)][1])  # the state did change the result
    np.testing.assert_allclose(outs[id(it)][3], outs[id(it)][0], rtol=1e-5, atol=1e-6)


def test_lstm_stays_on_edgelite_by_default():
    """UNIDIRECTIONAL_SEQUENCE_LSTM lowers to ONNX, but edgelite's kernel is faster than its
    unrolled form in ORT: by default the LSTMs stay on edgelite, the rest is delegated, and the
    output is edgelite's own; ``keep_on_edgelite`` names other ops to keep."""
    key = "lstm_text_f32"
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[edgelite.load_delegate("onnxruntime")])
    assert [o["op_name"] for o in it._get_ops_details()] == \
        ["DELEGATE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "DELEGATE"]
    plain = edgelite.Interpreter(model_path=str(zoo_path(key)))
    outs = [run_with_inputs(i, zoo_inputs(key)) for i in (plain, it)]
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-6, atol=1e-7)
    kept = edgelite.load_delegate("onnxruntime", {"keep_on_edgelite": "gather,UNIDIRECTIONAL_SEQUENCE_LSTM"})
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[kept])
    assert [o["op_name"] for o in it._get_ops_details()] == \
        ["GATHER", "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "DELEGATE"]
    with pytest.raises(edgelite.delegates.DelegateError, match="keep_on_edgelite"):
        edgelite.load_delegate("onnxruntime", {"keep_on_edgelite": 3})


def test_signatures_and_resource_variables_with_the_delegate():
    """signatures_f32: train 5 steps then infer, through signature runners; the math is delegated,
    the resource-variable ops stay on edgelite."""
    key = "signatures_f32"
    z = zoo_data(key)
    delegate = edgelite.load_delegate("onnxruntime")
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[delegate])
    assert {p["subgraph"] for p in it._delegation.summary()} == {0, 1}
    train = it.get_signature_runner("train")
    losses = np.array([np.asarray(train(x=z["x"], y=z["y"])["loss"]) for _ in range(5)], np.float32)
    np.testing.assert_allclose(losses.reshape(z["losses"].shape), z["losses"], rtol=1e-5, atol=1e-6)
    logits = it.get_signature_runner("infer")(x=z["x"])["logits"]
    np.testing.assert_allclose(logits, z["logits_after"], rtol=1e-5, atol=1e-5)
    assert delegate.fallbacks == []


def test_int8_form_follows_the_provider():
    """int8_form="auto": QLinear operators for ORT's CPU and OpenVINO providers, the QDQ form for
    the others (CUDA and TensorRT take QDQ, not QLinearConv); providers may be one string."""
    from edgelite.delegates.onnxruntime import OnnxRuntimeDelegate
    assert OnnxRuntimeDelegate().qlinear
    assert OnnxRuntimeDelegate(providers="OpenVINOExecutionProvider,CPUExecutionProvider").qlinear
    cuda = OnnxRuntimeDelegate(providers="CUDAExecutionProvider,CPUExecutionProvider")
    assert cuda.providers == ["CUDAExecutionProvider", "CPUExecutionProvider"] and not cuda.qlinear
    assert not OnnxRuntimeDelegate(providers=[("TensorrtExecutionProvider", {})]).qlinear
    assert not OnnxRuntimeDelegate(int8_form="qdq").qlinear
    assert OnnxRuntimeDelegate(providers=["CUDAExecutionProvider"], int8_form="QLinear").qlinear
    with pytest.raises(edgelite.delegates.DelegateError, match="int8_form"):
        OnnxRuntimeDelegate(int8_form="int4")


@pytest.mark.parametrize("key", [k for k in KEYS if MANIFEST[k]["variant"].startswith("int8")])
def test_int8_zoo_model_in_qdq_form(key):
    """The QDQ form (what accelerator providers get) keeps the int8 contract too, on the CPU provider."""
    delegate = edgelite.load_delegate("onnxruntime", {"int8_form": "qdq"})
    it = edgelite.Interpreter(model_path=str(zoo_path(key)), experimental_delegates=[delegate], num_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        outs = run_with_inputs(it, zoo_inputs(key))
    assert delegate.fallbacks == []
    kernels = [k.impl for ex in it._runtime.executors if ex is not None
               for cache in ex._kernel_cache for k, _ in cache.values() if hasattr(k, "impl")]
    ops = {n.op_type for k in kernels for n in k.onnx_model.graph.node}
    assert kernels and "QLinearConv" not in ops and "DequantizeLinear" in ops
    check_contract(key, outs, it._delegation.original)
