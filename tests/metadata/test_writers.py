"""The metadata writers produce tflite-support's golden JSON (../shared/support/metadata).

Models that tflite-support's tests use but the shared data lacks (float MobileNet v2,
EfficientDet-Lite0, YAMNet from TF Hub, the two-head audio model, the BERT classifier) are
replaced by stand-ins built here with the same input and output tensor names, types and output
order: the writers only read those from the model, so the JSON must still equal the golden.
"""
import json

import numpy as np
import pytest

from edgelite.ir import Model, Subgraph
from edgelite.metadata import MetadataDisplayer
from edgelite.metadata.enums import ScoreTransformationType
from edgelite.metadata.writers import (audio_classifier, bert_nl_classifier, image_classifier,
                                       image_segmenter, nl_classifier, object_detector, writer_utils)
from edgelite.metadata.writers import metadata_info as mi

from .conftest import SUPPORT

GOLDEN = SUPPORT / "metadata"
pytestmark = pytest.mark.skipif(not GOLDEN.exists(), reason="../shared/support/metadata not found")


def golden(rel: str) -> str:
    return (GOLDEN / rel).read_text()


def model(rel: str) -> bytes:
    return (GOLDEN / rel).read_bytes()


def stand_in(inputs, outputs, output_tensor_order=None) -> bytes:
    """A model with these (name, dtype) inputs and outputs, joined by one custom op; outputs are
    listed in ``output_tensor_order`` (tensor indices among the outputs, 0-based)."""
    sg = Subgraph(name="main")
    ins = [sg.add_tensor(name, (1, 4), dtype) for name, dtype in inputs]
    outs = [sg.add_tensor(name, (1, 4), dtype) for name, dtype in outputs]
    sg.add_operator("CUSTOM", ins, outs, custom_code="StandIn")
    sg.inputs = ins
    order = output_tensor_order or range(len(outs))
    sg.outputs = [outs[0] + i for i in order]
    return Model(subgraphs=[sg]).to_bytes()


def calibration_file(tmp_path, name="score_calibration.txt"):
    path = tmp_path / name
    path.write_text("1.0,2.0,3.0,4.0")  # as tflite-support's test_utils.create_calibration_file
    return str(path)


@pytest.mark.parametrize("model_bytes, golden_json", [
    (lambda: model("image_classifier/mobilenet_v2_1.0_224_quant.tflite"),
     "image_classifier/mobilenet_v2_1.0_224_quant.json"),
    (lambda: stand_in([("input", np.float32)], [("output", np.float32)]),
     "image_classifier/mobilenet_v2_1.0_224.json"),
], ids=["quant", "float_stand_in"])
def test_image_classifier(model_bytes, golden_json):
    folder = GOLDEN / "image_classifier"
    writer = image_classifier.MetadataWriter.create_for_inference(
        model_bytes(), [127.5], [127.5], [str(folder / "labels.txt")],
        mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, str(folder / "score_calibration.txt")))
    assert writer.get_metadata_json() == golden(golden_json)
    default = image_classifier.MetadataWriter.create_from_metadata_info(model_bytes())
    assert default.get_metadata_json() == golden("image_classifier/mobilenet_v2_1.0_224_default.json")


# EfficientDet-Lite0's outputs are listed as (score, location, number, category) while their
# tensor indices rank (location, category, score, number).
EFFICIENTDET = ([("image", np.uint8)], [(n, np.float32) for n in ("loc", "cls", "scr", "num")],
                [2, 0, 3, 1])


@pytest.mark.parametrize("name", ["ssd_mobilenet_v1", "efficientdet_lite0_v1"])
def test_object_detector(name):
    data = model("object_detector/ssd_mobilenet_v1.tflite") if name == "ssd_mobilenet_v1" \
        else stand_in(*EFFICIENTDET)
    writer = object_detector.MetadataWriter.create_for_inference(
        data, [127.5], [127.5], [str(GOLDEN / "object_detector/labelmap.txt")])
    assert writer.get_metadata_json() == golden(f"object_detector/{name}.json")
    default = object_detector.MetadataWriter.create_from_metadata_info(data)
    assert default.get_metadata_json() == golden(f"object_detector/{name}_default.json")


@pytest.mark.parametrize("csv_name, default_score, golden_json", [
    ("score_calibration.csv", 0.2, "coco_ssd_mobilenet_v1_score_calibration.json"),
    ("score_calibration_dummy.csv", 0.0, "coco_ssd_mobilenet_v1_score_calibration_dummy.json"),
])
def test_object_detector_with_score_calibration(csv_name, default_score, golden_json):
    folder = GOLDEN / "object_detector"
    writer = object_detector.MetadataWriter.create_for_inference(
        model("object_detector/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite"),
        [127.5], [127.5], [str(folder / "labelmap.txt")],
        mi.ScoreCalibrationMd(ScoreTransformationType.INVERSE_LOGISTIC, default_score, str(folder / csv_name)))
    assert writer.get_metadata_json() == golden("object_detector/" + golden_json)
    populated = MetadataDisplayer.with_model_buffer(writer.populate())
    assert populated.get_packed_associated_file_list() == ["labelmap.txt", csv_name]
    if csv_name == "score_calibration_dummy.csv":
        # tflite-support's own populated model carries the same metadata.
        expected = MetadataDisplayer.with_model_file(
            folder / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_score_calibration.tflite")
        expected_dict = json.loads(expected.get_metadata_json())
        assert expected_dict == {**expected_dict, **json.loads(writer.get_metadata_json())}
        assert populated.get_metadata_json() == expected.get_metadata_json()


def test_image_segmenter():
    data = model("image_segmenter/deeplabv3.tflite")
    writer = image_segmenter.MetadataWriter.create_for_inference(
        data, [127.5], [127.5], [str(GOLDEN / "image_segmenter/labelmap.txt")])
    assert writer.get_metadata_json() == golden("image_segmenter/deeplabv3.json")
    default = image_segmenter.MetadataWriter.create_from_metadata_info(data)
    assert default.get_metadata_json() == golden("image_segmenter/deeplabv3_default.json")


def test_audio_classifier(tmp_path):
    folder = GOLDEN / "audio_classifier"
    data = model("audio_classifier/yamnet_wavin_quantized_mel_relu6.tflite")
    calibration = mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, calibration_file(tmp_path))
    writer = audio_classifier.MetadataWriter.create_for_inference(
        data, 2, 1, [str(folder / "yamnet_521_labels.txt")], calibration)
    assert writer.get_metadata_json() == golden("audio_classifier/yamnet_wavin_quantized_mel_relu6.json")
    default = audio_classifier.MetadataWriter.create_from_metadata_info(data)
    assert default.get_metadata_json() == golden("audio_classifier/yamnet_wavin_quantized_mel_relu6_default.json")
    # YAMNet from TF Hub (dynamic input size): float32 waveform in, float32 scores out.
    tfhub = stand_in([("waveform", np.float32)], [("scores", np.float32)])
    calibration = mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, calibration_file(tmp_path))
    writer = audio_classifier.MetadataWriter.create_for_inference(
        tfhub, 2, 1, [str(folder / "labelmap.txt")], calibration)
    assert writer.get_metadata_json() == golden("audio_classifier/yamnet_tfhub.json")
    for bad in (0, -1):
        with pytest.raises(ValueError, match=f"sample_rate should be positive, but got {bad}."):
            audio_classifier.MetadataWriter.create_for_inference(tfhub, bad, 1, [], calibration)
        with pytest.raises(ValueError, match=f"channels should be positive, but got {bad}."):
            audio_classifier.MetadataWriter.create_for_inference(tfhub, 2, bad, [], calibration)


def test_audio_classifier_multihead(tmp_path):
    two_heads = stand_in([("waveform", np.float32)], [("Identity", np.float32), ("Identity_1", np.float32)])
    default = audio_classifier.MetadataWriter.create_from_metadata_info_for_multihead(two_heads)
    assert default.get_metadata_json() == golden("audio_classifier/two_heads_default.json")
    heads = []
    for i, tensor in ((1, "Identity_1"), (2, "Identity")):
        heads.append(mi.ClassificationTensorMd(
            name=f"head{i}",
            label_files=[mi.LabelFileMd(f"labels_en_{i}.txt"), mi.LabelFileMd(f"labels_cn_{i}.txt")],
            score_calibration_md=mi.ScoreCalibrationMd(
                ScoreTransformationType.LOG, 0.2, calibration_file(tmp_path, f"score_cali_{i}.txt")),
            tensor_name=tensor))
    writer = audio_classifier.MetadataWriter.create_from_metadata_info_for_multihead(
        two_heads, mi.GeneralMd(name="AudioClassifier"),
        mi.InputAudioTensorMd(name="audio_clip", sample_rate=2, channels=1), heads)
    assert writer.get_metadata_json() == golden("audio_classifier/two_heads.json")


def test_nl_classifier():
    folder = GOLDEN / "nl_classifier"
    data = model("nl_classifier/movie_review.tflite")
    writer = nl_classifier.MetadataWriter.create_for_inference(
        data, mi.RegexTokenizerMd(r"[^\w\']+", str(folder / "vocab.txt")), [str(folder / "labels.txt")])
    populated = MetadataDisplayer.with_model_buffer(writer.populate())
    assert populated.get_metadata_json() == golden("nl_classifier/movie_review_regex.json")
    assert populated.get_packed_associated_file_list() == ["labels.txt", "vocab.txt"]
    assert populated.get_associated_file_buffer("vocab.txt") == (folder / "vocab.txt").read_bytes()
    default = nl_classifier.MetadataWriter.create_from_metadata_info(data)
    assert default.get_metadata_json() == golden("nl_classifier/movie_review_default.json")


BERT = stand_in([("serving_default_input_word_ids:0", np.int32),
                 ("serving_default_input_type_ids:0", np.int32),
                 ("serving_default_input_mask:0", np.int32)], [("Identity", np.float32)])


@pytest.mark.parametrize("tokenizer, golden_json", [
    ("bert", "bert_nl_classifier_with_bert_tokenizer.json"),
    ("sentence_piece", "bert_nl_classifier_with_sentence_piece.json"),
])
def test_bert_nl_classifier(tmp_path, tokenizer, golden_json):
    # The vocabulary and sentence piece model are stand-ins too: only their names are recorded.
    vocab, sp_model = tmp_path / "mobilebert_vocab.txt", tmp_path / "30k-clean.model"
    vocab.write_text("[PAD]\n[UNK]\n")
    sp_model.write_bytes(b"\x00sp")
    tokenizer_md = mi.BertTokenizerMd(str(vocab)) if tokenizer == "bert" \
        else mi.SentencePieceTokenizerMd(str(sp_model))
    writer = bert_nl_classifier.MetadataWriter.create_for_inference(
        BERT, tokenizer_md, [str(GOLDEN / "bert_nl_classifier/labels.txt")])
    populated = MetadataDisplayer.with_model_buffer(writer.populate())
    assert populated.get_metadata_json() == golden("bert_nl_classifier/" + golden_json)
    assert writer.get_populated_metadata_json() == populated.get_metadata_json()


def test_bert_nl_classifier_default_and_name_check():
    default = bert_nl_classifier.MetadataWriter.create_from_metadata_info(BERT)
    assert default.get_metadata_json() == golden("bert_nl_classifier/bert_nl_classifier_default.json")
    with pytest.raises(ValueError, match="do not match"):
        bert_nl_classifier.MetadataWriter.create_for_inference(
            BERT, mi.BertTokenizerMd("vocab.txt"), [], ids_name="nope")


def test_writer_utils_and_metadata_info_checks(tmp_path):
    data = model("image_segmenter/deeplabv3.tflite")
    assert writer_utils.get_input_tensor_names(data) == ["sub_7"]
    assert writer_utils.compute_flat_size(writer_utils.get_input_tensor_shape(data, 0)) == 257 * 257 * 3
    assert writer_utils.compute_flat_size(None) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("1.0,2.0\n")
    with pytest.raises(ValueError, match="3 or 4 parameters per line"):
        mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, str(bad))
    bad.write_text("-1.0,2.0,3.0\n")
    with pytest.raises(ValueError, match="non-negative"):
        mi.ScoreCalibrationMd(ScoreTransformationType.LOG, 0.2, str(bad))
    with pytest.raises(ValueError, match="same dim"):
        mi.InputImageTensorMd(norm_mean=[1.0, 2.0], norm_std=[1.0])
