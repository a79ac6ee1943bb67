/* edgelite graph viewer: name-scope groups.
 * Ops are grouped by the scope of their first output's name (graph_data.name_scope):
 * a group of one op is no group, a chain of single groups merges into one ("a/b"), and a
 * group with more than CHUNK members is cut into runs of consecutive ops ("ops 80-159"). */
var EdgeliteScopes = (function () {
  "use strict";
  function build(ops, CHUNK) {
    let next = 0;
    const mk = (name, parent) => ({ id: "g" + (next++), name, parent, kids: new Map(), items: [], count: 0, first: Infinity });
    const root = mk("", null);
    ops.forEach((op, i) => {
      let g = root;
      g.count++; g.first = Math.min(g.first, i);
      for (const part of op.scope) {
        if (!g.kids.has(part)) { const c = mk(part, g); g.kids.set(part, c); g.items.push({ group: c }); }
        g = g.kids.get(part); g.count++; g.first = Math.min(g.first, i);
      }
      g.items.push({ op: i });
    });
    const lastOp = (g) => g.items.reduce((m, it) => Math.max(m, it.op !== undefined ? it.op : lastOp(it.group)), -1);
    const byId = new Map();
    function tidy(g) {
      // a group of one op is no group; a group whose only member is a group merges with it
      g.items = g.items.map((it) => {
        if (!it.group) return it;
        let c = it.group;
        while (c.items.length === 1 && c.items[0].group) { const cc = c.items[0].group; cc.name = c.name + "/" + cc.name; cc.parent = g; c = cc; }
        if (c.count === 1) return c.items[0].op !== undefined ? c.items[0] : { op: c.first };
        return { group: c };
      });
      g.items.sort((a, b) => (a.op !== undefined ? a.op : a.group.first) - (b.op !== undefined ? b.op : b.group.first));
      if (g.items.length > CHUNK) {  // too many members: runs of CHUNK become groups of their own
        const runs = [];
        for (let s = 0; s < g.items.length; s += CHUNK) {
          const part = g.items.slice(s, s + CHUNK);
          const c = mk("", g);
          c.items = part;
          for (const it of part) { const n = it.op !== undefined ? 1 : it.group.count; c.count += n; c.first = Math.min(c.first, it.op !== undefined ? it.op : it.group.first); if (it.group) it.group.parent = c; }
          c.name = "ops " + c.first + "\u2013" + lastOp(c);
          runs.push({ group: c });
        }
        g.items = runs;
      }
      byId.set(g.id, g);
      for (const it of g.items) if (it.group) tidy(it.group);
    }
    tidy(root);
    const opGroup = new Array(ops.length);
    (function mark(g) { for (const it of g.items) if (it.op !== undefined) opGroup[it.op] = g; else mark(it.group); })(root);
    return { root, byId, opGroup };
  }
  return { build };
})();
