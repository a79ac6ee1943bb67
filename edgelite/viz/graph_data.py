"""The model, as the data the viewer page draws: a JSON-ready dict.

One entry per subgraph with its tensors (name, shape, shape signature, dtype,
quantization, sparsity, constant or not, and for constants a weights summary
with a small histogram) and its operators in file order, so that op ``k`` of
subgraph 0 is node ``k`` of ``Interpreter._get_ops_details()``. Each op carries
its op family (the node colour), its options made JSON-safe, the subgraphs it
calls (IF/WHILE bodies...), its name scope (from its first output's name, the
key of the collapsible groups) and, where delegates ran it, the delegate.
The model's signatures and metadata (raw entries, and the TFLite Metadata JSON
and associated files when ``edgelite.metadata`` is installed) come along.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ir import _SUBGRAPH_OPTION_FIELDS, Model, Quantization, Sparsity, Tensor
from ..schema import ENUMS

# op family -> op codes; anything else is "other" (CUSTOM ops are "custom").
OP_FAMILIES: dict[str, tuple[str, ...]] = {
    "conv": ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "CONV_3D", "CONV_3D_TRANSPOSE"),
    "matmul": ("FULLY_CONNECTED", "BATCH_MATMUL", "EMBEDDING_LOOKUP", "STABLEHLO_DOT_GENERAL"),
    "activation": ("RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH", "SOFTMAX",
                   "LOG_SOFTMAX", "GELU", "PRELU", "LEAKY_RELU", "ELU"),
    "elementwise": ("ADD", "SUB", "MUL", "DIV", "POW", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "ABS", "NEG",
                    "EXP", "LOG", "SQRT", "RSQRT", "SQUARE", "SIN", "COS", "FLOOR", "CEIL", "ROUND", "SIGN",
                    "FLOOR_DIV", "FLOOR_MOD", "ADD_N", "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER",
                    "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "LOGICAL_NOT", "SELECT", "SELECT_V2",
                    "CAST", "ATAN2", "BITWISE_XOR", "RIGHT_SHIFT"),
    "norm_pool": ("AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D", "MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN",
                  "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL", "L2_NORMALIZATION",
                  "LOCAL_RESPONSE_NORMALIZATION", "ARG_MAX", "ARG_MIN", "CUMSUM", "TOPK_V2"),
    "shape": ("RESHAPE", "TRANSPOSE", "CONCATENATION", "SLICE", "STRIDED_SLICE", "PAD", "PADV2", "MIRROR_PAD",
              "GATHER", "GATHER_ND", "SCATTER_ND", "SQUEEZE", "EXPAND_DIMS", "SPLIT", "SPLIT_V", "PACK",
              "UNPACK", "SHAPE", "TILE", "BROADCAST_TO", "BROADCAST_ARGS", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE",
              "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "FILL",
              "ZEROS_LIKE", "ONES_LIKE", "RANGE", "REVERSE_V2", "WHERE", "RANK", "ONE_HOT", "DENSIFY"),
    "quant": ("QUANTIZE", "DEQUANTIZE", "FAKE_QUANT"),
    "control": ("IF", "WHILE", "CALL_ONCE", "CALL", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE"),
    "recurrent": ("LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "BIDIRECTIONAL_SEQUENCE_LSTM", "RNN",
                  "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_RNN", "SVDF"),
}
_FAMILY_OF = {code: family for family, codes in OP_FAMILIES.items() for code in codes}

# option fields holding a schema enum, shown by name ("SAME (0)")
_ENUM_OPTIONS = {"padding": "Padding", "fused_activation_function": "ActivationFunctionType",
                 "weights_format": "FullyConnectedOptionsWeightsFormat", "kernel_type": "LSTMKernelType",
                 "combiner": "CombinerType", "quantized_bias_type": "TensorType", "in_data_type": "TensorType",
                 "out_data_type": "TensorType", "output_type": "TensorType", "out_type": "TensorType",
                 "idx_out_type": "TensorType"}
_ENUM_NAMES = {enum: {v: k for k, v in ENUMS[enum].items()} for enum in set(_ENUM_OPTIONS.values()) | {"MirrorPadMode"}}
MAX_LISTED = 64  # per-axis scales/zero points and long option arrays are cut to this many entries
HIST_BINS = 20
_STATS_SAMPLE = 1 << 20  # weights summaries look at most this many values (a strided sample)


def op_family(opcode: str) -> str:
    if opcode == "CUSTOM":
        return "custom"
    return _FAMILY_OF.get(opcode, "other")


def name_scope(name: str) -> list[str]:
    """'model/block1/conv/Conv2D;model/block1/bn/FusedBatchNorm' -> ['model', 'block1', 'conv']."""
    first = name.split(";")[0]
    parts = [p for p in first.split("/") if p]
    return parts[:-1]


def _json_safe(value: Any, limit: int = MAX_LISTED) -> Any:
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.floating):
        return _json_safe(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf" and value.size <= limit:
            return [_json_safe(v) for v in value.reshape(-1).tolist()]
        return f"<array {value.dtype} {list(value.shape)}>"
    if isinstance(value, dict):
        return {str(k): _json_safe(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_json_safe(v, limit) for v in list(value)[:limit]]
        if len(value) > limit:
            items.append(f"... {len(value) - limit} more")
        return items
    if hasattr(value, "name") and hasattr(value, "value"):  # enums
        return str(value.name)
    return str(value)


def _quantization(q: Quantization | None) -> dict | None:
    if q is None or q.is_empty():
        return None
    out: dict[str, Any] = {
        "scale": _json_safe(q.scale.astype(float)[:MAX_LISTED]),
        "zero_point": _json_safe(q.zero_point[:MAX_LISTED]),
        "count": int(q.scale.size),
        "quantized_dimension": int(q.quantized_dimension),
    }
    if q.min is not None:
        out["min"] = _json_safe(np.asarray(q.min, float).reshape(-1)[:MAX_LISTED])
    if q.max is not None:
        out["max"] = _json_safe(np.asarray(q.max, float).reshape(-1)[:MAX_LISTED])
    if q.details is not None:
        out["details"] = _json_safe(q.details)
    return out


def _sparsity(sp: Sparsity | None) -> dict | None:
    if sp is None:
        return None
    dims = []
    for dm in sp.dim_metadata:
        if dm.format == 0:
            dims.append({"format": "DENSE", "dense_size": int(dm.dense_size)})
        else:
            seg = np.asarray(dm.array_segments if dm.array_segments is not None else [])
            idx = np.asarray(dm.array_indices if dm.array_indices is not None else [])
            dims.append({"format": "SPARSE_CSR", "segments": int(seg.size), "indices": int(idx.size)})
    return {"traversal_order": list(map(int, sp.traversal_order)), "block_map": list(map(int, sp.block_map)),
            "dim_metadata": dims}


def weights_summary(t: Tensor) -> dict | None:
    """Statistics and a histogram of a constant's stored values (and its real range if quantized)."""
    data = t.data
    if data is None or data.size == 0 or data.dtype.kind not in "biuf":
        return None
    flat = data.reshape(-1)
    sampled = flat.size > _STATS_SAMPLE
    if sampled:
        flat = flat[:: -(-flat.size // _STATS_SAMPLE)]
    values = flat.astype(np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"count": int(data.size), "finite": 0}
    lo, hi = float(finite.min()), float(finite.max())
    try:
        counts, edges = np.histogram(finite, bins=HIST_BINS, range=(lo, hi) if hi > lo else (lo - 0.5, lo + 0.5))
    except ValueError:  # a spread too narrow for float64 bin edges (e.g. 1e20 and its neighbour)
        counts, edges = np.zeros(HIST_BINS, np.int64), np.array([lo, hi])
        counts[HIST_BINS // 2] = finite.size
    out = {"count": int(data.size), "min": lo, "max": hi, "mean": float(finite.mean()),
           "std": float(finite.std()), "zeros": float(np.mean(finite == 0)),
           "hist": counts.astype(int).tolist(), "edges": [float(edges[0]), float(edges[-1])],
           "sampled": bool(sampled)}
    q = t.quantization
    if q is not None and q.scale.size == 1 and data.dtype.kind in "iu":
        s, z = float(q.scale[0]), float(q.zero_point[0]) if q.zero_point.size else 0.0
        out["real_min"], out["real_max"] = (lo - z) * s, (hi - z) * s
    return out


def _tensor(t: Tensor, summaries: dict[int, dict | None]) -> dict:
    out: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "dtype": t.type_name.lower()}
    if t.shape_signature is not None and tuple(t.shape_signature) != tuple(t.shape):
        out["shape_signature"] = list(t.shape_signature)
    q = _quantization(t.quantization)
    if q is not None:
        out["q"] = q
    sp = _sparsity(t.sparsity)
    if sp is not None:
        out["sparsity"] = sp
    if t.is_constant:
        out["const"] = True
        key = id(t.data)
        if key not in summaries:
            summaries[key] = weights_summary(t)
        if summaries[key] is not None:
            out["w"] = summaries[key]
    if t.is_variable:
        out["variable"] = True
    return out


def _calls(op, names: list[str]) -> list[dict]:
    calls = []
    for key in _SUBGRAPH_OPTION_FIELDS:
        idx = op.opt(key)
        if isinstance(idx, (int, np.integer)) and op.options_type and 0 <= int(idx) < len(names):
            calls.append({"role": key.replace("_subgraph_index", ""), "subgraph": int(idx)})
    return calls


def _options(op) -> dict:
    out = dict(_json_safe(op.options or {}))
    for key, value in out.items():
        enum = "MirrorPadMode" if key == "mode" and op.options_type == "MirrorPadOptions" else _ENUM_OPTIONS.get(key)
        if enum and isinstance(value, int) and not isinstance(value, bool) and value in _ENUM_NAMES[enum]:
            out[key] = f"{_ENUM_NAMES[enum][value]} ({value})"
    if op.options2:
        out.update({f"{k}": v for k, v in _json_safe(op.options2).items()})
    if op.custom_options is not None:
        out["custom_options"] = f"<{len(bytes(np.asarray(op.custom_options, np.uint8)))} bytes>"
    return out


def model_data(model: Model, delegated: dict[tuple[int, int], str] | None = None) -> dict:
    """The viewer's data for ``model``; ``delegated`` maps (subgraph, node) to a delegate's name."""
    delegated = delegated or {}
    names = [sg.name or f"subgraph {i}" for i, sg in enumerate(model.subgraphs)]
    callers: dict[int, list[dict]] = {}
    subgraphs = []
    summaries: dict[int, dict | None] = {}
    for si, sg in enumerate(model.subgraphs):
        ops = []
        for oi, op in enumerate(sg.operators):
            first_out = next((t for t in op.outputs if t >= 0), None)
            entry: dict[str, Any] = {
                "type": op.name, "family": op_family(op.opcode), "inputs": list(op.inputs),
                "outputs": list(op.outputs), "version": int(op.version),
                "scope": name_scope(sg.tensors[first_out].name) if first_out is not None else [],
            }
            opts = _options(op)
            if opts:
                entry["options"] = opts
            if op.intermediates:
                entry["intermediates"] = list(op.intermediates)
            calls = _calls(op, names)
            if calls:
                entry["calls"] = calls
                for c in calls:
                    callers.setdefault(c["subgraph"], []).append({"subgraph": si, "node": oi, "role": c["role"]})
            if (si, oi) in delegated:
                entry["delegate"] = delegated[(si, oi)]
            ops.append(entry)
        subgraphs.append({"index": si, "name": names[si], "inputs": list(sg.inputs), "outputs": list(sg.outputs),
                          "tensors": [_tensor(t, summaries) for t in sg.tensors], "ops": ops})
    for si, who in callers.items():
        subgraphs[si]["called_by"] = who
    signatures = [{"key": s.key, "subgraph": int(s.subgraph_index), "inputs": dict(s.inputs),
                   "outputs": dict(s.outputs)} for s in model.signature_defs]
    return {"description": model.description, "version": int(model.version), "subgraphs": subgraphs,
            "signatures": signatures}


def metadata_data(model: Model, model_bytes: bytes | None) -> dict:
    """The model's metadata entries; the TFLite Metadata JSON and associated files when
    ``edgelite.metadata`` is installed and the model has them."""
    entries = []
    for name, value in model.metadata.items():
        raw = bytes(np.asarray(value, np.uint8)) if not isinstance(value, (bytes, bytearray)) else bytes(value)
        entry: dict[str, Any] = {"name": name, "bytes": len(raw)}
        if len(raw) <= 256:
            text = raw.rstrip(b"\0")
            if text and all(32 <= c < 127 for c in text):
                entry["text"] = text.decode("ascii")
        entries.append(entry)
    out: dict[str, Any] = {"entries": entries}
    if "TFLITE_METADATA" not in model.metadata:
        return out
    try:
        from ..metadata import MetadataDisplayer  # noqa: PLC0415 (optional package)
    except ImportError:
        out["note"] = "edgelite.metadata is not installed: the TFLite Metadata is shown as raw bytes"
        return out
    try:
        buffer = model_bytes if model_bytes is not None else model.to_bytes()
        displayer = MetadataDisplayer.with_model_buffer(buffer)
        out["json"] = displayer.get_metadata_json()
        out["associated_files"] = list(displayer.get_packed_associated_file_list())
    except Exception as e:  # a malformed metadata block must not stop the graph from rendering
        out["note"] = f"metadata could not be read: {type(e).__name__}: {e}"
    return out
