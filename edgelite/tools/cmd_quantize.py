"""``edgelite quantize``: post-training quantization of a .tflite model.

The quantization flags are defined once here (``add_quantize_arguments``) and shared with
``edgelite convert``, which can quantize the model it has just converted.
"""
from __future__ import annotations

import argparse
from pathlib import Path

MODES = ["dynamic", "float16", "int8", "int16x8"]


def add_quantize_arguments(p: argparse.ArgumentParser, default_mode: str | None) -> None:
    """Add the quantization flags; with ``default_mode=None`` quantization is off unless --mode is given."""
    p.add_argument("--mode", "--quantize", dest="mode", choices=MODES, default=default_mode,
                   help=f"quantization mode (default: {default_mode or 'none, keep float'})")
    p.add_argument("--calibration", metavar="DATA",
                   help=".npz / .npy file or a folder of images (int8 / int16x8 modes); for a model "
                        "with several signatures an .npz with arrays named SIGNATURE/INPUT")
    p.add_argument("--samples", type=int, default=None, help="use at most this many calibration samples")
    p.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), help="image size (image folders)")
    p.add_argument("--mean", type=float, nargs="+", default=[0.0], help="image preprocessing mean")
    p.add_argument("--std", type=float, nargs="+", default=[1.0], help="image preprocessing std")
    p.add_argument("--method", choices=["minmax", "percentile"], default="minmax", help="calibration method")
    p.add_argument("--percentile", type=float, default=99.99)
    p.add_argument("--io", choices=["float32", "int8", "int16"], default="float32",
                   help="inference input/output type")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor, not per channel")
    p.add_argument("--keep-float", nargs="*", default=[], metavar="NAME",
                   help="op codes, op output tensor names or signature keys to leave in float")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("quantize", help="post-training quantization (dynamic, float16, int8, int16x8)",
                              description="Quantize a float .tflite model.")
    p.add_argument("model", help="float .tflite model")
    p.add_argument("-o", "--output", required=True, help="where to write the quantized model")
    add_quantize_arguments(p, default_mode="int8")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=run)


def quantize_from_args(model, args: argparse.Namespace, quiet: bool):
    """Quantize an IR model as the shared flags in ``args`` say; returns (model, report)."""
    from ..optimize import quantize
    from ..optimize.data import load_samples, load_signature_samples
    from .cli import UserError
    data = None
    if args.mode in ("int8", "int16x8"):
        if not args.calibration:
            raise UserError(f"--mode {args.mode} needs --calibration DATA")
        if len({sig.subgraph_index for sig in model.signature_defs}) > 1:
            data = load_signature_samples(args.calibration, model, args.samples)
        else:
            data = load_samples(args.calibration, model, tuple(args.size) if args.size else None,
                                args.mean, args.std, args.samples)
    keep = [int(k) if k.isdigit() else k for k in args.keep_float]
    return quantize(model, args.mode, data, inference_input_type=args.io, inference_output_type=args.io,
                    per_channel=not args.per_tensor, keep_float=keep, calibration=args.method,
                    percentile=args.percentile, progress=not quiet, return_report=True)


def run(args: argparse.Namespace) -> int:
    from ..reader import load_model
    model = load_model(args.model)
    q, report = quantize_from_args(model, args, args.quiet)
    q.save(args.output)
    if not args.quiet:
        before, after = Path(args.model).stat().st_size, Path(args.output).stat().st_size
        print(report.summary())
        print(f"wrote {args.output}: {after} bytes ({before} before, {after / before:.1%})")
    return 0
