"""The Task API over whole datasets: classify a folder of images into a table of labels.

``classify_images(source, model)`` runs :class:`edgelite.tasks.vision.ImageClassifier` (which
reads the model's metadata: normalization, labels, score calibration, thresholds) in a pool of
Ray actors, one classifier each, over image files read with ``ray.data.read_binary_files``.
Each row gets the top ``max_results`` categories as parallel list columns, the best one as
``label``/``score``, and an ``error`` column for files that cannot be decoded or classified.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .feeding import ERROR_COLUMN
from .predict import _ray, actor_pool, model_bytes, resolve
from .sources import read_dataset


def _list_column(rows: list[list]) -> np.ndarray:
    """A 1-D object column holding one list per row (np.array would make equal-length lists 2-D)."""
    column = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        column[i] = row
    return column


class ClassifierActor:
    """A Ray Data actor holding one ImageClassifier built from the model's bytes."""

    def __init__(self, content, max_results: int, score_threshold: float | None):
        from ..tasks.core.base_options import BaseOptions
        from ..tasks.processor.options import ClassificationOptions
        from ..tasks.vision.image_classifier import ImageClassifier, ImageClassifierOptions
        options = ImageClassifierOptions(
            base_options=BaseOptions(file_content=resolve(content)),
            classification_options=ClassificationOptions(max_results=max_results,
                                                         score_threshold=score_threshold))
        self.classifier = ImageClassifier.create_from_options(options)

    def _classify(self, data: bytes) -> tuple[list[str], list[float]]:
        from ..tasks.vision.tensor_image import TensorImage
        result = self.classifier.classify(TensorImage.create_from_buffer(bytes(data)))
        categories = result.classifications[0].categories
        return [c.category_name for c in categories], [float(c.score) for c in categories]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names, scores, errors = [], [], []
        for data in batch["bytes"]:
            try:
                n, s = self._classify(data)
                errors.append(None)
            except Exception as e:  # noqa: BLE001 - recorded in the row's error column
                n, s = [], []
                errors.append(f"{type(e).__name__}: {e}")
            names.append(n)
            scores.append(s)
        return {"path": batch["path"],
                "label": np.array([n[0] if n else None for n in names], dtype=object),
                "score": np.array([s[0] if s else np.nan for s in scores], np.float64),
                "labels": _list_column(names),
                "scores": _list_column(scores),
                ERROR_COLUMN: np.array(errors, dtype=object)}


def classify_images(source: Any, model: Any, *, max_results: int = 5,
                    score_threshold: float | None = None, batch_size: int = 16,
                    num_workers: int | None = None):
    """Classify image files with a classifier carrying TFLite metadata; a lazy Ray dataset.

    Columns: ``path``, ``label`` and ``score`` (the best category), ``labels`` and ``scores``
    (the top ``max_results``, best first), ``error``. ``source`` is a folder, glob, path or list
    of image files; ``model`` a path or the bytes of a .tflite with image-classifier metadata.
    Write it with ``.write_parquet(dir)``.
    """
    ray = _ray()
    ds, kind = read_dataset(source)
    if kind != "images":
        raise ValueError(f"classify_images reads image files, not {kind}")
    return ds.map_batches(
        ClassifierActor, batch_size=batch_size, batch_format="numpy", num_cpus=1,
        compute=actor_pool(ray, num_workers),
        fn_constructor_args=(ray.put(model_bytes(model)), max_results, score_threshold))
