"""Feeding a batch of dataset rows to one interpreter and reading the outputs back per row.

This module holds no Ray code: :class:`ModelRunner` turns a dict of column arrays (the
``batch_format="numpy"`` batches of Ray Data) into model inputs and a dict of output columns,
so that it can be tested, and used, without a cluster.

Rules:

* Columns feed inputs by name (the names ``get_input_details()`` or the signature gives); a
  single-input model takes the only data column whatever its name.
* Each row holds one sample: either the input's shape without its batch dimension, or the full
  shape with a batch of 1.
* Float data fed to a quantized integer input is quantized with the input's scale and zero
  point (what a user of an int8-io model would do); other data is cast to the input dtype.
* Rows run one invoke each by default, so every output is bit for bit what a serial loop (or
  the device) computes. ``batch_invoke=True`` resizes the inputs to the batch and runs it in one
  invoke, where the model declares a dynamic batch dimension (``shape_signature[0] == -1``;
  resizing a model made for batch 1 can silently change what it computes): faster for small
  models, but float GEMMs then sum in another order (measured: up to 3e-6 on mobilenet_v2_f32).
* A row that fails (wrong shape, undecodable image, an error raised by a kernel) gets zeros in
  the output columns and the message in the ``error`` column; other rows are unaffected.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

ERROR_COLUMN = "error"

Batch = dict[str, np.ndarray]


def _quantize(x: np.ndarray, dtype: np.dtype, scale: float, zero_point: int) -> np.ndarray:
    info = np.iinfo(dtype)
    q = np.round(np.asarray(x, np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def to_input_dtype(x: np.ndarray, detail: dict) -> np.ndarray:
    """``x`` as the dtype of the input described by ``detail`` (quantizing float data)."""
    dtype = np.dtype(detail["dtype"])
    x = np.asarray(x)
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if dtype.kind in "iu" and x.dtype.kind == "f" and scale:
        return _quantize(x, dtype, scale, zero_point)
    return x.astype(dtype, copy=False)


class ModelRunner:
    """One interpreter and the logic to run dataset batches through it."""

    def __init__(self, model_content: bytes, *, signature: str | None = None,
                 preprocess: Callable | None = None, postprocess: Callable | None = None,
                 delegate: Any = None, num_threads: int = 1, batch_invoke: bool = False):
        from ..interpreter import Interpreter
        delegates = None
        if delegate is not None:
            from .. import load_delegate  # provided by edgelite.delegates
            delegates = [load_delegate(delegate) if isinstance(delegate, str) else delegate]
        self.interpreter = Interpreter(model_content=bytes(model_content), num_threads=num_threads,
                                       **({"experimental_delegates": delegates} if delegates else {}))
        self.signature = signature
        self.preprocess = preprocess
        self.postprocess = postprocess
        if signature is not None:
            self.runner = self.interpreter.get_signature_runner(signature)
            ins, outs = self.runner.get_input_details(), self.runner.get_output_details()
            self.inputs = [dict(d, name=name) for name, d in ins.items()]
            self.outputs = [dict(d, name=name) for name, d in outs.items()]
        else:
            self.runner = None
            self.inputs = self.interpreter.get_input_details()
            self.outputs = self.interpreter.get_output_details()
        self.input_names = [d["name"] for d in self.inputs]
        self.output_names = [d["name"] for d in self.outputs]
        self.batchable = batch_invoke and self.runner is None and all(
            len(d["shape_signature"]) > 0 and d["shape_signature"][0] == -1 for d in self.inputs)
        self._batch_size: int | None = None
        self.interpreter.allocate_tensors()

    # -- columns -> samples ------------------------------------------------------
    def model_inputs(self, data) -> list[np.ndarray]:
        """One array per model input from preprocessed ``data``, rows along axis 0."""
        if isinstance(data, np.ndarray):
            data = [data]
        if isinstance(data, (list, tuple)):
            if len(data) != len(self.inputs):
                raise ValueError(f"preprocess gave {len(data)} arrays; the model has {len(self.inputs)} inputs")
            return [np.asarray(a) for a in data]
        columns = {k: v for k, v in data.items() if k != ERROR_COLUMN}
        if all(n in columns for n in self.input_names):
            return [np.asarray(columns[n]) for n in self.input_names]
        if len(self.inputs) == 1 and len(columns) == 1:
            return [np.asarray(next(iter(columns.values())))]
        missing = [n for n in self.input_names if n not in columns]
        raise ValueError(f"no column for model input(s) {missing}; columns are {sorted(columns)} "
                         "(name the columns as the inputs, or pass preprocess=)")

    def _sample(self, column: np.ndarray, row: int, detail: dict) -> np.ndarray:
        """Row ``row`` of ``column`` as a batch-of-1 input array."""
        x = np.asarray(column[row])
        shape = tuple(int(s) for s in detail["shape"])
        if x.shape == shape[1:]:
            x = x[None]
        elif x.shape != shape:
            raise ValueError(f"input '{detail['name']}': a row of shape {x.shape} fits neither "
                             f"{shape} nor {shape[1:]}")
        return to_input_dtype(x, detail)

    # -- running ----------------------------------------------------------------
    def _run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        it = self.interpreter
        if self.runner is not None:
            out = self.runner(**dict(zip(self.input_names, arrays)))
            return [np.asarray(out[n]) for n in self.output_names]
        if self.batchable and arrays[0].shape[0] != self._batch_size:
            for d, a in zip(self.inputs, arrays):
                it.resize_tensor_input(d["index"], list(a.shape))
            it.allocate_tensors()
            self._batch_size = arrays[0].shape[0]
        for d, a in zip(self.inputs, arrays):
            it.set_tensor(d["index"], a)
        it.invoke()
        return [it.get_tensor(d["index"]).copy() for d in self.outputs]

    def _run_rows(self, columns: list[np.ndarray], rows: list[int]) -> list[list[np.ndarray] | str]:
        """Each row alone: its outputs (batch dimension dropped), or its error message."""
        results: list[list[np.ndarray] | str] = []
        if self.batchable and len(rows) > 1:
            try:
                arrays = [np.concatenate([self._sample(c, r, d) for r in rows])
                          for c, d in zip(columns, self.inputs)]
                outs = self._run(arrays)
                return [[o[k] for o in outs] for k in range(len(rows))]
            except Exception:  # noqa: BLE001 - find the failing rows one by one below
                pass
        for r in rows:
            try:
                outs = self._run([self._sample(c, r, d) for c, d in zip(columns, self.inputs)])
                results.append([o[0] if o.ndim and o.shape[0] == 1 else o for o in outs])
            except Exception as e:  # noqa: BLE001 - recorded per row, the job goes on
                results.append(f"{type(e).__name__}: {e}")
        return results

    def __call__(self, batch: Batch) -> Batch:
        n = len(next(iter(batch.values()))) if batch else 0
        results: list[list[np.ndarray] | str | None] = [None] * n
        try:
            data = self.preprocess(batch) if self.preprocess is not None else batch
            # a preprocess may reject single rows through an error column of its own
            errors = data.get(ERROR_COLUMN) if isinstance(data, dict) else None
            rows = [r for r in range(n) if errors is None or errors[r] is None]
            for r in range(n):
                if errors is not None and errors[r] is not None:
                    results[r] = str(errors[r])
            for r, res in zip(rows, self._run_rows(self.model_inputs(data), rows)):
                results[r] = res
        except Exception as e:  # noqa: BLE001 - preprocess failed for the whole batch
            results = [f"{type(e).__name__}: {e}"] * n
        out = self._columns(results)
        if self.postprocess is not None:
            out = self.postprocess(out)
        return out

    def _columns(self, results: list[list[np.ndarray] | str]) -> Batch:
        """Output columns (zeros for failed rows) plus the ``error`` column (None where fine)."""
        good = next((r for r in results if not isinstance(r, str)), None)
        out: Batch = {}
        for j, d in enumerate(self.outputs):
            if good is not None:
                fill = np.zeros_like(good[j])
            else:
                shape = tuple(int(s) for s in d["shape"])
                fill = np.zeros(shape[1:] if shape and shape[0] == 1 else shape, d["dtype"])
            out[d["name"]] = np.stack([fill if isinstance(r, str) else r[j] for r in results]) \
                if results else np.zeros((0, *fill.shape), fill.dtype)
        out[ERROR_COLUMN] = np.array([r if isinstance(r, str) else None for r in results], dtype=object)
        return out
