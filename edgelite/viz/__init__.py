"""``edgelite.viz``: a model as one self-contained, offline HTML page (see docs/viz.md).

``render(model, overlays=...)`` returns the page; :class:`View` wraps it for Jupyter
(``_repr_html_``) and for saving. The page lays the graph out top to bottom with dagre
(vendored), draws it on a canvas, and offers a side panel, search, subgraph navigation,
name-scope groups, overlays (profile time, quantization SNR) and the model's metadata.

This package sits above the core: nothing in the core imports it.
"""
from __future__ import annotations

import html as _html
import os
from pathlib import Path
from typing import Iterable

from ..errors import ModelError
from ..ir import Model
from .graph_data import metadata_data, model_data, op_family
from .overlays import Overlay, delegated_nodes, profile_overlay, quant_debug_overlay
from .page import build_page

__all__ = ["Overlay", "View", "delegated_nodes", "op_family", "profile_overlay", "quant_debug_overlay",
           "render", "save"]


def _load(model) -> tuple[Model, bytes | None, str]:
    from ..interpreter import Interpreter
    from ..reader import load_model
    if isinstance(model, Interpreter):  # with delegates: the original graph (see render)
        delegation = model._delegation
        return (delegation.original if delegation is not None else model.model), None, "model"
    if isinstance(model, Model):
        return model, None, model.description or "model"
    if isinstance(model, (bytes, bytearray, memoryview)):
        content = bytes(model)
        return load_model(content), content, "model"
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        content = path.read_bytes()
        return load_model(content), content, path.name
    raise TypeError(f"render: expected an edgelite Model, a path or .tflite bytes, not {type(model).__name__}")


def render(model, overlays: Iterable[Overlay] | dict | None = None, *,
           delegated: dict[tuple[int, int], str] | None = None, title: str | None = None) -> str:
    """The viewer page for ``model`` (a :class:`edgelite.ir.Model`, a path, ``.tflite`` bytes, or an
    :class:`edgelite.Interpreter`: built with ``experimental_delegates``, its original graph is
    shown with the delegated nodes marked).

    ``overlays``: :class:`Overlay` objects, or a dict ``name -> {node: value}`` (subgraph 0,
    high is hot). ``delegated``: ``(subgraph, node) -> delegate name`` (see
    :func:`delegated_nodes`), drawn as a badge on those nodes.
    """
    m, content, default_title = _load(model)
    if getattr(model, "_delegation", None) is not None:
        delegated = {**delegated_nodes(model._delegation), **(delegated or {})}
    if isinstance(overlays, dict):
        overlays = [Overlay(str(name), values) for name, values in overlays.items()]
    overlays = list(overlays or [])
    for ov in overlays:
        if not isinstance(ov, Overlay):
            raise TypeError(f"render: overlays must be Overlay objects, not {type(ov).__name__}")
        for sg, node in ov.values:
            if not (0 <= sg < len(m.subgraphs) and 0 <= node < len(m.subgraphs[sg].operators)):
                raise ModelError(f"overlay {ov.name!r}: node {node} of subgraph {sg} is not in the model")
    data = model_data(m, delegated)
    data["title"] = title or default_title
    data["overlays"] = [ov.to_json() for ov in overlays]
    data["metadata"] = metadata_data(m, content)
    return build_page(data, data["title"])


def save(model, path: str | os.PathLike, overlays=None, **kw) -> Path:
    """Write :func:`render`'s page to ``path`` and return the path."""
    path = Path(path)
    path.write_text(render(model, overlays, **kw), encoding="utf-8")
    return path


class View:
    """A rendered model: ``View(model)`` shows in Jupyter, ``.html`` is the page, ``.save(path)`` writes it."""

    def __init__(self, model, overlays=None, **kw):
        self.html = render(model, overlays, **kw)

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        # an iframe keeps the page's script and style apart from the notebook's
        return (f'<iframe srcdoc="{_html.escape(self.html, quote=True)}" '
                'style="width:100%;height:640px;border:1px solid #ccc" sandbox="allow-scripts"></iframe>')
