// The supervisor wallboard: queues and agents now, the day in charts, CSAT.
// Statistics are polled every few seconds; events from the WebSocket make
// the live parts (queues, agents) refresh at once in between.

import { EventStream, get, listOf, post } from './api.js';
import { clock, debounce, duration, h, label, notice, options, percent, replace, zoneClock } from './dom.js';
import { requireLogin, userMenu } from './session.js';
import { percentLines, stackedBars } from './charts.js';
import { asaClass, byInterval, csatMean, daySums, slClass, slTarget, totals } from './wallboard/metrics.js';

const POLL_MS = 5000;
const INTERVAL_MINUTES = 30;
const AWAY_REASONS = ['Break', 'Lunch', 'Meeting', 'Training'];
const COLORS = { handled: '#0b5cd5', contained: '#1b7a36', abandoned: '#b3261e', sl: '#0b5cd5' };

const root = document.getElementById('app');
const me = await requireLogin(root, { role: 'supervisor', title: 'Wallboard' });

// ----- layout ---------------------------------------------------------------

const banner = notice('wallboard-error');
const updated = h('span', { class: 'muted', style: { color: '#cfd3d9' }, dataset: { testid: 'updated' } });
const conn = h('span', { class: 'conn' }, 'Connecting…');
const big = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', title: 'Larger text for a wall screen' }, 'TV size');

function tile(name, testid) {
  const value = h('div', { class: 'value', dataset: { testid } }, '–');
  const sub = h('div', { class: 'muted', style: { fontSize: '.85em' } });
  const el = h('div', { class: 'tile', dataset: { testid: `${testid}-tile` } }, h('div', { class: 'name' }, name), value, sub);
  return { el, value, sub };
}

const tiles = {
  waiting: tile('Waiting', 'kpi-waiting'),
  oldest: tile('Oldest wait', 'kpi-oldest'),
  handled: tile('Handled today', 'kpi-handled'),
  contained: tile('Bot contained', 'kpi-contained'),
  abandoned: tile('Abandoned', 'kpi-abandoned'),
  sl: tile('Service level', 'kpi-sl'),
  asa: tile('ASA', 'kpi-asa'),
  available: tile('Agents available', 'kpi-available'),
  csat: tile('CSAT', 'kpi-csat'),
  sla: tile('Response targets breached', 'kpi-sla'),
};

const queueBody = h('tbody');
const agentBody = h('tbody');
const adherenceBody = h('tbody');
const adherenceNote = h('p', { class: 'muted' });
const volumeChart = h('div', { class: 'chart' });
const slChart = h('div', { class: 'chart' });
const csatAgents = h('tbody');
const csatQueues = h('tbody');

const th = (text, num) => h('th', { class: num ? 'num' : null, scope: 'col' }, text);

replace(
  root,
  h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, 'Switchboard'), h('span', null, 'Wallboard'), h('a', { href: '/reports', dataset: { testid: 'link-reports' } }, 'Reports'), h('a', { href: '/planning', dataset: { testid: 'link-planning' } }, 'Planning'), h('span', { class: 'spacer' }), updated, conn, big, userMenu(me)),
  banner,
  h('main', { class: 'wallboard', dataset: { testid: 'wallboard' } },
    h('div', { class: 'tiles' }, Object.values(tiles).map((t) => t.el)),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'q-title' },
      h('h2', { id: 'q-title' }, 'Queues'),
      h('table', { class: 'data', dataset: { testid: 'queues' } },
        h('thead', null, h('tr', null, th('Queue'), th('Waiting', 1), th('Oldest', 1), th('Available', 1), th('On contact', 1), th('Wrap-up', 1), th('Away', 1), th('Handled', 1), th('Abandoned', 1), th('SL', 1), th('ASA', 1), th('Past target', 1))),
        queueBody)),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'a-title' },
      h('h2', { id: 'a-title' }, 'Agents'),
      h('table', { class: 'data', dataset: { testid: 'agents' } },
        h('thead', null, h('tr', null, th('Agent'), th('State'), th('Time in state', 1), th('Contacts', 1), th('Set state'))),
        agentBody)),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'ad-title' },
      h('h2', { id: 'ad-title' }, 'Out of adherence'),
      adherenceNote,
      h('table', { class: 'data', dataset: { testid: 'adherence' } },
        h('thead', null, h('tr', null, th('Agent'), th('Scheduled to'), th('Since'), th('For', 1))),
        adherenceBody)),
    h('section', { class: 'board-section half', 'aria-labelledby': 'v-title' },
      h('h2', { id: 'v-title' }, `Contacts per ${INTERVAL_MINUTES} minutes`),
      h('div', { class: 'legend' }, h('span', { style: { '--c': COLORS.handled } }, 'Handled'), h('span', { style: { '--c': COLORS.contained } }, 'Bot contained'), h('span', { style: { '--c': COLORS.abandoned } }, 'Abandoned')),
      volumeChart),
    h('section', { class: 'board-section half', 'aria-labelledby': 's-title' },
      h('h2', { id: 's-title' }, 'Service level today'),
      h('div', { class: 'legend' }, h('span', { style: { '--c': COLORS.sl } }, 'Service level'), h('span', { style: { '--c': '#8a5a00' } }, 'Target')),
      slChart),
    h('section', { class: 'board-section half', 'aria-labelledby': 'ca-title' },
      h('h2', { id: 'ca-title' }, 'CSAT by agent'),
      h('table', { class: 'data', dataset: { testid: 'csat-agents' } }, h('thead', null, h('tr', null, th('Agent'), th('Ratings', 1), th('Average', 1))), csatAgents)),
    h('section', { class: 'board-section half', 'aria-labelledby': 'cq-title' },
      h('h2', { id: 'cq-title' }, 'CSAT by queue'),
      h('table', { class: 'data', dataset: { testid: 'csat-queues' } }, h('thead', null, h('tr', null, th('Queue'), th('Ratings', 1), th('Average', 1))), csatQueues)),
  ),
);

big.addEventListener('click', () => {
  const on = big.getAttribute('aria-pressed') !== 'true';
  big.setAttribute('aria-pressed', String(on));
  document.documentElement.style.fontSize = on ? '20px' : '';
});

// ----- data -----------------------------------------------------------------

const queues = new Map();
const people = new Map();
let agentRows = []; // [{agent, state, presence, since, contacts}]

// The day's intervals are labelled in the workspace's time zone, where its
// "today" begins (the wall may hang in another).
let dayClock = clock;

async function loadNames() {
  const [q, u, w] = await Promise.allSettled([get('queues'), get('users'), get('workspace')]);
  if (q.status === 'fulfilled') for (const x of listOf(q.value, 'queues')) queues.set(x.id, x);
  if (u.status === 'fulfilled') for (const x of listOf(u.value, 'users')) people.set(x.id, x.name);
  if (w.status === 'fulfilled' && w.value.time_zone) dayClock = zoneClock(w.value.time_zone);
}

const personName = (id) => people.get(id) || `#${id}`;
const fmtPct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v)}%`);
const fmtSecs = (v) => (v === null || v === undefined ? '–' : `${Math.round(v)} s`);

function drawQueues(stats) {
  replace(
    queueBody,
    stats.length
      ? stats.map((q) => {
          const cfg = queues.get(q.queue);
          const target = slTarget(cfg);
          const sl = percent(q.service_level);
          const threshold = cfg?.settings?.sl_seconds ?? 20;
          const a = q.agents || {};
          return h(
            'tr',
            { dataset: { testid: 'queue-row', queue: String(q.queue) } },
            h('th', { scope: 'row' }, q.name),
            h('td', { class: 'num', dataset: { testid: 'queue-waiting' } }, String(q.waiting)),
            h('td', { class: 'num' }, q.oldest_wait_seconds != null ? duration(q.oldest_wait_seconds) : '–'),
            h('td', { class: 'num' }, String(a.available || 0)),
            h('td', { class: 'num' }, String(a.on_contact || 0)),
            h('td', { class: 'num' }, String(a.wrap_up || 0)),
            h('td', { class: 'num' }, String(a.away || 0)),
            h('td', { class: 'num', dataset: { testid: 'queue-handled' } }, String(q.handled)),
            h('td', { class: 'num' }, String(q.abandoned)),
            h('td', { class: ['num', slClass(sl, target)], title: `target ${target}% within ${threshold} s` }, fmtPct(sl)),
            h('td', { class: ['num', asaClass(q.asa_seconds, threshold)], title: `threshold ${threshold} s` }, fmtSecs(q.asa_seconds)),
            h('td', { class: ['num', q.sla_breached_now ? 'bad' : q.sla_at_risk_now ? 'amber' : ''], dataset: { testid: 'queue-sla' }, title: 'open contacts past their first- or next-response target now / targets breached today; at risk: warned that a target is about to pass' }, `${q.sla_breached_now || 0} / ${q.sla_breaches || 0}${q.sla_at_risk_now ? ` · ${q.sla_at_risk_now} at risk` : ''}`),
          );
        })
      : h('tr', null, h('td', { colspan: 12, class: 'muted' }, 'No queues yet.')),
  );
}

function forceSelect(row) {
  const sel = h('select', { 'aria-label': `Set the state of ${personName(row.agent)}`, dataset: { testid: 'force-state' } },
    options([['', 'Set…'], ['available', 'Available'], ...AWAY_REASONS.map((r) => [`away:${r}`, `Away – ${r}`]), ['offline', 'Offline']], ''));
  sel.addEventListener('change', async () => {
    if (!sel.value) return;
    const [state, reason] = sel.value.split(':');
    try {
      await post(`agents/${row.agent}/state`, state === 'away' ? { state, reason } : { state });
      banner.show(`${personName(row.agent)} is now ${state === 'away' ? `away (${reason})` : state}.`, 'ok');
      refreshLive();
    } catch (err) {
      banner.show(`Could not change ${personName(row.agent)}'s state: ${err.message}`);
    }
    sel.value = '';
  });
  return sel;
}

// An available agent who declined or missed an offer is not offered that
// contact again until the queue's cooldown ends: say so, or the idle agent
// beside a waiting contact looks like a routing fault.
function cooldownNote(r) {
  const first = (r.cooldowns || [])[0];
  if (r.state !== 'available' || !first) return null;
  const more = r.cooldowns.length > 1 ? ` (+${r.cooldowns.length - 1})` : '';
  return h('span', { class: 'muted', dataset: { testid: 'agent-cooldown' } }, ` · declined #${first.contact}${more}, ${Math.ceil(first.seconds_left)} s left`);
}

function drawAgents() {
  const order = { on_contact: 0, wrap_up: 1, available: 2, away: 3, offline: 4 };
  const rows = [...agentRows].sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9) || personName(a.agent).localeCompare(personName(b.agent)));
  replace(
    agentBody,
    rows.length
      ? rows.map((r) =>
          h(
            'tr',
            { dataset: { testid: 'agent-row', agent: String(r.agent) } },
            h('th', { scope: 'row' }, personName(r.agent)),
            h('td', null, h('span', { class: `badge ${r.state}`, dataset: { testid: 'agent-state' } }, label(r.state)), r.presence?.presence === 'away' && r.presence.reason ? h('span', { class: 'muted' }, ` ${r.presence.reason}`) : null, cooldownNote(r)),
            h('td', { class: 'num', dataset: { since: String(r.since) } }, duration((Date.now() - r.since) / 1000)),
            h('td', { class: 'num' }, String((r.contacts || []).length)),
            h('td', null, forceSelect(r)),
          ),
        )
      : h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'No agents yet.')),
  );
}

// Agents on a shift not doing what it asks for longer than the workspace's
// threshold, longest first; the server's clock says how long.
const BREACH = { not_working: 'work (is not)', working_on_break: 'be on a break (is working)' };

function drawAdherence(now) {
  adherenceNote.textContent = `Agents on a published shift out of adherence for over ${duration(now.threshold_seconds)}.`;
  const offset = Date.now() - now.at;
  replace(
    adherenceBody,
    now.agents.length
      ? now.agents.map((r) =>
          h(
            'tr',
            { dataset: { testid: 'adherence-row', agent: String(r.agent) } },
            h('th', { scope: 'row' }, r.name || personName(r.agent)),
            h('td', { dataset: { testid: 'adherence-breach' } }, BREACH[r.breach] || r.breach),
            h('td', null, dayClock(r.since)),
            h('td', { class: 'num', dataset: { since: String(r.since + offset) } }, duration(r.seconds)),
          ),
        )
      : h('tr', null, h('td', { colspan: 4, class: 'muted', dataset: { testid: 'adherence-none' } }, 'Everyone on a shift is in adherence.')),
  );
}

// Time in state ticks every second without asking the server.
setInterval(() => {
  for (const body of [agentBody, adherenceBody]) {
    for (const td of body.querySelectorAll('td[data-since]')) td.textContent = duration((Date.now() - Number(td.dataset.since)) / 1000);
  }
}, 1000);

function drawTiles(t, day, csat) {
  const set = (k, v, sub, cls = '') => {
    tiles[k].value.textContent = v;
    tiles[k].sub.textContent = sub || '';
    tiles[k].el.className = `tile ${cls}`;
  };
  set('waiting', String(t.waiting));
  set('oldest', t.oldest != null ? duration(t.oldest) : '–');
  // Today's totals come from the intervals when the server has them, else from the live counters.
  const handled = day ? day.handled : t.handled;
  const abandoned = day ? day.abandoned : t.abandoned;
  set('handled', String(handled));
  set('contained', day ? String(day.contained) : '–', day && day.contained + handled ? `${Math.round((100 * day.contained) / (day.contained + handled))}% of resolved` : '');
  set('abandoned', String(abandoned));
  const target = queues.size ? Math.min(...[...queues.values()].map(slTarget)) : 80;
  // Today's service level from the intervals when there are any, else the live counters'.
  const sl = day && day.sl !== null ? day.sl : t.sl;
  set('sl', fmtPct(sl), `target ${target}%`, slClass(sl, target));
  set('asa', fmtSecs(t.asa));
  const count = (state) => agentRows.filter((r) => r.state === state).length;
  set('available', String(count('available')), `${count('on_contact') + count('wrap_up')} on contacts or wrap-up`, agentRows.length && !count('available') && t.waiting ? 'amber' : '');
  set('sla', String(t.slaBreaches), `${t.slaBreachedNow} open past target now, ${t.slaAtRisk} at risk`, t.slaBreachedNow ? 'bad' : t.slaAtRisk ? 'amber' : '');
  set('csat', csat != null ? csat.toFixed(1) : '–', csat != null ? 'of 5' : 'no ratings yet');
}

function drawCharts(slots) {
  if (!slots.length) {
    replace(volumeChart, h('p', { class: 'muted' }, 'No contacts today yet.'));
    replace(slChart, h('p', { class: 'muted' }, 'No contacts today yet.'));
    return;
  }
  const labels = slots.map((x) => dayClock(x.start));
  const sums = daySums(slots);
  replace(volumeChart, stackedBars({
    labels,
    testid: 'chart-volume',
    summary: `Today: ${sums.handled} handled, ${sums.contained} contained by the bot, ${sums.abandoned} abandoned.`,
    series: [
      { name: 'Handled', color: COLORS.handled, values: slots.map((x) => x.handled) },
      { name: 'Bot contained', color: COLORS.contained, values: slots.map((x) => x.contained) },
      { name: 'Abandoned', color: COLORS.abandoned, values: slots.map((x) => x.abandoned) },
    ],
  }));
  const target = queues.size ? Math.min(...[...queues.values()].map(slTarget)) : 80;
  replace(slChart, percentLines({
    labels,
    testid: 'chart-sl',
    target,
    summary: `Service level per interval today against a ${target}% target.`,
    series: [{ name: 'Service level', color: COLORS.sl, values: slots.map((x) => x.sl) }],
  }));
}

function drawCsat(body, rows, nameOf, testid) {
  replace(
    body,
    rows.length
      ? rows.map((r) => h('tr', { dataset: { testid } }, h('th', { scope: 'row' }, r.name || nameOf(r)), h('td', { class: 'num' }, String(r.count)), h('td', { class: ['num', r.average >= 4 ? 'good' : r.average >= 3 ? 'amber' : 'bad'] }, r.average != null ? `${r.average.toFixed(1)} ★` : '–')))
      : h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No ratings yet.')),
  );
}

// ----- refreshing -----------------------------------------------------------

let lastQueues = [];
let day = null;
let csat = null;
let failing = false;

async function refreshLive() {
  const [q, a, ad] = await Promise.all([get('stats/queues'), get('stats/agents'), get('stats/adherence')]);
  lastQueues = listOf(q, 'queues');
  const now = Date.now();
  agentRows = listOf(a, 'agents').map((r) => ({ ...r, since: now - r.seconds_in_state * 1000 }));
  drawQueues(lastQueues);
  drawAgents();
  drawAdherence(ad);
  drawTiles(totals(lastQueues), day, csat);
}

async function refreshDay() {
  const [iv, cs] = await Promise.allSettled([get(`stats/intervals?minutes=${INTERVAL_MINUTES}`), get('stats/csat')]);
  if (iv.status === 'fulfilled') {
    const slots = byInterval(listOf(iv.value, 'intervals'), INTERVAL_MINUTES);
    day = daySums(slots);
    drawCharts(slots);
  } else {
    const why = h('p', { class: 'muted' }, `Intervals unavailable: ${iv.reason.message}`);
    replace(volumeChart, why);
    replace(slChart, why.cloneNode(true));
  }
  if (cs.status === 'fulfilled') {
    const agents = cs.value.agents || [];
    const qs = cs.value.queues || [];
    csat = csatMean(qs.length ? qs : agents);
    drawCsat(csatAgents, agents, (r) => personName(r.agent), 'csat-agent-row');
    drawCsat(csatQueues, qs, (r) => queues.get(r.queue)?.name || `queue ${r.queue}`, 'csat-queue-row');
  } else {
    for (const body of [csatAgents, csatQueues]) replace(body, h('tr', null, h('td', { colspan: 3, class: 'muted' }, `CSAT unavailable: ${cs.reason.message}`)));
  }
  drawTiles(totals(lastQueues), day, csat);
}

async function refreshAll() {
  try {
    await refreshLive();
    await refreshDay();
    updated.textContent = `Updated ${clock(Date.now())}`;
    if (failing) banner.clear();
    failing = false;
  } catch (err) {
    failing = true;
    banner.show(`Could not refresh: ${err.message}`);
  }
}

const liveSoon = debounce(() => refreshLive().catch(() => {}), 400);

await loadNames();
await refreshAll();
setInterval(refreshAll, POLL_MS);

// Supervisors receive every event of the workspace; only "something changed"
// matters here.
const daySoon = debounce(() => refreshDay().catch(() => {}), 400);
new EventStream({
  // Only "something changed" matters: no need to replay the log.
  after: Number(sessionStorage.getItem('switchboard.wallboard.after')) || null,
  onEvent(ev) {
    if (ev.kind === 'audit') return;
    if (ev.kind === 'csat' || ev.kind === 'bot_contained' || ev.kind === 'contact_ended') daySoon();
    liveSoon();
  },
  onCursor: (id) => sessionStorage.setItem('switchboard.wallboard.after', String(id)),
  onStatus(status) {
    conn.className = `conn ${status}`;
    conn.textContent = status === 'open' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : 'Offline';
    if (status === 'open') {
      liveSoon();
      daySoon();
    }
  },
}).start();
