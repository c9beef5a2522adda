// Planning for supervisors: a queue's forecast for the next weeks from the
// workspace's own history (with how each method did on the held-out last
// week), the agents each interval needs against the agents the shifts put
// to work, planners' adjustments to the forecast, and what-if replays of a
// past day with changed staffing. One day of the plan is shown at a time.
// Every queue staffed together by simulation is `planning/simulated.js`.
// The week's roster (named agents on the shifts) is `planning/roster.js`,
// schedule adherence `planning/adherence.js`.

import { del, get, listOf, post } from './api.js';
import { duration, h, notice, options, percent, replace } from './dom.js';
import { requireLogin, userMenu } from './session.js';
import { countLines, stackedBars } from './charts.js';
import { addDays, today } from './dates.js';
import { rosterSection } from './planning/roster.js';
import { adherenceSection } from './planning/adherence.js';
import { simulatedSection } from './planning/simulated.js';

const COLORS = { offered: '#0b5cd5', adjusted: '#8a5a00', required: '#b3261e', scheduled: '#1b7a36', agents: '#0b5cd5' };
const WEEKS = [['1', 'Next week'], ['2', '2 weeks'], ['4', '4 weeks']];
const METHODS = { seasonal_naive: 'As last week', seasonal_mean: 'Mean of 4 weeks', holt_winters: 'Holt-Winters', weekly_profile: 'Weekly profile' };

const root = document.getElementById('app');
const me = await requireLogin(root, { role: 'supervisor', title: 'Planning' });

let zone = 'UTC';
try {
  zone = (await get('workspace')).time_zone || 'UTC';
} catch {
  // Dates are then UTC's.
}
const queues = listOf(await get('queues').catch(() => []), 'queues');
// For the what-if's moves and routing: the agents by name, the policies.
const [agentList, userList, policyList] = await Promise.all([get('agents'), get('users'), get('policies')].map((p) => p.catch(() => [])));
const names = new Map(listOf(userList, 'users').map((u) => [u.id, u.name]));
const agents = listOf(agentList, 'agents').filter((a) => names.has(a.user)).map((a) => ({ id: a.user, name: names.get(a.user) }));
const policies = listOf(policyList, 'policies');

// ----- layout ---------------------------------------------------------------

const banner = notice('planning-error');
const queue = h('select', { id: 'p-queue', dataset: { testid: 'plan-queue' } }, options(queues.map((q) => [q.id, q.name]), queues[0]?.id));
const weeks = h('select', { id: 'p-weeks', dataset: { testid: 'plan-weeks' } }, options(WEEKS, '1'));
// The queue's own target (its settings' sl_target_percent) until changed here.
const ownTarget = () => queues.find((q) => String(q.id) === queue.value)?.settings?.sl_target_percent ?? 80;
const slTarget = h('input', { id: 'p-sl', type: 'number', min: 1, max: 99, step: 1, value: ownTarget(), dataset: { testid: 'plan-sl' } });
const shrinkage = h('input', { id: 'p-shrinkage', type: 'number', min: 0, max: 90, step: 1, value: 30, dataset: { testid: 'plan-shrinkage' } });
const day = h('select', { id: 'p-day', dataset: { testid: 'plan-day' } });
const csv = (what) => h('a', { class: 'button', dataset: { testid: `plan-csv-${what}` }, download: '' }, `${what[0].toUpperCase()}${what.slice(1)} CSV`);
const csvLinks = { forecast: csv('forecast'), staffing: csv('staffing'), schedule: csv('schedule') };
const summary = h('p', { class: 'muted', dataset: { testid: 'plan-summary' } });
const forecastChart = h('div', { class: 'chart' });
const scores = h('table', { class: 'data', dataset: { testid: 'plan-scores' } });
const staffChart = h('div', { class: 'chart' });
const head = h('thead');
const body = h('tbody');
const shiftSummary = h('p', { class: 'muted', dataset: { testid: 'plan-schedule-summary' } });
const shiftTable = h('table', { class: 'data', dataset: { testid: 'plan-shifts' } });

const adjustFrom = h('input', { id: 'a-from', type: 'time', value: '09:00', dataset: { testid: 'adjust-from' } });
const adjustTo = h('input', { id: 'a-to', type: 'time', value: '12:00', dataset: { testid: 'adjust-to' } });
const adjustChange = h('input', { id: 'a-change', type: 'number', step: 1, value: 20, dataset: { testid: 'adjust-change' } });
const adjustNote = h('input', { id: 'a-note', type: 'text', placeholder: 'e.g. mailing goes out', dataset: { testid: 'adjust-note' } });
const adjustList = h('ul', { class: 'plain', dataset: { testid: 'adjustments' } });

const whatDay = h('input', { id: 'w-day', type: 'date', value: addDays(today(zone), -1), max: addDays(today(zone), -1), dataset: { testid: 'whatif-day' } });
const whatSeeds = h('input', { id: 'w-seeds', type: 'number', min: 1, max: 20, value: 3, dataset: { testid: 'whatif-seeds' } });
const whatChanges = queues.map((q) => h('input', { id: `w-q${q.id}`, type: 'text', placeholder: '+2, -1 or 6', size: 8, dataset: { testid: 'whatif-change', queue: q.id, name: q.name } }));
const whatRouting = queues.map((q) => h('select', { id: `w-r${q.id}`, dataset: { testid: 'whatif-policy', queue: q.id, name: q.name } },
  options([['', 'As configured'], ...policies.map((p) => [p.id, p.name])], '')));
const moveAgent = h('select', { id: 'w-move-agent', dataset: { testid: 'whatif-move-agent' } }, options([['', 'Nobody'], ...agents.map((a) => [a.id, a.name])], ''));
const moveQueue = h('select', { id: 'w-move-queue', dataset: { testid: 'whatif-move-queue' } }, options(queues.map((q) => [q.id, q.name]), queues[0]?.id));
const whatTable = h('table', { class: 'data', dataset: { testid: 'whatif-table' } });
const whatStatus = h('p', { class: 'muted', dataset: { testid: 'whatif-status' } });

const control = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);

replace(
  root,
  h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '/' }, 'Switchboard'), h('span', null, 'Planning'),
    h('a', { href: '/reports', dataset: { testid: 'link-reports' } }, 'Reports'),
    h('a', { href: '/wallboard', dataset: { testid: 'link-wallboard' } }, 'Wallboard'),
    me.principal.role === 'admin' ? h('a', { href: '/admin' }, 'Administration') : null,
    h('span', { class: 'spacer' }), userMenu(me)),
  banner,
  h('main', { class: 'wallboard', dataset: { testid: 'planning' } },
    h('section', { class: 'board-section wide', 'aria-label': 'What to plan' },
      h('div', { class: 'row' }, control('Queue', queue), control('Horizon', weeks), control('Service level target (%)', slTarget), control('Shrinkage (%)', shrinkage), control('Day shown', day)),
      h('div', { class: 'row' }, csvLinks.forecast, csvLinks.staffing, csvLinks.schedule, summary)),
    h('section', { class: 'board-section half', 'aria-labelledby': 'pf-title' },
      h('h2', { id: 'pf-title' }, 'Forecast'),
      h('div', { class: 'legend' }, h('span', { style: { '--c': COLORS.offered } }, 'Contacts'), h('span', { style: { '--c': COLORS.adjusted } }, 'Adjusted')),
      forecastChart,
      h('h3', null, 'Methods on the held-out last week of history'),
      scores),
    h('section', { class: 'board-section half', 'aria-labelledby': 'ps-title' },
      h('h2', { id: 'ps-title' }, 'Required and scheduled agents'),
      h('div', { class: 'legend' }, h('span', { style: { '--c': COLORS.required } }, 'Required (with shrinkage)'), h('span', { style: { '--c': COLORS.scheduled } }, 'Scheduled by the shifts'), h('span', { style: { '--c': COLORS.agents } }, 'On the phones')),
      staffChart),
    simulatedSection({ day: () => day.value, shrinkage: () => Number(shrinkage.value) / 100, banner }),
    h('section', { class: 'board-section half', 'aria-labelledby': 'pa-title' },
      h('h2', { id: 'pa-title' }, 'Adjustments'),
      h('p', { class: 'muted' }, 'Change the forecast of the day shown between two times; every change is kept and logged.'),
      h('form', { class: 'row', dataset: { testid: 'adjust-form' }, onsubmit: addAdjustment },
        control('From', adjustFrom), control('To', adjustTo), control('Change (%)', adjustChange), control('Note', adjustNote),
        h('button', { type: 'submit', class: 'primary', dataset: { testid: 'adjust-add' } }, 'Add')),
      adjustList),
    h('section', { class: 'board-section half', 'aria-labelledby': 'psh-title' },
      h('h2', { id: 'psh-title' }, 'Shifts'),
      shiftSummary,
      shiftTable),
    rosterSection({ zone, queues, banner }),
    adherenceSection({ zone, banner }),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'pt-title' },
      h('h2', { id: 'pt-title' }, 'Intervals of the day shown'),
      h('table', { class: 'data', dataset: { testid: 'plan-table' } }, head, body)),
    h('section', { class: 'board-section wide', 'aria-labelledby': 'pw-title' },
      h('h2', { id: 'pw-title' }, 'What if'),
      h('p', { class: 'muted' }, 'Replays a past day’s real contacts through the routing engine with the agents changed per queue, an agent serving one more queue, or a queue routed by another policy, next to what really happened.'),
      h('form', { class: 'row', dataset: { testid: 'whatif-form' }, onsubmit: runWhatIf },
        control('Day', whatDay),
        queues.map((q, i) => control(`${q.name} agents`, whatChanges[i])),
        queues.map((q, i) => control(`${q.name} routed by`, whatRouting[i])),
        control('Agent', moveAgent),
        control('also serves', moveQueue),
        control('Replays', whatSeeds),
        h('button', { type: 'submit', class: 'primary', dataset: { testid: 'whatif-run' } }, 'Replay')),
      whatStatus,
      whatTable),
  ),
);

// ----- the plan -------------------------------------------------------------

const pct = (v) => (percent(v) === null ? '–' : `${Math.round(percent(v))}%`);
const one = (v) => (v === null || v === undefined ? '–' : (Math.round(v * 10) / 10).toString());
const dateOf = (row) => row.start_local.slice(0, 10);
const timeOf = (row) => row.start_local.slice(11, 16);
let plan = null;

function query() {
  return new URLSearchParams({
    queue: queue.value,
    weeks: weeks.value,
    sl_target: String(Number(slTarget.value) / 100),
    shrinkage: String(Number(shrinkage.value) / 100),
  });
}

async function load() {
  if (!queue.value) {
    banner.show('The workspace has no queues to plan.');
    return;
  }
  const q = query();
  for (const [what, link] of Object.entries(csvLinks)) link.href = `/api/v1/planning/${what}?${q}&format=csv`;
  summary.textContent = 'Planning…';
  try {
    plan = await get(`planning/schedule?${q}`);
    banner.clear();
  } catch (err) {
    plan = null;
    summary.textContent = '';
    banner.show(`Could not plan: ${err.message}`);
    return;
  }
  const days = [...new Set(plan.intervals.map(dateOf))];
  const busy = days.find((d) => plan.intervals.some((r) => dateOf(r) === d && r.offered > 0)) || days[0];
  const keep = days.includes(day.value) ? day.value : busy;
  replace(day, options(days.map((d) => [d, d]), keep));
  draw();
}

function draw() {
  if (!plan) return;
  const rows = plan.intervals.filter((r) => dateOf(r) === day.value);
  const hours = plan.interval_minutes / 60;
  const t = plan.totals;
  const requiredHours = rows.reduce((a, r) => a + (r.required || 0) * hours, 0);
  summary.dataset.requiredHours = String(requiredHours);
  summary.textContent = `${plan.queue_name}, ${plan.time_zone} time, by ${METHODS[plan.method] || plan.method}: `
    + `${Math.round(t.offered)} contacts over the horizon, ${Math.round(t.required_hours)} paid hours required (peak ${t.peak_required}); `
    + `${one(requiredHours)} on the day shown.`;

  // The night is empty: the charts show the day from its first to its last busy interval.
  const busy = rows.map((r, i) => ((r.offered > 0 || r.required > 0 || r.scheduled > 0) ? i : null)).filter((i) => i !== null);
  const shown = busy.length ? rows.slice(Math.max(0, busy[0] - 1), busy[busy.length - 1] + 2) : rows;
  const labels = shown.map(timeOf);
  replace(forecastChart, stackedBars({
    labels,
    series: [
      { name: 'Contacts', color: COLORS.offered, values: shown.map((r) => (r.adjusted ? 0 : Math.round(r.offered * 10) / 10)) },
      { name: 'Adjusted', color: COLORS.adjusted, values: shown.map((r) => (r.adjusted ? Math.round(r.offered * 10) / 10 : 0)) },
    ],
    summary: `Contacts forecast per interval on ${day.value}`,
    testid: 'plan-forecast-chart',
  }));
  replace(staffChart, countLines({
    labels,
    series: [
      { name: 'Required', color: COLORS.required, values: shown.map((r) => r.required ?? null) },
      { name: 'Scheduled', color: COLORS.scheduled, values: shown.map((r) => r.scheduled ?? null) },
      { name: 'On the phones', color: COLORS.agents, values: shown.map((r) => r.agents ?? null), dashed: true },
    ],
    summary: `Agents required and scheduled per interval on ${day.value}`,
    testid: 'plan-staff-chart',
  }));
  drawScores();
  drawTable(rows);
  drawShifts();
  drawAdjustments();
}

function drawScores() {
  const e = plan.evaluation;
  if (!e) {
    replace(scores, h('tbody', null, h('tr', null, h('td', { class: 'muted' }, 'Less than two weeks of history: no week could be held out.'))));
    return;
  }
  replace(scores,
    h('thead', null, h('tr', null, ['Method', 'WAPE', 'MAPE', 'Bias', ''].map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
    h('tbody', null, e.scores.map((s) => h('tr', { dataset: { testid: 'plan-score', method: s.method } },
      h('th', { scope: 'row' }, METHODS[s.method] || s.method),
      h('td', { class: 'num' }, pct(s.wape)),
      h('td', { class: 'num' }, pct(s.mape)),
      h('td', { class: 'num' }, pct(s.bias)),
      h('td', { class: 'num' }, s.method === plan.method ? 'chosen' : '')))));
}

function drawTable(rows) {
  const cols = ['Interval', 'Contacts', 'AHT', 'On the phones', 'Required', 'Scheduled', 'Over / under', 'SL'];
  replace(head, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c))));
  const open = rows.filter((r) => r.offered > 0 || r.required > 0 || r.scheduled > 0);
  replace(body, open.length
    ? open.map((r) => h('tr', { dataset: { testid: 'plan-row', start: r.start } },
        h('td', { title: r.start_local }, timeOf(r)),
        h('td', { class: 'num' }, `${one(r.offered)}${r.adjusted ? ` (×${one(r.adjusted)})` : ''}`),
        h('td', { class: 'num' }, duration(r.aht_seconds)),
        h('td', { class: 'num' }, String(r.agents ?? '–')),
        h('td', { class: 'num', dataset: { testid: 'plan-required' } }, String(r.required ?? '–')),
        h('td', { class: 'num' }, String(r.scheduled ?? '–')),
        h('td', { class: ['num', r.over_under > 0 ? 'over' : null, r.over_under < 0 ? 'under' : null] }, r.over_under === undefined ? '–' : (r.over_under > 0 ? `+${r.over_under}` : String(r.over_under))),
        h('td', { class: 'num' }, pct(r.service_level))))
    : h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, 'Nothing is forecast on this day.')));
}

function drawShifts() {
  const s = plan.schedule;
  if (!s || s.problem) {
    shiftSummary.textContent = s?.problem || 'No schedule.';
    replace(shiftTable);
    return;
  }
  const uncovered = s.uncovered?.length
    ? ` ${s.uncovered.length} interval${s.uncovered.length === 1 ? '' : 's'} needing agents (the first ${s.uncovered[0].start_local}) fall outside every shift template and stay under.`
    : '';
  shiftSummary.textContent = `${one(s.paid_hours)} paid hours over the horizon; no schedule can do with less than ${one(s.lower_bound_hours)} (gap ${pct(s.gap)}).${uncovered}`;
  const shifts = s.shifts.filter((x) => x.start_local.slice(0, 10) === day.value);
  replace(shiftTable,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Shift'), h('th', { scope: 'col' }, 'Start'), h('th', { scope: 'col', class: 'num' }, 'Agents'), h('th', { scope: 'col', class: 'num' }, 'Paid hours'))),
    h('tbody', null, shifts.length
      ? shifts.map((x) => h('tr', { dataset: { testid: 'plan-shift' } }, h('th', { scope: 'row' }, x.template), h('td', null, x.start_local.slice(11, 16)), h('td', { class: 'num' }, String(x.agents)), h('td', { class: 'num' }, one(x.paid_hours))))
      : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No shift starts on this day.'))));
}

function drawAdjustments() {
  replace(adjustList, plan.adjustments.length
    ? plan.adjustments.map((a) => h('li', { dataset: { testid: 'adjustment' } },
        `${a.from.replace('T', ' ')} – ${a.to.replace('T', ' ')}: ${a.change_percent > 0 ? '+' : ''}${a.change_percent}%${a.queue ? '' : ' (every queue)'}${a.note ? ` · ${a.note}` : ''} `,
        h('button', { type: 'button', class: 'ghost small', dataset: { testid: 'adjustment-delete' }, onclick: () => removeAdjustment(a.id) }, 'Remove')))
    : h('li', { class: 'muted' }, 'No adjustments.'));
}

async function addAdjustment(ev) {
  ev.preventDefault();
  const body = {
    queue: Number(queue.value),
    from: `${day.value}T${adjustFrom.value}`,
    to: `${day.value}T${adjustTo.value}`,
    change_percent: Number(adjustChange.value),
  };
  if (adjustNote.value.trim()) body.note = adjustNote.value.trim();
  try {
    await post('planning/adjustments', body);
    adjustNote.value = '';
  } catch (err) {
    banner.show(`Could not add the adjustment: ${err.message}`);
    return;
  }
  await load();
}

async function removeAdjustment(id) {
  try {
    await del(`planning/adjustments/${id}`);
  } catch (err) {
    banner.show(`Could not remove the adjustment: ${err.message}`);
    return;
  }
  await load();
}

// ----- what if --------------------------------------------------------------

async function runWhatIf(ev) {
  ev.preventDefault();
  const changes = whatChanges.filter((i) => i.value.trim()).map((i) => ({ queue: Number(i.dataset.queue), change: i.value.trim() }));
  const routing = whatRouting.filter((s) => s.value).map((s) => ({ queue: Number(s.dataset.queue), policy: Number(s.value) }));
  const moves = moveAgent.value ? [{ agent: Number(moveAgent.value), join: [Number(moveQueue.value)] }] : [];
  // Said back under the table, in words.
  const said = [
    ...moves.map(() => `${moveAgent.selectedOptions[0].textContent} also serves ${moveQueue.selectedOptions[0].textContent}`),
    ...routing.map((r, i) => `${whatRouting.filter((s) => s.value)[i].dataset.name} routed by ${policies.find((p) => p.id === r.policy)?.name}`),
  ];
  whatStatus.textContent = 'Replaying…';
  let result;
  try {
    result = await post('planning/what-if', { day: whatDay.value, agents: changes, moves, routing, seeds: Number(whatSeeds.value) });
  } catch (err) {
    whatStatus.textContent = '';
    banner.show(`Could not replay the day: ${err.message}`);
    return;
  }
  banner.clear();
  whatStatus.textContent = `${result.contacts} contacts of ${result.day} replayed ${result.seeds} times each (${result.time_zone} time). Actual is the day’s report; replayed is the day as staffed through the engine.${said.length ? ` What if: ${said.join('; ')}.` : ''}`;
  const three = (o, f) => [o.actual, o.replayed, o.what_if].map((x) => h('td', { class: 'num' }, f(x)));
  const cols = ['Queue', 'Agents', 'Offered', 'SL actual', 'SL replayed', 'SL what if', 'ASA actual', 'ASA replayed', 'ASA what if', 'Abandoned actual', 'Abandoned replayed', 'Abandoned what if'];
  replace(whatTable,
    h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
    h('tbody', null, result.queues.map((q) => h('tr', { dataset: { testid: 'whatif-row', queue: q.queue } },
      h('th', { scope: 'row' }, q.name),
      h('td', { class: 'num' }, q.agents === q.agents_what_if ? String(q.agents) : `${q.agents} → ${q.agents_what_if}`),
      h('td', { class: 'num' }, String(q.actual.offered)),
      three(q, (x) => pct(x.service_level)),
      three(q, (x) => duration(x.asa_seconds)),
      three(q, (x) => one(x.abandoned))))));
}

queue.addEventListener('change', () => {
  slTarget.value = ownTarget();
});
for (const el of [queue, weeks, slTarget, shrinkage]) el.addEventListener('change', load);
day.addEventListener('change', draw);
load();
