"""MetadataPopulator and min_parser_version (rules of tflite-support's metadata_version.cc)."""
import json

import numpy as np
import pytest

import edgelite
from edgelite.ir import Model, Subgraph
from edgelite.metadata import (AssociatedFile, AudioProperties, BertTokenizerOptions, Content,
                               CustomMetadata, MetadataDisplayer, MetadataError, ModelMetadata,
                               NormalizationOptions, ProcessUnit, RegexTokenizerOptions,
                               SentencePieceTokenizerOptions, SubGraphMetadata, TensorGroup,
                               TensorMetadata, convert_to_json, read_metadata)
from edgelite.metadata.populator import MetadataPopulator
from edgelite.metadata.version import get_min_parser_version

from .conftest import FIXTURES, SUPPORT


def _md(**subgraph) -> ModelMetadata:
    return ModelMetadata(subgraph_metadata=[SubGraphMetadata(**subgraph)])


T = TensorMetadata
VERSION_CASES = {
    "empty": ModelMetadata(),
    "vocab_file_on_tensor": _md(input_tensor_metadata=[T(associated_files=[AssociatedFile(name="v", type="VOCABULARY")])]),
    "scann_on_model": ModelMetadata(associated_files=[AssociatedFile(name="s", type="SCANN_INDEX_FILE")]),
    "file_version_on_subgraph": _md(associated_files=[AssociatedFile(name="a", version="2")]),
    "empty_input_process_units": _md(input_process_units=[]),
    "output_units_regex": _md(output_process_units=[ProcessUnit("RegexTokenizerOptions", RegexTokenizerOptions("x"))]),
    "tensor_bert": _md(input_tensor_metadata=[T(process_units=[ProcessUnit("BertTokenizerOptions", BertTokenizerOptions())])]),
    "tensor_groups": _md(output_tensor_groups=[TensorGroup(name="g")]),
    "audio": _md(input_tensor_metadata=[T(content=Content("AudioProperties", AudioProperties(16000, 1)))]),
    "custom": _md(custom_metadata=[CustomMetadata(name="c", data=b"\x01\x02")]),
    "vocab_in_tokenizer_not_counted": _md(
        input_tensor_metadata=[T(process_units=[ProcessUnit("NormalizationOptions", NormalizationOptions([1.0], [2.0]))])],
        output_tensor_metadata=[T(associated_files=[AssociatedFile(name="l", type="TENSOR_AXIS_LABELS")])]),
    "sentencepiece_vocab_version_inside_not_counted": _md(input_tensor_metadata=[T(process_units=[ProcessUnit(
        "SentencePieceTokenizerOptions",
        SentencePieceTokenizerOptions(vocab_file=[AssociatedFile(name="v", type="SCANN_INDEX_FILE", version="1")]))])]),
}
RECORDED = json.loads((FIXTURES / "version_cases_tflite_support.json").read_text())["cases"]


@pytest.mark.parametrize("case", sorted(VERSION_CASES))
def test_min_parser_version_and_json_equal_tflite_support(case):
    buf = VERSION_CASES[case].to_buffer()
    assert get_min_parser_version(buf) == RECORDED[case]["min_parser_version"]
    assert convert_to_json(buf) == RECORDED[case]["json"]
    assert ModelMetadata.from_buffer(buf) == VERSION_CASES[case]


def _model(n_in=1, n_out=1) -> bytes:
    sg = Subgraph(name="main")
    ins = [sg.add_tensor(f"in{i}", (1, 3), np.float32) for i in range(n_in)]
    outs = [sg.add_tensor(f"out{i}", (1, 3), np.float32) for i in range(n_out)]
    sg.add_operator("CUSTOM", ins, outs, custom_code="StandIn")
    sg.inputs, sg.outputs = ins, outs
    return Model(subgraphs=[sg]).to_bytes()


def _labelled_metadata(label_path: str) -> bytes:
    return _md(input_tensor_metadata=[T(name="x")], output_tensor_metadata=[T(
        name="y", associated_files=[AssociatedFile(name=label_path, type="TENSOR_AXIS_LABELS")])]).to_buffer()


def test_populate_a_buffer_then_a_file(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_bytes(b"cat\ndog\nbird\n")
    populator = MetadataPopulator.with_model_buffer(_model())
    populator.load_metadata_buffer(_labelled_metadata(str(labels)))
    assert populator.get_recorded_associated_file_list() == ["labels.txt"]  # base name recorded
    with pytest.raises(MetadataError, match="'labels.txt', is recorded in the metadata, but has not been loaded"):
        populator.populate()
    populator.load_associated_files([str(labels)])
    populator.populate()
    out = populator.get_model_buffer()
    displayer = MetadataDisplayer.with_model_buffer(out)
    assert displayer.get_packed_associated_file_list() == ["labels.txt"]
    assert displayer.get_associated_file_buffer("labels.txt") == b"cat\ndog\nbird\n"
    metadata = read_metadata(out)
    assert metadata.min_parser_version == "1.0.0"
    assert metadata.subgraph.output_tensor_metadata[0].associated_files[0].name == "labels.txt"
    assert edgelite.load_model(out).main.tensors[0].name == "in0"  # the model is intact

    # In place on a file, adding a second file next to the packed one.
    path = tmp_path / "model.tflite"
    path.write_bytes(out)
    populator = MetadataPopulator.with_model_file(path)
    assert populator.get_packed_associated_file_list() == ["labels.txt"]
    with pytest.warns(UserWarning, match="does not exist in the metadata"):
        populator.load_associated_file_buffers({"extra/readme.txt": b"hello"})
        populator.populate()
    displayer = MetadataDisplayer.with_model_file(path)
    assert displayer.get_packed_associated_file_list() == ["labels.txt", "readme.txt"]
    assert displayer.get_associated_file_buffer("readme.txt") == b"hello"
    populator = MetadataPopulator.with_model_file(path)
    populator.load_associated_file_buffers({"labels.txt": b"again"})
    with pytest.raises(MetadataError, match="'labels.txt', has already been packed"):
        populator.populate()


def test_metadata_and_files_move_to_another_model():
    source = SUPPORT / "task/vision/mobilenet_v1_0.25_224_quant.tflite"
    if not source.exists():
        pytest.skip("../shared not found")
    model = edgelite.load_model(source)
    model.metadata.clear()
    model.appended_zip = None
    populator = MetadataPopulator.with_model_buffer(model.to_bytes())
    populator.load_metadata_and_associated_files(source.read_bytes())
    populator.populate()
    before = MetadataDisplayer.with_model_file(source)
    after = MetadataDisplayer.with_model_buffer(populator.get_model_buffer())
    expected = json.loads(before.get_metadata_json())
    expected["min_parser_version"] = "1.0.0"  # the source had none; populating computes it
    assert json.loads(after.get_metadata_json()) == expected
    assert after.get_associated_file_buffer("labels.txt") == before.get_associated_file_buffer("labels.txt")


def test_populator_refuses_bad_metadata(tmp_path):
    populator = MetadataPopulator.with_model_buffer(_model(n_in=2))
    with pytest.raises(MetadataError, match="empty"):
        populator.load_metadata_buffer(b"")
    with pytest.raises(MetadataError, match="expected identifier"):
        populator.load_metadata_buffer(b"\x0c\0\0\0XXXX" + bytes(8))
    with pytest.raises(MetadataError, match="exactly one, but got 0"):
        populator.load_metadata_buffer(ModelMetadata().to_buffer())
    with pytest.raises(MetadataError, match=r"input tensors \(2\) should match the number of input tensor metadata \(1\)"):
        populator.load_metadata_buffer(_md(input_tensor_metadata=[T()], output_tensor_metadata=[T()]).to_buffer())
    with pytest.raises(MetadataError, match="expected identifier"):
        MetadataPopulator.with_model_buffer(b"\x0c\0\0\0NOPE" + bytes(8))
    with pytest.raises(OSError, match="does not exist"):
        MetadataPopulator.with_model_file(tmp_path / "missing.tflite")
    with pytest.raises(OSError, match="does not exist"):
        populator.load_associated_files([tmp_path / "missing.txt"])
