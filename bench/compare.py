#!/usr/bin/env python3
"""edgelite vs LiteRT on the zoo (or chosen models): latency, init time and peak RSS.

    python bench/compare.py [KEY ...] [--runs 20] [--warmup 3] [--threads 1] [--json OUT]
                            [--init-repeats N] [--init-only] [--delegate onnxruntime]
                            [--delegate-option KEY=VALUE ...]

Each (model, engine) is measured in its own subprocess, so that peak RSS
(ru_maxrss) belongs to that engine alone: init = constructing the interpreter +
allocate_tensors + setting the inputs; latency = median of --runs invokes after
--warmup. ``--init-repeats N`` measures init in N fresh processes per engine
(interleaved) and reports the median (init is a few milliseconds: one process is
noisy); ``--init-only`` skips the invokes (latency is then nan, peak RSS covers init only). LiteRT uses
BUILTIN_WITHOUT_DEFAULT_DELEGATES (its reference-numerics kernels, no XNNPACK)
unless --xnnpack. Ratios are edgelite / LiteRT. ``--delegate NAME`` runs edgelite through that
delegate (edgelite.load_delegate(NAME); its imports happen before the clock, building its
sessions at allocate_tensors is init); ``--delegate-option KEY=VALUE`` (repeatable) passes
options to it (e.g. ``allow_spinning=0``; values as strings, as ``edgelite bench`` does).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ZOO = Path(os.environ.get("EDGELITE_ZOO", ROOT.parent / "shared" / "zoo"))


def worker(engine: str, key: str, runs: int, warmup: int, threads: int, xnnpack: bool, delegate: str = "",
           delegate_options: dict | None = None) -> dict:
    """Measure one engine on one model in this process; returns the numbers as a dict."""
    manifest = json.loads((ZOO / "manifest.json").read_text())
    path = str(ZOO / manifest[key]["file"])
    z = np.load(ZOO / f"{key}.npz")
    if engine == "edgelite":  # imports are not part of init time
        import edgelite.kernels  # noqa: F401
        from edgelite import Interpreter
        kw = {}
        if delegate:
            from edgelite.delegates import load_delegate
            d = load_delegate(delegate, delegate_options)
            if delegate in ("onnxruntime", "ort"):  # imported lazily by the delegate: not init
                import onnx  # noqa: F401
                import onnxruntime  # noqa: F401
            kw = {"experimental_delegates": [d]}
    else:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        kw = {"experimental_op_resolver_type": resolver}
    # Read the stored inputs before the clock starts: decompressing the .npz is not init.
    arrays = {k: z[k] for k in z.files if k.startswith("input_") or k == "x"}
    inputs = [arrays[f"input_{i}"] for i in range(len([k for k in arrays if k.startswith("input_")]))]
    t0 = time.perf_counter()
    it = Interpreter(model_path=path, num_threads=threads, **kw)
    if "x" in arrays:  # signatures_f32: time the 'infer' signature
        runner = it.get_signature_runner("infer")
        run = lambda: runner(x=arrays["x"])  # noqa: E731
        run()
    else:
        for d, x in zip(it.get_input_details(), inputs):
            if list(d["shape"]) != list(x.shape):
                it.resize_tensor_input(d["index"], list(x.shape))
        it.allocate_tensors()
        for d, x in zip(it.get_input_details(), inputs):
            it.set_tensor(d["index"], x)
        run = it.invoke
    init_ms = 1e3 * (time.perf_counter() - t0)
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return {"init_ms": init_ms, "median_ms": 1e3 * float(np.median(times)) if times else float("nan"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure(engine: str, key: str, a, init_only: bool = False) -> dict:
    runs, warmup = (0, 0) if init_only else (a.runs, a.warmup)
    cmd = [sys.executable, __file__, "--worker", engine, key, "--runs", str(runs), "--warmup", str(warmup),
           "--threads", str(a.threads)] + (["--xnnpack"] if a.xnnpack else []) + \
        (["--delegate", a.delegate] if a.delegate and engine == "edgelite" else []) + \
        [arg for kv in (a.delegate_option if a.delegate and engine == "edgelite" else []) for arg in ("--delegate-option", kv)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    if proc.returncode != 0 or not proc.stdout.strip():
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:120]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if "error" in result:
        result["error"] = result["error"][:120]
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("keys", nargs="*", help="zoo model keys (default: all)")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--xnnpack", action="store_true", help="LiteRT with its default XNNPACK delegate")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json", default="")
    ap.add_argument("--init-repeats", type=int, default=1,
                    help="fresh processes per engine for init time (median reported)")
    ap.add_argument("--init-only", action="store_true", help="measure init only (no invokes)")
    ap.add_argument("--delegate", default="", help="run edgelite through this delegate (e.g. onnxruntime)")
    ap.add_argument("--delegate-option", action="append", default=[], metavar="KEY=VALUE",
                    help="an option for --delegate (repeatable)")
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "KEY"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        try:
            options = dict(kv.split("=", 1) for kv in a.delegate_option)
            result = worker(a.worker[0], a.worker[1], a.runs, a.warmup, a.threads, a.xnnpack, a.delegate, options)
        except Exception as e:  # reported in the table, the other models still run
            result = {"error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}
        print(json.dumps(result))
        return 0
    manifest = json.loads((ZOO / "manifest.json").read_text())
    keys = a.keys or sorted(manifest)
    unknown = [k for k in keys if k not in manifest]
    if unknown:
        print(f"unknown model(s): {unknown}", file=sys.stderr)
        return 2
    results = {}
    header = (f"{'model':28s} {'edgelite ms':>11s} {'litert ms':>10s} {'ratio':>6s} {'init el':>8s} "
              f"{'init lr':>8s} {'ratio':>6s} {'RSS el MB':>9s} {'RSS lr MB':>9s} {'ratio':>6s}")
    print(header)
    for key in keys:
        el, lr = measure("edgelite", key, a, a.init_only), measure("litert", key, a, a.init_only)
        if a.init_repeats > 1 and "error" not in el and "error" not in lr:
            inits = {"edgelite": [el["init_ms"]], "litert": [lr["init_ms"]]}
            for _ in range(a.init_repeats - 1):
                for engine in inits:  # interleaved, so both see the same machine load
                    r = measure(engine, key, a, init_only=True)
                    if "error" not in r:
                        inits[engine].append(r["init_ms"])
            el["init_ms"], lr["init_ms"] = (float(np.median(inits[e])) for e in ("edgelite", "litert"))
            el["init_samples"], lr["init_samples"] = inits["edgelite"], inits["litert"]
        results[key] = {"edgelite": el, "litert": lr}
        if "error" in el or "error" in lr:
            print(f"{key:28s} {'ERROR':>11s}  edgelite: {el.get('error', 'ok')} | litert: {lr.get('error', 'ok')}")
            continue
        r = lambda f: el[f] / lr[f] if lr[f] else float("inf")  # noqa: E731
        print(f"{key:28s} {el['median_ms']:11.3f} {lr['median_ms']:10.3f} {r('median_ms'):6.1f} "
              f"{el['init_ms']:8.1f} {lr['init_ms']:8.1f} {r('init_ms'):6.1f} "
              f"{el['peak_rss_mb']:9.1f} {lr['peak_rss_mb']:9.1f} {r('peak_rss_mb'):6.2f}")
        sys.stdout.flush()
    ok = [v for v in results.values() if "error" not in v["edgelite"] and "error" not in v["litert"]]
    if ok:
        geo = lambda f: float(np.exp(np.mean([np.log(v["edgelite"][f] / v["litert"][f]) for v in ok])))  # noqa
        print(f"geometric mean ratios over {len(ok)} models: latency {geo('median_ms'):.2f}x, "
              f"init {geo('init_ms'):.2f}x, peak RSS {geo('peak_rss_mb'):.2f}x")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
