"""Multi-node TFLite patterns lowered to one ONNX operator.

ONNX Runtime pays a cost per node that dominates on small tensors (a transformer's layer
norms are ~10 TFLite ops on [batch, tokens, channels] tensors). The op-by-op lowering keeps
each TFLite op; this module finds groups of ops that compute one ONNX operator and lowers
them as that operator, before the op-by-op pass runs:

* **layer normalization** — the float graph TensorFlow writes for Keras' LayerNormalization
  over the last axis (``scale=True``)::

      m  = MEAN(x, [-1], keep_dims)        d  = SQUARED_DIFFERENCE(x, m)
      v  = MEAN(d, [-1], keep_dims)        r  = RSQRT(ADD(v, eps))
      rg = MUL(r, gamma)                   y  = ADD(MUL(x, rg), MUL(NEG(m), rg))
                                              or  ADD(MUL(x, rg), SUB(beta, MUL(m, rg)))

  becomes ``LayerNormalization(x, gamma, beta or 0, axis=-1, epsilon=eps)`` (opset 17): one
  node instead of ten. Float rounding differs from the op-by-op form at the 1e-7 level.

A group is fused only when its intermediate tensors are read by nothing outside it and are
not subgraph outputs, so no other node needs them.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..ir import Operator, Subgraph
from ..schema import TensorType

# first node of a group -> (the group's other nodes, a lowering of the whole group)
Fusions = dict[int, tuple[set[int], Callable]]


def find_fusions(subgraph: Subgraph, values: dict[int, np.ndarray]) -> Fusions:
    """The fusable groups of ``subgraph`` (``values``: tensors edgelite computed, e.g. axes)."""
    producer: dict[int, int] = {}
    readers: dict[int, list[int]] = {}
    for n, op in enumerate(subgraph.operators):
        for t in op.outputs:
            if t >= 0:
                producer[t] = n
        for t in op.inputs:
            if t >= 0:
                readers.setdefault(t, []).append(n)
    graph = _Graph(subgraph, values, producer, readers)
    fusions: Fusions = {}
    taken: set[int] = set()
    for n, op in enumerate(subgraph.operators):
        if op.opcode == "MEAN" and n not in taken:
            found = _layer_norm(graph, n)
            if found is not None and not (found[0] & taken):
                nodes, lower = found
                taken |= nodes
                fusions[min(nodes)] = (nodes - {min(nodes)}, lower)
    return fusions


class _Graph:
    def __init__(self, sg: Subgraph, values, producer, readers):
        self.sg, self.values, self.producer, self.readers = sg, values, producer, readers
        self.outputs = set(sg.outputs)

    def op(self, n: int) -> Operator:
        return self.sg.operators[n]

    def const(self, t: int) -> np.ndarray | None:
        if t in self.values:
            return np.asarray(self.values[t])
        tensor = self.sg.tensors[t]
        if tensor.data is not None and not tensor.is_variable and tensor.sparsity is None:
            return np.asarray(tensor.data).reshape(tensor.shape)
        return None

    def only_reader(self, t: int, opcode: str | tuple[str, ...], count: int = 1) -> list[int] | None:
        """The ``count`` readers of ``t`` if they are exactly that many, all ``opcode``, and ``t``
        is not a subgraph output."""
        names = (opcode,) if isinstance(opcode, str) else opcode
        nodes = self.readers.get(t, [])
        if t in self.outputs or len(nodes) != count or any(self.op(m).opcode not in names for m in nodes):
            return None
        return nodes

    def is_float(self, t: int) -> bool:
        tensor = self.sg.tensors[t]
        return tensor.dtype == TensorType.FLOAT32 and (tensor.quantization is None or
                                                       tensor.quantization.scale.size == 0)


def _other(op: Operator, t: int) -> int:
    a, c = op.inputs[:2]
    return c if a == t else a


def _last_axis_mean(g: _Graph, n: int, x_rank: int) -> bool:
    op = g.op(n)
    axes = g.const(op.inputs[1])
    return (op.opt("keep_dims", False) and axes is not None and axes.size == 1
            and int(axes.reshape(-1)[0]) % x_rank == x_rank - 1)


def _layer_norm(g: _Graph, n_mean: int):
    """The layer-norm group starting at MEAN node ``n_mean`` (see the module docstring), or None."""
    mean = g.op(n_mean)
    x, m = mean.inputs[0], mean.outputs[0]
    shape = g.sg.tensors[x].shape
    if not g.is_float(x) or len(shape) < 2 or not _last_axis_mean(g, n_mean, len(shape)):
        return None
    channels = shape[-1]
    m_readers = g.readers.get(m, [])
    if m in g.outputs or len(m_readers) != 2:
        return None
    kinds = {g.op(k).opcode: k for k in m_readers}
    n_sd = kinds.get("SQUARED_DIFFERENCE")
    n_neg, n_mm = kinds.get("NEG"), kinds.get("MUL")  # -m (then MUL), or m * rg (beta form)
    if n_sd is None or (n_neg is None) == (n_mm is None) or set(g.op(n_sd).inputs[:2]) != {x, m} \
            or (n_mm is not None and g.op(n_mm).opt("fused_activation_function", 0)):
        return None
    sd = g.op(n_sd).outputs[0]
    (n_var,) = g.only_reader(sd, "MEAN") or (None,)
    if n_var is None or not _last_axis_mean(g, n_var, len(shape)):
        return None
    v = g.op(n_var).outputs[0]
    (n_add_eps,) = g.only_reader(v, "ADD") or (None,)
    if n_add_eps is None or g.op(n_add_eps).opt("fused_activation_function", 0):
        return None
    eps = g.const(_other(g.op(n_add_eps), v))
    if eps is None or eps.size != 1:
        return None
    ve = g.op(n_add_eps).outputs[0]
    (n_rsqrt,) = g.only_reader(ve, "RSQRT") or (None,)
    if n_rsqrt is None:
        return None
    r = g.op(n_rsqrt).outputs[0]
    (n_rg,) = g.only_reader(r, "MUL") or (None,)
    if n_rg is None or g.op(n_rg).opt("fused_activation_function", 0):
        return None
    gamma = g.const(_other(g.op(n_rg), r))
    if gamma is None or gamma.size != channels or (gamma.ndim and gamma.shape[-1] != channels):
        return None
    rg = g.op(n_rg).outputs[0]
    rg_readers = g.only_reader(rg, "MUL", 2)
    if rg_readers is None or any(g.op(k).opt("fused_activation_function", 0) for k in rg_readers):
        return None
    by_other = {_other(g.op(k), rg): k for k in rg_readers}
    n_xg = by_other.get(x)
    if n_xg is None:
        return None
    xg = g.op(n_xg).outputs[0]
    nodes = {n_mean, n_sd, n_var, n_add_eps, n_rsqrt, n_rg, n_xg}
    beta = None
    if n_neg is not None:  # y = x*rg + (-m)*rg
        nm = g.op(n_neg).outputs[0]
        n_mg = by_other.get(nm)
        if n_mg is None or g.only_reader(nm, "MUL") != [n_mg]:
            return None
        mg = g.op(n_mg).outputs[0]
        (n_out,) = g.only_reader(mg, "ADD") or (None,)
        if n_out is None or set(g.op(n_out).inputs[:2]) != {xg, mg}:
            return None
        nodes |= {n_neg, n_mg}
    else:  # y = x*rg + (beta - m*rg)
        if by_other.get(m) != n_mm:
            return None
        mg = g.op(n_mm).outputs[0]
        (n_sub,) = g.only_reader(mg, "SUB") or (None,)
        if n_sub is None or g.op(n_sub).inputs[1] != mg or g.op(n_sub).opt("fused_activation_function", 0):
            return None
        beta = g.const(g.op(n_sub).inputs[0])
        if beta is None or beta.size != channels or (beta.ndim and beta.shape[-1] != channels):
            return None
        bm = g.op(n_sub).outputs[0]
        (n_out,) = g.only_reader(bm, "ADD") or (None,)
        if n_out is None or set(g.op(n_out).inputs[:2]) != {xg, bm}:
            return None
        nodes |= {n_mm, n_sub}
    if g.only_reader(xg, "ADD") is None:
        return None
    out_op = g.op(n_out)
    if out_op.opt("fused_activation_function", 0) or not g.is_float(out_op.outputs[0]):
        return None
    y = out_op.outputs[0]
    nodes.add(n_out)
    gamma_v = gamma.reshape(channels).astype(np.float32)
    beta_v = np.zeros(channels, np.float32) if beta is None else beta.reshape(channels).astype(np.float32)
    epsilon = float(eps.reshape(-1)[0])

    def lower(b) -> None:
        b.set(y, b.one("LayerNormalization", [b.get(x), b.const(gamma_v), b.const(beta_v)],
                       axis=-1, epsilon=epsilon))
    return nodes, lower
