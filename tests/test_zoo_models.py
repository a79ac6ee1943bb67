"""Every zoo model on edgelite.Interpreter matches LiteRT's recorded outputs.

Floats within 1e-5 * max(1, max|ref|); integers exactly equal.
"""
import numpy as np
import pytest

from conftest import (MANIFEST, ZOO_KEYS, assert_matches, run_with_inputs, zoo_data, zoo_inputs, zoo_path,
                      zoo_refs)


def run_plain(key):
    from edgelite import Interpreter
    return run_with_inputs(Interpreter(model_path=str(zoo_path(key))), zoo_inputs(key))


# Models that truly cannot match, with the reason. Tolerances are never widened instead.
KNOWN_MISMATCHES: dict[str, str] = {}


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.xfail(reason=KNOWN_MISMATCHES[k]))
                                 if k in KNOWN_MISMATCHES else k for k in ZOO_KEYS])
def test_zoo_model_matches_litert(key):
    if key == "signatures_f32":
        from edgelite import Interpreter
        z = zoo_data(key)
        it = Interpreter(model_path=str(zoo_path(key)))
        train = it.get_signature_runner("train")
        losses = np.array([np.asarray(train(x=z["x"], y=z["y"])["loss"]) for _ in range(5)], np.float32)
        assert_matches(losses.reshape(z["losses"].shape), z["losses"], "train losses")
        logits = it.get_signature_runner("infer")(x=z["x"])["logits"]
        assert_matches(logits, z["logits_after"], "infer logits after training")
        return
    outs = run_plain(key)
    refs = zoo_refs(key)
    assert len(outs) == len(refs)
    for j, (o, r) in enumerate(zip(outs, refs)):
        assert_matches(o, r, f"{key} output {j}")


def _mlp_numpy(it, x):
    """The MLP recomputed in numpy from the model's own weights (a chain of FULLY_CONNECTED/TANH/SOFTMAX)."""
    sg = it.model.main
    h = x.astype(np.float64)
    for op in sg.operators:
        if op.opcode == "FULLY_CONNECTED":
            w = sg.tensors[op.inputs[1]].data.astype(np.float64)
            b = sg.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            h = h @ w.T + (0 if b is None else b)
            if op.options.get("fused_activation_function") == 1:
                h = np.maximum(h, 0)
        elif op.opcode == "TANH":
            h = np.tanh(h)
        elif op.opcode == "SOFTMAX":
            e = np.exp(h - h.max(-1, keepdims=True))
            h = e / e.sum(-1, keepdims=True)
        else:
            raise AssertionError(f"unexpected op {op.opcode} in mlp_dynamic")
    return h.astype(np.float32)


@pytest.mark.skipif("mlp_dynamic_f32" not in MANIFEST, reason="zoo not available")
@pytest.mark.parametrize("batch", [1, 4, 17])
def test_mlp_dynamic_batches(batch):
    from edgelite import Interpreter
    key = "mlp_dynamic_f32"
    it = Interpreter(model_path=str(zoo_path(key)))
    x = np.random.default_rng(batch).standard_normal((batch, 20)).astype(np.float32)
    i = it.get_input_details()[0]["index"]
    it.resize_tensor_input(i, [batch, 20])
    it.allocate_tensors()
    it.set_tensor(i, x)
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])
    assert out.shape == (batch, 5)
    try:
        lite = pytest.importorskip("ai_edge_litert.interpreter")
    except pytest.skip.Exception:
        lite = None
    if lite is not None:
        ref_it = lite.Interpreter(model_path=str(zoo_path(key)), experimental_op_resolver_type=
                                  lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        ref_it.resize_tensor_input(i, [batch, 20])
        ref_it.allocate_tensors()
        ref_it.set_tensor(i, x)
        ref_it.invoke()
        ref = ref_it.get_tensor(ref_it.get_output_details()[0]["index"])
    else:
        ref = _mlp_numpy(it, x)
    assert_matches(out, ref, f"batch {batch}")
    assert_matches(out, _mlp_numpy(it, x), f"batch {batch} vs numpy")


@pytest.mark.skipif("mlp_dynamic_f32" not in MANIFEST, reason="zoo not available")
def test_mlp_dynamic_switching_batches_reuses_prepared_kernels():
    from edgelite import Interpreter
    it = Interpreter(model_path=str(zoo_path("mlp_dynamic_f32")))
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    results = {}
    for batch in (1, 4, 17, 4, 1):
        x = np.arange(batch * 20, dtype=np.float32).reshape(batch, 20) / 100
        it.resize_tensor_input(i, [batch, 20])
        it.allocate_tensors()
        it.set_tensor(i, x)
        it.invoke()
        y = it.get_tensor(o)
        if batch in results:
            np.testing.assert_array_equal(y, results[batch])
        results[batch] = y
    # row 0 of every batch is the same input, so the same output
    np.testing.assert_allclose(results[17][:1], results[1], rtol=1e-6)
