"""numpy kernels, one module per op family. Importing this package registers them all.

Add a family by creating a module here and listing it in ``FAMILIES``.
"""
import importlib

from .base import Kernel, KernelError, TensorSpec, lookup, register, registered_ops

FAMILIES = [
    "elementwise", "activations", "reduce", "conv", "pooling", "matmul", "shape_ops",
    "array_ops", "image", "detection", "recurrent", "control_flow", "variables",
    "quantize", "quantized_conv", "quantized_elementwise", "quantized_misc", "quantized_activations", "fused_swish", "hybrid", "sparse",
    "bitwise", "bidirectional", "svdf", "integer_lstm", "exact_logistic",
    "embedding", "segments", "matrix_ops", "hashtable", "spectral", "conv3d", "random_ops",
    # custom-op packs, registered by custom code in the same registry
    "litert_custom", "mediapipe", "signal", "ethos_u",
    # kernel variants with TFLite Micro's arithmetic (Interpreter(numerics="tflm"))
    "tflm",
    # the compiled tier (numba, extra edgelite[fast]; imported lazily, EDGELITE_KERNELS=reference: off)
    "fast",
]

for _name in FAMILIES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:  # a family not written yet
        if _e.name != f"{__name__}.{_name}":
            raise

__all__ = ["Kernel", "KernelError", "TensorSpec", "lookup", "register", "registered_ops"]
