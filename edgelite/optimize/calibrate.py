"""Calibration: run the float model over representative data and collect the
range of every float activation tensor.

``representative_data`` may be

* a callable returning an iterable (TensorFlow's ``representative_dataset``),
* an iterable whose items are a list/tuple of arrays (one per model input, in
  ``get_input_details()`` order), a dict keyed by input name, or a single array
  for single-input models.

Ranges are either the running min/max over all samples (``method="minmax"``,
TFLite's default) or percentiles of the values seen (``method="percentile"``:
each tensor keeps a bounded random subsample of its values; the range is the
``[100 - p, p]`` percentile pair, widened to include 0).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from ..ir import Model, SignatureDef
from ..schema import TensorType
from .lstm import LstmCellRecorder

_MAX_KEPT = 4096  # values kept per tensor per sample for the percentile method


@dataclass
class TensorRange:
    """Observed range of one tensor over the calibration set."""

    min: float = np.inf
    max: float = -np.inf
    samples: list[np.ndarray] = field(default_factory=list)

    def update(self, x: np.ndarray, keep_values: bool, rng: np.random.Generator) -> None:
        if x.size == 0:
            return
        finite = x[np.isfinite(x)] if not np.all(np.isfinite(x)) else x
        if finite.size == 0:
            return
        self.min = min(self.min, float(finite.min()))
        self.max = max(self.max, float(finite.max()))
        if keep_values:
            flat = finite.reshape(-1)
            if flat.size > _MAX_KEPT:
                flat = flat[rng.integers(0, flat.size, _MAX_KEPT)]
            self.samples.append(np.asarray(flat, np.float32))

    def bounds(self, method: str, percentile: float) -> tuple[float, float]:
        if method == "percentile" and self.samples:
            values = np.concatenate(self.samples)
            lo, hi = np.percentile(values, [100.0 - percentile, percentile])
            return float(lo), float(hi)
        return float(self.min), float(self.max)


def input_names(model: Model, subgraph_index: int = 0) -> list[str]:
    sg = model.subgraphs[subgraph_index]
    return [sg.tensors[i].name for i in sg.inputs]


def _signature_of(model: Model, subgraph_index: int, signature_key: str | None) -> SignatureDef | None:
    for sig in model.signature_defs:
        if signature_key is not None and sig.key == signature_key:
            return sig
        if signature_key is None and sig.subgraph_index == subgraph_index:
            return sig
    if signature_key is not None:
        raise ValueError(f"the model has no signature {signature_key!r}; it has "
                         f"{[s.key for s in model.signature_defs]}")
    return None


def iterate_samples(model: Model, representative_data: Any, subgraph_index: int = 0,
                    signature_key: str | None = None) -> Iterator[list[np.ndarray]]:
    """Yield one list of input arrays per calibration sample, in the subgraph's input order.

    A sample is a list/tuple of arrays (subgraph input order), a dict keyed by input
    tensor name or by signature input name, a single array (one-input subgraphs), or
    TensorFlow's ``(signature_key, sample)`` pair.
    """
    if representative_data is None:
        raise ValueError("calibration needs representative_data (int8 / int16x8 modes)")
    data = representative_data() if callable(representative_data) else representative_data
    if isinstance(data, np.ndarray):  # a stacked array: one sample per leading index
        data = list(data)
    sig = _signature_of(model, subgraph_index, signature_key)
    sg = model.subgraphs[subgraph_index]
    names = input_names(model, subgraph_index)
    by_sig_name = {name: sg.inputs.index(t) for name, t in sig.inputs.items()} if sig else {}
    for n, item in enumerate(data):
        if (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (dict, list, tuple, np.ndarray))):
            if sig is not None and item[0] != sig.key:
                raise ValueError(f"representative sample {n} is for signature {item[0]!r}, "
                                 f"not {sig.key!r}")
            item = item[1]
        if isinstance(item, dict):
            values = _values_from_dict(item, names, by_sig_name, n)
        elif isinstance(item, (list, tuple)):
            values = list(item)
        else:
            values = [item]
        if len(values) != len(names):
            raise ValueError(f"representative sample {n}: {len(values)} array(s) for a "
                             f"{'signature' if sig else 'model'} with {len(names)} input(s) "
                             f"{list(by_sig_name) if by_sig_name else names}")
        out = []
        for v, ti in zip(values, sg.inputs):
            t = sg.tensors[ti]
            out.append(np.asarray(v).astype(t.numpy_dtype, copy=False))
        yield out


def _values_from_dict(item: dict, names: list[str], by_sig_name: dict[str, int], n: int) -> list:
    if all(k in item for k in names):
        return [item[k] for k in names]
    if by_sig_name and set(item) == set(by_sig_name):
        values = [None] * len(names)
        for key, pos in by_sig_name.items():
            values[pos] = item[key]
        return values
    if len(item) == len(names) and not by_sig_name:  # short names, in order
        return list(item.values())
    missing = [k for k in names if k not in item]
    also = f" (or signature input names {sorted(by_sig_name)})" if by_sig_name else ""
    raise ValueError(f"representative sample {n}: no value for input(s) {missing}{also}; "
                     f"keys given: {sorted(item)}")


def split_by_signature(model: Model, representative_data: Any) -> dict[str, list]:
    """Per-signature samples of a multi-signature model's representative data.

    Accepts ``{signature_key: samples}`` (samples: an iterable or a callable returning
    one) or an iterable / callable yielding ``(signature_key, sample)`` pairs, as
    TensorFlow's ``representative_dataset`` does for models with several signatures.
    """
    keys = [s.key for s in model.signature_defs]
    if representative_data is None:
        return {}
    if isinstance(representative_data, dict):
        unknown = [k for k in representative_data if k not in keys]
        if unknown:
            raise ValueError(f"representative_data names signature(s) {unknown} the model does not "
                             f"have; its signatures: {keys}")
        return {k: list(v() if callable(v) else v) for k, v in representative_data.items()}
    data = representative_data() if callable(representative_data) else representative_data
    out: dict[str, list] = {}
    for n, item in enumerate(data):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(
                f"representative sample {n}: a model with several signatures {keys} needs per-signature "
                "data: (signature_key, {input_name: array}) pairs, as TensorFlow's representative_dataset "
                "yields, or a dict {signature_key: samples}")
        if item[0] not in keys:
            raise ValueError(f"representative sample {n} is for signature {item[0]!r}; the model's "
                             f"signatures are {keys}")
        out.setdefault(item[0], []).append(item[1])
    return out


class _Progress:
    """tqdm when installed, else a plain counter on stderr."""

    def __init__(self, total: int | None, desc: str, enabled: bool):
        self.enabled = enabled
        self.count = 0
        self.bar = None
        self.desc = desc
        if not enabled:
            return
        try:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=desc, unit="sample", file=sys.stderr, leave=False)
        except ImportError:
            self.bar = None

    def step(self) -> None:
        self.count += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
        else:
            print(f"\r{self.desc}: {self.count} samples", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        else:
            print(file=sys.stderr)


def _float_activation_indices(model: Model, subgraph_index: int = 0) -> list[int]:
    sg = model.subgraphs[subgraph_index]
    return [i for i, t in enumerate(sg.tensors)
            if t.dtype == TensorType.FLOAT32 and t.data is None and not t.is_variable]


def calibrate(model: Model, representative_data: Any, method: str = "minmax",
              percentile: float = 99.99, progress: bool = True,
              make_interpreter: Callable[[bytes], Any] | None = None,
              signature_key: str | None = None) -> dict[int, tuple[float, float]]:
    """Return ``{tensor index: (min, max)}`` for every float activation of subgraph 0,
    or of the subgraph of signature ``signature_key`` (run through its signature runner).

    ``make_interpreter(content)`` builds the engine (default: ``edgelite.Interpreter``
    with ``experimental_preserve_all_tensors=True``); anything with LiteRT's API works.
    """
    if method not in ("minmax", "percentile"):
        raise ValueError(f"calibration method must be 'minmax' or 'percentile', not {method!r}")
    if make_interpreter is None:
        from ..interpreter import Interpreter

        def make_interpreter(content):
            return Interpreter(model_content=content, experimental_preserve_all_tensors=True)

    sig = _signature_of(model, 0, signature_key) if signature_key is not None else None
    subgraph_index = sig.subgraph_index if sig is not None else 0
    content = model.to_bytes()
    interp = make_interpreter(content)
    wanted = _float_activation_indices(model, subgraph_index)
    ranges = {i: TensorRange() for i in wanted}
    rng = np.random.default_rng(0)
    total = None
    if hasattr(representative_data, "__len__") and not callable(representative_data):
        total = len(representative_data)
    bar = _Progress(total, "calibrating" + (f" {signature_key!r}" if sig else ""), progress)
    run = _signature_runner(interp, model, sig) if sig is not None else _main_runner(interp)
    cells = LstmCellRecorder(model, subgraph_index)
    n = 0
    try:
        for sample in iterate_samples(model, representative_data, subgraph_index, signature_key):
            cells.before(interp)
            run(sample)
            cells.after(interp)
            for i in wanted:
                try:
                    value = interp.get_tensor(i, subgraph_index) if subgraph_index else interp.get_tensor(i)
                except ValueError:
                    continue
                if value is not None and value.dtype == np.float32:
                    ranges[i].update(value, method == "percentile", rng)
            n += 1
            bar.step()
    finally:
        bar.close()
    if n == 0:
        raise ValueError("representative_data yielded no samples"
                         + (f" for signature {signature_key!r}" if sig else ""))
    found = {i: r.bounds(method, percentile) for i, r in ranges.items() if np.isfinite(r.min)}
    found.update(cells.ranges)  # LSTM cell states (variables: replayed, see lstm.py)
    return found


def _main_runner(interp) -> Callable[[list[np.ndarray]], None]:
    """Run subgraph 0 on one sample (re-allocating only when the input shapes change)."""
    details = interp.get_input_details()
    state = {"shapes": None}

    def run(sample: list[np.ndarray]) -> None:
        shapes = [a.shape for a in sample]
        if shapes != state["shapes"]:
            for d, a in zip(details, sample):
                if tuple(d["shape"]) != a.shape:
                    interp.resize_tensor_input(d["index"], list(a.shape))
            interp.allocate_tensors()
            state["shapes"] = shapes
        for d, a in zip(details, sample):
            interp.set_tensor(d["index"], a)
        interp.invoke()
    return run


def _signature_runner(interp, model: Model, sig: SignatureDef) -> Callable[[list[np.ndarray]], None]:
    """Run one signature on a sample given in its subgraph's input order."""
    runner = interp.get_signature_runner(sig.key)
    sg_inputs = model.subgraphs[sig.subgraph_index].inputs
    name_at = {sg_inputs.index(t): name for name, t in sig.inputs.items()}

    def run(sample: list[np.ndarray]) -> None:
        runner(**{name_at[k]: a for k, a in enumerate(sample)})
    return run
