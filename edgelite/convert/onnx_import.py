"""ONNX model -> :class:`OnnxGraph`, a typed, shape-annotated, constant-folded graph ready to lower.

Steps:

1. load (path, bytes or ``ModelProto``), check the opset of every domain;
2. run ONNX shape inference (with data propagation) to get static shapes and dtypes;
3. fold constants: every node whose inputs are all known values (initializers,
   ``Constant`` nodes, folded results, ``Shape``/``Size`` of statically shaped
   tensors) is evaluated once with ``onnx.reference`` and becomes a constant;
   shape inference is re-run while folding uncovers new static shapes;
4. optional graph inputs named in ``bind_inputs`` become constants too.

Graph-level rewrites (BatchNorm folding) live in :mod:`edgelite.convert.passes`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .input_safety import fold_would_exceed


def _max_opset() -> int:
    try:
        import onnx.defs
        return int(onnx.defs.onnx_opset_version())
    except Exception:  # pragma: no cover
        return 23


SUPPORTED_OPSETS = {"": (1, _max_opset()), "ai.onnx": (1, _max_opset())}
NONDETERMINISTIC = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
                    "Multinomial", "Bernoulli", "Dropout"}
# Ops never folded (control flow with subgraphs, sequences, optional types).
NOT_FOLDED = {"If", "Loop", "Scan", "SequenceConstruct", "SequenceEmpty", "SequenceInsert",
              "SequenceAt", "SequenceErase", "SequenceLength", "SplitToSequence", "ConcatFromSequence",
              "Optional", "OptionalGetElement", "OptionalHasElement"}
FOLD_LIMIT = 1 << 24  # elements; bigger results stay runtime ops


@dataclass
class Node:
    """One ONNX node with decoded attributes."""

    name: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any]
    domain: str = ""
    proto: Any = None

    def attr(self, key: str, default=None):
        return self.attrs.get(key, default)

    def where(self) -> str:
        return f"node {self.name!r} ({self.op_type})"


@dataclass
class OnnxGraph:
    nodes: list[Node]
    inputs: list[str]
    outputs: list[str]
    shapes: dict[str, tuple | None]  # None: rank/shape unknown; dims may be None (unknown)
    dtypes: dict[str, np.dtype]
    consts: dict[str, np.ndarray]
    opset: int
    name: str = "main"
    problems: list[str] = field(default_factory=list)


def load_onnx(model_or_path):
    """The ModelProto, loaded with the checks of input_safety (sizes, external-data paths, nesting)."""
    from .input_safety import load_onnx_checked
    return load_onnx_checked(model_or_path)


def decode_attrs(node_proto) -> dict[str, Any]:
    from onnx import helper, numpy_helper
    out = {}
    for a in node_proto.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode("utf-8", "replace") for s in v]
        elif a.type == a.TENSOR:
            v = numpy_helper.to_array(v)
        out[a.name] = v
    return out


def _np_dtype(elem_type: int):
    from onnx import helper
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        return None


def _value_infos(model) -> tuple[dict, dict]:
    shapes, dtypes = {}, {}
    g = model.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            continue
        if tt.elem_type:
            dt = _np_dtype(tt.elem_type)
            if dt is not None:
                dtypes[vi.name] = dt
        if tt.HasField("shape"):
            dims = []
            for d in tt.shape.dim:
                dims.append(int(d.dim_value) if d.HasField("dim_value") else None)
            shapes[vi.name] = tuple(dims)
    return shapes, dtypes


def _used_domains(graph, found: set[str] | None = None) -> set[str]:
    """Domains of the nodes of ``graph`` and of the graphs in their attributes ("" for ai.onnx)."""
    found = set() if found is None else found
    for node in graph.node:
        found.add("" if node.domain in ("", "ai.onnx") else node.domain)
        for attr in node.attribute:
            if attr.HasField("g"):
                _used_domains(attr.g, found)
            for sub in attr.graphs:
                _used_domains(sub, found)
    return found


def check_opsets(model) -> tuple[int, list[str]]:
    """The ai.onnx opset and the problems with the imported opsets. Domains that no node uses
    are ignored (tools such as onnxruntime's quant_pre_process leave some imported)."""
    problems, opset = [], None
    used = _used_domains(model.graph)
    for imp in model.opset_import:
        dom = imp.domain or ""
        if dom not in ("", "ai.onnx") and dom not in used:
            continue
        if dom not in SUPPORTED_OPSETS:
            problems.append(f"opset: unknown domain {dom!r} (version {imp.version}); supported domains: "
                            f"'' (ai.onnx) versions {SUPPORTED_OPSETS[''][0]}..{SUPPORTED_OPSETS[''][1]}")
            continue
        lo, hi = SUPPORTED_OPSETS[dom]
        if not lo <= imp.version <= hi:
            problems.append(f"opset: domain {dom or 'ai.onnx'!r} version {imp.version} is not supported "
                            f"(supported {lo}..{hi})")
        if dom in ("", "ai.onnx"):
            opset = imp.version
    return opset or 13, problems


def _infer(model):
    import onnx
    try:
        return onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:
        try:
            return onnx.shape_inference.infer_shapes(model)
        except Exception:
            return model


def import_onnx(model_or_path, *, bind_inputs: dict[str, np.ndarray] | None = None,
                input_shapes: dict[str, tuple] | None = None) -> OnnxGraph:
    """Load, type, shape-infer and constant-fold an ONNX model (see module docstring)."""
    from onnx import numpy_helper
    model = load_onnx(model_or_path)
    opset, problems = check_opsets(model)
    g = model.graph
    consts: dict[str, np.ndarray] = {}
    for init in g.initializer:
        consts[init.name] = numpy_helper.to_array(init)
    for name, value in (bind_inputs or {}).items():
        consts[name] = np.asarray(value)
    init_names = {i.name for i in g.initializer}
    graph_inputs = [i.name for i in g.input if i.name not in init_names and i.name not in consts]

    # Fix free input dimensions (user given, else batch -> 1) so shape inference sees static shapes.
    model = _fix_input_shapes(model, input_shapes or {}, graph_inputs, problems)
    if bind_inputs:
        model = _bind(model, bind_inputs)
    inferred = _infer(model)
    shapes, dtypes = _value_infos(inferred)
    for name, v in consts.items():
        shapes[name], dtypes[name] = tuple(v.shape), v.dtype

    nodes = []
    for i, n in enumerate(g.node):
        name = n.name or f"{n.op_type}_{i}"
        nodes.append(Node(name=name, op_type=n.op_type, inputs=list(n.input), outputs=list(n.output),
                          attrs=decode_attrs(n), domain=n.domain, proto=n))
    graph = OnnxGraph(nodes=nodes, inputs=graph_inputs, outputs=[o.name for o in g.output], shapes=shapes,
                      dtypes=dtypes, consts=consts, opset=opset, name=g.name or "main", problems=problems)
    for _ in range(4):
        changed = fold_constants(graph, model)
        if not changed:
            break
        # New constants may make more shapes static: re-infer with them as initializers.
        shapes2, dtypes2 = _value_infos(_infer(_with_consts(model, graph)))
        for k, v in shapes2.items():
            if k not in graph.consts and (graph.shapes.get(k) is None or None in graph.shapes[k]):
                graph.shapes[k] = v
        for k, v in dtypes2.items():
            graph.dtypes.setdefault(k, v)
    return graph


def _bind(model, values: dict):
    """A copy where the graph inputs in ``values`` are initializers (so inference sees them)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = [i for i in m.graph.input if i.name not in values]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    m.graph.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in values.items())
    return m


def _fix_input_shapes(model, input_shapes, graph_inputs, problems):
    import onnx
    model2 = None
    for vi in model.graph.input:
        if vi.name not in graph_inputs:
            continue
        tt = vi.type.tensor_type
        want = input_shapes.get(vi.name)
        dims = tt.shape.dim
        needs = want is not None or any(not d.HasField("dim_value") for d in dims)
        if not needs:
            continue
        if model2 is None:
            model2 = onnx.ModelProto()
            model2.CopyFrom(model)
        vi2 = next(v for v in model2.graph.input if v.name == vi.name)
        d2 = vi2.type.tensor_type.shape.dim
        if want is not None:
            del d2[:]
            for w in want:
                d2.add().dim_value = int(w)
            continue
        for k, d in enumerate(d2):
            if not d.HasField("dim_value"):
                if k == 0:
                    d.Clear()
                    d.dim_value = 1
                else:
                    problems.append(f"input {vi.name!r}: dimension {k} is dynamic ({d.dim_param or '?'}); "
                                    f"pass input_shapes={{{vi.name!r}: (...)}} to fix it")
    return model2 if model2 is not None else model


def _with_consts(model, graph: OnnxGraph):
    """A copy of the model whose folded values are initializers and whose folded nodes are gone."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    live = [n.proto for n in graph.nodes]
    del g.node[:]
    g.node.extend(live)
    have = {i.name for i in g.initializer}
    small = [numpy_helper.from_array(np.asarray(v), k) for k, v in graph.consts.items()
             if k not in have and np.asarray(v).size <= 4096 and np.asarray(v).dtype != object]
    g.initializer.extend(small)
    big_missing = [k for k, v in graph.consts.items() if k not in have and np.asarray(v).size > 4096]
    for k in big_missing:  # declare their types so inference still knows them
        v = np.asarray(graph.consts[k])
        try:
            g.input.append(helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape))
        except Exception:
            pass
    return m


def static_shape(graph: OnnxGraph, name: str):
    s = graph.shapes.get(name)
    if s is None or any(d is None for d in s):
        return None
    return s


def fold_constants(graph: OnnxGraph, model) -> bool:
    """Evaluate every node whose inputs are all known. Returns True if anything was folded."""
    changed = False
    keep = []
    for node in graph.nodes:
        value = _try_fold(graph, node, model)
        if value is None:
            keep.append(node)
            continue
        for name, v in zip(node.outputs, value):
            if name:
                v = np.asarray(v)
                graph.consts[name] = v
                graph.shapes[name], graph.dtypes[name] = tuple(v.shape), v.dtype
        changed = True
    graph.nodes = keep
    return changed


def _try_fold(graph: OnnxGraph, node: Node, model):
    op = node.op_type
    if node.domain not in ("", "ai.onnx") or op in NONDETERMINISTIC or op in NOT_FOLDED:
        return None
    if op == "Constant":
        return [_constant_value(node)]
    if op in ("Shape", "Size") and node.inputs[0] not in graph.consts:
        s = static_shape(graph, node.inputs[0])
        if s is None:
            return None
        if op == "Size":
            return [np.array(int(np.prod(s)), np.int64)]
        start, end = node.attr("start", 0), node.attr("end", None)
        return [np.array(s[start:end] if end is not None else s[start:], np.int64)]
    ins = [i for i in node.inputs if i]
    if not all(i in graph.consts for i in ins):
        return None
    if fold_would_exceed(op, [graph.consts[i] if i else None for i in node.inputs], FOLD_LIMIT):
        return None  # judged before evaluating: the output size comes from input values
    try:
        result = evaluate_node(node, [graph.consts[i] if i else None for i in node.inputs], graph.opset)
    except Exception:
        return None
    if any(np.asarray(r).size > FOLD_LIMIT for r in result):
        return None
    return result


def _constant_value(node: Node) -> np.ndarray:
    a = node.attrs
    if "value" in a:
        return np.asarray(a["value"])
    if "value_float" in a:
        return np.array(a["value_float"], np.float32)
    if "value_floats" in a:
        return np.array(a["value_floats"], np.float32)
    if "value_int" in a:
        return np.array(a["value_int"], np.int64)
    if "value_ints" in a:
        return np.array(a["value_ints"], np.int64)
    if "value_string" in a:
        return np.array(a["value_string"], object)
    if "value_strings" in a:
        return np.array(a["value_strings"], object)
    raise ValueError(f"{node.where()}: Constant without a value")


def evaluate_node(node: Node, values: list, opset: int) -> list[np.ndarray]:
    """Run one node with onnx's reference evaluator (used for folding constants)."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator
    names = [f"in{i}" if v is not None else "" for i, v in enumerate(values)]
    outs = [f"out{i}" for i in range(len(node.outputs))]
    proto = helper.make_node(node.op_type, names, outs, domain=node.domain)
    proto.attribute.extend(node.proto.attribute)
    graph = helper.make_graph([proto], "fold", [helper.make_tensor_value_info(n, 0, None) for n in names if n],
                              [helper.make_tensor_value_info(o, 0, None) for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    sess = ReferenceEvaluator(model)
    feeds = {n: v for n, v in zip(names, values) if n}
    return [np.asarray(r) for r in sess.run(None, feeds)]
