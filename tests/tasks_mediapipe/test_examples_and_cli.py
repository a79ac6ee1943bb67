"""Every example app runs as is and draws its picture; the ``edgelite pose|face|hands`` CLI."""
import pathlib
import re
import runpy
import subprocess
import sys

import pytest

import edgelite
from edgelite.tools.cli import main

pytest.importorskip("PIL")
REPO = pathlib.Path(edgelite.__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL = SHARED / "realmodels"
if not (REAL / "mp_pose_detection.tflite").exists():
    pytest.skip("needs ../shared/realmodels", allow_module_level=True)


def _task_api_ready() -> bool:
    try:
        from edgelite.metadata import MetadataDisplayer  # noqa: F401  (the Task API reads it)
    except ImportError:
        return False
    return True


needs_task_api = pytest.mark.skipif(not _task_api_ready(),
                                    reason="the Task API examples need edgelite.metadata")

EXAMPLES = [
    ("face_landmarks.py", [], r"faces: 1\nlandmarks: 478"),
    ("pose_estimation.py", [], r"poses: 1\nnose: x=0\.4\d+ y=0\.2\d+"),
    ("hand_landmarks.py", [], r"hands: 1\n(Left|Right) hand"),
    ("selfie_segmentation.py", [], r"person: [4-6]\d\.\d% of the image"),
    ("keyword_spotting.py", [], r"word: yes \(0\.9\d+\)"),
    ("keyword_spotting.py", ["--input", str(REAL / "audio" / "no_1000ms.wav")], r"word: no "),
    pytest.param("image_classification.py", [], r"cheeseburger: 0\.\d+", marks=needs_task_api),
    pytest.param("object_detection.py", [], r"(cat|dog): 0\.\d+ at x=", marks=needs_task_api),
    pytest.param("segmentation.py", [], r"person: \d+\.\d%", marks=needs_task_api),
    pytest.param("audio_classification.py", [], r"Speech: 0\.\d+", marks=needs_task_api),
    pytest.param("text_classification.py", [], r"Positive: 0\.\d+", marks=needs_task_api),
]


@pytest.mark.parametrize("script, extra, expected", EXAMPLES)
def test_example_runs_and_draws(tmp_path, monkeypatch, capsys, script, extra, expected):
    """Run the script file as ``python examples/SCRIPT --output ...`` would (in this process,
    to save the interpreter start-up)."""
    picture = tmp_path / "out.png"
    path = REPO / "examples" / script
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path), "--output", str(picture), *extra])
    runpy.run_path(str(path), run_name="__main__")
    printed = capsys.readouterr().out
    assert re.search(expected, printed), printed
    assert f"wrote {picture}" in printed
    from PIL import Image

    with Image.open(picture) as image:
        assert image.format == "PNG" and image.width >= 100 and image.height >= 100


def test_example_help_runs_in_a_fresh_interpreter(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "examples" / "pose_estimation.py"),
                           "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--model DETECTOR LANDMARKER" in done.stdout


def test_cli_face_pose_hands(tmp_path, capsys):
    astronaut = str(REPO / "examples" / "images" / "astronaut.jpg")
    out = tmp_path / "face.png"
    assert main(["face", str(REAL / "mp_face_detection_short_range.tflite"), astronaut,
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 face(s)" in text and re.search(r"box x=1\d\d y=\d+ w=\d+ h=\d+", text)
    assert out.exists()
    assert main(["face", str(REAL / "mp_face_detection_short_range.tflite"),
                 str(REAL / "mp_face_landmark.tflite"), astronaut]) == 0
    assert "468 landmarks" in capsys.readouterr().out
    assert main(["pose", str(REAL / "mp_pose_detection.tflite"),
                 str(REAL / "mp_pose_landmark_full.tflite"), astronaut, "--out",
                 str(tmp_path / "pose.png")]) == 0
    assert re.search(r"1 pose\(s\)\n  1\. nose at x=0\.4", capsys.readouterr().out)
    assert main(["hands", str(REAL / "mp_palm_detection_lite.tflite"),
                 str(REAL / "mp_hand_landmark_lite.tflite"),
                 str(SHARED / "support" / "task" / "vision" / "burger.jpg")]) == 0
    assert "0 hand(s)" in capsys.readouterr().out


def test_cli_errors(capsys):
    astronaut = str(REPO / "examples" / "images" / "astronaut.jpg")
    assert main(["pose", str(REAL / "mp_pose_detection.tflite"), astronaut]) == 2
    assert "pose takes 2 model file(s)" in capsys.readouterr().err
    assert main(["hands", str(REAL / "mp_face_detection_short_range.tflite"),
                 str(REAL / "mp_hand_landmark_lite.tflite"), astronaut]) == 2
    assert "palm_detection" in capsys.readouterr().err
    assert main(["face", "missing.tflite", astronaut]) == 2
    assert "missing.tflite: no such file" in capsys.readouterr().err
