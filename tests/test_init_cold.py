"""What a fresh process pays at init: no layout compiling for converter output, the garbage
collector paused (and restored) around loading and allocating."""
import gc

import pytest

from edgelite.reader import gc_paused, load_model
from edgelite.schema import layout

from conftest import MANIFEST, zoo_path


def test_converter_vtables_are_compiled_at_import(monkeypatch):
    compiled = []
    original = layout._compile

    def counting(tname, vtable):
        compiled.append(tname)
        return original(tname, vtable)
    monkeypatch.setattr(layout, "_compile", counting)
    for key in ("mobilenet_v2_f32", "mobilenet_v2_int8", "efficientnet_b0_int8", "mobilenet_v2_f16"):
        if key in MANIFEST:
            load_model(str(zoo_path(key)))
    assert compiled == []


def test_known_vtables_round_trip_through_dump():
    known = {t: " ".join(sorted(v.split())) for t, v in layout.KNOWN_WRITER_VTABLES.items()}
    dumped = layout.dump_vtables()
    assert all(dumped.get(t, "").split() and set(v.split()) <= set(dumped[t].split())
               for t, v in known.items())


def test_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer one resumes
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_load_and_allocate_leave_the_collector_enabled():
    from edgelite import Interpreter
    key = "mobilenet_v2_f32"
    if key not in MANIFEST:
        pytest.skip("zoo model missing")
    it = Interpreter(model_path=str(zoo_path(key)))
    assert gc.isenabled()
    it.allocate_tensors()
    assert gc.isenabled()
    with pytest.raises(ValueError):
        Interpreter(model_content=b"not a model at all")
    assert gc.isenabled()
