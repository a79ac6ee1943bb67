"""`edgelite metadata MODEL [--json] [--extract DIR]`."""
import io
import zipfile

import numpy as np

from edgelite.ir import Model, Subgraph
from edgelite.metadata import AssociatedFile, ModelMetadata, SubGraphMetadata, TensorMetadata
from edgelite.metadata.populator import MetadataPopulator
from edgelite.tools.cli import main


def _model_with_metadata(tmp_path):
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 3), np.float32)
    y = sg.add_tensor("y", (1, 3), np.float32)
    sg.add_operator("RELU", [x], [y])
    sg.inputs, sg.outputs = [x], [y]
    populator = MetadataPopulator.with_model_buffer(Model(subgraphs=[sg]).to_bytes())
    populator.load_metadata_buffer(ModelMetadata(name="Tiny", subgraph_metadata=[SubGraphMetadata(
        input_tensor_metadata=[TensorMetadata(name="x")],
        output_tensor_metadata=[TensorMetadata(name="y", associated_files=[
            AssociatedFile(name="labels.txt", type="TENSOR_AXIS_LABELS")])])]).to_buffer())
    populator.load_associated_file_buffers({"labels.txt": b"a\nb\nc\n"})
    populator.populate()
    path = tmp_path / "tiny.tflite"
    path.write_bytes(populator.get_model_buffer())
    return path


def test_prints_json_and_files_and_extracts(tmp_path, capsys):
    path = _model_with_metadata(tmp_path)
    assert main(["metadata", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith('{\n  "name": "Tiny",\n')
    assert '"type": "TENSOR_AXIS_LABELS"' in out
    assert "Associated files (1):\n  labels.txt  6 bytes\n" in out
    assert main(["metadata", "--json", str(path)]) == 0
    assert capsys.readouterr().out.endswith('"min_parser_version": "1.0.0"\n}\n')
    assert main(["metadata", str(path), "--extract", str(tmp_path / "files")]) == 0
    assert (tmp_path / "files" / "labels.txt").read_bytes() == b"a\nb\nc\n"


def test_user_errors(tmp_path, capsys):
    assert main(["metadata", str(tmp_path / "missing.tflite")]) == 2
    assert "no such file" in capsys.readouterr().err
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1,), np.float32)
    sg.inputs = sg.outputs = [x]
    bare = tmp_path / "bare.tflite"
    Model(subgraphs=[sg]).save(bare)
    assert main(["metadata", str(bare)]) == 2
    assert "no TFLite metadata and no associated files" in capsys.readouterr().err


def test_extract_refuses_names_that_escape_the_folder(tmp_path, capsys):
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1,), np.float32)
    sg.inputs = sg.outputs = [x]
    model = Model(subgraphs=[sg])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", b"x")
        zf.writestr("..", b"y")
    model.appended_zip = buf.getvalue()
    path = tmp_path / "m.tflite"
    model.save(path)
    out_dir = tmp_path / "out"
    assert main(["metadata", str(path), "--extract", str(out_dir)]) == 2
    assert (out_dir / "evil.txt").read_bytes() == b"x"  # written inside the folder
    assert not (tmp_path / "evil.txt").exists()
    assert "not a file name that can be extracted" in capsys.readouterr().err
