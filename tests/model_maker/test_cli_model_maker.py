
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


def _write_csv(path, rows, header=("sentence", "topic")):
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)


def test_cli_text_csv(tmp_path, capsys):
    import numpy as np

    from edgelite.model_maker.text_classifier import TextDataLoader, tokenize

    from .test_text_classifier import COOKING, HELD_OUT, SPORTS, WEATHER
    rows = [(t, "sports") for t in SPORTS] + [(t, "cooking") for t in COOKING] + [(t, "weather") for t in WEATHER]
    rows.append(("salt, pepper and \"fresh\" herbs", "cooking"))           # quoted field with commas
    _write_csv(tmp_path / "train.csv", rows)
    out = tmp_path / "out" / "text.tflite"
    rc = main(["model-maker", "text", str(tmp_path / "train.csv"), "-o", str(out), "--text-column", "sentence",
               "--label-column", "topic", "--validation-split", "0.2"])
    assert rc == 0 and out.exists()
    printed = capsys.readouterr()
    assert "validation accuracy" in printed.out and "Epoch 50/50" in printed.err
    assert (tmp_path / "out" / "text_labels.txt").read_text().split() == ["cooking", "sports", "weather"]
    vocab = (tmp_path / "out" / "text_vocab.txt").read_text().splitlines()
    assert vocab[:3] == ["<PAD> 0", "<START> 1", "<UNKNOWN> 2"] and "the 3" in vocab
    # the exported model classifies held-out sentences (ids made as the metadata's tokenizer says)
    index = {line.split()[0]: int(line.split()[1]) for line in vocab}
    it = Interpreter(model_path=str(out))
    it.allocate_tensors()
    correct = 0
    for text, label in HELD_OUT:
        ids = np.zeros((1, 256), np.int32)
        toks = [1] + [index.get(w, 2) for w in tokenize(text)]
        ids[0, :len(toks)] = toks
        it.set_tensor(it.get_input_details()[0]["index"], ids)
        it.invoke()
        probs = it.get_tensor(it.get_output_details()[0]["index"])[0]
        correct += ["cooking", "sports", "weather"][int(np.argmax(probs))] == label
    assert correct >= 7, correct                                            # chance: 3 of 9
    # the loader: a quoted comma stays in the sentence; no header -> fieldnames
    data = TextDataLoader.from_csv(tmp_path / "train.csv", "sentence", "topic")
    assert data.texts[-1] == 'salt, pepper and "fresh" herbs' and data.label_names == ["cooking", "sports", "weather"]
    _write_csv(tmp_path / "plain.csv", rows[:4], header=None)
    plain = TextDataLoader.from_csv(tmp_path / "plain.csv", fieldnames=["text", "label"])
    assert plain.texts == [r[0] for r in rows[:4]] and plain.labels.tolist() == [0, 0, 0, 0]


def test_cli_text_errors(tmp_path, capsys):
    _write_csv(tmp_path / "bad.csv", [("a sentence", "x")], header=("text", "category"))
    rc = main(["model-maker", "text", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "m.tflite"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "no column(s) ['label']" in err and "'category'" in err
    rc = main(["model-maker", "text", str(tmp_path / "none.csv"), "-o", str(tmp_path / "m.tflite"), "-q"])
    assert rc == 2 and "not found" in capsys.readouterr().err
    _write_csv(tmp_path / "ok.csv", [("a sentence", "x")], header=("text", "label"))
    rc = main(["model-maker", "text", str(tmp_path / "ok.csv"), "-o", str(tmp_path / "m.tflite"), "--spec",
               "minilm", "--quantize", "dynamic", "-q"])
    assert rc == 2 and "average_word_vec only" in capsys.readouterr().err
