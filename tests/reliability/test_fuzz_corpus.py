"""Replays tests/fuzz_corpus/<target>/*: every input the fuzzers once found breaking a rule (an
exception that was not an edgelite error, a hang, an allocation past the budget) must now load or
raise an edgelite error within the time limit. Needs no atheris."""
from pathlib import Path

import pytest

from .fuzz_targets import TARGETS, check_input

CORPUS = Path(__file__).resolve().parent.parent / "fuzz_corpus"
CASES = sorted((t, p) for t in TARGETS for p in (CORPUS / t).glob("*") if p.is_file()) if CORPUS.is_dir() else []


def test_corpus_is_not_empty():
    assert len(CASES) >= 10


@pytest.mark.parametrize("target,path", CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_regression_input(target, path):
    if target == "converter":
        pytest.importorskip("onnx")
    problem = check_input(target, path.read_bytes())
    assert problem is None, f"{target}/{path.name}: {problem}"
