"""Coverage-guided fuzzing (atheris) of the reader, the interpreter, the converter and the metadata
reader: a short pass in CI (~60 s in all), longer with EDGELITE_FUZZ_SECONDS=<total seconds>.

Each target runs in its own process (tests/reliability/fuzz_targets.py) from seed models copied to a
scratch corpus; any input that raises something other than an edgelite error, or takes over 1 s,
stops libFuzzer, which writes it out (the test fails and names the file: add it to
tests/fuzz_corpus/<target>/ once fixed; test_fuzz_corpus.py replays those).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

from .fuzz_targets import seed_files  # noqa: E402

HERE = Path(__file__).resolve().parent
TOTAL_SECONDS = float(os.environ.get("EDGELITE_FUZZ_SECONDS", "60"))  # the whole pass, start-ups included
STARTUP_S = 8  # a target process instruments and imports edgelite before it fuzzes
SHARES = {"interpreter": 0.4, "converter": 0.25, "reader": 0.2, "metadata": 0.15}


def _onnx_seeds(folder: Path) -> None:
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    value = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)  # noqa: E731
    graphs = {
        "add": ([helper.make_node("Add", ["x", "w"], ["y"])], [value("x", [4])], [value("y", [4])],
                [numpy_helper.from_array(np.ones(4, np.float32), "w")]),
        "matmul": ([helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Relu", ["m"], ["y"])],
                   [value("x", [2, 8])], [value("y", [2, 4])],
                   [numpy_helper.from_array(np.ones((8, 4), np.float32), "w")]),
        "fill": ([helper.make_node("ConstantOfShape", ["s"], ["z"]), helper.make_node("Add", ["x", "z"], ["y"])],
                 [value("x", [2, 3])], [value("y", [2, 3])], [numpy_helper.from_array(np.array([2, 3]), "s")]),
    }
    for name, (nodes, ins, outs, inits) in graphs.items():
        model = helper.make_model(helper.make_graph(nodes, name, ins, outs, initializer=inits),
                                  opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        (folder / f"{name}.onnx").write_bytes(model.SerializeToString())
    assert onnx


@pytest.mark.parametrize("target", list(SHARES))
def test_fuzz_target(target, tmp_path):
    if target == "metadata":
        pytest.importorskip("edgelite.metadata")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if target == "converter":
        _onnx_seeds(corpus)
    else:
        seeds = seed_files(target, limit=12)
        if not seeds:
            pytest.skip("no seed models (/work/shared missing)")
        for k, p in enumerate(seeds):
            shutil.copy(p, corpus / f"{k}_{p.name}")
    seconds = max(2, round(SHARES[target] * (TOTAL_SECONDS - len(SHARES) * STARTUP_S)))
    cmd = [sys.executable, str(HERE / "fuzz_targets.py"), target, f"-max_total_time={seconds}",
           "-max_len=200000", "-timeout=10", "-rss_limit_mb=3000", f"-artifact_prefix={tmp_path}/",
           "-print_final_stats=1", "-seed=1", str(corpus)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=HERE.parent.parent)
    log = proc.stdout + proc.stderr
    crashes = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert proc.returncode == 0, f"{target}: libFuzzer exit {proc.returncode}, inputs written: {crashes}\n" + log[-4000:]
    runs = [line for line in log.splitlines() if line.startswith("stat::number_of_executed_units")]
    assert runs and int(runs[-1].split(":")[-1]) > 0, log[-2000:]
