"""Shared paths of the metadata tests: tflite-support's test data in ../shared/support."""
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SUPPORT = SHARED / "support"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def displayer_oracle() -> dict:
    """tflite-support 0.4.4's MetadataDisplayer results, keyed by path relative to ../shared."""
    return json.loads((FIXTURES / "displayer_tflite_support.json").read_text())["models"]


def shared_file(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not found (needs ../shared)")
    return path
