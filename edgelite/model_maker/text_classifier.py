"""Text classification: ``average_word_vec``, in the shape of TFLite Model Maker's.

Tokenizer (as Model Maker's): lower-case, split on the regex ``[^\\w']+``, vocabulary of the
``num_words`` most frequent training words after ``<PAD>`` (0), ``<START>`` (1) and
``<UNKNOWN>`` (2); each sentence becomes ``<START>`` + ids, padded or cut to ``seq_len``.

Model: ``Embedding(vocab, wordvec_dim)`` averaged over the ``seq_len`` positions, ``Dense(16,
relu)``, dropout, ``Dense(classes)``, softmax; trained here in numpy with Adam (Model Maker's
optimizer; the embedding is trained too, so the head-only ``train`` signature of the image
classifier does not apply). Export: ``GATHER -> MEAN -> FULLY_CONNECTED(relu) ->
FULLY_CONNECTED -> SOFTMAX`` on an int32 ``(1, seq_len)`` input, with NL-classifier metadata
(regex tokenizer + vocabulary, labels) from edgelite.metadata's writer.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ir import Model, Subgraph, TensorType

PAD, START, UNKNOWN = "<PAD>", "<START>", "<UNKNOWN>"
DELIM_REGEX = r"[^\w\']+"


class TextDataLoader:
    """Sentences with integer labels and the class names."""

    def __init__(self, texts: Sequence[str], labels: Sequence[int], label_names: Sequence[str]):
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        self.texts = [str(t) for t in texts]
        self.labels = np.asarray(labels, np.int64).reshape(-1)
        self.label_names = [str(n) for n in label_names]

    @classmethod
    def from_lists(cls, texts: Sequence[str], labels: Sequence, label_names: Sequence[str] | None = None):
        """``labels``: class names (strings) or integers."""
        if label_names is None:
            label_names = sorted({str(l) for l in labels}) if labels and isinstance(labels[0], str) \
                else [str(i) for i in range(max(labels) + 1)]
        index = {n: i for i, n in enumerate(label_names)}
        ids = [index[l] if isinstance(l, str) else int(l) for l in labels]
        return cls(texts, ids, label_names)

    @classmethod
    def from_csv(cls, filename, text_column: str = "text", label_column: str = "label",
                 fieldnames: Sequence[str] | None = None, delimiter: str = ",", quotechar: str = '"',
                 shuffle: bool = False, seed: int = 0) -> TextDataLoader:
        """A CSV file with one sentence per row, as TFLite Model Maker's
        ``DataLoader.from_csv``: columns named by the header row (or by ``fieldnames`` when the
        file has none), ``text_column`` the sentence and ``label_column`` its class name; the
        sorted distinct class names are the labels. ``shuffle`` permutes the rows with ``seed``
        (Model Maker's default is no shuffle: shuffle before ``split`` when the file is sorted)."""
        import csv
        path = Path(filename)
        if not path.is_file():
            raise FileNotFoundError(f"text CSV not found: {path}")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, fieldnames=fieldnames, delimiter=delimiter, quotechar=quotechar)
            columns = list(reader.fieldnames or [])
            missing = [c for c in (text_column, label_column) if c not in columns]
            if missing:
                raise ValueError(f"{path}: no column(s) {missing}; the columns are {columns} (set "
                                 "text_column / label_column, or fieldnames for a file without a header)")
            texts, names = [], []
            for row_number, row in enumerate(reader, start=2 if fieldnames is None else 1):
                text, label = row.get(text_column), row.get(label_column)
                if text is None or label is None or label == "":
                    raise ValueError(f"{path}, row {row_number}: missing {text_column!r} or {label_column!r} value")
                texts.append(text)
                names.append(label)
        if not texts:
            raise ValueError(f"{path}: no rows")
        data = cls.from_lists(texts, names, sorted(set(names)))
        if shuffle:
            order = np.random.default_rng(seed).permutation(len(data))
            data = cls([data.texts[i] for i in order], data.labels[order], data.label_names)
        return data

    def __len__(self) -> int:
        return len(self.texts)

    def split(self, fraction: float):
        n = round(len(self) * fraction)
        return (TextDataLoader(self.texts[:n], self.labels[:n], self.label_names),
                TextDataLoader(self.texts[n:], self.labels[n:], self.label_names))


def tokenize(text: str) -> list[str]:
    return [w for w in re.split(DELIM_REGEX, text.lower()) if w]


class AverageWordVecSpec:
    """Model Maker's ``average_word_vec`` hyper-parameters."""

    def __init__(self, num_words: int = 10000, seq_len: int = 256, wordvec_dim: int = 16,
                 hidden: int = 16, dropout_rate: float = 0.2):
        self.num_words, self.seq_len, self.wordvec_dim = num_words, seq_len, wordvec_dim
        self.hidden, self.dropout_rate = hidden, dropout_rate

    def build_vocab(self, texts: Sequence[str]) -> list[str]:
        counts = Counter(w for t in texts for w in tokenize(t))
        words = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        return [PAD, START, UNKNOWN] + words[:max(self.num_words - 3, 0)]

    def encode(self, texts: Sequence[str], vocab: dict[str, int]) -> np.ndarray:
        out = np.zeros((len(texts), self.seq_len), np.int32)
        for i, t in enumerate(texts):
            ids = [vocab[START]] + [vocab.get(w, vocab[UNKNOWN]) for w in tokenize(t)]
            ids = ids[:self.seq_len]
            out[i, :len(ids)] = ids
        return out


class TextClassifier:
    def __init__(self, spec: AverageWordVecSpec, vocab: list[str], params: dict, label_names: list[str]):
        self.spec, self.vocab, self.params, self.label_names = spec, vocab, params, label_names
        self._index = {w: i for i, w in enumerate(vocab)}

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        p = self.params
        h0 = p["embedding"][ids].mean(axis=1)
        h1 = np.maximum(h0 @ p["w1"].T + p["b1"], 0)
        z = h1 @ p["w2"].T + p["b2"]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self._forward(self.spec.encode(texts, self._index))

    def evaluate(self, data: TextDataLoader) -> tuple[float, float]:
        probs = self.predict_proba(data.texts)
        loss = float(-np.mean(np.log(np.maximum(probs[np.arange(len(data)), data.labels], 1e-12))))
        return loss, float(np.mean(np.argmax(probs, 1) == data.labels))

    def to_model(self) -> Model:
        p, s = self.params, self.spec
        sg = Subgraph(name="main")
        ids = sg.add_tensor("input_ids", (1, s.seq_len), TensorType.INT32)
        emb = sg.add_constant("embedding", p["embedding"].astype(np.float32))
        gathered = sg.add_tensor("word_vectors", (1, s.seq_len, s.wordvec_dim))
        sg.add_operator("GATHER", [emb, ids], [gathered], {"axis": 0, "batch_dims": 0})
        avg = sg.add_tensor("average", (1, s.wordvec_dim))
        sg.add_operator("MEAN", [gathered, sg.add_constant("axis", np.array([1], np.int32))], [avg],
                        {"keep_dims": False})
        h = sg.add_tensor("hidden", (1, s.hidden))
        sg.add_operator("FULLY_CONNECTED", [avg, sg.add_constant("w1", p["w1"].astype(np.float32)),
                                            sg.add_constant("b1", p["b1"].astype(np.float32))], [h],
                        {"fused_activation_function": 1})
        k = len(self.label_names)
        logits = sg.add_tensor("logits", (1, k))
        sg.add_operator("FULLY_CONNECTED", [h, sg.add_constant("w2", p["w2"].astype(np.float32)),
                                            sg.add_constant("b2", p["b2"].astype(np.float32))], [logits])
        probs = sg.add_tensor("probabilities", (1, k))
        sg.add_operator("SOFTMAX", [logits], [probs], {"beta": 1.0})
        sg.inputs, sg.outputs = [ids], [probs]
        return Model(subgraphs=[sg]).validate()

    def export(self, export_dir, quantization: str | None = None, tflite_filename: str = "model.tflite",
               with_metadata: bool = True) -> Path:
        """``model.tflite`` + ``labels.txt`` + ``vocab.txt``; quantization: None, "float16", "dynamic"."""
        if quantization not in (None, "float16", "dynamic"):
            raise ValueError(f"text export quantization must be None, 'float16' or 'dynamic', got {quantization!r}")
        out = Path(export_dir)
        out.mkdir(parents=True, exist_ok=True)
        model = self.to_model()
        if quantization:
            from ..optimize import quantize
            model = quantize(model, quantization, progress=False)
        labels, vocab = out / "labels.txt", out / "vocab.txt"
        labels.write_text("\n".join(self.label_names) + "\n")
        vocab.write_text("".join(f"{w} {i}\n" for i, w in enumerate(self.vocab)))
        content = model.to_bytes()
        if with_metadata:
            from ..metadata.writers import metadata_info, nl_classifier
            tok = metadata_info.RegexTokenizerMd(DELIM_REGEX, str(vocab))
            content = nl_classifier.MetadataWriter.create_for_inference(content, tok, [str(labels)]).populate()
        path = out / tflite_filename
        path.write_bytes(content)
        return path


def create(train_data: TextDataLoader, model_spec="average_word_vec", epochs: int = 50,
           batch_size: int = 32, learning_rate: float = 0.03, seed: int = 0,
           progress: bool = True) -> TextClassifier:
    """Train ``average_word_vec`` with Adam (numpy). ``model_spec``: ``"average_word_vec"`` or an
    ``AverageWordVecSpec``; ``"minilm"`` or a ``sentence_embedding.MiniLMSpec`` trains a head on
    all-MiniLM-L6-v2 sentence embeddings instead (``sentence_embedding.create``, Model Maker's
    image-head defaults; ``epochs``/``learning_rate`` here apply to average_word_vec only). Defaults are for small sets (tens of sentences per class): the
    average over ``seq_len`` = 256 positions makes each word's signal small, and Adam at 0.01
    needed 100 epochs on 48 sentences (0.03: 40); large sets need fewer epochs."""
    if model_spec in ("minilm", "all_minilm_l6_v2") or type(model_spec).__name__ == "MiniLMSpec":
        from . import sentence_embedding
        spec = sentence_embedding.MiniLMSpec() if isinstance(model_spec, str) else model_spec
        return sentence_embedding.create(train_data, spec, seed=seed, progress=progress)
    spec = AverageWordVecSpec() if model_spec == "average_word_vec" else model_spec
    if not isinstance(spec, AverageWordVecSpec):
        raise ValueError(f"unknown text model_spec {model_spec!r}: use 'average_word_vec' or 'minilm'")
    if len(train_data) == 0:
        raise ValueError("train_data is empty")
    rng = np.random.default_rng(seed)
    vocab = spec.build_vocab(train_data.texts)
    ids = spec.encode(train_data.texts, {w: i for i, w in enumerate(vocab)})
    k, d, hdim = len(train_data.label_names), spec.wordvec_dim, spec.hidden
    params = {"embedding": rng.uniform(-0.05, 0.05, (len(vocab), d)),
              "w1": rng.normal(0, np.sqrt(2.0 / d), (hdim, d)), "b1": np.zeros(hdim),
              "w2": rng.normal(0, np.sqrt(1.0 / hdim), (k, hdim)), "b2": np.zeros(k)}
    m = {n: np.zeros_like(v) for n, v in params.items()}
    v = {n: np.zeros_like(v) for n, v in params.items()}
    onehot = np.eye(k)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(ids))
        total, correct = 0.0, 0
        for start in range(0, len(ids), batch_size):
            idx = order[start:start + batch_size]
            x, y = ids[idx], onehot[train_data.labels[idx]]
            e = params["embedding"][x]
            h0 = e.mean(axis=1)
            a1 = h0 @ params["w1"].T + params["b1"]
            h1 = np.maximum(a1, 0)
            keep = (rng.random(h1.shape) >= spec.dropout_rate) / (1.0 - spec.dropout_rate)
            h1d = h1 * keep
            z = h1d @ params["w2"].T + params["b2"]
            z -= z.max(axis=1, keepdims=True)
            pr = np.exp(z)
            pr /= pr.sum(axis=1, keepdims=True)
            total += float(-np.sum(np.log(np.maximum((pr * y).sum(1), 1e-12))))
            correct += int(np.sum(pr.argmax(1) == train_data.labels[idx]))
            g = (pr - y) / len(idx)
            grads = {"w2": g.T @ h1d, "b2": g.sum(0)}
            dh1 = (g @ params["w2"]) * keep * (a1 > 0)
            grads["w1"], grads["b1"] = dh1.T @ h0, dh1.sum(0)
            dh0 = dh1 @ params["w1"] / spec.seq_len
            ge = np.zeros_like(params["embedding"])
            np.add.at(ge, x.reshape(-1), np.repeat(dh0, spec.seq_len, axis=0))
            grads["embedding"] = ge
            step += 1
            for n in params:                       # Adam (beta 0.9, 0.999, eps 1e-7 as Keras)
                m[n] = 0.9 * m[n] + 0.1 * grads[n]
                v[n] = 0.999 * v[n] + 0.001 * grads[n] ** 2
                mh, vh = m[n] / (1 - 0.9 ** step), v[n] / (1 - 0.999 ** step)
                params[n] -= learning_rate * mh / (np.sqrt(vh) + 1e-7)
        if progress:
            sys.stderr.write(f"Epoch {epoch}/{epochs} - loss {total / len(ids):.4f} - "
                             f"accuracy {correct / len(ids):.4f}\n")
    return TextClassifier(spec, vocab, params, list(train_data.label_names))
