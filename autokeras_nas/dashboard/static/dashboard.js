/* The autokeras-nas dashboard page: plain JavaScript, plotly.js for the charts.
 *
 * Routes (location.hash): #/VIEW (leaderboard, progress, pareto, hyperparameters,
 * space, oneshot, lineage, edits) and #/trial/SID/TID. The search shown is
 * state.sid (the selector). Every 2 s the page fetches /api/searches and
 * re-renders the current view when a shown search's version changed.
 *
 * Every chart div gets data-rendered="true" and data-points=N once plotly drew
 * it, or data-rendered="na" with the reason shown beside it when the view does
 * not apply; the leaderboard table gets data-rendered and data-rows.
 */
"use strict";

const POLL_MS = 2000;
// WebGL (scattergl) above this many points, SVG below: a browser keeps only
// about 16 WebGL contexts alive, so small charts do not spend them.
const GL_POINTS = 1500;
const scatterType = (n) => (n >= GL_POINTS ? "scattergl" : "scatter");
const PAGE_ROWS = 100;
const state = {
  config: null,
  searches: {},          // sid -> summary
  sid: null,             // the search shown
  compare: null,         // set of sids overlaid on the best-so-far charts
  route: {view: "leaderboard"},
  lb: {data: null, version: null, sid: null, sortKey: "rank", sortDir: 1, page: 0,
       order: null, filter: "", status: ""},
  shownVersions: {},     // sid -> version the current view was drawn from
  paretoAxes: {},        // sid -> {x, y}
  renderSeq: 0,
};

// -- utilities --------------------------------------------------------------------
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, {credentials: "same-origin"});
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response.json();
}

function showError(message) {
  const banner = $("error-banner");
  banner.textContent = message || "";
  banner.hidden = !message;
}

function fmt(v) {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(3) : String(+v.toPrecision(4));
  }
  return String(v);
}

// Hover text goes through plotly's tag parser: keep the data's < and > literal.
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const api = (sid, path) => `/api/s/${encodeURIComponent(sid)}/${path}`;

// -- charts -----------------------------------------------------------------------
// plotly.js (4.8 MB) loads when a chart first needs it, or once the first view is up:
// parsing it does not delay the leaderboard.
let plotlyPromise = null;
function loadPlotly() {
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/static/plotly.min.js";
      script.id = "plotly-script";
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () => reject(new Error("plotly.min.js did not load")));
      document.head.append(script);
    });
  }
  return plotlyPromise;
}

const BASE_LAYOUT = {
  margin: {l: 60, r: 20, t: 40, b: 50}, height: 420, hovermode: "closest",
  font: {family: "system-ui, sans-serif", size: 12}, paper_bgcolor: "#fff", plot_bgcolor: "#fafafa",
};

function countPoints(traces) {
  let n = 0;
  for (const t of traces) {
    if (t.type === "parcoords") n += (t.dimensions[0] || {values: []}).values.length;
    else if (t.type === "heatmap") n += (t.z || []).reduce((a, row) => a + row.filter((v) => v !== null).length, 0);
    else if (t.type === "bar") n += (t.x || []).length;
    else if (t.x) n += t.x.filter((v) => v !== null).length;
  }
  return n;
}

async function plot(id, traces, layout, onClick) {
  const div = $(id);
  const box = div.parentElement;
  box.querySelector(".na").hidden = true;
  div.hidden = false;
  div.dataset.rendered = "false";
  const Plotly = await loadPlotly();
  const full = Object.assign({}, BASE_LAYOUT, layout);
  // The div holds the height: a responsive resize (window resized) sizes the chart to its div.
  div.style.height = full.height + "px";
  await Plotly.react(div, traces, full, {responsive: true, displaylogo: false});
  if (onClick && !div.dataset.clickBound) {
    div.dataset.clickBound = "1";
    div.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p && p.customdata !== undefined && div._onClick) div._onClick(p.customdata);
    });
  }
  div._onClick = onClick || null;
  div.dataset.points = String(countPoints(traces));
  // Plotly draws a notice instead of a WebGL chart it could not get a context for.
  div.dataset.rendered = div.querySelector(".no-webgl") ? "error" : "true";
}

function purge(div) {
  // Gives back the chart's WebGL contexts now: a browser keeps only about 16, and a
  // removed canvas holds its context until garbage collection.
  if (!window.Plotly || !div.data) return;
  const layers = div._fullLayout && div._fullLayout._glcanvas;
  if (layers) {
    layers.each((d) => {
      const gl = d && d.regl && d.regl._gl;
      const lose = gl && gl.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
    });
  }
  window.Plotly.purge(div);
}

async function notApplicable(id, reason) {
  const div = $(id);
  purge(div);
  div.hidden = true;
  div.dataset.points = "0";
  div.dataset.rendered = "na";
  const p = div.parentElement.querySelector(".na");
  p.textContent = reason;
  p.hidden = false;
}

const openTrial = (sid) => (tid) => { location.hash = `#/trial/${encodeURIComponent(sid)}/${encodeURIComponent(tid)}`; };

// -- routing ----------------------------------------------------------------------
function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "trial" && parts.length >= 3) return {view: "trial", sid: parts[1], tid: parts.slice(2).join("/")};
  const views = ["leaderboard", "progress", "pareto", "hyperparameters", "space", "oneshot", "lineage", "edits"];
  return {view: views.includes(parts[0]) ? parts[0] : "leaderboard"};
}

async function route() {
  state.route = parseRoute();
  if (state.route.sid && state.searches[state.route.sid] && state.route.sid !== state.sid) {
    state.sid = state.route.sid;
    $("search-select").value = state.sid;
    showSearchInfo();
  }
  for (const section of document.querySelectorAll("section.view")) {
    section.hidden = section.id !== "view-" + state.route.view;
    if (section.hidden && window.Plotly) {
      // Charts out of sight give back their WebGL contexts.
      for (const div of section.querySelectorAll(".chart")) {
        purge(div);
        div.dataset.rendered = "pending";
      }
    }
  }
  for (const a of document.querySelectorAll("#tabs a")) {
    a.classList.toggle("active", a.dataset.view === state.route.view);
  }
  await render();
}

async function render() {
  const seq = ++state.renderSeq;
  const view = state.route.view;
  const shown = {};
  try {
    const renderers = {
      leaderboard: renderLeaderboard, progress: renderProgress, pareto: renderPareto,
      hyperparameters: renderHyperparameters, space: renderSpace, oneshot: renderOneshot,
      lineage: renderLineage, edits: renderEdits, trial: renderTrial,
    };
    const sids = view === "progress" ? [...state.compare] : [state.sid];
    for (const sid of sids) shown[sid] = (state.searches[sid] || {}).version;
    if (!state.liveRender) {
      // A new view or search: its charts are pending until drawn (a live refresh keeps them).
      for (const div of document.querySelectorAll(`#view-${view} .chart`)) div.dataset.rendered = "pending";
    }
    await renderers[view](seq);
    if (seq === state.renderSeq) {
      state.shownVersions = shown;
      showError(errorsOf(sids));
    }
  } catch (e) {
    if (seq === state.renderSeq) {
      showError(`cannot show this view: ${e.message}`);
      // Charts still waiting say why instead (data-rendered="error").
      for (const div of document.querySelectorAll(`#view-${view} .chart`)) {
        if (div.dataset.rendered !== "true" && div.dataset.rendered !== "na") {
          await notApplicable(div.id, `could not draw: ${e.message}`);
          div.dataset.rendered = "error";
        }
      }
    }
  }
}

function errorsOf(sids) {
  return sids.map((sid) => state.searches[sid]).filter((s) => s && s.error)
    .map((s) => `${s.name}: ${s.error} (showing the last good read)`).join("; ");
}

// -- leaderboard --------------------------------------------------------------------
async function renderLeaderboard() {
  const sid = state.sid;
  const version = state.searches[sid].version;
  const lb = state.lb;
  if (lb.sid !== sid || lb.version !== version || !lb.data) {
    const data = await getJSON(api(sid, "leaderboard"));
    if (lb.sid !== sid) Object.assign(lb, {sortKey: "rank", sortDir: 1, page: 0, filter: "", status: ""});
    Object.assign(lb, {data, sid, version, order: null});
    $("lb-filter").value = lb.filter;
    fillStatuses(data);
  }
  drawLeaderboard();
}

function fillStatuses(data) {
  const select = $("lb-status");
  const statuses = [...new Set(data.status)].filter((s) => s).sort();
  const current = state.lb.status;
  select.replaceChildren(el("option", {value: "", text: "any status"}),
    ...statuses.map((s) => el("option", {value: s, text: s})));
  select.value = statuses.includes(current) ? current : "";
  state.lb.status = select.value;
}

function columnsOf(data) {
  const cols = [{key: "rank", label: "rank", get: (i) => data.rank[i]},
                {key: "trial_id", label: "trial", get: (i) => data.trial_id[i]},
                {key: "status", label: "status", get: (i) => data.status[i]}];
  if (data.phase.some((p) => p)) cols.push({key: "phase", label: "phase", get: (i) => data.phase[i]});
  const objectives = new Set(data.objectives.map((o) => o.name));
  for (const m of data.metrics) {
    cols.push({key: "m:" + m, label: m, metric: m, objective: objectives.has(m), get: (i) => data.metric[m][i]});
  }
  if (data.edits_seen.some((e) => e !== null && e !== undefined)) {
    cols.push({key: "edits_seen", label: "edit", get: (i) => data.edits_seen[i]});
  }
  for (const p of data.params) cols.push({key: "p:" + p, label: p, param: p, get: (i) => data.param[p][i]});
  return cols;
}

function compare(a, b) {
  const an = a === null || a === undefined, bn = b === null || b === undefined;
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;  // missing last, whatever the direction
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, {numeric: true});
}

function filterRows(data, cols) {
  const n = data.trial_id.length;
  const status = state.lb.status;
  const tests = [];
  for (const token of state.lb.filter.trim().split(/\s+/).filter((t) => t)) {
    const m = token.match(/^([^=<>!]+)(>=|<=|!=|=|<|>)(.*)$/);
    if (m) {
      const col = cols.find((c) => c.label === m[1] || c.key === m[1]);
      if (col) {
        const [op, raw] = [m[2], m[3]];
        const num = Number(raw);
        tests.push((i) => {
          const v = col.get(i);
          if (op === "=") return String(v) === raw;
          if (op === "!=") return String(v) !== raw;
          if (v === null || v === undefined || Number.isNaN(num)) return false;
          return op === ">" ? v > num : op === "<" ? v < num : op === ">=" ? v >= num : v <= num;
        });
        continue;
      }
    }
    const needle = token.toLowerCase();
    tests.push((i) => cols.some((c) => String(c.get(i) ?? "").toLowerCase().includes(needle)));
  }
  const rows = [];
  for (let i = 0; i < n; i++) {
    if (status && data.status[i] !== status) continue;
    if (tests.every((t) => t(i))) rows.push(i);
  }
  return rows;
}

function drawLeaderboard() {
  const lb = state.lb, data = lb.data;
  const table = $("leaderboard");
  const cols = columnsOf(data);
  const col = cols.find((c) => c.key === lb.sortKey) || cols[0];
  const rows = filterRows(data, cols);
  rows.sort((a, b) => lb.sortDir * compare(col.get(a), col.get(b)) || a - b);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
  lb.page = Math.min(lb.page, pages - 1);
  const start = lb.page * PAGE_ROWS;
  const shown = rows.slice(start, start + PAGE_ROWS);

  const head = el("tr");
  for (const c of cols) {
    const arrow = c.key === col.key ? (lb.sortDir > 0 ? " \u25b2" : " \u25bc") : "";
    head.append(el("th", {text: c.label + arrow, "data-key": c.key,
                          class: (c.objective ? "objective " : "") + (c.param ? "param" : ""),
                          title: "sort by " + c.label}));
  }
  const body = document.createDocumentFragment();
  for (const i of shown) {
    const tr = el("tr", {"data-trial-id": data.trial_id[i], class: "status-" + data.status[i]});
    for (const c of cols) tr.append(el("td", {text: fmt(c.get(i)), class: c.objective ? "objective" : ""}));
    body.append(tr);
  }
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(body);
  $("lb-count").textContent = rows.length
    ? `rows ${start + 1}\u2013${start + shown.length} of ${rows.length}` +
      (rows.length !== data.trial_id.length ? ` (filtered from ${data.trial_id.length})` : "")
    : `no rows (of ${data.trial_id.length})`;
  $("lb-prev").disabled = lb.page === 0;
  $("lb-next").disabled = lb.page >= pages - 1;
  table.dataset.rows = String(rows.length);
  table.dataset.rendered = "true";
  if (!document.body.dataset.leaderboardMs) {
    document.body.dataset.leaderboardMs = String(Math.round(performance.now()));
  }
}

function bindLeaderboard() {
  const table = $("leaderboard");
  table.tHead.addEventListener("click", (ev) => {
    const th = ev.target.closest("th");
    if (!th) return;
    const lb = state.lb;
    if (lb.sortKey === th.dataset.key) lb.sortDir = -lb.sortDir;
    else { lb.sortKey = th.dataset.key; lb.sortDir = th.dataset.key.startsWith("m:") ? directionOf(th.dataset.key) : 1; }
    lb.page = 0;
    drawLeaderboard();
  });
  table.tBodies[0].addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr");
    if (tr) openTrial(state.sid)(tr.dataset.trialId);
  });
  let timer = null;
  $("lb-filter").addEventListener("input", (ev) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.lb.filter = ev.target.value; state.lb.page = 0; drawLeaderboard(); }, 150);
  });
  $("lb-status").addEventListener("change", (ev) => { state.lb.status = ev.target.value; state.lb.page = 0; drawLeaderboard(); });
  $("lb-prev").addEventListener("click", () => { state.lb.page--; drawLeaderboard(); });
  $("lb-next").addEventListener("click", () => { state.lb.page++; drawLeaderboard(); });
}

function directionOf(key) {
  // A metric column sorts best first: descending unless the objective (or a cost) is minimised.
  const name = key.slice(2);
  const objective = (state.lb.data.objectives || []).find((o) => o.name === name);
  if (objective) return objective.direction === "min" ? 1 : -1;
  return /loss|error|time|latency|params|epochs/.test(name) ? 1 : -1;
}

// -- best so far ----------------------------------------------------------------------
function drawCompare() {
  const box = $("compare");
  const sids = Object.keys(state.searches);
  if (sids.length < 2) { box.replaceChildren(); return; }
  box.replaceChildren(el("span", {text: "overlay: "}), ...sids.map((sid) => {
    const input = el("input", {type: "checkbox", value: sid, "data-sid": sid});
    input.checked = state.compare.has(sid);
    input.addEventListener("change", () => {
      if (input.checked) state.compare.add(sid); else state.compare.delete(sid);
      render();
    });
    return el("label", {class: "check"}, input, " " + state.searches[sid].name);
  }));
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

async function renderProgress() {
  drawCompare();
  const sids = [...state.compare].filter((s) => state.searches[s]);
  const payloads = await Promise.all(sids.map((sid) => getJSON(api(sid, "progress"))));
  const byTrials = [], byTime = [], shapes = {trials: [], time: []}, notes = {trials: [], time: []};
  let objective = null;
  payloads.forEach((p, k) => {
    const sid = sids[k], name = state.searches[sid].name, color = COLORS[k % COLORS.length];
    if (!p.objective) return;
    objective = objective || p.objective;
    const t = p.trials;
    const hover = t.trial_id.map((id, i) => `${esc(name)} trial ${esc(id)}: ${fmt(t.value[i])}`);
    for (const [traces, x] of [[byTrials, t.index], [byTime, t.seconds]]) {
      traces.push({type: scatterType(x.length), mode: "markers", x, y: t.value, name: name + " trials",
                   marker: {color, size: 5, opacity: 0.35}, text: hover, hoverinfo: "text",
                   customdata: t.trial_id.map((id) => [sid, id]), legendgroup: sid, showlegend: false});
      traces.push({type: "scatter", mode: "lines", x, y: t.best, name: name + " best so far",
                   line: {color, width: 2.5, shape: "hv"}, legendgroup: sid, hoverinfo: "x+y+name"});
    }
    p.edits.filter((e) => e.index !== null && e.index !== undefined).forEach((e, j) => {
      // A dashed line where the edit first applied (between trials), its label inside the plot.
      for (const [axis, x] of [["trials", e.index - 0.5], ["time", e.seconds]]) {
        shapes[axis].push({type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1,
                           line: {color, width: 1.5, dash: "dash"}});
        notes[axis].push({xref: "x", yref: "paper", x, y: 1 - 0.07 * (j % 6), xanchor: "left",
                          yanchor: "top", text: esc(e.label), showarrow: false,
                          font: {size: 10, color}, bgcolor: "rgba(255,255,255,0.8)"});
      }
    });
  });
  if (!objective) {
    await notApplicable("chart-progress-trials", "no objective recorded in results.json yet");
    await notApplicable("chart-progress-time", "no objective recorded in results.json yet");
    return;
  }
  const title = (x) => `best ${objective.name} so far (${objective.direction}) against ${x}`;
  const click = (cd) => { if (Array.isArray(cd)) openTrial(cd[0])(cd[1]); };
  await Promise.all([
    plot("chart-progress-trials", byTrials, {title: {text: title("trials")}, xaxis: {title: {text: "trial number"}},
         yaxis: {title: {text: objective.name}}, shapes: shapes.trials, annotations: notes.trials}, click),
    plot("chart-progress-time", byTime, {title: {text: title("cumulative training time")},
         xaxis: {title: {text: "cumulative training time (s)"}}, yaxis: {title: {text: objective.name}},
         shapes: shapes.time, annotations: notes.time}, click),
  ]);
}

// -- Pareto -----------------------------------------------------------------------
async function renderPareto() {
  const sid = state.sid;
  const axes = state.paretoAxes[sid] || {};
  const q = new URLSearchParams({x: axes.x || "", y: axes.y || ""});
  const v = await getJSON(api(sid, "view/pareto") + "?" + q);
  for (const [id, value] of [["pareto-x", v.x], ["pareto-y", v.y]]) {
    const select = $(id);
    select.replaceChildren(...v.metrics.map((m) => el("option", {value: m, text: m})));
    select.value = value || "";
  }
  if (!v.points || !v.points.x.length) {
    await notApplicable("chart-pareto", v.reason || "nothing to show");
    return;
  }
  const p = v.points;
  const idx = p.front.map((f, i) => (f ? i : -1)).filter((i) => i >= 0).sort((a, b) => p.x[a] - p.x[b]);
  const rest = p.front.map((f, i) => (f ? -1 : i)).filter((i) => i >= 0);
  const pick = (arr, ii) => ii.map((i) => arr[i]);
  const hover = (ii) => ii.map((i) => `trial ${esc(p.trial_id[i])}<br>${esc(v.x)} ${fmt(p.x[i])}<br>${esc(v.y)} ${fmt(p.y[i])}`);
  await plot("chart-pareto", [
    {type: scatterType(rest.length), mode: "markers", name: "trials", x: pick(p.x, rest), y: pick(p.y, rest),
     marker: {color: "#999", size: 6, opacity: 0.6}, text: hover(rest), hoverinfo: "text",
     customdata: pick(p.trial_id, rest)},
    {type: "scatter", mode: "lines+markers", name: "Pareto front", x: pick(p.x, idx), y: pick(p.y, idx),
     line: {color: "#d62728", shape: "hv"}, marker: {color: "#d62728", size: 9},
     text: hover(idx), hoverinfo: "text", customdata: pick(p.trial_id, idx)},
  ], {title: {text: `${v.y} against ${v.x}: Pareto front (${idx.length} of ${p.x.length} trials)`},
      xaxis: {title: {text: v.x + (v.x_direction ? ` (${v.x_direction})` : "")}},
      yaxis: {title: {text: v.y + (v.y_direction ? ` (${v.y_direction})` : "")}}}, openTrial(sid));
}

function bindPareto() {
  for (const id of ["pareto-x", "pareto-y"]) {
    $(id).addEventListener("change", () => {
      state.paretoAxes[state.sid] = {x: $("pareto-x").value, y: $("pareto-y").value};
      render();
    });
  }
}

// -- hyperparameters ---------------------------------------------------------------
async function renderHyperparameters() {
  const v = await getJSON(api(state.sid, "view/hyperparameters"));
  const jobs = [];
  if (v.parallel) {
    const par = v.parallel;
    const dims = par.dimensions.map((d) => {
      const dim = {label: d.label, values: d.values};
      if (d.tickvals) { dim.tickvals = d.tickvals; dim.ticktext = d.ticktext; }
      return dim;
    });
    dims.push({label: par.objective.label, values: par.objective.values});
    jobs.push(plot("chart-parallel", [{type: "parcoords", dimensions: dims,
      line: {color: par.objective.values, colorscale: "Viridis", showscale: true,
             colorbar: {title: {text: par.objective.label}}}}],
      {title: {text: `hyperparameters against ${par.objective.label}`}, margin: {l: 60, r: 80, t: 90, b: 30},
       height: 480}));
  } else jobs.push(notApplicable("chart-parallel", v.parallel_reason));
  if (v.importance) {
    const rows = [...v.importance].sort((a, b) => a.importance - b.importance);
    jobs.push(plot("chart-importance", [{type: "bar", orientation: "h", x: rows.map((r) => r.importance),
      y: rows.map((r) => r.param), marker: {color: "#1f77b4"}}],
      {title: {text: "hyperparameter importance"}, margin: {l: 160, r: 20, t: 40, b: 40},
       height: Math.max(300, 26 * rows.length + 80), xaxis: {title: {text: "importance"}}}));
  } else jobs.push(notApplicable("chart-importance", v.importance_reason));
  await Promise.all(jobs);
}

// -- architecture space ----------------------------------------------------------------
async function renderSpace() {
  const sid = state.sid;
  const v = await getJSON(api(sid, "view/space"));
  const jobs = [];
  if (v.embedding) {
    const e = v.embedding;
    const costs = e.cost.filter((c) => c !== null && c > 0);
    const lo = Math.sqrt(Math.min(...costs)), hi = Math.sqrt(Math.max(...costs));
    const size = e.cost.map((c) => (c === null || !costs.length || hi === lo) ? 8 : 5 + 17 * (Math.sqrt(c) - lo) / (hi - lo));
    const hover = e.trial_id.map((id, i) => `trial ${esc(id)}<br>value ${fmt(e.value[i])}<br>cost ${fmt(e.cost[i])}`);
    jobs.push(plot("chart-embedding", [{type: scatterType(e.x.length), mode: "markers", x: e.x, y: e.y,
      marker: {color: e.value.map((x) => (x === null ? NaN : x)), colorscale: "Viridis", showscale: true, size,
               line: {width: 0}, colorbar: {title: {text: "objective"}}},
      text: hover, hoverinfo: "text", customdata: e.trial_id}],
      {title: {text: "architectures in 2-D (colour: objective, size: cost)"},
       xaxis: {zeroline: false}, yaxis: {zeroline: false}}, openTrial(sid)));
  } else jobs.push(notApplicable("chart-embedding", v.embedding_reason));
  if (v.operations) {
    const params = [...new Set(v.operations.map((r) => r.param))];
    params.sort((a, b) => (b === "*") - (a === "*"));  // "*" (every hyperparameter) on top
    const values = [...new Set(v.operations.map((r) => String(r.value)))];
    const cell = {};
    for (const r of v.operations) cell[r.param + "\u0000" + r.value] = r;
    const z = params.map((p) => values.map((x) => (cell[p + "\u0000" + x] || {}).mean ?? null));
    const text = params.map((p) => values.map((x) => {
      const r = cell[p + "\u0000" + x];
      return r ? `${esc(p)} = ${esc(x)}<br>trials ${r.count}<br>mean ${fmt(r.mean)}<br>best ${fmt(r.best)}` : "";
    }));
    jobs.push(plot("chart-operations", [{type: "heatmap", x: values, y: params.map((p) => (p === "*" ? "* (any)" : p)),
      z, text, hoverinfo: "text", colorscale: "Viridis", colorbar: {title: {text: "mean"}}, xgap: 1, ygap: 1}],
      {title: {text: "mean objective per value of each hyperparameter (operation)"},
       margin: {l: 140, r: 20, t: 40, b: 110}, height: Math.max(320, 28 * params.length + 160),
       xaxis: {type: "category", tickangle: -35}, yaxis: {type: "category", autorange: "reversed"}}));
  } else jobs.push(notApplicable("chart-operations", v.operations_reason));
  await Promise.all(jobs);
}

// -- one-shot -------------------------------------------------------------------
async function renderOneshot() {
  const v = await getJSON(api(state.sid, "view/oneshot"));
  const o = v.oneshot;
  if (!o) {
    await notApplicable("chart-oneshot-estimates", v.reason);
    await notApplicable("chart-oneshot-probabilities", v.reason);
    return;
  }
  const jobs = [];
  const est = o.estimates || [];
  if (est.length) {
    const all = est.flatMap((r) => [r.estimated, r.retrained]);
    const lo = Math.min(...all), hi = Math.max(...all);
    const c = o.correlations || {};
    const corr = typeof c.kendall_tau === "number"
      ? `Kendall's tau ${c.kendall_tau.toFixed(2)}, Spearman's rho ${(c.spearman ?? NaN).toFixed(2)}, n = ${c.n ?? est.length}`
      : `n = ${est.length}: rank correlations need 3 architectures`;
    jobs.push(plot("chart-oneshot-estimates", [
      {type: "scatter", mode: "markers", name: "architectures", x: est.map((r) => r.estimated),
       y: est.map((r) => r.retrained), marker: {size: 9, color: "#1f77b4"},
       text: est.map((r) => `trial ${esc(r.trial_id)}`), customdata: est.map((r) => r.trial_id)},
      {type: "scatter", mode: "lines", name: "estimated = retrained", x: [lo, hi], y: [lo, hi],
       line: {dash: "dash", color: "#999"}, hoverinfo: "skip"}],
      {title: {text: "supernet estimate against retrained" + (corr ? ` (${corr})` : "")},
       xaxis: {title: {text: "estimated (shared weights)"}}, yaxis: {title: {text: "retrained"}}},
      openTrial(state.sid)));
  } else jobs.push(notApplicable("chart-oneshot-estimates", "no retrained architecture with an estimate yet"));
  const probs = o.probabilities || [];
  if (probs.length) {
    // One small chart per choice (edge), a line per candidate (operation), a colour per operation.
    const choices = [...new Set(probs.map((r) => r.choice))];
    const candidates = [...new Set(probs.map((r) => r.candidate))];
    const series = new Map();
    for (const r of probs) {
      const key = r.choice + "\u0000" + r.candidate;
      if (!series.has(key)) series.set(key, {choice: r.choice, candidate: r.candidate, x: [], y: []});
      series.get(key).x.push(r.step);
      series.get(key).y.push(r.p);
    }
    const columns = Math.min(3, choices.length), rows = Math.ceil(choices.length / columns);
    const traces = [...series.values()].map((t) => {
      const k = choices.indexOf(t.choice), axis = k ? String(k + 1) : "";
      const color = COLORS[candidates.indexOf(t.candidate) % COLORS.length];
      return {type: "scatter", mode: "lines", name: t.candidate, x: t.x, y: t.y, xaxis: "x" + axis,
              yaxis: "y" + axis, line: {color}, legendgroup: t.candidate, showlegend: k === 0,
              hovertemplate: `${esc(t.choice)}: ${esc(t.candidate)}<br>epoch %{x}: %{y:.3f}<extra></extra>`};
    });
    const layout = {title: {text: "operation probabilities epoch by epoch (one chart per choice)"},
                    grid: {rows, columns, pattern: "independent"}, height: 120 + 220 * rows,
                    annotations: []};
    choices.forEach((choice, k) => {
      const axis = k ? String(k + 1) : "";
      layout["yaxis" + axis] = {range: [0, 1], title: {text: k % columns ? "" : "p"}};
      layout["xaxis" + axis] = {title: {text: k >= (rows - 1) * columns ? "epoch" : ""}};
      layout.annotations.push({text: esc(choice), showarrow: false, xref: `x${axis} domain`,
                               yref: `y${axis} domain`, x: 0.5, y: 1.08, font: {size: 11}});
    });
    jobs.push(plot("chart-oneshot-probabilities", traces, layout));
  } else jobs.push(notApplicable("chart-oneshot-probabilities", "this strategy records no operation probabilities"));
  await Promise.all(jobs);
}

// -- lineage --------------------------------------------------------------------
async function renderLineage() {
  const sid = state.sid;
  const v = await getJSON(api(sid, "view/lineage"));
  const l = v.lineage;
  if (!l || !l.nodes.length) { await notApplicable("chart-lineage", v.reason || "no lineage"); return; }
  const pos = {};
  for (const n of l.nodes) pos[n.trial_id] = n;
  const ex = [], ey = [];
  for (const e of l.edges) {
    const a = pos[e.source], b = pos[e.target];
    if (a && b) { ex.push(a.x, b.x, null); ey.push(a.y, b.y, null); }
  }
  await plot("chart-lineage", [
    {type: scatterType(l.nodes.length), mode: "lines", x: ex, y: ey, line: {color: "#bbb", width: 1}, hoverinfo: "skip", name: "parent"},
    {type: scatterType(l.nodes.length), mode: "markers", x: l.nodes.map((n) => n.x), y: l.nodes.map((n) => n.y),
     marker: {size: 9, color: l.nodes.map((n) => (n.value === null ? NaN : n.value)), colorscale: "Viridis",
              showscale: true, colorbar: {title: {text: "objective"}}},
     text: l.nodes.map((n) => `trial ${esc(n.trial_id)}: ${fmt(n.value)}${n.label ? "<br>" + esc(n.label) : ""}`),
     hoverinfo: "text", customdata: l.nodes.map((n) => n.trial_id), name: "trials"}],
    {title: {text: "lineage: each trial beside its parent (colour: objective)"}, showlegend: false,
     xaxis: {title: {text: "generation"}}, yaxis: {visible: false}, height: 520}, openTrial(sid));
}

// -- edits --------------------------------------------------------------------
async function renderEdits() {
  const v = await getJSON(api(state.sid, "view/edits"));
  state.editSpace = v.space;
  state.edits = v.edits;
  const body = $("edits-table").tBodies[0];
  body.replaceChildren(...v.edits.map((e) => el("tr", {class: e.pending ? "pending" : ""},
    el("td", {text: fmt(e.id)}), el("td", {text: e.time || ""}), el("td", {text: e.action}),
    el("td", {text: e.param}), el("td", {text: fmt(e.value)}), el("td", {text: e.source || ""}),
    el("td", {text: e.pending ? "pending: the search has not read it yet"
                         : e.ignored ? "not applied: " + e.ignored
                         : e.first_trial_id === null || e.first_trial_id === undefined ? "no trial since"
                         : fmt(e.first_trial_id)}))));
  if (!v.edits.length) body.append(el("tr", {}, el("td", {colspan: "7", text: "no edits"})));
  $("edits-table").dataset.rendered = "true";
  $("edits-table").dataset.rows = String(v.edits.length);
  const form = $("edit-form");
  form.hidden = !state.config.allow_edit;
  $("edit-readonly").hidden = state.config.allow_edit;
  if (state.config.allow_edit) fillEditForm();
}

function fillEditForm() {
  const params = $("edit-param");
  const current = params.value;
  params.replaceChildren(...(state.editSpace || []).map((s) =>
    el("option", {value: s.param, text: s.param === "*" ? "* (every hyperparameter)" : s.param})));
  if ([...params.options].some((o) => o.value === current)) params.value = current;
  fillEditValues();
}

function fillEditValues() {
  const entry = (state.editSpace || []).find((s) => s.param === $("edit-param").value);
  const values = $("edit-value");
  const current = values.value;
  values.replaceChildren(...(entry ? entry.values : []).map((x) =>
    el("option", {value: JSON.stringify(x), text: fmt(x)})));
  if ([...values.options].some((o) => o.value === current)) values.value = current;
}

async function postEdit(edit) {
  const message = $("edit-message");
  message.textContent = "";
  const response = await fetch(api(state.sid, "edits"), {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(edit)});
  const answer = await response.json().catch(() => ({}));
  message.textContent = response.ok ? `edit #${answer.id} written: it applies from the next proposal`
    : `refused: ${answer.error || response.status}`;
  message.className = response.ok ? "ok" : "bad";
  await render();
}

function bindEdits() {
  $("edit-param").addEventListener("change", fillEditValues);
  $("edit-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const raw = $("edit-value").value;
    if (!raw) return;
    postEdit({action: $("edit-action").value, param: $("edit-param").value, value: JSON.parse(raw)});
  });
  $("edit-clear-param").addEventListener("click", () => {
    // "*" edits are cleared value by value (the selected one); a hyperparameter all at once.
    const param = $("edit-param").value;
    const raw = $("edit-value").value;
    postEdit(param === "*" ? {action: "clear", param, value: raw ? JSON.parse(raw) : null}
                           : {action: "clear", param});
  });
  $("edit-clear-all").addEventListener("click", async () => {
    for (const edit of clearingAll(state.edits || [])) await postEdit(edit);
  });
}

function clearingAll(edits) {
  // The clears that undo every edit: one per hyperparameter, one per value of a "*" edit.
  const out = new Map();
  for (const e of edits) {
    if (e.action === "clear") continue;
    const edit = e.param === "*" ? {action: "clear", param: "*", value: e.value} : {action: "clear", param: e.param};
    out.set(JSON.stringify(edit), edit);
  }
  return [...out.values()];
}

// -- trial page -----------------------------------------------------------------
async function renderTrial() {
  const {sid, tid} = state.route;
  if (!state.searches[sid]) throw new Error(`no search ${sid}`);
  if (!state.liveRender) {
    // Another trial's page must not stay on screen while this one loads, or if it fails to.
    $("trial-title").textContent = `${state.searches[sid].name}: trial ${tid}`;
    for (const id of ["trial-values", "trial-metrics"]) $(id).tBodies[0].replaceChildren();
    $("trial-notes").textContent = "";
  }
  const v = await getJSON(api(sid, "trial/" + encodeURIComponent(tid)));
  const t = v.trial;
  const objective = (v.objectives[0] || {}).name;
  $("trial-title").textContent = `${state.searches[sid].name}: trial ${t.trial_id} \u2014 ${t.status}` +
    (v.rank ? `, rank ${v.rank}` : "") + (objective && t.metrics && t.metrics[objective] !== undefined
      ? `, ${objective} ${fmt(t.metrics[objective])}` : "");
  fillPairs($("trial-values"), Object.keys(t.values || {}).length ? t.values
    : {"(none)": t.arch ? "a structured architecture: see the graph and arch below" : "no hyperparameters"});
  fillPairs($("trial-metrics"), t.metrics || {});
  const notes = {};
  for (const k of ["notes", "outputs", "message", "parent_id", "task", "arch", "edits_seen"]) {
    const x = t[k];
    if (x !== null && x !== undefined && x !== "" && !(typeof x === "object" && !Object.keys(x).length)) notes[k] = x;
  }
  $("trial-notes").textContent = Object.keys(notes).length ? JSON.stringify(notes, null, 1) : "(none)";
  await Promise.all([drawCurve(t), drawGraph(v.graph), drawPredictions(v.predictions, t.trial_id, sid)]);
}

function fillPairs(table, obj) {
  table.tBodies[0].replaceChildren(...Object.entries(obj).map(([k, x]) =>
    el("tr", {}, el("th", {text: k}), el("td", {text: typeof x === "object" && x !== null ? JSON.stringify(x) : fmt(x)}))));
}

async function drawCurve(t) {
  const curve = t.curve || [];
  if (!curve.length) { await notApplicable("chart-curve", "no learning curve recorded for this trial"); return; }
  const keys = [...new Set(curve.flatMap((c) => Object.keys(c)))].filter((k) => k !== "epoch");
  const traces = keys.map((k) => ({type: "scatter", mode: "lines+markers", name: k,
    x: curve.map((c) => c.epoch), y: curve.map((c) => (c[k] === undefined ? null : c[k])),
    yaxis: /loss|error/.test(k) ? "y2" : "y"}));
  await plot("chart-curve", traces, {title: {text: "learning curves"}, xaxis: {title: {text: "epoch"}, dtick: curve.length < 12 ? 1 : undefined},
    yaxis: {title: {text: "metrics"}}, yaxis2: {title: {text: "loss"}, overlaying: "y", side: "right"},
    legend: {orientation: "h", y: -0.2}, margin: {l: 60, r: 60, t: 40, b: 40}});
}

async function drawGraph(graph) {
  if (!graph || !graph.nodes.length) { await notApplicable("chart-graph", "no architecture graph for this trial"); return; }
  // Layers run top to bottom (the server's x is the layer, y the slot in it), labels beside nodes.
  const pos = {};
  for (const n of graph.nodes) pos[n.id] = {x: n.y, y: -n.x};
  const layers = new Set(graph.nodes.map((n) => n.x)).size;
  const ex = [], ey = [], lx = [], ly = [], lt = [];
  const seen = {};
  for (const e of graph.edges) {
    const a = pos[e.source], b = pos[e.target];
    if (!a || !b) continue;
    // An edge that skips layers, or repeats another between the same nodes, bends aside.
    const key = e.source + "\u0000" + e.target;
    const k = seen[key] = (seen[key] || 0) + 1;
    const span = Math.abs(b.y - a.y);
    let bend = span > 1 ? 0.25 * span : 0;
    if (k > 1) bend += 0.4 * Math.ceil((k - 1) / 2);
    if (k > 1 && k % 2) bend = -bend;
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const nx = -dy / len, ny = dx / len;
    const at = (t) => [a.x + dx * t + nx * bend * 4 * t * (1 - t), a.y + dy * t + ny * bend * 4 * t * (1 - t)];
    for (let i = 0; i <= 16; i++) { const [x, y] = at(i / 16); ex.push(x); ey.push(y); }
    ex.push(null); ey.push(null);
    if (e.label) {
      const [x, y] = at(bend ? 0.5 : 0.4);  // off the middle, where crossing edges meet
      lx.push(x); ly.push(y); lt.push(esc(e.label));
    }
  }
  await plot("chart-graph", [
    {type: "scatter", mode: "lines", x: ex, y: ey, line: {color: "#999", width: 1.5}, hoverinfo: "skip"},
    {type: "scatter", mode: "text", x: lx, y: ly, text: lt, textfont: {size: 10, color: "#a33"}, hoverinfo: "text"},
    {type: "scatter", mode: "markers+text", x: graph.nodes.map((n) => pos[n.id].x), y: graph.nodes.map((n) => pos[n.id].y),
     text: graph.nodes.map((n) => esc(n.label)), textposition: "middle right",
     marker: {size: 12, color: "#1f77b4"}, hoverinfo: "text"}],
    {title: {text: esc(graph.title || "architecture")}, showlegend: false, height: Math.max(420, 48 * layers + 80),
     xaxis: {visible: false, range: [Math.min(...graph.nodes.map((n) => n.y)) - 0.6, Math.max(...graph.nodes.map((n) => n.y)) + 1.6]},
     yaxis: {visible: false}, margin: {l: 20, r: 20, t: 40, b: 20}});
}

async function drawPredictions(predictions, tid, sid) {
  if (!predictions || !predictions.length) {
    await notApplicable("chart-predictions", "the search made no predictions (POPNAS and PNAS predict accuracy)");
    return;
  }
  const traces = [];
  predictions.forEach((q, k) => {
    const axis = k ? String(k + 1) : "";
    const mine = q.points.filter((p) => p.trial_id === tid);
    traces.push({type: scatterType(q.points.length), mode: "markers", name: q.quantity, x: q.points.map((p) => p.predicted),
      y: q.points.map((p) => p.actual), xaxis: "x" + axis, yaxis: "y" + axis, marker: {size: 6, color: COLORS[k]},
      text: q.points.map((p) => `trial ${esc(p.trial_id)}`), customdata: q.points.map((p) => p.trial_id)});
    if (mine.length) {
      traces.push({type: "scatter", mode: "markers", name: "this trial", x: mine.map((p) => p.predicted),
        y: mine.map((p) => p.actual), xaxis: "x" + axis, yaxis: "y" + axis,
        marker: {size: 15, color: "rgba(0,0,0,0)", line: {color: "#000", width: 2}}});
    }
  });
  const layout = {title: {text: "predicted against actual"}, grid: {rows: 1, columns: predictions.length, pattern: "independent"}};
  predictions.forEach((q, k) => {
    const axis = k ? String(k + 1) : "";
    layout["xaxis" + axis] = {title: {text: "predicted " + q.quantity}};
    layout["yaxis" + axis] = {title: {text: "actual " + q.quantity}};
  });
  await plot("chart-predictions", traces, layout, openTrial(sid));
}

// -- search selection, polling ----------------------------------------------------
function showSearchInfo() {
  const s = state.searches[state.sid];
  if (!s) return;
  const objective = (s.objectives[0] || {}).name;
  $("search-info").textContent = `${s.strategy || "?"} \u00b7 ${s.trials} trials` +
    (s.max_trials ? ` of ${s.max_trials}` : "") +
    (objective && s.best !== null && s.best !== undefined ? ` \u00b7 best ${objective} ${fmt(s.best)}` : "") +
    ` \u00b7 ${s.directory}`;
}

function setSearches(list) {
  const changed = [];
  for (const s of list) {
    const old = state.searches[s.id];
    if (!old || old.version !== s.version || old.error !== s.error) changed.push(s.id);
    state.searches[s.id] = s;
  }
  return changed;
}

async function poll() {
  try {
    const list = await getJSON("/api/searches");
    setSearches(list);
    $("live-status").textContent = "live \u00b7 " + new Date().toLocaleTimeString();
    $("live-status").className = "live";
    showSearchInfo();
    const shown = state.shownVersions;
    const stale = Object.keys(shown).some((sid) => state.searches[sid] && state.searches[sid].version !== shown[sid]);
    if (stale) {
      state.liveRender = true;
      try { await render(); } finally { state.liveRender = false; }
    }
  } catch (e) {
    $("live-status").textContent = "disconnected: " + e.message;
    $("live-status").className = "dead";
  }
  setTimeout(poll, POLL_MS);
}

async function main() {
  bindLeaderboard();
  bindPareto();
  bindEdits();
  state.config = await getJSON("/api/config");
  setSearches(state.config.searches);
  state.compare = new Set(Object.keys(state.searches));
  const select = $("search-select");
  select.replaceChildren(...state.config.searches.map((s) => el("option", {value: s.id, text: s.name})));
  state.sid = state.config.searches[0].id;
  select.addEventListener("change", () => {
    state.sid = select.value;
    showSearchInfo();
    if (state.route.view === "trial") location.hash = "#/leaderboard"; else render();
  });
  document.body.dataset.allowEdit = String(state.config.allow_edit);
  showSearchInfo();
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
  setTimeout(loadPlotly, 0);
  setTimeout(poll, POLL_MS);
}

main().catch((e) => showError("the dashboard could not start: " + e.message));
