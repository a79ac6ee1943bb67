"""An estimate of the arena tail TFLite Micro allocates (persistent memory), by part.

The parts are those ``RecordingMicroAllocator`` reports, with the struct sizes of the 64-bit
host build that the tflite-micro wheel runs (a 32-bit MCU needs a little less):

* ``TfLiteEvalTensor`` (24 bytes) for every tensor of every subgraph;
* a persistent ``TfLiteTensor`` (64 bytes) and its quantization (2 x 16 bytes when quantized)
  for each input and output of subgraph 0;
* ``NodeAndRegistration`` (64 bytes) per operator;
* kernels' persistent data: each op's op-data struct (sizes measured with the wheel on one-op
  models), plus per-channel multipliers and shifts (int32 each) for the convolution family and
  per-channel FULLY_CONNECTED;
* variable tensors (LSTM/SVDF states...), allocated persistently;
* the interpreter's own bookkeeping (about 488 bytes, plus 8 per tensor and 4 per operator,
  fitted to the wheel's reports).

When the wheel is installed, ``edgelite micro plan`` reports TFLM's own figures next to these.
"""
from __future__ import annotations

from ..ir import Model
from .lifetimes import align_up, tensor_bytes

# bytes of the op data TFLM's reference kernels allocate persistently (64-bit host, measured with
# the wheel on one-op models); per-channel multipliers and shifts come on top for the conv family
_OP_DATA = {"CONV_2D": 80, "DEPTHWISE_CONV_2D": 80, "TRANSPOSE_CONV": 88, "FULLY_CONNECTED": 72,
            "QUANTIZE": 32, "DEQUANTIZE": 32, "SOFTMAX": 80, "LEAKY_RELU": 24, "MEAN": 44, "SUM": 44,
            "ADD": 96, "SUB": 80, "MUL": 16, "PAD": 88, "STRIDED_SLICE": 112, "CONCATENATION": 160,
            "AVERAGE_POOL_2D": 40, "MAX_POOL_2D": 40, "LOGISTIC": 32, "TANH": 32, "HARD_SWISH": 32,
            "UNIDIRECTIONAL_SEQUENCE_LSTM": 600, "SVDF": 24, "RESHAPE": 0, "SQUEEZE": 0,
            "EXPAND_DIMS": 0}
_DEFAULT_OP_DATA = 32
_SIGNAL_OP_DATA = 224
_PER_CHANNEL_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"}


def _kernel_data(model: Model) -> int:
    total = 16  # the subgraph's own records
    for sg in model.subgraphs:
        for op in sg.operators:
            name = op.name
            data = _OP_DATA.get(name, _SIGNAL_OP_DATA if name.startswith("Signal") else _DEFAULT_OP_DATA)
            allocations = 1
            w = sg.tensors[op.inputs[1]] if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
            if w is not None and w.shape and (name in _PER_CHANNEL_OPS or (
                    name == "FULLY_CONNECTED" and w.quantization is not None and w.quantization.scale.size > 1)):
                channels = w.shape[-1] if name == "DEPTHWISE_CONV_2D" else w.shape[0]
                data += 2 * 4 * channels
                allocations += 2
            total += data + 8 * allocations  # alignment of each allocation, on average
    return total


def estimate_tail(model: Model) -> dict[str, int]:
    """Estimated tail bytes by part (see the module docstring)."""
    tensors = sum(len(sg.tensors) for sg in model.subgraphs)
    ops = sum(len(sg.operators) for sg in model.subgraphs)
    main = model.subgraphs[0] if model.subgraphs else None
    io = list(main.inputs) + list(main.outputs) if main else []
    quantized = sum(1 for i in io if main.tensors[i].quantization is not None
                    and main.tensors[i].quantization.scale.size)
    return {
        "eval_tensors": 24 * tensors,
        "io_tensors": 64 * len(io) + 32 * quantized,
        "node_records": 64 * ops,
        "kernel_data": _kernel_data(model),
        "variables": sum(align_up(tensor_bytes(t)) for sg in model.subgraphs for t in sg.tensors
                         if t.is_variable),
        "interpreter": 488 + 8 * tensors + 4 * ops,
    }


def estimate_startup(model: Model, planned: int, scratch: int) -> int:
    """Temporary bytes TFLM's AllocateTensors needs while planning, in the head's place.

    ``AllocationInfo`` records (32 bytes each, 64-bit host) for every tensor and scratch buffer,
    the subgraph offsets, the greedy planner's own arrays (36 bytes per planned buffer) and the
    scratch requests and handles (about 24 bytes each); fitted to the wheel's minimum arenas.
    For tiny models this, not the activations, sets the head.
    """
    tensors = sum(len(sg.tensors) for sg in model.subgraphs)
    return align_up(8 * len(model.subgraphs) + 32 * (tensors + scratch) + 36 * planned + 24 * scratch)
