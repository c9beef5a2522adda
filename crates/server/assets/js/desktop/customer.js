// The screen pop: who the customer is (profile, identities, tags, notes)
// and everything that happened with them before, on every channel, from
// `GET /customers/{id}/timeline`, grouped by contact, newest contact first.
// The conversation on screen appears without its messages (the centre shows
// them); an earlier one's messages fold into one line.

import { get, post } from '../api.js';
import { attrRows, clock, dateTime, h, label, notice, plural, replace } from '../dom.js';
import { busy, field, showError } from '../forms.js';
import { recordingPlayer } from './recording.js';

const KIND_LABEL = { phone: 'Phone', email: 'Email', visitor: 'Visitor', handle: 'Handle' };
const VERIFICATION_LABEL = { verified: 'verified', failed: 'failed', not_attempted: 'not attempted' };
const CALLBACK_OUTCOME = { answered: 'answered', busy: 'busy', no_answer: 'no answer', failed: 'failed' };
const HOLD_BY = { phone: ' on the phone', caller: ' by the caller' };

/**
 * Whether the caller proved who they are on this contact: the outcome of its
 * last `verification` event among `events`, else its `verified` attribute
 * (set only by a flow's verify block), else not attempted.
 */
export function verification(rec, events) {
  const last = events.filter((ev) => ev.kind === 'verification' && ev.contact === rec.id).pop();
  if (last?.payload?.outcome) return last.payload.outcome;
  const v = rec.attributes?.verified;
  return v === true ? 'verified' : v === false ? 'failed' : 'not_attempted';
}

/** The screen pop's badge for `verification()`'s outcome. */
function verificationBadge(outcome) {
  const cls = outcome === 'verified' ? 'badge connected' : 'badge';
  return h('p', null, h('span', { class: cls, dataset: { testid: 'verification', outcome } }, outcome === 'verified' ? 'Verified caller' : `Not verified (${VERIFICATION_LABEL[outcome] || outcome})`));
}

/** One line about an event, in words an agent reads at a glance. `names` resolves ids. */
export function describe(ev, names) {
  const p = ev.payload || {};
  const agent = (id) => names.agent(id ?? ev.agent);
  switch (ev.kind) {
    case 'contact_queued': return `Queued in ${names.queue(p.queue ?? ev.queue)}`;
    case 'step_changed': return `Routing widened to step ${Number(p.step) + 1}`;
    case 'offer_created': return `Offered to ${agent(p.agent)}`;
    case 'offer_accepted': return `Answered by ${agent(p.agent)}${p.waited !== undefined ? ` after ${Math.round(p.waited)} s` : ''}`;
    case 'offer_ended': return `Offer to ${agent(p.agent)} ${label(p.reason || 'ended').toLowerCase()}`;
    case 'contact_ended': return `Handling ended (${agent(p.agent)})`;
    case 'wrap_up_ended': return 'Wrapped up';
    case 'contact_transferred': {
      const t = p.target || {};
      return `Transferred to ${t.to === 'agent' ? agent(t.id) : names.queue(t.id)}`;
    }
    case 'contact_overflowed': return `Overflowed (${label(p.reason || '').toLowerCase()})`;
    case 'callback_scheduled': return 'Callback requested';
    case 'callback_attempted': return `Callback ${p.attempt}/${p.of} to ${p.number}: ${CALLBACK_OUTCOME[p.outcome] || p.outcome}${p.next === 'retry' ? ', to be tried again' : p.next === 'given_up' ? ', given up' : ''}`;
    case 'contact_left': return p.reason === 'cancelled' ? 'Withdrawn' : `Customer left after ${Math.round(p.waited || 0)} s waiting`;
    case 'contact_cancelled': return 'Withdrawn';
    case 'sla_policy_applied': return `SLA policy ${p.sla_policy?.name || `#${p.policy}`} applied`;
    case 'sla_warning': return `${label(p.timer || 'response')} target at risk`;
    case 'sla_breached': return `${label(p.timer || 'response')} target breached`;
    case 'customer_note': return `Note by ${typeof p.author === 'string' ? p.author : agent(p.author)}: ${p.text}`;
    case 'customer_merged': return `Merged with customer #${p.from}`;
    case 'message': {
      const who = p.name || label(p.from || 'message');
      const file = p.attachment ? ` [file: ${p.attachment.name || 'attachment'}]` : '';
      return `${who}: ${p.text || ''}${file}`;
    }
    case 'messages': return `${plural(p.count, 'message')}${p.first ? `, first: “${p.first}”` : ''}`;
    case 'conversation_opened': return `${label(p.channel || 'conversation')} opened`;
    case 'bot_contained': return 'Solved by the bot';
    case 'bot_handoff': return `Bot handed over (${label(p.reason || 'asked').toLowerCase()})`;
    case 'verification': return `Caller verification (${label(p.check || 'check').toLowerCase()}): ${VERIFICATION_LABEL[p.outcome] || p.outcome}`;
    case 'csat': return `Rated ${p.score}/5${p.comment ? `: “${p.comment}”` : ''}`;
    case 'contact_held': return `Put on hold${HOLD_BY[p.by] || ''}`;
    case 'contact_resumed': return `Taken off hold${HOLD_BY[p.by] || ''}`;
    case 'contact_muted': return `Muted by ${agent(p.by)}`;
    case 'contact_unmuted': return `Unmuted by ${agent(p.by)}`;
    case 'recording': return `${p.voicemail ? 'Voicemail' : 'Call recorded'} (${Math.round(p.seconds || 0)} s)`;
    case 'recording_paused': return `Recording paused by ${agent(p.by)}`;
    case 'recording_resumed': return `Recording resumed by ${agent(p.by)}`;
    // `chat_ended`: what ends were called before every channel had them.
    case 'conversation_ended':
    case 'chat_ended': return `${label(p.channel || 'chat')} ended by ${p.by || 'someone'}`;
    default: return label(ev.kind);
  }
}

/** Groups timeline events by contact; events without a contact (notes, merges) stand alone. Newest first. */
export function groupTimeline(events) {
  const groups = [];
  const byContact = new Map();
  for (const ev of events) {
    if (ev.contact === null || ev.contact === undefined) {
      groups.push({ contact: null, channel: null, at: ev.at, events: [ev] });
      continue;
    }
    let g = byContact.get(ev.contact);
    if (!g) {
      g = { contact: ev.contact, channel: ev.channel || null, at: ev.at, events: [] };
      byContact.set(ev.contact, g);
      groups.push(g);
    }
    g.events.push(ev);
    if (!g.channel && ev.channel) g.channel = ev.channel;
  }
  return groups.sort((a, b) => b.at - a.at);
}

/** How much of a past contact's first customer message its summary line quotes. */
const QUOTE = 80;

/**
 * One contact's events for the history: the contact on screen (`current`)
 * without its messages, which the conversation shows; an earlier one with
 * its messages folded into one line (how many, and how the customer began).
 */
export function historyEvents(group, current) {
  const messages = group.events.filter((ev) => ev.kind === 'message');
  const rest = group.events.filter((ev) => ev.kind !== 'message');
  if (!messages.length || group.contact === current) return rest;
  const opening = messages.find((ev) => ev.payload?.from === 'customer' && ev.payload.text)?.payload.text || '';
  const first = opening.length > QUOTE ? `${opening.slice(0, QUOTE - 1)}…` : opening;
  const summary = { kind: 'messages', at: messages[0].at, contact: group.contact, payload: { count: messages.length, first } };
  return [...rest, summary].sort((a, b) => a.at - b.at);
}

export class CustomerPanel {
  /** `names`: {agent(id), queue(id)}. */
  constructor(names) {
    this.names = names;
    this.el = h('div', { class: 'customer-panel', dataset: { testid: 'customer-panel' } }, h('p', { class: 'empty' }, 'The customer of the selected contact shows here.'));
    this.current = null;
    this.seq = 0;
  }

  clear() {
    this.current = null;
    replace(this.el, h('p', { class: 'empty' }, 'The customer of the selected contact shows here.'));
  }

  /** Shows the customer of contact `rec` (a contact record). */
  async show(rec) {
    const key = `${rec.id}:${rec.customer}`;
    if (this.current === key) return;
    this.current = key;
    const seq = ++this.seq;
    if (!rec.customer) {
      replace(this.el, h('h2', null, 'Unknown customer'), verificationBadge(verification(rec, [])), this.contactAttrs(rec));
      return;
    }
    replace(this.el, h('p', { class: 'muted' }, 'Loading the customer…'));
    try {
      const [customer, timeline, past] = await Promise.all([
        get(`customers/${rec.customer}`),
        get(`customers/${rec.customer}/timeline`),
        // Agents see their own past contacts only; it adds dispositions where it can.
        get(`contacts?customer=${rec.customer}&limit=100`).catch(() => ({ contacts: [] })),
      ]);
      if (seq !== this.seq) return;
      this.render(rec, customer, timeline.events || [], past.contacts || []);
    } catch (err) {
      if (seq !== this.seq) return;
      replace(this.el, h('p', { class: 'notice error' }, `Could not load the customer: ${err.message}`));
    }
  }

  /** Reloads after a note or a new contact event. */
  refresh(rec) {
    this.current = null;
    return this.show(rec);
  }

  contactAttrs(rec) {
    if (!Object.keys(rec.attributes || {}).length) return null;
    return [
      h('h3', null, 'This contact'),
      h('dl', { class: 'attrs', dataset: { testid: 'contact-attributes' } }, attrRows(rec.attributes)),
    ];
  }

  render(rec, customer, events, past) {
    const records = new Map(past.map((c) => [c.id, c]));
    const identities = customer.identities || [];
    replace(
      this.el,
      h('h2', { dataset: { testid: 'customer-name' } }, customer.name || `Customer #${customer.id}`),
      verificationBadge(verification(rec, events)),
      h('ul', { class: 'attrs', style: { listStyle: 'none', padding: 0, display: 'block' }, dataset: { testid: 'customer-identities' } },
        identities.map((i) => h('li', null, h('span', { class: 'muted' }, `${KIND_LABEL[i.kind] || i.kind}: `), i.value))),
      customer.tags && customer.tags.length ? h('div', { class: 'tags', 'aria-label': 'Tags' }, customer.tags.map((t) => h('span', { class: 'tag' }, t))) : null,
      Object.keys(customer.attributes || {}).length ? h('dl', { class: 'attrs', dataset: { testid: 'customer-attributes' } }, attrRows(customer.attributes)) : null,
      this.contactAttrs(rec),
      this.noteForm(rec),
      h('h3', null, `History (${plural(new Set(events.map((e) => e.contact).filter((c) => c != null)).size, 'contact')})`),
      this.timeline(rec, events, records),
    );
  }

  noteForm(rec) {
    const text = h('textarea', { rows: 2, placeholder: 'A note on this customer, for everyone' });
    const message = notice('note-error');
    const form = h('form', { 'aria-label': 'Add a note' }, field({ label: 'Note', name: 'text', input: text, testid: 'note-input' }), message, h('div', { class: 'actions' }, h('button', { type: 'submit', dataset: { testid: 'note-submit' } }, 'Add note')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      busy(form, async () => {
        try {
          await post(`customers/${rec.customer}/notes`, { text: text.value.trim() });
          await this.refresh(rec);
        } catch (err) {
          showError(form, err, message);
        }
      });
    });
    return form;
  }

  /**
   * The player of a `recording` event, on the latest recording of a contact
   * this user may play: the server serves a contact's recording to its agent
   * and to supervisors, and `records` holds just the contacts this user may read.
   */
  player(ev, r) {
    if (ev.kind !== 'recording' || !r) return null;
    return recordingPlayer(ev.contact, { voicemail: Boolean(ev.payload?.voicemail), version: String(ev.id ?? '') });
  }

  timeline(rec, events, records) {
    const groups = groupTimeline(events);
    if (!groups.length) return h('p', { class: 'muted', dataset: { testid: 'timeline' } }, 'No earlier contacts.');
    return h(
      'ol',
      { class: 'timeline', dataset: { testid: 'timeline' } },
      groups.map((g) => {
        const r = g.contact != null ? records.get(g.contact) : null;
        const head = g.contact != null
          ? h('div', { class: 'contact-head' }, h('span', { class: 'badge channel' }, g.channel || r?.channel || 'contact'), `#${g.contact}`, h('span', { class: 'muted' }, dateTime(g.at)), g.contact === rec.id ? h('span', { class: 'badge connected' }, 'now') : null, r?.disposition ? h('span', { class: 'tag' }, r.disposition) : null)
          : null;
        return h(
          'li',
          { class: g.contact === rec.id ? 'current' : null, dataset: { testid: 'timeline-entry', contact: String(g.contact ?? '') } },
          head,
          r?.notes ? h('div', { class: 'muted' }, `Notes: ${r.notes}`) : null,
          h('ul', null, historyEvents(g, rec.id).map((ev) => h('li', null, h('time', null, clock(ev.at)), h('span', null, describe(ev, this.names)), this.player(ev, r)))),
        );
      }),
    );
  }
}
