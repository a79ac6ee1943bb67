"""Fixtures for the graph viewer tests: headless Chromium through Playwright, offline."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("EDGELITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run installs it)")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        except Exception as e:  # a browser that is there but cannot start
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(e).splitlines()[0]}")
        yield b
        b.close()


class VizPage:
    """One viewer page: console errors and network requests recorded, the network refused."""

    def __init__(self, browser, html_file: Path):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
        self.errors: list[str] = []
        self.requests: list[str] = []

        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                self.requests.append(r.request.url)
                r.abort()
        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(html_file.resolve().as_uri())
        self.page.wait_for_function("window.edgeliteViz && window.edgeliteViz.ready", timeout=30_000)

    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)

    def click_op(self, k: int) -> None:
        pos = self.js("k => edgeliteViz.locateOp(k)", k)
        self.page.mouse.click(pos["x"], pos["y"])

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_viz(browser):
    pages: list[VizPage] = []

    def opener(html_file: Path) -> VizPage:
        pages.append(VizPage(browser, html_file))
        return pages[-1]
    yield opener
    for p in pages:
        p.close()
