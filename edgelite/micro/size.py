"""``edgelite micro size``: flash and RAM a model needs on a microcontroller, and what would shrink it.

Flash is the model file by section: weights (constant tensor data), metadata (metadata buffers)
and graph (the flatbuffer's tables: operators, tensors, quantization, strings). RAM is the tensor
arena (``edgelite micro plan``). Suggestions: int8 quantization when float weights or activations
remain, pruning when many weights are zero (compressible), and ops whose TFLM kernels are large
(or missing).
"""
from __future__ import annotations

import numpy as np

from ..ir import Model
from ..kernels.tflm.ops import tflm_has_op
from .planner import plan_arena

# ops whose TFLM kernels (code and tables) are large compared with the common conv/FC set
_LARGE_KERNELS = {
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "the integer LSTM kernel",
    "SVDF": "the SVDF kernel",
    "TFLite_Detection_PostProcess": "detection post-processing (NMS)",
    "RESIZE_BILINEAR": "bilinear resizing",
    "TRANSPOSE_CONV": "transpose convolution (and its int32/int64 scratch buffer)",
    "BATCH_MATMUL": "batch matmul",
    "SignalRfft": "the FFT", "SignalIrfft": "the inverse FFT", "Rfft": "the FFT",
    "LOG_SOFTMAX": "log-softmax tables", "L2_NORMALIZATION": "L2 normalization",
}


def flash_sections(model: Model, data: bytes | None = None) -> dict[str, int]:
    """Bytes of weights, metadata and graph (the rest) in the serialized model."""
    data = data if data is not None else model.to_bytes()
    seen: set[int] = set()
    weights = 0
    for sg in model.subgraphs:
        for t in sg.tensors:
            if t.data is not None and id(t.data) not in seen:
                seen.add(id(t.data))
                weights += int(np.asarray(t.data).nbytes)
    metadata = sum(len(bytes(v)) if not isinstance(v, np.ndarray) else int(v.nbytes)
                   for v in (model.metadata or {}).values())
    weights = min(weights, len(data))
    metadata = min(metadata, len(data) - weights)
    return {"weights": weights, "graph": len(data) - weights - metadata, "metadata": metadata, "total": len(data)}


def suggestions(model: Model) -> list[str]:
    out = []
    float_weights = sum(int(np.asarray(t.data).nbytes) for sg in model.subgraphs for t in sg.tensors
                        if t.data is not None and t.type_name == "FLOAT32")
    float_ops = sorted({op.name for sg in model.subgraphs for op in sg.operators
                        if op.name not in ("QUANTIZE", "DEQUANTIZE") and any(
                            sg.tensors[i].data is None and sg.tensors[i].type_name == "FLOAT32"
                            for i in (*op.inputs, *op.outputs) if i >= 0)})
    edge_float = any(op.name in ("QUANTIZE", "DEQUANTIZE") and any(
        sg.tensors[i].type_name == "FLOAT32" for i in (*op.inputs, *op.outputs) if i >= 0)
        for sg in model.subgraphs for op in sg.operators)
    if float_weights > 1024:
        out.append(f"{float_weights:,} bytes of float32 weights: full int8 quantization "
                   f"(`edgelite quantize`) stores them in about {float_weights // 4:,} bytes and uses "
                   f"TFLM's int8 kernels (CMSIS-NN on Arm)")
    elif float_ops:
        out.append(f"float32 activations in {', '.join(float_ops)}: a fully int8 model needs about 4x "
                   f"less arena and links no float kernels")
    elif edge_float:
        out.append("float32 model input/output: int8 input and output (quantize with int8 I/O) drop the "
                   "QUANTIZE/DEQUANTIZE ops and their float buffers")
    weights = [np.asarray(t.data) for sg in model.subgraphs for t in sg.tensors
               if t.data is not None and np.asarray(t.data).size >= 256]
    total = sum(w.size for w in weights)
    if total:
        zeros = sum(int(np.count_nonzero(w == 0)) for w in weights)
        if zeros / total < 0.5:
            out.append(f"weights are {100 * zeros / total:.0f}% zeros: magnitude pruning to >= 50% "
                       f"sparsity lets a compressed flash image shrink accordingly")
        else:
            out.append(f"weights are already {100 * zeros / total:.0f}% zeros: compress the flash "
                       f"image (TFLM's compression / DECODE) to save that space")
    names = {op.name for sg in model.subgraphs for op in sg.operators}
    for name in sorted(names):
        if not tflm_has_op(name):
            out.append(f"{name}: TFLite Micro has no kernel for it; replace it before deploying")
        elif name in _LARGE_KERNELS:
            out.append(f"{name} pulls in {_LARGE_KERNELS[name]}, one of TFLM's larger kernels; "
                       f"replace it if flash is tight")
    return out


def size_report(model: Model, ram: int | None = None, flash: int | None = None,
                data: bytes | None = None) -> dict:
    """Flash by section, RAM (arena plan), budget warnings and suggestions.

    ``data``: the model file's bytes when ``model`` was read from one (default: serialized).
    """
    plan = plan_arena(model)
    sections = flash_sections(model, data)
    report = {"flash": sections, "ram": {"arena_bytes": plan.total, "head_bytes": plan.head,
                                         "tail_bytes": plan.tail_bytes}, "warnings": [],
              "suggestions": suggestions(model)}
    if flash is not None and sections["total"] > flash:
        report["warnings"].append(f"flash: the model needs {sections['total']:,} bytes, over the "
                                  f"{flash:,}-byte budget by {sections['total'] - flash:,}")
    if ram is not None and plan.total > ram:
        report["warnings"].append(f"RAM: the tensor arena needs about {plan.total:,} bytes, over the "
                                  f"{ram:,}-byte budget by {plan.total - ram:,}")
    return report


def format_size(report: dict, name: str = "model") -> str:
    f, r = report["flash"], report["ram"]
    lines = [f"{name} on a microcontroller",
             f"  flash: {f['total']:,} bytes (weights {f['weights']:,}, graph {f['graph']:,}, "
             f"metadata {f['metadata']:,})",
             f"  RAM: tensor arena about {r['arena_bytes']:,} bytes (head {r['head_bytes']:,} + "
             f"tail {r['tail_bytes']:,}, edgelite's plan)"]
    lines += [f"  WARNING {w}" for w in report["warnings"]]
    if report["suggestions"]:
        lines.append("  to shrink it:")
        lines += [f"    - {s}" for s in report["suggestions"]]
    return "\n".join(lines) + "\n"
