"""The graph viewer in a real browser (headless Chromium via Playwright, offline)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edgelite.reader import load_model
from edgelite.viz import Overlay, profile_overlay, save

from conftest import MANIFEST, zoo_path

from .synthetic import synthetic_model

pytestmark = pytest.mark.browser

# control flow, quantized (int8, int8 in/out, sparse int8), transformer, multi-signature
MODELS = ["efficientnet_b0_int8", "ops_control_flow_f32", "mobilenet_v3_small_int8io", "tiny_bert_int8",
          "signatures_f32", "sparse_mlp_int8"]
DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def _shape(shape) -> str:
    return "\u00d7".join(str(int(d)) for d in shape) if len(shape) else "scalar"


def _need_zoo(key):
    if key not in MANIFEST:
        pytest.skip(f"zoo model {key} not found")


@pytest.mark.parametrize("key", MODELS)
def test_zoo_model_in_browser(key, open_viz, tmp_path):
    _need_zoo(key)
    model = load_model(zoo_path(key))
    html = save(zoo_path(key), tmp_path / f"{key}.html")
    v = open_viz(html)
    main = model.main
    # every op of subgraph 0 is drawn as one node, numbered as _get_ops_details numbers it
    assert v.js("edgeliteViz.opCount()") == len(main.operators)
    assert sorted(v.js("edgeliteViz.renderedOpNodes()")) == list(range(len(main.operators)))
    assert v.js("edgeliteViz.readyMs") < 3000, f"page took {v.js('edgeliteViz.readyMs'):.0f} ms to be interactive"

    # clicking node k shows op k's type and its inputs' shapes
    for k in sorted({0, len(main.operators) // 2, len(main.operators) - 1}):
        op = main.operators[k]
        v.click_op(k)
        assert v.page.inner_text("#op-title") == f"#{k} {op.name}"
        cards = v.page.locator("#op-inputs .tensor")
        assert cards.count() == len(op.inputs)
        for j, t in enumerate(op.inputs):
            text = cards.nth(j).inner_text()
            if t < 0:
                assert "omitted" in text
                continue
            assert main.tensors[t].name in text.replace("\n", "")
            assert f"shape\t{_shape(main.tensors[t].shape)}" in text

    # search finds a named tensor, and choosing it opens the op that makes it
    k = len(main.operators) // 3
    ti = main.operators[k].outputs[0]
    name = main.tensors[ti].name
    v.page.fill("#search", name)
    row = v.page.locator(f"#results div[data-kind='tensor'][title='{name}']")
    assert row.count() >= 1
    row.first.click()
    assert v.page.locator(f"#panel [data-tensor='{ti}']").count() >= 1
    assert v.page.inner_text("#op-title").startswith(f"#{k} ")

    # hovering a node with a quantized output shows its scale and zero point
    q_op = next((i for i, op in enumerate(main.operators) if op.outputs and main.tensors[op.outputs[0]].quantization
                 is not None and main.tensors[op.outputs[0]].quantization.scale.size == 1), None)
    if q_op is not None:
        pos = v.js("k => edgeliteViz.locateOp(k)", q_op)
        v.page.mouse.move(pos["x"], pos["y"])
        q = main.tensors[main.operators[q_op].outputs[0]].quantization
        tip = v.page.inner_text("#tooltip")
        assert "scale" in tip and f"zero point {int(q.zero_point[0])}" in tip

    v.page.screenshot(path=str(tmp_path / f"viz_{key}.png"))
    assert (tmp_path / f"viz_{key}.png").stat().st_size > 10_000
    if key == "efficientnet_b0_int8" and os.environ.get("EDGELITE_VIZ_DOC_IMAGES"):
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        v.page.fill("#search", "")
        v.page.keyboard.press("Escape")
        v.click_op(1)  # a convolution: its panel shows per-channel quantization and a weights histogram
        v.page.mouse.move(10, 10)
        v.page.screenshot(path=str(DOC_IMAGES / "viz_efficientnet_b0_int8.png"))
    assert v.errors == [], v.errors
    assert v.requests == [], f"the page tried the network: {v.requests}"


def test_control_flow_and_signature_navigation(open_viz, tmp_path):
    for key in ("ops_control_flow_f32", "signatures_f32"):
        _need_zoo(key)
    model = load_model(zoo_path("ops_control_flow_f32"))
    v = open_viz(save(zoo_path("ops_control_flow_f32"), tmp_path / "cf.html"))
    k = next(i for i, op in enumerate(model.main.operators) if op.opcode in ("IF", "WHILE"))
    v.click_op(k)
    links = v.page.locator("#panel a.link")
    assert links.count() >= 1
    target = int(links.first.inner_text().split()[1])
    links.first.click()
    assert v.js("edgeliteViz.subgraph()") == target
    assert sorted(v.js("edgeliteViz.renderedOpNodes()")) == list(range(len(model.subgraphs[target].operators)))
    v.page.get_by_text("back to subgraph 0").click()
    assert v.js("edgeliteViz.subgraph()") == 0

    sigs = load_model(zoo_path("signatures_f32"))
    v2 = open_viz(save(zoo_path("signatures_f32"), tmp_path / "sig.html"))
    train = next(s for s in sigs.signature_defs if s.key == "train")
    v2.page.locator("#panel a.link", has_text="train").click()
    assert v2.js("edgeliteViz.subgraph()") == train.subgraph_index
    assert len(v2.js("edgeliteViz.renderedOpNodes()")) == len(sigs.subgraphs[train.subgraph_index].operators)
    assert v.errors == [] and v2.errors == []


def _pixel(v, x, y):
    return v.js("""([x, y]) => { const c = document.getElementById('canvas'), r = c.getBoundingClientRect();
        const d = c.getContext('2d').getImageData(Math.round(x - r.left), Math.round(y - r.top), 1, 1).data;
        return 'rgb(' + d[0] + ',' + d[1] + ',' + d[2] + ')'; }""", [x, y])


def test_profile_overlay_colours_the_slowest_node_hottest(open_viz, tmp_path):
    _need_zoo("mobilenet_v2_int8")
    path = zoo_path("mobilenet_v2_int8")
    ov = profile_overlay(path, runs=1, warmup=0)
    n_ops = len(load_model(path).main.operators)
    assert set(node for _, node in ov.values) == set(range(n_ops))
    slowest = max(ov.values, key=ov.values.get)[1]
    v = open_viz(save(path, tmp_path / "profile.html", [ov]))
    assert v.js("edgeliteViz.selectOverlay('time')") == 0
    heats = {k: v.js("k => edgeliteViz.heat(k)", k) for k in range(n_ops)}
    assert heats[slowest] == 1.0
    assert max(h for k, h in heats.items() if ov.values[(0, k)] < ov.values[(0, slowest)]) < 1.0
    pos = v.js("k => edgeliteViz.locateOp(k)", slowest)
    assert _pixel(v, pos["left"], pos["bottom"]) == v.js("edgeliteViz.hotColor()").replace(" ", "")
    fastest = min(ov.values, key=ov.values.get)[1]
    pos = v.js("k => edgeliteViz.locateOp(k)", fastest)
    assert _pixel(v, pos["left"], pos["bottom"]) != v.js("edgeliteViz.hotColor()").replace(" ", "")
    assert "time (ms)" in v.page.inner_text("#legend")
    if os.environ.get("EDGELITE_VIZ_DOC_IMAGES"):
        v.click_op(slowest)
        v.page.mouse.move(10, 10)
        v.page.screenshot(path=str(DOC_IMAGES / "viz_mobilenet_v2_int8_profile.png"))
    assert v.errors == []


def test_snr_overlay_low_is_hot(open_viz, tmp_path):
    _need_zoo("mobilenet_v2_int8")
    ov = Overlay("SNR", {0: 40.0, 3: 5.0, 7: 22.0}, unit="dB", hot="low")
    v = open_viz(save(zoo_path("mobilenet_v2_int8"), tmp_path / "snr.html", [ov]))
    v.js("edgeliteViz.selectOverlay('SNR')")
    assert v.js("edgeliteViz.heat(3)") == 1.0 and v.js("edgeliteViz.heat(0)") == 0.0
    assert v.js("edgeliteViz.heat(1)") is None
    assert v.errors == []


@pytest.mark.slow
def test_5000_node_model_opens_fast_and_groups_expand(open_viz, tmp_path):
    model = synthetic_model(5000)
    t0 = time.perf_counter()
    html = save(model, tmp_path / "big.html")
    render_s = time.perf_counter() - t0
    v = open_viz(html)
    ready_ms = v.js("edgeliteViz.readyMs")
    assert ready_ms < 3000, f"5,000-node page took {ready_ms:.0f} ms to be interactive"
    assert v.js("edgeliteViz.opCount()") == 5000
    shown = v.js("edgeliteViz.renderedNodes()")
    assert shown < 400  # collapsed into name-scope groups
    # clicking a deep op reveals it: its groups open, it is drawn and its panel shows
    t0 = time.perf_counter()
    v.click_op(4321)
    click_s = time.perf_counter() - t0
    assert v.page.inner_text("#op-title") == f"#4321 {model.main.operators[4321].name}"
    assert 4321 in v.js("edgeliteViz.renderedOpNodes()")
    assert click_s < 3
    # a collapsed group opens by a click on it, and closes from the scope tree
    before = v.js("edgeliteViz.renderedNodes()")
    gid = v.js("edgeliteViz.groupNodes()")[-1]
    pos = v.js("id => edgeliteViz.locateNode(id)", gid)
    group = v.js("([x, y]) => edgeliteViz.nodeAt(x, y)", [pos["x"], pos["y"]])
    assert group["id"] == gid and group["kind"] == "group", group
    v.page.mouse.click(pos["x"], pos["y"])
    assert v.js("edgeliteViz.renderedNodes()") > before
    v.page.locator(f"#groups [data-group='{group['id']}']").click()
    assert v.js("edgeliteViz.renderedNodes()") == before
    v.page.fill("#search", "stage_19/block_478/op_3/out")
    assert v.page.locator("#results div[data-kind='tensor']").count() == 1
    v.page.screenshot(path=str(tmp_path / "viz_5000.png"))
    assert v.errors == []
    print(f"5000 ops: render {render_s:.2f} s, page ready {ready_ms:.0f} ms, reveal+click {click_s:.2f} s")


def test_metadata_panel(open_viz, tmp_path):
    pytest.importorskip("edgelite.metadata", reason="edgelite.metadata is not installed")
    from .test_viz_render import SUPPORT_DETECTOR
    if not SUPPORT_DETECTOR.is_file():
        pytest.skip(f"{SUPPORT_DETECTOR} not found")
    v = open_viz(save(SUPPORT_DETECTOR, tmp_path / "detector.html"))
    assert '"name": "ObjectDetector"' in v.page.inner_text("#metadata-json")
    assert "labelmap.txt" in v.page.inner_text("#panel")
    assert v.errors == []
