"""``edgelite metadata MODEL [--json] [--extract DIR]``: a model's TFLite metadata and the
associated files packed with it (labels, vocabularies, ...)."""
from __future__ import annotations

import argparse
import os
import sys

from .cli import UserError


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "metadata", help="print a model's TFLite metadata and list (or extract) its associated files",
        description="Print the TFLite metadata of a .tflite model as JSON (exactly what "
                    "tflite-support's MetadataDisplayer prints) and list the associated files "
                    "packed in it; --extract writes those files to a folder.")
    p.add_argument("model", help="path to a .tflite file")
    p.add_argument("--json", action="store_true", help="print only the metadata JSON")
    p.add_argument("--extract", metavar="DIR", help="write the associated files into DIR")
    p.set_defaults(func=run)


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    if base in ("", ".", ".."):
        raise UserError(f"associated file {name!r}: not a file name that can be extracted")
    return base


def run(args: argparse.Namespace) -> int:
    from ..metadata.container import get_metadata_buffer, packed_file_names, read_packed_file
    from ..metadata.displayer import convert_to_json

    if os.path.isdir(args.model):
        raise UserError(f"{args.model}: is a directory, not a .tflite file")
    if not os.path.exists(args.model):
        raise UserError(f"{args.model}: no such file")
    with open(args.model, "rb") as f:
        data = f.read()
    metadata = get_metadata_buffer(data)
    names = packed_file_names(data)
    if not metadata and not names:
        raise UserError(f"{args.model}: the model has no TFLite metadata and no associated files")
    if metadata:
        sys.stdout.write(convert_to_json(metadata))
    elif not args.json:
        print(f"{args.model}: no TFLite metadata")
    if args.json:
        return 0
    print(f"Associated files ({len(names)}):" if names else "Associated files: none")
    contents = {name: read_packed_file(data, name) for name in names}
    width = max((len(n) for n in names), default=0)
    for name in names:
        print(f"  {name:<{width}}  {len(contents[name])} bytes")
    if args.extract:
        os.makedirs(args.extract, exist_ok=True)
        for name in names:
            path = os.path.join(args.extract, _safe_name(name))
            with open(path, "wb") as f:
                f.write(contents[name])
            print(f"wrote {path}")
    return 0
