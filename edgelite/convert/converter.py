"""Top-level ONNX -> TFLite conversion driver (see docs/convert.md).

Pipeline: import (shape inference + constant folding) -> ONNX-level passes (BatchNorm folding)
-> lowering node by node in topological order with layout tracking -> graph outputs in the
requested layout -> TFLite-level cleanup passes -> QDQ folding (quantized ONNX models become int8
ops, :mod:`edgelite.convert.qdq`). Every problem found is collected and reported together in one
:class:`edgelite.ConversionError`.
"""
from __future__ import annotations

import numpy as np

from ..errors import ConversionError
from ..ir import Model, SignatureDef, Subgraph
from ..schema import tensor_type_of
from . import layout as L
from . import passes
from .context import Context, NeedsConstant, Unsupported, Value, tflite_type
from .input_safety import typed_errors
from .lowering import LOWERINGS
from .onnx_import import import_onnx, load_onnx
from .qdq import fold_qdq, weight_scale_candidates


@typed_errors  # docs/reliability.md: untrusted input gives edgelite errors only
def from_onnx(model_or_path, *, nhwc_io: bool = False, input_shapes: dict | None = None,
              bind_inputs: dict | None = None, optimize: bool = True, stats: dict | None = None,
              fold_quantization: bool = True) -> Model:
    """Convert an ONNX model (path, bytes or ``onnx.ModelProto``) to an :class:`edgelite.ir.Model`.

    nhwc_io:      4-D and 5-D inputs and outputs are channels-last (NHWC / NDHWC), so conv nets need no
                  TRANSPOSE at all.
    input_shapes: fixes dynamic input dimensions, ``{"input": (1, 3, 224, 224)}`` (a dynamic batch
                  dimension defaults to 1).
    bind_inputs:  graph inputs to freeze as constants, ``{"name": array}``.
    optimize:     run the cleanup passes (activation fusion, dedup, dead code removal).
    stats:        if a dict is given, it is filled with pass statistics.
    fold_quantization: a QDQ model's ops between DequantizeLinear and QuantizeLinear become int8 TFLite
                  ops where TFLite has them (False: they stay float between QUANTIZE and DEQUANTIZE).
    Raises :class:`edgelite.ConversionError` listing every problem found.
    """
    onnx_model = load_onnx(model_or_path)
    weight_scales = weight_scale_candidates(onnx_model) if fold_quantization else []
    graph = import_onnx(onnx_model, bind_inputs=bind_inputs, input_shapes=input_shapes)
    problems = list(graph.problems)  # opset / input problems; conversion goes on to find the rest
    io_types = demote_floats(graph)
    n_bn = passes.fold_batchnorm(graph) if optimize else 0
    n_gelu = passes.fuse_gelu(graph)

    sg = Subgraph(name=graph.name or "main")
    ctx = Context(graph, sg)
    failed: set[str] = set()  # values that could not be converted (their problem is already reported)
    for name in graph.inputs:
        s = graph.shapes.get(name)
        dt = graph.dtypes.get(name)
        try:
            if dt is None:  # sequence / optional / map inputs land here too
                raise Unsupported("not a tensor of a known element type")
            if s is None or any(d is None for d in s):
                raise Unsupported(f"shape {s} is not static")
            ttype = tflite_type(dt)
        except Unsupported as e:
            problems.append(f"input {name!r}: {e}")
            failed.add(name)
            continue
        perm = L.norm(L.channels_last(len(s))) if nhwc_io and len(s) in (4, 5) else None
        if name in io_types:  # float64/float16 input: CAST to the float32 the graph computes in
            idx = sg.add_tensor(name, L.physical_shape(s, perm), tflite_type(io_types[name]))
            f32 = sg.add_tensor(f"{name}/float32", L.physical_shape(s, perm), tflite_type(np.float32))
            sg.add_operator("CAST", [idx], [f32])
            ctx.values[name] = Value(f32, perm)
        else:
            idx = sg.add_tensor(name, L.physical_shape(s, perm), ttype)
            ctx.values[name] = Value(idx, perm)
        sg.inputs.append(idx)

    for node in graph.nodes:
        ctx.node = node
        fn = LOWERINGS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        if fn is None:  # reported even after a failed input: the op type is a problem of its own
            problems.append(f"{node.where()}: unsupported op type {node.op_type!r}"
                            + (f" in domain {node.domain!r}" if node.domain else ""))
            failed.update(o for o in node.outputs if o)
            continue
        if any(i in failed for i in node.inputs if i):  # its input's problem is reported already
            failed.update(o for o in node.outputs if o)
            continue
        n_ops = len(sg.operators)
        try:
            for o in node.outputs:
                if o and o in graph.dtypes:
                    tflite_type(graph.dtypes[o])
                shp = graph.shapes.get(o) if o else None
                if shp is not None and len(shp) > 6:
                    raise Unsupported(f"{o!r} has rank {len(shp)}; TFLite kernels handle at most 6 dimensions")
            fn(ctx, node)
        except NeedsConstant as e:
            problems.append(f"{node.where()}: {e}")
            ctx.needs_constant.extend(_input_ancestors(graph, e.input_name))
            failed.update(o for o in node.outputs if o)
            del sg.operators[n_ops:]
        except Unsupported as e:
            problems.append(f"{node.where()}: {e}")
            failed.update(o for o in node.outputs if o)
            del sg.operators[n_ops:]
        except Exception as e:  # a converter bug (or a hostile model tripping one): a typed error
            if hasattr(e, "add_note"):  # Python 3.11+  naming the node, the original as its cause
                e.add_note(f"edgelite.convert: while lowering {node.where()}")
            raise ConversionError(f"{node.where()}: internal converter error {type(e).__name__}: {e} "
                                  "(please report it)") from e
    ctx.node = None

    for name in graph.outputs:
        if name in failed:
            continue
        try:
            out = _graph_output(ctx, name, nhwc_io)
            if name in io_types:  # computed in float32, delivered in the model's float64/float16
                t = sg.tensors[out]
                t.name = f"{name}/float32"
                cast = sg.add_tensor(name, t.shape, tflite_type(io_types[name]))
                sg.add_operator("CAST", [out], [cast])
                out = cast
            sg.outputs.append(out)
        except Unsupported as e:
            problems.append(f"output {name!r}: {e}")
    if problems:
        err = ConversionError(problems)
        err.needs_constant = list(ctx.needs_constant)  # runtime inputs that would have to be constants
        raise err

    info = {"folded_batchnorms": n_bn, "fused_gelus": n_gelu}
    if optimize:
        info.update(passes.cleanup(sg))
    else:
        sg.remove_unused()
    if fold_quantization and any(op.opcode == "DEQUANTIZE" for op in sg.operators):
        info["int8_ops_from_qdq"] = fold_qdq(sg, weight_scales)
        sg.remove_unused()
    if stats is not None:
        stats.update(info)
    model = Model(subgraphs=[sg], description="edgelite.convert")
    model.signature_defs = [SignatureDef(
        key="serving_default", subgraph_index=0,
        inputs={sg.tensors[i].name: i for i in sg.inputs}, outputs={sg.tensors[i].name: i for i in sg.outputs})]
    return model


def _input_ancestors(graph, name: str) -> list[str]:
    """The graph inputs that value ``name`` is computed from (``[name]`` for a graph input): binding them
    lets constant folding produce ``name`` when the rest of its computation is constant."""
    producers = {o: n for n in graph.nodes for o in n.outputs if o}
    found, seen, todo = [], set(), [name]
    while todo:
        v = todo.pop()
        if not v or v in seen:
            continue
        seen.add(v)
        if v in graph.inputs:
            found.append(v)
        elif v in producers:
            todo.extend(producers[v].inputs)
    return sorted(found) if name not in graph.inputs else [name]


DEMOTED = (np.dtype(np.float64), np.dtype(np.float16))


def demote_floats(graph) -> dict[str, np.dtype]:
    """TFLite has (almost) no float64/float16 kernels: compute such values in float32.

    Constants and intermediate values are retyped; graph inputs and outputs keep their type and get
    a CAST at the boundary. Returns {graph input/output name: original dtype}."""
    io = {}
    for name in list(graph.inputs) + list(graph.outputs):
        dt = graph.dtypes.get(name)
        if dt is not None and np.dtype(dt) in DEMOTED and name not in graph.consts:
            io[name] = np.dtype(dt)
    for name, dt in list(graph.dtypes.items()):
        if dt is not None and np.dtype(dt) in DEMOTED:
            graph.dtypes[name] = np.dtype(np.float32)
    for name, v in list(graph.consts.items()):
        if np.asarray(v).dtype in DEMOTED:
            graph.consts[name] = np.asarray(v).astype(np.float32)
    return io


def _graph_output(ctx: Context, name: str, nhwc_io: bool) -> int:
    sg = ctx.sg
    if ctx.is_const(name) or name in ctx.graph.inputs or name in ctx.graph.consts:
        # a constant or pass-through output still needs an op writing it
        shape = ctx.shape(name)
        src = ctx.input(name, None)
        out = sg.add_tensor(name, shape, tensor_type_of(ctx.dtype(name)))
        if not ctx.is_const(name):
            sg.tensors[src].name = name + "/input"
        sg.add_operator("RESHAPE", [src, ctx.constant(np.array(shape, np.int32))], [out],
                        {"new_shape": list(shape)})
        return out
    if name not in ctx.values:
        raise Unsupported("not produced by any node")
    v = ctx.values[name]
    if v.perm is None and -1 in (sg.tensors[v.tensor].shape_signature or ()):
        return v.tensor  # a value-dependent length (Unique): the lowering made the tensor dynamic
    rank = ctx.rank(name)
    want = L.norm(L.channels_last(rank)) if nhwc_io and rank in (4, 5) else None
    idx = ctx.input(name, want)
    if idx in sg.outputs or idx in sg.inputs:
        shape = sg.tensors[idx].shape
        out = sg.add_tensor(name, shape, sg.tensors[idx].dtype)
        sg.add_operator("RESHAPE", [idx, ctx.constant(np.array(shape, np.int32))], [out],
                        {"new_shape": list(shape)})
        return out
    if sg.tensors[idx].name != name:
        orig = ctx.values[name].tensor
        sg.tensors[orig].name = name + "/internal"
        sg.tensors[idx].name = name
    return idx
