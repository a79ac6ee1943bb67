"""The compiled tier as on a CPU with AVX2 and no AVX-512 (``EDGELITE_FAST_ISA=avx2``), end to
end: the AVX2 integer GEMM tiles, the AVX2 int8 and float depthwise block steps, the scalar
byte-table gathers. Each kernel is also checked alone (test_fast_int_gemm, test_fast_dw_simd,
test_fast_dw_float_simd); here whole zoo models run in a subprocess with the switch set."""
import numpy as np
import pytest

pytest.importorskip("numba")

from edgelite.kernels.fast.loader import compiled_module  # noqa: E402

pytestmark = pytest.mark.fast


_AVX2_RUN = """
import json, sys
import numpy as np
import edgelite
from edgelite.kernels.fast import epilogue
from edgelite.kernels.fast.loader import compiled_module
gemm = compiled_module("_compiled_gemm")
calls = []
original = epilogue._FastEpilogue.int_gemm_requantize
def counted(self, *args):
    calls.append(1)
    return original(self, *args)
epilogue._FastEpilogue.int_gemm_requantize = counted
zoo, out, keys = sys.argv[1], sys.argv[2], sys.argv[3:]
outputs = {}
for key in keys:
    z = np.load(f"{zoo}/{key}.npz")
    it = edgelite.Interpreter(model_path=f"{zoo}/{key}.tflite")
    it.allocate_tensors()
    for i, d in enumerate(it.get_input_details()):
        it.set_tensor(d["index"], z[f"input_{i}"])
    it.invoke()
    for j, d in enumerate(it.get_output_details()):
        outputs[f"{key}/{j}"] = it.get_tensor(d["index"])
np.savez(out, **outputs)
print(json.dumps({"isa": gemm.int_gemm_isa(), "vnni": gemm.vnni_available(), "calls": len(calls),
                  "depthwise": compiled_module("_compiled_depthwise").simd_isa(),
                  "float_depthwise": compiled_module("_compiled_depthwise_float").simd_isa(),
                  "vbmi": compiled_module("_compiled_lut").vbmi_available()}))
"""


def test_zoo_models_on_the_avx2_kernels(tmp_path):
    """As on a CPU with AVX2 but no AVX-512 (``EDGELITE_FAST_ISA=avx2``: no VNNI tiles, no VBMI
    lookups, no AVX-512 float depthwise): int8, dynamic-range and float zoo models give the
    same bits as this process's own tier (integer outputs: LiteRT's), and their convolutions
    went through the AVX2 tiles and block steps."""
    import json
    import os
    import subprocess
    import sys

    from conftest import ZOO, run_with_inputs, zoo_inputs, zoo_path, zoo_refs

    import edgelite
    if not compiled_module("_compiled_gemm").tiles_run_here("avx2"):
        pytest.skip("the CPU has no AVX2")
    keys = [k for k in ("mobilenet_v2_int8", "mobilenet_v3_small_int8io", "mobilenet_v2_dyn", "tiny_bert_int8",
                        "mobilenet_v2_f32", "mobilenet_v3_small_f32") if zoo_path(k).exists()]
    if not keys:
        pytest.skip("zoo models not found")
    env = dict(os.environ, EDGELITE_FAST_ISA="avx2")
    saved = tmp_path / "avx2.npz"
    run = subprocess.run([sys.executable, "-c", _AVX2_RUN, str(ZOO), str(saved), *keys], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["isa"] == "avx2" and result["vnni"] is False and result["calls"] > 0
    assert result["depthwise"] == "avx2" and result["float_depthwise"] == "avx2" and result["vbmi"] is False
    avx2 = np.load(saved)
    for key in keys:
        here = run_with_inputs(edgelite.Interpreter(model_path=str(zoo_path(key))), zoo_inputs(key))
        for j, (mine, ref) in enumerate(zip(here, zoo_refs(key))):
            assert np.array_equal(avx2[f"{key}/{j}"], mine), f"{key} output {j}"
            if ref.dtype.kind != "f":
                assert np.array_equal(mine, ref), f"{key} output {j}"
