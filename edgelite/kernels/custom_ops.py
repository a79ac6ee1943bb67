"""The custom-op API: kernels for CUSTOM ops, globally or per interpreter.

A CUSTOM op is looked up by its custom code (``Operator.name``) in the same registry as the
builtin ops. Users add kernels in two ways:

* :func:`register_custom_op` (``edgelite.register_custom_op``) registers a kernel for every
  interpreter of the process; a later registration of the same name wins;
* ``Interpreter(custom_op_registerers=[...])`` adds kernels to one interpreter only. Each
  registerer is resolved by :func:`apply_registerers`:

  - a callable is called with the interpreter's :class:`~edgelite.kernels.resolver.OpResolver`;
    it may call ``resolver.add_custom(name, kernel)`` itself, or return ``(name, kernel)``
    pairs (or a ``{name: kernel}`` dict) that are added for it;
  - a string names a pack shipped with edgelite (:data:`BUILTIN_PACKS`) or a custom op that is
    already registered (e.g. ``"TFLite_Detection_PostProcess"``); those are registered by
    default, as in LiteRT's Python package, so the name only checks they are there. This keeps
    LiteRT code that passes registerer names running unchanged when its ops are ones edgelite
    ships. ``"package.module:function"`` imports that function and calls it as above.

A kernel is a :class:`~edgelite.kernels.base.Kernel` subclass, or a plain function
``f(*input_arrays) -> array or sequence of arrays``, wrapped by :func:`kernel_from_function`
(outputs are cast to the model's output types; their shapes are whatever ``f`` returns).
"""
from __future__ import annotations

import importlib
import itertools
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import base
from .base import Kernel, register, registered_ops

__all__ = ["register_custom_op", "unregister_custom_op", "apply_registerers", "kernel_from_function", "BUILTIN_PACKS",
           "CustomOpRegisterer"]

# Registerer names accepted by Interpreter(custom_op_registerers=[...]) -> the module of the pack.
BUILTIN_PACKS: dict[str, str] = {
    "litert_custom": "edgelite.kernels.litert_custom",   # TFLite_Detection_PostProcess, AudioSpectrogram, Mfcc
    "mediapipe": "edgelite.kernels.mediapipe",
    "signal": "edgelite.kernels.signal",
}

CustomOpRegisterer = Any  # a callable (resolver -> None | pairs | dict) or a str (see module doc)

# User registrations outrank the packs shipped with edgelite, and later ones outrank earlier ones.
USER_PRIORITY_BASE = 1_000_000
_USER_PRIORITY = itertools.count(USER_PRIORITY_BASE)


def _as_kernel_class(name: str, kernel) -> type:
    if isinstance(kernel, type):
        if not issubclass(kernel, Kernel):
            raise TypeError(f"custom op {name!r}: {kernel.__name__} is not a subclass of "
                            f"edgelite.kernels.Kernel")
        return kernel
    if callable(kernel):
        return kernel_from_function(name, kernel)
    raise TypeError(f"custom op {name!r}: expected a Kernel subclass or a function, "
                    f"got {type(kernel).__name__}")


def register_custom_op(name: str, kernel) -> type:
    """Run every op whose custom code is ``name`` with ``kernel``, in every interpreter.

    ``kernel`` is a :class:`~edgelite.kernels.base.Kernel` subclass or a function of the input
    arrays (see :func:`kernel_from_function`). It replaces any kernel registered earlier for
    ``name``, including edgelite's own. Returns the kernel class that was registered.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"custom op name must be a non-empty str, not {name!r}")
    cls = _as_kernel_class(name, kernel)
    register(name, kind="any", priority=next(_USER_PRIORITY))(cls)
    return cls


def unregister_custom_op(name: str) -> int:
    """Remove the kernels :func:`register_custom_op` registered for ``name`` (edgelite's own stay).

    Returns how many were removed.
    """
    entries = base._REGISTRY.get(name, [])
    kept = [e for e in entries if e[0] < USER_PRIORITY_BASE]
    removed = len(entries) - len(kept)
    if kept:
        base._REGISTRY[name] = kept
    else:
        base._REGISTRY.pop(name, None)
    return removed


def kernel_from_function(name: str, function: Callable[..., Any]) -> type:
    """A Kernel class that runs ``function(*inputs)`` (omitted optional inputs are None).

    The function returns one array or a sequence with one array per output; each is cast to
    its output's dtype. Output shapes are known only after running, as for any dynamic output.
    """
    def prepare(self, inputs, outputs):
        self._dtypes = [o.dtype for o in outputs]
        return [None] * len(outputs)

    def eval(self, inputs, outputs):
        result = function(*inputs)
        results = [result] if isinstance(result, np.ndarray) or np.isscalar(result) else list(result)
        if len(results) != len(self._dtypes):
            raise self.fail(f"{getattr(function, '__name__', 'the function')} returned "
                            f"{len(results)} array(s), the op has {len(self._dtypes)} output(s)")
        return [np.asarray(r).astype(d, copy=False) for r, d in zip(results, self._dtypes)]

    doc = f"Runs custom op {name!r} with {getattr(function, '__qualname__', function)!r}."
    return type(f"FunctionKernel_{name}", (Kernel,),
                {"op": name, "prepare": prepare, "eval": eval, "__doc__": doc,
                 "function": staticmethod(function)})


def _add_pairs(resolver, result, source: str) -> None:
    if result is None:
        return
    pairs = result.items() if isinstance(result, Mapping) else result
    try:
        pairs = list(pairs)
    except TypeError:
        raise TypeError(f"custom op registerer {source} returned {type(result).__name__}: expected "
                        f"None, a {{name: kernel}} dict or (name, kernel) pairs") from None
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise TypeError(f"custom op registerer {source} returned {pair!r}, not a (name, kernel) pair")
        resolver.add_custom(pair[0], _as_kernel_class(pair[0], pair[1]))


def _by_name(resolver, name: str) -> None:
    if name in BUILTIN_PACKS:
        try:
            importlib.import_module(BUILTIN_PACKS[name])
        except ModuleNotFoundError as e:
            if e.name != BUILTIN_PACKS[name]:
                raise
            raise ValueError(f"custom op registerer {name!r}: this edgelite has no {name} pack") from None
        return
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            function = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"custom op registerer {name!r}: cannot import it ({e})") from None
        _add_pairs(resolver, function(resolver), repr(name))
        return
    if name in registered_ops():
        return  # a custom op edgelite ships (and registers by default)
    raise ValueError(f"Looking up custom op registerer {name!r} failed: edgelite knows the packs "
                     f"{', '.join(sorted(BUILTIN_PACKS))}, the ops they register, and "
                     f"'module:function' names; for your own ops pass a Python callable or use "
                     f"edgelite.register_custom_op (see docs/custom_ops.md)")


def apply_registerers(resolver, registerers: Iterable[CustomOpRegisterer] | None) -> None:
    """Add the kernels of ``registerers`` (see the module doc) to ``resolver``."""
    if registerers is None:
        return
    if isinstance(registerers, (str, bytes)) or callable(registerers):
        raise TypeError("custom_op_registerers must be a list of registerers, not a single one")
    for registerer in registerers:
        if isinstance(registerer, str):
            _by_name(resolver, registerer)
        elif callable(registerer):
            _add_pairs(resolver, registerer(resolver),
                       getattr(registerer, "__qualname__", repr(registerer)))
        else:
            raise TypeError(f"custom op registerer {registerer!r}: expected a str or a callable")
