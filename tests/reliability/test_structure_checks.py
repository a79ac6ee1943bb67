"""Structure checks at load: subgraph call cycles and control-flow signatures -> ModelError."""
import pytest

import edgelite
from edgelite.ir import Model, Subgraph
from edgelite.schema import TensorType
from edgelite.structure_checks import check_structure

from .hostile_models import counting_loop_model, if_wrong_arity_model, mutual_call_model, self_calling_while_model


def test_while_whose_body_is_its_own_subgraph():
    with pytest.raises(edgelite.ModelError, match=r"subgraph call cycle: subgraph 0 \(WHILE node 0, "
                                                  r"body_subgraph_index\) -> subgraph 0"):
        edgelite.Interpreter(model_content=self_calling_while_model())


def test_subgraphs_calling_each_other():
    with pytest.raises(edgelite.ModelError, match=r"subgraph 1 \(CALL node 0, subgraph\) -> subgraph 2 "
                                                  r"\(CALL node 0, subgraph\) -> subgraph 1"):
        edgelite.Interpreter(model_content=mutual_call_model())


def test_deep_call_chain_is_not_a_recursion_error():
    """5,000 subgraphs each calling the next, the last calling the first: found iteratively."""
    n = 5000
    subgraphs = []
    for i in range(n):
        sg = Subgraph(name=f"sg{i}")
        sg.add_operator("CALL_ONCE", [], [], {"init_subgraph_index": (i + 1) % n})
        subgraphs.append(sg)
    model = Model(subgraphs=subgraphs)
    with pytest.raises(edgelite.ModelError, match="subgraph call cycle: subgraph 0 .* -> subgraph 0"):
        check_structure(model)
    subgraphs[-1].operators.clear()  # a chain, no cycle: fine
    check_structure(model)


def test_if_branch_with_the_wrong_number_of_inputs():
    with pytest.raises(edgelite.ModelError, match=r"operators\[0\] \(IF\): else_subgraph_index 2 has 2 inputs, "
                                                  "the op needs 1"):
        edgelite.Interpreter(model_content=if_wrong_arity_model())


def test_while_signature_types_and_counts():
    model = edgelite.load_model(counting_loop_model())
    check_structure(model)
    cond = model.subgraphs[1]
    cond.tensors[cond.outputs[0]].dtype = TensorType.BOOL
    cond.outputs = cond.outputs + cond.outputs
    with pytest.raises(edgelite.ModelError, match="cond_subgraph_index 1 has 2 outputs, needs 1"):
        check_structure(model)
    model = edgelite.load_model(counting_loop_model())
    body = model.subgraphs[2]
    body.tensors[body.inputs[0]].dtype = TensorType.FLOAT32
    with pytest.raises(edgelite.ModelError, match="input 0 of body_subgraph_index 2 has type"):
        check_structure(model)


def test_reference_to_a_missing_subgraph():
    model = edgelite.load_model(counting_loop_model())
    model.subgraphs[0].operators[0].options["body_subgraph_index"] = 7
    with pytest.raises(edgelite.ModelError, match="body_subgraph_index 7 is not a subgraph index"):
        check_structure(model)


def test_every_shared_model_passes(tmp_path):
    """No false alarm on the zoo's control-flow models."""
    from conftest import MANIFEST, zoo_path
    keys = [k for k in ("ops_control_flow_f32", "signatures_f32", "lstm_text_dyn") if k in MANIFEST]
    if not keys:
        pytest.skip("zoo not available")
    for key in keys:
        check_structure(edgelite.load_model(zoo_path(key)))
