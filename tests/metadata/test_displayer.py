"""MetadataDisplayer and read_metadata against tflite-support 0.4.4's displayer (recorded)."""
import hashlib
import json

import pytest

from edgelite.metadata import MetadataDisplayer, MetadataError, read_metadata
from edgelite.metadata.json_text import escape_string, format_float

from .conftest import displayer_oracle, shared_file

ORACLE = displayer_oracle()
WITH_METADATA = sorted(k for k, v in ORACLE.items() if "json" in v)
WITHOUT_METADATA = sorted(k for k, v in ORACLE.items() if "json" not in v)


@pytest.mark.parametrize("rel", WITH_METADATA)
def test_json_and_files_equal_tflite_support(rel):
    expected = ORACLE[rel]
    displayer = MetadataDisplayer.with_model_file(shared_file(rel))
    assert displayer.get_metadata_json() == expected["json"]
    assert displayer.get_packed_associated_file_list() == expected["files"]
    for name, sha in expected["sha"].items():
        assert hashlib.sha256(displayer.get_associated_file_buffer(name)).hexdigest() == sha


@pytest.mark.parametrize("rel", WITH_METADATA)
def test_dataclasses_round_trip_to_the_same_json(rel):
    displayer = MetadataDisplayer.with_model_file(shared_file(rel))
    metadata = read_metadata(shared_file(rel))
    again = MetadataDisplayer.with_model_buffer(shared_file(rel).read_bytes()).get_metadata()
    assert metadata == again
    # Python objects -> FlatBuffer -> JSON gives the displayer's JSON (these files store no
    # scalar equal to its default, so nothing is lost by re-packing).
    from edgelite.metadata import convert_to_json
    assert convert_to_json(metadata.to_buffer()) == displayer.get_metadata_json()
    as_json = json.loads(displayer.get_metadata_json())
    assert metadata.name == as_json.get("name")
    assert len(metadata.subgraph_metadata or []) == len(as_json.get("subgraph_metadata", []))


def test_models_without_metadata_are_refused_like_tflite_support():
    rel = WITHOUT_METADATA[0]
    assert ORACLE[rel]["error"] == "ValueError: The model does not have metadata."
    with pytest.raises(ValueError, match="The model does not have metadata."):
        MetadataDisplayer.with_model_file(shared_file(rel))
    assert read_metadata(shared_file(rel)) is None


def test_missing_file_and_bad_buffers():
    with pytest.raises(OSError, match="does not exist"):
        MetadataDisplayer.with_model_file("/nonexistent/model.tflite")
    with pytest.raises(MetadataError, match="cannot be empty"):
        MetadataDisplayer.with_model_buffer(b"")
    with pytest.raises(MetadataError, match="expected identifier"):
        MetadataDisplayer.with_model_buffer(b"\x10\0\0\0XXXX" + bytes(16))


def test_associated_file_that_is_not_packed():
    displayer = MetadataDisplayer.with_model_file(
        shared_file("support/task/vision/mobilenet_v1_0.25_224_quant.tflite"))
    assert displayer.get_packed_associated_file_list() == ["labels.txt"]
    assert displayer.get_associated_file_buffer("labels.txt").startswith(b"background\n")
    with pytest.raises(ValueError, match="The file, nope.txt, does not exist in the model."):
        displayer.get_associated_file_buffer("nope.txt")


def test_float_and_string_printing_follow_flatbuffers():
    assert [format_float(v) for v in (127.5, 0.0, 1.0, 0.2, 1e-7, -2.5e6, float("nan"), float("inf"))] == \
        ["127.5", "0.0", "1.0", "0.2", "0.0", "-2500000.0", "nan", "inf"]
    assert format_float(0.1, 12) == "0.1"
    assert escape_string('a"b\\c\n\t/é\x01\x7f😀') == '"a\\"b\\\\c\\n\\t/\\u00E9\\u0001\\u007F\\uD83D\\uDE00"'


def test_presence_not_value_decides_what_is_printed():
    # A scalar stored with its default value is printed; an absent one is not.
    import flatbuffers
    from edgelite.metadata.schema import METADATA_SCHEMA
    from edgelite.metadata import convert_to_json
    b = flatbuffers.Builder(0)
    name = b.CreateString("x")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, name, 0)
    b.ForceDefaults(True)
    b.PrependInt8Slot(2, 0, 0)  # type UNKNOWN, stored explicitly
    b.ForceDefaults(False)
    file = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(file)
    files = b.EndVector()
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(6, files, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    text = convert_to_json(bytes(b.Output()))
    assert text == ('{\n  "associated_files": [\n    {\n      "name": "x",\n'
                    '      "type": "UNKNOWN"\n    }\n  ]\n}\n')
    assert METADATA_SCHEMA.tables["AssociatedFile"][2][1] == "type"


def test_empty_vector_odd_floats_and_unicode_as_tflite_support_prints_them():
    import flatbuffers
    from edgelite.metadata import convert_to_json
    b = flatbuffers.Builder(0)
    s = b.CreateString('a"b\\c\n\t/é\x01\x7f😀')
    b.StartVector(4, 0, 4)
    empty = b.EndVector()
    b.StartVector(4, 3, 4)
    for v in (1e-7, 123456789.0, float("nan")):
        b.PrependFloat32(v)
    floats = b.EndVector()
    b.StartObject(2)
    b.PrependUOffsetTRelativeSlot(0, floats, 0)
    b.PrependUOffsetTRelativeSlot(1, empty, 0)
    stats = b.EndObject()
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(0, s, 0)
    b.PrependUOffsetTRelativeSlot(5, stats, 0)
    tensor = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(tensor)
    tensors = b.EndVector()
    b.StartObject(10)
    b.PrependUOffsetTRelativeSlot(2, tensors, 0)
    subgraph = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(subgraph)
    subgraphs = b.EndVector()
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(3, subgraphs, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    # Recorded from tflite_support.metadata.convert_to_json (0.4.4) on the same buffer.
    expected = ('{\n  "subgraph_metadata": [\n    {\n      "input_tensor_metadata": [\n        {\n'
                '          "name": "a\\"b\\\\c\\n\\t/\\u00E9\\u0001\\u007F\\uD83D\\uDE00",\n'
                '          "stats": {\n            "max": [\n              nan,\n'
                '              123456792.0,\n              0.0\n            ],\n'
                '            "min": [\n\n            ]\n          }\n        }\n      ]\n'
                '    }\n  ]\n}\n')
    assert convert_to_json(bytes(b.Output())) == expected


def test_metadata_of_a_model_edgelite_cannot_load_is_still_shown():
    # The displayer reads only Model.buffers and Model.metadata, as tflite-support does.
    import flatbuffers
    import numpy as np

    import edgelite
    from edgelite.metadata import ModelMetadata
    from edgelite.schema.codec import encode_table
    metadata = ModelMetadata(name="broken graph").to_buffer()
    raw = {"version": 3, "subgraphs": [{"tensors": [], "inputs": np.array([99], np.int32)}],
           "buffers": [{}, {"data": np.frombuffer(metadata, np.uint8)}],
           "metadata": [{"name": "TFLITE_METADATA", "buffer": 1}]}
    builder = flatbuffers.Builder(0)
    builder.Finish(encode_table(builder, "Model", raw), file_identifier=b"TFL3")
    data = bytes(builder.Output())
    with pytest.raises(edgelite.ModelError):
        edgelite.load_model(data)
    displayer = MetadataDisplayer.with_model_buffer(data)
    assert displayer.get_metadata_buffer() == metadata
    assert displayer.get_metadata_json() == '{\n  "name": "broken graph"\n}\n'
    raw["metadata"][0]["buffer"] = 7
    builder = flatbuffers.Builder(0)
    builder.Finish(encode_table(builder, "Model", raw), file_identifier=b"TFL3")
    with pytest.raises(MetadataError, match=r"Model.metadata\[0\].buffer: buffer index 7 out of range"):
        MetadataDisplayer.with_model_buffer(bytes(builder.Output()))
