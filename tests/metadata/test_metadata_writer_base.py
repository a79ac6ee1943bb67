"""metadata_writer.MetadataWriter (create_from_metadata / create_from_metadata_info) gives
tflite-support's golden JSON, as its metadata_writer_test builds it."""
import numpy as np
import pytest

from edgelite.ir import Model, Subgraph
from edgelite.metadata import MetadataDisplayer, ModelMetadata, TensorMetadata
from edgelite.metadata.writers import metadata_info as mi
from edgelite.metadata.writers import metadata_writer

from .conftest import SUPPORT

GOLDEN = SUPPORT / "metadata"
LABELS = str(GOLDEN / "labels.txt")
pytestmark = pytest.mark.skipif(not GOLDEN.exists(), reason="../shared/support/metadata not found")


def golden(name: str) -> str:
    return (GOLDEN / name).read_text()


def mobilenet() -> bytes:
    return (GOLDEN / "mobilenet_v2_1.0_224_quant.tflite").read_bytes()


def stand_in(inputs, outputs) -> bytes:
    sg = Subgraph(name="main")
    ins = [sg.add_tensor(n, (1, 4), np.float32) for n in inputs]
    outs = [sg.add_tensor(n, (1, 4), np.float32) for n in outputs]
    sg.add_operator("CUSTOM", ins, outs, custom_code="StandIn")
    sg.inputs, sg.outputs = ins, outs
    return Model(subgraphs=[sg]).to_bytes()


def populated_json(writer, packed=None) -> str:
    displayer = MetadataDisplayer.with_model_buffer(writer.populate())
    if packed is not None:
        assert displayer.get_packed_associated_file_list() == packed
    return displayer.get_metadata_json()


def dummy():
    return (ModelMetadata(name="mobilenet_v2_1.0_224_quant"), TensorMetadata(name="image"),
            TensorMetadata(name="probability"))


@pytest.mark.filterwarnings("ignore:File, 'labels.txt', does not exist in the metadata")
def test_create_from_metadata():
    model_md, input_md, output_md = dummy()
    writer = metadata_writer.MetadataWriter.create_from_metadata(mobilenet(), model_md, [input_md],
                                                                 [output_md], [LABELS])
    assert writer.get_metadata_json() == golden("mobilenet_v2_1.0_224_quant_dummy_no_version.json")
    assert populated_json(writer, ["labels.txt"]) == golden("mobilenet_v2_1.0_224_quant_dummy.json")
    assert writer.get_populated_metadata_json() == golden("mobilenet_v2_1.0_224_quant_dummy.json")
    default = metadata_writer.MetadataWriter.create_from_metadata(mobilenet())
    assert populated_json(default) == golden("mobilenet_v2_1.0_224_quant_default.json")


@pytest.mark.filterwarnings("ignore:File, 'labels.txt', does not exist in the metadata")
def test_create_from_metadata_info():
    writer = metadata_writer.MetadataWriter.create_from_metadata_info(
        mobilenet(), mi.GeneralMd(name="mobilenet_v2_1.0_224_quant"), [mi.TensorMd(name="image")],
        [mi.TensorMd(name="probability")], [LABELS])
    assert populated_json(writer, ["labels.txt"]) == golden("mobilenet_v2_1.0_224_quant_meta_info_.json")
    default = metadata_writer.MetadataWriter.create_from_metadata_info(mobilenet())
    assert populated_json(default) == golden("mobilenet_v2_1.0_224_quant_default.json")


def test_tensor_names_order_the_metadata():
    # Stand-ins for MobileBERT (inputs) and the two-head audio model (outputs).
    multi_inputs = stand_in(["input_ids", "input_mask", "segment_ids"], ["end_logits", "start_logits"])
    writer = metadata_writer.MetadataWriter.create_from_metadata_info(multi_inputs, input_md=[
        mi.TensorMd(name="mask", tensor_name="input_mask"), mi.TensorMd(name="segment", tensor_name="segment_ids"),
        mi.TensorMd(name="ids", tensor_name="input_ids")])
    assert populated_json(writer) == golden("multi_inputs.json")
    two_heads = stand_in(["audio"], ["Identity", "Identity_1"])
    writer = metadata_writer.MetadataWriter.create_from_metadata_info(two_heads, output_md=[
        mi.TensorMd(name="Identity 1", tensor_name="Identity_1"), mi.TensorMd(name="Identity", tensor_name="Identity")])
    assert populated_json(writer) == golden("multi_outputs.json")
    for kind, names in (("input_md", "['input']"), ("output_md", "['output']")):
        with pytest.raises(ValueError) as error:
            metadata_writer.MetadataWriter.create_from_metadata_info(
                mobilenet(), **{kind: [mi.TensorMd(tensor_name="wrong_tensor_name")]})
        assert str(error.value) == ("The tensor names from arguments (['wrong_tensor_name']) do not "
                                    f"match the tensor names read from the model ({names}).")
