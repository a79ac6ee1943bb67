#!/usr/bin/env python3
"""Coverage-guided fuzz targets (atheris / libFuzzer) for everything that reads untrusted bytes.

    python tests/reliability/fuzz_targets.py TARGET [--keep-going DIR] [libFuzzer flags...] [CORPUS_DIR...]

Targets (``TARGETS``):

* ``reader``      - ``edgelite.load_model(data)``, then ``to_bytes()`` on what loads;
* ``interpreter`` - ``Interpreter(model_content=data, max_memory_bytes=BUDGET,
  max_loop_iterations=...)``, ``allocate_tensors()``, zero inputs, ``invoke(timeout=...)``;
* ``converter``   - ``edgelite.convert.from_onnx(data)`` on ONNX protobuf bytes;
* ``metadata``    - the metadata reader, when ``edgelite.metadata`` exists.

Every input must finish (load, run or raise an edgelite error: ModelError and its
ResourceError, ConversionError, CancelledError, UnsupportedOpsError, or the ValueError
LiteRT's API raises for a model that does not load, whose cause is a ModelError) within
``TIME_LIMIT_S``. Anything else is a finding: without ``--keep-going`` it is raised (so
libFuzzer stops and writes the input as ``crash-*``); with ``--keep-going DIR`` each new
kind of finding (exception type and innermost edgelite frame) is written to DIR with its
traceback and fuzzing goes on. Findings become regression files in tests/fuzz_corpus/
(``test_fuzz_corpus.py`` replays them).

Seeds are small zoo, realmodels and support models (``seed_files``); ONNX seeds are
made by the converter tests' builders.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

TIME_LIMIT_S = 1.0
BUDGET_BYTES = 16 << 20          # max_memory_bytes for every fuzzed interpreter (bounds work per node too)
MAX_LOOP_ITERATIONS = 10_000
MAX_SEED_BYTES = 200_000
SHARED = Path(os.environ.get("EDGELITE_SHARED", "/work/shared"))
TARGETS = ("reader", "interpreter", "converter", "metadata")


class Finding(Exception):
    """An input that broke a rule (wrong exception type, too slow)."""


def seed_files(target: str, limit: int = 40) -> list[Path]:
    """Small models to start from (sorted by size, at most ``limit``)."""
    if target == "converter":
        return []
    files = []
    folders = ("support/metadata", "realmodels") if target == "metadata" else ("zoo", "realmodels",
                                                                             "support/conformance")
    for folder in folders:
        root = SHARED / folder
        if root.is_dir():
            files += [p for p in root.rglob("*.tflite") if p.stat().st_size <= MAX_SEED_BYTES]
    files.sort(key=lambda p: (p.stat().st_size, str(p)))
    step = max(1, len(files) // limit)
    return files[::step][:limit]


def _edgelite_errors():
    import edgelite
    from edgelite.runtime import UnsupportedOpsError
    return (edgelite.ModelError, edgelite.ConversionError, edgelite.CancelledError, UnsupportedOpsError)


def _loaded_or_model_error(e: BaseException) -> bool:
    """LiteRT's API wraps a load failure in ValueError: accept it when a ModelError caused it."""
    import edgelite
    return isinstance(e, ValueError) and isinstance(e.__cause__, edgelite.ModelError)


def run_reader(data: bytes) -> None:
    import edgelite
    model = edgelite.load_model(data)
    model.to_bytes()


def run_interpreter(data: bytes) -> None:
    import numpy as np
    import edgelite
    if not data:
        return  # LiteRT's API: no model_content is a usage error, not a model
    it = edgelite.Interpreter(model_content=data, max_memory_bytes=BUDGET_BYTES,
                              max_loop_iterations=MAX_LOOP_ITERATIONS)
    it.allocate_tensors()
    for d in it.get_input_details():
        shape = tuple(int(s) for s in d["shape"])
        if d["dtype"] is np.object_ or d["dtype"] is np.bytes_:
            continue
        try:
            it.set_tensor(d["index"], np.zeros(shape, d["dtype"]))
        except ValueError as e:  # LiteRT's API: a graph input that is a constant cannot be set
            if "is a constant" not in str(e):
                raise
    it.invoke(timeout=TIME_LIMIT_S / 2)
    for d in it.get_output_details():
        try:
            it.get_tensor(d["index"])
        except ValueError as e:  # LiteRT's API: an output no node wrote has no data
            if "Tensor data is null" not in str(e):
                raise


def run_converter(data: bytes) -> None:
    from edgelite.convert import from_onnx
    model = from_onnx(data)
    model.to_bytes()


def run_metadata(data: bytes) -> None:
    try:
        from edgelite.metadata import MetadataDisplayer, read_metadata
    except ImportError:  # edgelite.metadata is optional here
        return
    read_metadata(data)
    displayer = MetadataDisplayer.with_model_buffer(data)
    displayer.get_metadata_json()
    displayer.get_packed_associated_file_list()


RUNNERS = {"reader": run_reader, "interpreter": run_interpreter, "converter": run_converter,
           "metadata": run_metadata}


def kernel_failure(e: BaseException) -> bool:
    """A KernelError the executor made from a kernel's own crash (IndexError...): typed, so
    allowed, but worth a report (the kernel should check its inputs itself)."""
    import edgelite
    from edgelite.runtime.executor import KERNEL_FAILURES
    cause = e.__cause__
    return isinstance(cause, KERNEL_FAILURES) and not isinstance(cause, edgelite.ModelError)


WRAPPED: dict[str, int] = {}  # kernel crashes the executor turned into KernelError, by signature


def check_input(target: str, data: bytes) -> str | None:
    """Run one input; None if it obeyed the rules, else a description of the finding. A slow
    run is retried once: the first use of a kernel may import a module (one-time cost)."""
    report = _check_once(target, data)
    if report is not None and report.startswith("slow:"):
        report = _check_once(target, data)
    return report


def _check_once(target: str, data: bytes) -> str | None:
    allowed = _edgelite_errors()
    start = time.perf_counter()
    try:
        RUNNERS[target](data)
    except allowed as e:
        if kernel_failure(e):
            sig = f"{type(e.__cause__).__name__} {str(e).splitlines()[0][:120]}"
            WRAPPED[sig] = WRAPPED.get(sig, 0) + 1
    except ValueError as e:
        if not _loaded_or_model_error(e):
            return f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    except Exception as e:  # noqa: BLE001 - everything else is what we hunt
        return f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    elapsed = time.perf_counter() - start
    if elapsed > TIME_LIMIT_S:
        return f"slow: took {elapsed:.2f} s (limit {TIME_LIMIT_S} s)"
    return None


def finding_signature(report: str) -> str:
    """Exception type plus the innermost edgelite frame: one file per kind of bug."""
    first = report.splitlines()[0]
    kind = first.split(":", 1)[0]
    frames = [line.strip() for line in report.splitlines() if "edgelite/" in line and line.strip().startswith("File")]
    return f"{kind} @ {frames[-1] if frames else '?'}"


def main(argv: list[str]) -> None:
    import atheris
    target = argv[1]
    if target not in TARGETS:
        raise SystemExit(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    keep_going = None
    rest = argv[2:]
    if "--keep-going" in rest:
        k = rest.index("--keep-going")
        keep_going = Path(rest[k + 1])
        keep_going.mkdir(parents=True, exist_ok=True)
        rest = rest[:k] + rest[k + 2:]
    with atheris.instrument_imports(include=["edgelite"]):
        import edgelite  # noqa: F401
        import edgelite.interpreter  # noqa: F401
        import edgelite.kernels  # noqa: F401
        if target == "converter":
            import edgelite.convert  # noqa: F401
            import edgelite.convert.converter  # noqa: F401
        if target == "metadata":
            try:
                import edgelite.metadata  # noqa: F401
            except ImportError:
                pass
    seen: set[str] = set()
    counts = {"inputs": 0, "findings": 0}

    def one_input(data: bytes) -> None:
        counts["inputs"] += 1
        if keep_going is not None and counts["inputs"] % 500 == 0:
            summary = {"inputs": counts["inputs"], "findings": counts["findings"], "wrapped": WRAPPED}
            (keep_going / f"{target}-summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
        report = check_input(target, data)
        if report is None:
            return
        if keep_going is None:
            raise Finding(report)
        sig = finding_signature(report)
        if sig in seen:
            return
        seen.add(sig)
        counts["findings"] += 1
        name = hashlib.sha1(data).hexdigest()[:16]
        (keep_going / f"{target}-{name}.bin").write_bytes(data)
        (keep_going / f"{target}-{name}.txt").write_text(sig + "\n\n" + report)
        print(f"FINDING {sig}", file=sys.stderr, flush=True)

    atheris.Setup([argv[0], *rest], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
