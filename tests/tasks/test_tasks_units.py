"""edgelite.tasks building blocks on hand-checked values (no model, no metadata needed)."""
import math
import random

import numpy as np
import pytest

from edgelite.tasks.core.model import TaskError
from edgelite.tasks.processor import stl_sort
from edgelite.tasks.processor.embedding import cosine_similarity, l2_normalize, quantize
from edgelite.tasks.processor.image_resize import argb_scale
from edgelite.tasks.processor.labels import LabelMapItem, build_label_map
from edgelite.tasks.processor.results import FeatureVector
from edgelite.tasks.processor.score_calibration import ScoreCalibration
from edgelite.tasks.text.tokenizers import BertTokenizer, RegexTokenizer, bert_encode
from edgelite.tasks.vision.image_segmenter import pascal_voc_color
from edgelite.tasks.vision.tensor_image import ColorSpaceType, TensorImage


def gray(rows):
    return np.asarray(rows, np.uint8)[:, :, None]


def test_resize_same_size_is_a_copy():
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(argb_scale(image, 7, 5), image)


def test_resize_even_factor_averages_rows_then_columns_rounding_up():
    # libyuv's x86 2x2 box is pavgb(pavgb(a, c), pavgb(b, d)), not (a + b + c + d + 2) >> 2:
    # for a=1, b=c=d=0 that is 1, where the exact average would give 0.
    image = gray([[1, 0], [0, 0]])
    assert argb_scale(image, 1, 1)[0, 0, 0] == 1
    image = gray([[0, 10, 20, 30], [1, 3, 5, 7], [9, 9, 9, 9], [9, 9, 9, 9]])
    out = argb_scale(image, 2, 2)[:, :, 0]
    assert out.tolist() == [[4, 16], [9, 9]]


def test_resize_odd_integer_factor_point_samples_the_centre():
    image = np.arange(36, dtype=np.uint8).reshape(6, 6)[:, :, None]
    assert argb_scale(image, 2, 2)[:, :, 0].tolist() == [[7, 10], [25, 28]]


def test_resize_shrink_uses_7_bit_column_weights_summing_to_127():
    # 3 -> 2 columns, one row (linear filter): x = 0.25 + 1.5 j in 16.16 fixed point,
    # out = (a * (127 ^ f) + b * f) >> 7 with the 7-bit fraction f.
    out = argb_scale(gray([[100, 200, 50]]), 2, 1)[:, :, 0]
    assert out.tolist() == [[(100 * 95 + 200 * 32) >> 7, (200 * 31 + 50 * 96) >> 7]]


def test_resize_enlarge_spans_first_to_last_pixel():
    # 2 -> 3 columns: dx = ((2 << 16) - 0x10001) / 2, fractions 0, 63 and 127 (of 127).
    assert argb_scale(gray([[0, 128]]), 3, 1)[:, :, 0].tolist() == [[0, 63, 127]]


def test_resize_vertical_only_blends_rows_with_8_bit_fractions():
    # width unchanged, 2 -> 3 rows (ScalePlaneVertical): dy = 32767, y clamped to 1 - 1/65536,
    # 8-bit fractions 0, 127, 255 (a 1-pixel-wide image would be point-sampled instead).
    out = argb_scale(gray([[0, 0], [200, 200]]), 2, 3)[:, 0, 0]
    assert out.tolist() == [0, (200 * 127 + 128) >> 8, (200 * 255 + 128) >> 8]


def test_partial_sort_and_sort_order_by_descending_score():
    rng = random.Random(1)
    pairs = [(i, float(rng.choice([0.0, 0.25, 0.5, 0.75]))) for i in range(300)]
    for k in (1, 7, 300):
        v = list(pairs)
        stl_sort.partial_sort(v, 0, k, len(v))
        top = v[:k]
        assert [s for _, s in top] == sorted((s for _, s in pairs), reverse=True)[:k]
        assert sorted(v) == sorted(pairs)
    v = list(pairs)
    stl_sort.sort(v)
    assert [s for _, s in v] == sorted((s for _, s in pairs), reverse=True)
    assert sorted(v) == sorted(pairs)


def test_label_map_keeps_lines_and_display_names():
    items = build_label_map(b"cat\ndog\n", b"chat\nchien\n")
    assert items == [LabelMapItem("cat", "chat"), LabelMapItem("dog", "chien")]
    with pytest.raises(TaskError, match="Mismatch between number of labels"):
        build_label_map(b"cat\ndog\n", b"chat\n")


def test_score_calibration_sigmoids():
    labels = [LabelMapItem("a"), LabelMapItem("b"), LabelMapItem("c")]
    calibration = ScoreCalibration.from_file(
        {"score_transformation": "IDENTITY", "default_score": 0.25},
        b"1.0,1.0,0.0\n2.0,1.0,0.0,0.5\n", labels)
    assert calibration.calibrate("a", 0.0) == pytest.approx(0.5)
    assert calibration.calibrate("a", 2.0) == pytest.approx(1 / (1 + math.exp(-2)), rel=1e-6)
    assert calibration.calibrate("b", 0.3) == 0.25      # under min_uncalibrated_score
    assert calibration.calibrate("b", 0.5) == pytest.approx(2 / (1 + math.exp(-0.5)), rel=1e-6)
    assert calibration.calibrate("c", 0.9) == 0.25      # empty line: no parameters
    logistic = ScoreCalibration("INVERSE_LOGISTIC", 0.0, calibration.sigmoids)
    assert logistic.calibrate("a", 0.5) == pytest.approx(0.5)
    assert logistic.calibrate("a", 0.8) == pytest.approx(0.8, rel=1e-6)
    with pytest.raises(TaskError, match="Mismatch between number of labels"):
        ScoreCalibration.from_file({}, b"1,1,0\n", labels)


def test_embedding_normalize_quantize_and_cosine():
    values = np.array([3.0, -4.0, 0.0], np.float32)
    unit = l2_normalize(values)
    assert unit.tolist() == pytest.approx([0.6, -0.8, 0.0])
    assert quantize(unit).view(np.int8).tolist() == [77, -102, 0]
    assert quantize(np.array([1.0, -1.0], np.float32)).view(np.int8).tolist() == [127, -128]
    u = FeatureVector(np.array([1.0, 0.0])), FeatureVector(np.array([1.0, 1.0]))
    assert cosine_similarity(*u) == pytest.approx(1 / math.sqrt(2))
    with pytest.raises(TaskError, match="0 norm"):
        cosine_similarity(FeatureVector(np.zeros(2)), u[0])


VOCAB = b"<PAD> 0\n<START> 1\n<UNKNOWN> 2\nhello 3\nworld 4\nit's 5\n"


def test_regex_tokenizer_splits_on_the_delimiter_and_pads():
    tokenizer = RegexTokenizer(r"[^\w\']+", VOCAB)
    assert tokenizer.tokenize("Hello world, it's ok!") == ["Hello", "world", "it's", "ok"]
    # case-sensitive lookup: "Hello" is unknown; <START> first, <PAD> after
    assert tokenizer.encode("Hello world, it's ok!", 8) == [1, 2, 4, 5, 2, 0, 0, 0]
    assert tokenizer.encode("hello world world world", 3) == [1, 3, 4]
    # RE2's \w is ASCII: "é" is a delimiter
    assert tokenizer.tokenize("caf\u00e9s") == ["caf", "s"]
    with pytest.raises(ValueError, match="<UNKNOWN>"):
        RegexTokenizer(r"\s+", b"<PAD> 0\n").encode("x", 2)


BERT_VOCAB = "\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "hello", ",",
                        "!", "\u4e16", "world"]).encode()


def test_wordpiece_tokenizer():
    tokenizer = BertTokenizer(BERT_VOCAB)
    assert tokenizer.tokenize("unaffable, hello!") == ["un", "##aff", "##able", ",", "hello", "!"]
    assert tokenizer.tokenize("xyz  hello") == ["[UNK]", "hello"]
    assert tokenizer.tokenize("\u4e16\u4e16world") == ["\u4e16", "\u4e16", "world"]
    assert tokenizer.tokenize("unaff") == ["un", "##aff"]
    assert tokenizer.tokenize("unable") == ["un", "##able"]
    assert tokenizer.tokenize("una") == ["[UNK]"]


def test_bert_encode_lowercases_and_truncates():
    tokenizer = BertTokenizer(BERT_VOCAB)
    ids, mask, segments = bert_encode(tokenizer, "Unaffable WORLD", 6)
    assert ids == [2, 4, 5, 6, 11, 3] and mask == [1] * 6 and segments == [0] * 6
    ids, mask, _ = bert_encode(tokenizer, "hello xyz", 6)
    assert ids == [2, 7, 1, 3, 0, 0] and mask == [1, 1, 1, 1, 0, 0]
    ids, _, _ = bert_encode(tokenizer, "hello hello hello", 4)
    assert ids == [2, 7, 7, 3]


def test_pascal_voc_palette():
    # the first entries of tflite-support's kColorMap
    assert [pascal_voc_color(i) for i in (0, 1, 2, 3, 8, 11, 15, 21, 255)] == [
        (0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0), (64, 0, 0), (192, 128, 0),
        (192, 128, 128), (128, 64, 128), (224, 224, 192)]


def test_tensor_image_from_array_and_errors():
    image = TensorImage.create_from_array(np.zeros((1, 4, 5, 3), np.uint8))
    assert (image.width, image.height, image.color_space_type) == (5, 4, ColorSpaceType.RGB)
    assert TensorImage.create_from_array(np.zeros((4, 5), np.uint8)).color_space_type == \
        ColorSpaceType.GRAYSCALE
    with pytest.raises(ValueError, match="uint8"):
        TensorImage.create_from_array(np.zeros((4, 5, 3), np.float32))
    with pytest.raises(FileNotFoundError):
        TensorImage.create_from_file("/nonexistent/image.png")


def test_tensor_image_decodes_png_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    pixels = np.random.default_rng(3).integers(0, 256, (6, 9, 4), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "x.png")
    image = TensorImage.create_from_file(str(tmp_path / "x.png"))
    assert image.color_space_type == ColorSpaceType.RGBA
    assert np.array_equal(image.buffer, pixels)


class MetadataOnlyModel:
    """What the post-processors read from a TaskModel: output details, metadata, files."""

    def __init__(self, outputs, output_metadata, files):
        self.outputs, self._metadata, self._files = outputs, output_metadata, files

    def output_metadata(self, index):
        return self._metadata[index]

    def associated_file(self, name):
        if name not in self._files:
            raise TaskError(f"No associated file with name: {name}")
        return self._files[name]


def classification_model(process_units):
    # the calibration file is split on '\n' as is (4 lines: no trailing newline), labels drop
    # their trailing empty line
    files = {"labels.txt": b"cat\ndog\nbird\nfish\n",
             "labels_fr.txt": b"chat\nchien\noiseau\npoisson\n",
             "labels_de.txt": b"Katze\nHund\nVogel\nFisch\n",
             "calibration.csv": b"1,1,0\n\n2,1,0\n1,1,0,0.5"}
    metadata = {"name": "probs", "process_units": process_units, "associated_files": [
        {"name": "labels.txt", "type": "TENSOR_AXIS_LABELS"},
        {"name": "labels_de.txt", "type": "TENSOR_AXIS_LABELS", "locale": "de"},
        {"name": "labels_fr.txt", "type": "TENSOR_AXIS_LABELS", "locale": "fr"},
        {"name": "calibration.csv", "type": "TENSOR_AXIS_SCORE_CALIBRATION"}]}
    outputs = [{"shape": np.array([1, 4]), "dtype": np.uint8, "quantization": (0.25, 0),
                "name": "probs"}]
    return MetadataOnlyModel(outputs, [metadata], files)


def test_classification_postprocessor_reads_labels_locale_and_threshold_from_metadata():
    from edgelite.tasks.processor.classification import ClassificationPostprocessor
    from edgelite.tasks.processor.options import ClassificationOptions

    model = classification_model([{"options_type": "ScoreThresholdingOptions",
                                   "options": {"global_score_threshold": 0.3}}])
    head = ClassificationPostprocessor(model, 0, ClassificationOptions(display_names_locale="fr"))
    result = head.postprocess(np.array([[1, 4, 2, 0]], np.uint8))   # 0.25, 1.0, 0.5, 0.0
    assert [(c.index, c.score, c.category_name, c.display_name) for c in result.categories] == [
        (1, 1.0, "dog", "chien"), (2, 0.5, "bird", "oiseau")]      # 0.25 < 0.3 dropped
    assert (result.head_index, result.head_name) == (0, "probs")
    # default locale "en": no such file, no display names; an explicit threshold wins
    head = ClassificationPostprocessor(model, 0, ClassificationOptions(score_threshold=0.0))
    assert [c.display_name for c in head.postprocess(np.array([[1, 4, 2, 0]], np.uint8)).categories] \
        == ["", "", "", ""]
    head = ClassificationPostprocessor(model, 0, ClassificationOptions(
        category_name_allowlist=["cat", "fish", "unknown"], score_threshold=0.0))
    assert [c.category_name for c in head.postprocess(np.array([[1, 4, 2, 0]], np.uint8)).categories] \
        == ["cat", "fish"]
    with pytest.raises(TaskError, match="none match"):
        ClassificationPostprocessor(model, 0, ClassificationOptions(category_name_denylist=["cow"]))
    with pytest.raises(TaskError, match="max_results"):
        ClassificationPostprocessor(model, 0, ClassificationOptions(max_results=0))


def test_classification_postprocessor_calibrates_scores():
    from edgelite.tasks.processor.classification import ClassificationPostprocessor

    model = classification_model([{"options_type": "ScoreCalibrationOptions",
                                   "options": {"score_transformation": "IDENTITY",
                                               "default_score": 0.125}}])
    head = ClassificationPostprocessor(model, 0, None)
    scores = {c.category_name: c.score
              for c in head.postprocess(np.array([[0, 4, 2, 1]], np.uint8)).categories}
    assert scores["cat"] == pytest.approx(0.5)                       # sigmoid(0)
    assert scores["dog"] == 0.125                                    # empty line: default score
    assert scores["bird"] == pytest.approx(2 / (1 + math.exp(-0.5)))
    assert scores["fish"] == 0.125                                   # 0.25 < min score 0.5
