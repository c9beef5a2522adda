// "My schedule" on the agent desktop: the agent's published shifts today
// and the next 7 days, with their breaks, and what the schedule says now.
// The desktop reloads it when a `roster_changed` event names the agent
// (a supervisor published or edited their shifts), and every ten minutes.

import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { weekday } from '../dates.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const REFRESH_EVERY = 10 * 60 * 1000;
const time = (local) => local.slice(11, 16);

export class ScheduleList {
  constructor(agent) {
    this.agent = agent;
    this.list = h('ul', { class: 'schedule-list', dataset: { testid: 'my-schedule' } });
    this.now = h('p', { class: 'muted', dataset: { testid: 'my-schedule-now' } });
    this.el = h('details', { open: true, class: 'my-schedule' }, h('summary', { class: 'section-title' }, 'My schedule'), this.now, this.list);
    this.roster = null;
    setInterval(() => this.load(), REFRESH_EVERY);
    setInterval(() => this.draw(Date.now()), 60 * 1000);
  }

  async load() {
    try {
      // Supervisors at the desktop would otherwise get everyone's shifts.
      this.roster = await get(`planning/roster?days=8&agent=${this.agent}`);
    } catch (err) {
      replace(this.list, h('li', { class: 'muted' }, `Not available: ${err.message}`));
      return;
    }
    this.draw(Date.now());
  }

  draw(now) {
    const r = this.roster;
    if (!r) return;
    const days = Array.from({ length: r.days }, (_, i) => {
      const d = new Date(`${r.from}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() + i);
      return d.toISOString().slice(0, 10);
    });
    replace(this.list, days.map((day, i) => {
      const shifts = r.shifts.filter((s) => s.day === day);
      const label = `${i === 0 ? 'Today' : DAYS[weekday(day)]} ${day.slice(5)}`;
      return h('li', { class: i === 0 ? 'today' : null, dataset: { testid: 'my-schedule-day', day } },
        `${label}: `,
        shifts.length
          ? shifts.map((s) => `${time(s.start_local)}–${time(s.end_local)} ${s.queue_name}${s.breaks.map((b) => `, break ${time(b.start_local)}–${time(b.end_local)}`).join('')}`).join('; ')
          : 'off');
    }));
    const current = r.shifts.find((s) => s.start <= now && now < s.end);
    const onBreak = current && current.breaks.find((b) => b.start <= now && now < b.end);
    this.now.textContent = !current ? 'Not scheduled now.'
      : onBreak ? `Scheduled: break until ${time(onBreak.end_local)}.`
        : `Scheduled: working on ${current.queue_name} until ${time(current.end_local)}.`;
  }
}
