// The Planning page's Adherence: each agent's published shifts against the
// states they were in, per agent and day (GET /reports/adherence).

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { addDays, today } from '../dates.js';

const hours = (s) => (Math.round(s / 360) / 10).toFixed(1);
const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 1000) / 10}%`);

/** The Adherence section; `banner` shows errors. */
export function adherenceSection({ zone, banner }) {
  const from = h('input', { id: 'ad-from', type: 'date', value: addDays(today(zone), -6), dataset: { testid: 'adherence-from' } });
  const to = h('input', { id: 'ad-to', type: 'date', value: today(zone), dataset: { testid: 'adherence-to' } });
  const table = h('table', { class: 'data', dataset: { testid: 'adherence-table' } });
  const csv = h('a', { class: 'button', download: '', dataset: { testid: 'adherence-csv' } }, 'Adherence CSV');
  const control = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);

  async function load() {
    // `to` is the last day shown: the range ends the day after.
    const q = new URLSearchParams({ from: from.value, to: addDays(to.value, 1), interval: 'day' });
    csv.href = `/api/v1/reports/adherence?${q}&format=csv`;
    let report;
    try {
      report = await get(`reports/adherence?${q}`);
    } catch (err) {
      banner.show(`Adherence: ${err.message}`);
      return;
    }
    const cols = ['Agent', 'Day', 'Scheduled (h)', 'Break (h)', 'In adherence (h)', 'Adherence', 'Worked off schedule (h)'];
    replace(table,
      h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: i > 1 ? 'num' : null }, c)))),
      h('tbody', null, report.rows.length
        ? report.rows.map((r) => h('tr', { dataset: { testid: 'adherence-row', agent: r.id } },
            h('th', { scope: 'row' }, r.name),
            h('td', null, r.start_local.slice(0, 10)),
            h('td', { class: 'num' }, hours(r.scheduled_seconds)),
            h('td', { class: 'num' }, hours(r.scheduled_break_seconds)),
            h('td', { class: 'num' }, hours(r.in_adherence_seconds)),
            h('td', { class: ['num', r.adherence !== null && r.adherence < 0.9 ? 'under' : null] }, pct(r.adherence)),
            h('td', { class: 'num' }, hours(r.unscheduled_work_seconds))))
        : h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, 'Nobody was scheduled or worked in these days.'))));
  }

  from.addEventListener('change', load);
  to.addEventListener('change', load);
  load();

  return h('section', { class: 'board-section wide', 'aria-labelledby': 'pad-title', dataset: { testid: 'adherence' } },
    h('h2', { id: 'pad-title' }, 'Adherence'),
    h('p', { class: 'muted' }, 'Time working while scheduled to work and away while on a scheduled break, over the time scheduled, from the published roster and the agents’ states.'),
    h('div', { class: 'row' }, control('From', from), control('To', to), csv),
    table);
}
