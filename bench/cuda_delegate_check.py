#!/usr/bin/env python3
"""Check the ONNX Runtime delegate's CUDA execution provider on a machine with an NVIDIA GPU.

    pip install -e ".[ort]" onnxruntime-gpu      # (onnxruntime-gpu instead of onnxruntime)
    python bench/cuda_delegate_check.py [--zoo DIR] [--models K1,K2] [--runs 20]

The same code as on the CPU (``load_delegate("onnxruntime", providers=[CUDA, CPU])``): for each
model it checks that every partition got an ORT session whose providers include CUDA, that the
outputs are within the zoo's float tolerance of LiteRT's builtin results (GPU float math: the
XNNPACK spread or 1e-3 of scale, whichever is larger; int8 models, which reach CUDA in QDQ
form: at most 1% of values more than one step off) and prints the latency next to the
CPU provider's. Exit status 0 when every check passes, 1 otherwise, 2 when CUDA is unavailable.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _run(key: str, zoo: Path, providers: list[str], runs: int):
    import edgelite
    manifest = json.loads((zoo / "manifest.json").read_text())
    z = np.load(zoo / f"{key}.npz")
    inputs = [z[f"input_{i}"] for i in range(len([k for k in z.files if k.startswith("input_")]))]
    delegate = edgelite.load_delegate("onnxruntime", {"providers": providers, "fallback": "raise"})
    t0 = time.perf_counter()
    it = edgelite.Interpreter(model_path=str(zoo / manifest[key]["file"]), experimental_delegates=[delegate])
    for d, x in zip(it.get_input_details(), inputs):
        it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    init = time.perf_counter() - t0
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        it.invoke()
        times.append(time.perf_counter() - t0)
    outs = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    sessions = [k.impl.session for ex in it._runtime.executors if ex is not None
                for cache in ex._kernel_cache for k, _ in cache.values() if hasattr(k, "impl")]
    used = sorted({p for s in sessions if s is not None for p in s.get_providers()})
    if manifest[key]["variant"].startswith("int8"):  # the int8 contract: one step, in units of the step
        steps = [_dequantized_step(it._delegation.original.main, j) for j in range(len(outs))]
        z = {**{f: z[f] for f in z.files}, "steps": steps}
    return outs, z, init, float(np.median(times)), used


def _dequantized_step(sg, j: int) -> float | None:
    """The quantization step of output ``j`` when a DEQUANTIZE of a per-tensor int8 tensor makes it."""
    t = sg.outputs[j]
    for op in sg.operators:
        if t in op.outputs and op.opcode == "DEQUANTIZE":
            q = sg.tensors[op.inputs[0]].quantization
            return float(q.scale[0]) if q is not None and q.scale.size == 1 else None
    return None


def worst_error(outs: list, z) -> float:
    """The largest error over the outputs, in units of what the GPU may differ by: pass when <= 1.
    Float outputs: |output - LiteRT's builtin result| over the XNNPACK spread or 1e-3 of scale,
    whichever is larger. Outputs of int8 models with a known step (``z["steps"]``): the share
    of values more than one step off, over the 1% that the int8 contract allows."""
    worst = 0.0
    files = z.files if hasattr(z, "files") else list(z)
    for j, o in enumerate(outs):
        ref = z[f"ref_{j}"].astype(np.float64)
        step = z["steps"][j] if "steps" in files else None
        if step:
            beyond = float(np.mean(np.abs(o - ref) > step * 1.0001)) if ref.size else 0.0
            worst = max(worst, beyond / 0.01)
            continue
        tol = 1e-3 * max(1.0, float(np.abs(ref).max()))
        if f"xnn_{j}" in files:
            tol = max(tol, float(np.abs(z[f"xnn_{j}"] - ref).max()))
        worst = max(worst, float(np.abs(o - ref).max()) / tol if ref.size else 0.0)
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", default=os.environ.get("EDGELITE_ZOO", str(ROOT.parent / "shared" / "zoo")))
    ap.add_argument("--models", default="mobilenet_v2_f32,mobilenet_v2_f16,unet_f32,tiny_bert_f32,mobilenet_v2_int8")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    import onnxruntime as ort
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        print(f"CUDAExecutionProvider not available (have {ort.get_available_providers()}): "
              "install onnxruntime-gpu with a CUDA runtime")
        return 2
    zoo, ok = Path(a.zoo), True
    for key in a.models.split(","):
        outs, z, init, ms, used = _run(key, zoo, ["CUDAExecutionProvider", "CPUExecutionProvider"], a.runs)
        _, _, _, cpu_ms, _ = _run(key, zoo, ["CPUExecutionProvider"], a.runs)
        worst = worst_error(outs, z)
        good = "CUDAExecutionProvider" in used and worst <= 1.0
        ok &= good
        print(f"{key:24s} {'OK  ' if good else 'FAIL'} providers={used} max|diff|/tol={worst:.3f} "
              f"cuda {ms * 1e3:.2f} ms, cpu {cpu_ms * 1e3:.2f} ms, init {init * 1e3:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
