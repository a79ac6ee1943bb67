"""Quality of edgelite's int8 post-training quantization against TensorFlow's converter.

For each model: calibrate on 16 samples drawn uniformly from each input's range
(as /work/shared/zoo/make_zoo.py feeds TF's converter), then on 32 fresh inputs
measure the mean absolute error of (a) our int8 model and (b) the zoo's TF-made
int8 model against the float model. All three run in LiteRT (ai-edge-litert)
with its builtin reference kernels; ``--engine edgelite`` uses edgelite instead.

    python bench/quant_quality.py [--markdown] [--models mobilenet_v2 unet ...]

The requirement is ratio = ours / TF <= 1.1.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from edgelite.optimize.calibrate import _main_runner

ZOO = Path(os.environ.get("EDGELITE_ZOO", Path(__file__).resolve().parents[2] / "shared" / "zoo"))

# name -> input specs (shape, dtype, low, high), copied from make_zoo.py
SPECS = {
    "mobilenet_v2": [((1, 224, 224, 3), "float32", -1.0, 1.0)],
    "unet": [((1, 96, 96, 3), "float32", 0.0, 1.0)],
    "tiny_bert": [((1, 24), "int32", 0, 500)],
    "audio_conv1d": [((1, 16000), "float32", -1.0, 1.0)],
    "mlp_dynamic": [((4, 20), "float32", -2.0, 2.0)],
}


def sample(spec, rng):
    shape, dtype, lo, hi = spec
    if np.issubdtype(np.dtype(dtype), np.integer):
        return rng.integers(lo, hi, size=shape).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


def make_runner(content: bytes, engine: str):
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        it = Interpreter(model_content=content,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        from edgelite import Interpreter
        it = Interpreter(model_content=content)
    invoke = _main_runner(it)  # the calibrator's runner: resizes and allocates when shapes change

    def run(inputs):
        invoke(inputs)
        return [it.get_tensor(d["index"]).astype(np.float64) for d in it.get_output_details()]
    return run


def evaluate(name: str, engine: str = "litert", seed: int = 0) -> dict:
    from edgelite.optimize import quantize
    specs = SPECS[name]
    rng = np.random.default_rng(seed)
    calib = [[sample(s, rng) for s in specs] for _ in range(16)]
    test = [[sample(s, rng) for s in specs] for _ in range(32)]
    float_bytes = (ZOO / f"{name}_f32.tflite").read_bytes()
    t0 = time.perf_counter()
    ours = quantize(float_bytes, "int8", calib, progress=False).to_bytes()
    seconds = time.perf_counter() - t0
    run_f = make_runner(float_bytes, engine)
    run_ours = make_runner(ours, engine)
    run_tf = make_runner((ZOO / f"{name}_int8.tflite").read_bytes(), engine)
    err_ours, err_tf = [], []
    for x in test:
        ref = run_f(x)
        err_ours.append(np.mean([np.mean(np.abs(a - r)) for a, r in zip(run_ours(x), ref)]))
        err_tf.append(np.mean([np.mean(np.abs(a - r)) for a, r in zip(run_tf(x), ref)]))
    mae_ours, mae_tf = float(np.mean(err_ours)), float(np.mean(err_tf))
    return {"model": name, "mae_edgelite": mae_ours, "mae_tf": mae_tf, "ratio": mae_ours / mae_tf,
            "bytes_edgelite": len(ours), "bytes_tf": (ZOO / f"{name}_int8.tflite").stat().st_size,
            "quantize_s": seconds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=list(SPECS))
    ap.add_argument("--engine", choices=["litert", "edgelite"], default="litert")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)
    rows = [evaluate(m, args.engine) for m in args.models]
    if args.markdown:
        print("| model | MAE edgelite int8 | MAE TF int8 | ratio | bytes edgelite | bytes TF |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['model']} | {r['mae_edgelite']:.3g} | {r['mae_tf']:.3g} | {r['ratio']:.2f} | "
                  f"{r['bytes_edgelite']} | {r['bytes_tf']} |")
    else:
        for r in rows:
            print(json.dumps(r))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["ratio"] <= 1.1 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
