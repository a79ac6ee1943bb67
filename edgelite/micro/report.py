"""The numbers ``edgelite micro plan`` reports: our plan, TFLM's greedy plan and, with the
tflite-micro wheel, TFLM's own measurements of both."""
from __future__ import annotations

from ..ir import Model
from .planner import MicroPlan, plan_arena, with_offline_plan


def plan_report(model: Model, path: str | None = None, measure: bool | None = None) -> dict:
    """A JSON-able report of the arena plan of ``model``.

    ``arena_bytes`` is the total arena TFLM needs with our plan: measured by bisection with the
    wheel when it is installed (``measure`` None or True), else our estimate (head + tail).
    ``tflm_arena_bytes`` is TFLM's minimum with its own greedy plan (None without the wheel).
    """
    from .tflm_oracle import have_tflm
    plan = plan_arena(model)
    report = {
        "subgraphs": [{"index": i, "head_bytes": h} for i, h in enumerate(plan.head_by_subgraph)],
        "head_bytes": plan.head,
        "tflm_greedy_head_bytes": plan.greedy_head,
        "live_peak_bytes": plan.live_peak,
        "tail_bytes_estimate": plan.tail_bytes,
        "tail_estimate": dict(plan.tail),
        "startup_bytes_estimate": plan.startup,
        "overlaps": [{"input": i, "output": o, "distance": d} for i, o, d in plan.in_place],
        "estimated_arena_bytes": plan.total,
        "estimated_tflm_arena_bytes": plan.greedy_total,
        "arena_bytes": plan.total,
        "tflm_arena_bytes": None,
        "measured": False,
    }
    if measure is not False and have_tflm():
        from .tflm_oracle import tflm_allocations, tflm_minimum_arena
        planned = with_offline_plan(model, plan).to_bytes()
        source = path if path is not None else model.to_bytes()
        report["tflm"] = {"greedy": tflm_allocations(source), "planned": tflm_allocations(planned)}
        report["tflm_arena_bytes"] = tflm_minimum_arena(source)
        report["arena_bytes"] = tflm_minimum_arena(planned)
        report["measured"] = True
    return report


def format_plan(report: dict, name: str = "model") -> str:
    lines = [f"TFLite Micro arena plan for {name}"]
    lines.append(f"  head (activations, our plan): {report['head_bytes']:,} bytes "
                 f"(TFLM greedy: {report['tflm_greedy_head_bytes']:,}; most bytes alive at once: "
                 f"{report['live_peak_bytes']:,})")
    for sg in report["subgraphs"]:
        lines.append(f"    subgraph {sg['index']}: {sg['head_bytes']:,} bytes")
    lines.append(f"  tail (estimate): {report['tail_bytes_estimate']:,} bytes")
    for part, n in report["tail_estimate"].items():
        lines.append(f"    {part}: {n:,}")
    lines.append(f"  start-up planning memory (estimate): {report['startup_bytes_estimate']:,} bytes "
                 f"(the head is at least this large while AllocateTensors plans)")
    lines.append(f"  overlapping buffers: {len(report['overlaps'])} (output placed over its dying input)")
    lines.append(f"  total with our plan: {report['arena_bytes']:,} bytes"
                 + (" (TFLM, measured)" if report["measured"] else " (estimate)"))
    if report["tflm_arena_bytes"] is not None:
        t = report["tflm"]
        lines.append(f"  TFLM greedy minimum: {report['tflm_arena_bytes']:,} bytes "
                     f"(head {t['greedy']['head']:,}, tail {t['greedy']['tail']:,}); with our plan "
                     f"head {t['planned']['head']:,}, tail {t['planned']['tail']:,}")
    else:
        lines.append(f"  TFLM greedy (estimate): {report['estimated_tflm_arena_bytes']:,} bytes "
                     f"(install the tflite-micro wheel to measure)")
    return "\n".join(lines) + "\n"


__all__ = ["MicroPlan", "format_plan", "plan_report"]
