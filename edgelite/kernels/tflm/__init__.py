"""TFLite Micro's arithmetic: kernel variants for ``Interpreter(..., numerics="tflm")``.

TFLM runs TFLite's *reference* integer kernels, which round differently from the optimized
kernels of LiteRT's builtin resolver (edgelite's default numerics). The variants here register
in the same kernel registry at a higher priority, only for interpreters whose op resolver has
``numerics == "tflm"``; they subclass the LiteRT kernels and keep their ``prepare`` checks.
Ops TFLM has no kernel for get :class:`~edgelite.kernels.tflm.missing.TFLMMissingOp` from the
resolver, which fails at ``allocate_tensors`` naming the op. See docs/micro.md.
"""
from . import activations, conv, float_ops, lstm, quantize, reduce, softmax  # noqa: F401  (registers the variants)
from .missing import TFLMMissingOp, tflm_classes
from .ops import TFLM_OP_ADDERS, tflm_adder, tflm_has_op

__all__ = ["TFLMMissingOp", "TFLM_OP_ADDERS", "tflm_adder", "tflm_classes", "tflm_has_op"]
