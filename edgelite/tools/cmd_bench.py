"""``edgelite bench MODEL [--num-runs N] [--warmup N] [--threads N] [--profile]``.

Measures a model on edgelite's interpreter the way TFLite's benchmark_model does:
init time (load + allocate), first inference, warm-up, then N timed inferences
(avg/std/min/median/p95), peak memory (max RSS), and with ``--profile`` per-op
timings: "Top by computation time" and "Summary by node type".
"""
from __future__ import annotations

import argparse
import os
import resource
import time
from collections import defaultdict

import numpy as np

from .cli import UserError
from .cmd_run import check_model_path, prepare_inputs


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", help="benchmark a model (latency, init time, memory, per-op profile)",
        description="Benchmark a .tflite model on edgelite's interpreter with random inputs, in the "
                    "style of TFLite's benchmark_model.")
    p.add_argument("model", help="path to a .tflite file")
    p.add_argument("--num-runs", type=int, default=50, help="timed inferences (default 50)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up inferences (default 3)")
    p.add_argument("--threads", type=int, default=None, help="thread limit for numpy's BLAS")
    p.add_argument("--profile", action="store_true", help="print per-op timings")
    p.add_argument("--signature", metavar="KEY", help="benchmark this signature")
    p.add_argument("--delegate", metavar="NAME", help="run through a delegate, e.g. onnxruntime (docs/delegates.md)")
    p.add_argument("--delegate-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the delegate (repeatable), e.g. providers=CUDAExecutionProvider")
    p.set_defaults(func=run)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if os.uname().sysname == "Darwin" else peak / 1024


def stats_ms(seconds: list[float]) -> dict[str, float]:
    a = np.asarray(seconds) * 1e3
    return {"avg": float(a.mean()), "std": float(a.std()), "min": float(a.min()),
            "median": float(np.median(a)), "p95": float(np.percentile(a, 95)), "count": len(a)}


def profile_tables(records: list, names: dict[int, str], runs: int, top: int = 10) -> str:
    """benchmark_model-style 'Top by computation time' and 'Summary by node type' tables."""
    per_node: dict[tuple, float] = defaultdict(float)
    for r in records:
        per_node[(r.node_index, r.op_name)] += r.seconds
    total = sum(per_node.values()) or 1e-12
    lines = ["", "============================== Top by computation time ==============================",
             f"{'[node type]':>24} {'[node]':>6} {'[avg ms]':>10} {'[%]':>8} {'[cdf%]':>8}  [name]"]
    cdf = 0.0
    for (node, op), sec in sorted(per_node.items(), key=lambda kv: -kv[1])[:top]:
        pct = 100 * sec / total
        cdf += pct
        lines.append(f"{op:>24} {node:>6} {1e3 * sec / runs:>10.3f} {pct:>7.2f}% {cdf:>7.2f}%  {_short(names.get(node, ''))}")
    by_type: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for (node, op), sec in per_node.items():
        by_type[op][0] += 1
        by_type[op][1] += sec
    lines += ["", "============================== Summary by node type ==============================",
              f"{'[node type]':>24} {'[count]':>8} {'[avg ms]':>10} {'[%]':>8} {'[cdf%]':>8}"]
    cdf = 0.0
    for op, (count, sec) in sorted(by_type.items(), key=lambda kv: -kv[1][1]):
        pct = 100 * sec / total
        cdf += pct
        lines.append(f"{op:>24} {count:>8} {1e3 * sec / runs:>10.3f} {pct:>7.2f}% {cdf:>7.2f}%")
    lines.append(f"Timings per run: {1e3 * total / runs:.3f} ms in {len(per_node)} nodes")
    return "\n".join(lines)


def _short(name: str, width: int = 60) -> str:
    name = name.split(";")[0]
    return name if len(name) <= width else "..." + name[-(width - 3):]


def run(args: argparse.Namespace) -> int:
    check_model_path(args.model)
    if args.num_runs < 1 or args.warmup < 0:
        raise UserError("--num-runs must be >= 1 and --warmup >= 0")
    if args.threads is not None and args.threads < 1:
        raise UserError("--threads must be >= 1")
    from ..interpreter import Interpreter
    from .cmd_run import run_once
    t0 = time.perf_counter()
    delegates = _delegates(args)
    it = Interpreter(model_path=args.model, num_threads=args.threads, experimental_delegates=delegates)
    init_s = time.perf_counter() - t0
    # random input data is not init (benchmark_model makes it after init too)
    feeds, details = prepare_inputs(it, args.signature, {}, 0)
    if args.signature is None:  # a signature's subgraph is allocated by its first call
        t0 = time.perf_counter()
        for name, value in feeds.items():
            it.resize_tensor_input(details[name]["index"], value.shape)
        it.allocate_tensors()
        init_s += time.perf_counter() - t0

    def once():
        if args.signature is not None:
            run_once(it, args.signature, feeds, details)
        else:
            it.invoke()
    if args.signature is None:
        for name, value in feeds.items():
            it.set_tensor(details[name]["index"], value)
    t0 = time.perf_counter()
    once()
    first_s = time.perf_counter() - t0
    warm = []
    for _ in range(args.warmup):
        t0 = time.perf_counter()
        once()
        warm.append(time.perf_counter() - t0)
    records: list = []
    if args.profile:
        it.set_profiler(records.append)
    times = []
    for _ in range(args.num_runs):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    it.set_profiler(None)
    s = stats_ms(times)
    print(f"Model: {args.model}")
    print(f"Threads: {args.threads or 'default'}   Warm-up runs: {args.warmup}   Timed runs: {args.num_runs}")
    print(f"Init time: {1e3 * init_s:.3f} ms (load + allocate_tensors)")
    print(f"First inference: {1e3 * first_s:.3f} ms")
    if warm:
        print(f"Warm-up (avg): {1e3 * float(np.mean(warm)):.3f} ms")
    print(f"Inference (avg): {s['avg']:.3f} ms  std {s['std']:.3f}  min {s['min']:.3f}  "
          f"median {s['median']:.3f}  p95 {s['p95']:.3f}  (count {s['count']})")
    print(f"Peak memory (max RSS): {peak_rss_mb():.1f} MB   activation arena: "
          f"{it.arena_bytes() / 2**20:.2f} MB")
    if delegates:
        print(_placement(it))
    if args.profile:
        sub = it.model.subgraphs[0 if args.signature is None else it._signature_subgraph(args.signature)]
        names = {i: (sub.tensors[op.outputs[0]].name if op.outputs else "") for i, op in enumerate(sub.operators)}
        print(profile_tables(records, names, args.num_runs))
    return 0


def _delegates(args: argparse.Namespace) -> list | None:
    """The delegate of --delegate with its --delegate-option values (lists split on commas)."""
    if not args.delegate:
        if args.delegate_option:
            raise UserError("--delegate-option needs --delegate")
        return None
    from ..delegates import DelegateError, load_delegate
    options: dict = {}
    for item in args.delegate_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--delegate-option {item!r}: expected KEY=VALUE")
        options[key.strip()] = value.split(",") if key.strip() == "providers" else _option_value(value)
    try:
        return [load_delegate(args.delegate, options)]
    except DelegateError as e:
        raise UserError(str(e)) from None


def _option_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _placement(it) -> str:
    """Which nodes went where: each delegate partition and what stayed on edgelite."""
    delegation = it._delegation
    lines = ["", "============================== Delegation =============================="]
    delegated = 0
    for p in delegation.summary():
        hist: dict[str, int] = defaultdict(int)
        for name in p["ops"]:
            hist[name] += 1
        delegated += len(p["nodes"])
        nodes = p["nodes"]
        span = f"{nodes[0]}..{nodes[-1]}" if len(nodes) > 1 else str(nodes[0])
        lines.append(f"partition {p['partition']} -> {p['delegate']} (subgraph {p['subgraph']}): {len(nodes)} nodes "
                     f"[{span}]: " + ", ".join(f"{k} {v}" for k, v in sorted(hist.items(), key=lambda kv: -kv[1])))
    total = sum(len(sg.operators) for sg in delegation.original.subgraphs)
    kept: dict[str, int] = defaultdict(int)
    for sg in it.model.subgraphs:
        for op in sg.operators:
            if not (op.opcode == "CUSTOM" and op.custom_code == "DELEGATE"):
                kept[op.name] += 1
    lines.append(f"{delegated} of {total} nodes delegated; on edgelite: "
                 + (", ".join(f"{k} {v}" for k, v in sorted(kept.items(), key=lambda kv: -kv[1])) or "none"))
    fallbacks = getattr(delegation.partitions[0].delegate, "fallbacks", []) if delegation.partitions else []
    lines += [f"fallback: {m}" for m in fallbacks]
    return "\n".join(lines)
