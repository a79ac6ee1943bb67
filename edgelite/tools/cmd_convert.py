"""``edgelite convert model.onnx -o model.tflite [--nhwc-io] [--opset-check] [--mode MODE ...]``.

The quantization flags are those of ``edgelite quantize``: with ``--mode`` the converted model is
quantized before it is written.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("convert", help="convert an ONNX model to .tflite (no TensorFlow needed)",
                              description="Convert an ONNX model to .tflite. Every problem found is listed; "
                                          "the exit status is 2 if the model cannot be converted.")
    p.add_argument("model", help="the .onnx file")
    p.add_argument("-o", "--output", help="the .tflite file to write (default: MODEL with .tflite suffix)")
    p.add_argument("--nhwc-io", action="store_true",
                   help="make image inputs/outputs channels-last (NHWC): no TRANSPOSE at all in the graph")
    p.add_argument("--opset-check", action="store_true",
                   help="only check the model's opsets and op types against what the converter supports")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME:D0,D1,...",
                   help="fix the shape of a dynamic input (repeatable)")
    p.add_argument("--keep-qdq", action="store_true",
                   help="a quantized (QDQ) model keeps float ops between QUANTIZE and DEQUANTIZE "
                        "instead of int8 ops")
    from .cmd_quantize import add_quantize_arguments
    add_quantize_arguments(p.add_argument_group("quantization (as edgelite quantize)"), default_mode=None)
    p.set_defaults(func=run)


def _parse_shapes(items) -> dict:
    from .cli import UserError
    shapes = {}
    for item in items:
        name, sep, dims = item.rpartition(":")
        if not sep or not name:
            raise UserError(f"--input-shape {item!r}: expected NAME:D0,D1,...")
        try:
            shapes[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            raise UserError(f"--input-shape {item!r}: dimensions must be integers") from None
    return shapes


def run(args: argparse.Namespace) -> int:
    from ..convert.lowering import LOWERINGS
    from ..convert.onnx_import import check_opsets, load_onnx
    from ..errors import ConversionError
    src = Path(args.model)
    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such file")
    try:
        onnx_model = load_onnx(str(src))
    except Exception as e:
        raise ConversionError([f"{src}: not a readable ONNX model ({type(e).__name__}: {e})"]) from None
    if args.opset_check:
        opset, problems = check_opsets(onnx_model)
        missing = sorted({n.op_type for n in onnx_model.graph.node
                          if n.domain in ("", "ai.onnx") and n.op_type not in LOWERINGS and n.op_type != "Constant"})
        problems += [f"op type {t!r} has no lowering" for t in missing]
        if problems:
            raise ConversionError(problems)
        print(f"{src}: opset {opset}, {len(onnx_model.graph.node)} nodes: all op types supported")
        return 0
    from ..convert import from_onnx
    t0 = time.perf_counter()
    stats: dict = {}
    model = from_onnx(onnx_model, nhwc_io=args.nhwc_io, input_shapes=_parse_shapes(args.input_shape), stats=stats,
                      fold_quantization=not args.keep_qdq)
    dt = time.perf_counter() - t0
    report = None
    if args.mode:
        from .cmd_quantize import quantize_from_args
        model, report = quantize_from_args(model, args, quiet=False)
    out = Path(args.output) if args.output else src.with_suffix(".tflite")
    model.save(str(out))
    hist = ", ".join(f"{k} x{v}" for k, v in model.op_histogram().items())
    print(f"wrote {out} ({out.stat().st_size} bytes) in {dt:.2f} s: {sum(model.op_histogram().values())} ops: {hist}")
    done = {k: v for k, v in stats.items() if v}
    if done:
        print("passes: " + ", ".join(f"{k} {v}" for k, v in done.items()))
    if report is not None:
        print(report.summary())
    return 0
