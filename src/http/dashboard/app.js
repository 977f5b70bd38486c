// Edgewise dashboard: plain JavaScript, no build step, no external resources. One server-sent
// event a second carries the gateway's status (GET /api/status) and the recent series.
'use strict';

const token = new URLSearchParams(location.search).get('token');
const withToken = (path) => (token ? `${path}?token=${encodeURIComponent(token)}` : path);
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (n, d = 2) => (typeof n === 'number' && Number.isFinite(n) ? (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en') : Number(n.toFixed(d)).toString()) : '–');
const sum = (rec) => Object.values(rec || {}).reduce((a, b) => a + b, 0);
const ago = (ms) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);

let previous = null;

function rate(now, before, dtMs) {
  if (before === undefined || dtMs <= 0) return undefined;
  return ((now - before) * 1000) / dtMs;
}

function renderSummary(s) {
  const up = s.stats.upstream;
  const pills = [
    `<span class="pill ${s.ready.ready ? 'ok' : 'bad'}">${s.ready.ready ? 'ready' : 'not ready'}</span>`,
    `<span class="pill">up ${ago(s.uptimeSeconds * 1000)}</span>`,
    `<span class="pill">${fmt(s.stats.readings, 0)} readings</span>`,
    up ? `<span class="pill ${up.state === 'online' ? 'ok' : 'warn'}">uplink ${esc(up.state)}</span>` : '<span class="pill">no uplink</span>',
  ];
  const drops = sum(s.dropped);
  if (drops > 0) pills.push(`<span class="pill warn">${fmt(drops, 0)} dropped</span>`);
  $('summary').innerHTML = pills.join('');
  $('gateway').textContent = s.gateway;
  document.title = `${s.alerts.active.length ? `(${s.alerts.active.length}) ` : ''}Edgewise ${s.gateway}`;
}

function renderAlerts(s) {
  const active = s.alerts.active;
  $('alert-count').textContent = active.length;
  $('alert-count').className = `count${active.length ? ' hot' : ''}`;
  if (active.length === 0) {
    $('alerts').innerHTML = '<p class="muted">No active alerts.</p>';
    return;
  }
  $('alerts').innerHTML = active
    .map((a) => {
      const limit = /limit ([-\d.e]+)|> ?([-\d.e]+)/.exec(a.reason || '');
      return `<div class="alert ${esc(a.severity)}" data-alert-id="${esc(a.id)}">
        <div class="title">${esc(a.severity)} · ${esc(a.stream)} · ${esc(a.detector)}${a.pipeline ? ` <span class="muted small">(${esc(a.pipeline)})</span>` : ''}</div>
        <div>value <b>${fmt(a.value)}</b> · baseline <b>${fmt(a.baseline)}</b>${limit ? ` · limit <b>${esc(limit[1] ?? limit[2])}</b>` : ''} · score ${fmt(a.score)} · since ${esc(new Date(a.start).toISOString().replace('T', ' ').slice(0, 19))} UTC</div>
        <div class="why">rule: ${esc(a.reason || 'not given by the detector')}</div>
      </div>`;
    })
    .join('');
}

function renderInputs(s, dt) {
  const before = new Map((previous?.stats.inputs || []).map((i) => [i.name, i]));
  $('inputs').tBodies[0].innerHTML = s.stats.inputs
    .map((i) => {
      const r = rate(i.counters.readings ?? 0, before.get(i.name)?.counters.readings, dt);
      const drops = Object.entries(i.dropped).map(([k, n]) => `${esc(k)} ${fmt(n, 0)}`).join(', ') || '0';
      return `<tr><td>${esc(i.name)}</td><td>${esc(i.kind)}</td><td class="state-${esc(i.state)}" title="${esc(i.detail)}">${esc(i.state)}</td><td>${fmt(r, 1)}</td><td>${drops}</td></tr>`;
    })
    .join('');
}

function renderPipelines(s, dt) {
  const before = new Map((previous?.stats.pipelines || []).map((p) => [p.pipeline, p]));
  $('pipelines').tBodies[0].innerHTML = s.stats.pipelines
    .map((p) => {
      const r = rate(p.received, before.get(p.pipeline)?.received, dt);
      const drops = Object.entries(p.dropped).map(([k, n]) => `${esc(k)} ${fmt(n, 0)}`).join(', ') || '0';
      const emitted = Object.entries(p.emitted).map(([k, n]) => `${esc(k)} ${fmt(n, 0)}`).join(', ') || '0';
      const det = p.detectors || [];
      const learning = det.reduce((n, d) => n + d.learning, 0);
      const perStep = det.map((d) => `${d.step}: ${d.learning} of ${d.streams} learning`).join(', ');
      return `<tr><td>${esc(p.pipeline)}</td><td>${fmt(r, 1)}</td><td>${fmt(p.accepted, 0)}</td><td>${fmt(p.late, 0)}</td><td>${fmt(p.filtered, 0)}</td><td>${drops}</td><td>${emitted}</td><td>${fmt(p.keys, 0)}</td><td title="${esc(perStep)}">${det.length ? fmt(learning, 0) : '–'}</td></tr>`;
    })
    .join('');
}

function renderOutbox(s) {
  const o = s.stats.outbox;
  const u = s.stats.upstream;
  const rows = [];
  if (o) {
    rows.push(['buffered', `${fmt(o.depth.messages, 0)} (alert ${o.depth.byPriority.alert}, aggregate ${o.depth.byPriority.aggregate}, raw ${o.depth.byPriority.raw})`]);
    rows.push(['oldest', o.oldestAgeMs ? ago(o.oldestAgeMs) : '–']);
    rows.push(['file', `${bytes(o.fileBytes)} of ${bytes(o.effectiveMaxBytes)}`]);
    rows.push(['dropped', Object.entries(o.dropped).map(([k, n]) => `${k} ${n}`).join(', ') || '0']);
    rows.push(['dead letters', fmt(o.deadLetters, 0)]);
  } else rows.push(['outbox', 'off']);
  if (u) {
    // Back online, the last error is history: shown with its time (src/upstream/link-summary.ts).
    const at = u.state === 'online' && u.lastErrorAt ? `last error at ${new Date(u.lastErrorAt).toISOString()}: ` : '';
    rows.push(['uplink', `<span class="state-${esc(u.state)}">${esc(u.state)}</span>${u.lastError ? ` <span class="muted">(${esc(at + u.lastError)})</span>` : ''}`]);
    rows.push(['sent / acked', `${fmt(u.sent, 0)} / ${fmt(u.acked, 0)}, in flight ${u.inFlight}`]);
    rows.push(['connects', `${u.connects} (reconnects ${u.reconnects})`]);
    if (u.probing) rows.push(['probing', 'one record at a time: the broker closed connections in a row with publishes in flight']);
    if (u.tooLarge || u.quarantined) rows.push(['kept back', `${fmt(u.tooLarge + u.quarantined, 0)} (over the packet limit ${fmt(u.tooLarge, 0)}, refused ${fmt(u.quarantined, 0)})`]);
    if (u.sameId) rows.push(['same gateway id', `another gateway uses it (${fmt(u.sameId, 0)} signs)`]);
    if (u.refused?.length) rows.push(['refused', u.refused.join(', ')]);
  } else rows.push(['uplink', 'not configured']);
  $('outbox').innerHTML = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'uplink' ? v : esc(v)}</dd>`).join('');
}

function drawChart(canvas, points) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  if (points.length < 2) return;
  const t0 = points[0].ts;
  const t1 = points[points.length - 1].ts || t0 + 1;
  const values = points.map((p) => p.value).filter(Number.isFinite);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) (hi += 1), (lo -= 1);
  const x = (ts) => ((ts - t0) / (t1 - t0 || 1)) * (w - 2) + 1;
  const y = (v) => h - 4 - ((v - lo) / (hi - lo)) * (h - 8);
  // Alert periods.
  g.fillStyle = 'rgba(198, 40, 40, 0.15)';
  for (let i = 0; i < points.length; i++) {
    if (!points[i].alert) continue;
    const a = x(points[i].ts);
    const b = i + 1 < points.length ? x(points[i + 1].ts) : w;
    g.fillRect(a, 0, Math.max(1, b - a), h);
  }
  // Score, 0..1 over the full height.
  g.fillStyle = 'rgba(199, 119, 0, 0.8)';
  for (const p of points) g.fillRect(x(p.ts) - 1, h - 2 - p.score * (h - 4) - 1, 2, 2);
  // Value.
  g.strokeStyle = '#2458c6';
  g.lineWidth = 1.5;
  g.beginPath();
  for (const [i, p] of points.entries()) {
    if (i) g.lineTo(x(p.ts), y(p.value));
    else g.moveTo(x(p.ts), y(p.value));
  }
  g.stroke();
}

// Points arrive as [ts, value, score, alert 0/1].
const point = ([ts, value, score, alert]) => ({ ts, value, score, alert: alert === 1 });

function renderCharts(series) {
  const box = $('charts');
  if (series.length === 0) {
    box.innerHTML = '<p class="muted">No detector has judged a reading yet.</p>';
    return;
  }
  if (box.querySelector('p')) box.innerHTML = '';
  for (const s of series) {
    const id = `chart:${s.pipeline}:${s.stream}:${s.detector}`;
    let card = document.getElementById(id);
    if (!card) {
      card = document.createElement('div');
      card.id = id;
      card.className = 'chart';
      card.innerHTML = `<div class="name"><span>${esc(s.stream)}</span><span class="muted">${esc(s.detector)} · <span class="last"></span></span></div><canvas></canvas>`;
      box.appendChild(card);
    }
    const points = s.points.map(point);
    const last = points[points.length - 1];
    card.classList.toggle('alerting', !!last?.alert);
    card.querySelector('.last').textContent = last ? `${fmt(last.value)} (score ${fmt(last.score)})` : '';
    drawChart(card.querySelector('canvas'), points);
  }
}

/** A status cell: numbers to 3 decimals, lists space-separated, nothing as –. */
function cell(v) {
  if (typeof v === 'number') return fmt(v, 3);
  if (Array.isArray(v)) return v.length ? v.map(cell).join(' ') : '–';
  if (v === undefined || v === null) return '–';
  return esc(typeof v === 'object' ? JSON.stringify(v) : v);
}

function renderSteps(s) {
  const steps = (s.steps || []).filter((st) => st.rows.length > 0);
  $('steps-section').hidden = steps.length === 0;
  $('steps').innerHTML = steps
    .map((st) => {
      const head = [...new Set(st.rows.flatMap((r) => Object.keys(r)))];
      const more = st.total > st.rows.length ? ` <span class="muted small">(the first ${st.rows.length} of ${st.total})</span>` : '';
      const rows = st.rows.map((r) => `<tr>${head.map((h) => `<td>${cell(r[h])}</td>`).join('')}</tr>`).join('');
      return `<h3>${esc(st.pipeline)} · ${esc(st.step)}${more}</h3><div class="scroll"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></div>`;
    })
    .join('');
}

function render(s) {
  const dt = previous ? s.time - previous.time : 0;
  renderSummary(s);
  renderAlerts(s);
  renderInputs(s, dt);
  renderPipelines(s, dt);
  renderOutbox(s);
  renderSteps(s);
  renderCharts(s.series || []);
  previous = s;
  document.body.dataset.updated = String(s.time);
}

const events = new EventSource(withToken('api/events'));
events.onmessage = (ev) => render(JSON.parse(ev.data));
events.onerror = () => {
  $('summary').innerHTML = '<span class="pill bad">disconnected — retrying</span>';
};
