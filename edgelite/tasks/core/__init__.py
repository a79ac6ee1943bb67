"""Classes shared by every task: ``BaseOptions`` and the model wrapper (``TaskModel``)."""
from .base_options import BaseOptions
from .model import TaskError, TaskModel

__all__ = ["BaseOptions", "TaskError", "TaskModel"]
