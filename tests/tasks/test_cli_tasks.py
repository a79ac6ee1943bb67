"""``edgelite classify|detect|segment``: printed results and the pictures they draw."""
import numpy as np
import pytest

from edgelite.tools.cli import main
from task_fixtures import SUPPORT, VISION, needs_support

pytestmark = needs_support
Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def with_metadata():
    pytest.importorskip("edgelite.metadata", reason="the models' metadata is read with edgelite.metadata")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_classify_prints_top_labels_and_draws_them(tmp_path, capsys, with_metadata):
    out = tmp_path / "burger.png"
    code, text, _ = run(capsys, "classify", VISION / "mobilenet_v1_0.25_224_quant.tflite",
                        VISION / "burger.jpg", "--top", 3, "--out", out)
    assert code == 0
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "head 0:"
    assert lines[1].startswith("1. cheeseburger  0.96") and lines[1].endswith("[index 934]")
    assert len([line for line in lines if line[:2] in ("1.", "2.", "3.", "4.")]) == 3
    with Image.open(out) as picture:
        assert picture.size == (480, 325)
        original = np.asarray(Image.open(VISION / "burger.jpg").convert("RGB"))
        drawn = np.asarray(picture.convert("RGB"))
        assert (drawn[:60, :200] != original[:60, :200]).any()     # the labels
        assert np.array_equal(drawn[200:, 300:], original[200:, 300:])


def test_classify_a_wav_with_an_audio_classifier(tmp_path, capsys, with_metadata):
    out = tmp_path / "speech.png"
    code, text, _ = run(capsys, "classify",
                        SUPPORT / "task/audio/yamnet_audio_classifier_with_metadata.tflite",
                        SUPPORT / "task/audio/speech.wav", "--top", 2, "--out", out)
    assert code == 0
    assert "head 0 (scores):" in text and "1. Speech  0.9" in text
    assert out.stat().st_size > 0


def test_classify_without_metadata_prints_indices(capsys):
    # no metadata: no labels, scores are the dequantized outputs; no Pillow drawing asked
    model = SUPPORT / "metadata/image_classifier/mobilenet_v2_1.0_224_quant.tflite"
    code, text, _ = run(capsys, "classify", model, VISION / "sparrow.png", "--top", 1)
    assert code == 0
    assert text.splitlines()[1].strip().startswith("1. #")


def test_detect_prints_and_draws_boxes(tmp_path, capsys, with_metadata):
    out = tmp_path / "objects.png"
    code, text, _ = run(capsys, "detect",
                        VISION / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite",
                        VISION / "multi_objects.jpg", "--threshold", 0.5, "--out", out)
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "5 detection(s)"
    assert lines[1].strip() == "1. chair  0.6094  box x=162 y=209 w=113 h=133"
    with Image.open(out) as picture:
        drawn = np.asarray(picture.convert("RGB"))
    original = np.asarray(Image.open(VISION / "multi_objects.jpg").convert("RGB"))
    assert drawn.shape == original.shape
    # the first box's left edge (x = 162, 3 px wide, from y = 209 to 342) is drawn
    assert (drawn[220:330, 162] != original[220:330, 162]).any(axis=-1).all()


def test_segment_prints_classes_and_draws_the_mask(tmp_path, capsys, with_metadata):
    out = tmp_path / "mask.png"
    code, text, _ = run(capsys, "segment", VISION / "deeplabv3.tflite",
                        VISION / "segmentation_input_rotation0.jpg", "--out", out)
    assert code == 0
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "mask 257x257, 3 class(es)" and lines[-1] == f"wrote {out}"
    assert [line.split()[0] for line in lines[1:-1]] == ["background", "person", "horse"]
    golden = np.asarray(Image.open(VISION / "segmentation_golden_rotation0.png")) // 10
    shares = [float(line.split()[1].rstrip("%")) for line in lines[1:-1]]
    expected = [100 * np.mean(golden == k) for k in (0, 15, 13)]  # background, person, horse
    assert shares == pytest.approx(expected, abs=0.05)
    with Image.open(out) as picture:
        drawn = np.asarray(picture.convert("RGB")).astype(int)
    original = np.asarray(Image.open(VISION / "segmentation_input_rotation0.jpg").convert("RGB"))
    y, x = np.argwhere(golden == 13)[len(np.argwhere(golden == 13)) // 2]  # a horse pixel
    assert np.abs(drawn[y, x] - (original[y, x] // 2 + np.array([192, 0, 128]) // 2)).max() <= 1


def test_cli_errors_are_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "classify", tmp_path / "missing.tflite", VISION / "burger.jpg")
    assert code == 2 and err.startswith("edgelite: error:") and "no such file" in err
    code, _, err = run(capsys, "detect", VISION / "deeplabv3.tflite", VISION / "burger.jpg",
                       "--top", 0)
    assert code == 2 and "--top" in err
    # a float model without normalization metadata is refused, as by tflite-support
    code, _, err = run(capsys, "classify", VISION / "mobilenet_v1_0.25_224_1_default_1.tflite",
                       VISION / "burger.jpg")
    assert code == 2 and "NormalizationOptions" in err
