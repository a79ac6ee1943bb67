"""Assembling the viewer page: one self-contained HTML file.

The page inlines everything it needs: the vendored layout library (dagre, MIT, see
``assets/README.md``), edgelite's viewer script and style, and the model's data as a JSON
``<script>`` block. It loads nothing from the network.
"""
from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources

ASSETS = ("dagre.min.js", "scopes.js", "widgets.js", "viewer.js", "viewer.css")

_BODY = """<div id="app">
<div id="bar"><span class="title" id="title"></span>
<select id="subgraph" title="subgraph"></select>
<input id="search" type="search" placeholder="search tensor / op name or op type" autocomplete="off">
<select id="overlay" title="colour nodes by"></select>
<button id="fit" title="fit the graph in the window">fit</button>
<button id="collapse" title="collapse every name-scope group">collapse groups</button>
</div>
<div id="left"><h3>Name scopes</h3><div id="groups"></div></div>
<div id="stage"><canvas id="canvas"></canvas><div id="tooltip"></div><div id="legend"></div></div>
<div id="panel"></div>
<div id="results"></div>
</div>"""


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """The text of a file in edgelite/viz/assets (installed as package data)."""
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    # inside <script>, "</" could end the element and "<!--" start a comment-like state
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def build_page(data: dict, title: str) -> str:
    payload = _script_safe(json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{html.escape(title)}</title><style>{asset('viewer.css')}</style></head><body>"
            f"{_BODY}<script id=\"edgelite-data\" type=\"application/json\">{payload}</script>"
            + "".join(f"<script>{_script_safe(asset(name))}</script>" for name in ASSETS if name.endswith(".js"))
            + "</body></html>\n")
