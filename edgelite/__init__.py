"""edgelite: the TensorFlow Lite workflow (convert, optimize, run, measure) on numpy.

Main entry points::

    import edgelite
    model = edgelite.load_model("model.tflite")     # the shared IR (edgelite.ir.Model)
    model.save("copy.tflite")
    interp = edgelite.Interpreter(model_path="model.tflite")  # ai_edge_litert's API
"""
from .errors import CancelledError, ConcurrentUseError, ConversionError, ModelError, ResourceError
from .reader import load_model

__version__ = "0.1.0"

__all__ = ["load_model", "ModelError", "ConversionError", "ResourceError", "CancelledError", "ConcurrentUseError",
           "Interpreter", "register_custom_op", "__version__"]


def __getattr__(name):
    # The interpreter pulls in the kernels; import it only when asked for.
    if name == "Interpreter":
        from .interpreter import Interpreter
        return Interpreter
    if name == "register_custom_op":  # docs/custom_ops.md
        from .kernels.custom_ops import register_custom_op
        return register_custom_op
    if name == "load_delegate":  # docs/delegates.md
        from .delegates import load_delegate
        return load_delegate
    raise AttributeError(f"module 'edgelite' has no attribute {name!r}")
