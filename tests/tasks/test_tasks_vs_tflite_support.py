"""edgelite.tasks against tflite-support 0.4.4's Task Library (results recorded in fixtures/).

Checks:
- edgelite end to end on float models: tflite-support's categories, in the same order, with
  scores within float rounding (1e-5); segmentation masks equal to the golden PNGs;
- the Task Library layer alone on uint8 models: tflite-support runs them with XNNPACK, whose
  quantized outputs differ from TFLite's builtin kernels by up to 6 steps here, so the model is
  run with LiteRT's XNNPACK path and everything else is edgelite's: results must be identical,
  tied scores' order included (see task_fixtures.with_litert_outputs);
- edgelite end to end on uint8 models: identical to the same task run on LiteRT's builtin
  kernels (which is what edgelite's interpreter reproduces).
Images that tflite-support decoded itself (stb_image) are compared like arrays for PNG; JPEG
decoders differ (stb_image vs libjpeg), so JPEG file inputs need tflite-support's best category
among our top 3.
"""
import warnings

import numpy as np
import pytest

from edgelite.tasks import audio, core, processor, text, vision
from edgelite.tasks.core import TaskError
from task_fixtures import (FIXTURES as FIXTURES_DIR, SUPPORT, VISION, load, needs_support, pillow_rgb, plain, random_image,
                           with_litert_outputs)

pytestmark = needs_support
pytest.importorskip("edgelite.metadata", reason="the models' metadata is read with edgelite.metadata")


def case_id(case):
    case = dict(case, model=case.get("model", "calibrated"))
    keys = [case.get("image", case.get("wav", case.get("text", ""))[:20]), case.get("input", "")]
    keys += [f"{k}={v}" for k, v in sorted(case.get("options", {}).items())]
    return "-".join([case["model"].split("/")[-1][:24]] + [k for k in keys if k])


def model_path(case):
    name = case["model"]
    if name.startswith("fixtures/"):  # made by make_bert_model.py
        return FIXTURES_DIR / name.split("/", 1)[1]
    return SUPPORT / name


def image_of(case):
    if case["image"].startswith("noise "):
        width, height = map(int, case["image"].split()[1].split("x"))
        return vision.TensorImage.create_from_array(random_image(width, height))
    if case["input"] == "file":
        return vision.TensorImage.create_from_file(str(VISION / case["image"]))
    return vision.TensorImage.create_from_array(pillow_rgb(case["image"]))


def is_uint8(task) -> bool:
    return task._model.outputs[0]["dtype"] == np.uint8


def assert_categories_close(ours, theirs, atol):
    assert [c["index"] for c in ours] == [c["index"] for c in theirs]
    assert [c["category_name"] for c in ours] == [c["category_name"] for c in theirs]
    assert [c["display_name"] for c in ours] == [c["display_name"] for c in theirs]
    np.testing.assert_allclose([c["score"] for c in ours], [c["score"] for c in theirs], atol=atol,
                               rtol=1e-6)


# messages of tflite-support 0.4.4 on the same models
REFUSALS = [
    (vision.ObjectDetector,
     "metadata/object_detector/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite",
     "Object detection models require TFLite Model Metadata but none was found"),
    (vision.ObjectDetector, "task/vision/mobilenet_v1_0.25_224_quant.tflite",
     "Mobile SSD models are expected to have exactly 4 outputs, found 1"),
    (vision.ImageClassifier, "task/vision/mobilenet_v1_0.25_224_1_default_1.tflite",
     "Input tensor has type kTfLiteFloat32: it requires specifying NormalizationOptions metadata"),
    (vision.ImageSegmenter, "task/vision/mobilenet_v1_0.25_224_quant.tflite",
     "Output tensor is expected to have 4 dimensions, found 2."),
    (audio.AudioClassifier, "task/audio/model_without_metadata.tflite",
     "input tensor 0 is missing TensorMetadata."),
]


@pytest.mark.parametrize("task, model, message", REFUSALS,
                         ids=[f"{t.__name__}-{m.split('/')[-1][:30]}" for t, m, _ in REFUSALS])
def test_refuses_models_as_tflite_support(task, model, message):
    with pytest.raises(TaskError) as error:
        task.create_from_file(str(SUPPORT / model))
    assert str(error.value).startswith(message)


# -- image classification ------------------------------------------------------------------
@pytest.mark.parametrize("case", load("resize"), ids=lambda c: f"{c['width']}x{c['height']}")
def test_resize_paths_give_tflite_support_scores(case):
    classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        core.BaseOptions(file_name=str(SUPPORT / case["model"])),
        processor.ClassificationOptions(max_results=5)))
    result = classifier.classify(vision.TensorImage.create_from_array(
        random_image(case["width"], case["height"])))
    assert_categories_close(plain(result)["classifications"][0]["categories"],
                            case["result"]["classifications"][0]["categories"], atol=1e-5)


CLASSIFIER_CASES = load("image_classifier")


def make_classifier(case):
    return vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        core.BaseOptions(file_name=str(SUPPORT / case["model"])),
        processor.ClassificationOptions(**case["options"])))


@pytest.mark.parametrize("case", [c for c in CLASSIFIER_CASES if "error" in c], ids=case_id)
def test_image_classifier_refuses_as_tflite_support(case):
    with pytest.raises(TaskError, match="requires labels to be present"):
        make_classifier(case)


@pytest.mark.parametrize("case", [c for c in CLASSIFIER_CASES if "result" in c], ids=case_id)
def test_image_classifier(case):
    classifier = make_classifier(case)
    box = processor.BoundingBox(**case["bounding_box"]) if "bounding_box" in case else None
    jpeg_file = case["input"] == "file" and case["image"].endswith(".jpg")
    expected = case["result"]["classifications"][0]
    ours = plain(classifier.classify(image_of(case), box))["classifications"][0]
    assert ours["head_index"] == expected["head_index"]
    if jpeg_file:
        assert expected["categories"][0]["index"] in [c["index"] for c in ours["categories"][:3]]
    elif not is_uint8(classifier):
        assert_categories_close(ours["categories"], expected["categories"], atol=1e-5)
    else:
        builtin = make_classifier(case)
        with_litert_outputs(builtin, SUPPORT / case["model"], builtin=True)
        assert plain(builtin.classify(image_of(case), box))["classifications"][0] == ours
        with_litert_outputs(classifier, SUPPORT / case["model"])
        assert plain(classifier.classify(image_of(case), box))["classifications"][0] == expected


CALIBRATED_CASES = load("calibrated_classifier")


@pytest.fixture(scope="module")
def calibrated_model(tmp_path_factory):
    """MobileNet v2 with labels, French display names and a LOG score calibration written by
    edgelite.metadata's writer: the same metadata JSON as tflite-support's writer gave."""
    from edgelite.metadata.enums import ColorSpaceType, ScoreTransformationType, TensorType
    from edgelite.metadata.writers import image_classifier, metadata_info
    from metadata_inputs import CALIBRATED_MODEL, LABELS, write_files

    folder = tmp_path_factory.mktemp("calibrated")
    french, calibration = write_files(folder)
    writer = image_classifier.MetadataWriter.create_from_metadata_info(
        CALIBRATED_MODEL.read_bytes(),
        input_md=metadata_info.InputImageTensorMd(
            norm_mean=[127.5], norm_std=[127.5], color_space_type=ColorSpaceType.RGB,
            tensor_type=TensorType.UINT8),
        output_md=metadata_info.ClassificationTensorMd(
            label_files=[metadata_info.LabelFileMd(str(LABELS)),
                         metadata_info.LabelFileMd(str(french), locale="fr")],
            tensor_type=TensorType.UINT8,
            score_calibration_md=metadata_info.ScoreCalibrationMd(
                ScoreTransformationType.LOG, 0.2, str(calibration))))
    assert writer.get_metadata_json() == CALIBRATED_CASES[0]["metadata_json"]
    path = folder / "calibrated.tflite"
    path.write_bytes(writer.populate())
    return path


@pytest.mark.parametrize("case", CALIBRATED_CASES, ids=case_id)
def test_image_classifier_display_names_and_score_calibration(case, calibrated_model):
    def classifier():
        return vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
            core.BaseOptions(file_name=str(calibrated_model)),
            processor.ClassificationOptions(**case["options"])))

    ours, builtin = classifier(), classifier()
    image = vision.TensorImage.create_from_array(pillow_rgb(case["image"]))
    with_litert_outputs(builtin, calibrated_model, builtin=True)
    assert plain(ours.classify(image)) == plain(builtin.classify(image))
    with_litert_outputs(ours, calibrated_model)
    assert plain(ours.classify(image)) == case["result"]


# -- object detection ----------------------------------------------------------------------
def make_detector(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # this model's metadata names its outputs 'locations'...
        return vision.ObjectDetector.create_from_options(vision.ObjectDetectorOptions(
            core.BaseOptions(file_name=str(SUPPORT / case["model"])),
            processor.DetectionOptions(**case["options"])))


@pytest.mark.parametrize("case", load("object_detector"), ids=case_id)
def test_object_detector(case):
    detector = make_detector(case)
    expected = case["result"]["detections"]
    ours = plain(detector.detect(image_of(case)))["detections"]
    if case["input"] == "file":  # JPEG decoded by stb_image there
        best = expected[0]["categories"][0]["index"]
        assert best in [d["categories"][0]["index"] for d in ours[:3]]
        return
    builtin = make_detector(case)
    with_litert_outputs(builtin, SUPPORT / case["model"], builtin=True)
    assert plain(builtin.detect(image_of(case)))["detections"] == ours
    with_litert_outputs(detector, SUPPORT / case["model"])
    assert plain(detector.detect(image_of(case)))["detections"] == expected


# -- segmentation --------------------------------------------------------------------------
@pytest.mark.parametrize("case", load("image_segmenter"), ids=case_id)
def test_image_segmenter(case):
    Image = pytest.importorskip("PIL.Image")
    model = str(SUPPORT / case["model"])
    result = vision.ImageSegmenter.create_from_file(model).segment(image_of(case))
    segmentation = result.segmentations[0]
    assert (segmentation.height, segmentation.width) == (case["height"], case["width"])
    assert plain(segmentation.colored_labels) == case["colored_labels"]
    mask = segmentation.category_mask
    if case["image"] == "segmentation_input_rotation0.jpg":
        # tflite-support's golden mask (class index x 10), identical pixel for pixel
        golden = np.asarray(Image.open(VISION / "segmentation_golden_rotation0.png"))
        assert np.array_equal(mask.astype(np.int32) * 10, golden)
    if case["input"] == "array":
        recorded = np.asarray(Image.open(FIXTURES_DIR / case["category_mask_png"]))
        assert np.array_equal(mask, recorded)
        options = vision.ImageSegmenterOptions(
            core.BaseOptions(file_name=model),
            processor.SegmentationOptions(output_type=processor.OutputType.CONFIDENCE_MASK))
        confidence = vision.ImageSegmenter.create_from_options(options).segment(image_of(case))
        masks = np.stack([m.value for m in confidence.segmentations[0].confidence_masks])
        assert list(masks.shape) == case["confidence_shape"]
        np.testing.assert_allclose(masks[:, ::32, ::32], case["confidence_sample"], atol=1e-4)


# -- embedders -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", load("image_embedder"), ids=case_id)
def test_image_embedder(case):
    embedder = vision.ImageEmbedder.create_from_options(vision.ImageEmbedderOptions(
        core.BaseOptions(file_name=str(SUPPORT / case["model"])),
        processor.EmbeddingOptions(**case["options"])))
    a, b = (embedder.embed(vision.TensorImage.create_from_array(pillow_rgb(name)))
            .embeddings[0].feature_vector for name in case["images"])
    assert str(a.value.dtype) == case["dtype"]
    if case["dtype"] == "uint8":
        assert a.value.tolist() == case["embedding"]
    else:
        np.testing.assert_allclose(a.value, case["embedding"], atol=1e-6, rtol=1e-5)
    assert embedder.cosine_similarity(a, b) == pytest.approx(case["cosine_similarity"], abs=1e-6)
    assert embedder.get_embedding_dimension(0) == len(case["embedding"])


# -- audio ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", load("audio_classifier"), ids=case_id)
def test_audio_classifier(case):
    model = SUPPORT / case["model"]
    classifier = audio.AudioClassifier.create_from_options(audio.AudioClassifierOptions(
        core.BaseOptions(file_name=str(model)), processor.ClassificationOptions(**case["options"])))
    assert classifier.required_input_buffer_size == case["buffer_size"]
    assert classifier.required_audio_format == audio.AudioFormat(case["channels"],
                                                                 case["sample_rate"])
    tensor = audio.TensorAudio.create_from_wav_file(str(SUPPORT / "task/audio" / case["wav"]),
                                                    classifier.required_input_buffer_size)
    assert tensor.buffer[:8, 0].tolist() == case["buffer_head"]
    expected = case["result"]["classifications"][0]
    ours = plain(classifier.classify(tensor))["classifications"][0]
    assert ours["head_name"] == expected["head_name"]
    builtin = audio.AudioClassifier.create_from_options(classifier.options)
    with_litert_outputs(builtin, model, builtin=True)
    assert plain(builtin.classify(tensor))["classifications"][0] == ours
    with_litert_outputs(classifier, model)  # YAMNet is quantized inside
    assert plain(classifier.classify(tensor))["classifications"][0] == expected


@pytest.mark.parametrize("case", load("audio_embedder"), ids=case_id)
def test_audio_embedder(case):
    model = SUPPORT / case["model"]

    def embedder():
        return audio.AudioEmbedder.create_from_options(audio.AudioEmbedderOptions(
            core.BaseOptions(file_name=str(model)), processor.EmbeddingOptions(**case["options"])))

    ours, builtin = embedder(), embedder()
    clips = [audio.TensorAudio.create_from_wav_file(str(SUPPORT / "task/audio" / wav),
                                                    ours.required_input_buffer_size)
             for wav in case["wavs"]]
    with_litert_outputs(builtin, model, builtin=True)
    mine = [ours.embed(clip).embeddings[0].feature_vector for clip in clips]
    assert mine == [builtin.embed(clip).embeddings[0].feature_vector for clip in clips]
    with_litert_outputs(ours, model)  # as tflite-support runs YAMNet (XNNPACK)
    vectors = [ours.embed(clip).embeddings[0].feature_vector for clip in clips]
    assert str(vectors[0].value.dtype) == case["dtype"]
    assert vectors[0].value.tolist() == case["embedding"]
    assert ours.cosine_similarity(*vectors) == pytest.approx(case["cosine_similarity"], abs=1e-12)


# -- text ----------------------------------------------------------------------------------
TEXT_CASES = load("text")


@pytest.mark.parametrize("case", [c for c in TEXT_CASES if c["task"] == "nl_classifier"],
                         ids=case_id)
def test_nl_classifier(case):
    classifier = text.NLClassifier.create_from_file(str(SUPPORT / case["model"]))
    ours = plain(classifier.classify(case["text"]))["classifications"][0]
    expected = case["result"]["classifications"][0]
    assert (ours["head_index"], ours["head_name"]) == (expected["head_index"], expected["head_name"])
    assert_categories_close(ours["categories"], expected["categories"], atol=1e-6)


@pytest.mark.parametrize("case", [c for c in TEXT_CASES if c["task"] == "text_embedder"],
                         ids=case_id)
def test_text_embedder(case):
    embedder = text.TextEmbedder.create_from_file(str(SUPPORT / case["model"]))
    results = [embedder.embed(t) for t in case["texts"]]
    for ours, expected in zip(results, case["embeddings"]):
        values = [e["feature_vector"]["value"] for e in expected["embeddings"]]
        assert len(ours.embeddings) == len(values)
        for embedding, value in zip(ours.embeddings, values):
            np.testing.assert_allclose(embedding.feature_vector.value, value, atol=1e-6)
    similarity = embedder.cosine_similarity(results[0].embeddings[0].feature_vector,
                                            results[1].embeddings[0].feature_vector)
    assert similarity == pytest.approx(case["cosine_similarity"], abs=1e-6)


@pytest.mark.parametrize("case", [c for c in TEXT_CASES if c["task"] == "bert_nl_classifier"],
                         ids=lambda c: repr(c["text"][:24]))
def test_bert_nl_classifier(case):
    # the tiny model echoes ids + 1000 * mask + 100000 * segment_ids: tokenization is exact
    classifier = text.BertNLClassifier.create_from_file(str(model_path(case)))
    assert plain(classifier.classify(case["text"])) == case["result"]


@pytest.mark.parametrize("case", [c for c in TEXT_CASES if c["task"] == "bert_text_embedder"],
                         ids=lambda c: repr(c["text"][:24]))
def test_bert_text_embedder(case):
    embedder = text.TextEmbedder.create_from_file(str(model_path(case)))
    assert plain(embedder.embed(case["text"])) == case["result"]


def test_base_options_file_content_and_threads():
    model = VISION / "mobilenet_v1_0.25_224_quant.tflite"
    image = vision.TensorImage.create_from_array(pillow_rgb("burger.jpg"))
    from_file = vision.ImageClassifier.create_from_file(str(model)).classify(image)
    options = vision.ImageClassifierOptions(
        core.BaseOptions(file_content=model.read_bytes(), num_threads=2),
        processor.ClassificationOptions(max_results=-1))
    assert vision.ImageClassifier.create_from_options(options).classify(image) == from_file
    with pytest.raises(TaskError, match="num_threads"):
        vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
            core.BaseOptions(file_name=str(model), num_threads=0)))
    with pytest.raises(TaskError, match="file_name"):
        vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(core.BaseOptions()))


@pytest.mark.parametrize("options, message", [
    (dict(max_results=0), "max_results"),
    (dict(category_name_allowlist=["cat"], category_name_denylist=["dog"]), "mutually exclusive"),
    (dict(category_name_allowlist=["unicorn"]), "none match"),
])
def test_object_detector_refuses_bad_options(options, message):
    with pytest.raises(TaskError, match=message):
        make_detector(dict(model="task/vision/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite",
                           options=options))
