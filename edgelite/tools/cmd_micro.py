"""``edgelite micro plan|export|size MODEL``: TFLite Micro arena plan, project export, size report."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

from .cli import UserError


def _bytes(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]i?[bB]?|[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 256K, 1M, 65536)")
    unit = (m.group(2) or "").lower()[:1]
    return int(float(m.group(1)) * {"": 1, "b": 1, "k": 1024, "m": 1 << 20}[unit])


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "micro", help="TFLite Micro: arena plan, project export, flash/RAM size report",
        description="Microcontroller deployment with TensorFlow Lite Micro (docs/micro.md).")
    sub = p.add_subparsers(dest="micro_command", metavar="{plan,export,size}")
    sub.required = True
    plan = sub.add_parser("plan", help="plan the tensor arena (smaller than TFLM's greedy planner)",
                          description="Report the arena: head (activations) per subgraph, tail "
                                      "estimate, total, and TFLM's own figures when the tflite-micro "
                                      "wheel is installed; -o writes the model with the plan as TFLM's "
                                      "offline plan (OfflineMemoryAllocation metadata).")
    plan.add_argument("model", help="path to a .tflite file")
    plan.add_argument("--json", action="store_true", help="print a JSON object (arena_bytes, tflm_arena_bytes, ...)")
    plan.add_argument("-o", "--output", help="write the model with the offline plan here")
    plan.add_argument("--no-measure", action="store_true", help="do not run the tflite-micro wheel")
    plan.set_defaults(func=run_plan)
    export = sub.add_parser("export", help="write a minimal TFLM application project",
                            description="model_data.cc/.h, op_resolver.h, main.cc and README.md.")
    export.add_argument("model", help="path to a .tflite file")
    export.add_argument("-o", "--output", required=True, help="output directory")
    export.add_argument("--format", choices=["cc", "c-array"], default="cc",
                        help="cc: the C++ project (default); c-array: model_data.c/.h only")
    export.add_argument("--arena", type=_bytes, help="tensor arena size for main.cc (default: from the plan)")
    export.set_defaults(func=run_export)
    size = sub.add_parser("size", help="flash and RAM needs, budget warnings and suggestions")
    size.add_argument("model", help="path to a .tflite file")
    size.add_argument("--ram", type=_bytes, help="RAM budget for the tensor arena (e.g. 256K)")
    size.add_argument("--flash", type=_bytes, help="flash budget for the model (e.g. 1M)")
    size.add_argument("--json", action="store_true", help="print a JSON object")
    size.set_defaults(func=run_size)


def _load(path: str):
    from ..errors import ModelError
    from ..reader import load_model
    if os.path.isdir(path):
        raise UserError(f"{path}: is a directory, not a .tflite file")
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    try:
        return load_model(path)
    except ModelError as e:
        raise UserError(f"{path}: {e}") from None


def run_plan(args: argparse.Namespace) -> int:
    from ..micro.planner import with_offline_plan, plan_arena
    from ..micro.report import format_plan, plan_report
    model = _load(args.model)
    report = plan_report(model, args.model, measure=False if args.no_measure else None)
    if args.output:
        with_offline_plan(model, plan_arena(model)).save(args.output)
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_plan(report, os.path.basename(args.model)))
        if args.output:
            sys.stdout.write(f"wrote {args.output} (offline plan in its OfflineMemoryAllocation metadata)\n")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ..micro.export import export_project
    model = _load(args.model)
    name = os.path.splitext(os.path.basename(args.model))[0]
    files = export_project(model, args.output, name=name, fmt=args.format, arena=args.arena)
    for f in files:
        sys.stdout.write(f"wrote {f}\n")
    return 0


def run_size(args: argparse.Namespace) -> int:
    from ..micro.size import format_size, size_report
    model = _load(args.model)
    with open(args.model, "rb") as f:
        data = f.read()
    report = size_report(model, ram=args.ram, flash=args.flash, data=data)
    if args.json:
        json.dump(report, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_size(report, os.path.basename(args.model)))
    return 0
