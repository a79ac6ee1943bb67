"""Per-node values the viewer paints over the graph as a colour scale with a legend.

- :func:`profile_overlay`: average milliseconds per node, from edgelite's profiler
  (``Interpreter.set_profiler``, as ``edgelite bench --profile`` uses it) on random inputs;
  the slowest node is the hottest.
- :func:`quant_debug_overlay`: per-op SNR in dB from the JSON of ``edgelite debug-quant``
  (``optimize.debugger.to_json``); the lowest SNR is the hottest.
- :func:`delegated_nodes`: which original nodes a delegate runs, from
  ``Interpreter._delegation`` (edgelite/delegates), for the delegate badges.
"""
from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field

from ..errors import ModelError


@dataclass
class Overlay:
    """Values per node: ``values[(subgraph, node)]`` (a plain node index means subgraph 0).

    ``hot`` says which end of the scale is bad: ``"high"`` (time) or ``"low"`` (SNR)."""

    name: str
    values: dict = field(default_factory=dict)
    unit: str = ""
    hot: str = "high"

    def __post_init__(self):
        if self.hot not in ("high", "low"):
            raise ValueError(f"Overlay {self.name!r}: hot must be 'high' or 'low', not {self.hot!r}")
        norm = {}
        for key, value in self.values.items():
            sg, node = (0, key) if isinstance(key, int) else key
            if value is None or not math.isfinite(float(value)):
                continue
            norm[(int(sg), int(node))] = float(value)
        self.values = norm

    def to_json(self) -> dict:
        return {"name": self.name, "unit": self.unit, "hot": self.hot,
                "values": {f"{sg}:{node}": v for (sg, node), v in self.values.items()}}


def profile_overlay(model, runs: int = 5, warmup: int = 1, seed: int = 0) -> Overlay:
    """Average time per node of subgraph 0 (ms) over ``runs`` invokes on random inputs."""
    from ..interpreter import Interpreter
    from ..tools.cmd_run import prepare_inputs
    if runs < 1:
        raise ValueError("profile_overlay: runs must be >= 1")
    if isinstance(model, (bytes, bytearray)):
        it = Interpreter(model_content=bytes(model))
    elif isinstance(model, (str, os.PathLike)):
        it = Interpreter(model_path=str(model))
    else:
        it = Interpreter(model_content=model.to_bytes())
    feeds, details = prepare_inputs(it, None, {}, seed)
    for name, value in feeds.items():
        it.resize_tensor_input(details[name]["index"], value.shape)
    it.allocate_tensors()
    for name, value in feeds.items():
        it.set_tensor(details[name]["index"], value)
    for _ in range(warmup):
        it.invoke()
    total: dict[int, float] = defaultdict(float)
    it.set_profiler(lambda r: total.__setitem__(r.node_index, total[r.node_index] + r.seconds)
                    if r.subgraph_index == 0 else None)
    try:
        for _ in range(runs):
            it.invoke()
    finally:
        it.set_profiler(None)
    return Overlay("time", {(0, n): 1e3 * s / runs for n, s in total.items()}, unit="ms", hot="high")


def quant_debug_overlay(report: str | os.PathLike | dict) -> Overlay:
    """SNR (dB) per op of the quantized model from ``edgelite debug-quant --json`` output.

    The local SNR (the error this op adds) is used where the report has it, else the SNR."""
    if not isinstance(report, dict):
        with open(report) as f:
            try:
                report = json.load(f)
            except json.JSONDecodeError as e:
                raise ModelError(f"{report}: not a debug-quant JSON report ({e})") from None
    ops = report.get("ops") if isinstance(report, dict) else None
    if not isinstance(ops, list):
        raise ModelError("debug-quant report: expected an object with an 'ops' list "
                         "(the output of `edgelite debug-quant --json`)")
    values = {}
    for row in ops:
        try:
            index = int(row["op_index"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"debug-quant report: op entry without an integer op_index: {row!r}") from None
        snr = row.get("local_snr_db")
        if snr is None:
            snr = row.get("snr_db")
        if snr is not None:
            values[(0, index)] = snr
    return Overlay("SNR", values, unit="dB", hot="low")


def delegated_nodes(delegation) -> dict[tuple[int, int], str]:
    """(subgraph, original node) -> delegate name, from an ``edgelite.delegates`` Delegation
    (``Interpreter._delegation``) or its ``summary()`` list."""
    if delegation is None:
        return {}
    rows = delegation.summary() if hasattr(delegation, "summary") else delegation
    return {(int(r["subgraph"]), int(n)): str(r["delegate"]) for r in rows for n in r["nodes"]}
