"""Microcontroller tooling: TFLite Micro arena planning, project export and size reports.

Above the core and never imported by it. ``plan_arena(model)`` plans a smaller tensor arena than
TFLM's greedy planner and ``with_offline_plan`` writes it into the model as TFLM's offline plan
(docs/micro.md). Bit-exact TFLM numerics live in the interpreter: ``Interpreter(...,
numerics="tflm")``.
"""
from .planner import OFFLINE_PLAN_KEY, MicroPlan, plan_arena, with_offline_plan

__all__ = ["OFFLINE_PLAN_KEY", "MicroPlan", "plan_arena", "with_offline_plan"]
