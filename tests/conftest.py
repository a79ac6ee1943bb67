"""Shared fixtures: the conformance zoo (../shared/zoo, or $EDGELITE_ZOO)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
ZOO = Path(os.environ.get("EDGELITE_ZOO", REPO.parent / "shared" / "zoo"))
MANIFEST = json.loads((ZOO / "manifest.json").read_text()) if (ZOO / "manifest.json").exists() else {}
ZOO_KEYS = sorted(MANIFEST)


def zoo_path(key: str) -> Path:
    return ZOO / MANIFEST[key]["file"]


def zoo_data(key: str):
    return np.load(ZOO / f"{key}.npz")


def npz_inputs(z) -> list:
    """``input_0, input_1, ...`` of a zoo-format .npz, in order."""
    n = len([k for k in z.files if k.startswith("input_")])
    return [z[f"input_{i}"] for i in range(n)]


def npz_refs(z) -> list:
    """``ref_0, ref_1, ...`` of a zoo-format .npz, in order (empty: no reference)."""
    n = len([k for k in z.files if k.startswith("ref_")])
    return [z[f"ref_{j}"] for j in range(n)]


def zoo_inputs(key: str) -> list:
    return npz_inputs(zoo_data(key))


def zoo_refs(key: str) -> list:
    return npz_refs(zoo_data(key))


def assert_matches(out, ref, what, tol: float = 1e-5):
    """Integers identical (same dtype); floats within ``tol * max(1, max|ref|)``."""
    out = np.asarray(out)
    assert out.shape == ref.shape, f"{what}: shape {out.shape} != {ref.shape}"
    if ref.dtype.kind in "iub":
        assert out.dtype == ref.dtype, f"{what}: dtype {out.dtype} != {ref.dtype}"
        diff = int(np.abs(out.astype(np.int64) - ref.astype(np.int64)).max()) if ref.size else 0
        assert diff == 0, f"{what}: integers differ by up to {diff}"
    elif ref.size:
        bound = tol * max(1.0, float(np.abs(ref).max()))
        diff = float(np.abs(out.astype(np.float64) - ref.astype(np.float64)).max())
        assert diff <= bound, f"{what}: max|diff| {diff:.3g} > {bound:.3g}"


# Third-party model corpora in the zoo's format (manifest.json, NAME.npz; an entry's "file"
# is relative to its folder). Each entry names its "oracle" and "float_tolerance".
CORPORA = {
    "realmodels": Path(os.environ.get("EDGELITE_REALMODELS", REPO.parent / "shared" / "realmodels")),
    "conformance": Path(os.environ.get("EDGELITE_CONFORMANCE",
                                       REPO.parent / "shared" / "support" / "conformance")),
}


def corpus_manifest(folder: Path) -> dict:
    """A corpus folder's manifest, or {} where the folder (or its manifest) is missing."""
    path = folder / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture(params=ZOO_KEYS)
def zoo_key(request):
    return request.param


def pytest_collection_modifyitems(config, items):
    if not MANIFEST:
        skip = pytest.mark.skip(reason=f"zoo not found at {ZOO}")
        for item in items:
            if "zoo_key" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


def run_with_inputs(it, inputs: list) -> list:
    """Resize to ``inputs``' shapes, allocate, feed, invoke; return copies of the outputs.

    Works for edgelite.Interpreter and ai_edge_litert's Interpreter alike.
    """
    details = it.get_input_details()
    assert len(details) == len(inputs), f"{len(details)} inputs, got {len(inputs)}"
    for d, x in zip(details, inputs):
        if list(d["shape"]) != list(x.shape):
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    for d, x in zip(details, inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]
