"""Thread safety: one interpreter shared by threads, and separate interpreters in parallel."""
import threading

import numpy as np
import pytest

import edgelite
from conftest import MANIFEST, zoo_inputs, zoo_path

from .hostile_models import mlp_model

STRESS_MODELS = ["audio_conv1d_f32", "lstm_text_f32", "mlp_dynamic_int8", "ops_control_flow_f32",
                 "ops_elementwise_int8", "ops_image_f32", "tiny_bert_f32", "ops_shape_f32"]
THREADS, PER_THREAD, INVOKES = 4, 2, 200


def _run(it, inputs, reset=False):
    if reset:  # stateful models (LSTM state variables): each run from the initial state
        it.reset_all_variables()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def _variants(key, count=4):
    """The zoo inputs and a few perturbed copies (float inputs get noise, others stay)."""
    rng = np.random.default_rng(sum(map(ord, key)))
    base = zoo_inputs(key)
    out = [base]
    for _ in range(count - 1):
        out.append([(x + rng.standard_normal(x.shape).astype(x.dtype) * 0.1) if x.dtype.kind == "f" else x
                    for x in base])
    return out


def _shared_probe(it, x, results, errors, barrier):
    barrier.wait()
    try:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        results.append((x, it.get_tensor(it.get_output_details()[0]["index"])))
    except edgelite.ConcurrentUseError as e:
        errors.append(e)


def test_one_interpreter_three_threads_never_silently_wrong():
    """The issue's probe: each thread set_tensor/invoke/get_tensor on one interpreter. Every
    result that comes back is the right one for its thread; the others raise ConcurrentUseError."""
    data = mlp_model(width=256)
    ref = edgelite.Interpreter(model_content=data)
    ref.allocate_tensors()
    it = edgelite.Interpreter(model_content=data)
    it.allocate_tensors()
    rng = np.random.default_rng(0)
    raised = 0
    for _round in range(30):
        xs = [rng.standard_normal((1, 256)).astype(np.float32) for _ in range(3)]
        results, errors = [], []
        barrier = threading.Barrier(3)
        threads = [threading.Thread(target=_shared_probe, args=(it, x, results, errors, barrier)) for x in xs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) + len(errors) == 3
        raised += len(errors)
        for x, y in results:
            np.testing.assert_array_equal(y, _run(ref, [x])[0])
    assert all("exclusive()" in str(e) for e in errors)


def test_exclusive_sequences_from_threads_are_all_right():
    data = mlp_model(width=64)
    ref = edgelite.Interpreter(model_content=data)
    ref.allocate_tensors()
    it = edgelite.Interpreter(model_content=data)
    it.allocate_tensors()
    failures = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        for _ in range(50):
            x = rng.standard_normal((1, 64)).astype(np.float32)
            with it.exclusive():
                it.set_tensor(it.get_input_details()[0]["index"], x)
                it.invoke()
                y = it.get_tensor(it.get_output_details()[0]["index"])
            with ref.exclusive():
                want = _run(ref, [x])[0]
            if not np.array_equal(y, want):
                failures.append(seed)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_ownership_rules():
    it = edgelite.Interpreter(model_content=mlp_model())
    it.allocate_tensors()
    x = np.ones((1, 16), np.float32)
    it.set_tensor(0, x)  # the main thread owns the pending input now
    box = []

    def other():
        try:
            it.invoke()
        except edgelite.ConcurrentUseError as e:
            box.append(e)

    t = threading.Thread(target=other, name="intruder")
    t.start()
    t.join()
    assert box and "thread 'intruder'" in str(box[0]) and "MainThread" in str(box[0])
    it.invoke()  # the owner runs its own inputs
    # hand-off: a worker invokes, the main thread (which has not invoked) reads
    it2 = edgelite.Interpreter(model_content=mlp_model())
    it2.allocate_tensors()
    t = threading.Thread(target=lambda: (it2.set_tensor(0, x), it2.invoke()))
    t.start()
    t.join()
    it2.get_tensor(it2.get_output_details()[0]["index"])
    # a dead thread's pending inputs do not block anyone
    t = threading.Thread(target=lambda: it2.set_tensor(0, x))
    t.start()
    t.join()
    it2.set_tensor(0, x)
    it2.invoke()


def test_signature_runner_is_atomic():
    if "signatures_f32" not in MANIFEST:
        pytest.skip("zoo not available")
    it = edgelite.Interpreter(model_path=str(zoo_path("signatures_f32")))
    key = next(iter(it.get_signature_list()))
    runner = it.get_signature_runner(key)
    details = runner.get_input_details()
    rng = np.random.default_rng(1)
    feeds = [{name: rng.standard_normal(tuple(d["shape"])).astype(d["dtype"]) for name, d in details.items()}
             for _ in range(3)]
    want = [edgelite.Interpreter(model_path=str(zoo_path("signatures_f32"))).get_signature_runner(key)(**f)
            for f in feeds]
    failures = []

    def worker(k):
        for _ in range(40):
            got = runner(**feeds[k])
            if any(not np.array_equal(got[n], want[k][n]) for n in got):
                failures.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_stress_separate_interpreters_bit_exact():
    """4 threads x 2 interpreters (8 different zoo models) x 200 invokes, every output
    bit-identical to the same model run alone in the main thread."""
    keys = [k for k in STRESS_MODELS if k in MANIFEST]
    if len(keys) < THREADS * PER_THREAD:
        pytest.skip("zoo not available")
    variants = {k: _variants(k) for k in keys}
    refs = {}
    for k in keys:
        it = edgelite.Interpreter(model_path=str(zoo_path(k)))
        it.allocate_tensors()
        refs[k] = [_run(it, v, reset=True) for v in variants[k]]
    failures = []

    def worker(my_keys):
        its = {}
        for k in my_keys:
            its[k] = edgelite.Interpreter(model_path=str(zoo_path(k)))
            its[k].allocate_tensors()
        for i in range(INVOKES):
            for k in my_keys:
                v = i % len(variants[k])
                got = _run(its[k], variants[k][v], reset=True)
                if any(not np.array_equal(g, w) for g, w in zip(got, refs[k][v])):
                    failures.append((k, i))

    threads = [threading.Thread(target=worker, args=(keys[j * PER_THREAD:(j + 1) * PER_THREAD],))
               for j in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:10]
