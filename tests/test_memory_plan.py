"""The greedy arena planner and the interpreter's use of it."""
import tracemalloc

import numpy as np
import pytest

from edgelite.runtime.memory_plan import BufferRequest, check_plan, plan_arena

from conftest import MANIFEST, zoo_inputs, zoo_path


def test_disjoint_lifetimes_share_memory():
    reqs = [BufferRequest(0, 1000, 0, 1), BufferRequest(1, 1000, 2, 3), BufferRequest(2, 1000, 4, 5)]
    plan = plan_arena(reqs)
    check_plan(reqs, plan)
    assert plan.size == 1024 and set(plan.offsets.values()) == {0}


def test_overlapping_lifetimes_do_not_overlap_in_memory():
    reqs = [BufferRequest(0, 100, 0, 2), BufferRequest(1, 200, 1, 3), BufferRequest(2, 50, 2, 2)]
    plan = plan_arena(reqs, alignment=1)
    check_plan(reqs, plan)
    assert plan.size == 350


def test_random_plans_are_valid_and_fill_gaps():
    rng = np.random.default_rng(0)
    for _ in range(50):
        reqs = []
        for k in range(int(rng.integers(1, 40))):
            a, b = sorted(rng.integers(0, 30, 2))
            reqs.append(BufferRequest(k, int(rng.integers(0, 5000)), int(a), int(b)))
        plan = plan_arena(reqs)
        check_plan(reqs, plan)
        # never worse than the largest set of simultaneously live buffers laid end to end (aligned)
        peak = max(sum(-(-max(r.size, 1) // 64) * 64 for r in reqs if r.first <= t <= r.last) for t in range(30))
        assert plan.size <= max(peak, 1) * 2


def test_bad_request_rejected():
    with pytest.raises(ValueError):
        plan_arena([BufferRequest(0, 10, 3, 1)])


MOBILENET = "mobilenet_v2_f32"


@pytest.mark.skipif(MOBILENET not in MANIFEST, reason="zoo not available")
def test_mobilenet_arena_much_smaller_than_activations():
    from edgelite import Interpreter
    it = Interpreter(model_path=str(zoo_path(MOBILENET)))
    it.allocate_tensors()
    assert it.arena_bytes() * 4 < it.planned_bytes(), (it.arena_bytes(), it.planned_bytes())


@pytest.mark.skipif(MOBILENET not in MANIFEST, reason="zoo not available")
def test_second_invoke_allocates_no_activation_memory():
    from edgelite import Interpreter
    it = Interpreter(model_path=str(zoo_path(MOBILENET)))
    it.allocate_tensors()
    x = zoo_inputs(MOBILENET)[0]
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    it.set_tensor(i, x)
    it.invoke()
    first = it.get_tensor(o)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        it.invoke()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"invoke kept {after - before} new bytes"
    np.testing.assert_array_equal(it.get_tensor(o), first)


@pytest.mark.skipif(MOBILENET not in MANIFEST, reason="zoo not available")
def test_preserve_all_tensors_keeps_every_intermediate():
    from edgelite import Interpreter
    x = zoo_inputs(MOBILENET)[0]
    keep = Interpreter(model_path=str(zoo_path(MOBILENET)), experimental_preserve_all_tensors=True)
    keep.allocate_tensors()
    assert keep.arena_bytes() >= keep.planned_bytes()
    keep.set_tensor(keep.get_input_details()[0]["index"], x)
    keep.invoke()
    ops = keep.model.main.operators
    # recompute op 1 alone from op 0's preserved output: its preserved output must agree
    first_out = keep.get_tensor(ops[0].outputs[0])
    second_out = keep.get_tensor(ops[1].outputs[0])
    assert first_out.shape[0] == 1 and second_out.shape[0] == 1
    from edgelite.kernels.testing import run_op
    sg = keep.model.main
    inputs = [first_out if t == ops[0].outputs[0] else (sg.tensors[t].data if t >= 0 else None)
              for t in ops[1].inputs]
    consts = tuple(k for k, t in enumerate(ops[1].inputs) if t >= 0 and sg.tensors[t].data is not None)
    (again,) = run_op(ops[1].opcode, inputs, dict(ops[1].options or {}), constant_inputs=consts,
                      version=ops[1].version)
    np.testing.assert_allclose(again, second_out, rtol=1e-6, atol=1e-6)


def _reference_plan(requests, alignment=64):
    """The planner's rule written plainly: every placed request is checked for a time overlap."""
    def align(n):
        return (n + alignment - 1) // alignment * alignment
    placed, offsets = [], {}
    for r in sorted(requests, key=lambda r: (-r.size, -(r.last - r.first), str(r.key))):
        size = align(max(r.size, 1))
        offset = 0
        for off, end in sorted((o, e) for f, l, o, e in placed if f <= r.last and r.first <= l):
            if offset + size <= off:
                break
            offset = max(offset, end)
        offsets[r.key] = offset
        placed.append((r.first, r.last, offset, offset + size))
    return offsets, max((p[3] for p in placed), default=0)


@pytest.mark.parametrize("step_scale", [1, 10_000])
def test_indexed_planner_matches_the_plain_rule(step_scale):
    rng = np.random.default_rng(step_scale)
    for _ in range(200):
        reqs = []
        for k in range(int(rng.integers(0, 60))):
            a, b = sorted(rng.integers(0, 40, 2))
            reqs.append(BufferRequest(k, int(rng.integers(0, 3000)), int(a) * step_scale, int(b) * step_scale))
        plan = plan_arena(reqs)
        assert (plan.offsets, plan.size) == _reference_plan(reqs)
        check_plan(reqs, plan)


def test_negative_step_rejected():
    with pytest.raises(ValueError):
        plan_arena([BufferRequest(0, 10, -1, 2)])
