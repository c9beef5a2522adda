// The Planning page's staffing by simulation: every queue of the workspace
// together, for the day shown (GET /planning/simulated-staffing). Agents
// configured alike form a group; the table gives each group's agents on
// duty per interval and each queue's simulated service level, and the
// summary each queue's day against its own target.

import { get } from '../api.js';
import { h, replace } from '../dom.js';

const pct = (v) => (v === null || v === undefined ? '–' : `${Math.round(v * 1000) / 10}%`);
const one = (v) => (Math.round(v * 10) / 10).toString();

/**
 * The section; `day()` is the day shown, `shrinkage()` the page's (a
 * fraction), `banner` shows errors.
 */
export function simulatedSection({ day, shrinkage, banner }) {
  const seeds = h('input', { id: 'sim-seeds', type: 'number', min: 1, max: 20, value: 8, dataset: { testid: 'sim-seeds' } });
  const status = h('p', { class: 'muted', dataset: { testid: 'sim-status' } });
  const queues = h('ul', { class: 'plain', dataset: { testid: 'sim-queues' } });
  const table = h('table', { class: 'data', dataset: { testid: 'sim-table' } });
  const button = h('button', { type: 'submit', class: 'primary', dataset: { testid: 'sim-run' } }, 'Simulate the day shown');

  async function run(ev) {
    ev.preventDefault();
    const q = new URLSearchParams({ day: day(), seeds: seeds.value, shrinkage: String(shrinkage()) });
    status.textContent = 'Simulating… (at most a few seconds)';
    button.disabled = true;
    let s;
    try {
      s = await get(`planning/simulated-staffing?${q}`);
    } catch (err) {
      status.textContent = '';
      banner.show(`Could not simulate the staffing: ${err.message}`);
      return;
    } finally {
      button.disabled = false;
    }
    banner.clear();
    draw(s);
  }

  function draw(s) {
    const stopped = s.complete ? '' : ` The search stopped at its ${s.budget_seconds}-second budget: the staffing is what it had found, and a queue may still miss its target.`;
    status.textContent = `${s.day} (${s.time_zone} time): ${one(s.agent_hours)} agent-hours on duty, ${one(s.paid_hours)} paid with shrinkage; `
      + `Erlang C staffing each queue on its own would need ${one(s.erlang_agent_hours)}. `
      + `${s.evaluations} staffings tried, ${s.seeds} simulated days each.${stopped}`;
    status.dataset.complete = String(s.complete);
    replace(queues,
      s.queues.map((q) => h('li', { dataset: { testid: 'sim-queue', name: q.name, met: String(q.met) } },
        `${q.name}: ${pct(q.service_level_total)} answered within ${q.sl_seconds} s over the day, target ${pct(q.sl_target)} — ${q.met ? 'met' : 'missed'} `
        + `(${q.channels.map((c) => `${c.channel} ${Math.round(c.share * 100)}%`).join(', ')})`)),
      s.groups.map((g) => h('li', { class: 'muted', dataset: { testid: 'sim-group' } }, `${g.name}: ${g.agents.join(', ')}`)),
      s.problems.map((p) => h('li', { class: 'muted' }, `Left out: ${p}`)));
    // The night is empty: the rows with agents or contacts.
    const busy = s.intervals.map((_, i) => i).filter((i) => s.groups.some((g) => g.on_duty[i] > 0) || s.queues.some((q) => q.offered[i] > 0));
    const cols = ['Interval', ...s.groups.map((g) => g.name), ...s.queues.map((q) => `${q.name} SL`)];
    replace(table,
      h('thead', null, h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)))),
      h('tbody', null, busy.length
        ? busy.map((i) => h('tr', { dataset: { testid: 'sim-row' } },
            h('th', { scope: 'row' }, s.intervals[i].start_local.slice(11, 16)),
            s.groups.map((g) => h('td', { class: 'num', title: `${g.required[i]} to schedule with shrinkage` }, String(g.on_duty[i]))),
            s.queues.map((q) => h('td', { class: ['num', q.service_level[i] !== null && q.offered[i] >= 1 && q.service_level[i] < q.sl_target ? 'under' : null] }, pct(q.service_level[i])))))
        : h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, 'Nothing is forecast on this day.'))));
  }

  return h('section', { class: 'board-section wide', 'aria-labelledby': 'psim-title', dataset: { testid: 'simulated' } },
    h('h2', { id: 'psim-title' }, 'Every queue together, by simulation'),
    h('p', { class: 'muted' }, 'The forecast of every queue routed by the production engine to the agents as configured: agents with the same queues, skills and capacity form a group, and the fewest of each group on duty per interval are searched so that each queue meets its own service-level target.'),
    h('form', { class: 'row', onsubmit: run },
      h('div', { class: 'field' }, h('label', { for: seeds.id }, 'Simulated days per try'), seeds),
      button),
    status,
    queues,
    table);
}
