"""The TensorFlow Lite Micro signal library as custom ops (``Signal*`` custom codes).

Bit-exact numpy versions of the ops in ``signal/micro/kernels`` of tensorflow/tflite-micro,
registered by custom code in the kernel registry (an op's ``.name`` is its custom code):

* :mod:`.spectral_ops`: SignalWindow, SignalFftAutoScale, SignalRfft, SignalIrfft,
  SignalEnergy (with :mod:`.kissfft`, kissfft 1.3.0 in int16, int32 and float32);
* :mod:`.filterbank_ops`: SignalFilterBank, SignalFilterBankSquareRoot,
  SignalFilterBankSpectralSubtraction, SignalPCAN, SignalFilterBankLog;
* :mod:`.framing_ops`: SignalDelay, SignalFramer, SignalOverlapAdd, SignalStacker.

Ops that carry state across invokes keep it in their kernel instance; ``reset_state()``
restores it as TFLM's Reset does. See docs/custom_ops.md.
"""
from . import filterbank_ops, framing_ops, spectral_ops  # noqa: F401  (registers the kernels)
from .options import SignalKernel

__all__ = ["SignalKernel"]
