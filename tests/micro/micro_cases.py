"""Models of tests/micro: which ones TFLM runs, their inputs, and how to run both engines."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("EDGELITE_SHARED", HERE.parent.parent.parent / "shared"))
FIXTURES = HERE / "fixtures"
OUTPUTS_FIXTURE = FIXTURES / "tflm_outputs.json"
ARENAS_FIXTURE = FIXTURES / "tflm_arenas.json"
OPS_FIXTURE = FIXTURES / "tflm_ops.json"

ZOO_INT = ["audio_conv1d_int8", "efficientnet_b0_int8", "mlp_dynamic_int8", "mobilenet_v2_int8",
           "mobilenet_v2_int8io", "mobilenet_v3_small_int8io", "ops_image_int8", "ops_matmul_q_int8",
           "ops_matmul_q_int16x8", "unet_int8"]
# zoo int8 models TFLM refuses: GELU (ops_elementwise), DENSIFY (sparse_mlp), REDUCE_PROD (tiny_bert)
ZOO_TFLM_LACKS = {"ops_elementwise_int8": "GELU", "sparse_mlp_int8": "DENSIFY", "tiny_bert_int8": "REDUCE_PROD"}

# cases not (yet) exact, with the reason; the test xfails them
NOT_EXACT = {
    "realmodels/tflm_trained_lstm": "float UNIDIRECTIONAL_SEQUENCE_LSTM: TFLM's float LSTM (sequential "
                                    "float32 sums, expf/tanhf gates) is not reproduced; within 3e-7",
}
SLOW = {"zoo/efficientnet_b0_int8"}


def realmodel_names() -> list[str]:
    folder = SHARED / "realmodels"
    names = sorted(p.stem for p in folder.glob("tflm_*.tflite")) if folder.is_dir() else []
    return [n for n in names if n != "tflm_person_detect_vela"]  # vela: Ethos-U custom op


def cases() -> list[str]:
    """Models TFLM runs: 'zoo/NAME' (int8/int16x8) and every 'realmodels/tflm_*' (float ones too)."""
    return [f"zoo/{n}" for n in ZOO_INT] + [f"realmodels/{n}" for n in realmodel_names()]


def model_path(case: str) -> Path:
    return SHARED / f"{case}.tflite"


def inputs_of(case: str) -> list[np.ndarray]:
    data = np.load(SHARED / f"{case}.npz")
    return [data[f"input_{i}"] for i in range(len([k for k in data.files if k.startswith("input_")]))]


def output_count(case: str) -> int:
    data = np.load(SHARED / f"{case}.npz")
    return len([k for k in data.files if k.startswith("ref_")])


def digest(a: np.ndarray) -> str:
    """dtype, shape and the SHA-256 of the bytes: equal digests = bit-identical arrays."""
    a = np.ascontiguousarray(a)
    return f"{a.dtype.str}{list(a.shape)}:{hashlib.sha256(a.tobytes()).hexdigest()[:32]}"


def run_tflm(path, inputs: list, n_outputs: int, arena_size: int = 64 << 20) -> list[np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_file(str(path), arena_size=arena_size)
    for i, x in enumerate(inputs):
        it.set_input(x, i)
    it.invoke()
    return [np.array(it.get_output(j)) for j in range(n_outputs)]


def run_edgelite(path, inputs: list, numerics: str = "tflm") -> list[np.ndarray]:
    import edgelite
    it = edgelite.Interpreter(model_path=str(path), numerics=numerics)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def load_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}
