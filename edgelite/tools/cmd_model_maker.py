"""``edgelite model-maker image DATA_DIR -o model.tflite`` and ``edgelite model-maker text
DATA.csv -o model.tflite``: transfer learning from the shell.

``image`` trains ``edgelite.model_maker.image_classifier`` on a folder with one subfolder per
class; ``text`` trains ``edgelite.model_maker.text_classifier`` on a CSV of sentences and class
names (TFLite Model Maker's ``DataLoader.from_csv``). Both write the exported .tflite (with
metadata) where ``-o`` says, and the labels (and vocabulary) files next to it.
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
    txt = kinds.add_parser("text", help="text classifier from a CSV of sentences and labels",
                           description="Train a sentence classifier on a CSV file (one sentence per row, "
                           "a header naming the columns), as TFLite Model Maker's DataLoader.from_csv reads it.")
    txt.add_argument("data", help="CSV file with a header row; see --text-column / --label-column")
    txt.add_argument("-o", "--output", required=True, help="where to write the .tflite")
    txt.add_argument("--text-column", default="text", help="column of the sentences (default: text)")
    txt.add_argument("--label-column", default="label", help="column of the class names (default: label)")
    txt.add_argument("--delimiter", default=",", help="CSV field delimiter (default: ,)")
    txt.add_argument("--spec", default="average_word_vec", choices=["average_word_vec", "minilm"],
                     help="average_word_vec (trains its own embedding) or minilm (all-MiniLM-L6-v2 "
                     "sentence embeddings; needs edgelite[model-maker])")
    txt.add_argument("--epochs", type=int, default=None, help="average_word_vec only (default 50)")
    txt.add_argument("--batch-size", type=int, default=32, help="average_word_vec only")
    txt.add_argument("--learning-rate", type=float, default=None, help="average_word_vec only (default 0.03)")
    txt.add_argument("--validation-split", type=float, default=0.0,
                     help="hold out this fraction of the rows and report accuracy on it")
    txt.add_argument("--no-shuffle", action="store_true",
                     help="keep the file's row order (by default rows are shuffled with --seed before the split)")
    txt.add_argument("--quantize", choices=["float16", "dynamic"], default=None, help="average_word_vec only")
    txt.add_argument("--seed", type=int, default=0)
    txt.add_argument("-q", "--quiet", action="store_true")
    txt.set_defaults(func=run_text)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _training_options(args: argparse.Namespace) -> dict:
    """``epochs`` / ``learning_rate`` for ``create`` where given on the command line (else its defaults)."""
    return {name: value for name, value in (("epochs", args.epochs), ("learning_rate", args.learning_rate))
            if value is not None}


def run_image(args: argparse.Namespace) -> int:
    from ..model_maker import DataLoader, image_classifier
    data = DataLoader.from_folder(args.data_dir, seed=args.seed)
    validation = None
    if args.validation_split > 0:
        data, validation = data.split(1.0 - args.validation_split)
    kw = _training_options(args)
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


def run_text(args: argparse.Namespace) -> int:
    from ..model_maker import text_classifier
    from ..model_maker.text_classifier import TextDataLoader
    data = TextDataLoader.from_csv(args.data, text_column=args.text_column, label_column=args.label_column,
                                   delimiter=args.delimiter, shuffle=not args.no_shuffle, seed=args.seed)
    if args.spec == "minilm":
        unused = [flag for flag, value in (("--epochs", args.epochs), ("--learning-rate", args.learning_rate),
                                           ("--quantize", args.quantize)) if value is not None]
        if unused:
            raise ValueError(f"{', '.join(unused)}: average_word_vec only (the minilm head uses Model Maker's "
                             "image-head defaults and exports float)")
    validation = None
    if args.validation_split > 0:
        data, validation = data.split(1.0 - args.validation_split)
    kw = _training_options(args)
    model = text_classifier.create(data, model_spec=args.spec, batch_size=args.batch_size, seed=args.seed,
                                   progress=not args.quiet, **kw)
    out = Path(args.output)
    with tempfile.TemporaryDirectory() as tmp:
        path = (model.export(tmp, quantization=args.quantize) if args.spec == "average_word_vec"
                else model.export(tmp))
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        for name in ("labels", "vocab"):
            if (Path(tmp) / f"{name}.txt").exists():
                shutil.copyfile(Path(tmp) / f"{name}.txt", out.with_name(f"{out.stem}_{name}.txt"))
    if not args.quiet:
        msg = f"wrote {out} ({out.stat().st_size} bytes, {len(data.label_names)} classes)"
        if validation is not None and len(validation):
            loss, acc = model.evaluate(validation)
            msg += f"; validation accuracy {acc:.4f}, loss {loss:.4f}"
        print(msg)
    return 0
