// Where a conversation stands with its targets (SLA): the contact's `sla`
// from the API — the clock that matters most, its due time and state — as a
// badge counting down in the conversation list and header, then
// "breached". The records are read again when a live event may have moved
// a clock (see `slaMoved`); between reads the badges count on their own.

import { serverNow } from '../api.js';
import { h } from '../dom.js';

/** Channels the customer answers later: their conversations have response clocks. */
const CLOCKED = new Set(['email', 'sms', 'whatsapp', 'telegram', 'messenger']);

const TIMERS = { first_response: 'First response', next_response: 'Next response', resolution: 'Resolution' };

/** "4:05 left", "2 h 10 min left", "3 d 4 h left" or "Breached", at `now`. */
export function slaText(sla, now) {
  const left = Math.ceil((sla.due - now) / 1000);
  if (sla.state === 'breached' || left <= 0) return 'Breached';
  const [d, hh, m, s] = [Math.floor(left / 86400), Math.floor(left / 3600) % 24, Math.floor(left / 60) % 60, left % 60];
  if (d) return `${d} d ${hh} h left`;
  if (hh) return `${hh} h ${m} min left`;
  return `${m}:${String(s).padStart(2, '0')} left`;
}

/** The badge's state at `now`: the server's, or breached once the due time has passed here. */
export function slaState(sla, now) {
  return sla.state === 'breached' || sla.due <= now ? 'breached' : sla.state;
}

/** Whether an event of a held contact may have moved its clocks: read its record again. */
export function slaMoved(ev, record) {
  if (['sla_warning', 'sla_breached', 'sla_policy_applied'].includes(ev.kind)) return true;
  return ev.kind === 'message' && Boolean(record) && (Boolean(record.sla) || CLOCKED.has(record.channel));
}

/** The badge for a contact's `sla` (null: none). */
export function slaBadge(sla) {
  if (!sla) return null;
  const el = h('span', { class: 'badge sla', dataset: { testid: 'sla-badge', due: String(sla.due) } });
  el.sla = sla;
  draw(el, serverNow());
  return el;
}

function draw(el, now) {
  const state = slaState(el.sla, now);
  el.dataset.state = state;
  el.className = `badge sla ${state}`;
  el.textContent = slaText(el.sla, now);
  const due = new Date(el.sla.due).toLocaleString();
  el.title = `${TIMERS[el.sla.timer] || el.sla.timer} ${state === 'breached' ? 'was due' : 'due'} ${due}`;
}

/** Counts every badge on the page down, once a second. */
export function startSlaCountdown(root = document) {
  setInterval(() => {
    const now = serverNow();
    for (const el of root.querySelectorAll('[data-testid=sla-badge]')) if (el.sla) draw(el, now);
  }, 1000);
}
