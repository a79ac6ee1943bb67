/* edgelite graph viewer: DOM building blocks of the side panel (tables, tensor cards with
 * quantization and a weights histogram) and number/shape formatting. */
var EdgeliteWidgets = (function () {
  "use strict";
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.addEventListener("click", v); else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  };
  const fmtShape = (s) => (s && s.length ? s.join("\u00d7") : "scalar");
  const fmtNum = (v) => (typeof v !== "number" ? String(v) : (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(3) : +v.toPrecision(5) + ""));
  function kv(rows) {
    const t = el("table");
    for (const [k, v] of rows) if (v !== undefined && v !== null && v !== "") t.append(el("tr", {}, el("td", { class: "k", text: k }), el("td", {}, v instanceof Node ? v : String(v))));
    return t;
  }
  function fmtQuant(q) {
    if (!q) return null;
    let s = q.count > 1 ? "per-axis (dim " + q.quantized_dimension + ", " + q.count + " channels) " : "";
    if (q.scale.length) s += "scale " + q.scale.slice(0, 4).map(fmtNum).join(", ") + (q.count > 4 ? ", \u2026" : "");
    if (q.zero_point.length) s += "  zero point " + q.zero_point.slice(0, 4).join(", ") + (q.zero_point.length > 4 ? ", \u2026" : "");
    if (q.min) s += "  min " + q.min.slice(0, 2).map(fmtNum).join(", ");
    if (q.max) s += "  max " + q.max.slice(0, 2).map(fmtNum).join(", ");
    return s;
  }
  function histogram(w) {
    const peak = Math.max(1, ...w.hist), box = el("div", { class: "hist", title: "histogram of stored values" });
    for (const c of w.hist) box.append(el("div", { style: "height:" + Math.max(2, Math.round(100 * c / peak)) + "%" }));
    return el("div", {}, box, el("div", { class: "histaxis" }, el("span", { text: fmtNum(w.edges[0]) }), el("span", { text: fmtNum(w.edges[1]) })));
  }
  function tensorCard(t, ti, role) {  // t: the tensor's entry in the data, ti its index
    if (ti < 0) return el("div", { class: "tensor muted", text: role + ": (omitted optional input)" });
    const box = el("div", { class: "tensor", "data-tensor": String(ti) });
    box.append(el("div", { class: "tname", text: t.name || "(unnamed)" }));
    const rows = [["role", role], ["index", ti], ["shape", fmtShape(t.shape)], ["shape signature", t.shape_signature ? fmtShape(t.shape_signature) : null],
      ["dtype", t.dtype], ["quantization", fmtQuant(t.q)], ["sparsity", t.sparsity ? JSON.stringify(t.sparsity) : null],
      ["constant", t.const ? "yes" : "no"], ["variable", t.variable ? "yes" : null]];
    box.append(kv(rows));
    if (t.w) {
      const w = t.w;
      box.append(kv([["values", w.count + (w.sampled ? " (stats on a sample)" : "")], ["min / max", fmtNum(w.min) + " / " + fmtNum(w.max)],
        ["mean / std", fmtNum(w.mean) + " / " + fmtNum(w.std)], ["zeros", (100 * w.zeros).toFixed(1) + "%"],
        ["real range", w.real_min !== undefined ? fmtNum(w.real_min) + " \u2026 " + fmtNum(w.real_max) : null]]));
      box.append(histogram(w));
    }
    return box;
  }
  return { el, fmtShape, fmtNum, kv, fmtQuant, histogram, tensorCard };
})();
