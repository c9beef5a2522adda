// The wallboard's arithmetic, apart from the page so that it can be tested
// without a browser: colours against targets, totals over queues, the
// day's intervals summed across queues.

import { percent } from '../dom.js';

export const DEFAULT_SL_TARGET = 80;

/**
 * A queue's service-level target in percent: its settings'
 * `sl_target_percent` (80 % for a queue saved before there was one).
 */
export function slTarget(queue) {
  const t = queue && queue.settings && queue.settings.sl_target_percent;
  return typeof t === 'number' ? t : DEFAULT_SL_TARGET;
}

/** green at or above the target, amber within 10 points below it, red further down. */
export function slClass(value, target) {
  if (value === null || value === undefined) return '';
  if (value >= target) return 'good';
  if (value >= target - 10) return 'amber';
  return 'bad';
}

/** ASA against the queue's threshold T: green up to T, amber up to 1.5 T, red beyond. */
export function asaClass(seconds, threshold) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds <= threshold) return 'good';
  if (seconds <= threshold * 1.5) return 'amber';
  return 'bad';
}

/** Sums over queues of `GET /stats/queues`, with SL and ASA weighted by handled contacts. */
export function totals(queueStats) {
  const t = { waiting: 0, oldest: null, handled: 0, abandoned: 0, offered: 0, sl: null, asa: null, slaBreaches: 0, slaBreachedNow: 0, slaAtRisk: 0 };
  let slSum = 0;
  let asaSum = 0;
  let slN = 0;
  let asaN = 0;
  for (const q of queueStats) {
    t.waiting += q.waiting || 0;
    t.handled += q.handled || 0;
    t.abandoned += q.abandoned || 0;
    t.offered += q.offered || 0;
    t.slaBreaches += q.sla_breaches || 0;
    t.slaBreachedNow += q.sla_breached_now || 0;
    t.slaAtRisk += q.sla_at_risk_now || 0;
    if (q.oldest_wait_seconds != null) t.oldest = Math.max(t.oldest ?? 0, q.oldest_wait_seconds);
    if (q.service_level != null && q.handled) {
      slSum += percent(q.service_level) * q.handled;
      slN += q.handled;
    }
    if (q.asa_seconds != null && q.handled) {
      asaSum += q.asa_seconds * q.handled;
      asaN += q.handled;
    }
  }
  t.sl = slN ? slSum / slN : null;
  t.asa = asaN ? asaSum / asaN : null;
  return t;
}

const toMs = (start) => (typeof start === 'number' ? (start < 1e12 ? start * 1000 : start) : Date.parse(start));

/**
 * `GET /stats/intervals` summed across queues, one slot per interval from
 * the first to the last (empty ones included, so the time axis is even).
 */
export function byInterval(intervals, minutes) {
  const slots = new Map();
  for (const iv of intervals) {
    const at = toMs(iv.start);
    if (Number.isNaN(at)) continue;
    let x = slots.get(at);
    if (!x) {
      x = { start: at, offered: 0, handled: 0, abandoned: 0, contained: 0, slWeighted: 0, slHandled: 0 };
      slots.set(at, x);
    }
    x.offered += iv.offered || 0;
    x.handled += iv.handled || 0;
    x.abandoned += iv.abandoned || 0;
    x.contained += iv.contained || 0;
    if (iv.service_level != null && iv.handled) {
      x.slWeighted += percent(iv.service_level) * iv.handled;
      x.slHandled += iv.handled;
    }
  }
  if (!slots.size) return [];
  const step = minutes * 60000;
  const starts = [...slots.keys()].sort((a, b) => a - b);
  const out = [];
  for (let at = starts[0]; at <= starts[starts.length - 1]; at += step) {
    const x = slots.get(at) || { start: at, offered: 0, handled: 0, abandoned: 0, contained: 0, slWeighted: 0, slHandled: 0 };
    out.push({ ...x, sl: x.slHandled ? x.slWeighted / x.slHandled : null });
    if (out.length > 24 * 60) break; // A malformed answer must not hang the page.
  }
  return out;
}

/** The day's sums over intervals, and its service level (weighted by handled contacts; null without any). */
export function daySums(slots) {
  const t = { offered: 0, handled: 0, abandoned: 0, contained: 0, sl: null };
  let slWeighted = 0;
  let slHandled = 0;
  for (const x of slots) {
    t.offered += x.offered;
    t.handled += x.handled;
    t.abandoned += x.abandoned;
    t.contained += x.contained;
    slWeighted += x.slWeighted || 0;
    slHandled += x.slHandled || 0;
  }
  t.sl = slHandled ? slWeighted / slHandled : null;
  return t;
}

/** Mean CSAT over the rows of `GET /stats/csat` (weighted by answers). */
export function csatMean(rows) {
  let n = 0;
  let sum = 0;
  for (const r of rows || []) {
    if (!r.count || r.average == null) continue;
    n += r.count;
    sum += r.average * r.count;
  }
  return n ? sum / n : null;
}
