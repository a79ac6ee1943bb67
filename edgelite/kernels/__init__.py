"""numpy kernels, one module per op family. Importing this package registers the families of
``FAMILIES``; those of ``ON_DEMAND_FAMILIES`` (custom-op packs) register on the first lookup
of an op name nothing else registers.

Add a family by creating a module here and listing it in ``FAMILIES``.
"""
import importlib

from .base import Kernel, KernelError, TensorSpec, add_on_demand, lookup, register, registered_ops

FAMILIES = [
    "elementwise", "activations", "reduce", "conv", "pooling", "matmul", "shape_ops",
    "array_ops", "image", "detection", "recurrent", "basic_lstm", "control_flow", "variables",
    "quantize", "quantized_conv", "quantized_elementwise", "quantized_misc", "quantized_activations", "fused_swish", "hybrid", "sparse",
    "bitwise", "bidirectional", "svdf", "integer_lstm", "exact_logistic",
    "embedding", "segments", "matrix_ops", "hashtable", "spectral", "conv3d", "random_ops",
    # kernel variants with TFLite Micro's arithmetic (Interpreter(numerics="tflm"))
    "tflm",
    # the compiled tier (numba, extra edgelite[fast]; imported lazily, EDGELITE_KERNELS=reference: off)
    "fast",
]

# Custom-op packs, registered by custom code in the same registry. They register only names no
# family above registers (tests/runtime/test_import_cost.py), so they are imported on the first
# lookup of a name nothing has registered (or by registered_ops()): a model without their ops
# never pays for them.
ON_DEMAND_FAMILIES = ["litert_custom", "mediapipe", "signal", "ethos_u"]


def _import_families(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:  # a family not written yet
            if e.name != f"{__name__}.{name}":
                raise


_import_families(FAMILIES)
add_on_demand(lambda: _import_families(ON_DEMAND_FAMILIES))

__all__ = ["Kernel", "KernelError", "TensorSpec", "lookup", "register", "registered_ops"]
