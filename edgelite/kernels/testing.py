"""Run one kernel on numpy arrays, without an interpreter: for unit tests of kernels."""
from __future__ import annotations

import numpy as np

from ..ir import Model, Quantization, Subgraph
from ..schema import tensor_type_of
from .base import Node, TensorSpec, lookup


def spec_of(sg: Subgraph, index: int) -> TensorSpec:
    t = sg.tensors[index]
    q = t.quantization
    return TensorSpec(index=index, name=t.name, shape=t.shape, dtype=t.numpy_dtype,
                      scale=q.scale if q is not None else np.zeros(0, np.float32),
                      zero_point=q.zero_point if q is not None else np.zeros(0, np.int64),
                      quantized_dimension=q.quantized_dimension if q is not None else 0,
                      data=t.data if t.data is not None and not t.is_variable else None,
                      is_variable=t.is_variable, sparsity=t.sparsity)


def single_op_model(opcode: str, inputs: list, options: dict | None = None, *, num_outputs: int = 1,
                    output_dtypes: list | None = None, constant_inputs: tuple[int, ...] = (),
                    input_quant: list | None = None, output_quant: list | None = None,
                    version: int = 1, options_type: str | None = None, options2: dict | None = None,
                    options2_type: str | None = None) -> Model:
    """A one-op model around ``inputs``; non-constant inputs become the subgraph's inputs.

    ``options_type`` names the BuiltinOptions table where the op name does not imply it
    (RANDOM_* ops use ``RandomOptions``); ``options2``/``options2_type`` fill builtin_options_2
    (REDUCE_WINDOW's ``ReduceWindowOptions``).
    """
    sg = Subgraph(name="main")
    in_idx = []
    for i, x in enumerate(inputs):
        if x is None:
            in_idx.append(-1)
            continue
        x = np.asarray(x)
        q = input_quant[i] if input_quant else None
        in_idx.append(sg.add_tensor(f"in{i}", x.shape, tensor_type_of(x.dtype), quantization=q,
                                    data=np.ascontiguousarray(x) if i in constant_inputs else None))
    dts = output_dtypes or [np.asarray(next(x for x in inputs if x is not None)).dtype] * num_outputs
    out_idx = [sg.add_tensor(f"out{j}", (), tensor_type_of(dts[j]),
                             quantization=output_quant[j] if output_quant else None)
               for j in range(num_outputs)]
    extra = {}
    if options_type is not None:
        extra["options_type"] = options_type
    if options2_type is not None:
        extra.update(options2=options2 or {}, options2_type=options2_type)
    sg.add_operator(opcode, in_idx, out_idx, options, version=version, **extra)
    sg.inputs = [i for k, i in enumerate(in_idx) if i >= 0 and k not in constant_inputs]
    sg.outputs = out_idx
    return Model(subgraphs=[sg])


def run_op_litert(opcode: str, inputs: list, options: dict | None = None, **kw) -> list[np.ndarray]:
    """Run the same one-op model in LiteRT's builtin kernels (the oracle). Needs ai-edge-litert."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    model = single_op_model(opcode, inputs, options, **kw)
    it = Interpreter(model_content=model.to_bytes(),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    consts = set(kw.get("constant_inputs", ()))
    feed = [np.asarray(x) for k, x in enumerate(inputs) if x is not None and k not in consts]
    for d, x in zip(it.get_input_details(), feed):
        it.resize_tensor_input(d["index"], x.shape)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feed):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def run_op_stateful(opcode: str, inputs: list, options: dict | None, *, state_inputs: tuple[int, ...],
                    feeds: list[list[np.ndarray]], constant_inputs: tuple[int, ...] = (),
                    interpreter: str = "litert", **model_kw) -> list[list[np.ndarray]]:
    """Run a one-op model whose ``state_inputs`` are variable tensors (zero-initialised, no data)
    in a whole interpreter -- LiteRT's builtin kernels (``interpreter="litert"``, needs
    ai-edge-litert) or ``edgelite.Interpreter`` -- once per entry of ``feeds`` (the values of the
    remaining non-constant inputs, in order), so the states carry over between invocations as in
    a real model. Returns every invocation's outputs. ``model_kw`` go to :func:`single_op_model`.
    """
    model = single_op_model(opcode, inputs, options, constant_inputs=constant_inputs, **model_kw)
    sg = model.main
    op = sg.operators[0]
    for k in state_inputs:
        sg.tensors[op.inputs[k]].is_variable = True
        sg.tensors[op.inputs[k]].data = None
    sg.inputs = [t for k, t in enumerate(op.inputs)
                 if t >= 0 and k not in constant_inputs and k not in state_inputs]
    if interpreter == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        it = Interpreter(model_content=model.to_bytes(),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    else:
        from ..interpreter import Interpreter as EdgeliteInterpreter
        it = EdgeliteInterpreter(model_content=model.to_bytes())
    it.allocate_tensors()
    results = []
    for feed in feeds:
        for d, x in zip(it.get_input_details(), feed):
            it.set_tensor(d["index"], np.asarray(x))
        it.invoke()
        results.append([np.array(it.get_tensor(d["index"])) for d in it.get_output_details()])
    return results


def run_op_litert_stateful(opcode: str, inputs: list, options: dict | None, **kw) -> list[list[np.ndarray]]:
    """:func:`run_op_stateful` in LiteRT (the oracle for stateful kernels)."""
    return run_op_stateful(opcode, inputs, options, interpreter="litert", **kw)


def run_op(opcode: str, inputs: list, options: dict | None = None, *, num_outputs: int = 1,
           output_dtypes: list | None = None, constant_inputs: tuple[int, ...] = (),
           input_quant: list[Quantization | None] | None = None,
           output_quant: list[Quantization | None] | None = None, version: int = 1,
           **model_kw) -> list[np.ndarray]:
    """Build a one-op subgraph around ``inputs`` (``None`` = omitted), run its kernel, return outputs.

    Inputs listed in ``constant_inputs`` are made constant tensors (visible to prepare).
    ``model_kw`` (options_type, options2, options2_type) go to :func:`single_op_model`.
    """
    model = single_op_model(opcode, inputs, options, num_outputs=num_outputs, output_dtypes=output_dtypes,
                            constant_inputs=constant_inputs, input_quant=input_quant,
                            output_quant=output_quant, version=version, **model_kw)
    sg = model.main
    op = sg.operators[0]
    in_idx, out_idx = op.inputs, op.outputs
    dts = [sg.tensors[i].numpy_dtype for i in out_idx]
    node = Node(op=op, index=0, subgraph=sg)
    cls = lookup(node)
    if cls is None:
        raise NotImplementedError(f"no kernel registered for {opcode}")
    kernel = cls(node)
    in_specs = [None if i < 0 else spec_of(sg, i) for i in in_idx]
    out_specs = [spec_of(sg, i) for i in out_idx]
    shapes = kernel.prepare(in_specs, out_specs)
    outs = [None if s is None else np.zeros(s, dtype=np.dtype(dts[j])) for j, s in enumerate(shapes)]
    arrays = [None if i < 0 else np.asarray(inputs[k]) for k, i in enumerate(in_idx)]
    returned = kernel.eval(arrays, outs)
    if returned is not None:
        for j, r in enumerate(returned):
            if outs[j] is None:
                outs[j] = np.asarray(r)
            elif r is not outs[j]:
                np.copyto(outs[j], r)
    return outs
