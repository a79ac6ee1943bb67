"""``edgelite model-maker image DATA_DIR -o model.tflite``: transfer learning from the shell.

Trains ``edgelite.model_maker.image_classifier`` on a folder with one subfolder per class and
writes the exported .tflite (backbone + head, metadata, labels) where ``-o`` says.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("model-maker", help="train a classifier on your images (transfer learning)",
                              description="Model Maker without TensorFlow.")
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    img = kinds.add_parser("image", help="image classifier from a folder of class subfolders")
    img.add_argument("data_dir", help="folder with one subfolder of images per class")
    img.add_argument("-o", "--output", required=True, help="where to write the .tflite")
    img.add_argument("--spec", default="efficientnet_lite0",
                     help="backbone: efficientnet_lite0 or a feature-vector .tflite (default: efficientnet_lite0)")
    img.add_argument("--image-size", type=int, default=None, help="efficientnet_lite0 input size (default 224)")
    img.add_argument("--epochs", type=int, default=None)
    img.add_argument("--batch-size", type=int, default=32)
    img.add_argument("--learning-rate", type=float, default=None)
    img.add_argument("--validation-split", type=float, default=0.0,
                     help="hold out this fraction of the images and report accuracy on it")
    img.add_argument("--quantize", choices=["int8", "float16", "dynamic"], default=None)
    img.add_argument("--trainable", action="store_true", help="add train/save/restore signatures")
    img.add_argument("--seed", type=int, default=0)
    img.add_argument("-q", "--quiet", action="store_true")
    img.set_defaults(func=run_image)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_image(args: argparse.Namespace) -> int:
    from ..model_maker import DataLoader, image_classifier
    data = DataLoader.from_folder(args.data_dir, seed=args.seed)
    validation = None
    if args.validation_split > 0:
        data, validation = data.split(1.0 - args.validation_split)
    kw = {}
    if args.epochs is not None:
        kw["epochs"] = args.epochs
    if args.learning_rate is not None:
        kw["learning_rate"] = args.learning_rate
    model = image_classifier.create(data, model_spec=args.spec, validation_data=validation,
                                    batch_size=args.batch_size, seed=args.seed, image_size=args.image_size,
                                    progress=not args.quiet, **kw)
    out = Path(args.output)
    with tempfile.TemporaryDirectory() as tmp:
        path = model.export(tmp, quantization=args.quantize, trainable=args.trainable)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        shutil.copyfile(Path(tmp) / "labels.txt", out.with_name(out.stem + "_labels.txt"))
    if not args.quiet:
        msg = f"wrote {out} ({out.stat().st_size} bytes, {len(data.label_names)} classes)"
        if validation is not None:
            loss, acc = model.evaluate(validation)
            msg += f"; validation accuracy {acc:.4f}, loss {loss:.4f}"
        print(msg)
    return 0
