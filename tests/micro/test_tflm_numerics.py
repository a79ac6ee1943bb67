"""Interpreter(numerics="tflm") is bit-exact with TensorFlow Lite Micro.

Every integer model of ../shared that TFLM runs is compared with TFLM's outputs: with the
tflite-micro wheel where it is installed, and always with the digests recorded from it in
fixtures/tflm_outputs.json (tests/micro/make_fixtures.py).
"""
import numpy as np
import pytest

import edgelite
from edgelite import ir
from edgelite.kernels import KernelError
from edgelite.schema import TensorType

from micro_cases import (NOT_EXACT, OUTPUTS_FIXTURE, SHARED, SLOW, ZOO_TFLM_LACKS, cases,
                         digest, inputs_of, load_json, model_path, output_count, run_edgelite, run_tflm)

RECORDED = load_json(OUTPUTS_FIXTURE)


def _wheel():
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
        return True
    except ImportError:
        return False


def _params():
    out = []
    for case in sorted(set(cases()) | set(RECORDED)):
        marks = [pytest.mark.slow] if case in SLOW else []
        if case in NOT_EXACT:
            marks.append(pytest.mark.xfail(reason=NOT_EXACT[case], strict=True))
        out.append(pytest.param(case, marks=marks, id=case))
    return out


@pytest.mark.tflm
@pytest.mark.parametrize("case", _params())
def test_bit_exact_with_tflm(case):
    if not model_path(case).exists():
        pytest.skip(f"{model_path(case)} not found")
    inputs = inputs_of(case)
    ours = run_edgelite(model_path(case), inputs)
    if _wheel():
        theirs = run_tflm(model_path(case), inputs, output_count(case))
        for j, (a, b) in enumerate(zip(ours, theirs)):
            assert a.dtype == b.dtype and a.shape == b.shape, f"output {j}"
            diff = np.flatnonzero(a.reshape(-1) != b.reshape(-1))
            assert diff.size == 0, f"output {j}: {diff.size} of {a.size} values differ from TFLM"
    assert case in RECORDED, "no recorded TFLM outputs: run tests/micro/make_fixtures.py outputs"
    assert [digest(a) for a in ours] == RECORDED[case]


@pytest.mark.skipif(not (SHARED / "zoo" / "ops_matmul_q_int8.tflite").exists(), reason="no ../shared/zoo")
def test_litert_numerics_unchanged():
    """The default stays LiteRT's builtin arithmetic; the two engines differ on this model."""
    case = "zoo/ops_matmul_q_int8"
    inputs = inputs_of(case)
    ref = np.load(SHARED / f"{case}.npz")
    litert = run_edgelite(model_path(case), inputs, numerics="litert")
    default = edgelite.Interpreter(model_path=str(model_path(case)))
    default.allocate_tensors()
    for d, x in zip(default.get_input_details(), inputs):
        default.set_tensor(d["index"], x)
    default.invoke()
    for j, a in enumerate(litert):
        np.testing.assert_array_equal(a, ref[f"ref_{j}"])
        np.testing.assert_array_equal(default.get_tensor(default.get_output_details()[j]["index"]), a)
    tflm = run_edgelite(model_path(case), inputs, numerics="tflm")
    assert any(not np.array_equal(a, b) for a, b in zip(litert, tflm))
    if case in RECORDED:
        assert [digest(a) for a in tflm] == RECORDED[case]


def _gelu_model() -> bytes:
    sg = ir.Subgraph()
    x = sg.add_tensor("x", (1, 4), TensorType.FLOAT32)
    y = sg.add_tensor("y", (1, 4), TensorType.FLOAT32)
    sg.add_operator("GELU", [x], [y])
    sg.inputs, sg.outputs = [x], [y]
    return ir.Model(subgraphs=[sg]).to_bytes()


def test_op_tflm_lacks_fails_at_allocate_naming_it():
    content = _gelu_model()
    it = edgelite.Interpreter(model_content=content)  # LiteRT has GELU
    it.allocate_tensors()
    it = edgelite.Interpreter(model_content=content, numerics="tflm")
    with pytest.raises(KernelError, match=r"GELU.*TFLite Micro has no kernel for GELU"):
        it.allocate_tensors()


@pytest.mark.parametrize("key", sorted(ZOO_TFLM_LACKS))
def test_zoo_models_with_ops_tflm_lacks(key):
    path = SHARED / "zoo" / f"{key}.tflite"
    if not path.exists():
        pytest.skip(f"{path} not found")
    it = edgelite.Interpreter(model_path=str(path), numerics="tflm")
    with pytest.raises(KernelError, match=f"TFLite Micro has no kernel for {ZOO_TFLM_LACKS[key]}"):
        it.allocate_tensors()


def test_bad_numerics():
    with pytest.raises(ValueError, match="numerics must be one of litert, tflm"):
        edgelite.Interpreter(model_content=_gelu_model(), numerics="cmsis")
