"""On-device training signatures: infer / train / save / restore / features, in LiteRT and edgelite."""
import numpy as np
import pytest

from edgelite import Interpreter, load_model
from edgelite.model_maker import DataLoader, ImageBackbone, image_classifier
from edgelite.model_maker.head_graph import trainable_model

from .conftest import synthetic_set, tiny_backbone


@pytest.fixture(scope="module")
def trainable_export(tmp_path_factory):
    images, labels = synthetic_set(n_per_class=10, classes=4, seed=1)
    data = DataLoader.from_arrays(images, labels, ["r", "g", "b", "y"]).shuffled(0)
    spec = ImageBackbone(tiny_backbone(size=12, filters=4), name="tiny")
    model = image_classifier.create(data, model_spec=spec, epochs=2, progress=False)
    path = model.export(tmp_path_factory.mktemp("trainable"), trainable=True)
    return path.read_bytes(), spec, data, model


def _session(engine, content, spec, data, steps=20, batch=8):
    it = engine(model_content=content)
    feats_runner = it.get_signature_runner("features")
    feats = np.concatenate([feats_runner(image=spec.preprocess(im)[None])["features"] for im in data.images])
    onehot = np.eye(data.num_classes, dtype=np.float32)[data.labels]
    train = it.get_signature_runner("train")
    losses = []
    for s in range(steps):
        i = (s * batch) % (len(data) - batch)
        size = batch if s % 4 else batch - 3          # a changing batch size: resize in both engines
        out = train(x=feats[i:i + size], y=onehot[i:i + size])
        losses.append(float(out["loss"]))
    infer = it.get_signature_runner("infer")
    probs = np.concatenate([infer(image=spec.preprocess(im)[None])["probabilities"] for im in data.images[:10]])
    saved = {k: v.copy() for k, v in it.get_signature_runner("save")().items()}
    return feats, np.array(losses), probs, saved, it


def test_signatures_and_no_flex(trainable_export):
    content, *_ = trainable_export
    model = load_model(content)
    assert {s.key for s in model.signature_defs} == {"infer", "train", "save", "restore", "features"}
    ops = set()
    for sg in model.subgraphs:
        ops |= {op.opcode for op in sg.operators}
    assert "CUSTOM" not in ops and {"VAR_HANDLE", "ASSIGN_VARIABLE", "CALL_ONCE"} <= ops
    # the features signature shares the backbone's weight buffers with infer (stored once)
    conv_weights = [t.data for sg in model.subgraphs for t in sg.tensors
                    if t.name == "w" and t.data is not None]
    assert len(conv_weights) == 2 and np.shares_memory(conv_weights[0], conv_weights[1])


def test_train_20_steps_litert_equals_edgelite(trainable_export):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    content, spec, data, model = trainable_export
    f1, l1, p1, s1, _ = _session(Interpreter, content, spec, data)
    f2, l2, p2, s2, _ = _session(litert.Interpreter, content, spec, data)
    np.testing.assert_allclose(f1, f2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(l1, l2, rtol=1e-5, atol=1e-6)
    assert l1[-1] < l1[0]
    np.testing.assert_allclose(p1, p2, rtol=1e-4, atol=1e-6)
    for k in ("w", "b"):
        np.testing.assert_allclose(s1[k], s2[k], rtol=1e-4, atol=1e-6)
    # the exported start is the trained head: first loss = that head's cross-entropy on the batch
    assert not np.allclose(s1["w"], model.weights)


def test_save_restore_round_trip(trainable_export):
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    content, _, _, model = trainable_export
    for engine in (Interpreter, litert.Interpreter):
        it = engine(model_content=content)
        saved = it.get_signature_runner("save")()
        np.testing.assert_array_equal(saved["w"], model.weights)
        np.testing.assert_array_equal(saved["b"], model.bias)
        new_w = np.arange(model.weights.size, dtype=np.float32).reshape(model.weights.shape) / 100
        new_b = np.ones_like(model.bias)
        it.get_signature_runner("restore")(w=new_w, b=new_b)
        again = it.get_signature_runner("save")()
        np.testing.assert_array_equal(again["w"], new_w)
        np.testing.assert_array_equal(again["b"], new_b)


def test_head_train_step_matches_numpy():
    rng = np.random.default_rng(0)
    f, c, lr, mom = 6, 3, 0.1, 0.9
    mean = rng.normal(size=f).astype(np.float32)
    scale = np.full(f, 0.5, np.float32)
    w0 = rng.normal(size=(c, f)).astype(np.float32) * 0.1
    b0 = np.zeros(c, np.float32)
    it = Interpreter(model_content=trainable_model(w0, b0, learning_rate=lr, momentum=mom, feature_mean=mean,
                                                   feature_scale=scale).to_bytes())
    train = it.get_signature_runner("train")
    w, b = w0.astype(np.float64), b0.astype(np.float64)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for step in range(5):
        x = rng.normal(size=(4 + step, f)).astype(np.float32)
        y = np.eye(c, dtype=np.float32)[rng.integers(0, c, len(x))] * 0.9 + 0.1 / c
        z = (x - mean) * scale
        logits = z @ w.T + b
        logp = logits - logits.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        expected = -(y * logp).sum(1).mean()
        g = (np.exp(logp) - y) / len(x)
        vw, vb = mom * vw + g.T @ z, mom * vb + g.sum(0)
        w, b = w - lr * vw, b - lr * vb
        assert float(train(x=x, y=y)["loss"]) == pytest.approx(expected, rel=1e-5)
    saved = it.get_signature_runner("save")()
    np.testing.assert_allclose(saved["w"], w, rtol=1e-5, atol=1e-6)


def test_trainable_rejects_quantization(trainable_export, tmp_path):
    *_, model = trainable_export
    with pytest.raises(ValueError, match="trainable"):
        model.export(tmp_path, quantization="int8", trainable=True)
