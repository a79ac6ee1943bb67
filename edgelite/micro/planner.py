"""An arena planner for TFLite Micro that beats its greedy planner, written as TFLM's offline plan.

``plan_arena(model)`` computes the buffers TFLM plans (:mod:`.lifetimes`), then:

1. **overlap**: an op's output may start ``D`` bytes below an input that dies at that op, where
   TFLM's reference kernel never writes over input it still reads (:mod:`.overlap`: ``D = 0``
   for element-by-element ops and RESHAPE, about a row for 3x3 convolutions and pooling, one
   pixel for 1x1 convolutions); never for the inputs/outputs of called subgraphs (IF/WHILE
   bodies) or variables. Chains of such pairs share one block;
2. **offsets**: several placement orders with first-fit (:func:`.greedy.best_offsets`), and
   exhaustively for tiny graphs, keeping TFLM's own greedy plan if nothing beats it;
3. scratch buffers stay online: TFLM places them around the offline offsets, which the plan's
   head includes (:func:`.greedy.tflm_greedy` with the offline offsets fixed).

The plan goes into the model as the metadata buffer ``OfflineMemoryAllocation``: int32
``[version, subgraphs, n, offset_0 ... offset_{n-1}]`` over all ``n`` tensors of all subgraphs,
-1 where TFLM plans at runtime (constants, variables, unused tensors).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..ir import Model
from .greedy import best_group_offsets, lower_bound, peak, tflm_greedy
from .lifetimes import UNMODELLED_SCRATCH, Buffer, align_up, planned_buffers, subgraph_offsets
from .overlap import ELEMENTWISE, overlap_distance
from .tail import estimate_startup, estimate_tail

OFFLINE_PLAN_KEY = "OfflineMemoryAllocation"
OFFLINE_PLAN_VERSION = 1
MAX_OVERLAP_TRIALS = 200  # candidate overlaps tried, largest saving first

@dataclass
class MicroPlan:
    """An arena plan for TFLite Micro (sizes in bytes)."""
    offsets: dict[int, int]                     # global tensor index -> offline offset
    head: int                                   # our plan's head (with TFLM placing the scratch)
    greedy_head: int                            # TFLM's greedy head for the same buffers
    live_peak: int                              # most bytes alive at once (the floor without overlaps)
    head_by_subgraph: list[int]                 # peak of each subgraph's own buffers
    tail: dict[str, int] = field(default_factory=dict)  # estimated tail, by part
    in_place: list[tuple[str, str, int]] = field(default_factory=list)  # (input, output, D) overlapping
    tensor_count: int = 0
    subgraph_count: int = 0
    startup: int = 0                            # TFLM's temporary planning memory (estimate)

    @property
    def tail_bytes(self) -> int:
        return sum(self.tail.values())

    @property
    def total(self) -> int:
        """Estimated arena TFLM needs with this plan: tail + the head, or the temporary
        planning memory of AllocateTensors where that is larger (tiny models)."""
        return max(self.head, self.startup) + self.tail_bytes

    @property
    def greedy_total(self) -> int:
        return max(self.greedy_head, self.startup) + self.tail_bytes

    def offline_words(self) -> np.ndarray:
        """The OfflineMemoryAllocation metadata as int32 words."""
        words = np.full(3 + self.tensor_count, -1, np.int32)
        words[0], words[1], words[2] = OFFLINE_PLAN_VERSION, self.subgraph_count, self.tensor_count
        for key, off in self.offsets.items():
            words[3 + key] = off
        return words


def _overlap_pairs(model: Model, tensors: list[Buffer], allowed=None) -> dict[int, tuple[int, int]]:
    """output key -> (input key, D): outputs placed D bytes below an input dying at their op."""
    by_key = {b.key: b for b in tensors}
    base = subgraph_offsets(model)
    pairs: dict[int, tuple[int, int]] = {}
    used_inputs: set[int] = set()
    for si, sg in enumerate(model.subgraphs):
        # a called subgraph's inputs and outputs are copied from/to its caller's: leave them alone
        protected = set(sg.inputs) | set(sg.outputs) if si > 0 else set()
        for op in sg.operators:
            distance = overlap_distance(op, sg)
            if distance is None or op.outputs[0] in protected:
                continue
            ok = by_key.get(base[si] + op.outputs[0])
            if ok is None or (allowed is not None and not allowed(ok)):
                continue
            candidates = op.inputs if op.name in ELEMENTWISE else op.inputs[:1]
            for i in candidates:
                ib = by_key.get(base[si] + i) if i >= 0 else None
                if ib is None or i in protected or ib.key in used_inputs or ib.last != ok.first:
                    continue
                if op.name in ELEMENTWISE and tuple(sg.tensors[i].shape) != tuple(sg.tensors[op.outputs[0]].shape):
                    continue
                pairs[ok.key] = (ib.key, align_up(distance))
                used_inputs.add(ib.key)
                break
    return pairs


def _groups(tensors: list[Buffer], pairs: dict[int, tuple[int, int]]):
    """Chains of overlapping buffers: root key -> {member key: offset relative to the root}."""
    rel: dict[int, tuple[int, int]] = {}  # key -> (root, offset from root)
    for b in sorted(tensors, key=lambda b: b.first):
        if b.key in pairs:
            src, d = pairs[b.key]
            root, off = rel[src]
            rel[b.key] = (root, off - d)
        else:
            rel[b.key] = (b.key, 0)
    groups: dict[int, dict[int, int]] = {}
    for key, (root, off) in rel.items():
        groups.setdefault(root, {})[key] = off
    return groups


def _plan_with(model, buffers, tensors, scratch, pairs):
    """(realized head, tensor offsets) of a plan with the given overlaps."""
    index = {b.key: i for i, b in enumerate(buffers)}
    sizes = [b.size for b in buffers]
    spans = [(b.first, b.last) for b in buffers]
    groups = [[(index[k], off) for k, off in members.items()] for members in _groups(tensors, pairs).values()]
    groups += [[(index[b.key], 0)] for b in scratch]
    offsets = best_group_offsets(groups, sizes, spans)
    tensor_offsets = {b.key: offsets[i] for i, b in enumerate(buffers) if b.key >= 0}
    fixed = {i: tensor_offsets[b.key] for i, b in enumerate(buffers) if b.key >= 0}
    placed = tflm_greedy(sizes, spans, fixed)  # TFLM puts the scratch buffers around them
    return peak(placed, sizes), tensor_offsets


def plan_arena(model: Model) -> MicroPlan:
    """Plan the tensor arena of ``model`` for TFLite Micro (see the module docstring)."""
    buffers = planned_buffers(model)
    tensors = [b for b in buffers if b.key >= 0]
    scratch = [b for b in buffers if b.key < 0]
    sizes = [b.size for b in buffers]
    spans = [(b.first, b.last) for b in buffers]
    greedy = tflm_greedy(sizes, spans)
    greedy_head = peak(greedy, sizes)
    best = (greedy_head, {b.key: greedy[i] for i, b in enumerate(buffers) if b.key >= 0}, {})
    # scratch TFLM would place around our offsets unseen: keep its own plan for such models
    unmodelled = any(op.name in UNMODELLED_SCRATCH for sg in model.subgraphs for op in sg.operators)
    head, offsets = (greedy_head, None) if unmodelled else _plan_with(model, buffers, tensors, scratch, {})
    if head < greedy_head:
        best = (head, offsets, {})
    # add overlaps one at a time, largest saving first, keeping those that shrink the plan
    # (a chain is planned as one block over its whole lifetime, so not every overlap helps)
    by_key = {b.key: b for b in tensors}
    candidates = sorted(_overlap_pairs(model, tensors).items(), key=lambda kv: -(
        by_key[kv[0]].size + by_key[kv[1][0]].size - max(by_key[kv[1][0]].size + kv[1][1], by_key[kv[0]].size)))
    if unmodelled:
        candidates = []
    pairs: dict[int, tuple[int, int]] = {}
    # 1. peak-directed: overlap a pair alive where the plan peaks, while that lowers the peak
    for _ in range(MAX_OVERLAP_TRIALS):
        offsets = best[1]
        top = max(tensors, key=lambda b: offsets[b.key] + b.size)
        alive = {b.key for b in tensors if b.first <= top.last and top.first <= b.last}
        improved = False
        for out_key, pair in candidates:
            if out_key in pairs or (out_key not in alive and pair[0] not in alive):
                continue
            trial = {**pairs, out_key: pair}
            t_head, t_offsets = _plan_with(model, buffers, tensors, scratch, trial)
            if t_head < best[0]:
                pairs, best, improved = trial, (t_head, t_offsets, dict(trial)), True
                break
        if not improved:
            break
    # 2. then every other overlap that does not raise the peak (more room for the scratch)
    for out_key, pair in candidates[:MAX_OVERLAP_TRIALS]:
        if out_key in pairs:
            continue
        trial = {**pairs, out_key: pair}
        t_head, t_offsets = _plan_with(model, buffers, tensors, scratch, trial)
        if t_head <= best[0]:
            pairs, best = trial, (t_head, t_offsets, dict(trial))
    head, tensor_offsets, pairs = best
    by_sg = [0] * len(model.subgraphs)
    for b in tensors:
        by_sg[b.subgraph] = max(by_sg[b.subgraph], tensor_offsets[b.key] + b.size)
    names = {b.key: b.label for b in tensors}
    return MicroPlan(
        offsets=tensor_offsets, head=head, greedy_head=greedy_head, live_peak=lower_bound(sizes, spans),
        head_by_subgraph=by_sg, tail=estimate_tail(model),
        in_place=[(names[i], names[o], d) for o, (i, d) in pairs.items()],
        tensor_count=sum(len(sg.tensors) for sg in model.subgraphs), subgraph_count=len(model.subgraphs),
        startup=estimate_startup(model, len(buffers), len(scratch)))


def with_offline_plan(model: Model, plan: MicroPlan | None = None) -> Model:
    """A copy of ``model`` carrying ``plan`` (default: :func:`plan_arena`) as TFLM's offline plan."""
    plan = plan or plan_arena(model)
    planned = copy.copy(model)
    planned.metadata = dict(model.metadata or {})
    planned.metadata[OFFLINE_PLAN_KEY] = plan.offline_words().tobytes()
    return planned
