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


PACKS = ("edgelite.kernels.litert_custom", "edgelite.kernels.mediapipe", "edgelite.kernels.signal",
         "edgelite.kernels.ethos_u")


def test_custom_op_packs_load_on_demand():
    code = ("import numpy as np\nfrom edgelite import Interpreter\n"
            "from edgelite.kernels.testing import single_op_model\n"
            "x = np.zeros((1, 8), np.float32)\n"
            "it = Interpreter(model_content=single_op_model('ADD', [x, x]).to_bytes())\n"
            "it.allocate_tensors()\n"
            f"assert not [m for m in sys.modules if m.startswith({PACKS!r})], 'a pack was imported'\n"
            "from edgelite.kernels.base import Node, lookup\n"
            "sg = single_op_model('TFLite_Detection_PostProcess', [x]).main\n"
            "sg.operators[0].opcode, sg.operators[0].custom_code = 'CUSTOM', 'TFLite_Detection_PostProcess'\n"
            "assert lookup(Node(sg.operators[0], 0, sg)).__module__.startswith('edgelite.kernels.litert_custom')\n")
    subprocess.run([sys.executable, "-c", "import sys\n" + code], check=True)


def test_on_demand_families_register_only_names_no_other_family_has():
    """Their lookup only runs for names without any entry: a pack registering a name another
    family also has would never be consulted for it."""
    code = ("import edgelite.kernels.base as b\nimport edgelite.kernels\n"
            "before = set(b._REGISTRY)\nb.load_on_demand()\n"
            f"clash = [op for op in before if any(e[4].__module__.startswith({PACKS!r}) for e in b._REGISTRY[op])]\n"
            "assert not clash, clash\nassert len(b._REGISTRY) > len(before)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
