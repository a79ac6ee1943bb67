"""Quantization debugger: where does a quantized model lose accuracy?

Both models run on the same inputs with every tensor preserved. Each op of the
quantized model is aligned with its float counterpart (same output tensor name,
else the n-th op of the same code with the same output shape). For every aligned
op two error views are computed on the dequantized output:

* end to end: against the float model's tensor (errors accumulated upstream
  included): mean abs, max abs, RMSE / scale (in quantization steps), SNR dB;
* local: the float op is re-run (edgelite's float kernel) on the quantized
  model's own dequantized inputs, so only the error this op adds shows
  (``local_snr_db``). Ops are ranked by local SNR, worst first, and those below
  ``threshold_db`` are suggested for ``quantize(..., keep_float=[...])``.
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..ir import Model
from ..reader import load_model
from ..schema import TensorType
from .calibrate import iterate_samples

_IO_OPS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class OpError:
    op_index: int
    opcode: str
    tensor: str
    scale: float
    mean_abs: float
    max_abs: float
    rmse_over_scale: float
    snr_db: float
    local_snr_db: float | None


def _load(model) -> Model:
    if isinstance(model, Model):
        return model
    if isinstance(model, (bytes, bytearray)):
        return load_model(bytes(model))
    return load_model(str(model))


def _interpreter(content: bytes, engine: str):
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        return Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                           experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    from ..interpreter import Interpreter
    return Interpreter(model_content=content, experimental_preserve_all_tensors=True)


def _run_all(model: Model, samples: list[list[np.ndarray]], engine: str) -> list[dict[int, np.ndarray]]:
    """Every tensor of subgraph 0 (dequantized to float64 where quantized), per sample.

    ``engine="auto"``: edgelite, or LiteRT when edgelite lacks a kernel the model needs."""
    if engine == "auto":
        from ..runtime import UnsupportedOpsError
        try:
            return _run_all(model, samples, "edgelite")
        except UnsupportedOpsError:
            try:
                import ai_edge_litert  # noqa: F401
            except ImportError:
                raise
            return _run_all(model, samples, "litert")
    it = _interpreter(model.to_bytes(), engine)
    sg = model.main
    results = []
    for sample in samples:
        details = it.get_input_details()
        for d, x in zip(details, sample):
            if tuple(d["shape"]) != x.shape:
                it.resize_tensor_input(d["index"], list(x.shape))
        it.allocate_tensors()
        for d, x in zip(details, sample):
            if np.dtype(d["dtype"]) != x.dtype:  # integer model input: quantize the float sample
                s, z = d["quantization"]
                info = np.iinfo(d["dtype"])
                x = np.clip(np.round(x / s) + z, info.min, info.max).astype(d["dtype"])
            it.set_tensor(d["index"], x)
        it.invoke()
        values = {}
        for i, t in enumerate(sg.tensors):
            if t.data is not None:
                continue
            try:
                v = it.get_tensor(i)
            except ValueError:
                continue
            values[i] = _dequantize(v, t)
        results.append(values)
    return results


def _dequantize(v: np.ndarray, t) -> np.ndarray:
    q = t.quantization
    if v.dtype.kind in "iu" and q is not None and q.scale.size == 1 and t.dtype in (
            TensorType.INT8, TensorType.UINT8, TensorType.INT16):
        return (v.astype(np.float64) - float(q.zero_point[0])) * float(q.scale[0])
    return np.asarray(v, np.float64) if v.dtype.kind == "f" else v


def align_ops(float_model: Model, quant_model: Model) -> dict[int, int]:
    """quantized op index -> float op index (by output name, then by code/order/shape)."""
    fs, qs = float_model.main, quant_model.main
    by_name = {}
    for i, op in enumerate(fs.operators):
        for t in op.outputs:
            by_name.setdefault(fs.tensors[t].name, i)
    by_code: dict[str, list[int]] = {}
    for i, op in enumerate(fs.operators):
        by_code.setdefault(op.opcode, []).append(i)
    seen: dict[str, int] = {}
    out = {}
    for qi, op in enumerate(qs.operators):
        if op.opcode in _IO_OPS or not op.outputs:
            continue
        n = seen.get(op.opcode, 0)
        seen[op.opcode] = n + 1
        name = qs.tensors[op.outputs[0]].name
        fi = by_name.get(name)
        if fi is None:
            for suffix in ("_int8", "_int16", "_float"):
                if name.endswith(suffix):
                    fi = by_name.get(name[:-len(suffix)])
        if fi is not None and fs.operators[fi].opcode == op.opcode:
            out[qi] = fi
            continue
        cands = by_code.get(op.opcode, [])
        if n < len(cands):
            fi = cands[n]
            if fs.tensors[fs.operators[fi].outputs[0]].shape == qs.tensors[op.outputs[0]].shape:
                out[qi] = fi
    return out


def _snr_db(ref: np.ndarray, err: np.ndarray) -> float:
    return snr_db_from_powers(float(np.sum(ref ** 2)), float(np.sum(err ** 2)), ref.size)


def snr_db_from_powers(p_sig: float, p_err: float, count: int) -> float:
    """Signal-to-noise ratio in dB from the summed squares of a reference and of its error."""
    if p_err == 0:
        return float("inf")
    if p_sig == 0:  # an all-zero reference: only rounding-level noise counts as exact
        return float("inf") if p_err < 1e-12 * count else float("-inf")
    return 10.0 * np.log10(p_sig / p_err)


def _local_reference(fop, float_sg, q_inputs: list) -> np.ndarray | None:
    """Run the float op on the quantized model's (dequantized) inputs."""
    from ..kernels.testing import run_op
    inputs, constant = [], []
    for pos, t in enumerate(fop.inputs):
        if t < 0:
            inputs.append(None)
            continue
        ft = float_sg.tensors[t]
        if ft.data is not None:
            inputs.append(np.asarray(ft.data))
            constant.append(pos)
        else:
            v = q_inputs[pos]
            if v is None:
                return None
            inputs.append(np.asarray(v, ft.numpy_dtype))
    try:
        outs = run_op(fop.opcode, inputs, dict(fop.options or {}), num_outputs=len(fop.outputs),
                      constant_inputs=tuple(constant),
                      output_dtypes=[float_sg.tensors[t].numpy_dtype for t in fop.outputs])
    except Exception:  # an op the one-op runner cannot build: no local view
        return None
    return np.asarray(outs[0], np.float64)


def debug(float_model, quant_model, data: Any, engine: str = "auto",
          max_samples: int = 8) -> list[OpError]:
    """Per-op error of ``quant_model`` against ``float_model``, worst local SNR first."""
    fm, qm = _load(float_model), _load(quant_model)
    samples = []
    for s in iterate_samples(fm, data):
        samples.append(s)
        if len(samples) >= max_samples:
            break
    f_vals = _run_all(fm, samples, engine)
    q_vals = _run_all(qm, samples, engine)
    fs, qs = fm.main, qm.main
    rows = []
    for qi, fi in align_ops(fm, qm).items():
        qop, fop = qs.operators[qi], fs.operators[fi]
        qt, ft = qop.outputs[0], fop.outputs[0]
        qten = qs.tensors[qt]
        if fs.tensors[ft].dtype != TensorType.FLOAT32:
            continue
        if any(qt not in v for v in q_vals) or any(ft not in v for v in f_vals):
            continue
        ref = np.concatenate([v[ft].reshape(-1) for v in f_vals])
        got = np.concatenate([np.asarray(v[qt], np.float64).reshape(-1) for v in q_vals])
        if ref.shape != got.shape:
            continue
        err = got - ref
        scale = float(qten.quantization.scale[0]) if qten.quantization is not None and \
            qten.quantization.scale.size else 0.0
        rmse = float(np.sqrt(np.mean(err ** 2))) if err.size else 0.0
        local_refs, local_gots = [], []
        for v in q_vals:
            q_inputs = [v.get(t) if t >= 0 and qs.tensors[t].data is None else None for t in qop.inputs]
            lref = _local_reference(fop, fs, q_inputs)
            if lref is None or lref.size != v[qt].size:
                local_refs = []
                break
            local_refs.append(lref.reshape(-1))
            local_gots.append(np.asarray(v[qt], np.float64).reshape(-1))
        local = None
        if local_refs:
            lr, lg = np.concatenate(local_refs), np.concatenate(local_gots)
            local = _snr_db(lr, lg - lr)
        rows.append(OpError(qi, qop.opcode, qten.name, scale, float(np.mean(np.abs(err))),
                            float(np.max(np.abs(err))) if err.size else 0.0,
                            rmse / scale if scale else float("nan"), _snr_db(ref, err), local))
    rows.sort(key=lambda r: (r.local_snr_db if r.local_snr_db is not None else r.snr_db))
    return rows


def suggest_keep_float(rows: list[OpError], threshold_db: float = 15.0, limit: int = 5) -> list[str]:
    """Output tensor names of the worst ops (local SNR under ``threshold_db``)."""
    out = []
    for r in rows:
        snr = r.local_snr_db if r.local_snr_db is not None else r.snr_db
        if snr < threshold_db and len(out) < limit:
            out.append(r.tensor)
    return out


def format_table(rows: list[OpError], limit: int | None = None) -> str:
    head = f"{'op':>4} {'code':<20} {'local SNR':>9} {'SNR dB':>8} {'mean|e|':>10} {'max|e|':>10} {'RMSE/s':>8}  tensor"
    lines = [head, "-" * len(head)]
    for r in rows[:limit]:
        local = f"{r.local_snr_db:9.2f}" if r.local_snr_db is not None else f"{'-':>9}"
        lines.append(f"{r.op_index:>4} {r.opcode:<20} {local} {r.snr_db:8.2f} {r.mean_abs:10.4g} "
                     f"{r.max_abs:10.4g} {r.rmse_over_scale:8.3g}  {r.tensor}")
    return "\n".join(lines)


def to_json(rows: list[OpError], suggestions: list[str]) -> str:
    def clean(d):
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in d.items()}
    return json.dumps({"ops": [clean(asdict(r)) for r in rows], "keep_float": suggestions}, indent=1)


def to_html(rows: list[OpError], suggestions: list[str], title: str = "Quantization debug report") -> str:
    cells = []
    for r in rows:
        snr = r.local_snr_db if r.local_snr_db is not None else r.snr_db
        color = "#fdd" if snr < 15 else ("#ffd" if snr < 25 else "#fff")
        local = f"{r.local_snr_db:.2f}" if r.local_snr_db is not None else "-"
        cells.append(f"<tr style='background:{color}'><td>{r.op_index}</td><td>{html.escape(r.opcode)}</td>"
                     f"<td>{local}</td><td>{r.snr_db:.2f}</td><td>{r.mean_abs:.4g}</td><td>{r.max_abs:.4g}</td>"
                     f"<td>{r.rmse_over_scale:.3g}</td><td>{html.escape(r.tensor)}</td></tr>")
    sugg = ", ".join(html.escape(s) for s in suggestions) or "none"
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ccc}"
            "</style></head><body><h1>" + html.escape(title) + "</h1>"
            f"<p>Suggested keep_float: {sugg}</p><table><tr><th>op</th><th>code</th><th>local SNR dB</th>"
            "<th>SNR dB</th><th>mean |e|</th><th>max |e|</th><th>RMSE/scale</th><th>tensor</th></tr>"
            + "".join(cells) + "</table></body></html>")
