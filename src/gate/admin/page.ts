// The status page: one self-contained document (no external assets), a gauge per route, refreshing itself, with the
// limit and in-flight count of the last five minutes drawn from its own polls (kept in the page's memory only).
// The token is asked for once and kept in sessionStorage, so it lives as long as the tab. A wall display or
// a headless check can pass it in the fragment (`#token=…`): fragments are never sent to the server, and the
// page drops it from the address bar (and the history entry) as soon as it has read it.

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pressure-gauge</title>
<style>
  :root { color-scheme: light dark; --ok: #2e7d32; --warn: #f9a825; --full: #c62828; font-family: system-ui, sans-serif; }
  body { margin: 0; padding: 1rem; background: Canvas; color: CanvasText; }
  h1 { font-size: 1.2rem; margin: 0 0 1rem; }
  #routes { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: 1rem; }
  .route { border: 1px solid #8884; border-radius: .75rem; padding: 1rem; }
  .route h2 { font-size: 1rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
  svg { width: 100%; max-width: 14rem; display: block; margin: 0 auto; }
  .num { font-size: 1.6rem; font-weight: 600; }
  dl { display: grid; grid-template-columns: auto auto; gap: .2rem 1rem; margin: .5rem 0 0; font-size: .9rem; }
  dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; }
  [hidden] { display: none !important; }
  input { flex: 1; min-width: 12rem; padding: .5rem; }
  #error, #config-errors { color: var(--full); }
  #config-errors h2 { font-size: 1rem; }
  .spark { max-width: none; height: 3rem; margin: .5rem 0 0; }
  .spark .limit { stroke: CanvasText; stroke-opacity: .6; stroke-width: 1; fill: none; vector-effect: non-scaling-stroke; }
  .spark .used { stroke: var(--ok); stroke-width: 1.5; fill: none; vector-effect: non-scaling-stroke; }
  .legend { font-size: .75rem; opacity: .7; }
</style>
</head>
<body>
<h1>pressure-gauge <small id="updated"></small></h1>
<form id="login" hidden>
  <input id="token" type="password" placeholder="Admin token" autocomplete="current-password" aria-label="Admin token">
  <button type="submit">Show gauges</button>
</form>
<p id="error" role="alert"></p>
<section id="config-errors" role="alert" hidden>
  <h2>The config is invalid: every request outside the admin surface is answered 500, and nothing is proxied</h2>
  <ul></ul>
  <p>Fix wrangler.toml (<code>npm run check</code> lists the same problems) and deploy again.</p>
</section>
<div id="routes"></div>
<script>
const KEY = "pressure-gauge-token";
const base = location.pathname.replace(/\\/$/, "");
const last = new Map();
/** Per route, the last HISTORY polls' limit and in-flight count: the sparkline's data. */
const HISTORY = 300;
const trends = new Map();
const $ = (id) => document.getElementById(id);

function spark(points) {
  const top = Math.max(1, ...points.map((p) => Math.max(p.limit, p.inFlight)));
  const x = (i) => (100 - ((points.length - 1 - i) * 100) / (HISTORY - 1)).toFixed(2);
  const y = (v) => (29 - (27 * v) / top).toFixed(2);
  const line = (pick) => points.map((p, i) => x(i) + "," + y(pick(p))).join(" ");
  return '<svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" role="img" data-field="spark">' +
    '<polyline class="limit" points="' + line((p) => p.limit) + '"/>' +
    '<polyline class="used" points="' + line((p) => p.inFlight) + '"/></svg>' +
    '<div class="legend">limit (grey) and in flight (green), last ' + Math.ceil(points.length / 60) + ' min, top ' + top + '</div>';
}

function arc(fraction) {
  const f = Math.max(0, Math.min(1, fraction));
  const a = Math.PI * (1 - f), x = 50 + 40 * Math.cos(a), y = 50 - 40 * Math.sin(a);
  return "M10 50 A40 40 0 0 1 " + x.toFixed(2) + " " + y.toFixed(2);
}

function card(r, refusedPerSecond, keyRefusedPerSecond) {
  const share = r.limit.effective ? r.inFlight / r.limit.effective : 0;
  const color = share >= 1 ? "var(--full)" : share >= 0.8 ? "var(--warn)" : "var(--ok)";
  const el = document.createElement("section");
  el.className = "route";
  el.dataset.route = r.name;
  el.innerHTML =
    '<h2></h2><svg viewBox="0 0 100 60" role="img"><path d="M10 50 A40 40 0 0 1 90 50" stroke="#8884" stroke-width="10" fill="none"/>' +
    '<path d="' + arc(share) + '" stroke="' + color + '" stroke-width="10" fill="none"/></svg>' +
    '<div><span class="num" data-field="inFlight"></span> / <span data-field="limit"></span> in flight</div><dl>' +
    '<dt>queued</dt><dd data-field="queued"></dd><dt>refused / s</dt><dd data-field="rps"></dd>' +
    (r.isolate.keyRefusals > 0 || refusedPerSecond > 0 ? '<dt>of which perKey</dt><dd data-field="keyRps"></dd>' : "") +
    '<dt>admitted</dt><dd data-field="admitted"></dd>' +
    '<dt title="Estimated from the hold-time histogram as histogram_quantile() in Prometheus does: linear within a bucket">hold p50 / p99 (est.)</dt><dd data-field="hold"></dd>' +
    (r.limit.adaptive ? '<dt>learned (phase)</dt><dd data-field="learned"></dd><dt>floor / ceiling</dt><dd data-field="bounds"></dd>' +
      '<dt>origin latency, base / now</dt><dd data-field="latency"></dd><dt>queued at origin</dt><dd data-field="originQueue"></dd>' : "") +
    (r.fair ? '<dt>fair share (keys)</dt><dd data-field="fair"></dd>' : "") +
    (r.queueMode ? '<dt>queue mode</dt><dd data-field="queueMode"></dd>' : "") +
    (r.classes || []).map((c, i) => '<dt data-field="class' + i + '"></dt><dd data-field="classStats' + i + '"></dd>').join("") +
    '</dl>' + spark(trends.get(r.name) || []);
  el.querySelector("h2").textContent = r.name;
  el.querySelector("svg").setAttribute("aria-label", r.inFlight + " of " + r.limit.effective + " permits in use");
  const set = (field, text) => { el.querySelector('[data-field="' + field + '"]').textContent = text; };
  set("inFlight", r.inFlight);
  set("limit", r.limit.effective + (r.limit.override !== null ? " (runtime)" : r.limit.adaptive ? " (adaptive)" : ""));
  const a = r.limit.adaptive;
  if (a) {
    const ms = (v) => (v === null ? "–" : Math.round(v));
    set("learned", a.learned + " (" + a.phase + ")");
    set("bounds", a.min + " / " + a.max);
    set("latency", ms(a.baselineMs) + " / " + ms(a.recentMs) + " ms");
    set("originQueue", a.queue === null ? "–" : a.queue);
  }
  if (r.fair) set("fair", r.fair.fairShare + " (" + r.fair.activeKeys + " keys" + (r.fair.contended ? ", contended" : "") + ")");
  if (r.queueMode) set("queueMode", r.queueMode.mode + (r.queueMode.shedding ? ", shedding" : ""));
  (r.classes || []).forEach((c, i) => {
    set("class" + i, "class " + c.name);
    set("classStats" + i, c.inFlight + " in flight, " + c.queued + " queued, " + c.admitted + " admitted, " + c.refused + " refused");
  });
  set("queued", r.queued);
  set("rps", refusedPerSecond.toFixed(1));
  if (r.isolate.keyRefusals > 0 || refusedPerSecond > 0) set("keyRps", keyRefusedPerSecond.toFixed(1));
  set("admitted", r.counters.admitted);
  set("hold", (r.holdMs.p50 ?? "–") + " / " + (r.holdMs.p99 ?? "–") + " ms");
  return el;
}

async function refresh() {
  const token = sessionStorage.getItem(KEY);
  if (!token) { $("login").hidden = false; return; }
  try {
    const res = await fetch(base + "/status", { headers: { authorization: "Bearer " + token } });
    if (res.status === 401) { sessionStorage.removeItem(KEY); $("error").textContent = "Wrong token."; $("login").hidden = false; return; }
    const { routes, config } = await res.json();
    const broken = config && !config.valid;
    $("config-errors").hidden = !broken;
    $("config-errors").querySelector("ul").replaceChildren(...(broken ? config.errors : []).map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }));
    const now = Date.now();
    $("routes").replaceChildren(...routes.map((r) => {
      const prev = last.get(r.name);
      // Every refusal: by the route's object, from an isolate's memory, and of a client's perKey share.
      const refused = r.counters.refused + r.isolate.localRefusals + r.isolate.keyRefusals;
      const seconds = prev ? Math.max(0.001, (now - prev.at) / 1000) : 0;
      const rps = prev ? (refused - prev.refused) / seconds : 0;
      const keyRps = prev ? (r.isolate.keyRefusals - prev.keyRefused) / seconds : 0;
      last.set(r.name, { refused, keyRefused: r.isolate.keyRefusals, at: now });
      const points = trends.get(r.name) || [];
      points.push({ limit: r.limit.effective, inFlight: r.inFlight });
      if (points.length > HISTORY) points.shift();
      trends.set(r.name, points);
      return card(r, Math.max(0, rps), Math.max(0, keyRps));
    }));
    $("error").textContent = "";
    $("updated").textContent = new Date(now).toLocaleTimeString();
  } catch (e) {
    $("error").textContent = "Cannot reach the gate: " + e.message;
  }
}

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("token")) {
  sessionStorage.setItem(KEY, fragment.get("token"));
  history.replaceState(null, "", location.pathname + location.search);
}

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY, $("token").value);
  $("login").hidden = true;
  refresh();
});
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
