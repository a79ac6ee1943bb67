"""edgelite.micro's arena planner against TFLite Micro.

Recorded with the wheel (fixtures/tflm_arenas.json, tests/micro/make_fixtures.py arenas): TFLM's
minimum arena and head for each model as is, and with edgelite's offline plan. Without the wheel
the planner is checked against those figures; with it, TFLM runs every planned file within the
recorded planned minimum and gives the same outputs as without the plan.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from edgelite import ir
from edgelite.micro import OFFLINE_PLAN_KEY, plan_arena, with_offline_plan
from edgelite.micro.greedy import best_offsets, first_fit, lower_bound, peak, tflm_greedy
from edgelite.micro.lifetimes import planned_buffers
from edgelite.reader import load_model
from edgelite.schema import TensorType

from micro_cases import ARENAS_FIXTURE, SHARED, load_json

ARENAS = load_json(ARENAS_FIXTURE)


def _model(name):
    path = SHARED / ARENAS[name]["model"]
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path, load_model(path)


@pytest.mark.parametrize("name", sorted(ARENAS))
def test_greedy_replica_and_plan_match_tflm_heads(name):
    """Our replica of TFLM's greedy planner gives TFLM's head; TFLM realizes our plan's head."""
    _, model = _model(name)
    plan = plan_arena(model)
    rec = ARENAS[name]
    assert plan.greedy_head == rec["tflm_head"]
    assert plan.head == rec["planned_head"]
    assert plan.head <= plan.greedy_head


@pytest.mark.parametrize("name", sorted(ARENAS))
def test_estimated_arena_is_a_tight_upper_bound(name):
    """Without the wheel, arena_bytes (head or start-up memory + estimated tail) stays within
    2% above the arena TFLM really needs with our plan."""
    _, model = _model(name)
    needed = ARENAS[name]["planned_minimum_arena"]
    assert needed <= plan_arena(model).total <= needed * 1.02


def test_plan_beats_tflm_on_at_least_half():
    assert len(ARENAS) == 6
    smaller = [n for n, r in ARENAS.items() if r["planned_minimum_arena"] < r["tflm_minimum_arena"]]
    assert all(r["planned_minimum_arena"] <= r["tflm_minimum_arena"] for r in ARENAS.values())
    assert len(smaller) >= len(ARENAS) / 2, smaller


@pytest.mark.tflm
@pytest.mark.parametrize("name", sorted(ARENAS))
def test_tflm_runs_planned_model_within_planned_minimum(name):
    pytest.importorskip("tflite_micro.python.tflite_micro.runtime", reason="needs the tflite-micro wheel")
    from edgelite.micro.tflm_oracle import tflm_allocations, tflm_invoke
    path, model = _model(name)
    planned = with_offline_plan(model).to_bytes()
    rec = ARENAS[name]
    npz = np.load(path.with_suffix(".npz"))
    inputs = [npz[k] for k in sorted(k for k in npz.files if k.startswith("input_"))]
    original = tflm_invoke(path, inputs)
    with_plan = tflm_invoke(planned, inputs, arena_size=rec["planned_minimum_arena"])
    for a, b in zip(original, with_plan):
        np.testing.assert_array_equal(a, b)  # the overlapping buffers do not corrupt anything
    assert tflm_allocations(planned)["head"] == rec["planned_head"]


def test_offline_plan_layout():
    """[version, subgraphs, n, offsets...], -1 for constants and unplanned tensors."""
    sg = ir.Subgraph()
    x = sg.add_tensor("x", (1, 8, 8, 4), TensorType.INT8)
    w = sg.add_constant("w", np.ones((4, 1, 1, 4), np.int8))
    y = sg.add_tensor("y", (1, 8, 8, 4), TensorType.INT8)
    z = sg.add_tensor("z", (1, 8, 8, 4), TensorType.INT8)
    u = sg.add_tensor("u", (1, 8, 8, 4), TensorType.INT8)
    sg.add_operator("CONV_2D", [x, w], [y], {"padding": 1, "stride_h": 1, "stride_w": 1})
    sg.add_operator("RELU", [y], [z])
    sg.add_operator("ADD", [z, x], [u])
    sg.inputs, sg.outputs = [x], [u]
    model = ir.Model(subgraphs=[sg])
    plan = plan_arena(model)
    words = np.frombuffer(with_offline_plan(model, plan).metadata[OFFLINE_PLAN_KEY], np.int32)
    assert list(words[:3]) == [1, 1, 5]
    assert words[3 + w] == -1
    assert all(words[3 + i] >= 0 for i in (x, y, z, u))
    # RELU and ADD run in place: y, z and u share one buffer; x lives until ADD so the
    # convolution's output cannot overlap it
    assert words[3 + z] == words[3 + y] == words[3 + u]
    assert plan.head == 512 and plan.greedy_head == 768
    back = load_model(with_offline_plan(model, plan).to_bytes())
    assert np.array_equal(np.frombuffer(bytes(back.metadata[OFFLINE_PLAN_KEY]), np.int32), words)


def test_overlapping_pair_stays_correct_in_edgelite_semantics():
    """A 1x1 convolution's output may start one pixel below its dying input."""
    sg = ir.Subgraph()
    x = sg.add_tensor("x", (1, 4, 4, 8), TensorType.INT8)
    a = sg.add_tensor("a", (1, 4, 4, 8), TensorType.INT8)
    w = sg.add_constant("w", np.ones((16, 1, 1, 8), np.int8))
    b = sg.add_tensor("b", (1, 4, 4, 16), TensorType.INT8)
    sg.add_operator("RELU", [x], [a])
    sg.add_operator("CONV_2D", [a, w], [b], {"padding": 1, "stride_h": 1, "stride_w": 1})
    sg.inputs, sg.outputs = [x], [b]
    plan = plan_arena(ir.Model(subgraphs=[sg]))
    # greedy: a(128) and b(256) overlap in time: 384. RELU runs in place (a over x), and b
    # starts D = 16 pixels * 16 - 15 pixels * 8 = 136 (aligned: 144) bytes below a
    assert plan.greedy_head == 384
    assert plan.offsets[a] == plan.offsets[x]
    assert plan.offsets[b] == plan.offsets[a] - 144
    assert plan.head == 144 + 128


def test_greedy_replica_small_cases():
    sizes = [32, 16, 16, 32]
    spans = [(0, 1), (1, 2), (2, 3), (3, 4)]
    # TFLM's order (largest first, later buffers first among equals) leaves a hole: 64 bytes
    assert peak(tflm_greedy(sizes, spans), sizes) == 64
    assert peak(best_offsets(sizes, spans), sizes) == 48 == lower_bound(sizes, spans)
    assert first_fit([0, 1], [16, 16], [(0, 1), (1, 2)]) == [0, 16]
    assert tflm_greedy([16, 16], [(0, 1), (2, 3)]) == [0, 0]


def test_lifetimes_follow_tflm_scopes():
    path, model = _model("hello_world_int8")
    spans = {b.tensor: (b.first, b.last) for b in planned_buffers(model)}
    assert spans == {0: (0, 1), 7: (1, 2), 8: (2, 3), 9: (3, 3)}


def test_cli_plan_json(tmp_path):
    path, _ = _model("audio_conv1d_int8")
    out = tmp_path / "planned.tflite"
    done = subprocess.run([sys.executable, "-m", "edgelite.tools.cli", "micro", "plan", str(path), "--json",
                           "--no-measure", "-o", str(out)], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["head_bytes"] == ARENAS["audio_conv1d_int8"]["planned_head"]
    assert report["arena_bytes"] == max(report["head_bytes"], report["startup_bytes_estimate"]) \
        + report["tail_bytes_estimate"]
    assert report["tflm_arena_bytes"] is None and report["measured"] is False
    assert OFFLINE_PLAN_KEY in load_model(out).metadata
