// Queues and the routing policies they use. A queue's settings are kept as
// the server gave them and only the fields on the form are replaced, so a
// setting this page does not show (e.g. an inline calendar) survives a save.

import { get, listOf, post, put } from '../api.js';
import { h, options } from '../dom.js';
import { checkbox, field } from '../forms.js';
import { ListEditor, editorForm, numberInput, rowList } from './common.js';

export const CHANNELS = ['voice', 'email', 'chat', 'sms', 'whatsapp', 'messenger', 'telegram', 'api'];
const ORDERINGS = [
  ['longest_idle', 'Longest idle'],
  ['most_skilled', 'Most skilled'],
  ['least_skilled', 'Least skilled'],
  ['least_occupied', 'Least occupied'],
  ['round_robin', 'Round robin'],
  ['random', 'Random'],
];

/** The keys a queue's voicemail key may be. */
const VOICEMAIL_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

/** `"none"`, `{fixed: N}` or `"until_ended"` as a select plus seconds. */
export function wrapUpInput(value, { inherit = false } = {}) {
  const kind = h('select', { 'aria-label': 'Wrap-up' }, options([...(inherit ? [['inherit', 'As the queue says']] : []), ['none', 'None'], ['fixed', 'Fixed time'], ['until_ended', 'Until the agent ends it']],
    value === undefined || value === null ? (inherit ? 'inherit' : 'none') : typeof value === 'object' ? 'fixed' : value));
  const secs = numberInput(value && typeof value === 'object' ? value.fixed : 30, { min: 0, 'aria-label': 'Wrap-up seconds' });
  const unit = h('span', { class: 'muted' }, 'seconds');
  const sync = () => (secs.hidden = unit.hidden = kind.value !== 'fixed');
  kind.addEventListener('change', sync);
  const el = h('div', { class: 'row' }, kind, secs, unit);
  sync();
  el.read = () => (kind.value === 'fixed' ? { fixed: secs.read() ?? 0 } : kind.value === 'inherit' ? null : kind.value);
  return el;
}

/** `"disconnect"`, `"voicemail"`, `"callback"` or `{queue: ID}`. */
function overflowInput(value, queues, selfId) {
  const targets = queues.filter((q) => q.id !== selfId);
  const kind = h('select', null, options([['disconnect', 'Disconnect'], ['voicemail', 'Voicemail'], ['callback', 'Callback'], ...(targets.length ? [['queue', 'Another queue']] : [])],
    value && typeof value === 'object' ? 'queue' : value || 'disconnect'));
  const queue = h('select', { 'aria-label': 'Overflow queue' }, options(targets.map((q) => [q.id, q.name]), value && value.queue));
  const sync = () => (queue.hidden = kind.value !== 'queue');
  kind.addEventListener('change', sync);
  sync();
  const el = h('div', { class: 'row' }, kind, queue);
  el.read = () => (kind.value === 'queue' ? { queue: Number(queue.value) } : kind.value);
  return el;
}

export function queuesTab() {
  let policies = [];
  let hours = [];
  const editor = new ListEditor({
    title: 'Queues',
    noun: 'queue',
    testid: 'queues',
    async load() {
      const [q, p, b] = await Promise.all([get('queues'), get('policies'), get('business-hours').catch(() => null)]);
      policies = listOf(p, 'policies');
      hours = b ? listOf(b, 'business_hours') : [];
      return listOf(q, 'queues');
    },
    label: (q) => q.name,
    sub: (q) => (q.settings?.channels || []).join(', '),
    form(item, ctx) {
      const st = item ? { ...item.settings } : { channels: ['chat'], sl_seconds: 20, offer_timeout_seconds: 30, decline_cooldown_seconds: 30, wrap_up: 'none', overflow: 'disconnect', after_hours: 'voicemail', sticky_seconds: 0, expected_handle_seconds: 300 };
      const queues = editor.items;
      const name = h('input', { type: 'text', value: item ? item.name : '', required: true });
      const channels = CHANNELS.map((c) => checkbox({ label: c, name: `channel-${c}`, checked: (st.channels || []).includes(c) }));
      const policy = h('select', null, options(policies.map((p) => [p.id, p.name]), st.policy));
      const ordering = h('select', null, options(ORDERINGS, st.ordering || 'longest_idle'));
      const sl = numberInput(st.sl_seconds, { min: 0 });
      const slTarget = numberInput(st.sl_target_percent ?? 80, { min: 1, max: 99.9, step: 0.1 });
      const offer = numberInput(st.offer_timeout_seconds, { min: 5, max: 3600 });
      const cooldown = numberInput(st.decline_cooldown_seconds ?? 30, { min: 0, max: 3600 });
      const maxWait = numberInput(st.max_wait_seconds, { min: 0, placeholder: 'no limit' });
      const maxLength = numberInput(st.max_length, { min: 0, step: 1, placeholder: 'no limit' });
      const sticky = numberInput(st.sticky_seconds, { min: 0 });
      const handle = numberInput(st.expected_handle_seconds, { min: 1 });
      const announce = numberInput(st.announce_every_seconds || 0, { min: 0, max: 3600 });
      // Response targets are set in minutes here, kept in seconds.
      const minutes = (secs) => (secs == null ? null : secs / 60);
      const firstResponse = numberInput(minutes(st.first_response_seconds), { min: 1, placeholder: 'no target' });
      const nextResponse = numberInput(minutes(st.next_response_seconds), { min: 1, placeholder: 'no target' });
      const slaWarning = numberInput(minutes(st.sla_warning_seconds), { min: 1, placeholder: 'no warning' });
      const survey = checkbox({ label: 'Post-call survey: after the agent hangs up, the caller rates the call 1 to 5 by keypad', name: 'post_call_survey', checked: Boolean(st.post_call_survey), testid: 'queue-survey' });
      const voicemailKey = h('select', { dataset: { testid: 'queue-voicemail-key' } }, options([['', 'None'], ...VOICEMAIL_KEYS.map((k) => [k, k])], st.voicemail_key ?? ''));
      const voicemailMax = numberInput(st.voicemail_max_seconds ?? 120, { min: 10, max: 600, step: 1 });
      const callbackKey = h('select', { dataset: { testid: 'queue-callback-key' } }, options([['', 'None'], ...VOICEMAIL_KEYS.filter((k) => k !== '#').map((k) => [k, k])], st.callback_key ?? ''));
      const callbackAttempts = numberInput(st.callback_attempts ?? 3, { min: 1, max: 10, step: 1 });
      const callbackRetry = numberInput(st.callback_retry_seconds ?? 300, { min: 60, max: 86400, step: 1 });
      const record = checkbox({ label: 'Record calls once an agent answers', name: 'record_calls', checked: st.record_calls !== false, testid: 'queue-record' });
      const wrap = wrapUpInput(st.wrap_up);
      const overflow = overflowInput(st.overflow, queues, item?.id);
      const afterHours = overflowInput(st.after_hours, queues, item?.id);
      const calendar = h('select', null, options([['', st.calendar ? 'Its own calendar (set over the API)' : 'Always open'], ...hours.map((b) => [b.id, b.name])], st.business_hours ?? ''));
      return editorForm({
        title: item ? `Edit queue ${item.name}` : 'New queue',
        testid: 'queue',
        ctx,
        fields: [
          field({ label: 'Name', name: 'name', input: name, testid: 'queue-name' }),
          h('fieldset', { dataset: { field: 'channels' } }, h('legend', null, 'Channels'), h('div', { class: 'row' }, channels), h('div', { class: 'field-error', role: 'alert' })),
          h('div', { class: 'row' },
            field({ label: 'Routing policy', name: 'policy', input: policy, hint: policies.length ? null : 'Create a routing policy first (Policies tab).' }),
            field({ label: 'Agent ordering', name: 'ordering', input: ordering })),
          h('div', { class: 'row' },
            field({ label: 'Service-level threshold (s)', name: 'sl_seconds', input: sl, hint: 'answered within this many seconds' }),
            field({ label: 'Service-level target (%)', name: 'sl_target_percent', input: slTarget, testid: 'queue-sl-target', hint: 'this share answered within the threshold: planning staffs for it, the wallboard measures against it' })),
          field({ label: 'Offer timeout (s)', name: 'offer_timeout_seconds', input: offer, hint: '5 to 3600' }),
          field({ label: 'Decline cooldown (s)', name: 'decline_cooldown_seconds', input: cooldown, hint: 'after an agent rejects or misses an offer, how long that contact is not offered to that agent again; 0 offers it again at once' }),
          field({ label: 'Wrap-up', name: 'wrap_up', input: wrap }),
          h('div', { class: 'row' },
            field({ label: 'Max wait (s)', name: 'max_wait_seconds', input: maxWait }),
            field({ label: 'Max length', name: 'max_length', input: maxLength })),
          field({ label: 'When the wait or length limit is hit', name: 'overflow', input: overflow }),
          field({ label: 'Business hours', name: 'business_hours', input: calendar, hint: hours.length ? null : 'Named calendars are made on the Business hours tab.' }),
          field({ label: 'Outside business hours', name: 'after_hours', input: afterHours }),
          h('div', { class: 'row' },
            field({ label: 'Sticky routing (s)', name: 'sticky_seconds', input: sticky, hint: 'offer to the last agent first for this long; 0 = off' }),
            field({ label: 'Expected handle time (s)', name: 'expected_handle_seconds', input: handle, hint: 'for wait estimates until measured' })),
          h('fieldset', null, h('legend', null, 'Response targets (email, SMS, messaging)'),
            h('div', { class: 'row' },
              field({ label: 'First response (min)', name: 'first_response_seconds', input: firstResponse, testid: 'queue-first-response', hint: 'from the customer\'s first message to an agent\'s first reply, in business hours' }),
              field({ label: 'Next response (min)', name: 'next_response_seconds', input: nextResponse, testid: 'queue-next-response', hint: 'from each later customer message to the agent\'s next reply' }),
              field({ label: 'Warn before (min)', name: 'sla_warning_seconds', input: slaWarning, testid: 'queue-sla-warning', hint: 'the conversation is at risk (an sla_warning event, rules, the wallboard) this long before either target passes' }))),
          h('fieldset', null, h('legend', null, 'Callers (voice)'),
            field({ label: 'Announce place in line every (s)', name: 'announce_every_seconds', input: announce, testid: 'queue-announce', hint: 'callers hear their position and expected wait between the hold music; 0 = never, else 10 to 3600' }),
            survey,
            h('div', { class: 'row' },
              field({ label: 'Voicemail key', name: 'voicemail_key', input: voicemailKey, hint: 'a waiting caller presses it to leave a message instead of holding' }),
              field({ label: 'Longest voicemail (s)', name: 'voicemail_max_seconds', input: voicemailMax, hint: '10 to 600; also where the overflow or after-hours action is Voicemail' })),
            h('div', { class: 'row' },
              field({ label: 'Callback key', name: 'callback_key', input: callbackKey, hint: 'a waiting caller presses it to be called back, keeping their place in line (the number\'s trunk calls out)' }),
              field({ label: 'Callback attempts', name: 'callback_attempts', input: callbackAttempts, hint: '1 to 10' }),
              field({ label: 'Retry after (s)', name: 'callback_retry_seconds', input: callbackRetry, hint: 'after a busy, unanswered or failed attempt; 60 to 86400' })),
            record),
        ],
        save() {
          const body = {
            ...st,
            name: name.value.trim(),
            channels: CHANNELS.filter((_, i) => channels[i].querySelector('input').checked),
            policy: Number(policy.value),
            ordering: ordering.value,
            sl_seconds: sl.read() ?? 20,
            sl_target_percent: slTarget.read() ?? 80,
            offer_timeout_seconds: offer.read() ?? 30,
            decline_cooldown_seconds: cooldown.read() ?? 30,
            max_wait_seconds: maxWait.read(),
            max_length: maxLength.read(),
            wrap_up: wrap.read(),
            overflow: overflow.read(),
            after_hours: afterHours.read(),
            sticky_seconds: sticky.read() ?? 0,
            expected_handle_seconds: handle.read() ?? 300,
            announce_every_seconds: announce.read() ?? 0,
            post_call_survey: survey.querySelector('input').checked,
            voicemail_max_seconds: voicemailMax.read() ?? 120,
            record_calls: record.querySelector('input').checked,
          };
          if (voicemailKey.value) body.voicemail_key = voicemailKey.value;
          else delete body.voicemail_key;
          if (callbackKey.value) body.callback_key = callbackKey.value;
          else delete body.callback_key;
          body.callback_attempts = callbackAttempts.read() ?? 3;
          body.callback_retry_seconds = callbackRetry.read() ?? 300;
          for (const [key, input] of [['first_response_seconds', firstResponse], ['next_response_seconds', nextResponse], ['sla_warning_seconds', slaWarning]]) {
            const m = input.read();
            if (m == null) delete body[key];
            else body[key] = m * 60;
          }
          // A named calendar is sent only when chosen, so servers without them still accept the form.
          if (calendar.value) body.business_hours = Number(calendar.value);
          else delete body.business_hours;
          return item ? put(`queues/${item.id}`, body) : post('queues', body);
        },
      });
    },
  });
  editor.reload();
  return editor.el;
}

export function policiesTab() {
  const editor = new ListEditor({
    title: 'Routing policies',
    noun: 'policy',
    testid: 'policies',
    intro: h('p', { class: 'muted' }, 'Steps are tried in order: each names the agents who may take the contact (a skill expression such as billing >= 7 && spanish) and how long to wait before the next, usually wider, step.'),
    load: async () => listOf(await get('policies'), 'policies'),
    label: (p) => p.name,
    sub: (p) => `${p.steps.length} step${p.steps.length === 1 ? '' : 's'}`,
    form(item, ctx) {
      const name = h('input', { type: 'text', value: item ? item.name : '' });
      const steps = rowList({
        legend: 'Steps',
        name: 'steps',
        testid: 'policy-steps',
        addLabel: 'Add step',
        values: item ? item.steps : [{ expr: 'true', wait_seconds: null, skip_if_unstaffed: true }],
        blank: () => ({ expr: '', wait_seconds: null, skip_if_unstaffed: true }),
        row(v) {
          const expr = h('input', { type: 'text', value: v.expr, placeholder: 'billing >= 7', 'aria-label': 'Expression', style: { flex: '2' } });
          const wait = numberInput(v.wait_seconds ?? v.wait ?? null, { min: 0, placeholder: 'last', 'aria-label': 'Wait seconds' });
          const skip = h('input', { type: 'checkbox', checked: v.skip_if_unstaffed !== false, 'aria-label': 'Skip if nobody can take it' });
          return {
            el: h('div', { class: 'row grow' }, expr, h('label', null, 'wait ', wait, ' s'), h('label', null, skip, ' skip if unstaffed')),
            read() {
              const step = { expr: expr.value.trim(), skip_if_unstaffed: skip.checked };
              // No wait: the last step, which holds the contact until someone takes it.
              if (wait.read() !== null) step.wait_seconds = wait.read();
              return step;
            },
          };
        },
      });
      return editorForm({
        title: item ? `Edit policy ${item.name}` : 'New policy',
        testid: 'policy',
        ctx,
        fields: [field({ label: 'Name', name: 'name', input: name }), steps.el],
        save() {
          const body = { name: name.value.trim(), steps: steps.read() };
          return item ? put(`policies/${item.id}`, body) : post('policies', body);
        },
      });
    },
  });
  editor.reload();
  return editor.el;
}
