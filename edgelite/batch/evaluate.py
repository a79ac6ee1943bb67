"""``evaluate``: how far apart are two models over a whole dataset?

Typically a float model and its quantized version. Each actor holds both interpreters, runs
every batch through both, dequantizes their outputs, and returns one row of partial sums per
batch (summed squares, absolute errors, argmax agreements, correct labels); the driver adds
them up. The statistics are those of ``edgelite debug-quant`` for a model's outputs (mean and
max absolute error, RMSE, SNR in dB), plus top-1 agreement and, with labels, each model's
accuracy. Rows that either model rejects are counted in ``errors`` and left out.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from ..optimize.debugger import snr_db_from_powers
from .feeding import ERROR_COLUMN, ModelRunner
from .predict import _ray, actor_pool, model_bytes, resolve
from .sources import ImageDecoder, read_dataset

_SUMS = ("count", "sum_abs", "max_abs", "sum_sq_err", "sum_sq_ref", "agree", "rows")


@dataclass
class OutputStats:
    """The error of model B's output against model A's, over the dataset."""

    name: str
    mean_abs: float
    max_abs: float
    rmse: float
    snr_db: float
    top1_agreement: float | None  # fraction of rows with the same argmax (None: one value per row)


@dataclass
class EvalReport:
    rows: int                      # rows both models ran
    errors: int                    # rows that either model rejected
    outputs: list[OutputStats] = field(default_factory=list)
    accuracy_a: float | None = None  # with labels: argmax of output 0 == label
    accuracy_b: float | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=lambda v: None)

    def __str__(self) -> str:
        lines = [f"{self.rows} rows compared, {self.errors} rejected"]
        for o in self.outputs:
            agree = "-" if o.top1_agreement is None else f"{100 * o.top1_agreement:.2f}%"
            lines.append(f"  {o.name}: top-1 agreement {agree}, mean|err| {o.mean_abs:.4g}, "
                         f"max|err| {o.max_abs:.4g}, RMSE {o.rmse:.4g}, SNR {o.snr_db:.2f} dB")
        if self.accuracy_a is not None:
            lines.append(f"  accuracy: A {100 * self.accuracy_a:.2f}%, B {100 * self.accuracy_b:.2f}%")
        return "\n".join(lines)


def _dequantized(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if values.dtype.kind in "iu" and scale:
        return (values.astype(np.float64) - zero_point) * scale
    return values.astype(np.float64)


class PairActor:
    """Runs each batch through both models and returns one row of partial sums."""

    def __init__(self, content_a: bytes, content_b: bytes, options: dict, labels: str | None):
        self.a = ModelRunner(resolve(content_a), **options)
        self.b = ModelRunner(resolve(content_b), **options)
        if len(self.a.outputs) != len(self.b.outputs):
            raise ValueError(f"the models have {len(self.a.outputs)} and {len(self.b.outputs)} outputs")
        self.labels = labels

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        features = {k: v for k, v in batch.items() if k != self.labels}
        out_a, out_b = self.a(features), self.b(features)
        ok = np.array([ea is None and eb is None for ea, eb in zip(out_a[ERROR_COLUMN], out_b[ERROR_COLUMN])],
                      dtype=bool)
        sums: dict[str, Any] = {"ok": int(ok.sum()), "errors": int((~ok).sum())}
        for j, (da, db) in enumerate(zip(self.a.outputs, self.b.outputs)):
            ya, yb = (_dequantized(out[d["name"]][ok], d) for out, d in ((out_a, da), (out_b, db)))
            ya, yb = (v.reshape(len(v), int(np.prod(v.shape[1:]))) for v in (ya, yb))
            if ya.shape != yb.shape:
                raise ValueError(f"output {j}: shapes {ya.shape[1:]} and {yb.shape[1:]} differ")
            err = yb - ya
            per_row = ya.shape[1]
            sums[f"o{j}"] = [ya.size, float(np.abs(err).sum()), float(np.abs(err).max(initial=0.0)),
                             float((err ** 2).sum()), float((ya ** 2).sum()),
                             int((ya.argmax(1) == yb.argmax(1)).sum()) if per_row > 1 else 0, len(ya)]
            if j == 0 and self.labels is not None:
                truth = np.asarray(batch[self.labels])[ok].astype(np.int64).reshape(-1)
                sums["correct"] = [int((ya.argmax(1) == truth).sum()), int((yb.argmax(1) == truth).sum())]
        return {"sums": np.array([json.dumps(sums)], dtype=object)}


def _report(partials: list[dict], names: list[str], labels: bool, multi: list[bool]) -> EvalReport:
    rows = sum(p["ok"] for p in partials)
    report = EvalReport(rows=rows, errors=sum(p["errors"] for p in partials))
    for j, name in enumerate(names):
        parts = [dict(zip(_SUMS, p[f"o{j}"])) for p in partials]
        total = {k: sum(q[k] for q in parts) for k in _SUMS}
        total["max_abs"] = max((q["max_abs"] for q in parts), default=0.0)
        n = max(total["count"], 1)
        report.outputs.append(OutputStats(
            name=name, mean_abs=total["sum_abs"] / n, max_abs=total["max_abs"],
            rmse=math.sqrt(total["sum_sq_err"] / n),
            snr_db=snr_db_from_powers(total["sum_sq_ref"], total["sum_sq_err"], total["count"]),
            top1_agreement=(total["agree"] / max(total["rows"], 1)) if multi[j] else None))
    if labels:
        report.accuracy_a = sum(p["correct"][0] for p in partials if "correct" in p) / max(rows, 1)
        report.accuracy_b = sum(p["correct"][1] for p in partials if "correct" in p) / max(rows, 1)
    return report


def evaluate(dataset, model_a, model_b, *, labels: str | None = None, batch_size: int = 32,
             num_workers: int | None = None, preprocess: Callable | None = None,
             signature: str | None = None) -> EvalReport:
    """Compare ``model_b`` with ``model_a`` (the reference) over ``dataset``.

    ``dataset`` is what :func:`edgelite.batch.predict` takes. ``labels`` names a column of
    integer class labels: each model's accuracy is then the fraction of rows whose output 0
    argmax equals the label. Float inputs are quantized for models with quantized inputs, so
    one dataset feeds a float model and its int8-io version alike.
    """
    ray = _ray()
    content_a, content_b = model_bytes(model_a), model_bytes(model_b)
    ds, kind = read_dataset(dataset)
    probe = ModelRunner(content_a, signature=signature)
    if kind == "images" and preprocess is None:
        float_input = dict(probe.inputs[0], dtype=np.float32, quantization=(0.0, 0))
        preprocess = ImageDecoder(float_input)
    if labels is not None and labels not in ds.columns():
        raise ValueError(f"no label column {labels!r}; columns are {ds.columns()}")
    options = dict(signature=signature, preprocess=preprocess)
    sums = ds.map_batches(PairActor, batch_size=batch_size, batch_format="numpy",
                          compute=actor_pool(ray, num_workers), num_cpus=1,
                          fn_constructor_args=(ray.put(content_a), ray.put(content_b), options, labels))
    partials = [json.loads(r["sums"]) for r in sums.take_all()]
    multi = [int(np.prod(d["shape"][1:] if len(d["shape"]) > 1 else d["shape"])) > 1 for d in probe.outputs]
    return _report(partials, [d["name"] for d in probe.outputs], labels is not None, multi)
