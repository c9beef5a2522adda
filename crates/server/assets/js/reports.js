// Historical reports for supervisors: a range of past days by interval and
// by queue, agent, channel or endpoint, as a chart and a table, and the
// same as CSV. Ranges are dates in the workspace's time zone (the server
// reads `from`/`to` dates there).

import { get } from './api.js';
import { duration, h, notice, options, percent, replace } from './dom.js';
import { requireLogin, userMenu } from './session.js';
import { percentLines, stackedBars } from './charts.js';
import { addDays, today, weekday } from './dates.js';

const COLORS = { handled: '#0b5cd5', contained: '#1b7a36', abandoned: '#b3261e', sl: '#0b5cd5' };
const DIMENSIONS = [['totals', 'Totals'], ['queues', 'Queue'], ['agents', 'Agent'], ['channels', 'Channel'], ['endpoints', 'Endpoint']];
const INTERVALS = [['15m', '15 minutes'], ['30m', '30 minutes'], ['60m', 'Hour'], ['day', 'Day'], ['week', 'Week'], ['month', 'Month']];
const RANGES = [['yesterday', 'Yesterday'], ['last7', 'Last 7 days'], ['lastweek', 'Last week'], ['last28', 'Last 4 weeks'], ['custom', 'Custom']];

const root = document.getElementById('app');
const me = await requireLogin(root, { role: 'supervisor', title: 'Reports' });

let zone = 'UTC';
try {
  zone = (await get('workspace')).time_zone || 'UTC';
} catch {
  // The reports still work; "today" is then UTC's.
}

/** [from, to) of a named range; `to` is excluded. */
function rangeOf(name) {
  const t = today(zone);
  switch (name) {
    case 'yesterday': return [addDays(t, -1), t];
    case 'last7': return [addDays(t, -7), t];
    case 'last28': return [addDays(t, -28), t];
    case 'lastweek': {
      const monday = addDays(t, -weekday(t));
      return [addDays(monday, -7), monday];
    }
    default: return null;
  }
}

// ----- layout ---------------------------------------------------------------

const banner = notice('reports-error');
const range = h('select', { id: 'r-range', dataset: { testid: 'report-range' } }, options(RANGES, 'last7'));
const from = h('input', { id: 'r-from', type: 'date', dataset: { testid: 'report-from' } });
const to = h('input', { id: 'r-to', type: 'date', dataset: { testid: 'report-to' } });
const interval = h('select', { id: 'r-interval', dataset: { testid: 'report-interval' } }, options(INTERVALS, 'day'));
const dimension = h('select', { id: 'r-dimension', dataset: { testid: 'report-dimension' } }, options(DIMENSIONS, 'queues'));
const exportLink = h('a', { class: 'button', dataset: { testid: 'report-csv' }, download: '' }, 'Export CSV');
const summary = h('p', { class: 'muted', dataset: { testid: 'report-summary' } });
const volumeChart = h('div', { class: 'chart', dataset: { testid: 'report-volume' } });
const slChart = h('div', { class: 'chart' });
const head = h('thead');
const body = h('tbody');

const control = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);

replace(
  root,
  h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '/' }, 'Switchboard'), h('span', null, 'Reports'),
    h('a', { href: '/wallboard', dataset: { testid: 'link-wallboard' } }, 'Wallboard'),
    h('a', { href: '/planning', dataset: { testid: 'link-planning' } }, 'Planning'),
    me.principal.role === 'admin' ? h('a', { href: '/admin' }, 'Administration') : null,
    h('span', { class: 'spacer' }), userMenu(me)),
  banner,
  h('main', { class: 'wallboard', dataset: { testid: 'reports' } },
    h('section', { class: 'board-section wide', 'aria-label': 'What to report' },
      h('div', { class: 'row' }, control('Range', range), control('From', from), control('To (excluded)', to), control('Interval', interval), control('By', dimension)),
      h('div', { class: 'row' }, exportLink, summary)),
    h('section', { class: 'board-section half', 'aria-labelledby': 'rv-title' },
      h('h2', { id: 'rv-title' }, 'Contacts'),
      h('div', { class: 'legend' }, h('span', { style: { '--c': COLORS.handled } }, 'Handled'), h('span', { style: { '--c': COLORS.contained } }, 'Bot contained'), h('span', { style: { '--c': COLORS.abandoned } }, 'Abandoned')),
      volumeChart),
    h('section', { class: 'board-section half', 'aria-labelledby': 'rs-title' },
      h('h2', { id: 'rs-title' }, 'Service level'),
      slChart),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'rt-title' },
      h('h2', { id: 'rt-title' }, 'Figures'),
      h('table', { class: 'data', dataset: { testid: 'report-table' } }, head, body)),
  ),
);

// ----- data -----------------------------------------------------------------

const pct = (v) => (percent(v) === null ? '–' : `${Math.round(percent(v))}%`);
const secs = (v) => (v === null || v === undefined ? '–' : duration(v));
const num = (v) => (v === null || v === undefined ? '–' : String(v));

/** The columns of the table: [title, value of a row]. */
function columns(dim) {
  const cols = [
    ['Offered', (r) => num(r.offered)],
    ['Handled', (r) => num(r.handled)],
    ['Abandoned', (r) => num(r.abandoned)],
    ['SL', (r) => pct(r.service_level)],
    ['ASA', (r) => secs(r.asa_seconds)],
    ['AHT', (r) => secs(r.aht_seconds)],
    ['Hold', (r) => secs(r.hold_seconds)],
    ['Transfers', (r) => pct(r.transfer_rate)],
    ['Contained', (r) => pct(r.containment)],
    ['SLA breaches', (r) => num(r.sla_breaches)],
    ['FCR', (r) => pct(r.fcr)],
    ['CSAT', (r) => (r.csat_mean === null ? '–' : `${r.csat_mean.toFixed(2)} (${r.csat_count})`)],
  ];
  if (dim === 'agents' || dim === 'totals') {
    cols.push(['Occupancy', (r) => pct(r.occupancy)], ['Logins', (r) => num(r.logins)], ['Missed offers', (r) => num(r.missed_offers)]);
  }
  return cols;
}

/** An interval's label from its local start (2026-03-29T03:00:00+02:00). */
function when(row, iv) {
  const local = row.start_local;
  return iv.endsWith('m') ? `${local.slice(0, 10)} ${local.slice(11, 16)}` : local.slice(0, 10);
}

function query() {
  return new URLSearchParams({ from: from.value, to: to.value, interval: interval.value });
}

async function load() {
  const named = rangeOf(range.value);
  if (named) [from.value, to.value] = named;
  from.disabled = to.disabled = range.value !== 'custom';
  if (!from.value || !to.value) return;
  const q = query();
  const dim = dimension.value;
  exportLink.href = `/api/v1/reports/${dim}?${q}&format=csv`;
  let report;
  try {
    report = await get(`reports/${dim}?${q}`);
    banner.clear();
  } catch (err) {
    banner.show(`Could not load the report: ${err.message}`);
    return;
  }
  draw(report, dim, interval.value);
}

function draw(report, dim, iv) {
  const rows = report.rows;
  summary.textContent = `${rows.length} rows, ${report.time_zone} time`;
  // The charts add the rows of each interval up.
  const starts = [...new Set(rows.map((r) => r.start))].sort((a, b) => a - b);
  const labels = starts.map((s) => when(rows.find((r) => r.start === s), iv));
  const sum = (key) => starts.map((s) => rows.filter((r) => r.start === s).reduce((t, r) => t + (r[key] || 0), 0));
  const handled = sum('handled');
  const withinSl = starts.map((s) => rows.filter((r) => r.start === s).reduce((t, r) => t + (r.service_level || 0) * r.handled, 0));
  replace(volumeChart, stackedBars({
    labels,
    series: [
      { name: 'Handled', color: COLORS.handled, values: handled },
      { name: 'Bot contained', color: COLORS.contained, values: sum('contained') },
      { name: 'Abandoned', color: COLORS.abandoned, values: sum('abandoned') },
    ],
    summary: `Contacts per interval: ${handled.reduce((a, b) => a + b, 0)} handled`,
    testid: 'report-volume-chart',
  }));
  replace(slChart, percentLines({
    labels,
    series: [{ name: 'Service level', color: COLORS.sl, values: handled.map((n, i) => (n ? (100 * withinSl[i]) / n : null)) }],
    summary: 'Service level per interval',
    testid: 'report-sl-chart',
  }));
  const cols = columns(dim);
  replace(head, h('tr', null, h('th', { scope: 'col' }, 'Interval'), dim === 'totals' ? null : h('th', { scope: 'col' }, DIMENSIONS.find(([d]) => d === dim)[1]), cols.map(([t]) => h('th', { scope: 'col', class: 'num' }, t))));
  replace(
    body,
    rows.length
      ? rows.map((r) => h('tr', { dataset: { testid: 'report-row' } },
          h('td', { title: r.start_local }, when(r, iv)),
          dim === 'totals' ? null : h('th', { scope: 'row' }, r.name),
          cols.map(([, f]) => h('td', { class: 'num' }, f(r)))))
      : h('tr', null, h('td', { colspan: cols.length + 2, class: 'muted' }, 'Nothing happened in this range.')),
  );
}

for (const el of [range, from, to, interval, dimension]) el.addEventListener('change', load);
load();
