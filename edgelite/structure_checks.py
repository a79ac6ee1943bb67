"""Whole-model structure checks run when an interpreter loads a model.

The reader checks that a file is a well-formed FlatBuffer whose indices are in range;
these checks are about what the ops *mean* for each other, which a per-table check
cannot see:

* **Subgraph references.** IF, WHILE, CALL_ONCE and CALL (and the StableHLO ops with
  body/branch subgraphs) name other subgraphs by index; each index must exist.
* **Call cycles.** A subgraph that reaches itself through those references (a WHILE
  whose body is the subgraph holding the WHILE, two subgraphs calling each other...)
  would recurse without end. TFLite has no recursion; the cycle is reported as
  ``ModelError`` with its path, e.g. ``subgraph 0 (WHILE node 2, body) -> subgraph 1
  (CALL node 0) -> subgraph 0``, instead of a Python RecursionError at invoke.
* **Control-flow signatures.** The callee's input/output counts and types must fit the
  op (as LiteRT's IF/WHILE/CALL_ONCE/CALL kernels check in Prepare): WHILE has as many
  outputs as inputs and its cond returns one value, IF's branches take the op's inputs
  after the condition, CALL_ONCE's init subgraph takes and returns nothing.

The walk is iterative (no recursion however deep the call graph) and costs one pass
over the operators.
"""
from __future__ import annotations

from .errors import ModelError
from .ir import Model

# opcode -> option names holding subgraph indices (options for builtin, options2 for StableHLO)
SUBGRAPH_OPTIONS: dict[str, tuple[str, ...]] = {
    "IF": ("then_subgraph_index", "else_subgraph_index"),
    "WHILE": ("cond_subgraph_index", "body_subgraph_index"),
    "CALL_ONCE": ("init_subgraph_index",),
    "CALL": ("subgraph",),
    "STABLEHLO_WHILE": ("cond_subgraph_index", "body_subgraph_index"),
    "STABLEHLO_REDUCE": ("body_subgraph_index",),
    "STABLEHLO_REDUCE_WINDOW": ("body_subgraph_index",),
    "STABLEHLO_SORT": ("comparator_subgraph_index",),
    "STABLEHLO_SCATTER": ("update_computation_subgraph_index",),
    "STABLEHLO_COMPOSITE": ("decomposition_subgraph_index",),
    "STABLEHLO_CASE": ("branch_subgraph_indices",),
}


def _references(op) -> list[tuple[str, int]]:
    """(option name, subgraph index) for every subgraph ``op`` names."""
    names = SUBGRAPH_OPTIONS.get(op.opcode)
    if not names:
        return []
    refs = []
    for options in (op.options, op.options2):
        if not options:
            continue
        for name in names:
            value = options.get(name)
            if value is None:
                continue
            if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
                values = list(value.tolist() if hasattr(value, "tolist") else value)
                refs.extend((f"{name}[{i}]", int(v)) for i, v in enumerate(values))
            else:
                refs.append((name, int(value)))
    return refs


def subgraph_calls(model: Model) -> list[list[tuple[int, int, str, str]]]:
    """For each subgraph, the calls it makes: (callee, node index, opcode, option name).
    Raises ModelError for an index that names no subgraph."""
    n = len(model.subgraphs)
    calls: list[list[tuple[int, int, str, str]]] = []
    for si, sg in enumerate(model.subgraphs):
        mine = []
        for ni, op in enumerate(sg.operators):
            if op.opcode not in SUBGRAPH_OPTIONS:
                continue
            for name, callee in _references(op):
                if not 0 <= callee < n:
                    raise ModelError(f"subgraphs[{si}].operators[{ni}] ({op.opcode}): {name} {callee} is not a "
                                     f"subgraph index (the model has {n} subgraphs)")
                mine.append((callee, ni, op.opcode, name))
        calls.append(mine)
    return calls


def find_call_cycle(calls: list[list[tuple[int, int, str, str]]]) -> list[tuple[int, int, str, str]] | None:
    """One cycle of the call graph as its edges (caller, node, opcode, option), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = [WHITE] * len(calls)
    for root in range(len(calls)):
        if color[root] != WHITE:
            continue
        # stack of (subgraph, next edge position); path holds the edges taken to get here
        stack = [(root, 0)]
        path: list[tuple[int, int, str, str]] = []
        color[root] = GREY
        while stack:
            sg, k = stack[-1]
            if k < len(calls[sg]):
                stack[-1] = (sg, k + 1)
                callee, node, opcode, option = calls[sg][k]
                if color[callee] == GREY:  # back edge: the cycle starts where callee entered the path
                    start = next((i for i, e in enumerate(path) if e[0] == callee), len(path))
                    return path[start:] + [(sg, node, opcode, option)]
                if color[callee] == WHITE:
                    color[callee] = GREY
                    path.append((sg, node, opcode, option))
                    stack.append((callee, 0))
            else:
                color[sg] = BLACK
                stack.pop()
                if path:
                    path.pop()
    return None


def _format_cycle(cycle: list[tuple[int, int, str, str]]) -> str:
    parts = []
    for caller, node, opcode, option in cycle:
        parts.append(f"subgraph {caller} ({opcode} node {node}, {option})")
    first = cycle[0][0]
    return " -> ".join(parts) + f" -> subgraph {first}"


def _signature(model: Model, index: int) -> tuple[list[int], list[int]]:
    sg = model.subgraphs[index]
    return [sg.tensors[t].dtype for t in sg.inputs], [sg.tensors[t].dtype for t in sg.outputs]


def _types(sg, tensors: list[int]) -> list[int | None]:
    return [sg.tensors[t].dtype if 0 <= t < len(sg.tensors) else None for t in tensors]


def _check_signatures(model: Model, si: int, ni: int, op) -> None:
    where = f"subgraphs[{si}].operators[{ni}] ({op.opcode})"
    sg = model.subgraphs[si]
    opts = op.options or {}

    def callee(name: str) -> tuple[int, list, list]:
        index = int(opts[name])
        ins, outs = _signature(model, index)
        return index, ins, outs

    def expect(name: str, what: str, got: list, want: list) -> None:
        if len(got) != len(want):
            raise ModelError(f"{where}: {name} {int(opts[name])} has {len(got)} {what}, the op needs {len(want)}")
        for k, (g, w) in enumerate(zip(got, want)):
            if w is not None and g != w:
                raise ModelError(f"{where}: {what[:-1]} {k} of {name} {int(opts[name])} has type {g}, "
                                 f"the op's has type {w}")

    op_in, op_out = _types(sg, op.inputs), _types(sg, op.outputs)
    if op.opcode == "WHILE":
        if len(op.inputs) != len(op.outputs):
            raise ModelError(f"{where}: {len(op.inputs)} inputs but {len(op.outputs)} outputs; they must match")
        _c, cond_in, cond_out = callee("cond_subgraph_index")
        expect("cond_subgraph_index", "inputs", cond_in, op_in)
        if len(cond_out) != 1:
            raise ModelError(f"{where}: cond_subgraph_index {int(opts['cond_subgraph_index'])} has "
                             f"{len(cond_out)} outputs, needs 1 (the condition)")
        _b, body_in, body_out = callee("body_subgraph_index")
        expect("body_subgraph_index", "inputs", body_in, op_in)
        expect("body_subgraph_index", "outputs", body_out, op_in)
    elif op.opcode == "IF":
        if not op.inputs:
            raise ModelError(f"{where}: needs a condition input")
        for name in ("then_subgraph_index", "else_subgraph_index"):
            _i, ins, outs = callee(name)
            expect(name, "inputs", ins, op_in[1:])
            expect(name, "outputs", outs, op_out)
    elif op.opcode == "CALL_ONCE":
        _i, ins, outs = callee("init_subgraph_index")
        expect("init_subgraph_index", "inputs", ins, [])
        expect("init_subgraph_index", "outputs", outs, [])
    elif op.opcode == "CALL":
        _i, ins, outs = callee("subgraph")
        expect("subgraph", "inputs", ins, op_in)
        expect("subgraph", "outputs", outs, op_out)


def check_structure(model: Model) -> None:
    """Raise :class:`ModelError` if the model's subgraphs reference missing subgraphs, call
    each other in a cycle, or pass control-flow values that do not fit the callee."""
    calls = subgraph_calls(model)
    cycle = find_call_cycle(calls)
    if cycle is not None:
        raise ModelError(f"subgraph call cycle: {_format_cycle(cycle)} (TFLite has no recursion)")
    for si, mine in enumerate(calls):
        seen = set()
        for _callee, ni, opcode, _option in mine:
            if ni in seen or opcode.startswith("STABLEHLO_"):
                continue
            seen.add(ni)
            _check_signatures(model, si, ni, model.subgraphs[si].operators[ni])
