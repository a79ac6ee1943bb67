"""Run the ONNX backend node test suite through edgelite.convert and LiteRT.

    python tools/onnx_node_suite.py [--filter SUBSTR] [--jobs N] [--write-doc] [--failures]

Each case is converted with :func:`edgelite.convert.from_onnx`; if conversion reports that an
op needs a *constant* input (Reshape's shape, Slice's starts, Pad's pads, ...) which the suite
feeds as a graph input, the case is converted again with those inputs bound to the test's
values (recorded as "bound" in the report). The .tflite model is run in LiteRT and its outputs
compared with the expected ones at the suite's tolerances (rtol 1e-3, atol 1e-7, as
``onnx.backend.test`` does). Cases listed in tests/convert/onnx_node_skips.txt are skipped.
``--write-doc`` regenerates docs/onnx_node_coverage.md; it runs the suite twice, in LiteRT and in
``edgelite.Interpreter``, and lists the cases that pass in LiteRT but not in edgelite.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import threading
import os
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SKIPS_FILE = REPO / "tests" / "convert" / "onnx_node_skips.txt"
DOC_FILE = REPO / "docs" / "onnx_node_coverage.md"


def load_skips(path: Path = SKIPS_FILE) -> dict[str, str]:
    """``name_or_prefix*  # reason`` per line; every entry must carry a reason."""
    skips = {}
    if not path.exists():
        return skips
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "#" not in line:
            raise ValueError(f"{path}:{n}: skip entry without a reason: {line!r}")
        name, reason = (s.strip() for s in line.split("#", 1))
        if not reason:
            raise ValueError(f"{path}:{n}: empty reason for {name!r}")
        skips[name] = reason
    return skips


def skip_reason(name: str, skips: dict[str, str]) -> str | None:
    for pat, reason in skips.items():
        if pat.endswith("*") and name.startswith(pat[:-1]) or name == pat:
            return reason
    return None


def load_cases():
    from onnx.backend.test.loader import load_model_tests
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_model_tests(kind="node")


def op_types(case) -> list[str]:
    return sorted({n.op_type for n in case.model.graph.node})


def main_op(case) -> str:
    nodes = case.model.graph.node
    return nodes[-1].op_type if len(nodes) == 1 else (nodes[0].op_type if nodes else "?")


_ALIASES = {"sce": "SoftmaxCrossEntropyLoss", "nllloss": "NegativeLogLikelihoodLoss"}
_OP_NAMES: list[str] = []


def _op_from_stem(stem: str) -> str:
    """The ONNX op whose name the test-name stem starts with (longest match), e.g. layer_normalization_4d."""
    if not _OP_NAMES:
        import onnx.defs
        _OP_NAMES.extend(sorted({sch.name for sch in onnx.defs.get_all_schemas_with_history()}, key=len,
                                reverse=True))
    first = stem.split("_", 1)[0]
    if first in _ALIASES:
        return _ALIASES[first]
    flat = stem.replace("_", "").lower()
    for name in _OP_NAMES:
        if flat.startswith(name.lower()):
            return name
    return first


def case_op(case) -> str:
    """The op a case tests; expanded function cases (``*_expanded``) are listed as "Op (expanded)"."""
    if "_expanded" in case.name:
        return f"{_op_from_stem(case.name[len('test_'):].split('_expanded')[0])} (expanded)"
    return main_op(case)


def run_case(case, interpreter_cls=None) -> tuple[str, str, bool]:
    """Returns (status, detail, bound): status in pass / fail / unsupported / error."""
    from edgelite.errors import ConversionError
    from edgelite.convert import from_onnx
    model = case.model
    init_names = {i.name for i in model.graph.initializer}
    input_names = [i.name for i in model.graph.input if i.name not in init_names]
    inputs, expected = case.data_sets[0]
    inputs, expected = [_as_array(x) for x in inputs], [_as_array(x) for x in expected]
    feeds = dict(zip(input_names, inputs))
    bound = {}
    try:
        for _attempt in range(8):
            try:
                tfl = from_onnx(model, bind_inputs=bound or None)
                break
            except ConversionError as e:
                need = [n for n in getattr(e, "needs_constant", []) if n in feeds and n not in bound]
                if not need:
                    raise
                bound.update({n: feeds[n] for n in need})
    except ConversionError as e:
        return "unsupported", "; ".join(e.problems)[:300], bool(bound)
    except Exception as e:  # a converter bug: report, keep going
        return "error", f"convert: {type(e).__name__}: {e}"[:300], bool(bound)
    if interpreter_cls is None and os.environ.get("EDGELITE_NODE_SUITE_INTERPRETER") == "edgelite":
        from edgelite.interpreter import Interpreter as interpreter_cls
    try:
        outs = run_tflite(tfl, [feeds[n] for n in input_names if n not in bound], interpreter_cls)
    except Exception as e:
        return "error", f"run: {type(e).__name__}: {e}"[:300], bool(bound)
    if len(outs) != len(expected):
        return "fail", f"{len(outs)} outputs, expected {len(expected)}", bool(bound)
    for j, (got, ref) in enumerate(zip(outs, expected)):
        ref = np.asarray(ref)
        if got.shape != ref.shape:
            return "fail", f"output {j}: shape {got.shape} != {ref.shape}", bool(bound)
        if ref.dtype.kind in "fc":
            ok = np.allclose(got.astype(ref.dtype), ref, rtol=case.rtol, atol=case.atol, equal_nan=True)
        elif ref.dtype == object:
            ok = list(got.reshape(-1)) == list(ref.reshape(-1))
        else:
            ok = got.dtype == ref.dtype and np.array_equal(got, ref)
            if not ok and np.array_equal(got, ref):
                return "fail", f"output {j}: dtype {got.dtype} != {ref.dtype}", bool(bound)
        if not ok:
            err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64))) if ref.size else 0
            return "fail", f"output {j}: max abs error {err:.3g}", bool(bound)
    return "pass", "", bool(bound)


def _as_array(x):
    """Test data may be stored as TensorProto (e.g. the Cast cases): decode to numpy."""
    from onnx import TensorProto, numpy_helper
    if isinstance(x, TensorProto):
        return numpy_helper.to_array(x)
    return x


def run_tflite(model, inputs, interpreter_cls=None):
    if interpreter_cls is None:
        from ai_edge_litert.interpreter import Interpreter as interpreter_cls
    it = interpreter_cls(model_content=model.to_bytes())
    details = it.get_input_details()
    for d, x in zip(details, inputs):
        x = np.asarray(x)
        if tuple(d["shape"]) != x.shape:
            it.resize_tensor_input(d["index"], x.shape)
    it.allocate_tensors()
    for d, x in zip(details, inputs):
        it.set_tensor(d["index"], np.array(x, order="C", copy=True))
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


def _case_result(case, skips):
    reason = skip_reason(case.name, skips)
    if reason:
        return ("skip", reason, False, case_op(case))
    status, detail, bound = run_case(case)
    return (status, detail, bound, case_op(case))


def worker(names: list[str]) -> None:
    """Child process: run the named cases, one JSON line each (LiteRT may abort the process)."""
    skips = load_skips()
    wanted = set(names)
    for case in load_cases():
        if case.name in wanted:
            res = _case_result(case, skips)
            sys.stdout.write("RESULT " + json.dumps([case.name, *res]) + "\n")
            sys.stdout.flush()


def run_all(filter_=None, verbose=False, jobs=2, interpreter="litert"):
    """Run the suite in ``jobs`` child processes (running the models in ``interpreter``),
    restarting a child after a crash."""
    names = [c.name for c in load_cases() if not filter_ or filter_ in c.name]
    ops = {c.name: case_op(c) for c in load_cases() if c.name in set(names)}
    chunks = [names[i::jobs] for i in range(jobs)]
    results = {}

    def start(chunk):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", EDGELITE_NODE_SUITE_INTERPRETER=interpreter)
        return subprocess.Popen([sys.executable, __file__, "--worker", *chunk], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env, cwd=str(REPO))

    def drive(chunk):
        while chunk:
            p = start(chunk)
            done = set()
            for line in p.stdout:
                if line.startswith("RESULT "):
                    name, status, detail, bound, op = json.loads(line[7:])
                    results[name] = (status, detail, bound, op)
                    done.add(name)
                    if verbose and status != "pass":
                        print(f"{name}: {status}: {detail}", flush=True)
            p.wait()
            rest = [n for n in chunk if n not in done]
            if rest:  # the process died on rest[0]
                results[rest[0]] = ("error", "run: the interpreter process crashed", False, ops[rest[0]])
                if verbose:
                    print(f"{rest[0]}: error: crashed", flush=True)
            chunk = rest[1:]

    threads = [threading.Thread(target=drive, args=(c,)) for c in chunks if c]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def edgelite_gaps(results, edgelite_results) -> list[tuple[str, str]]:
    """(case, edgelite's status: detail) for the cases that pass in LiteRT but not in edgelite."""
    gaps = []
    for name, (status, *_rest) in sorted(results.items()):
        other = edgelite_results.get(name)
        if status == "pass" and other is not None and other[0] != "pass":
            gaps.append((name, f"{other[0]}: {other[1]}".splitlines()[0][:160]))
    return gaps


def write_doc(results, seconds: float, path: Path = DOC_FILE, edgelite_results=None):
    per_op = defaultdict(lambda: defaultdict(int))
    for name, (status, _, bound, op) in results.items():
        per_op[op][status] += 1
        per_op[op]["total"] += 1
        if edgelite_results is not None and edgelite_results.get(name, ("",))[0] == "pass":
            per_op[op]["edgelite"] += 1
    total = defaultdict(int)
    for st, *_ in results.values():
        total[st] += 1
    n_bound = sum(1 for st, _, b, _ in results.values() if st == "pass" and b)
    lines = ["# ONNX node test suite coverage", "",
             "Generated by `python tools/onnx_node_suite.py --write-doc` (do not edit by hand).", "",
             f"Each case of `onnx.backend.test` (kind=node, {len(results)} cases) is converted with",
             "`edgelite.convert.from_onnx`, run in LiteRT (ai-edge-litert) and compared with the expected outputs",
             "at the suite's tolerances (rtol 1e-3, atol 1e-7).", "",
             f"**passed {total['pass']}** / {len(results)}; failed (wrong result or runtime error) "
             f"{total['fail'] + total['error']}; not convertible (clean ConversionError) {total['unsupported']}; "
             f"skipped {total['skip']} (reasons in tests/convert/onnx_node_skips.txt). Run time {seconds:.0f} s.", "",
             f"{n_bound} of the passing cases feed a parameter (shape, pads, starts, ...) as a graph input; "
             "the harness binds such inputs to the test's values, since TFLite needs them constant.", ""]
    with_edgelite = edgelite_results is not None
    if with_edgelite:
        gaps = edgelite_gaps(results, edgelite_results)
        n_el = sum(1 for st, *_ in edgelite_results.values() if st == "pass")
        lines += [f"The same converted models run in `edgelite.Interpreter` (column *edgelite*): **{n_el} pass**; "
                  f"{len(gaps)} case(s) pass in LiteRT but not in edgelite"
                  + (":" if gaps else "."), ""]
        lines += [f"* `{name}`: {detail}" for name, detail in gaps]
        lines += [""] if gaps else []
    head = "| op | cases | pass | fail | error | unsupported | skip |" + (" edgelite |" if with_edgelite else "")
    lines += [head, "|---|" + "---:|" * (6 + with_edgelite)]
    for op in sorted(per_op):
        c = per_op[op]
        row = (f"| {op} | {c['total']} | {c['pass']} | {c['fail']} | {c['error']} | {c['unsupported']} | "
               f"{c['skip']} |")
        lines.append(row + (f" {c['edgelite']} |" if with_edgelite else ""))
    lines.append("")
    path.write_text("\n".join(lines))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter", default=None)
    ap.add_argument("--write-doc", action="store_true")
    ap.add_argument("--failures", action="store_true", help="print every non-passing case")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--interpreter", choices=["litert", "edgelite"], default="litert",
                    help="run the converted models in LiteRT (default) or in edgelite.Interpreter")
    ap.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker is not None:
        worker(args.worker)
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.write_doc and (args.interpreter != "litert" or args.filter):
        print("--write-doc documents a full LiteRT run (plus edgelite); drop --interpreter / --filter")
        return 2
    t0 = time.time()
    results = run_all(args.filter, verbose=args.failures, jobs=args.jobs, interpreter=args.interpreter)
    dt = time.time() - t0
    _print_counts(args.interpreter, results, dt)
    if args.write_doc:
        t1 = time.time()
        edgelite_results = run_all(None, verbose=args.failures, jobs=args.jobs, interpreter="edgelite")
        _print_counts("edgelite", edgelite_results, time.time() - t1)
        write_doc(results, dt, edgelite_results=edgelite_results)
    return 0


def _print_counts(interpreter: str, results: dict, seconds: float) -> None:
    counts = defaultdict(int)
    for st, *_ in results.values():
        counts[st] += 1
    print(f"{interpreter}: {len(results)} cases in {seconds:.0f}s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    sys.exit(main())
