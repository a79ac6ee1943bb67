"""``BaseOptions``: where a task's model comes from (as ``tflite_support.task.core.BaseOptions``)."""
from __future__ import annotations

import dataclasses
from typing import Optional


@dataclasses.dataclass
class BaseOptions:
    """The model of a task: ``file_content`` (bytes) takes precedence over ``file_name``.

    ``num_threads`` is passed to the interpreter (-1: let it decide, i.e. one thread);
    ``use_coral`` exists for API compatibility and must stay falsy (there is no Edge TPU here).
    """

    file_name: Optional[str] = None
    file_content: Optional[bytes] = None
    num_threads: Optional[int] = -1
    use_coral: Optional[bool] = None
