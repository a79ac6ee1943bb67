/* edgelite graph viewer: canvas renderer, name-scope groups, side panel, search, overlays.
 * The layered layout is dagre's (vendored, MIT); groups: scopes.js; panel widgets: widgets.js.
 * Data: the JSON in #edgelite-data
 * (edgelite/viz/graph_data.py). Test hooks: window.edgeliteViz. */
(function () {
  "use strict";
  const T0 = performance.now();
  const DATA = JSON.parse(document.getElementById("edgelite-data").textContent);
  const VISIBLE_LIMIT = 320;   // groups open by themselves while this many nodes stay visible
  const ORDER_SWEEPS_UP_TO = 150;  // nodes; above, dagre keeps its initial order
  const CHUNK = 80;            // a scope with more direct members is cut into runs of ops
  const NODE_W = 200, NODE_H = 42, GROUP_H = 42, IO_H = 30;
  const FAMILY_COLORS = {
    conv: "#9cc3e6", matmul: "#a9d39e", activation: "#f4c99b", elementwise: "#d9c8ec",
    norm_pool: "#9fd8d2", shape: "#e3e3e3", quant: "#f2b7c6", control: "#f6e08d",
    recurrent: "#c9b79c", custom: "#ef9a9a", other: "#cfd8dc",
  };
  const HOT = [[44, 123, 182], [171, 217, 233], [255, 255, 191], [253, 174, 97], [215, 25, 28]];
  const DELEGATE_COLORS = ["#7b1fa2", "#00897b", "#ef6c00", "#3949ab", "#c2185b"];
  const $ = (id) => document.getElementById(id);
  const { el, fmtShape, fmtNum, kv } = EdgeliteWidgets;
  const tensorCard = (ti, role) => EdgeliteWidgets.tensorCard(ti < 0 ? null : DATA.subgraphs[S.sg].tensors[ti], ti, role);

  // ---------------------------------------------------------------- state
  const S = {
    sg: 0, history: [], expanded: [], trees: [], layout: null, k: 1, tx: 0, ty: 0,
    selected: null, hover: null, overlay: -1, dirty: true, layoutMs: 0,
  };
  const canvas = $("canvas"), ctx = canvas.getContext("2d"), stage = $("stage");

  // ---------------------------------------------------------------- name-scope groups (scopes.js)
  function tree() { return S.trees[S.sg] || (S.trees[S.sg] = EdgeliteScopes.build(DATA.subgraphs[S.sg].ops, CHUNK)); }
  function expandedSet() {
    if (!S.expanded[S.sg]) {
      const t = tree(), open = new Set([t.root.id]);
      let visible = t.root.items.length;
      const queue = t.root.items.filter((it) => it.group).map((it) => it.group);
      while (queue.length) {  // open groups breadth first while the graph stays small
        const g = queue.shift();
        if (visible - 1 + g.items.length > VISIBLE_LIMIT) continue;
        open.add(g.id); visible += g.items.length - 1;
        for (const it of g.items) if (it.group) queue.push(it.group);
      }
      S.expanded[S.sg] = open;
    }
    return S.expanded[S.sg];
  }
  function reveal(op) {  // open every group holding op
    const open = expandedSet();
    let changed = false;
    for (let g = tree().opGroup[op]; g; g = g.parent) if (!open.has(g.id)) { open.add(g.id); changed = true; }
    return changed;
  }

  // ---------------------------------------------------------------- layout (dagre)
  function visibleItems() {
    const open = expandedSet(), out = [], rep = new Map();
    (function walk(g, collapsedAt) {
      for (const it of g.items) {
        if (it.op !== undefined) {
          if (collapsedAt) rep.set(it.op, collapsedAt); else { rep.set(it.op, "o" + it.op); out.push({ id: "o" + it.op, kind: "op", op: it.op }); }
        } else {
          const c = it.group;
          if (!collapsedAt && !open.has(c.id)) { out.push({ id: c.id, kind: "group", group: c }); walk(c, c.id); } else walk(c, collapsedAt);
        }
      }
    })(tree().root, null);
    return { items: out, rep };
  }
  function layout() {
    const t0 = performance.now();
    const sg = DATA.subgraphs[S.sg];
    const { items, rep } = visibleItems();
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 26, marginx: 20, marginy: 20 });
    g.setDefaultEdgeLabel(() => ({}));
    const nodes = new Map();
    for (const it of items) {
      it.w = NODE_W; it.h = it.kind === "group" ? GROUP_H : NODE_H;
      nodes.set(it.id, it); g.setNode(it.id, { width: it.w, height: it.h });
    }
    const producer = new Map();
    sg.ops.forEach((op, i) => op.outputs.forEach((t) => { if (t >= 0) producer.set(t, i); }));
    const addIo = (id, kind, tensor) => { const it = { id, kind, tensor, w: NODE_W - 30, h: IO_H }; nodes.set(id, it); g.setNode(id, { width: it.w, height: it.h }); };
    sg.inputs.forEach((t) => addIo("i" + t, "input", t));
    sg.outputs.forEach((t) => addIo("x" + t, "output", t));
    const seen = new Set();
    const edge = (a, b) => { if (a && b && a !== b && !seen.has(a + ">" + b)) { seen.add(a + ">" + b); g.setEdge(a, b); } };
    const inputSet = new Set(sg.inputs);
    sg.ops.forEach((op, i) => {
      for (const t of op.inputs) {
        if (t < 0) continue;
        if (producer.has(t)) edge(rep.get(producer.get(t)), rep.get(i));
        else if (inputSet.has(t)) edge("i" + t, rep.get(i));
      }
    });
    sg.outputs.forEach((t) => { if (producer.has(t)) edge(rep.get(producer.get(t)), "x" + t); else if (inputSet.has(t)) edge("i" + t, "x" + t); });
    // dagre's crossing reduction (repeated sweeps) costs most of the time on big graphs: its
    // first, depth-first order is kept there, which reads well for mostly-chained networks
    dagre.layout(g, { disableOptimalOrderHeuristic: nodes.size > ORDER_SWEEPS_UP_TO });
    for (const [id, it] of nodes) { const n = g.node(id); it.x = n.x - it.w / 2; it.y = n.y - it.h / 2; }
    const edges = g.edges().map((e) => g.edge(e).points);
    S.layout = { nodes: [...nodes.values()], byId: nodes, edges, width: g.graph().width, height: g.graph().height };
    S.layoutMs = performance.now() - t0;
    S.dirty = true;
    renderGroupTree();
  }

  // ---------------------------------------------------------------- overlays
  function overlayStats(ov) {
    if (!ov._range) {
      const vals = Object.values(ov.values);
      ov._range = vals.length ? [Math.min(...vals), Math.max(...vals)] : [0, 1];
    }
    return ov._range;
  }
  function heat(ov, v) {
    const [lo, hi] = overlayStats(ov);
    let t = hi > lo ? (v - lo) / (hi - lo) : 1;
    if (ov.hot === "low") t = 1 - t;
    return Math.max(0, Math.min(1, t));
  }
  function ramp(t) {
    const x = t * (HOT.length - 1), i = Math.min(HOT.length - 2, Math.floor(x)), f = x - i;
    const c = HOT[i].map((a, j) => Math.round(a + (HOT[i + 1][j] - a) * f));
    return "rgb(" + c.join(",") + ")";
  }
  function nodeValue(it) {
    const ov = DATA.overlays[S.overlay];
    if (!ov) return undefined;
    if (it.kind === "op") return ov.values[S.sg + ":" + it.op];
    if (it.kind === "group") {  // a collapsed group: total time, worst SNR
      let acc;
      (function walk(g) { for (const m of g.items) { if (m.op !== undefined) { const v = ov.values[S.sg + ":" + m.op]; if (v !== undefined) acc = acc === undefined ? v : (ov.hot === "high" ? acc + v : Math.min(acc, v)); } else walk(m.group); } })(it.group);
      return acc;
    }
    return undefined;
  }
  function nodeFill(it) {
    const ov = DATA.overlays[S.overlay];
    if (ov && (it.kind === "op" || it.kind === "group")) { const v = nodeValue(it); return v === undefined ? "#eceff1" : ramp(heat(ov, v)); }
    if (it.kind === "op") return FAMILY_COLORS[DATA.subgraphs[S.sg].ops[it.op].family] || FAMILY_COLORS.other;
    if (it.kind === "group") return "#eef1f5";
    return "#ffffff";
  }

  // ---------------------------------------------------------------- drawing
  function resize() {
    const r = stage.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr)); canvas.height = Math.max(1, Math.round(r.height * dpr));
    S.dirty = true;
  }
  function roundRect(x, y, w, h, r) {
    ctx.beginPath(); ctx.moveTo(x + r, y); ctx.arcTo(x + w, y, x + w, y + h, r); ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r); ctx.arcTo(x, y, x + w, y, r); ctx.closePath();
  }
  const fitted = new Map();
  function clip(text, max) {  // cut to max characters and to the node's width (ctx.font set)
    if (text.length > max) text = text.slice(0, max - 1) + "\u2026";
    const key = ctx.font + "|" + text;
    let out = fitted.get(key);
    if (out === undefined) {
      out = text;
      while (out.length > 4 && ctx.measureText(out).width > NODE_W - 16) out = out.slice(0, out.length - 2) + "\u2026";
      fitted.set(key, out);
    }
    return out;
  }
  function draw() {
    S.dirty = false;
    const dpr = window.devicePixelRatio || 1, L = S.layout;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!L) return;
    ctx.setTransform(dpr * S.k, 0, 0, dpr * S.k, dpr * S.tx, dpr * S.ty);
    const vx0 = -S.tx / S.k, vy0 = -S.ty / S.k, vx1 = vx0 + canvas.width / dpr / S.k, vy1 = vy0 + canvas.height / dpr / S.k;
    ctx.strokeStyle = "#9aa4b1"; ctx.lineWidth = 1 / Math.max(S.k, 0.5);
    ctx.beginPath();
    for (const pts of L.edges) {
      let inView = false;
      for (const p of pts) if (p.x >= vx0 - 50 && p.x <= vx1 + 50 && p.y >= vy0 - 50 && p.y <= vy1 + 50) { inView = true; break; }
      if (!inView) continue;
      ctx.moveTo(pts[0].x, pts[0].y);
      for (let i = 1; i < pts.length; i++) ctx.lineTo(pts[i].x, pts[i].y);
      const a = pts[pts.length - 1], b = pts[pts.length - 2] || pts[0], ang = Math.atan2(a.y - b.y, a.x - b.x);
      ctx.moveTo(a.x - 6 * Math.cos(ang - 0.4), a.y - 6 * Math.sin(ang - 0.4)); ctx.lineTo(a.x, a.y);
      ctx.lineTo(a.x - 6 * Math.cos(ang + 0.4), a.y - 6 * Math.sin(ang + 0.4));
    }
    ctx.stroke();
    const text = S.k > 0.33, sg = DATA.subgraphs[S.sg];
    for (const it of L.nodes) {
      if (it.x > vx1 || it.x + it.w < vx0 || it.y > vy1 || it.y + it.h < vy0) continue;
      roundRect(it.x, it.y, it.w, it.h, it.kind === "op" || it.kind === "group" ? 5 : 14);
      ctx.fillStyle = nodeFill(it); ctx.fill();
      const sel = S.selected && S.selected.id === it.id;
      ctx.lineWidth = sel ? 3 : 1; ctx.strokeStyle = sel ? "#1a5fb4" : (it.kind === "group" ? "#8c96a3" : "#7d8794");
      if (it.kind === "group") ctx.setLineDash([5, 3]);
      ctx.stroke(); ctx.setLineDash([]);
      if (it.kind === "op" && sg.ops[it.op].delegate) {
        ctx.fillStyle = delegateColor(sg.ops[it.op].delegate); ctx.fillRect(it.x + it.w - 8, it.y + 3, 5, it.h - 6);
      }
      if (!text) continue;
      ctx.fillStyle = "#1d232b"; ctx.textBaseline = "alphabetic";
      if (it.kind === "op") {
        const op = sg.ops[it.op], out = op.outputs.find((t) => t >= 0), ten = out !== undefined ? sg.tensors[out] : null;
        ctx.font = "600 12px system-ui, sans-serif";
        ctx.fillText(clip("#" + it.op + " " + op.type, 26), it.x + 8, it.y + 17);
        ctx.font = "11px system-ui, sans-serif";
        const more = op.outputs.length > 1 ? "  +" + (op.outputs.length - 1) : "";
        ctx.fillText(clip(ten ? fmtShape(ten.shape) + " " + ten.dtype + more : "(no output)", 30), it.x + 8, it.y + 33);
      } else if (it.kind === "group") {
        ctx.font = "600 12px system-ui, sans-serif";
        ctx.fillText(clip("\u25b8 " + it.group.name, 27), it.x + 8, it.y + 17);
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(it.group.count + " ops \u2014 click to open", it.x + 8, it.y + 33);
      } else {
        const ten = sg.tensors[it.tensor];
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(clip((it.kind === "input" ? "in: " : "out: ") + ten.name, 26), it.x + 12, it.y + 13);
        ctx.fillText(clip(fmtShape(ten.shape) + " " + ten.dtype, 26), it.x + 12, it.y + 25);
      }
    }
  }
  const delegateNames = [];
  function delegateColor(name) { let i = delegateNames.indexOf(name); if (i < 0) { delegateNames.push(name); i = delegateNames.length - 1; } return DELEGATE_COLORS[i % DELEGATE_COLORS.length]; }
  function frame() { if (S.dirty) draw(); requestAnimationFrame(frame); }

  // ---------------------------------------------------------------- view control
  function fit() {
    const L = S.layout, r = stage.getBoundingClientRect();
    if (!L || !L.width) return;
    S.k = Math.min(1.2, Math.max(0.05, Math.min(r.width / L.width, r.height / L.height) * 0.95));
    if (S.k < 0.45) S.k = Math.min(1, Math.max(0.45, S.k));  // large graphs: readable, starting at the top
    S.tx = (r.width - L.width * S.k) / 2; if (L.width * S.k > r.width) S.tx = 10;
    S.ty = L.height * S.k > r.height ? 10 : (r.height - L.height * S.k) / 2;
    S.dirty = true;
  }
  function center(it) {
    const r = stage.getBoundingClientRect();
    if (S.k < 0.8) S.k = 1;
    S.tx = r.width / 2 - (it.x + it.w / 2) * S.k; S.ty = r.height / 2 - (it.y + it.h / 2) * S.k; S.dirty = true;
  }
  function hit(clientX, clientY) {
    const r = canvas.getBoundingClientRect(), x = (clientX - r.left - S.tx) / S.k, y = (clientY - r.top - S.ty) / S.k;
    if (!S.layout) return null;
    for (const it of S.layout.nodes) if (x >= it.x && x <= it.x + it.w && y >= it.y && y <= it.y + it.h) return it;
    return null;
  }
  function switchSubgraph(si, remember) {
    if (si === S.sg) return;
    if (remember) S.history.push(S.sg);
    S.sg = si; S.selected = null; $("subgraph").value = String(si);
    layout(); fit(); showModel();
  }
  function focusOp(si, op) {
    if (si !== S.sg) switchSubgraph(si, true);
    if (reveal(op) || !S.layout.byId.has("o" + op)) layout();
    const it = S.layout.byId.get("o" + op);
    center(it); select(it);
    return it;
  }
  function toggleGroup(g) {
    const open = expandedSet();
    if (open.has(g.id)) { (function close(x) { open.delete(x.id); for (const m of x.items) if (m.group) close(m.group); })(g); } else open.add(g.id);
    layout();
    const first = S.layout.byId.get("o" + g.first) || S.layout.byId.get(g.id);
    if (first) center(first);
  }

  // ---------------------------------------------------------------- side panel
  function select(it) {
    S.selected = it; S.dirty = true;
    const p = $("panel"); p.textContent = ""; p.scrollTop = 0;
    if (!it) { showModel(); return; }
    const sg = DATA.subgraphs[S.sg];
    if (it.kind === "group") { p.append(el("h2", { text: it.group.name }), kv([["ops", it.group.count], ["first op", "#" + it.group.first]])); return; }
    if (it.kind === "input" || it.kind === "output") { p.append(el("h2", { text: "subgraph " + it.kind })); p.append(tensorCard(it.tensor, it.kind)); return; }
    const op = sg.ops[it.op];
    p.append(el("h2", { id: "op-title", text: "#" + it.op + " " + op.type }));
    const ov = DATA.overlays[S.overlay], v = ov ? ov.values[S.sg + ":" + it.op] : undefined;
    p.append(kv([["subgraph", S.sg + " " + sg.name], ["family", op.family], ["version", op.version], ["scope", op.scope.join("/")],
      ["delegate", op.delegate], [ov ? ov.name : "", v !== undefined ? fmtNum(v) + " " + ov.unit : null]]));
    for (const o of DATA.overlays) { const ov2 = o.values[S.sg + ":" + it.op]; if (o !== ov && ov2 !== undefined) p.append(kv([[o.name, fmtNum(ov2) + " " + o.unit]])); }
    if (op.calls) {
      p.append(el("h3", { text: "Calls" }));
      for (const c of op.calls) p.append(el("div", {}, c.role + ": ", el("a", { class: "link", onclick: () => switchSubgraph(c.subgraph, true), text: "subgraph " + c.subgraph + " " + DATA.subgraphs[c.subgraph].name })));
    }
    if (op.options) { p.append(el("h3", { text: "Options" })); p.append(kv(Object.entries(op.options).map(([k, v2]) => [k, typeof v2 === "object" ? JSON.stringify(v2) : v2]))); }
    p.append(el("h3", { text: "Inputs" }));
    const ins = el("div", { id: "op-inputs" });
    op.inputs.forEach((t, j) => ins.append(tensorCard(t, "input " + j)));
    p.append(ins, el("h3", { text: "Outputs" }));
    const outs = el("div", { id: "op-outputs" });
    op.outputs.forEach((t, j) => outs.append(tensorCard(t, "output " + j)));
    p.append(outs);
    if (op.intermediates) { p.append(el("h3", { text: "Intermediates" })); op.intermediates.forEach((t, j) => p.append(tensorCard(t, "intermediate " + j))); }
  }
  function showModel() {
    const p = $("panel"); p.textContent = ""; p.scrollTop = 0;
    const sg = DATA.subgraphs[S.sg];
    p.append(el("h2", { text: DATA.title }));
    p.append(kv([["description", DATA.description], ["schema version", DATA.version], ["subgraphs", DATA.subgraphs.length],
      ["this subgraph", S.sg + " " + sg.name + " (" + sg.ops.length + " ops, " + sg.tensors.length + " tensors)"]]));
    if (S.history.length) p.append(el("div", {}, el("a", { class: "link", onclick: back, text: "\u2190 back to subgraph " + S.history[S.history.length - 1] })));
    if (sg.called_by) {
      p.append(el("h3", { text: "Called by" }));
      for (const c of sg.called_by) p.append(el("div", {}, el("a", { class: "link", onclick: () => focusOp(c.subgraph, c.node), text: "subgraph " + c.subgraph + " op #" + c.node + " (" + c.role + ")" })));
    }
    p.append(el("h3", { text: "Inputs" })); sg.inputs.forEach((t, j) => p.append(tensorCard(t, "input " + j)));
    p.append(el("h3", { text: "Outputs" })); sg.outputs.forEach((t, j) => p.append(tensorCard(t, "output " + j)));
    if (DATA.signatures.length) {
      p.append(el("h3", { text: "Signatures" }));
      for (const s of DATA.signatures) {
        p.append(el("div", {}, el("a", { class: "link", onclick: () => switchSubgraph(s.subgraph, true), text: s.key }), " \u2192 subgraph " + s.subgraph,
          el("div", { class: "muted", text: "in: " + Object.keys(s.inputs).join(", ") + "  out: " + Object.keys(s.outputs).join(", ") })));
      }
    }
    const md = DATA.metadata || {};
    if ((md.entries && md.entries.length) || md.json) {
      p.append(el("h3", { text: "Metadata" }));
      for (const e of md.entries || []) p.append(el("div", {}, e.name + " ", el("span", { class: "badge", text: e.text !== undefined ? e.text : e.bytes + " bytes" })));
      if (md.associated_files && md.associated_files.length) p.append(kv([["associated files", md.associated_files.join(", ")]]));
      if (md.json) p.append(el("pre", { class: "meta", id: "metadata-json", text: md.json }));
      if (md.note) p.append(el("div", { class: "muted", text: md.note }));
    }
    p.append(el("h3", { text: "Op types" }));
    const hist = {};
    for (const op of sg.ops) hist[op.type] = (hist[op.type] || 0) + 1;
    for (const [k, n] of Object.entries(hist).sort((a, b) => b[1] - a[1])) p.append(el("div", {}, el("a", { class: "link", onclick: () => { $("search").value = k; runSearch(); }, text: k }), " " + n));
  }
  function back() { if (S.history.length) { const si = S.history.pop(); switchSubgraph(si, false); } }

  // ---------------------------------------------------------------- group tree (left)
  function renderGroupTree() {
    const box = $("groups"); box.textContent = "";
    const open = expandedSet();
    const ul = el("ul", { class: "tree" });
    (function walk(g, parentUl, depth) {
      for (const it of g.items) {
        if (!it.group) continue;
        const c = it.group, isOpen = open.has(c.id);
        const li = el("li", {}, el("span", { class: "tg", "data-group": c.id, onclick: () => toggleGroup(c), text: (isOpen ? "\u25be " : "\u25b8 ") + c.name }), el("span", { class: "muted", text: " " + c.count }));
        parentUl.append(li);
        if (isOpen && depth < 8) { const sub = el("ul", { class: "tree" }); li.append(sub); walk(c, sub, depth + 1); }
      }
    })(tree().root, ul, 0);
    box.append(ul.childElementCount ? ul : el("div", { class: "muted", text: "no name scopes" }));
  }

  // ---------------------------------------------------------------- search
  function searchAll(q) {
    q = q.trim().toLowerCase();
    const out = [];
    if (!q) return out;
    DATA.subgraphs.forEach((sg, si) => {
      sg.ops.forEach((op, i) => {
        const outs = op.outputs.filter((t) => t >= 0).map((t) => sg.tensors[t].name);
        if (op.type.toLowerCase().includes(q) || outs.some((n) => n.toLowerCase().includes(q))) out.push({ kind: "op", sg: si, op: i, label: "#" + i + " " + op.type, sub: outs[0] || "" });
      });
      sg.tensors.forEach((t, ti) => { if (t.name.toLowerCase().includes(q)) out.push({ kind: "tensor", sg: si, tensor: ti, label: t.name, sub: fmtShape(t.shape) + " " + t.dtype }); });
    });
    return out;
  }
  function openTensor(si, ti) {
    const sg = DATA.subgraphs[si];
    let at = sg.ops.findIndex((op) => op.outputs.includes(ti));
    if (at < 0) at = sg.ops.findIndex((op) => op.inputs.includes(ti) || (op.intermediates || []).includes(ti));
    if (at >= 0) { focusOp(si, at); const card = $("panel").querySelector('[data-tensor="' + ti + '"]'); if (card) { card.style.outline = "2px solid #1a5fb4"; card.scrollIntoView({ block: "nearest" }); } return; }
    if (si !== S.sg) switchSubgraph(si, true);
    const p = $("panel"); p.textContent = ""; p.append(el("h2", { text: "tensor" }), tensorCard(ti, "tensor"));
  }
  function runSearch() {
    const res = searchAll($("search").value), box = $("results");
    box.textContent = "";
    if (!res.length) { box.style.display = $("search").value.trim() ? "block" : "none"; if ($("search").value.trim()) box.append(el("div", { class: "muted", text: "no match" })); return res; }
    for (const r of res.slice(0, 200)) {
      const row = el("div", { "data-kind": r.kind, title: r.label }, el("span", { class: "kind", text: r.kind + (DATA.subgraphs.length > 1 ? " sg" + r.sg : "") }), r.label, el("span", { class: "muted", text: "  " + r.sub }));
      row.addEventListener("click", () => { box.style.display = "none"; if (r.kind === "op") focusOp(r.sg, r.op); else openTensor(r.sg, r.tensor); });
      box.append(row);
    }
    if (res.length > 200) box.append(el("div", { class: "muted", text: (res.length - 200) + " more" }));
    const sr = $("search").getBoundingClientRect(); box.style.left = sr.left + "px"; box.style.display = "block";
    return res;
  }

  // ---------------------------------------------------------------- legend
  function renderLegend() {
    const box = $("legend"), ov = DATA.overlays[S.overlay];
    box.textContent = "";
    if (ov) {
      const [lo, hi] = overlayStats(ov), r = el("canvas", { class: "ramp", width: "180", height: "10" }), c = r.getContext("2d");
      for (let x = 0; x < 180; x++) { c.fillStyle = ramp(ov.hot === "low" ? 1 - x / 179 : x / 179); c.fillRect(x, 0, 1, 10); }
      box.append(el("div", { text: ov.name + (ov.unit ? " (" + ov.unit + ")" : "") + (ov.hot === "low" ? ", low is worse" : ", high is worse") }), r,
        el("div", { class: "ends" }, el("span", { text: fmtNum(lo) }), el("span", { text: fmtNum(hi) })));
    } else {
      const used = new Set(DATA.subgraphs[S.sg].ops.map((o) => o.family));
      for (const [f, col] of Object.entries(FAMILY_COLORS)) if (used.has(f)) box.append(el("div", {}, el("span", { class: "swatch", style: "background:" + col }), f));
    }
    const dels = new Set(); DATA.subgraphs.forEach((sg) => sg.ops.forEach((o) => { if (o.delegate) dels.add(o.delegate); }));
    for (const d of dels) box.append(el("div", {}, el("span", { class: "swatch", style: "background:" + delegateColor(d) }), "delegate " + d));
  }

  // ---------------------------------------------------------------- events
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, tx: S.tx, ty: S.ty, moved: false }; canvas.classList.add("dragging"); });
  window.addEventListener("mouseup", (e) => {
    canvas.classList.remove("dragging");
    if (drag && !drag.moved && e.target === canvas) {
      const it = hit(e.clientX, e.clientY);
      if (it && it.kind === "group") toggleGroup(it.group); else select(it);
    }
    drag = null;
  });
  window.addEventListener("mousemove", (e) => {
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) { S.tx = drag.tx + dx; S.ty = drag.ty + dy; S.dirty = true; }
      return;
    }
    if (e.target !== canvas) { $("tooltip").style.display = "none"; return; }
    const it = hit(e.clientX, e.clientY), tip = $("tooltip");
    if (!it) { tip.style.display = "none"; return; }
    tip.textContent = tooltipText(it);
    const r = stage.getBoundingClientRect();
    tip.style.display = "block";
    let left = e.clientX - r.left + 14, top = e.clientY - r.top + 14;
    if (left + tip.offsetWidth > r.width) left = Math.max(0, e.clientX - r.left - 14 - tip.offsetWidth);
    if (top + tip.offsetHeight > r.height) top = Math.max(0, e.clientY - r.top - 14 - tip.offsetHeight);
    tip.style.left = left + "px"; tip.style.top = top + "px";
  });
  function tooltipText(it) {
    const sg = DATA.subgraphs[S.sg];
    if (it.kind === "group") return it.group.name + "\n" + it.group.count + " ops";
    const lines = [];
    const ts = it.kind === "op" ? sg.ops[it.op].outputs : [it.tensor];
    if (it.kind === "op") lines.push("#" + it.op + " " + sg.ops[it.op].type);
    for (const t of ts) {
      if (t < 0) continue;
      const ten = sg.tensors[t];
      lines.push(ten.name.split(";")[0] + "  " + fmtShape(ten.shape) + " " + ten.dtype);
      if (ten.q && ten.q.scale.length) lines.push("  scale " + ten.q.scale.slice(0, 3).map(fmtNum).join(", ") + (ten.q.count > 3 ? " \u2026" : "") + "  zero point " + ten.q.zero_point.slice(0, 3).join(", "));
    }
    const v = nodeValue(it), ov = DATA.overlays[S.overlay];
    if (v !== undefined) lines.push(ov.name + ": " + fmtNum(v) + " " + ov.unit);
    return lines.join("\n");
  }
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    const k = Math.max(0.03, Math.min(4, S.k * Math.exp(-e.deltaY * 0.0015)));
    S.tx = mx - (mx - S.tx) * k / S.k; S.ty = my - (my - S.ty) * k / S.k; S.k = k; S.dirty = true;
  }, { passive: false });
  $("search").addEventListener("input", () => runSearch());
  $("search").addEventListener("keydown", (e) => { if (e.key === "Enter") { const first = $("results").querySelector("[data-kind]"); if (first) first.click(); } if (e.key === "Escape") $("results").style.display = "none"; });
  $("subgraph").addEventListener("change", () => switchSubgraph(+$("subgraph").value, true));
  $("overlay").addEventListener("change", () => { S.overlay = +$("overlay").value; S.dirty = true; renderLegend(); if (S.selected) select(S.selected); });
  $("fit").addEventListener("click", fit);
  $("collapse").addEventListener("click", () => { S.expanded[S.sg] = new Set([tree().root.id]); layout(); fit(); });
  window.addEventListener("resize", () => { resize(); });

  // ---------------------------------------------------------------- start
  DATA.subgraphs.forEach((sg, i) => $("subgraph").append(el("option", { value: String(i), text: i + ": " + sg.name + " (" + sg.ops.length + " ops)" })));
  $("overlay").append(el("option", { value: "-1", text: "colour: op family" }));
  DATA.overlays.forEach((ov, i) => $("overlay").append(el("option", { value: String(i), text: "overlay: " + ov.name + (ov.unit ? " (" + ov.unit + ")" : "") })));
  if (!DATA.overlays.length) $("overlay").style.display = "none";
  if (DATA.subgraphs.length < 2) $("subgraph").style.display = "none";
  document.title = DATA.title;
  $("title").textContent = DATA.title;
  resize(); layout(); fit(); showModel(); renderLegend(); draw();
  requestAnimationFrame(frame);

  window.edgeliteViz = {
    ready: true,
    readyMs: performance.now(),     // ms since navigation start: page opened and interactive
    scriptMs: performance.now() - T0,
    layoutMs: () => S.layoutMs,
    subgraph: () => S.sg,
    opCount: () => DATA.subgraphs[S.sg].ops.length,
    renderedOpNodes: () => S.layout.nodes.filter((n) => n.kind === "op").map((n) => n.op),
    renderedNodes: () => S.layout.nodes.length,
    // reveal op k, center it, and return where it is on the page (client coordinates)
    locateOp: (k) => {
      if (reveal(k) || !S.layout.byId.has("o" + k)) layout();
      const it = S.layout.byId.get("o" + k); center(it); draw();
      const r = canvas.getBoundingClientRect();
      return { x: r.left + S.tx + (it.x + it.w / 2) * S.k, y: r.top + S.ty + (it.y + it.h / 2) * S.k, left: r.left + S.tx + (it.x + 6) * S.k, bottom: r.top + S.ty + (it.y + it.h - 5) * S.k };
    },
    heat: (k) => { const ov = DATA.overlays[S.overlay]; const v = ov && ov.values[S.sg + ":" + k]; return v === undefined ? null : heat(ov, v); },
    hotColor: () => ramp(1),
    selectOverlay: (name) => { const i = DATA.overlays.findIndex((o) => o.name === name); $("overlay").value = String(i); $("overlay").dispatchEvent(new Event("change")); return i; },
    switchSubgraph: (i) => switchSubgraph(i, true),
    expandAll: () => { const open = expandedSet(); for (const id of tree().byId.keys()) open.add(id); layout(); fit(); return S.layout.nodes.length; },
    search: (q) => searchAll(q),
    groupNodes: () => S.layout.nodes.filter((n) => n.kind === "group").map((n) => n.id),
    locateNode: (id) => {
      const it = S.layout.byId.get(id); center(it); draw();
      const r = canvas.getBoundingClientRect();
      return { x: r.left + S.tx + (it.x + it.w / 2) * S.k, y: r.top + S.ty + (it.y + it.h / 2) * S.k };
    },
    nodeAt: (x, y) => { const it = hit(x, y); return it && { id: it.id, kind: it.kind, op: it.op }; },
  };
})();
