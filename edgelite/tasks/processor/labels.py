"""Label maps from the model's associated files, as the Task Library builds them.

A label map is a list of :class:`LabelMapItem` (``name`` from the labels file, ``display_name``
from the file of the requested locale). Files are split on ``'\\n'`` only, and a trailing empty
line is dropped (``BuildLabelMapFromFiles``).
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from ..core.model import TaskError, TaskModel, find_first_associated_file


@dataclasses.dataclass
class LabelMapItem:
    name: str = ""
    display_name: str = ""


def split_lines(data: bytes) -> List[str]:
    lines = data.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def build_label_map(labels: bytes, display_names: Optional[bytes] = None) -> List[LabelMapItem]:
    if not labels:
        raise TaskError("Expected non-empty labels file.")
    items = [LabelMapItem(name=line) for line in split_lines(labels)]
    if display_names:
        names = split_lines(display_names)
        if len(names) != len(items):
            raise TaskError(f"Mismatch between number of labels ({len(items)}) and display names "
                            f"({len(names)}).")
        for item, display in zip(items, names):
            item.display_name = display
    return items


def label_map_from_metadata(model: TaskModel, tensor_metadata: Optional[dict], file_type: str,
                            locale: str) -> List[LabelMapItem]:
    """The label map of a tensor (``file_type`` TENSOR_AXIS_LABELS or TENSOR_VALUE_LABELS), or []."""
    labels_name = find_first_associated_file(tensor_metadata, file_type)
    if not labels_name:
        return []
    display_name = find_first_associated_file(tensor_metadata, file_type, locale)
    display = model.associated_file(display_name) if display_name else None
    return build_label_map(model.associated_file(labels_name), display)
