"""The interpreter's engine: arena memory planning and per-subgraph execution.

``memory_plan`` places tensors in one arena by lifetime and ``tensor_buffers`` gives
every tensor its buffer; ``executor`` prepares one subgraph's kernels, ``node_calls``
runs them; ``model_runtime.Runtime`` ties the subgraphs of a model together
(control-flow calls, resource variables, profiling).
"""
from .executor import SubgraphExecutor, UnsupportedOpsError
from .memory_plan import ArenaPlan, BufferRequest, plan_arena
from .model_runtime import Runtime
from .node_calls import OpTiming

__all__ = ["ArenaPlan", "BufferRequest", "OpTiming", "Runtime", "SubgraphExecutor",
           "UnsupportedOpsError", "plan_arena"]
