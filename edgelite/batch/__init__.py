"""Batch inference and evaluation over whole datasets, on Ray Data (``pip install 'edgelite[ray]'``).

* :func:`predict` runs a .tflite model over a ``ray.data.Dataset`` or files (images, .npy,
  .npz, Parquet) with a pool of actors that each hold one interpreter, and returns a Ray
  dataset with one column per model output plus an ``error`` column.
* :func:`edgelite.batch.tasks.classify_images` runs the Task API's ImageClassifier (labels,
  normalization and calibration from the model's metadata) over image files into a table of
  labels and scores.
* :func:`evaluate` compares two models (a float model and its quantized version, say) over a
  dataset: per-output error statistics, top-1 agreement and, with labels, accuracy.

Ray is imported on first use; importing this package needs only numpy.
"""
from .evaluate import EvalReport, OutputStats, evaluate
from .feeding import ERROR_COLUMN, ModelRunner
from .predict import predict
from .sources import read_dataset

__all__ = ["predict", "evaluate", "EvalReport", "OutputStats", "ModelRunner", "read_dataset",
           "ERROR_COLUMN"]
