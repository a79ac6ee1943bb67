"""load_model(p).save(q) keeps the metadata buffer and the appended zip of associated files."""
import io
import zipfile

import numpy as np
import pytest

import edgelite
from edgelite.appended_zip import relocate_zip, split_appended_zip
from edgelite.errors import ModelError
from edgelite.ir import Model, Subgraph
from edgelite.metadata import MetadataDisplayer

from .conftest import SHARED, SUPPORT


def _support_models():
    return sorted(str(p.relative_to(SHARED)) for p in SUPPORT.rglob("*.tflite")) if SUPPORT.exists() else []


def _realmodels():
    folder = SHARED / "realmodels"
    return sorted(str(p.relative_to(SHARED)) for p in folder.glob("*.tflite")) if folder.exists() else []


MODELS = _support_models() + _realmodels()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("rel", MODELS or ["<no shared data>"])
def test_load_save_keeps_metadata_and_associated_files(rel, tmp_path):
    if rel not in MODELS:
        pytest.skip("../shared not found")
    path = SHARED / rel
    original = path.read_bytes()
    model = edgelite.load_model(path)
    out = tmp_path / "resaved.tflite"
    model.save(out)
    saved = out.read_bytes()
    resaved = edgelite.load_model(saved)
    # The metadata buffers are the same bytes.
    assert set(resaved.metadata) == set(model.metadata)
    for name, data in model.metadata.items():
        assert bytes(resaved.metadata[name]) == bytes(data)
    found = split_appended_zip(original)
    if found is None:
        assert model.appended_zip is None and resaved.appended_zip is None
        return
    start, archive = found
    assert model.appended_zip == archive == resaved.appended_zip
    # The zip in the new file is the old one with its offsets moved by the size difference:
    # local headers, names and contents, and the rest of the central directory are identical.
    moved = saved[len(saved) - len(archive):]
    assert moved == relocate_zip(archive, len(saved) - len(archive))
    assert relocate_zip(archive, start) == original[start:]
    with zipfile.ZipFile(io.BytesIO(original)) as a, zipfile.ZipFile(io.BytesIO(saved)) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name)
            assert a.getinfo(name).CRC == b.getinfo(name).CRC
    try:
        before = MetadataDisplayer.with_model_buffer(original)
    except ValueError:
        return
    after = MetadataDisplayer.with_model_buffer(saved)
    assert after.get_metadata_json() == before.get_metadata_json()
    assert after.get_packed_associated_file_list() == before.get_packed_associated_file_list()
    # Saving the re-saved model again changes nothing: same FlatBuffer size, same zip bytes.
    assert resaved.to_bytes() == saved


def _tiny_model() -> Model:
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 2), np.float32)
    y = sg.add_tensor("y", (1, 2), np.float32)
    sg.add_operator("RELU", [x], [y])
    sg.inputs, sg.outputs = [x], [y]
    return Model(subgraphs=[sg])


def _zip(files: dict, comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.comment = comment
    return buf.getvalue()


def test_an_archive_set_on_the_model_is_appended_with_absolute_offsets():
    model = _tiny_model()
    model.appended_zip = _zip({"labels.txt": b"a\nb\n", "vocab.txt": b"x"}, comment=b"hello")
    data = model.to_bytes()
    flatbuffer_size = len(data) - len(model.appended_zip)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("labels.txt") == b"a\nb\n"
        # Absolute offsets: the first local header is where the FlatBuffer ends.
        assert min(i.header_offset for i in zf.infolist()) == flatbuffer_size
    start, archive = split_appended_zip(data)
    assert start == flatbuffer_size and archive == model.appended_zip
    assert edgelite.load_model(data).appended_zip == model.appended_zip


def test_an_archive_with_offsets_from_its_own_start_is_read_too():
    # `cat model.tflite labels.zip` (offsets relative to the zip) is found and normalised.
    model = _tiny_model()
    archive = _zip({"labels.txt": b"cat\ndog\n"})
    data = model.to_bytes() + archive
    loaded = edgelite.load_model(data)
    assert loaded.appended_zip == archive
    with zipfile.ZipFile(io.BytesIO(loaded.to_bytes())) as zf:
        assert zf.read("labels.txt") == b"cat\ndog\n"


def test_trailing_bytes_that_are_not_a_zip_are_not_kept():
    model = _tiny_model()
    assert edgelite.load_model(model.to_bytes() + b"PK\x05\x06garbage").appended_zip is None
    bad = bytearray(_zip({"a": b"1"}))
    bad[0:4] = b"XXXX"  # the local header the central directory points at is gone
    assert edgelite.load_model(model.to_bytes() + bytes(bad)).appended_zip is None
    model.appended_zip = b"not a zip"
    with pytest.raises(ModelError, match="appended_zip: not a zip archive"):
        model.to_bytes()


def test_the_core_does_not_import_the_metadata_package():
    import subprocess
    import sys
    code = ("import sys, numpy as np, edgelite\n"
            "from edgelite.ir import Model, Subgraph\n"
            "sg = Subgraph(name='m'); x = sg.add_tensor('x', (1,), np.float32)\n"
            "sg.inputs = sg.outputs = [x]\n"
            "m = edgelite.load_model(Model(subgraphs=[sg]).to_bytes()); m.to_bytes()\n"
            "edgelite.Interpreter(model_content=m.to_bytes()).allocate_tensors()\n"
            "assert 'edgelite.metadata' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
