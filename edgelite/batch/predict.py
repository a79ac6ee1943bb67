"""``predict``: a .tflite model over a whole Ray dataset, by a pool of interpreter actors.

The model's bytes are put once in Ray's object store; each actor of the pool (Ray Data's
``map_batches`` with ``concurrency=num_workers``) resolves that reference once, builds one
:class:`edgelite.Interpreter`, and runs every batch it is given through
:class:`~edgelite.batch.feeding.ModelRunner`. Ray schedules the actors, retries dead ones and
shows progress; edgelite adds no scheduler of its own.
"""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from .feeding import ModelRunner
from .sources import ImageDecoder, read_dataset


def model_bytes(model: Any) -> bytes:
    """The .tflite bytes of a path, bytes-like object or :class:`edgelite.ir.Model`."""
    from ..ir import Model
    if isinstance(model, Model):
        from ..writer import write_model
        return write_model(model)
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    with open(os.fspath(model), "rb") as f:
        return f.read()


def resolve(value):
    """``value``, fetched from Ray's object store if it is a reference to it (once per actor)."""
    import ray
    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


class InterpreterActor:
    """A Ray Data actor holding one interpreter (``map_batches(InterpreterActor, ...)``)."""

    def __init__(self, model_content: bytes, runner_options: dict, keep_inputs: bool,
                 drop: tuple[str, ...] = ()):
        self.runner = ModelRunner(resolve(model_content), **runner_options)
        self.keep_inputs = keep_inputs
        self.drop = drop

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = self.runner(batch)
        if not self.keep_inputs:
            return out
        passed = {k: v for k, v in batch.items() if k not in self.drop and k not in out}
        return {**passed, **out}


def _ray(address: str | None = None):
    """Ray, connected to ``address`` (a local cluster by default) unless already initialized."""
    try:
        import ray
        import ray.data  # noqa: F401 - ray.data.ActorPoolStrategy below
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("edgelite.batch needs Ray: pip install 'edgelite[ray]'") from e
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    return ray


def actor_pool(ray, num_workers: int | None):
    """An actor pool growing from 1 to ``num_workers`` actors (default: the cluster's CPUs).

    A fixed pool that takes every CPU leaves none to the read tasks upstream of it, and the
    job deadlocks (seen with Ray 2.60 on 2 CPUs); a growing one starts beside them.
    """
    if num_workers is None:
        num_workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    return ray.data.ActorPoolStrategy(min_size=1, max_size=num_workers)


def predict(dataset, model, *, batch_size: int = 32, num_workers: int | None = None,
            preprocess: Callable | None = None, postprocess: Callable | None = None,
            signature: str | None = None, delegate: Any = None, keep_inputs: bool = True,
            num_threads: int = 1, batch_invoke: bool = False):
    """Run ``model`` over ``dataset``; returns a lazy ``ray.data.Dataset``.

    ``dataset``: a ``ray.data.Dataset``, or a path, glob, folder or list of image, .npy, .npz or
    Parquet files. The result has one column per model output, named as
    ``get_output_details()`` (or the signature) names them, an ``error`` column (None, or why
    the row failed), and the input columns unless ``keep_inputs=False`` (for image files: the
    ``path``, not the encoded bytes). ``preprocess(batch) -> arrays`` and
    ``postprocess(columns) -> columns`` run inside the workers on numpy batches.
    ``num_workers`` actors (default: the cluster's CPU count) each hold one interpreter using
    ``num_threads`` threads. Rows run one invoke each (outputs bit for bit those of a serial
    loop); ``batch_invoke=True`` runs a batch in one invoke where the model has a dynamic batch
    dimension (faster for small models; float sums may differ by ulps). Nothing runs until the dataset is consumed
    (``.write_parquet(...)``, ``.take_all()``, ``.iter_batches()``...).
    """
    ray = _ray()
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    content = model_bytes(model)
    ds, kind = read_dataset(dataset)
    drop: tuple[str, ...] = ()
    if kind == "images" and preprocess is None:
        probe = ModelRunner(content, signature=signature)
        if len(probe.inputs) != 1:
            raise ValueError(f"image files feed single-input models; this one has {len(probe.inputs)} "
                             "inputs (pass preprocess=)")
        preprocess = ImageDecoder(probe.inputs[0])
        drop = ("bytes",)
    options = dict(signature=signature, preprocess=preprocess, postprocess=postprocess,
                   delegate=delegate, num_threads=num_threads, batch_invoke=batch_invoke)
    return ds.map_batches(
        InterpreterActor, batch_size=batch_size, batch_format="numpy",
        compute=actor_pool(ray, num_workers), num_cpus=num_threads,
        fn_constructor_args=(ray.put(content), options, keep_inputs, drop))
