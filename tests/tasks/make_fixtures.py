"""Record tflite-support 0.4.4's Task Library results as JSON fixtures (not run by the suite).

The tests in this folder compare edgelite.tasks against these recordings, so they run without
tflite-support. To regenerate them, run this script with a Python that has ``tflite-support``
0.4.4 (it needs ``libusb-1.0.so.0`` on the library path, e.g. from ``libusb-package``)::

    LD_LIBRARY_PATH=DIR_WITH_libusb-1.0.so.0 python tests/tasks/make_fixtures.py

Images are recorded twice where useful: decoded by tflite-support itself (``file`` cases, stb_image)
and decoded by Pillow then passed as an array (``array`` cases), which is what edgelite does; the
``array`` cases isolate the Task Library's own pre/post-processing from JPEG decoder differences.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import pathlib

import numpy as np
from tflite_support.task import audio, core, processor, text, vision  # before Pillow: it crashes otherwise
from PIL import Image  # noqa: E402

SUPPORT = pathlib.Path("/work/shared/support")
VISION = SUPPORT / "task/vision"
OUT = pathlib.Path(__file__).resolve().parent / "fixtures"


def plain(obj):
    """Result dataclasses -> JSON-able values (arrays summarised elsewhere)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [plain(x) for x in obj]
    if isinstance(obj, enum.Enum):
        return obj.name
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


_KEEP_ALIVE: dict = {}


def pillow_rgb(path: pathlib.Path) -> np.ndarray:
    # tflite-support's ImageData does not own the array: keep every decoded array alive.
    if path not in _KEEP_ALIVE:
        _KEEP_ALIVE[path] = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
    return _KEEP_ALIVE[path]


def attempt(run) -> dict:
    """{'result': ...} or, where tflite-support refuses, {'error': class name, 'message': ...}."""
    try:
        return dict(result=plain(run()))
    except (ValueError, RuntimeError) as e:
        return dict(error=type(e).__name__, message=str(e))


def image_input(kind: str, name: str):
    if kind == "file":
        return vision.TensorImage.create_from_file(str(VISION / name))
    return vision.TensorImage.create_from_array(pillow_rgb(VISION / name))


CLASSIFIERS = {
    "mobilenet_v1_quant": VISION / "mobilenet_v1_0.25_224_quant.tflite",
    "mobilenet_v1_float": VISION / "mobilenet_v1_0.25_224_1_metadata_1.tflite",
    "mobilenet_v2_quant": SUPPORT / "metadata/image_classifier/mobilenet_v2_1.0_224_quant.tflite",
}
CLASSIFY_OPTIONS = {
    "top10": dict(max_results=10),
    "threshold": dict(score_threshold=0.01),
    "allow": dict(category_name_allowlist=["cheeseburger", "hotdog", "bagel", "tabby"], max_results=3),
    "deny": dict(category_name_denylist=["cheeseburger", "tabby"], max_results=3),
}


def image_classifier_cases():
    cases = []
    for model_key, model in CLASSIFIERS.items():
        for image in ["burger.jpg", "cats_and_dogs.jpg", "sparrow.png"]:
            for kind in ["array", "file"]:
                for opt_key, opts in CLASSIFY_OPTIONS.items():
                    if opt_key != "top10" and (image != "burger.jpg" or kind != "array"):
                        continue
                    options = vision.ImageClassifierOptions(
                        base_options=core.BaseOptions(file_name=str(model)),
                        classification_options=processor.ClassificationOptions(**opts))
                    outcome = attempt(lambda: vision.ImageClassifier.create_from_options(
                        options).classify(image_input(kind, image)))
                    cases.append(dict(model=str(model), image=image, input=kind, options=opts,
                                      **outcome))
    # A region of interest.
    classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=str(CLASSIFIERS["mobilenet_v1_quant"])),
        classification_options=processor.ClassificationOptions(max_results=5)))
    box = processor.BoundingBox(origin_x=0, origin_y=0, width=600, height=600)
    result = classifier.classify(image_input("array", "cats_and_dogs.jpg"), box)
    cases.append(dict(model=str(CLASSIFIERS["mobilenet_v1_quant"]), image="cats_and_dogs.jpg",
                      input="array", options=dict(max_results=5), bounding_box=plain(box),
                      result=plain(result)))
    # A model with a dynamic input size: the image is fed at its own size.
    model = VISION / "dilated_conv.tflite"
    classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=str(model)),
        classification_options=processor.ClassificationOptions(max_results=3)))
    result = classifier.classify(vision.TensorImage.create_from_array(random_image(50, 40)))
    cases.append(dict(model=str(model), image="noise 50x40", input="array",
                      options=dict(max_results=3), result=plain(result)))
    return cases


DETECTORS = {
    "ssd": VISION / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite",
    "ssd_calibrated": VISION / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_score_calibration.tflite",
}


RESIZE_SIZES = [(896, 448), (448, 448), (672, 672), (672, 224), (1344, 448), (100, 100), (224, 100),
                (300, 224), (224, 672), (901, 333), (450, 224), (224, 224), (7, 5), (2000, 90)]


def random_image(width: int, height: int) -> np.ndarray:
    """The test's synthetic images: deterministic uniform noise."""
    rng = np.random.default_rng(width * 10007 + height)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    _KEEP_ALIVE[(width, height)] = image
    return image


def resize_cases():
    """The float classifier's top-5 on noise images of many sizes: checks libyuv's resize paths
    (even/odd integer factors, unscaled axes, enlarging) through the model's continuous scores."""
    classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
        base_options=core.BaseOptions(file_name=str(CLASSIFIERS["mobilenet_v1_float"])),
        classification_options=processor.ClassificationOptions(max_results=5)))
    cases = []
    for width, height in RESIZE_SIZES:
        result = classifier.classify(vision.TensorImage.create_from_array(random_image(width, height)))
        cases.append(dict(model=str(CLASSIFIERS["mobilenet_v1_float"]), width=width, height=height,
                          result=plain(result)))
    return cases


def calibrated_classifier_cases():
    """MobileNet v2 (uint8) given metadata by tflite-support's writer: labels, French display
    names and a LOG score calibration (tests build the same model with edgelite's writer)."""
    import tempfile

    from tflite_support.metadata_writers import image_classifier as writer_module
    from tflite_support.metadata_writers import metadata_info

    from metadata_inputs import CALIBRATED_MODEL, LABELS, write_files

    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        french, calibration = write_files(pathlib.Path(tmp))
        model = pathlib.Path(tmp) / "calibrated.tflite"
        writer = writer_module.MetadataWriter.create_from_metadata_info(
            CALIBRATED_MODEL.read_bytes(),
            input_md=metadata_info.InputImageTensorMd(
                norm_mean=[127.5], norm_std=[127.5],
                color_space_type=metadata_info._metadata_fb.ColorSpaceType.RGB,
                tensor_type=metadata_info._schema_fb.TensorType.UINT8),
            output_md=metadata_info.ClassificationTensorMd(
                label_files=[metadata_info.LabelFileMd(str(LABELS)),
                             metadata_info.LabelFileMd(str(french), locale="fr")],
                tensor_type=metadata_info._schema_fb.TensorType.UINT8,
                score_calibration_md=metadata_info.ScoreCalibrationMd(
                    metadata_info._metadata_fb.ScoreTransformationType.LOG, 0.2,
                    str(calibration))))
        model.write_bytes(writer.populate())
        for opts in [dict(max_results=8), dict(max_results=8, display_names_locale="fr"),
                     dict(score_threshold=0.93, max_results=30, display_names_locale="fr")]:
            classifier = vision.ImageClassifier.create_from_options(vision.ImageClassifierOptions(
                base_options=core.BaseOptions(file_name=str(model)),
                classification_options=processor.ClassificationOptions(**opts)))
            for image in ["burger.jpg", "sparrow.png"]:
                result = classifier.classify(image_input("array", image))
                cases.append(dict(image=image, input="array", options=opts,
                                  result=plain(result)))
    cases[0]["metadata_json"] = writer.get_metadata_json()
    return cases


def object_detector_cases():
    cases = []
    for model in DETECTORS.values():
        for image in ["multi_objects.jpg", "cats_and_dogs.jpg"]:
            for kind in ["array", "file"]:
                for opts in [dict(), dict(max_results=4, score_threshold=0.3),
                             dict(category_name_denylist=["dog"])]:
                    if opts and kind == "file":
                        continue
                    options = vision.ObjectDetectorOptions(
                        base_options=core.BaseOptions(file_name=str(model)),
                        detection_options=processor.DetectionOptions(**opts))
                    detector = vision.ObjectDetector.create_from_options(options)
                    result = detector.detect(image_input(kind, image))
                    cases.append(dict(model=str(model), image=image, input=kind, options=opts,
                                      result=plain(result)))
    return cases


def image_segmenter_cases():
    cases = []
    model = VISION / "deeplabv3.tflite"
    for image in ["segmentation_input_rotation0.jpg", "cats_and_dogs.jpg"]:
        for kind in ["array", "file"]:
            options = vision.ImageSegmenterOptions(base_options=core.BaseOptions(file_name=str(model)))
            segmenter = vision.ImageSegmenter.create_from_options(options)
            seg = segmenter.segment(image_input(kind, image)).segmentations[0]
            mask_name = f"segment_{pathlib.Path(image).stem}_{kind}_category.png"
            Image.fromarray(seg.category_mask.astype(np.uint8)).save(OUT / mask_name)
            options.segmentation_options = processor.SegmentationOptions(
                output_type=processor.OutputType.CONFIDENCE_MASK)
            segmenter = vision.ImageSegmenter.create_from_options(options)
            conf = segmenter.segment(image_input(kind, image)).segmentations[0]
            masks = np.stack([m.value for m in conf.confidence_masks]).astype(np.float32)
            # A sample of the confidence masks: every 32nd pixel of every class.
            sample = masks[:, ::32, ::32]
            cases.append(dict(model=str(model), image=image, input=kind,
                              height=seg.height, width=seg.width,
                              colored_labels=plain(seg.colored_labels),
                              category_mask_png=mask_name,
                              confidence_shape=list(masks.shape),
                              confidence_sample=sample.round(5).tolist()))
    return cases


def image_embedder_cases():
    cases = []
    model = CLASSIFIERS["mobilenet_v1_float"]
    for opts in [dict(), dict(l2_normalize=True), dict(l2_normalize=True, quantize=True)]:
        embedder = vision.ImageEmbedder.create_from_options(vision.ImageEmbedderOptions(
            base_options=core.BaseOptions(file_name=str(model)),
            embedding_options=processor.EmbeddingOptions(**opts)))
        a = embedder.embed(image_input("array", "burger.jpg"))
        b = embedder.embed(image_input("array", "cats_and_dogs.jpg"))
        va, vb = a.embeddings[0].feature_vector, b.embeddings[0].feature_vector
        cases.append(dict(model=str(model), options=opts, images=["burger.jpg", "cats_and_dogs.jpg"],
                          embedding=va.value.tolist(), dtype=str(va.value.dtype),
                          cosine_similarity=float(embedder.cosine_similarity(va, vb))))
    return cases


def audio_classifier_cases():
    cases = []
    model = SUPPORT / "task/audio/yamnet_audio_classifier_with_metadata.tflite"
    for wav in ["speech.wav", "two_heads.wav"]:
        classifier = vision_free_audio_classifier(model, dict(max_results=5))
        tensor = audio.TensorAudio.create_from_wav_file(
            str(SUPPORT / "task/audio" / wav), classifier.required_input_buffer_size)
        result = classifier.classify(tensor)
        cases.append(dict(model=str(model), wav=wav, options=dict(max_results=5),
                          buffer_size=classifier.required_input_buffer_size,
                          sample_rate=classifier.required_audio_format.sample_rate,
                          channels=classifier.required_audio_format.channels,
                          buffer_head=tensor.buffer[:8, 0].tolist(),
                          result=plain(result)))
    return cases


def audio_embedder_cases():
    """YAMNet's scores as an embedding (any model with audio metadata is an embedder)."""
    cases = []
    model = SUPPORT / "task/audio/yamnet_audio_classifier_with_metadata.tflite"
    for opts in [dict(), dict(l2_normalize=True), dict(l2_normalize=True, quantize=True)]:
        embedder = audio.AudioEmbedder.create_from_options(audio.AudioEmbedderOptions(
            base_options=core.BaseOptions(file_name=str(model)),
            embedding_options=processor.EmbeddingOptions(**opts)))
        vectors = []
        for wav in ["speech.wav", "two_heads.wav"]:
            tensor = audio.TensorAudio.create_from_wav_file(
                str(SUPPORT / "task/audio" / wav), embedder.required_input_buffer_size)
            vectors.append(embedder.embed(tensor).embeddings[0].feature_vector)
        cases.append(dict(model=str(model), options=opts, wavs=["speech.wav", "two_heads.wav"],
                          embedding=vectors[0].value.tolist(), dtype=str(vectors[0].value.dtype),
                          cosine_similarity=float(embedder.cosine_similarity(*vectors))))
    return cases


def vision_free_audio_classifier(model, opts):
    return audio.AudioClassifier.create_from_options(audio.AudioClassifierOptions(
        base_options=core.BaseOptions(file_name=str(model)),
        classification_options=processor.ClassificationOptions(**opts)))


SENTENCES = [
    "This is the best movie I've seen in recent years. Strongly recommend it!",
    "What a waste of my time.",
    "unknownword UNKNOWN, punctuation!!! it's <b>fine</b>",
]


def text_cases():
    cases = []
    for model in [SUPPORT / "task/text/test_model_nl_classifier_with_regex_tokenizer.tflite",
                  SUPPORT / "task/text/test_model_nl_classifier_with_associated_label_builtin_ops.tflite"]:
        classifier = text.NLClassifier.create_from_file(str(model))
        for sentence in SENTENCES:
            cases.append(dict(task="nl_classifier", model=str(model), text=sentence,
                              result=plain(classifier.classify(sentence))))
    for model in [SUPPORT / "task/text/regex_one_embedding_with_metadata.tflite",
                  SUPPORT / "task/text/regex_two_embeddings_with_metadata.tflite"]:
        embedder = text.TextEmbedder.create_from_file(str(model))
        results = [embedder.embed(s) for s in SENTENCES[:2]]
        cases.append(dict(task="text_embedder", model=str(model), texts=SENTENCES[:2],
                          embeddings=[plain(r) for r in results],
                          cosine_similarity=float(embedder.cosine_similarity(
                              results[0].embeddings[0].feature_vector,
                              results[1].embeddings[0].feature_vector))))
    # BERT pre-processing, on the tiny model of make_bert_model.py (its output echoes the ids,
    # mask and segment ids it was fed).
    bert = OUT / "bert_tiny.tflite"
    classifier = text.BertNLClassifier.create_from_file(str(bert))
    embedder = text.TextEmbedder.create_from_file(str(bert))
    for sentence in BERT_SENTENCES:
        cases.append(dict(task="bert_nl_classifier", model=str(bert), text=sentence,
                          result=plain(classifier.classify(sentence))))
        cases.append(dict(task="bert_text_embedder", model=str(bert), text=sentence,
                          result=plain(embedder.embed(sentence))))
    return cases


def relative_models(cases: list) -> list:
    """Model paths relative to the support folder (the tests find it next to the repository),
    or ``fixtures/NAME`` for the models kept with the fixtures."""
    for case in cases:
        if "model" in case:
            path = pathlib.Path(case["model"])
            case["model"] = (f"fixtures/{path.name}" if path.parent == OUT
                             else str(path.relative_to(SUPPORT)))
    return cases


BERT_SENTENCES = [
    "Unaffable movies, the GOOD ones!",
    "it's the greatest movie.",
    "CAF\u00c9 caf\u00e9 \u4e16\u754c!!",
    "not\tgood\u00a0movie \u2014 un-aff-able",
    "the movie the movie the movie the movie the movie the movie the movie",
    "",
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in [("image_classifier", image_classifier_cases),
                       ("resize", resize_cases),
                       ("calibrated_classifier", calibrated_classifier_cases),
                       ("object_detector", object_detector_cases),
                       ("image_segmenter", image_segmenter_cases),
                       ("image_embedder", image_embedder_cases),
                       ("audio_classifier", audio_classifier_cases),
                       ("audio_embedder", audio_embedder_cases),
                       ("text", text_cases)]:
        try:
            cases = relative_models(make())
        except Exception as e:  # record what the oracle refuses, so the gap is visible
            print(f"{name}: FAILED {type(e).__name__}: {e}")
            raise
        (OUT / f"{name}.json").write_text(json.dumps(cases, indent=1) + "\n")
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
