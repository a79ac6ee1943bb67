"""TFLite -> ONNX lowering (the reverse of :mod:`edgelite.convert`).

* :func:`supports` — whether one TFLite node can be lowered (used by the ONNX Runtime
  delegate to choose its partitions; unsupported nodes stay on edgelite).
* :func:`lower_subgraph` — an ONNX ``ModelProto`` computing a TFLite subgraph for one
  combination of input shapes (all shapes static; shapes and shape-derived values come
  from edgelite's own shape propagation).
* :func:`export_onnx` — a whole model's main subgraph as an ONNX model
  (``edgelite export-onnx model.tflite -o model.onnx``).

Float32 models lower op by op; float16-weight models' DEQUANTIZE of constants becomes
float32 initializers; int8 models lower to QDQ (DequantizeLinear -> float op ->
QuantizeLinear), which ONNX Runtime fuses into its integer kernels. Layout: NHWC tensors,
with transposes around the NCHW-only ONNX ops, which ONNX Runtime's transpose optimizer
cancels between consecutive ops (see docs/delegates.md). Needs the ``onnx`` package
(``pip install edgelite[ort]``), imported on first use.
"""
from __future__ import annotations

import os

import numpy as np

from ..ir import Model, Operator, Subgraph
from ..schema import TensorType
from .builder import MS_DOMAIN, ONNX_OPSET, ONNX_TYPES, LoweringError, OnnxBuilder
from .fusions import find_fusions
from .ops_basic import LOWERINGS as _BASIC
from .ops_nn import LOWERINGS as _NN
from .ops_rnn import LOWERINGS as _RNN
from .ops_rnn import lstm_supported

__all__ = ["LOWERINGS", "LoweringError", "supports", "lower_subgraph", "export_onnx", "ONNX_OPSET"]

LOWERINGS = {**_BASIC, **_NN, **_RNN}

# tensor types an ONNX graph can carry here
_TYPES = {TensorType.FLOAT32, TensorType.FLOAT16, TensorType.INT8, TensorType.UINT8, TensorType.INT32,
          TensorType.INT64, TensorType.BOOL}
# ops whose weights must be constant (folded DEQUANTIZE outputs count)
_CONST_WEIGHT = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "TRANSPOSE_CONV": 1}
# inputs that must be constant (axes, permutations, paddings...)
_CONST_INPUTS = {"TRANSPOSE": (1,), "PAD": (1,), "PADV2": (1,), "MIRROR_PAD": (1,), "TILE": (1,), "SPLIT": (0,),
                 "SPLIT_V": (1, 2), "SLICE": (1, 2), "STRIDED_SLICE": (1, 2, 3), "ARG_MAX": (1,),
                 "ARG_MIN": (1,), **{k: (1,) for k in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")}}
_SHAPE_OPS = {"SHAPE", "RANK"}  # computed by edgelite from shapes: become constants


def _constant_like(t: int, subgraph: Subgraph, producers: dict[int, Operator] | None) -> bool:
    tensor = subgraph.tensors[t]
    if tensor.data is not None and not tensor.is_variable:
        return True
    if producers is None:
        return False
    op = producers.get(t)
    if op is None:
        return False
    if op.opcode in ("DEQUANTIZE", "DENSIFY"):
        return all(i < 0 or _constant_like(i, subgraph, producers) for i in op.inputs)
    if op.opcode in _SHAPE_OPS:
        return True
    from ..runtime.executor import SHAPE_ARITHMETIC_OPS
    return op.opcode in SHAPE_ARITHMETIC_OPS and all(i < 0 or _constant_like(i, subgraph, producers)
                                                      for i in op.inputs)


def supports(op: Operator, subgraph: Subgraph, producers: dict[int, Operator] | None = None) -> bool:
    """Whether :func:`lower_subgraph` can lower ``op`` (float32, float16-weight or int8 data).

    ``producers`` (tensor -> operator) lets weights and axes computed from constants or
    shapes count as constant."""
    name = op.opcode
    if name not in LOWERINGS and name not in _SHAPE_OPS and name != "DENSIFY":
        return False
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        return lstm_supported(op, subgraph)
    if op.intermediates:
        return False
    tensors = subgraph.tensors
    for t in (*op.inputs, *op.outputs):
        if t < 0:
            continue
        tensor = tensors[t]
        if tensor.dtype not in _TYPES or tensor.is_variable:
            return False
        q = tensor.quantization
        quantized = q is not None and q.scale.size > 0
        if tensor.dtype in (TensorType.INT8, TensorType.UINT8) and not quantized and tensor.data is None:
            return False  # raw int8 activations: no float meaning
        if quantized and tensor.data is None and q.scale.size != 1:
            return False
        if (quantized and tensor.data is not None and tensor.dtype in (TensorType.INT8, TensorType.UINT8)
                and name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "FULLY_CONNECTED",
                                 "DEQUANTIZE")
                and not any(tensors[o].quantization is not None and tensors[o].quantization.scale.size
                            for o in op.outputs)):
            return False  # int8 weights with float activations (dynamic range): hybrid
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
        acts = [t for t in (op.inputs[0] if name != "TRANSPOSE_CONV" else op.inputs[2], op.outputs[0])]
        weight_q = tensors[op.inputs[1]].quantization
        act_q = [tensors[t].quantization is not None and tensors[t].quantization.scale.size > 0 for t in acts]
        if weight_q is not None and weight_q.scale.size and not all(act_q):
            return False  # hybrid
    if name == "DENSIFY":
        return False
    w = _CONST_WEIGHT.get(name)
    if w is not None and not _constant_like(op.inputs[w], subgraph, producers):
        return False
    for i in _CONST_INPUTS.get(name, ()):
        if i < len(op.inputs) and op.inputs[i] >= 0 and not _constant_like(op.inputs[i], subgraph, producers):
            return False
    if name == "RESHAPE" and len(op.inputs) > 1 and op.inputs[1] >= 0 \
            and not _constant_like(op.inputs[1], subgraph, producers):
        return False
    if name == "GATHER" and op.opt("batch_dims", 0):
        return False
    if name in ("STRIDED_SLICE",) and (op.opt("ellipsis_mask", 0) or op.opt("new_axis_mask", 0)):
        return False
    if name == "MIRROR_PAD" and op.opt("mode", 0) != 0:
        return False
    if name == "FULLY_CONNECTED" and op.opt("weights_format", 0) != 0:
        return False
    act = op.opt("fused_activation_function", 0) if op.options else 0
    return act in (0, 1, 2, 3, 4, None)


def lower_subgraph(subgraph: Subgraph, shapes: dict[int, tuple], values: dict[int, np.ndarray] | None = None,
                   name: str = "edgelite", qlinear: bool = True, external: dict | None = None,
                   external_min_bytes: int = 1024, contrib_ops: bool = False, fuse: bool = True):
    """An ONNX ModelProto computing ``subgraph`` (inputs/outputs as its own, static shapes).

    ``qlinear``: int8 convolutions become QLinearConv (faster in ONNX Runtime, see
    docs/delegates.md) instead of DequantizeLinear -> Conv -> QuantizeLinear. ``contrib_ops``:
    ONNX Runtime's own com.microsoft operators where they are faster (the ONNX Runtime
    delegate's default; the model then runs in ONNX Runtime only): the int8 MEAN over H and
    W becomes QLinearGlobalAveragePool (within one step of LiteRT's, where the default
    standard-ONNX form is LiteRT's exact integer arithmetic). ``fuse``: multi-node patterns
    become one ONNX operator (:mod:`edgelite.export_onnx.fusions`: layer norms). With a dict as
    ``external``, constants of ``external_min_bytes`` or more are not copied into the graph:
    they are initializers with external data, and ``external`` maps their data file names
    to the arrays (for ONNX Runtime's ``add_external_initializers_from_files_in_memory``:
    no protobuf copy of the weights)."""
    import onnx
    from onnx import helper
    b = OnnxBuilder(subgraph, shapes, values, qlinear=qlinear, contrib_ops=contrib_ops)
    if external is not None:
        b.external_min_bytes = external_min_bytes
    for t in subgraph.inputs:
        b.names[t] = b.to_storage(t, b.tensor_name(t))
    for t, tensor in enumerate(subgraph.tensors):  # a variable that is not an input: its initial value
        if tensor.is_variable and t not in b.names and t not in b.values:
            b.values[t] = (np.asarray(tensor.data).reshape(tensor.shape) if tensor.data is not None
                           else np.zeros(tensor.shape, tensor.numpy_dtype))
    outputs = set(subgraph.outputs)
    fusions = find_fusions(subgraph, b.values) if fuse else {}
    fused = {m for others, _ in fusions.values() for m in others}
    for n, op in enumerate(subgraph.operators):
        b.op_index = n
        if n in fused:  # lowered with its group's first node
            continue
        if n in fusions:
            fusions[n][1](b)
            continue
        if all(t in b.values for t in op.outputs if t >= 0):
            for t in op.outputs:  # computed by edgelite from shapes/constants
                if t in outputs:
                    b.names[t] = b.const(b.values[t], hint="v")
            continue
        lower = LOWERINGS.get(op.opcode)
        if lower is None:
            raise LoweringError(f"{op.name} (node {n}): no ONNX lowering")
        lower(op, b)
        for t in op.outputs:
            if t >= 0 and t not in b.names:
                if t not in b.values:
                    raise LoweringError(f"{op.name} (node {n}): output {t} was not produced")
                if t in outputs:  # folded to a constant
                    b.names[t] = b.const(b.values[t], hint="v")
    graph_outputs = []
    for t, name_t in zip(subgraph.outputs, output_names(subgraph)):
        b.node("Identity", [b.from_storage(t, b.names[t])], [name_t])
        graph_outputs.append(helper.make_tensor_value_info(name_t, _onnx_type(subgraph, t), list(b.shape(t))))
    for t, value in b.state_updates.items():  # new values of variables (LSTM states)
        name_t = state_output_name(t)
        b.node("Identity", [value], [name_t])
        graph_outputs.append(helper.make_tensor_value_info(name_t, _onnx_type(subgraph, t), list(b.shape(t))))
    graph_inputs = [helper.make_tensor_value_info(b.tensor_name(t), _onnx_type(subgraph, t), list(b.shape(t)))
                    for t in subgraph.inputs]
    for key, arr in b.external.items():  # initializers whose bytes live in an in-memory "file"
        tensor = onnx.TensorProto(name=key, data_type=helper.np_dtype_to_tensor_dtype(arr.dtype),
                                  dims=list(arr.shape), data_location=onnx.TensorProto.EXTERNAL)
        for k, v in (("location", f"{key}.bin"), ("offset", "0"), ("length", str(arr.nbytes))):
            entry = tensor.external_data.add()
            entry.key, entry.value = k, v
        b.initializers.append(tensor)
        if external is not None:
            external[f"{key}.bin"] = arr
    graph = helper.make_graph(b.nodes, name, graph_inputs, graph_outputs, initializer=b.initializers)
    opsets = [helper.make_opsetid("", ONNX_OPSET)]
    if any(n.domain == MS_DOMAIN for n in b.nodes):  # ONNX Runtime's contrib ops (QLinear*)
        opsets.append(helper.make_opsetid(MS_DOMAIN, 1))
    model = helper.make_model(graph, producer_name="edgelite", opset_imports=opsets)
    model.ir_version = min(model.ir_version, 9)
    return model


def state_output_name(t: int) -> str:
    """The ONNX output holding the new value of variable tensor ``t`` after a run (LSTM states:
    write it back into the variable, as LiteRT's kernel does, to continue the sequence)."""
    return f"t{t}_new_state"


def output_names(subgraph: Subgraph) -> list[str]:
    """The ONNX output names :func:`lower_subgraph` gives ``subgraph``'s outputs."""
    names = []
    for k, t in enumerate(subgraph.outputs):
        names.append(f"t{t}_out{k}" if t in subgraph.inputs or t in subgraph.outputs[:k] else f"t{t}")
    return names


def _onnx_type(subgraph: Subgraph, t: int) -> int:
    dtype = subgraph.tensors[t].dtype
    if dtype not in ONNX_TYPES:
        raise LoweringError(f"tensor {t}: type {subgraph.tensors[t].type_name} has no ONNX equivalent")
    return ONNX_TYPES[dtype]


def infer_static(model: Model, subgraph_index: int = 0, input_shapes=None):
    """(shapes, values) of every tensor of a subgraph for these input shapes (edgelite's kernels)."""
    from ..runtime import Runtime
    runtime = Runtime(model)
    ex = runtime.executor(subgraph_index)
    if input_shapes is not None:
        ex.set_input_shapes([tuple(int(d) for d in s) for s in input_shapes])
    ex.allocate()
    values = {t: np.asarray(v) for t, v in ex._shape_values.items()}
    sg = model.subgraphs[subgraph_index]
    for t in ex._consts:
        if ex.buffers[t] is not None and sg.tensors[t].data is None:
            ex.fill_pending_constants(t)
            values[t] = np.asarray(ex.buffers[t])
    return dict(ex.shapes), values


def export_onnx(model: Model | str | os.PathLike, output: str | os.PathLike | None = None,
                input_shapes=None, subgraph_index: int = 0, qlinear: bool = True):
    """Lower a model's subgraph (all of it: no fallback) to an ONNX model; save it to ``output``.

    Raises :class:`LoweringError` naming every node that cannot be lowered."""
    from ..reader import load_model
    if not isinstance(model, Model):
        model = load_model(os.fspath(model))
    sg = model.subgraphs[subgraph_index]
    producers = {t: op for op in sg.operators for t in op.outputs}
    bad = [f"{op.name} (node {n})" for n, op in enumerate(sg.operators) if not supports(op, sg, producers)]
    if bad:
        raise LoweringError(f"{len(bad)} node(s) have no ONNX lowering: {', '.join(bad[:20])}"
                            + (" ..." if len(bad) > 20 else ""))
    shapes, values = infer_static(model, subgraph_index, input_shapes)
    proto = lower_subgraph(sg, shapes, values, name=sg.name or "main", qlinear=qlinear)
    if output is not None:
        import onnx
        onnx.save(proto, os.fspath(output))
    return proto
