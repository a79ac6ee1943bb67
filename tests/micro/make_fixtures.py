"""Record TFLM's outputs (digests) for tests/micro from the tflite-micro wheel.

    python tests/micro/make_fixtures.py outputs    # tflm_outputs.json
    python tests/micro/make_fixtures.py arenas     # tflm_arenas.json (bisection, slow)
    python tests/micro/make_fixtures.py ops        # tflm_ops.json (one-op models of op_cases.py)

Needs the wheel (Python 3.11) and ../shared. The tests compare edgelite with these files where
the wheel is missing, and with the wheel itself where it is installed.
"""
from __future__ import annotations

import json
import sys

from micro_cases import (ARENAS_FIXTURE, OPS_FIXTURE, OUTPUTS_FIXTURE, cases, digest, inputs_of, model_path,
                         output_count, run_tflm)


def record_outputs() -> None:
    table = {}
    for case in cases():
        try:
            outs = run_tflm(model_path(case), inputs_of(case), output_count(case))
        except RuntimeError as e:
            print(f"{case}: TFLM cannot run it ({e})")
            continue
        table[case] = [digest(o) for o in outs]
        print(case, "ok", flush=True)
    OUTPUTS_FIXTURE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


def record_arenas() -> None:
    """TFLM's minimum arena and head for each model, as is and with edgelite's offline plan."""
    from edgelite.micro import plan_arena, with_offline_plan
    from edgelite.micro.tflm_oracle import tflm_allocations, tflm_minimum_arena
    from edgelite.reader import load_model
    from micro_cases import SHARED
    table = {}
    for name, rel in ARENA_MODELS.items():
        path = SHARED / rel
        model = load_model(path)
        planned = with_offline_plan(model, plan_arena(model)).to_bytes()
        table[name] = {"model": rel,
                       "tflm_minimum_arena": tflm_minimum_arena(path),
                       "tflm_head": tflm_allocations(path)["head"],
                       "planned_minimum_arena": tflm_minimum_arena(planned),
                       "planned_head": tflm_allocations(planned)["head"]}
        print(name, table[name], flush=True)
    ARENAS_FIXTURE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


ARENA_MODELS = {
    "hello_world_int8": "realmodels/tflm_hello_world_int8.tflite",
    "micro_speech_quantized": "realmodels/tflm_micro_speech_quantized.tflite",
    "person_detect": "realmodels/tflm_person_detect.tflite",
    "mnist_lstm_int8": "realmodels/tflm_trained_lstm_int8.tflite",
    "mobilenet_v2_int8": "zoo/mobilenet_v2_int8.tflite",
    "audio_conv1d_int8": "zoo/audio_conv1d_int8.tflite",
}

def record_ops() -> None:
    """TFLM's outputs for the one-op models of op_cases.py."""
    from edgelite.micro.tflm_oracle import tflm_invoke
    from op_cases import OP_CASES
    table = {}
    for name, build in OP_CASES.items():
        model, feed = build()
        table[name] = [digest(o) for o in tflm_invoke(model.to_bytes(), feed, outputs=1)]
        print(name, "ok", flush=True)
    OPS_FIXTURE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "outputs"
    {"outputs": record_outputs, "arenas": record_arenas, "ops": record_ops}[what]()
