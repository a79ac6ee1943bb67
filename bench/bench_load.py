"""Load-time and memory benchmark of the reader (``edgelite.load_model``).

    python bench/bench_load.py [MODEL ...] [--repeat N] [--profile] [--check] [--checked]
    python bench/bench_load.py --dump-vtables MODEL ...   # refresh layout.KNOWN_WRITER_VTABLES

For each model (default: the zoo's mobilenet_v2_f32.tflite, 14 MB) it reports

* the median and best wall time of ``load_model(path)`` over N runs with a warm page
  cache (the file is read once first);
* the peak Python allocation during one load (tracemalloc), and what the loaded
  model keeps alive;
* the growth of anonymous resident memory (``RssAnon`` from /proc/self/status,
  which leaves out the file mapping itself) while holding 10 loaded copies,
  per copy.

``--check`` exits 1 unless the median is under 20 ms and the memory above the
mapped file is under 2 MB. ``--profile`` prints the top of a cProfile run.
``--checked`` also times the reader's checked decoder alone (what ``load_model`` falls
back to for files its fast path does not accept) on the same mapping, interleaved with
the fast path, and prints the ratio.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import mmap

import edgelite
from edgelite.reader import parse_model, parse_model_checked

ZOO = Path(os.environ.get("EDGELITE_ZOO", Path(__file__).resolve().parent.parent.parent / "shared" / "zoo"))
DEFAULT_MODEL = ZOO / "mobilenet_v2_f32.tflite"
TIME_BUDGET_MS = 20.0
MEMORY_BUDGET_BYTES = 2 << 20


def rss_anon() -> int | None:
    """Anonymous resident memory in bytes (excludes file-backed mappings), Linux only."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def time_loads(path: str, repeat: int) -> list[float]:
    edgelite.load_model(path)  # warm the page cache and imports
    times = []
    gc.collect()
    for _ in range(repeat):
        start = time.perf_counter()
        edgelite.load_model(path)
        times.append(time.perf_counter() - start)
    return times


def time_paths(path: str, repeat: int) -> tuple[list[float], list[float]]:
    """(load times through parse_model, through the checked decoder alone), interleaved."""
    with open(path, "rb") as f:
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    parse_model(buf)
    parse_model_checked(buf)
    fast, checked = [], []
    for _ in range(repeat):
        for parse, times in ((parse_model, fast), (parse_model_checked, checked)):
            start = time.perf_counter()
            parse(buf)
            times.append(time.perf_counter() - start)
    return fast, checked


def traced_memory(path: str) -> tuple[int, int]:
    """(peak bytes during one load, bytes still held while the model is alive)."""
    gc.collect()
    tracemalloc.start()
    try:
        model = edgelite.load_model(path)
        held, peak = tracemalloc.get_traced_memory()
        del model
    finally:
        tracemalloc.stop()
    return peak, held


def resident_growth(path: str, copies: int = 10) -> int | None:
    """RssAnon growth per loaded copy (the mapped file itself is not anonymous memory)."""
    gc.collect()
    before = rss_anon()
    if before is None:
        return None
    models = [edgelite.load_model(path) for _ in range(copies)]
    after = rss_anon()
    del models
    return max(0, (after - before) // copies)


def bench(path: str, repeat: int) -> dict:
    times = time_loads(path, repeat)
    peak, held = traced_memory(path)
    rss = resident_growth(path)
    return {"model": os.path.basename(path), "file_bytes": os.path.getsize(path),
            "median_ms": 1000 * statistics.median(times), "best_ms": 1000 * min(times),
            "tracemalloc_peak": peak, "tracemalloc_held": held, "rss_anon_per_copy": rss}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=[str(DEFAULT_MODEL)])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--check", action="store_true", help="fail unless within the time/memory budgets")
    ap.add_argument("--checked", action="store_true", help="also time the checked decoder alone")
    ap.add_argument("--dump-vtables", action="store_true",
                    help="load the models and print every vtable layout compiled, in the format of "
                         "edgelite.schema.layout.KNOWN_WRITER_VTABLES")
    args = ap.parse_args(argv)
    if args.dump_vtables:
        from edgelite.schema.layout import dump_vtables
        for path in args.models:
            edgelite.load_model(path)
        for tname, vtables in dump_vtables().items():
            print(f'    "{tname}": "{vtables}",')
        return 0
    ok = True
    for path in args.models:
        r = bench(path, args.repeat)
        rss = "n/a" if r["rss_anon_per_copy"] is None else f"{r['rss_anon_per_copy'] / 1024:.0f} KiB"
        print(f"{r['model']} ({r['file_bytes'] / 1e6:.1f} MB): load median {r['median_ms']:.2f} ms, "
              f"best {r['best_ms']:.2f} ms; tracemalloc peak {r['tracemalloc_peak'] / 1024:.0f} KiB, "
              f"held {r['tracemalloc_held'] / 1024:.0f} KiB; RssAnon per copy {rss}")
        if args.checked:
            fast, checked = time_paths(path, args.repeat)
            f_ms, c_ms = 1000 * statistics.median(fast), 1000 * statistics.median(checked)
            print(f"  from the mapping: parse_model median {f_ms:.2f} ms, checked decoder alone "
                  f"{c_ms:.2f} ms ({c_ms / f_ms:.1f}x)")
        memory = max(r["tracemalloc_peak"], r["rss_anon_per_copy"] or 0)
        if r["median_ms"] >= TIME_BUDGET_MS or memory >= MEMORY_BUDGET_BYTES:
            ok = False
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(20):
                edgelite.load_model(path)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    if args.check and not ok:
        print(f"FAILED: budget is < {TIME_BUDGET_MS} ms and < {MEMORY_BUDGET_BYTES >> 20} MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
