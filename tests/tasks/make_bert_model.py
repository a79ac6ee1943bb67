"""Build tests/tasks/fixtures/bert_tiny.tflite: a tiny stand-in for a BERT text classifier.

No BERT model ships with the shared test data, so this one checks the BERT pre-processing
(WordPiece vocabulary from the metadata, [CLS]/[SEP], mask, segment ids): three int32 inputs of
length 16 (ids, mask, segment ids) and one float32 output ``probability`` equal to
``ids + 1000 * mask + 100000 * segment_ids`` -- the model returns what the tokenizer fed it.
Its metadata (BertTokenizerOptions with a small vocabulary, 16 labels) is written with
edgelite.metadata's ``bert_nl_classifier`` writer (tflite-support's writer API). Run with the
repository's Python (not by the suite)::

    python tests/tasks/make_bert_model.py

then ``tests/tasks/make_fixtures.py`` records tflite-support's BertNLClassifier and TextEmbedder
results on it.
"""
from __future__ import annotations

import pathlib
import tempfile

import numpy as np

from edgelite.ir import Model, Subgraph
from edgelite.metadata.writers import bert_nl_classifier, metadata_info
from edgelite.schema import TensorType

LENGTH = 16
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "movie",
         "##s", "good", "!", ",", "'", "it", "s", "\u4e16", "\u754c", "caf\u00e9", "was", "great",
         "##est", "not", "."]
OUT = pathlib.Path(__file__).resolve().parent / "fixtures" / "bert_tiny.tflite"


def build_model() -> bytes:
    sg = Subgraph(name="main")
    ids = sg.add_tensor("input_word_ids", [1, LENGTH], TensorType.INT32)
    mask = sg.add_tensor("input_mask", [1, LENGTH], TensorType.INT32)
    segments = sg.add_tensor("input_type_ids", [1, LENGTH], TensorType.INT32)
    scaled_mask = sg.add_tensor("scaled_mask", [1, LENGTH], TensorType.INT32)
    sg.add_operator("MUL", [mask, sg.add_constant("k1000", np.array([1000], np.int32))],
                    [scaled_mask])
    scaled_segments = sg.add_tensor("scaled_segments", [1, LENGTH], TensorType.INT32)
    sg.add_operator("MUL", [segments, sg.add_constant("k100000", np.array([100000], np.int32))],
                    [scaled_segments])
    partial = sg.add_tensor("partial", [1, LENGTH], TensorType.INT32)
    sg.add_operator("ADD", [ids, scaled_mask], [partial])
    total = sg.add_tensor("total", [1, LENGTH], TensorType.INT32)
    sg.add_operator("ADD", [partial, scaled_segments], [total])
    probability = sg.add_tensor("probability", [1, LENGTH], TensorType.FLOAT32)
    sg.add_operator("CAST", [total], [probability])
    sg.inputs = [ids, mask, segments]
    sg.outputs = [probability]
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "model.tflite"
        Model(subgraphs=[sg]).save(path)
        return path.read_bytes()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        vocab = pathlib.Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
        labels = pathlib.Path(tmp) / "labels.txt"
        labels.write_text("\n".join(f"position{i}" for i in range(LENGTH)) + "\n")
        writer = bert_nl_classifier.MetadataWriter.create_for_inference(
            build_model(), metadata_info.BertTokenizerMd(str(vocab)), [str(labels)],
            ids_name="input_word_ids", mask_name="input_mask", segment_name="input_type_ids")
        OUT.write_bytes(writer.populate())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
