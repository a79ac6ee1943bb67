"""``edgelite viz MODEL [-o model.html] [--profile] [--quant-debug REPORT.json] [--open]``.

Writes the model's graph as one self-contained HTML page (edgelite.viz, docs/viz.md),
next to the model unless ``-o`` says where. ``--profile`` overlays each node's time from
edgelite's profiler on random inputs; ``--quant-debug`` overlays the per-op SNR of an
``edgelite debug-quant --json`` report; ``--delegate`` badges the nodes a delegate takes.
"""
from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path

from .cli import UserError
from .cmd_bench import _delegates
from .cmd_run import check_model_path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "viz", help="write the model's graph as one offline HTML page",
        description="Render a .tflite model as a self-contained HTML graph viewer (no network access), "
                    "optionally with per-node profile time or quantization SNR overlays.")
    p.add_argument("model", help="path to a .tflite file")
    p.add_argument("-o", "--output", help="HTML file to write (default: MODEL with .html next to it)")
    p.add_argument("--profile", action="store_true", help="overlay per-node time from edgelite's profiler")
    p.add_argument("--runs", type=int, default=5, help="timed inferences for --profile (default 5)")
    p.add_argument("--quant-debug", metavar="REPORT.json",
                   help="overlay per-op SNR from `edgelite debug-quant --json REPORT.json`")
    p.add_argument("--delegate", metavar="NAME",
                   help="mark the nodes this delegate would run, e.g. onnxruntime (docs/delegates.md)")
    p.add_argument("--delegate-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the delegate (repeatable)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_model_path(args.model)
    from ..viz import profile_overlay, quant_debug_overlay, save
    if args.runs < 1:
        raise UserError("--runs must be >= 1")
    overlays = []
    if args.profile:
        from ..runtime import UnsupportedOpsError
        try:
            overlays.append(profile_overlay(args.model, runs=args.runs))
        except UnsupportedOpsError as e:
            raise UserError(f"--profile: edgelite cannot run this model: {e}") from None
    if args.quant_debug:
        if not Path(args.quant_debug).is_file():
            raise UserError(f"{args.quant_debug}: no such file")
        overlays.append(quant_debug_overlay(args.quant_debug))
    delegated = None
    delegates = _delegates(args)
    if delegates:
        from ..interpreter import Interpreter
        from ..viz import delegated_nodes
        delegated = delegated_nodes(Interpreter(model_path=args.model, experimental_delegates=delegates)._delegation)
    out = Path(args.output) if args.output else Path(args.model).with_suffix(".html")
    save(args.model, out, overlays, delegated=delegated)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    if args.open:
        webbrowser.open(out.resolve().as_uri())
    return 0
