"""The buffers TFLite Micro plans in the arena head, with TFLM's lifetimes.

Mirrors ``AllocationInfoBuilder`` (tflite-micro ``micro_allocation_info.cc``): every tensor of
every subgraph is one entry (global index = tensor count of earlier subgraphs + index); it needs
planning when it has no constant data, is not a variable and has a non-zero size. Lifetimes are
"allocation scopes": subgraph 0's inputs are created at scope 0, each operator opens a new scope
(IF/WHILE/CALL_ONCE bodies are marked recursively inside their caller's scope), and a subgraph's
outputs live until its last scope. Sizes are rounded up to TFLM's 16-byte buffer alignment.

Kernels also request scratch buffers in Prepare; :func:`scratch_requests` knows the requests of
TFLM's reference kernels for the ops where they matter (an estimate elsewhere).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Model, Tensor
from ..schema import TENSOR_BITS

ALIGNMENT = 16  # MicroArenaBufferAlignment()


def align_up(n: int, a: int = ALIGNMENT) -> int:
    return (int(n) + a - 1) // a * a


def tensor_bytes(t: Tensor) -> int:
    """TfLiteEvalTensorByteLength: elements times the element size (0 for unknown sizes)."""
    n = 1
    for d in t.shape:
        if d < 0:
            return 0
        n *= d
    return (n * TENSOR_BITS.get(t.dtype, 0) + 7) // 8


@dataclass
class Buffer:
    """One planned buffer: a tensor (``subgraph``, ``tensor``) or a kernel's scratch request."""
    key: int              # global tensor index, or -1 - k for the k-th scratch request
    size: int             # aligned bytes
    first: int            # first allocation scope using it
    last: int             # last allocation scope using it
    subgraph: int = 0
    tensor: int = -1      # index inside its subgraph (-1 for scratch)
    label: str = ""


def _called_subgraphs(op) -> list[int]:
    if op.opcode == "IF":
        return [int(op.opt("then_subgraph_index")), int(op.opt("else_subgraph_index"))]
    if op.opcode == "WHILE":
        return [int(op.opt("cond_subgraph_index")), int(op.opt("body_subgraph_index"))]
    if op.opcode == "CALL_ONCE":
        return [int(op.opt("init_subgraph_index"))]
    return []


def subgraph_offsets(model: Model) -> list[int]:
    """Global index of each subgraph's first tensor (the offline plan's layout)."""
    offsets, total = [], 0
    for sg in model.subgraphs:
        offsets.append(total)
        total += len(sg.tensors)
    return offsets


def needs_planning(t: Tensor) -> bool:
    return t.data is None and not t.is_variable and tensor_bytes(t) != 0


def planned_buffers(model: Model, with_scratch: bool = True) -> list[Buffer]:
    """Tensor buffers (and scratch requests) with TFLM's lifetimes, in TFLM's AddBuffer order."""
    base = subgraph_offsets(model)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    scratch: list[Buffer] = []
    scope = 0

    def created(key: int, s: int) -> None:
        first.setdefault(key, s)

    def used(key: int, s: int) -> None:
        last[key] = s

    def mark(si: int) -> None:
        nonlocal scope
        sg = model.subgraphs[si]
        for i in sg.inputs:
            created(base[si] + i, scope)
            used(base[si] + i, scope)
        for ni, op in enumerate(sg.operators):
            scope += 1
            for o in op.outputs:
                if o >= 0:
                    created(base[si] + o, scope)
            start = scope
            for callee in _called_subgraphs(op):
                scope += 1
                mark(callee)
            for i in op.inputs:
                if i >= 0:
                    used(base[si] + i, scope)
            for o in op.outputs:
                if o >= 0:
                    used(base[si] + o, scope)
            if with_scratch:
                for nbytes in scratch_requests(model, si, op):
                    scratch.append(Buffer(-1 - len(scratch), align_up(nbytes), start, scope, si, -1,
                                          f"scratch of {op.name} (subgraph {si}, node {ni})"))
        for o in sg.outputs:
            created(base[si] + o, scope)
            used(base[si] + o, scope)

    if model.subgraphs:
        mark(0)
    out = []
    for si, sg in enumerate(model.subgraphs):
        for ti, t in enumerate(sg.tensors):
            key = base[si] + ti
            if needs_planning(t) and key in first:
                out.append(Buffer(key, align_up(tensor_bytes(t)), first[key], last[key], si, ti, t.name))
    return out + scratch


#: ops whose TFLM kernels request scratch buffers that :func:`scratch_requests` does not model;
#: a model with one of them keeps TFLM's own plan (the planner cannot place around them)
UNMODELLED_SCRATCH = frozenset({"BATCH_MATMUL", "TFLite_Detection_PostProcess", "ethos-u",
                                "SignalIrfft", "Irfft"})


def scratch_requests(model: Model, si: int, op) -> list[int]:
    """Bytes of the scratch buffers TFLM's reference kernel for ``op`` requests in Prepare."""
    sg = model.subgraphs[si]

    def t(i):
        return sg.tensors[i] if i >= 0 else None

    name = op.name
    if name in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"):
        x, axis, out = t(op.inputs[0]), t(op.inputs[1]), t(op.outputs[0])
        req = [4 * len(x.shape), 4 * max(1, int(np.prod(axis.shape, dtype=np.int64)))]
        if name in ("MEAN", "SUM") and x.type_name in ("INT8", "INT16"):
            req.append(4 * max(1, int(np.prod(out.shape, dtype=np.int64))))
        return req
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM" and len(op.inputs) > 19 and op.inputs[19] >= 0:
        x, cell, out = t(op.inputs[0]), t(op.inputs[19]), t(op.outputs[0])
        batch = x.shape[1] if op.opt("time_major", False) else x.shape[0]
        elem = 2 if cell.type_name == "INT16" else 4
        return [batch * out.shape[-1] * elem] * 4  # four gate buffers
    if name == "SVDF":
        x, wf = t(op.inputs[0]), t(op.inputs[1])
        filters = wf.shape[0]
        units = filters // max(1, int(op.opt("rank", 1) or 1))
        if x.type_name == "FLOAT32":
            return [x.shape[0] * filters * 4]
        return [x.shape[0] * filters * 4, x.shape[0] * units * 4]
    if name in ("SignalRfft", "Rfft"):
        x, out = t(op.inputs[0]), t(op.outputs[0])
        fft_length = (out.shape[-1] // 2 - 1) * 2  # out: fft_length / 2 + 1 complex values
        return [fft_length * max(1, TENSOR_BITS.get(x.dtype, 8) // 8)]
    if name == "ADD_N":
        return [8 * len(op.inputs)]  # one pointer per input (64-bit host)
    if name == "MIRROR_PAD":
        return [4 * len(t(op.inputs[0]).shape)] * 2
    if name == "TRANSPOSE_CONV":
        out = t(op.outputs[0])
        elem = {"INT8": 4, "INT16": 8}.get(out.type_name)
        if elem:
            return [elem * int(np.prod(out.shape, dtype=np.int64))]
    return []
