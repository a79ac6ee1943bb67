"""``edgelite bench --delegate``: the placement report and option parsing."""
import pytest

from conftest import zoo_path
from edgelite.tools.cli import main

pytest.importorskip("onnxruntime")


def test_bench_reports_which_nodes_went_where(capsys):
    rc = main(["bench", str(zoo_path("mlp_dynamic_f32")), "--num-runs", "2", "--warmup", "0", "--profile",
               "--delegate", "onnxruntime", "--delegate-option", "intra_op_num_threads=1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "partition 0 -> onnxruntime (subgraph 0): 5 nodes [0..4]: FULLY_CONNECTED 3" in out
    assert "5 of 5 nodes delegated; on edgelite: none" in out
    assert "DELEGATE" in out  # the profile shows the partition as one node


def test_bench_delegate_option_errors(capsys):
    assert main(["bench", str(zoo_path("mlp_dynamic_f32")), "--delegate-option", "a=1"]) == 2
    assert "--delegate-option needs --delegate" in capsys.readouterr().err
    assert main(["bench", str(zoo_path("mlp_dynamic_f32")), "--delegate", "onnxruntime",
                 "--delegate-option", "bogus=1"]) == 2
    assert "unknown onnxruntime delegate option" in capsys.readouterr().err
