"""Model maker: data loading, training, accuracy bar, export (float, int8, LiteRT agreement)."""
import numpy as np
import pytest

from edgelite import Interpreter, load_model
from edgelite.model_maker import DataLoader, ImageBackbone, image_classifier

from .conftest import synthetic_set, tiny_backbone


def test_from_arrays_split_and_errors():
    images, labels = synthetic_set()
    data = DataLoader.from_arrays(images, labels, ["red", "green", "blue"])
    assert len(data) == 36 and data.num_classes == 3
    a, b = data.shuffled(1).split(0.75)
    assert len(a) == 27 and len(b) == 9
    with pytest.raises(ValueError):
        data.split(1.5)
    with pytest.raises(ValueError):
        DataLoader.from_arrays(images, [0] * 35 + [7], ["a", "b"])
    gray = DataLoader.from_arrays(np.zeros((2, 5, 5)), [0, 1])
    assert gray.images[0].shape == (5, 5, 3) and gray.label_names == ["0", "1"]


def test_from_folder(digits_folder):
    data = DataLoader.from_folder(digits_folder, seed=0)
    assert len(data) == 1797 and data.label_names == [f"digit_{i}" for i in range(10)]
    assert data.images[0].shape == (8, 8, 3) and data.images[0].dtype == np.uint8
    with pytest.raises(FileNotFoundError):
        DataLoader.from_folder(digits_folder / "missing")


def test_backbone_checks():
    from edgelite.errors import ModelError
    from edgelite.ir import Model, Subgraph
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, 4))
    y = sg.add_tensor("y", (1, 4))
    sg.add_operator("RELU", [x], [y])
    sg.inputs, sg.outputs = [x], [y]
    with pytest.raises(ModelError, match="input"):
        ImageBackbone(Model(subgraphs=[sg]))
    with pytest.raises(ValueError, match="unknown model_spec"):
        image_classifier.create(DataLoader.from_arrays(*synthetic_set()), model_spec="resnet_9000")


def test_synthetic_train_reproducible_and_exports(tmp_path):
    images, labels = synthetic_set()
    data = DataLoader.from_arrays(images, labels, ["red", "green", "blue"]).shuffled(0)
    spec = ImageBackbone(tiny_backbone(size=12, filters=4), name="tiny")
    m1 = image_classifier.create(data, model_spec=spec, epochs=3, seed=3, progress=False)
    m2 = image_classifier.create(data, model_spec=spec, epochs=3, seed=3, progress=False)
    np.testing.assert_array_equal(m1.weights, m2.weights)
    m3 = image_classifier.create(data, model_spec=spec, epochs=3, seed=4, progress=False)
    assert not np.array_equal(m1.weights, m3.weights)
    loss, acc = m1.evaluate(data)
    assert acc == 1.0 and loss < 1.0
    feats, labs = m1.features(data)
    assert feats.shape == (36, 6 * 6 * 4) and np.array_equal(labs, data.labels)
    cm = m1.save_confusion_matrix(data, tmp_path / "cm.png")
    assert cm.trace() == 36
    from PIL import Image
    assert Image.open(tmp_path / "cm.png").size[0] > 0
    path = m1.export(tmp_path / "out")
    assert (tmp_path / "out" / "labels.txt").read_text().split() == ["red", "green", "blue"]
    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    x = spec.preprocess(data.images[0])[None]
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"])[0],
                               m1.predict_proba(DataLoader(data.images[:1], data.labels[:1], data.label_names))[0],
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError):
        m1.export(tmp_path / "bad", quantization="int4")


def _run_all(model_bytes, spec, images, engine, **kw):
    it = engine(model_content=model_bytes, **kw)
    inp = it.get_input_details()[0]["index"]
    out = it.get_output_details()[0]["index"]
    it.allocate_tensors()
    probs = []
    for im in images:
        it.set_tensor(inp, spec.preprocess(im)[None])
        it.invoke()
        probs.append(it.get_tensor(out)[0].copy())
    return np.array(probs)


def test_digits_accuracy_bar(digits_split, tiny_spec, digits_model):
    linear_model = pytest.importorskip("sklearn.linear_model")
    train, test = digits_split
    ftr, ytr = digits_model.features(train)
    fte, yte = digits_model.features(test)
    reference = linear_model.LogisticRegression(max_iter=3000).fit(ftr, ytr).score(fte, yte)
    _, acc = digits_model.evaluate(test)
    assert acc >= reference - 0.01, (acc, reference)
    assert len(digits_model.history.loss) == image_classifier.DEFAULT_EPOCHS


def test_export_float_and_int8_in_litert(tmp_path, digits_split, tiny_spec, digits_model):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    _, test = digits_split
    _, acc = digits_model.evaluate(test)
    path = digits_model.export(tmp_path / "f32")
    data = path.read_bytes()
    ours = _run_all(data, tiny_spec, test.images, Interpreter)
    theirs = _run_all(data, tiny_spec, test.images, litert.Interpreter)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert np.mean(np.argmax(ours, 1) == test.labels) == pytest.approx(acc, abs=1e-9)
    model = load_model(data)
    assert model.op_histogram() == {"CONV_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1}
    from edgelite.metadata import MetadataDisplayer
    shown = MetadataDisplayer.with_model_buffer(data)
    assert "labels.txt" in shown.get_packed_associated_file_list()

    q = digits_model.export(tmp_path / "int8", quantization="int8").read_bytes()
    assert "INT8" in str([t.type_name for t in load_model(q).subgraphs[0].tensors])
    q_ours = _run_all(q, tiny_spec, test.images, Interpreter)
    # LiteRT's builtin kernels (XNNPACK, its default delegate, rounds int8 differently)
    q_theirs = _run_all(q, tiny_spec, test.images, litert.Interpreter,
                        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    np.testing.assert_array_equal(q_ours, q_theirs)
    q_acc = np.mean(np.argmax(q_ours, 1) == test.labels)
    assert q_acc >= acc - 0.01, (q_acc, acc)
    for mode in ("float16", "dynamic"):
        m = digits_model.export(tmp_path / mode, quantization=mode).read_bytes()
        p = _run_all(m, tiny_spec, test.images[:40], Interpreter)
        assert np.mean(np.argmax(p, 1) == np.argmax(ours[:40], 1)) >= 0.95


def test_progress_bar_and_validation(capsys):
    images, labels = synthetic_set()
    data = DataLoader.from_arrays(images, labels, ["red", "green", "blue"]).shuffled(0)
    train, val = data.split(0.75)
    spec = ImageBackbone(tiny_backbone(size=12, filters=4), name="tiny")
    model = image_classifier.create(train, model_spec=spec, validation_data=val, epochs=2,
                                    use_augmentation=True, progress=True)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "Epoch 2/2" in err and "val_accuracy" in err and "loss" in err
    assert len(model.history.val_accuracy) == 2 and len(model.history.loss) == 2
