"""edgelite micro export / size: the generated sources compile against stub TFLM headers."""
import json
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from edgelite import ir
from edgelite.micro import with_offline_plan
from edgelite.micro.export import export_project, op_resolver_header
from edgelite.micro.size import size_report
from edgelite.schema import TensorType

# just enough of TFLM's API for op_resolver.h to compile; every Add... counts one registration
STUB = textwrap.dedent("""
    #pragma once
    typedef enum { kTfLiteOk = 0, kTfLiteError = 1 } TfLiteStatus;
    struct TFLMRegistration { int unused; };
    #define TF_LITE_ENSURE_STATUS(a) do { const TfLiteStatus s = (a); if (s != kTfLiteOk) return s; } while (0)
    namespace tflite {
    template <unsigned int N> class MicroMutableOpResolver {
     public:
      int registered = 0;
      TfLiteStatus Add() { return ++registered <= static_cast<int>(N) ? kTfLiteOk : kTfLiteError; }
      TfLiteStatus AddCustom(const char*, TFLMRegistration*) { return Add(); }
    %s
    };
    }  // namespace tflite
    """)
DRIVER = textwrap.dedent("""
    #include <cstdio>
    #include "model_data.h"
    #include "op_resolver.h"
    %s
    int main() {
      ModelOpResolver r;
      if (RegisterOps(r) != kTfLiteOk) return 1;
      std::printf("%%d %%d %%u %%d\\n", r.registered, kNumberOfOps, g_model_len,
                  static_cast<int>(reinterpret_cast<unsigned long>(g_model) %% 16));
      return 0;
    }
    """)


def _model(custom: bool = False) -> ir.Model:
    sg = ir.Subgraph()
    q = ir.Quantization(scale=np.array([0.05], np.float32), zero_point=np.array([0], np.int64))
    x = sg.add_tensor("x", (1, 4, 4, 2), TensorType.INT8, quantization=q)
    w = sg.add_constant("w", np.ones((3, 1, 1, 2), np.int8),
                        quantization=ir.Quantization(scale=np.array([0.1], np.float32), zero_point=np.array([0], np.int64)))
    y = sg.add_tensor("y", (1, 4, 4, 3), TensorType.INT8, quantization=q)
    z = sg.add_tensor("z", (1, 4, 4, 3), TensorType.INT8, quantization=q)
    r = sg.add_tensor("r", (1, 48), TensorType.INT8, quantization=q)
    shape = sg.add_constant("shape", np.array([1, 48], np.int32))
    sg.add_operator("CONV_2D", [x, w], [y], {"padding": 1, "stride_h": 1, "stride_w": 1})
    sg.add_operator("RELU", [y], [z])
    sg.add_operator("RESHAPE", [z, shape], [r])
    outputs = [r]
    if custom:
        c = sg.add_tensor("c", (1, 48), TensorType.INT8, quantization=q)
        sg.add_operator("CUSTOM", [r], [c], custom_code="MyOp")
        outputs = [c]
    sg.inputs, sg.outputs = [x], outputs
    return ir.Model(subgraphs=[sg])


def _adders(header: str) -> list[str]:
    return re.findall(r"op_resolver\.(Add\w+)\(", header)


def test_op_resolver_names_and_count():
    text, missing, custom = op_resolver_header(_model(custom=True))
    assert _adders(text) == ["AddConv2D", "AddRelu", "AddReshape", "AddCustom"]
    assert "constexpr int kNumberOfOps = 4;" in text
    assert custom == ["MyOp"] and missing == []
    assert "TFLMRegistration* Register_MYOP();" in text


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("custom", [False, True])
def test_generated_sources_compile_against_stub_headers(tmp_path, custom):
    model = _model(custom)
    files = export_project(model, tmp_path / "proj", name="tiny", arena=4096)
    assert sorted(f.name for f in files) == ["README.md", "main.cc", "model_data.cc", "model_data.h", "op_resolver.h"]
    proj = tmp_path / "proj"
    adders = sorted(set(_adders((proj / "op_resolver.h").read_text())) - {"AddCustom"})
    stub_dir = tmp_path / "stub" / "tensorflow" / "lite" / "micro"
    stub_dir.mkdir(parents=True)
    (stub_dir / "micro_mutable_op_resolver.h").write_text(
        STUB % "\n".join(f"  TfLiteStatus {a}() {{ return Add(); }}" for a in adders))
    registration = "TFLMRegistration* Register_MYOP() { static TFLMRegistration r; return &r; }" if custom else ""
    (tmp_path / "driver.cc").write_text(DRIVER % registration)
    exe = tmp_path / "driver"
    subprocess.run(["g++", "-std=c++17", "-Wall", "-Werror", "-I", str(proj), "-I", str(tmp_path / "stub"),
                    str(tmp_path / "driver.cc"), str(proj / "model_data.cc"), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    registered, declared, length, misalign = subprocess.run(
        [str(exe)], check=True, capture_output=True, text=True).stdout.split()
    assert int(registered) == int(declared) == (4 if custom else 3)
    assert int(length) == len(with_offline_plan(model).to_bytes())
    assert int(misalign) == 0  # alignas(16)
    assert "kTensorArenaSize = 4096" in (proj / "main.cc").read_text()
    readme = (proj / "README.md").read_text()
    assert ("MyOp" in readme) == custom


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_c_array_format_compiles(tmp_path):
    files = export_project(_model(), tmp_path, name="tiny", fmt="c-array")
    assert sorted(f.name for f in files) == ["model_data.c", "model_data.h"]
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", "-c", str(tmp_path / "model_data.c"),
                    "-o", str(tmp_path / "model_data.o")], check=True, capture_output=True, text=True)


def test_exported_model_round_trips_with_the_plan(tmp_path):
    from edgelite.micro import OFFLINE_PLAN_KEY
    from edgelite.reader import load_model
    export_project(_model(), tmp_path, name="tiny", arena=4096)
    text = (tmp_path / "model_data.cc").read_text()
    data = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", text))
    length = int(re.search(r"g_model_len = (\d+);", text).group(1))
    assert len(data) == length
    assert OFFLINE_PLAN_KEY in load_model(data).metadata


def test_ops_tflm_lacks_are_reported(tmp_path):
    sg = ir.Subgraph()
    x = sg.add_tensor("x", (1, 4), TensorType.FLOAT32)
    y = sg.add_tensor("y", (1, 4), TensorType.FLOAT32)
    sg.add_operator("GELU", [x], [y])
    sg.inputs, sg.outputs = [x], [y]
    model = ir.Model(subgraphs=[sg])
    export_project(model, tmp_path, name="gelu", arena=1024)
    assert "// GELU: TFLite Micro has no kernel" in (tmp_path / "op_resolver.h").read_text()
    assert "kNumberOfOps = 0" in (tmp_path / "op_resolver.h").read_text()
    assert "Ops TFLite Micro lacks" in (tmp_path / "README.md").read_text()
    report = size_report(model)
    assert any("GELU: TFLite Micro has no kernel" in s for s in report["suggestions"])


def test_size_report_sections_budgets_and_suggestions(tmp_path):
    sg = ir.Subgraph()
    x = sg.add_tensor("x", (1, 64), TensorType.FLOAT32)
    w = sg.add_constant("w", np.random.default_rng(0).normal(size=(128, 64)).astype(np.float32))
    y = sg.add_tensor("y", (1, 128), TensorType.FLOAT32)
    sg.add_operator("FULLY_CONNECTED", [x, w], [y])
    sg.inputs, sg.outputs = [x], [y]
    model = ir.Model(subgraphs=[sg])
    path = tmp_path / "fc.tflite"
    model.save(path)
    report = size_report(model, ram=256, flash=16384, data=path.read_bytes())
    flash = report["flash"]
    assert flash["weights"] == 128 * 64 * 4
    assert flash["weights"] + flash["graph"] + flash["metadata"] == flash["total"] == path.stat().st_size
    assert len(report["warnings"]) == 2  # 32 KiB of weights > 16 KiB flash; arena > 256 bytes
    assert any("int8 quantization" in s for s in report["suggestions"])
    assert any("pruning" in s for s in report["suggestions"])
    done = subprocess.run([sys.executable, "-m", "edgelite.tools.cli", "micro", "size", str(path), "--json",
                           "--ram", "1K"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["ram"]["arena_bytes"] > 1024


def test_cli_export(tmp_path):
    path = tmp_path / "tiny.tflite"
    _model().save(path)
    done = subprocess.run([sys.executable, "-m", "edgelite.tools.cli", "micro", "export", str(path), "-o",
                           str(tmp_path / "out"), "--arena", "8K"], capture_output=True, text=True, check=True)
    assert "op_resolver.h" in done.stdout
    assert "kTensorArenaSize = 8192" in (tmp_path / "out" / "main.cc").read_text()


def test_cli_errors(tmp_path, capsys):
    from edgelite.tools.cli import main
    assert main(["micro", "export", str(tmp_path / "nope.tflite"), "-o", str(tmp_path / "x")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["micro", "size", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
