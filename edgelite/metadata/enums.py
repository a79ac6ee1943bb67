"""The metadata schema's enums as ``IntEnum`` classes (tflite-support's
``metadata_schema_py_generated`` constants): ``ColorSpaceType.RGB == 1`` and so on.

:func:`enum_name` turns a member, a number or a name into the name the dataclasses of
:mod:`edgelite.metadata.objects` hold.
"""
from __future__ import annotations

import enum
from typing import Union

from ..schema import TensorType
from .schema import ENUMS

AssociatedFileType = enum.IntEnum("AssociatedFileType", ENUMS["AssociatedFileType"])
ColorSpaceType = enum.IntEnum("ColorSpaceType", ENUMS["ColorSpaceType"])
BoundingBoxType = enum.IntEnum("BoundingBoxType", ENUMS["BoundingBoxType"])
CoordinateType = enum.IntEnum("CoordinateType", ENUMS["CoordinateType"])
ContentProperties = enum.IntEnum("ContentProperties", ENUMS["ContentProperties"])
ScoreTransformationType = enum.IntEnum("ScoreTransformationType", ENUMS["ScoreTransformationType"])
ProcessUnitOptions = enum.IntEnum("ProcessUnitOptions", ENUMS["ProcessUnitOptions"])

__all__ = ["AssociatedFileType", "ColorSpaceType", "BoundingBoxType", "CoordinateType",
           "ContentProperties", "ScoreTransformationType", "ProcessUnitOptions", "TensorType",
           "enum_name"]


def enum_name(enum_type: str, value: Union[int, str, enum.IntEnum]) -> Union[str, int]:
    """The name of ``value`` in schema enum ``enum_type`` (a number the enum lacks stays a number)."""
    if isinstance(value, str):
        if value not in ENUMS[enum_type]:
            raise ValueError(f"{value!r} is not a {enum_type} (one of {sorted(ENUMS[enum_type])})")
        return value
    for name, number in ENUMS[enum_type].items():
        if number == int(value):
            return name
    return int(value)
