"""Every model of the third-party corpora runs in edgelite.Interpreter and matches its oracle.

The corpora (``conftest.CORPORA``: ../shared/realmodels and ../shared/support/conformance,
or $EDGELITE_REALMODELS / $EDGELITE_CONFORMANCE) are read from their manifests, so a model
added to a manifest is tested with no code change. Each entry's ``oracle`` says what its
``ref_j`` hold (LiteRT's builtin kernels, TFLite Micro, a golden file, a rewrite run in
LiteRT); integers must be identical and floats within the entry's ``float_tolerance``
relative to max(1, max|ref|). Oracle ``none`` (nothing else runs the model): it must run
and give finite outputs. A missing folder skips its models.

While the custom-op packs are being written, a model whose only failure is an
UnsupportedOpsError for CUSTOM ops is skipped naming them; any other error fails.
"""
import numpy as np
import pytest

from edgelite.errors import ModelError

from conftest import CORPORA, assert_matches, corpus_manifest, npz_inputs, npz_refs, run_with_inputs

# Models that truly cannot run or match, with the reason. Tolerances are never widened instead.
KNOWN_FAILURES: dict[str, str] = {
    "tflm_person_detect_vela": "its 'ethos-u' custom op is an Arm Ethos-U NPU command stream (Vela); "
                               "it needs an Ethos-U NPU, and neither LiteRT nor TFLM runs it on a CPU",
}
# Models measured to take over 3 s (marked slow; none does today: all 139 run in ~20 s).
SLOW: set[str] = set()


def _cases():
    cases = []
    for corpus, folder in CORPORA.items():
        manifest = corpus_manifest(folder)
        if not manifest:
            cases.append(pytest.param(corpus, None, id=f"{corpus}-missing",
                                      marks=pytest.mark.skip(reason=f"{corpus} corpus not found at {folder}")))
            continue
        for key in sorted(manifest):
            marks = []
            if key in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(raises=ModelError, strict=True, reason=KNOWN_FAILURES[key]))
            if key in SLOW:
                marks.append(pytest.mark.slow)
            cases.append(pytest.param(corpus, key, id=f"{corpus}-{key}", marks=marks))
    return cases


def _custom_ops(path) -> set[str]:
    """The custom codes of the CUSTOM ops of the model at ``path``."""
    from edgelite.reader import load_model
    model = load_model(str(path))
    return {op.name for sg in model.subgraphs for op in sg.operators if op.opcode == "CUSTOM"}


@pytest.mark.filterwarnings("ignore:.*per-axis scales but quantized_dimension:UserWarning")  # person_detect
@pytest.mark.parametrize("corpus,key", _cases())
def test_real_model_matches_its_oracle(corpus, key):
    from edgelite import Interpreter
    from edgelite.runtime.executor import UnsupportedOpsError
    folder = CORPORA[corpus]
    entry = corpus_manifest(folder)[key]
    data = np.load(folder / f"{key}.npz")
    try:
        it = Interpreter(model_path=str(folder / entry["file"]))
        outs = run_with_inputs(it, npz_inputs(data))
    except UnsupportedOpsError as e:
        missing = sorted({name for _sg, _node, name, _kind in e.ops})
        if set(missing) <= _custom_ops(folder / entry["file"]):
            pytest.skip(f"custom op {', '.join(missing)} not registered")
        raise
    refs = npz_refs(data)
    if entry.get("oracle") == "none" or not refs:
        for j, o in enumerate(outs):
            if np.asarray(o).dtype.kind == "f":
                assert np.all(np.isfinite(o)), f"{key} output {j}: non-finite values"
    else:
        assert len(outs) == len(refs), f"{key}: {len(outs)} outputs, the corpus has {len(refs)}"
        tol = float(entry.get("float_tolerance") or 1e-5)
        for j, (o, r) in enumerate(zip(outs, refs)):
            assert_matches(o, r, f"{key} output {j} (oracle {entry.get('oracle')})", tol)
