// The Planning page's Roster: a week of shifts given to named agents, agents
// × days. "Draft" cuts shifts covering the requirement chosen (each queue's
// Erlang C, or every queue together on the simulator) and hands them to
// agents (open shifts are those nobody could take within their work
// rules); "Publish" stores the draft; the published week's shifts are
// edited one at a time.

import { del, get, post, put } from '../api.js';
import { h, options, replace } from '../dom.js';
import { addDays, today, weekday } from '../dates.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const time = (local) => local.slice(11, 16);
const hours = (v) => (Math.round(v * 10) / 10).toString();

/** The Roster section; `banner` shows errors. */
export function rosterSection({ zone, queues, banner }) {
  const nextMonday = addDays(today(zone), 7 - weekday(today(zone)));
  const week = h('input', { id: 'r-week', type: 'date', value: nextMonday, dataset: { testid: 'roster-week' } });
  const status = h('p', { class: 'muted', dataset: { testid: 'roster-status' } });
  const requirement = h('select', { id: 'r-requirement', dataset: { testid: 'roster-requirement' } },
    options([['erlang', 'Erlang C, each queue'], ['simulated', 'Simulated, queues together']], 'erlang'));
  const coverage = h('p', { class: 'muted', dataset: { testid: 'roster-coverage' } });
  const table = h('table', { class: 'data', dataset: { testid: 'roster-table' } });
  const publishButton = h('button', { type: 'button', class: 'primary', disabled: true, dataset: { testid: 'roster-publish' } }, 'Publish');

  const editAgent = h('select', { id: 're-agent', dataset: { testid: 'roster-edit-agent' } });
  const editDay = h('input', { id: 're-day', type: 'date', dataset: { testid: 'roster-edit-day' } });
  const editQueue = h('select', { id: 're-queue', dataset: { testid: 'roster-edit-queue' } }, options(queues.map((q) => [q.id, q.name])));
  const editStart = h('input', { id: 're-start', type: 'time', value: '09:00', dataset: { testid: 'roster-edit-start' } });
  const editEnd = h('input', { id: 're-end', type: 'time', value: '17:00', dataset: { testid: 'roster-edit-end' } });
  const breakStart = h('input', { id: 're-break-start', type: 'time', dataset: { testid: 'roster-edit-break-start' } });
  const breakEnd = h('input', { id: 're-break-end', type: 'time', dataset: { testid: 'roster-edit-break-end' } });
  const control = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);

  let roster = null; // what the table shows
  let draft = false; // whether it is an unpublished draft

  function draw() {
    if (!roster) return;
    const days = Array.from({ length: 7 }, (_, i) => addDays(week.value ? mondayOf(week.value) : nextMonday, i));
    const cell = (shifts) => shifts.map((s) => h('div', {
      class: 'shift',
      title: s.breaks.map((b) => `break ${time(b.start_local)}–${time(b.end_local)}${b.paid ? ' (paid)' : ''}`).join(', '),
      dataset: { testid: 'roster-shift', agent: s.agent ?? '', day: s.day },
      onclick: () => edit(s),
    }, `${time(s.start_local)}–${time(s.end_local)} ${s.queue_name}`));
    const open = roster.shifts.filter((s) => s.agent === null);
    const rows = roster.agents.map((a) => h('tr', { dataset: { testid: 'roster-agent', agent: a.id } },
      h('th', { scope: 'row' }, a.name),
      days.map((d) => h('td', null, cell(roster.shifts.filter((s) => s.agent === a.id && s.day === d)))),
      h('td', { class: 'num', title: `at most ${hours(a.rules.max_weekly_hours)} h` }, hours(a.hours))));
    if (open.length) {
      rows.push(h('tr', { dataset: { testid: 'roster-open' } },
        h('th', { scope: 'row' }, 'Open'),
        days.map((d) => h('td', { class: 'under' }, String(open.filter((s) => s.day === d).length || ''))),
        h('td', { class: 'num' }, hours(open.reduce((t, s) => t + s.paid_hours, 0)))));
    }
    replace(table,
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Agent'), days.map((d) => h('th', { scope: 'col' }, `${DAYS[weekday(d)]} ${d.slice(5)}`)), h('th', { scope: 'col', class: 'num' }, 'Hours'))),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: 9, class: 'muted' }, 'No agents.'))));
    replace(editAgent, options(roster.agents.map((a) => [a.id, a.name]), editAgent.value));
    publishButton.disabled = !draft;
    drawCoverage();
    const problems = roster.problems.length ? ` ${roster.problems.join('; ')}.` : '';
    status.textContent = draft
      ? `Draft: ${roster.shifts.length - open.length} shifts given to agents, ${open.length} open.${problems} Publish to keep it.`
      : `Published: ${roster.shifts.length} shifts from ${roster.from}. Click a shift to change it.`;
  }

  // What the draft covers: intervals under its requirement, and the hours.
  function drawCoverage() {
    if (!draft || !roster.coverage) {
      coverage.textContent = '';
      return;
    }
    const under = roster.coverage.filter((c) => c.scheduled < c.required).length;
    const gaps = roster.coverage.filter((c) => c.assigned < c.required).length;
    const step = roster.coverage.length > 1 ? (roster.coverage[1].start - roster.coverage[0].start) / 3600000 : 0;
    const required = roster.coverage.reduce((t, c) => t + c.required, 0) * step;
    const what = roster.requirement === 'simulated' ? 'the simulated requirement (queues together)' : 'Erlang C’s requirement (each queue)';
    coverage.dataset.requirement = roster.requirement;
    coverage.dataset.under = String(under);
    coverage.dataset.paidHours = String(roster.paid_hours);
    coverage.textContent = `Covers ${what}: ${hours(roster.paid_hours)} paid hours of shifts for ${hours(required)} required; ${under} of ${roster.coverage.length} intervals under, ${gaps} under with open shifts left out.`;
  }

  function mondayOf(date) {
    return addDays(date, -weekday(date));
  }

  async function show(promise, isDraft) {
    status.textContent = isDraft ? 'Drafting from the schedules…' : 'Loading…';
    coverage.textContent = '';
    try {
      roster = await promise;
      draft = isDraft;
      banner.clear();
    } catch (err) {
      status.textContent = '';
      banner.show(`Roster: ${err.message}`);
      return;
    }
    draw();
  }

  const loadPublished = () => show(get(`planning/roster?from=${mondayOf(week.value)}&days=7`), false);
  const makeDraft = () => show(post('planning/roster/draft', { week: week.value, requirement: requirement.value }), true);

  async function publish() {
    const shifts = roster.shifts.filter((s) => s.agent !== null).map((s) => ({
      agent: s.agent,
      queue: s.queue,
      template: s.template,
      start: s.start,
      end: s.end,
      breaks: s.breaks.map((b) => ({ start: b.start, end: b.end, paid: b.paid })),
    }));
    await show(post('planning/roster', { week: week.value, shifts }), false);
  }

  function edit(s) {
    if (draft || s.agent === null) return;
    editAgent.value = String(s.agent);
    editDay.value = s.day;
    editQueue.value = String(s.queue);
    editStart.value = time(s.start_local);
    editEnd.value = time(s.end_local);
    breakStart.value = s.breaks[0] ? time(s.breaks[0].start_local) : '';
    breakEnd.value = s.breaks[0] ? time(s.breaks[0].end_local) : '';
  }

  async function save(ev) {
    ev.preventDefault();
    const day = editDay.value;
    // A shift ending before it starts ends the next day.
    const endDay = editEnd.value <= editStart.value ? addDays(day, 1) : day;
    const body = { queue: Number(editQueue.value), start: `${day}T${editStart.value}`, end: `${endDay}T${editEnd.value}`, breaks: [] };
    if (breakStart.value && breakEnd.value) {
      const at = (t) => `${t < editStart.value ? endDay : day}T${t}`;
      body.breaks.push({ start: at(breakStart.value), end: at(breakEnd.value) });
    }
    try {
      await put(`planning/roster/${editAgent.value}/${day}`, body);
    } catch (err) {
      banner.show(`Could not save the shift: ${err.message}`);
      return;
    }
    await loadPublished();
  }

  async function remove() {
    try {
      await del(`planning/roster/${editAgent.value}/${editDay.value}`);
    } catch (err) {
      banner.show(`Could not remove the shift: ${err.message}`);
      return;
    }
    await loadPublished();
  }

  publishButton.addEventListener('click', publish);
  week.addEventListener('change', loadPublished);
  loadPublished();

  return h('section', { class: 'board-section wide', 'aria-labelledby': 'pr-title', dataset: { testid: 'roster' } },
    h('h2', { id: 'pr-title' }, 'Roster'),
    h('p', { class: 'muted' }, 'The week’s shifts given to agents who serve the queue, within their work rules (hours a week, days, rest, days off).'),
    h('div', { class: 'row' },
      control('Week of', week),
      control('Cover', requirement),
      h('button', { type: 'button', dataset: { testid: 'roster-draft' }, onclick: makeDraft }, 'Draft from the schedules'),
      h('button', { type: 'button', class: 'ghost', dataset: { testid: 'roster-published' }, onclick: loadPublished }, 'Published'),
      publishButton),
    status,
    coverage,
    table,
    h('form', { class: 'row', dataset: { testid: 'roster-edit' }, onsubmit: save },
      control('Agent', editAgent), control('Day', editDay), control('Queue', editQueue),
      control('Start', editStart), control('End', editEnd), control('Break from', breakStart), control('Break to', breakEnd),
      h('button', { type: 'submit', class: 'primary', dataset: { testid: 'roster-save' } }, 'Save shift'),
      h('button', { type: 'button', class: 'ghost', dataset: { testid: 'roster-remove' }, onclick: remove }, 'Remove shift')),
  );
}
