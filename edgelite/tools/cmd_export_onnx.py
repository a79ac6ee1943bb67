"""``edgelite export-onnx MODEL -o OUT.onnx [--input-shape 1,224,224,3] [--qdq]``.

Lowers a .tflite model's main subgraph to ONNX (edgelite.export_onnx): float32 ops as they
are, float16 weights widened, int8 models as QLinearConv plus QDQ (or QDQ only with
``--qdq``). Shapes are static: the model's own, or those given with ``--input-shape``
(once per input, in input order). Every node must have a lowering; the error lists the
ones that have none (the ONNX Runtime delegate keeps those on edgelite instead).
"""
from __future__ import annotations

import argparse

from .cli import UserError
from .cmd_run import check_model_path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export-onnx", help="lower a .tflite model to ONNX (runs in ONNX Runtime)",
        description="Lower a .tflite model to an ONNX model with static shapes: float32, float16-weight "
                    "and int8 (QLinearConv / QDQ) models. Needs the onnx package (edgelite[ort]).")
    p.add_argument("model", help="path to a .tflite file")
    p.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    p.add_argument("--input-shape", action="append", default=None, metavar="D0,D1,...",
                   help="static shape of an input (repeat once per input, in order); default: the model's")
    p.add_argument("--qdq", action="store_true",
                   help="int8 convolutions as DequantizeLinear->Conv->QuantizeLinear instead of QLinearConv")
    p.set_defaults(func=run)


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise UserError(f"--input-shape {text!r}: expected comma-separated integers") from None
    if any(d < 0 for d in dims):
        raise UserError(f"--input-shape {text!r}: dimensions must be >= 0")
    return dims


def run(args: argparse.Namespace) -> int:
    check_model_path(args.model)
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise UserError("export-onnx needs the onnx package: pip install 'edgelite[ort]'") from None
    from ..export_onnx import export_onnx
    from ..reader import load_model
    model = load_model(args.model)
    shapes = None
    if args.input_shape:
        shapes = [_shape(s) for s in args.input_shape]
        if len(shapes) != len(model.main.inputs):
            raise UserError(f"--input-shape given {len(shapes)} times; the model has {len(model.main.inputs)} inputs")
    proto = export_onnx(model, input_shapes=shapes, qlinear=not args.qdq)
    import onnx
    onnx.save(proto, args.output)
    ops: dict[str, int] = {}
    for node in proto.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print(f"wrote {args.output}: {len(proto.graph.node)} ONNX nodes from {len(model.main.operators)} TFLite ops "
          f"(opset {proto.opset_import[0].version})")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(ops.items(), key=lambda kv: -kv[1])))
    return 0
