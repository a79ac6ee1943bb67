"""The ONNX Runtime delegate: partitions of a .tflite graph run as ONNX Runtime sessions.

``edgelite.load_delegate("onnxruntime", options={...})``; needs ``pip install edgelite[ort]``
(onnx and onnxruntime, imported when the first partition is prepared). Nodes that
:func:`edgelite.export_onnx.supports` accepts are delegated; each partition is lowered to
ONNX (:func:`edgelite.export_onnx.lower_subgraph`) with the shapes of the current
allocation and becomes one ``InferenceSession``, built at ``allocate_tensors`` (again
after ``resize_tensor_input``: sessions are cached per input shapes).

Options (all optional):

* ``providers`` — execution providers, e.g. ``["CUDAExecutionProvider", "CPUExecutionProvider"]``
  (default: CPU), ``provider_options`` — a list of dicts, one per provider;
* ``intra_op_num_threads`` — default ``"auto"``: the interpreter's ``num_threads`` (1 when not
  given), but 1 for partitions under ``SMALL_PARTITION_MACS`` multiply-accumulates, where a
  second thread costs more than it brings (tiny_bert_f32: 0.206 ms with 2, 0.130 ms with 1);
  an int forces the count;
* ``allow_spinning`` — False (default), True or ``"auto"``: whether ORT's intra-op pool
  threads spin while waiting for work. Off by default: on a machine whose cores other work
  shares, spinning pools fight (docs/delegates.md, Threading). ``"auto"`` spins only when ORT
  is the one parallel layer active: the partition is its whole subgraph (no edgelite kernel,
  whose BLAS or numba pool could run between partitions) and it has more than one thread.
  Spinning threads stop when a run returns (``session.force_spinning_stop``), so they do not
  compete with the caller between invokes. Sleeping threads pay a wake-up per parallel op
  (about half of the second thread's gain on mobilenet_v2 on a quiet machine);
* ``graph_optimization_level`` — "disable", "basic", "extended" or "all" (default "all");
* ``min_partition_size`` — smallest partition worth a session (default 1);
* ``keep_on_edgelite`` — op names that stay on edgelite although they lower to ONNX, because
  edgelite's own kernel runs them faster than ONNX Runtime does (a list, or a comma-separated
  string; ``""`` delegates everything lowerable). Default: ``UNIDIRECTIONAL_SEQUENCE_LSTM``, whose
  lowering is unrolled over time into ~11 ORT nodes a step (lstm_text_f32 at 2 threads: 0.35 ms
  delegated, 0.13 ms with the LSTMs on edgelite; LiteRT+XNNPACK 0.11 ms);
* ``spin_duration_us`` — when spinning, how long a pool thread spins before it sleeps
  (``session.intra_op.spin_duration_us``; default: ORT's own spin count);
* ``session_config`` — extra ``SessionOptions.add_session_config_entry`` pairs (they override
  the delegate's own entries);
* ``int8_form`` — how int8 convolutions and matrix products reach ORT: ``"qlinear"``
  (QLinearConv / ORT's QLinear operators on uint8 storage: the fastest form on ORT's CPU and
  OpenVINO providers), ``"qdq"`` (DequantizeLinear -> float op -> QuantizeLinear: the form
  accelerator providers quantize from, and the one CUDA runs at all), or ``"auto"`` (default:
  ``qlinear`` when the first provider is ``CPU_LIKE_PROVIDERS``, else ``qdq``);
* ``exact_int8_mean`` — default False: the int8 MEAN over H and W (squeeze-excite blocks,
  global pooling) runs as ORT's QLinearGlobalAveragePool (within one step of LiteRT's);
  True lowers it to LiteRT's exact integer arithmetic in ~20 standard ONNX ops;
* ``fallback`` — when a partition fails to lower or to load in ORT: "edgelite" (default;
  the partition runs on edgelite's kernels, with a warning) or "raise".
"""
from __future__ import annotations

import warnings

import numpy as np

from . import Delegate, DelegateError, DelegateKernel, Partition

_LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
           "all": "ORT_ENABLE_ALL"}
_OPTIONS = {"providers", "provider_options", "intra_op_num_threads", "allow_spinning", "graph_optimization_level",
            "min_partition_size", "session_config", "fallback", "exact_int8_mean", "spin_duration_us",
            "keep_on_edgelite", "int8_form"}
# providers that run ORT's QLinear operators well (measured: docs/delegates.md); for the others
# int8 graphs are lowered in QDQ form
CPU_LIKE_PROVIDERS = ("CPUExecutionProvider", "OpenVINOExecutionProvider")
# ops that lower to ONNX but run faster on edgelite's kernels than in ORT (docs/delegates.md)
KEEP_ON_EDGELITE = ("UNIDIRECTIONAL_SEQUENCE_LSTM",)


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:  # optional extra
        raise DelegateError("the onnxruntime delegate needs onnxruntime and onnx: pip install 'edgelite[ort]'"
                            ) from e
    return onnxruntime


# partitions with less work than this (multiply-accumulates per run) get one ORT thread when
# intra_op_num_threads is "auto": measured on the zoo at 2 threads, tiny_bert_f32 (1.8 M),
# lstm_text_f32 (0.8 M) and audio_conv1d_f32 (8.5 M) ran faster on one thread,
# mobilenet_v3_small_f32 (58 M) and larger on two (docs/delegates.md, Threading)
SMALL_PARTITION_MACS = 20_000_000


class OnnxRuntimeDelegate(Delegate):
    """Runs the ONNX-lowerable parts of a model in ONNX Runtime (see the module docstring)."""

    name = "onnxruntime"

    def __init__(self, **options):
        unknown = set(options) - _OPTIONS
        if unknown:
            raise DelegateError(f"unknown onnxruntime delegate option(s) {sorted(unknown)}; "
                                f"valid: {sorted(_OPTIONS)}")
        self.options = options
        providers = options.get("providers") or ["CPUExecutionProvider"]
        if isinstance(providers, str):  # "CUDAExecutionProvider,CPUExecutionProvider"
            providers = [p.strip() for p in providers.split(",") if p.strip()]
        self.providers = list(providers)
        self.provider_options = options.get("provider_options")
        level = str(options.get("graph_optimization_level", "all")).lower()
        if level not in _LEVELS:
            raise DelegateError(f"graph_optimization_level must be one of {sorted(_LEVELS)}, not {level!r}")
        self.level = level
        self.min_partition_size = int(options.get("min_partition_size", 1))
        spinning = options.get("allow_spinning", False)
        self.allow_spinning = "auto" if isinstance(spinning, str) and spinning.strip().lower() == "auto" \
            else _flag(spinning)
        self.exact_int8_mean = _flag(options.get("exact_int8_mean", False))
        form = str(options.get("int8_form", "auto")).strip().lower()
        if form not in ("auto", "qlinear", "qdq"):
            raise DelegateError(f"int8_form must be 'auto', 'qlinear' or 'qdq', not {options['int8_form']!r}")
        self.int8_form = form
        duration = options.get("spin_duration_us")
        self.spin_duration_us = None if duration in (None, "") else int(duration)
        if self.spin_duration_us is not None and self.spin_duration_us < 0:
            raise DelegateError(f"spin_duration_us must be >= 0, not {self.spin_duration_us}")
        threads = options.get("intra_op_num_threads", "auto")
        self.threads = None if threads is None or str(threads).strip().lower() == "auto" else int(threads)
        if self.threads is not None and self.threads < 1:
            raise DelegateError(f"intra_op_num_threads must be >= 1 or 'auto', not {threads!r}")
        self.fallback = options.get("fallback", "edgelite")
        if self.fallback not in ("edgelite", "raise"):
            raise DelegateError(f"fallback must be 'edgelite' or 'raise', not {self.fallback!r}")
        self.session_config = dict(options.get("session_config") or {})
        keep = options.get("keep_on_edgelite", KEEP_ON_EDGELITE)
        if isinstance(keep, str):
            keep = [] if keep.strip().lower() in ("", "none") else keep.split(",")
        elif keep is None:
            keep = []
        elif not isinstance(keep, (list, tuple, set, frozenset)):
            raise DelegateError(f"keep_on_edgelite must be op names (a list or a comma-separated string), "
                                f"not {keep!r}")
        self.keep_on_edgelite = frozenset(str(k).strip().upper() for k in keep if str(k).strip())
        self.fallbacks: list[str] = []  # messages of partitions that ran on edgelite instead

    def supported_nodes(self, subgraph, subgraph_index: int) -> set[int]:
        from ..export_onnx import supports
        producers = {t: op for op in subgraph.operators for t in op.outputs}
        return {n for n, op in enumerate(subgraph.operators)
                if op.opcode not in self.keep_on_edgelite and supports(op, subgraph, producers)}

    def supports(self, op, subgraph) -> bool:
        from ..export_onnx import supports
        return op.opcode not in self.keep_on_edgelite and supports(op, subgraph)

    def create_kernel(self, partition: Partition) -> DelegateKernel:
        return OnnxRuntimeKernel(partition, self)

    @property
    def qlinear(self) -> bool:
        """Whether int8 graphs are lowered with QLinear operators (else in QDQ form)."""
        if self.int8_form != "auto":
            return self.int8_form == "qlinear"
        first = self.providers[0] if self.providers else "CPUExecutionProvider"
        name = first[0] if isinstance(first, (tuple, list)) else first
        return name in CPU_LIKE_PROVIDERS

    def spinning(self, threads: int, covers_subgraph: bool) -> bool:
        """Whether ORT's pool threads spin for a partition (the ``allow_spinning`` policy)."""
        if self.allow_spinning == "auto":
            return threads > 1 and covers_subgraph
        return bool(self.allow_spinning)

    def intra_op_threads(self, num_threads: int, macs: int | None = None) -> int:
        """ORT's intra-op thread count for a partition doing ``macs`` multiply-accumulates a run
        in an interpreter with ``num_threads`` (the ``intra_op_num_threads`` policy)."""
        if self.threads is not None:
            return self.threads
        if macs is not None and macs < SMALL_PARTITION_MACS:
            return 1
        return num_threads or 1

    def session_options(self, num_threads: int, covers_subgraph: bool = False, macs: int | None = None):
        """ORT SessionOptions for a partition run with ``num_threads`` (the interpreter's;
        ``intra_op_num_threads`` overrides it) that is, or is not, its whole subgraph and does
        ``macs`` multiply-accumulates a run (None: unknown)."""
        ort = _onnxruntime()
        so = ort.SessionOptions()
        threads = self.intra_op_threads(num_threads, macs)
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _LEVELS[self.level])
        spin = self.spinning(threads, covers_subgraph)
        so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        so.add_session_config_entry("session.inter_op.allow_spinning", "0")  # (no inter-op pool)
        if spin:  # spin within a run only: stop when it returns
            so.add_session_config_entry("session.force_spinning_stop", "1")
            if self.spin_duration_us is not None:  # and at most this long before sleeping
                so.add_session_config_entry("session.intra_op.spin_duration_us", str(self.spin_duration_us))
        for key, value in self.session_config.items():
            so.add_session_config_entry(str(key), str(value))
        so.log_severity_level = 3
        return so


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class OnnxRuntimeKernel(DelegateKernel):
    """One partition, lowered to ONNX for one set of input shapes, as an ORT session."""

    def __init__(self, partition: Partition, delegate: OnnxRuntimeDelegate):
        super().__init__(partition)
        self.delegate = delegate
        self.session = None
        self.fallback_executor = None
        self.onnx_model = None

    def prepare(self, input_shapes):
        from ..export_onnx import LoweringError, lower_subgraph, output_names, state_output_name
        part = self.partition
        sg = part.subgraph
        shapes, values, ex = part.infer_shapes(input_shapes)
        values.update(self.constant_inputs)
        out_shapes = [shapes.get(t) for t in sg.outputs]
        try:
            if any(s is None for s in out_shapes):
                raise LoweringError("an output shape is known only at run time")
            ort = _onnxruntime()
            options = self.delegate.session_options(part.num_threads, part.covers_subgraph,
                                                    estimated_macs(sg, shapes))
            # the weights reach ORT as in-memory external data over edgelite's arrays (no
            # protobuf copy); self.weights keeps them alive as long as the session
            in_memory = hasattr(options, "add_external_initializers_from_files_in_memory")
            self.weights: dict[str, np.ndarray] = {}
            self.onnx_model = lower_subgraph(sg, shapes, values, name=f"partition_{part.index}",
                                             external=self.weights if in_memory else None,
                                             qlinear=self.delegate.qlinear,
                                             contrib_ops=self.delegate.qlinear and not self.delegate.exact_int8_mean)
            if self.weights:
                names = list(self.weights)
                options.add_external_initializers_from_files_in_memory(
                    names, [self.weights[k] for k in names], [self.weights[k].nbytes for k in names])
            self.session = ort.InferenceSession(self.onnx_model.SerializeToString(), options,
                                                providers=self.delegate.providers,
                                                provider_options=self.delegate.provider_options)
        except DelegateError:
            raise
        except Exception as e:  # lowering or ORT refused this partition
            if self.delegate.fallback == "raise":
                raise DelegateError(f"onnxruntime delegate, partition {part.index} "
                                    f"({len(sg.operators)} nodes): {e}") from e
            message = f"partition {part.index} ({len(sg.operators)} nodes) runs on edgelite: {e}"
            self.delegate.fallbacks.append(message)
            warnings.warn(f"onnxruntime delegate: {message}", RuntimeWarning, stacklevel=2)
            self.session = None
            self.fallback_executor = ex
            return out_shapes
        self._input_names = [f"t{t}" for t in sg.inputs]
        self._output_names = output_names(sg)
        # variables updated by the partition (LSTM states): (input position, ONNX output name)
        names = {o.name for o in self.session.get_outputs()}
        self._states = [(k, state_output_name(t)) for k, t in enumerate(sg.inputs)
                        if state_output_name(t) in names]
        self._output_names += [name for _, name in self._states]
        return out_shapes

    def invoke(self, inputs):
        if self.session is None:
            ex, sg = self.fallback_executor, self.partition.subgraph
            for k, (t, a) in enumerate(zip(sg.inputs, inputs)):
                ex.write_input(t, a, f"input {k} of partition {self.partition.index}")
            ex.invoke()
            return [np.array(ex.buffers[t]) for t in sg.outputs]
        feeds = {name: np.ascontiguousarray(a) for name, a in zip(self._input_names, inputs)}
        results = self.session.run(self._output_names, feeds)
        if self._states:  # write the new states into the variables' buffers (in place)
            n = len(results) - len(self._states)
            for (k, _), value in zip(self._states, results[n:]):
                np.copyto(inputs[k], value)
            results = results[:n]
        return results


def estimated_macs(subgraph, shapes: dict) -> int:
    """Multiply-accumulates of one run of ``subgraph`` at these tensor shapes (convolutions,
    matrix products, LSTMs; every other op counts its output elements)."""
    total = 0
    for op in subgraph.operators:
        outs = [shapes.get(t) for t in op.outputs if t >= 0]
        if not outs or outs[0] is None:
            continue
        n_out = int(np.prod(outs[0]))
        w = shapes.get(op.inputs[1]) if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        name = op.opcode
        if name == "CONV_2D" and w is not None:
            total += n_out * int(np.prod(w[1:]))
        elif name == "DEPTHWISE_CONV_2D" and w is not None:
            total += n_out * int(w[1] * w[2])
        elif name in ("FULLY_CONNECTED", "BATCH_MATMUL") and shapes.get(op.inputs[0]) is not None:
            total += n_out * int(shapes[op.inputs[0]][-1])
        elif name == "TRANSPOSE_CONV" and w is not None:
            total += int(np.prod(shapes.get(op.inputs[2]) or (0,))) * int(np.prod(w[:3]))
        elif name == "UNIDIRECTIONAL_SEQUENCE_LSTM" and shapes.get(op.inputs[0]) is not None:
            x, h = shapes[op.inputs[0]], shapes[op.inputs[5]][0]
            total += int(np.prod(x[:-1])) * 4 * h * (x[-1] + h)
        else:
            total += n_out
    return total
