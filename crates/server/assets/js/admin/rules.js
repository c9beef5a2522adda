// Automation rules: on an event of a contact, conditions, then ordered
// actions (docs/RULES.md). The list is in firing order, moved with the
// arrows; a rule — saved or being edited — can be tried on a past contact.

import { del, get, listOf, post, put } from '../api.js';
import { h, notice, options, replace } from '../dom.js';
import { busy, checkbox, field, showError } from '../forms.js';
import { ListEditor, editorForm, rowList } from './common.js';

const EVENTS = [
  ['contact_created', 'Contact created'],
  ['message_received', 'Message received'],
  ['contact_ended', 'Contact ended'],
  ['csat_received', 'CSAT received'],
  ['sla_breached', 'SLA breached (a target passed)'],
  ['sla_warning', 'SLA about to breach (the warning time is left)'],
];
const OPS = ['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'greater_than', 'less_than', 'in', 'not_in', 'present', 'absent'];
const ACTIONS = [
  ['set_priority', 'Set priority', 'priority', 'number'],
  ['set_attribute', 'Set attribute', 'name', 'value'],
  ['add_tag', 'Add tag', 'tag'],
  ['transfer', 'Transfer to queue', 'queue', 'number'],
  ['reply', 'Send canned reply', 'canned'],
  ['webhook', 'Call webhook', 'webhook', 'number'],
  ['notify_supervisors', 'Notify supervisors', 'message'],
  ['apply_sla_policy', 'Apply SLA policy', 'policy', 'number'],
];

/** A condition's or action's value as typed: JSON when it reads as JSON (12, true, ["a","b"]), else text. */
export function readValue(text) {
  const t = text.trim();
  if (t === '') return null;
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

function showValue(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** "would fire: set_priority 5, add_tag vip" — what a dry run says in one line. */
export function verdict(run) {
  const acts = run.actions.map((a) => [a.type, ...Object.entries(a).filter(([k]) => k !== 'type').map(([, v]) => showValue(v))].join(' '));
  if (run.would_fire) return `would fire: ${acts.join(', ')}`;
  if (!run.event_matches) return `would not fire: the rule is for another event than ${run.event}`;
  const failed = run.conditions.map((c, i) => (c.holds ? null : `${i + 1} (${c.field} ${c.op} ${showValue(c.value)})`)).filter(Boolean);
  return `would not fire: condition ${failed.join(', ')} does not hold`;
}

function conditionRow(c) {
  const fieldName = h('input', { type: 'text', value: c.field, placeholder: 'channel, text, subject, tags, attribute.tier, customer.vip…', 'aria-label': 'Field' });
  const op = h('select', { 'aria-label': 'Operator' }, options(OPS.map((o) => [o, o.replace('_', ' ')]), c.op));
  const value = h('input', { type: 'text', value: showValue(c.value), placeholder: 'value', 'aria-label': 'Value' });
  return { el: h('span', { class: 'row' }, fieldName, op, value), read: () => ({ field: fieldName.value.trim(), op: op.value, value: readValue(value.value) }) };
}

function actionRow(a) {
  const type = h('select', { 'aria-label': 'Action' }, options(ACTIONS.map(([t, label]) => [t, label]), a.type));
  const first = h('input', { type: 'text', 'aria-label': 'Argument' });
  const second = h('input', { type: 'text', 'aria-label': 'Value' });
  const spec = () => ACTIONS.find(([t]) => t === type.value);
  const draw = () => {
    const [, , key, kind] = spec();
    first.placeholder = key;
    second.hidden = kind !== 'value';
    first.value = showValue(a.type === type.value ? a[key] : '');
    second.value = a.type === type.value ? showValue(a.value) : '';
  };
  type.addEventListener('change', draw);
  draw();
  const read = () => {
    const [t, , key, kind] = spec();
    const out = { type: t };
    if (kind === 'number') out[key] = Number(first.value);
    else out[key] = first.value.trim();
    if (kind === 'value') out.value = readValue(second.value);
    return out;
  };
  return { el: h('span', { class: 'row' }, type, first, second), read };
}

export function rulesTab() {
  let editor;
  const move = async (rule, by) => {
    const ids = editor.items.map((r) => r.id);
    const i = ids.indexOf(rule.id);
    const j = i + by;
    if (i < 0 || j < 0 || j >= ids.length) return;
    [ids[i], ids[j]] = [ids[j], ids[i]];
    await put('rules/order', { ids });
    await editor.reload(rule.id);
  };
  editor = new ListEditor({
    title: 'Automation rules',
    noun: 'rule',
    testid: 'rules',
    intro: h('p', { class: 'muted' }, 'On an event of a contact, when the conditions hold, the actions run in order. Rules run top to bottom, each seeing what the ones above did. Every firing is logged as a rule_fired event.'),
    load: async () => listOf(await get('rules'), 'rules'),
    label: (r) => r.name,
    sub: (r) => `${EVENTS.find(([e]) => e === r.event)?.[1] || r.event}${r.enabled ? '' : ' · disabled'}`,
    form(item, ctx) {
      const r = item || { name: '', enabled: true, event: 'contact_created', match: 'all', conditions: [], actions: [{ type: 'add_tag', tag: '' }] };
      const name = h('input', { type: 'text', value: r.name });
      const enabled = checkbox({ label: 'Enabled', name: 'enabled', checked: r.enabled, testid: 'rule-enabled' });
      const event = h('select', null, options(EVENTS, r.event));
      const match = h('select', null, options([['all', 'all conditions hold'], ['any', 'any condition holds']], r.match));
      const conditions = rowList({ legend: 'Conditions', name: 'conditions', values: r.conditions, row: conditionRow, blank: () => ({ field: 'text', op: 'contains', value: '' }), addLabel: 'Add condition', testid: 'rule-conditions' });
      const actions = rowList({ legend: 'Actions, in order', name: 'actions', values: r.actions, row: actionRow, blank: () => ({ type: 'add_tag', tag: '' }), addLabel: 'Add action', testid: 'rule-actions' });
      const body = () => ({
        name: name.value.trim(),
        enabled: enabled.querySelector('input').checked,
        event: event.value,
        match: match.value,
        conditions: conditions.read(),
        actions: actions.read(),
      });
      const contact = h('input', { type: 'number', min: '1', placeholder: 'contact id' });
      const outcome = notice('rule-dry-run');
      const tryIt = h('button', { type: 'button', dataset: { testid: 'rule-dry-run-button' } }, 'Dry run');
      tryIt.addEventListener('click', () => busy(tryIt.closest('form'), async () => {
        try {
          const run = await post('rules/dry-run', { rule: body(), contact: Number(contact.value) });
          outcome.show(verdict(run), run.would_fire ? 'ok' : 'info');
        } catch (err) {
          showError(tryIt.closest('form'), err, outcome);
        }
      }));
      const order = item
        ? h('div', { class: 'row' },
            h('button', { type: 'button', class: 'small', dataset: { testid: 'rule-up' }, onclick: () => move(item, -1) }, '↑ Fire earlier'),
            h('button', { type: 'button', class: 'small', dataset: { testid: 'rule-down' }, onclick: () => move(item, 1) }, '↓ Fire later'))
        : null;
      return editorForm({
        title: item ? 'Edit rule' : 'New rule',
        testid: 'rule',
        ctx,
        fields: [
          field({ label: 'Name', name: 'name', input: name, testid: 'rule-name' }),
          enabled,
          field({ label: 'When', name: 'event', input: event, testid: 'rule-event' }),
          field({ label: 'Fire when', name: 'match', input: match }),
          conditions.el,
          actions.el,
          order,
          h('fieldset', { dataset: { field: 'contact' } }, h('legend', null, 'Try it on a past contact'), h('div', { class: 'row' }, contact, tryIt), outcome),
        ],
        save: () => (item ? put(`rules/${item.id}`, body()) : post('rules', body())),
        remove: item ? () => del(`rules/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}

/** The daily summary settings, shown in the workspace tab. */
export function dailySummaryForm() {
  const box = h('div', { dataset: { testid: 'daily-summary' } }, h('h2', null, 'Daily summary'), h('p', { class: 'muted' }, 'Loading…'));
  loadSummary(box);
  return box;
}

async function loadSummary(box) {
  let s, hooks, endpoints;
  try {
    [s, hooks, endpoints] = await Promise.all([get('workspace/daily-summary'), get('webhooks'), get('endpoints')]);
  } catch (err) {
    replace(box, h('h2', null, 'Daily summary'), h('p', { class: 'notice error' }, `Could not load: ${err.message}`));
    return;
  }
  const enabled = checkbox({ label: 'Send every day', name: 'enabled', checked: s.enabled, testid: 'summary-enabled' });
  const at = h('input', { type: 'time', value: s.at });
  const webhook = h('select', null, options([['', 'none'], ...listOf(hooks, 'webhooks').map((w) => [w.id, w.url])], s.webhook ?? ''));
  const mailboxes = listOf(endpoints, 'endpoints').filter((e) => e.channel === 'email');
  const endpoint = h('select', null, options([['', 'none'], ...mailboxes.map((e) => [e.id, e.address || e.name])], s.email?.endpoint ?? ''));
  const to = h('input', { type: 'text', value: (s.email?.to || []).join(', '), placeholder: 'lead@example.com, ops@example.com' });
  const message = notice('summary-message');
  const form = h('form', { class: 'panel', style: { padding: '1em 1.2em' }, novalidate: true },
    h('p', { class: 'muted' }, 'Yesterday’s offered, handled, abandoned, service level, ASA, AHT and CSAT per queue, at this local time.'),
    enabled,
    field({ label: 'At', name: 'at', input: at, testid: 'summary-at' }),
    field({ label: 'Webhook', name: 'webhook', input: webhook, testid: 'summary-webhook' }),
    field({ label: 'Email through', name: 'email.endpoint', input: endpoint, testid: 'summary-endpoint' }),
    field({ label: 'Email to', name: 'email.to', input: to, testid: 'summary-to' }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'summary-save' } }, 'Save')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, async () => {
      try {
        await put('workspace/daily-summary', {
          enabled: enabled.querySelector('input').checked,
          at: at.value,
          webhook: webhook.value ? Number(webhook.value) : null,
          email: endpoint.value ? { endpoint: Number(endpoint.value), to: to.value.split(/[,\s]+/).filter(Boolean) } : null,
        });
        message.show('Saved.', 'ok');
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  replace(box, h('h2', null, 'Daily summary'), form);
}
