"""Classes shared by every task: ``BaseOptions``, the model wrapper (``TaskModel``) and, in
:mod:`.task`, the base classes of the tasks (creation from a file or options, embedders)."""
from .base_options import BaseOptions
from .model import TaskError, TaskModel

__all__ = ["BaseOptions", "TaskError", "TaskModel"]
