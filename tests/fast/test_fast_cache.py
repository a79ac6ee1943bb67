"""numba's on-disk cache serves the compiled tier across processes: a second process running
the same models compiles nothing and writes no new cache entry. (A kernel compiled from a
closure got a new entry, and a compile of several seconds, in every process: the int8
ADD/MUL row loops did, 850 entries deep.)"""
import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

from conftest import zoo_path  # noqa: E402

pytestmark = pytest.mark.fast

_RUN = """
import sys
import numpy as np
import edgelite
for path in sys.argv[1:]:
    it = edgelite.Interpreter(model_path=path)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    it.invoke()
"""


def test_second_process_compiles_nothing():
    keys = ["tiny_bert_int8", "mobilenet_v3_small_int8io", "ops_elementwise_int8", "audio_conv1d_int8"]
    paths = [str(zoo_path(k)) for k in keys if zoo_path(k).exists()]
    if not paths:
        pytest.skip("zoo models not found")
    env = dict(os.environ, NUMBA_DEBUG_CACHE="1")
    env.pop("EDGELITE_KERNELS", None)
    runs = [subprocess.run([sys.executable, "-c", _RUN, *paths], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
    saved = [line for line in runs[1].stdout.splitlines() + runs[1].stderr.splitlines() if "saved to" in line]
    assert saved == [], "compiled again in a second process:\n" + "\n".join(saved[:10])
