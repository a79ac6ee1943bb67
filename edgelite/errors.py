"""Exceptions shared by every part of edgelite."""


class ModelError(ValueError):
    """A .tflite file (or an in-memory model) is malformed.

    The message names the table, field and index where the problem was found,
    e.g. ``Model.subgraphs[0].tensors[12].buffer: index 99 out of range (0..40)``.
    """


class ConversionError(ValueError):
    """A model could not be converted. ``problems`` lists every issue found."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) found during conversion:\n{lines}")


class ResourceError(ModelError):
    """Running a model would take more memory than allowed (``Interpreter(max_memory_bytes=...)``).

    Raised *before* the allocation. The message names the tensor (or what else needed the
    memory), the size asked for and the budget, e.g. ``subgraph 0 tensor 3 ('big'): 400.0 GB
    (shape [100000, 1000000], float32) exceeds the memory budget of 256.0 MB``.
    ``nbytes`` and ``budget`` hold the two numbers.
    """

    def __init__(self, message: str, nbytes: int = 0, budget: int = 0):
        super().__init__(message)
        self.nbytes = int(nbytes)
        self.budget = int(budget)


class CancelledError(RuntimeError):
    """``invoke()`` stopped early: ``Interpreter.cancel()`` was called from another thread, the
    ``invoke(timeout=...)`` passed, or a WHILE loop ran more than ``max_loop_iterations`` times.
    The interpreter stays usable: the next ``invoke()`` runs normally (outputs of the cancelled
    run are undefined)."""


class ConcurrentUseError(RuntimeError):
    """Two threads interleaved their set_tensor/invoke/get_tensor sequences on one interpreter,
    so one of them would have run with, or read, the other's data (see docs/reliability.md).
    Each single call is atomic; hold ``with interpreter.exclusive():`` across a whole sequence,
    use a signature runner, or give each thread its own interpreter."""
