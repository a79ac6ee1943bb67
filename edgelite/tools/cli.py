"""The ``edgelite`` command line.

Each subcommand is a module ``edgelite.tools.cmd_<name>`` defining
``add_parser(subparsers)`` (which sets ``func`` via ``set_defaults``).
Errors a user can cause (missing file, malformed model, bad arguments) print
one line ``edgelite: error: ...`` and exit with status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import ConversionError, ModelError

COMMANDS = ["inspect", "run", "bench", "convert", "quantize", "debug_quant",
            # each listed module is optional until it exists (see build_parser)
            "metadata", "tasks", "mp_tasks", "micro", "viz", "batch", "export_onnx", "model_maker"]


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgelite", description="TensorFlow Lite tools on numpy.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"edgelite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.cmd_{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.cmd_{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ModelError, ConversionError, FileNotFoundError, IsADirectoryError,
            PermissionError, ValueError) as e:
        msg = str(e).strip().splitlines()
        first = msg[0] if msg else type(e).__name__
        print(f"edgelite: error: {first}", file=sys.stderr)
        for line in msg[1:]:
            print(f"  {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run the package's copy of this module: the subcommands import edgelite.tools.cli, and
    # its UserError must be the class main() catches (``python -m`` loads this file twice).
    from edgelite.tools.cli import main as package_main
    sys.exit(package_main())
