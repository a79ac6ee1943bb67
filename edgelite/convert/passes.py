"""Graph rewrites around lowering.

Before lowering (on the ONNX graph):
  * :func:`fold_batchnorm` — BatchNormalization after Conv/ConvTranspose/Gemm with constant
    parameters is folded into the weights and bias.

After lowering (on the TFLite subgraph):
  * :func:`fuse_activations` — RELU / RELU6 / RELU_N1_TO_1 following an op with a
    ``fused_activation_function`` slot is fused into it (TANH is not: LiteRT ignores a fused TANH);
  * :func:`cancel_transposes` — TRANSPOSE of TRANSPOSE merges (and disappears when the
    composition is the identity);
  * :func:`remove_identities` — RESHAPE to the same shape is bypassed;
  * :func:`dedup_constants` — equal constant tensors are shared;
  * dead ops and unused tensors are dropped (``Subgraph.remove_unused``).
"""
from __future__ import annotations

import hashlib

import numpy as np

from ..ir import Subgraph
from .onnx_import import Node, OnnxGraph

ACTIVATIONS = {"RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}
FUSABLE = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "DIV", "CONCATENATION",
           "AVERAGE_POOL_2D", "MAX_POOL_2D", "CONV_3D"}
# A fused TANH is accepted by LiteRT's CONV_2D/ADD/MUL/... but silently ignored (they only clamp for
# RELU variants; FULLY_CONNECTED rejects it), so TANH stays a separate op: fusing it would change results.
TANH_FUSABLE: set[str] = set()


# -- ONNX level -----------------------------------------------------------------
def fold_batchnorm(graph: OnnxGraph) -> int:
    """Fold BatchNormalization into a preceding Conv/ConvTranspose whose only reader it is."""
    readers: dict[str, int] = {}
    for n in graph.nodes:
        for i in n.inputs:
            readers[i] = readers.get(i, 0) + 1
    producers = {o: n for n in graph.nodes for o in n.outputs}
    folded, removed = 0, set()
    for bn in graph.nodes:
        if bn.op_type != "BatchNormalization" or bn.attr("training_mode", 0) or \
                any(o for o in bn.outputs[1:]):
            continue
        src = producers.get(bn.inputs[0])
        if src is None or src.op_type not in ("Conv", "ConvTranspose") or readers.get(bn.inputs[0], 0) != 1 \
                or bn.inputs[0] in graph.outputs:
            continue
        params = [graph.consts.get(n) for n in bn.inputs[1:5]]
        w = graph.consts.get(src.inputs[1])
        if any(p is None for p in params) or w is None:
            continue
        b_name = src.inputs[2] if len(src.inputs) > 2 and src.inputs[2] else None
        if b_name is not None and b_name not in graph.consts:
            continue
        gamma, beta, mean, var = (np.asarray(p, np.float64) for p in params)
        s = gamma / np.sqrt(var + float(bn.attr("epsilon", 1e-5)))
        w = np.asarray(w, np.float64)
        if src.op_type == "Conv":
            w2 = w * s.reshape((-1,) + (1,) * (w.ndim - 1))
        else:
            g = int(src.attr("group", 1))
            if g != 1:
                continue
            w2 = w * s.reshape((1, -1) + (1,) * (w.ndim - 2))
        b = np.asarray(graph.consts[b_name], np.float64) if b_name else np.zeros(len(s))
        b2 = (b - mean) * s + beta
        wn, bn_name = f"{src.name}/w_bnfold", f"{src.name}/b_bnfold"
        graph.consts[wn] = w2.astype(np.float32)
        graph.consts[bn_name] = b2.astype(np.float32)
        graph.shapes[wn], graph.shapes[bn_name] = w2.shape, b2.shape
        src.inputs = [src.inputs[0], wn, bn_name]
        old = src.outputs[0]
        src.outputs = [bn.outputs[0]]
        graph.shapes.setdefault(bn.outputs[0], graph.shapes.get(old))
        removed.add(id(bn))
        folded += 1
    graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return folded


def _scalar(graph: OnnxGraph, name: str):
    v = graph.consts.get(name)
    if v is None or np.asarray(v).size != 1:
        return None
    return float(np.asarray(v).reshape(-1)[0])


def _other(node: Node, name: str) -> str | None:
    if len(node.inputs) != 2 or name not in node.inputs:
        return None
    return node.inputs[1] if node.inputs[0] == name else node.inputs[0]


def fuse_gelu(graph: OnnxGraph) -> int:
    """x * 0.5 * (1 + erf(x / sqrt(2))) (any association of the two Muls) -> one Gelu node."""
    readers: dict[str, list[Node]] = {}
    for n in graph.nodes:
        for i in n.inputs:
            readers.setdefault(i, []).append(n)
    producers = {o: n for n in graph.nodes for o in n.outputs}
    only = lambda name: readers.get(name, [None])[0] if len(readers.get(name, [])) == 1 \
        and name not in graph.outputs else None
    removed, fused = set(), 0
    for erf in graph.nodes:
        if erf.op_type != "Erf" or id(erf) in removed:
            continue
        scale = producers.get(erf.inputs[0])
        if scale is None or scale.op_type not in ("Div", "Mul"):
            continue
        c = _scalar(graph, scale.inputs[1])
        if c is None or not np.isclose(c, np.sqrt(2) if scale.op_type == "Div" else 1 / np.sqrt(2), rtol=1e-4):
            continue
        x = scale.inputs[0]
        add = only(erf.outputs[0])
        if add is None or add.op_type != "Add" or _scalar(graph, _other(add, erf.outputs[0]) or "") != 1.0:
            continue
        m1 = only(add.outputs[0])
        if m1 is None or m1.op_type != "Mul":
            continue
        o1 = _other(m1, add.outputs[0])
        chain = [scale, erf, add, m1]
        if o1 == x:  # (x * (1 + erf)) * 0.5
            m2 = only(m1.outputs[0])
            if m2 is None or m2.op_type != "Mul" or _scalar(graph, _other(m2, m1.outputs[0]) or "") != 0.5:
                continue
            chain.append(m2)
            out = m2.outputs[0]
        else:  # (x * 0.5) * (1 + erf)
            half = producers.get(o1)
            if half is None or half.op_type != "Mul" or _other(half, x) is None or \
                    _scalar(graph, _other(half, x)) != 0.5 or len(readers.get(o1, [])) != 1:
                continue
            chain.append(half)
            out = m1.outputs[0]
        if len(readers.get(scale.outputs[0], [])) != 1:
            continue
        gelu = Node(name=f"{erf.name}/gelu", op_type="Gelu", inputs=[x], outputs=[out], attrs={})
        removed.update(id(n) for n in chain)
        idx = graph.nodes.index(chain[-1] if chain[-1] is not None else m1)
        graph.nodes.insert(idx, gelu)
        fused += 1
    graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    return fused


# -- TFLite level ---------------------------------------------------------------
def _single_reader(sg: Subgraph) -> dict[int, list[int]]:
    return sg.consumers()


def fuse_activations(sg: Subgraph) -> int:
    consumers = sg.consumers()
    producers = sg.producers()
    outputs = set(sg.outputs)
    fused, dead = 0, set()
    for i, act in enumerate(sg.operators):
        code = ACTIVATIONS.get(act.opcode)
        if code is None:
            continue
        src_t = act.inputs[0]
        p = producers.get(src_t)
        if p is None or p in dead:
            continue
        prod = sg.operators[p]
        if prod.opcode not in FUSABLE or (act.opcode == "TANH" and prod.opcode not in TANH_FUSABLE):
            continue
        if len(prod.outputs) != 1 or src_t in outputs or len(consumers.get(src_t, [])) != 1:
            continue
        if sg.tensors[src_t].numpy_dtype != np.float32:
            continue
        if (prod.options or {}).get("fused_activation_function", 0) != 0:
            continue
        prod.options["fused_activation_function"] = code
        prod.outputs = [act.outputs[0]]
        dead.add(i)
        fused += 1
    sg.operators = [op for i, op in enumerate(sg.operators) if i not in dead]
    return fused


def cancel_transposes(sg: Subgraph) -> int:
    producers = sg.producers()
    n = 0
    for op in sg.operators:
        if op.opcode != "TRANSPOSE":
            continue
        p = producers.get(op.inputs[0])
        if p is None or sg.operators[p].opcode != "TRANSPOSE":
            continue
        inner = sg.operators[p]
        p1, p2 = sg.tensors[inner.inputs[1]].data, sg.tensors[op.inputs[1]].data
        if p1 is None or p2 is None:
            continue
        combined = np.asarray(p1)[np.asarray(p2)]
        if np.array_equal(combined, np.arange(combined.size)) and op.outputs[0] not in sg.outputs:
            sg.replace_uses(op.outputs[0], inner.inputs[0])
        else:
            op.inputs = [inner.inputs[0], sg.add_constant(f"{sg.tensors[op.inputs[1]].name}/merged",
                                                          combined.astype(np.int32))]
        n += 1
    return n


def remove_identities(sg: Subgraph) -> int:
    n = 0
    graph_io = set(sg.outputs) | set(sg.inputs)
    for op in sg.operators:
        if op.opcode != "RESHAPE":
            continue
        src, dst = op.inputs[0], op.outputs[0]
        if dst in graph_io or src in graph_io and dst in sg.outputs:
            continue
        if sg.tensors[src].shape == sg.tensors[dst].shape and sg.tensors[src].data is None:
            sg.replace_uses(dst, src)
            n += 1
    return n


def dedup_constants(sg: Subgraph) -> int:
    seen: dict[tuple, int] = {}
    n = 0
    for i, t in enumerate(sg.tensors):
        if t.data is None or t.is_variable or t.quantization is not None:
            continue
        arr = np.ascontiguousarray(t.data)
        key = (t.dtype, t.shape, hashlib.blake2b(arr.tobytes(), digest_size=16).digest())
        if key in seen:
            sg.replace_uses(i, seen[key])
            n += 1
        else:
            seen[key] = i
    return n


def cleanup(sg: Subgraph) -> dict[str, int]:
    stats = {"fused_activations": fuse_activations(sg), "merged_transposes": cancel_transposes(sg),
             "removed_identities": remove_identities(sg), "deduplicated_constants": dedup_constants(sg)}
    sg.remove_unused()
    return stats
