/** The inspector page's HTML and CSS, served as they are (server.ts); the scripts are the other page/*.ts, compiled. */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>memtable-node inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<header><h1>memtable-node inspector</h1><span id="status" class="muted">connecting…</span></header>
<nav><h2>Nodes</h2><div id="node-list"></div></nav>
<main>
  <h2 id="node-title">Select a node</h2>
  <section><h3>Counters</h3><div id="counters"></div></section>
  <section><h3>State machine</h3><div id="diagram"></div></section>
  <section><h3>LSM tree</h3><div id="lsm"></div></section>
  <section><h3>Last events</h3>
    <div class="filter" id="event-kinds">
      <label><input type="checkbox" value="transition" checked> transitions</label>
      <label><input type="checkbox" value="flush" checked> flushes</label>
      <label><input type="checkbox" value="compaction" checked> compactions</label>
      <label><input type="checkbox" value="error" checked> errors</label>
      <label><input type="checkbox" value="event" checked> other events</label>
      <input type="search" id="event-text" placeholder="filter text">
    </div>
    <div id="events"></div>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { --fg: #1d2330; --muted: #6b7280; --line: #d0d5dd; --accent: #1f6feb; --active: #fff3bf; --active-line: #e8a400; --bad: #c92a2a; --good: #2b8a3e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); display: grid; grid-template: auto 1fr / 220px 1fr; min-height: 100vh; }
header { grid-column: 1 / 3; display: flex; gap: 1em; align-items: baseline; padding: 8px 16px; border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; } h2 { font-size: 16px; margin: 0 0 8px; } h3 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
nav { padding: 12px; border-right: 1px solid var(--line); }
main { padding: 12px 16px; overflow: auto; }
.muted { color: var(--muted); }
.nodes { list-style: none; margin: 0; padding: 0; }
.node { padding: 6px 8px; border-radius: 4px; cursor: pointer; }
.node:hover { background: #f1f3f5; }
.node.selected { background: #e7f0ff; outline: 1px solid var(--accent); }
.node.gone .label { text-decoration: line-through; color: var(--muted); }
.node-state { display: block; font-size: 12px; color: var(--muted); }
.counters { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; }
.counters div { border: 1px solid var(--line); border-radius: 4px; padding: 4px 10px; min-width: 120px; }
.counters dt { font-size: 11px; color: var(--muted); } .counters dd { margin: 0; font-size: 18px; font-variant-numeric: tabular-nums; }
.machine { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.machine-name { font-weight: 600; }
.states { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 6px; }
.state { border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; min-width: 150px; background: #fff; }
.state .state { background: #fafbfc; }
.state.active { background: var(--active); border: 2px solid var(--active-line); }
.state.parallel { flex: 1 1 100%; }
.states.regions { flex-wrap: nowrap; align-items: flex-start; }
.state.region { border-style: dashed; flex: 1 1 0; }
.state.region.active { border-style: dashed; background: #fffbe6; }
.parallel-mark, .region-mark { font-weight: 400; font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; }
.state-name { font-weight: 600; }
.initial-mark { color: var(--muted); font-size: 10px; }
.transitions { list-style: none; margin: 4px 0 0; padding: 0; font-size: 12px; color: var(--muted); }
.transitions .event { color: var(--fg); font-family: ui-monospace, monospace; }
.row { display: flex; gap: 8px; align-items: center; margin: 4px 0; }
.row .name { width: 120px; }
.bar .track, .keyspace .track { fill: #f1f3f5; stroke: var(--line); }
.bar .fill { fill: var(--accent); }
.frozen { display: inline-block; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; font-size: 12px; }
.frozen.flushing { border-color: var(--accent); background: #e7f0ff; }
.flush, .compaction { margin: 4px 0; font-size: 13px; }
.flush.retrying, .badge.stalled { color: var(--bad); font-weight: 600; }
.compaction.running { color: var(--accent); font-weight: 600; }
.compaction.idle, .compaction.last { color: var(--muted); }
.level { margin: 6px 0; }
.level-label { font-size: 12px; font-variant-numeric: tabular-nums; }
.keyspace .file rect { fill: #a5c8ff; stroke: #3b6fc4; }
.keyspace .file.input rect { fill: #ffd8a8; stroke: #e8590c; }
.keyspace .file.output rect { fill: #b2f2bb; stroke: var(--good); }
.keyspace text { font-size: 9px; fill: var(--fg); }
.tick { stroke-width: 2; } .tick.compaction { stroke: var(--accent); } .tick.slowdown { stroke: var(--active-line); } .tick.stop { stroke: var(--bad); }
.filter { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 6px; }
.events { list-style: none; margin: 0; padding: 0; font-family: ui-monospace, monospace; font-size: 12px; max-height: 320px; overflow: auto; }
.events time { color: var(--muted); }
.events .kind { display: inline-block; width: 80px; }
.event-error { color: var(--bad); } .event-flush .kind { color: var(--accent); } .event-compaction .kind { color: var(--good); }
`;
