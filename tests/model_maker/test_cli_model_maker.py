
from edgelite import Interpreter
from edgelite.tools.cli import main

from .conftest import synthetic_set, tiny_backbone


def test_cli_image(tmp_path, capsys):
    from PIL import Image
    images, labels = synthetic_set(n_per_class=6)
    for i, (im, lab) in enumerate(zip(images, labels)):
        (tmp_path / "data" / f"c{lab}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(tmp_path / "data" / f"c{lab}" / f"{i}.png")
    tiny_backbone(size=12, filters=4).save(tmp_path / "backbone.tflite")
    out = tmp_path / "out" / "model.tflite"
    rc = main(["model-maker", "image", str(tmp_path / "data"), "-o", str(out), "--spec",
               str(tmp_path / "backbone.tflite"), "--epochs", "3", "--quantize", "int8",
               "--validation-split", "0.25", "-q"])
    assert rc == 0 and out.exists()
    assert (tmp_path / "out" / "model_labels.txt").read_text().split() == ["c0", "c1", "c2"]
    it = Interpreter(model_path=str(out))
    it.allocate_tensors()
    assert it.get_output_details()[0]["shape"].tolist() == [1, 3]
    rc = main(["model-maker", "image", str(tmp_path / "nowhere"), "-o", str(out)])
    assert rc == 2 and "not found" in capsys.readouterr().err
