"""Memory budget: every model-sized allocation is checked before it is made (docs/reliability.md)."""
import numpy as np
import pytest

import edgelite
from edgelite.runtime.budget import MemoryBudget, default_limit

from .hostile_models import fill_model, float16_weights_model, huge_tensor_model, mlp_model


def test_400_gb_tensor_is_a_resource_error_naming_it():
    it = edgelite.Interpreter(model_content=huge_tensor_model())
    with pytest.raises(edgelite.ResourceError) as info:
        it.allocate_tensors()
    message = str(info.value)
    assert "tensor 0 ('x')" in message and "400.0 GB" in message and "[100000, 1000000]" in message
    assert isinstance(info.value, edgelite.ModelError)
    assert info.value.nbytes == 400_000_000_000 and info.value.budget == it._runtime.budget.limit


def test_16_gb_tensor_is_refused_by_the_default_budget():
    """16 GB fits in this machine's memory on paper: the default budget (half the available
    memory) refuses it before the OS would kill the process."""
    if default_limit() >= 16_000_000_000:
        pytest.skip("this machine's default budget admits 16 GB")
    it = edgelite.Interpreter(model_content=huge_tensor_model((4, 1_000_000_000)))
    with pytest.raises(edgelite.ResourceError, match="16.0 GB"):
        it.allocate_tensors()


def test_explicit_budget_refuses_the_arena_and_admits_a_larger_one():
    data = huge_tensor_model((1000, 1000))  # two 4 MB tensors alive together
    with pytest.raises(edgelite.ResourceError, match="activation arena of subgraph 0"):
        edgelite.Interpreter(model_content=data, max_memory_bytes=6 << 20).allocate_tensors()
    it = edgelite.Interpreter(model_content=data, max_memory_bytes=9 << 20)
    it.allocate_tensors()
    x = np.ones((1000, 1000), np.float32)
    it.set_tensor(0, x)
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(it.get_output_details()[0]["index"]), x + x)


def test_dynamic_output_checked_at_invoke_and_interpreter_still_usable():
    it = edgelite.Interpreter(model_content=fill_model(), max_memory_bytes=1 << 20)
    it.allocate_tensors()
    out = it.get_output_details()[0]["index"]
    it.set_tensor(0, np.array([1000, 1000], np.int32))  # 4 MB
    with pytest.raises(edgelite.ResourceError, match=r"FILL \(node 0\) output 0, tensor 2 \('filled'\)"):
        it.invoke()
    it.set_tensor(0, np.array([3, 5], np.int32))
    it.invoke()
    np.testing.assert_array_equal(it.get_tensor(out), np.ones((3, 5), np.float32))


def test_constant_expansion_of_float16_weights_is_checked():
    n = 1 << 20  # 2 MB of float16 -> 4 MB of float32 at allocate
    with pytest.raises(edgelite.ResourceError, match=r"DEQUANTIZE \(node 0\) expanding subgraph 0 tensor 2"):
        edgelite.Interpreter(model_content=float16_weights_model(n), max_memory_bytes=3 << 20).allocate_tensors()
    it = edgelite.Interpreter(model_content=float16_weights_model(n), max_memory_bytes=64 << 20)
    it.allocate_tensors()


def test_dense_form_of_a_sparse_constant_is_checked():
    from edgelite.ir import DimensionMetadata, Model, Sparsity, Subgraph
    from edgelite.schema import TensorType
    sg = Subgraph(name="main")
    # a 1-element CSR tensor declaring a 40 GB dense shape
    w = sg.add_constant("w", np.array([1.0], np.float32))
    sg.tensors[w].shape = (100_000, 100_000)
    sg.tensors[w].sparsity = Sparsity(traversal_order=[0, 1], block_map=[], dim_metadata=[
        DimensionMetadata(format=0, dense_size=100_000),
        DimensionMetadata(format=1, array_segments=np.zeros(100_001, np.int32), array_indices=np.zeros(1, np.int32))])
    y = sg.add_tensor("dense", (100_000, 100_000), TensorType.FLOAT32)
    sg.add_operator("DENSIFY", [w], [y])
    sg.outputs = [y]
    it = edgelite.Interpreter(model_content=Model(subgraphs=[sg]))
    with pytest.raises(edgelite.ResourceError, match="dense form of subgraph 0 tensor 0 .'w'.: 40.0 GB"):
        it.allocate_tensors()


def test_budget_argument_checks():
    with pytest.raises(ValueError, match="positive"):
        edgelite.Interpreter(model_content=mlp_model(), max_memory_bytes=0)
    with pytest.raises(TypeError):
        edgelite.Interpreter(model_content=mlp_model(), max_memory_bytes="1GB")


def test_budget_reservations_replace_and_release():
    budget = MemoryBudget(100)
    budget.reserve("a", 60, "a")
    budget.reserve("a", 90, "a again")  # replaces its own reservation
    with pytest.raises(edgelite.ResourceError, match="b: 20 B exceeds the memory budget of 100 B"):
        budget.reserve("b", 20, "b")
    assert budget.held == 90
    budget.release("a")
    budget.check(100, "all of it")
    with pytest.raises(edgelite.ResourceError):
        budget.check_array((11, 10), np.uint8, "x")


def test_quantizer_checks_the_dense_size_of_sparse_weights():
    """Full-integer quantization densifies sparse weights (in calibration's interpreter and in the
    weight rewrite): a declared 40 GB dense shape is refused before the allocation."""
    from edgelite.ir import DimensionMetadata, Model, Sparsity, Subgraph
    from edgelite.optimize import quantize
    from edgelite.schema import TensorType
    n = 100_000
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (1, n), TensorType.FLOAT32)
    w = sg.add_constant("w", np.array([1.0], np.float32))
    sg.tensors[w].shape = (n, n)
    sg.tensors[w].sparsity = Sparsity(traversal_order=[0, 1], block_map=[], dim_metadata=[
        DimensionMetadata(format=0, dense_size=n),
        DimensionMetadata(format=1, array_segments=np.zeros(n + 1, np.int32), array_indices=np.zeros(1, np.int32))])
    dense = sg.add_tensor("w_dense", (n, n), TensorType.FLOAT32)
    sg.add_operator("DENSIFY", [w], [dense])
    y = sg.add_tensor("y", (1, n), TensorType.FLOAT32)
    sg.add_operator("FULLY_CONNECTED", [x, dense], [y])
    sg.inputs, sg.outputs = [x], [y]
    data = [[np.zeros((1, n), np.float32)]]
    with pytest.raises(edgelite.ResourceError, match="dense form of .*'w'.*40.0 GB"):
        quantize(Model(subgraphs=[sg]), mode="int8", representative_data=data, progress=False)


def test_negative_dimension_is_a_model_error_naming_the_tensor():
    """The reader refuses negative dims in a file; a model edited in memory reaches allocate."""
    model = edgelite.load_model(huge_tensor_model((4, 4096)))
    model.subgraphs[0].tensors[0].shape = (-4, 4096)
    it = edgelite.Interpreter(model_content=model)
    with pytest.raises(edgelite.ModelError, match=r"tensor 0 \('x'\): shape \[-4, 4096\] has a negative dimension"):
        it.allocate_tensors()


def test_value_driven_output_of_a_planned_kernel_is_checked_at_invoke():
    """TILE with multiples given at run time: 10^4 x 10^4 copies of a 2x2 float block = 1.6 GB."""
    from edgelite.ir import Model, Subgraph
    from edgelite.schema import TensorType
    sg = Subgraph(name="main")
    x = sg.add_tensor("x", (2, 2), TensorType.FLOAT32)
    reps = sg.add_tensor("reps", (2,), TensorType.INT32)
    y = sg.add_tensor("tiled", (-1, -1), TensorType.FLOAT32)
    sg.add_operator("TILE", [x, reps], [y])
    sg.inputs, sg.outputs = [x, reps], [y]
    it = edgelite.Interpreter(model_content=Model(subgraphs=[sg]).to_bytes(), max_memory_bytes=1 << 20)
    it.allocate_tensors()
    it.set_tensor(0, np.ones((2, 2), np.float32))
    it.set_tensor(1, np.array([10_000, 10_000], np.int32))
    with pytest.raises(edgelite.ResourceError, match=r"TILE \(node 0\) output 0, tensor 2 \('tiled'\): 1.6 GB"):
        it.invoke()
    it.set_tensor(1, np.array([2, 3], np.int32))
    it.invoke()
    assert it.get_tensor(it.get_output_details()[0]["index"]).shape == (4, 6)
