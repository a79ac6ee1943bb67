"""DEQUANTIZE of constant float16 weights filled at the first invoke (as LiteRT's first Eval).

The fold is lazy only when every kernel reading the weights declares
``prepare_reads_constants = False``: those kernels still see the weights as
constants in prepare (``TensorSpec.data`` is the reserved array) and read the
values only when they run, after the interpreter has written them.
"""
import numpy as np
import pytest

from edgelite import Interpreter

from conftest import MANIFEST, zoo_inputs, zoo_path, zoo_refs

KEY = "mobilenet_v2_f16"


def _consumer_classes(it):
    ex = it._runtime.executor(0)
    deq = {t for op in ex.subgraph.operators if op.opcode == "DEQUANTIZE" for t in op.outputs}
    return {ex.kernel_classes[j] for j, op in enumerate(ex.subgraph.operators)
            if any(t in deq for t in op.inputs)}


@pytest.fixture
def lazy_consumers(monkeypatch):
    """Declare the zoo f16 model's weight readers lazy-safe for the duration of a test."""
    if KEY not in MANIFEST:
        pytest.skip("zoo model missing")
    probe = Interpreter(model_path=str(zoo_path(KEY)))
    classes = _consumer_classes(probe)
    for cls in classes:
        monkeypatch.setattr(cls, "prepare_reads_constants", False)
    return classes


def _run(it):
    it.set_tensor(it.get_input_details()[0]["index"], zoo_inputs(KEY)[0])
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_lazy_by_default():
    """conv / depthwise / FC declare lazy-safe prepares, so float16 weights are dequantized at
    the first invoke (as LiteRT does), not in allocate_tensors."""
    if KEY not in MANIFEST:
        pytest.skip("zoo model missing")
    it = Interpreter(model_path=str(zoo_path(KEY)))
    assert all(not cls.prepare_reads_constants for cls in _consumer_classes(it))
    it.allocate_tensors()
    ex = it._runtime.executor(0)
    assert len(ex._pending_folds) == sum(op.opcode == "DEQUANTIZE" for op in ex.subgraph.operators)
    _run(it)
    assert not ex._pending_folds


def test_lazy_fold_fills_before_first_invoke(lazy_consumers):
    it = Interpreter(model_path=str(zoo_path(KEY)))
    it.allocate_tensors()
    ex = it._runtime.executor(0)
    pending = dict(ex._pending_folds)
    assert len(pending) == sum(op.opcode == "DEQUANTIZE" for op in ex.subgraph.operators)
    # consumers were prepared with the weights as constants
    weights = {t for n in pending for t in ex.nodes[n].op.outputs}
    for t in weights:
        assert ex._specs[t].data is not None and t in ex._consts
    out = _run(it)
    assert not ex._pending_folds
    ref = zoo_refs(KEY)[0]
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5 * max(1.0, float(np.abs(ref).max())))
    eager = Interpreter(model_path=str(zoo_path(KEY)))
    eager._runtime.executor(0)._consumers_keep_views = lambda tensors: False
    eager.allocate_tensors()
    np.testing.assert_array_equal(out, _run(eager))
    for t in weights:  # the filled weights equal the float16 values, read-only
        op = next(op for op in ex.subgraph.operators if t in op.outputs)
        src = ex.subgraph.tensors[op.inputs[0]].data
        np.testing.assert_array_equal(ex.buffers[t], src.astype(np.float32))
        assert not ex.buffers[t].flags.writeable
    again = _run(it)  # later invokes do not fill again
    np.testing.assert_array_equal(again, out)


def test_get_tensor_of_a_pending_constant_fills_it(lazy_consumers):
    it = Interpreter(model_path=str(zoo_path(KEY)))
    it.allocate_tensors()
    ex = it._runtime.executor(0)
    n = min(ex._pending_folds)
    op = ex.nodes[n].op
    value = it.get_tensor(op.outputs[0])
    np.testing.assert_array_equal(value, ex.subgraph.tensors[op.inputs[0]].data.astype(np.float32))
    assert not ex._pending_folds


def test_a_kernel_reading_values_in_prepare_keeps_the_eager_fold(lazy_consumers, monkeypatch):
    """One consumer that reads constants in prepare is enough to fold that weight eagerly."""
    it = Interpreter(model_path=str(zoo_path(KEY)))
    ex = it._runtime.executor(0)
    deq = [n for n, node in enumerate(ex.nodes) if node.op.opcode == "DEQUANTIZE"]
    first = ex.nodes[deq[0]].op.outputs[0]
    reader = next(j for j, node in enumerate(ex.nodes) if first in node.op.inputs)

    class ReadsInPrepare(ex.kernel_classes[reader]):
        prepare_reads_constants = True
        seen = []

        def prepare(self, inputs, outputs):
            ReadsInPrepare.seen.append(float(np.abs(inputs[1].data).sum()))
            return super().prepare(inputs, outputs)

    ex.kernel_classes[reader] = ReadsInPrepare
    it.allocate_tensors()
    eager = [n for n in deq if ex.nodes[n].op.outputs[0] in ex.nodes[reader].op.inputs]
    assert deq[0] in eager and sorted(ex._pending_folds) == [n for n in deq if n not in eager]
    weight = ex.nodes[reader].op.inputs[1]
    producer = next(n for n in deq if ex.nodes[n].op.outputs[0] == weight)
    src = ex.subgraph.tensors[ex.nodes[producer].op.inputs[0]].data
    assert ReadsInPrepare.seen == [float(np.abs(src.astype(np.float32)).sum())]
