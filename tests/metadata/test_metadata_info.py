"""metadata_info pieces give tflite-support's golden JSON (../shared/support/metadata/*.json),
built as tflite-support's metadata_info_test does."""
import pytest

from edgelite.metadata import (ModelMetadata, SubGraphMetadata, convert_to_json)
from edgelite.metadata.enums import (AssociatedFileType, ContentProperties, ScoreTransformationType,
                                     TensorType)
from edgelite.metadata.writers import metadata_info as mi

from .conftest import SUPPORT

GOLDEN = SUPPORT / "metadata"
CALIBRATION = GOLDEN / "image_classifier" / "score_calibration.txt"
pytestmark = pytest.mark.skipif(not GOLDEN.exists(), reason="../shared/support/metadata not found")


def golden(name: str) -> str:
    return (GOLDEN / name).read_text()


def with_tensor(tensor) -> str:
    metadata = ModelMetadata(subgraph_metadata=[SubGraphMetadata(input_tensor_metadata=[tensor])])
    return convert_to_json(metadata.to_buffer())


def with_process_unit(unit) -> str:
    metadata = ModelMetadata(subgraph_metadata=[SubGraphMetadata(input_process_units=[unit])])
    return convert_to_json(metadata.to_buffer())


def with_files(files) -> str:
    return convert_to_json(ModelMetadata(associated_files=files).to_buffer())


def test_general_and_associated_file():
    general = mi.GeneralMd(name="model", version="v1", description="A ML model.",
                           author="TensorFlow", licenses="Apache").create_metadata()
    assert convert_to_json(general.to_buffer()) == golden("general_meta.json")
    file_md = mi.AssociatedFileMd(file_path="label.txt", description="The label file.",
                                  file_type=AssociatedFileType.TENSOR_AXIS_LABELS, locale="en")
    assert with_files([file_md.create_metadata()]) == golden("associated_file_meta.json")


@pytest.mark.parametrize("content_type, name", [
    (ContentProperties.FeatureProperties, "feature_tensor_meta.json"),
    (ContentProperties.ImageProperties, "image_tensor_meta.json"),
    (ContentProperties.BoundingBoxProperties, "bounding_box_tensor_meta.json"),
])
def test_tensor(content_type, name):
    tensor = mi.TensorMd(name="input", description="The input tensor.", min_values=[0], max_values=[1],
                         content_type=content_type,
                         associated_files=[mi.AssociatedFileMd(file_path="labels.txt", locale="en"),
                                           mi.AssociatedFileMd(file_path="labels_cn.txt", locale="cn")])
    assert with_tensor(tensor.create_metadata()) == golden(name)


@pytest.mark.parametrize("tensor_type, name", [
    (TensorType.FLOAT32, "input_image_tensor_float_meta.json"),
    (TensorType.UINT8, "input_image_tensor_uint8_meta.json"),
    (TensorType.INT16, "input_image_tensor_unsupported_meta.json"),
])
def test_input_image(tensor_type, name):
    tensor = mi.InputImageTensorMd(name="image", description="The input image.",
                                   norm_mean=[0, 127.5, 255], norm_std=[127.5, 127.5, 127.5],
                                   color_space_type=1, tensor_type=tensor_type)
    assert with_tensor(tensor.create_metadata()) == golden(name)


def test_input_text_and_audio():
    text = mi.InputTextTensorMd("input text", "The input string.", mi.RegexTokenizerMd(r"[^\w\']+", "vocab.txt"))
    assert with_tensor(text.create_metadata()) == golden("input_text_tesnor_meta.json")
    assert with_tensor(mi.InputTextTensorMd().create_metadata()) == golden("input_text_tesnor_default_meta.json")
    with pytest.raises(ValueError, match="is unsupported"):
        mi.InputTextTensorMd(tokenizer_md=mi.BertTokenizerMd("vocab.txt")).create_metadata()
    audio = mi.InputAudioTensorMd("input text", "The input string.", 10, 2)
    assert with_tensor(audio.create_metadata()) == golden("input_audio_tesnor_meta.json")
    assert with_tensor(mi.InputAudioTensorMd().create_metadata()) == golden("input_audio_tesnor_default_meta.json")
    with pytest.raises(ValueError, match="sample_rate should be non-negative, but got -1."):
        mi.InputAudioTensorMd(sample_rate=-1).create_metadata()
    with pytest.raises(ValueError, match="channels should be non-negative, but got -1."):
        mi.InputAudioTensorMd(channels=-1).create_metadata()


@pytest.mark.parametrize("tensor_type, name", [
    (TensorType.FLOAT32, "classification_tensor_float_meta.json"),
    (TensorType.UINT8, "classification_tensor_uint8_meta.json"),
    (TensorType.INT16, "classification_tensor_unsupported_meta.json"),
])
def test_classification(tensor_type, name):
    tensor = mi.ClassificationTensorMd(
        name="probability", description="The classification result tensor.",
        label_files=[mi.LabelFileMd(file_path="labels.txt", locale="en"),
                     mi.LabelFileMd(file_path="labels_cn.txt", locale="cn")],
        tensor_type=tensor_type,
        score_calibration_md=mi.ScoreCalibrationMd(ScoreTransformationType.IDENTITY, 0.2, str(CALIBRATION)))
    assert with_tensor(tensor.create_metadata()) == golden(name)


def test_category():
    tensor = mi.CategoryTensorMd(name="category", description="The category tensor.",
                                 label_files=[mi.LabelFileMd(file_path="labels.txt", locale="en"),
                                              mi.LabelFileMd(file_path="labels_cn.txt", locale="cn")])
    assert with_tensor(tensor.create_metadata()) == golden("category_tensor_float_meta.json")


def test_tokenizers_and_score_calibration():
    assert with_process_unit(mi.RegexTokenizerMd(r"[^\w\']+", "vocab.txt").create_metadata()) == \
        golden("regex_tokenizer_meta.json")
    assert with_process_unit(mi.BertTokenizerMd("vocab.txt").create_metadata()) == golden("bert_tokenizer_meta.json")
    assert with_process_unit(mi.SentencePieceTokenizerMd("sp.model", "vocab.txt").create_metadata()) == \
        golden("sentence_piece_tokenizer_meta.json")
    calibration = mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, str(CALIBRATION))
    assert with_process_unit(calibration.create_metadata()) == golden("score_calibration_tensor_meta.json")
    assert with_files([calibration.create_score_calibration_file_md().create_metadata()]) == \
        golden("score_calibration_file_meta.json")
