"""bench/cuda_delegate_check.py runs on a GPU machine only; its model runner and its verdict are
checked here with the CPU provider, so that the script keeps working with the interpreter's
internals (it reads which providers each partition's session got)."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from conftest import ZOO, zoo_path  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cuda_delegate_check.py"


def _script():
    spec = importlib.util.spec_from_file_location("cuda_delegate_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key", ["mobilenet_v2_f16", "tiny_bert_f32", "mobilenet_v2_int8"])
def test_cuda_check_runner_on_the_cpu_provider(key):
    if not zoo_path(key).exists():
        pytest.skip(f"zoo model {key} not found")
    check = _script()
    outs, z, init, ms, used = check._run(key, Path(ZOO), ["CPUExecutionProvider"], runs=2)
    assert used == ["CPUExecutionProvider"]       # every partition's session was found
    assert init > 0 and ms > 0
    assert check.worst_error(outs, z) <= 1.0
    outs[0] = outs[0] + 1.0                          # and a wrong output fails the verdict
    assert check.worst_error(outs, z) > 1.0
