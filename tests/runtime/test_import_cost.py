"""``import edgelite`` and a first allocate_tensors stay light: no numba (the compiled tier
loads on a fast kernel's first run), no ONNX, ONNX Runtime or torch (converters and the
ORT delegate import them on use)."""
import subprocess
import sys

HEAVY = ("numba", "onnx", "onnxruntime", "torch")


def loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return [m for m in out.strip().split(",") if m]


def test_import_edgelite_loads_no_heavy_package():
    assert loaded_after("import edgelite") == []


def test_first_allocate_loads_no_heavy_package():
    code = ("import numpy as np\nfrom edgelite import Interpreter\n"
            "from edgelite.kernels.testing import single_op_model\n"
            "x = np.zeros((1, 8), np.float32)\n"
            "it = Interpreter(model_content=single_op_model('GELU', [x]).to_bytes())\n"
            "it.allocate_tensors()\n")
    assert loaded_after(code) == []
