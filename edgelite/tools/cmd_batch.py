"""``edgelite batch`` and ``edgelite batch-eval``: a model over a whole dataset, on Ray.

``edgelite batch MODEL INPUTS -o OUT.parquet [--workers N] [--address ray://...]`` writes one
row per input (the model's outputs, ``error``, and the input path or columns) as a Parquet
dataset (a folder of part files). ``edgelite batch-eval FLOAT.tflite QUANT.tflite INPUTS
[--labels COLUMN]`` prints how far the second model is from the first. INPUTS: image files, .npy,
.npz or Parquet files, as paths, globs or folders. A local Ray cluster starts unless
``--address`` names one; Ray Data shows its progress bars.
"""
from __future__ import annotations

import argparse
import os

from .cli import UserError
from .cmd_run import check_model_path


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="interpreter actors (default: the cluster's CPUs)")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="rows per batch (default 32)")
    p.add_argument("--address", metavar="ADDR", help="a running Ray cluster (ray://host:10001 or auto); "
                   "default: start a local one")
    p.add_argument("--signature", metavar="KEY", help="run this signature")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("batch", help="run a model over a dataset on Ray, write Parquet",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="path to a .tflite file")
    p.add_argument("inputs", nargs="+", help="image, .npy, .npz or Parquet files (paths, globs, folders)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.parquet", help="Parquet dataset to write")
    p.add_argument("--no-inputs", action="store_true", help="do not copy the input columns to the output")
    p.add_argument("--classify", action="store_true",
                   help="image classifier with TFLite metadata: write labels and scores (edgelite.tasks)")
    p.add_argument("--top", type=int, default=5, metavar="K", help="with --classify: categories per image")
    _common(p)
    p.set_defaults(func=run_batch)

    e = subparsers.add_parser("batch-eval", help="compare two models (float vs quantized) over a dataset",
                              description="Run both models over the dataset and report per-output error "
                                          "statistics, top-1 agreement and, with --labels, accuracy.")
    e.add_argument("model_a", metavar="FLOAT.tflite", help="the reference model")
    e.add_argument("model_b", metavar="QUANT.tflite", help="the model compared with it")
    e.add_argument("inputs", nargs="+", help="image, .npy, .npz or Parquet files (paths, globs, folders)")
    e.add_argument("--labels", metavar="COLUMN", help="a column of integer class labels (e.g. in the .npz)")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(e)
    e.set_defaults(func=run_eval)


def _init(address: str | None) -> None:
    from ..batch.predict import _ray
    try:
        _ray(address)
    except ImportError as e:
        raise UserError(str(e)) from None


def _source(inputs: list[str]):
    return inputs[0] if len(inputs) == 1 else inputs


def run_batch(args) -> int:
    check_model_path(args.model)
    _init(args.address)
    from ..batch import ERROR_COLUMN, predict
    if args.classify:
        from ..batch.tasks import classify_images
        ds = classify_images(_source(args.inputs), args.model, max_results=args.top,
                             batch_size=args.batch_size, num_workers=args.workers)
    else:
        ds = predict(_source(args.inputs), args.model, batch_size=args.batch_size,
                     num_workers=args.workers, signature=args.signature, keep_inputs=not args.no_inputs)
    ds = ds.materialize()
    ds.write_parquet(os.fspath(args.output))
    errors = sum(row[ERROR_COLUMN] is not None for row in ds.select_columns([ERROR_COLUMN]).iter_rows())
    print(f"{ds.count()} rows written to {args.output} ({errors} with an error)")
    return 0


def run_eval(args) -> int:
    check_model_path(args.model_a)
    check_model_path(args.model_b)
    _init(args.address)
    from ..batch import evaluate
    report = evaluate(_source(args.inputs), args.model_a, args.model_b, labels=args.labels,
                      batch_size=args.batch_size, num_workers=args.workers, signature=args.signature)
    print(report.to_json() if args.json else report)
    return 0
