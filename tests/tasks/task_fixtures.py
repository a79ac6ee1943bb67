"""Helpers of the tasks tests: the recorded tflite-support results and the shared test data."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SUPPORT = REPO.parent / "shared" / "support"
VISION = SUPPORT / "task" / "vision"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

needs_support = pytest.mark.skipif(not (SUPPORT / "task").is_dir(),
                                   reason=f"tflite-support test data not found in {SUPPORT}")


def load(name: str) -> list:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def plain(result) -> dict:
    """A result dataclass as the JSON the fixtures hold."""
    def convert(obj):
        if dataclasses.is_dataclass(obj):
            return {f.name: convert(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if isinstance(obj, (list, tuple)):
            return [convert(x) for x in obj]
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
        return obj
    return json.loads(json.dumps(convert(result)))


def pillow_rgb(name: str) -> np.ndarray:
    Image = pytest.importorskip("PIL.Image")
    with Image.open(VISION / name) as image:
        return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def random_image(width: int, height: int) -> np.ndarray:
    """The generator's noise images (tests/tasks/make_fixtures.py)."""
    rng = np.random.default_rng(width * 10007 + height)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def with_litert_outputs(task, model_path: Path, builtin: bool = False) -> None:
    """Make ``task`` run its model with LiteRT instead of edgelite's interpreter.

    tflite-support's Task Library runs uint8 models through XNNPACK (LiteRT's default CPU path),
    whose quantized arithmetic differs from TFLite's builtin kernels (which edgelite reproduces
    bit for bit) by a few output steps. Feeding edgelite's pre-/post-processing with XNNPACK's
    outputs isolates the Task Library layer: its results must then equal tflite-support's
    exactly. ``builtin=True`` runs LiteRT's builtin kernels (no default delegate) instead.
    """
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    resolver = (litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin
                else litert.OpResolverType.AUTO)
    interpreter = litert.Interpreter(model_path=str(model_path),
                                     experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()

    def run(inputs):
        for detail, value in zip(interpreter.get_input_details(), inputs):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]

    task._model.run = run
