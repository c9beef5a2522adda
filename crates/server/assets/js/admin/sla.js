// SLA policies: named first-response, next-response and resolution targets
// that an automation rule (“Apply SLA policy”) puts a conversation under
// instead of its queue's. The API takes seconds; admins write a number and
// a unit.

import { del, get, listOf, post, put } from '../api.js';
import { h } from '../dom.js';
import { checkbox, field } from '../forms.js';
import { ListEditor, editorForm, numberInput } from './common.js';

const UNITS = [['minutes', 60], ['hours', 3600], ['days', 86400]];

/** A number of seconds as an amount of the largest unit it is a whole number of. */
function split(seconds) {
  const [name, size] = [...UNITS].reverse().find(([, size]) => seconds % size === 0) || UNITS[0];
  return [seconds / size, name];
}

/** A duration input (amount and unit) reading as seconds, or null when empty. */
function durationInput(seconds, testid) {
  const [amount, unit] = seconds ? split(seconds) : [null, 'minutes'];
  const number = numberInput(amount, { min: 0, 'aria-label': 'Amount', dataset: { testid } });
  const select = h('select', { 'aria-label': 'Unit', dataset: { testid: `${testid}-unit` } }, UNITS.map(([name]) => h('option', { value: name, selected: name === unit }, name)));
  const el = h('div', { class: 'row' }, number, select);
  el.read = () => {
    const n = number.read();
    return n === null ? null : n * UNITS.find(([name]) => name === select.value)[1];
  };
  return el;
}

/** “First response 1 hours · resolution 2 days”, for the list. */
function summary(p) {
  const parts = [['first', p.first_response_seconds], ['next', p.next_response_seconds], ['resolution', p.resolution_seconds]]
    .filter(([, s]) => s)
    .map(([what, s]) => `${what} ${split(s).join(' ')}`);
  return parts.join(' · ');
}

export function slaTab() {
  const editor = new ListEditor({
    title: 'SLA policies',
    noun: 'SLA policy',
    testid: 'sla',
    intro: h('p', { class: 'muted' }, 'Targets for conversations the customer answers later (email, SMS, messaging). An automation rule applies a policy (“Apply SLA policy”) when its conditions hold; other conversations keep their queue’s targets.'),
    load: async () => listOf(await get('sla-policies'), 'sla_policies'),
    label: (p) => p.name,
    sub: summary,
    form(item, ctx) {
      const name = h('input', { type: 'text', value: item?.name || '' });
      const description = h('textarea', { rows: 2 });
      description.value = item?.description || '';
      const targets = {
        first_response_seconds: durationInput(item?.first_response_seconds, 'sla-first'),
        next_response_seconds: durationInput(item?.next_response_seconds, 'sla-next'),
        resolution_seconds: durationInput(item?.resolution_seconds, 'sla-resolution'),
        warning_seconds: durationInput(item?.warning_seconds, 'sla-warning'),
      };
      const hours = checkbox({ label: 'Count only in the queue’s business hours', name: 'business_hours_only', checked: !!item?.business_hours_only, testid: 'sla-business-hours' });
      return editorForm({
        title: item ? `Edit ${item.name}` : 'New SLA policy',
        testid: 'sla',
        ctx,
        fields: [
          field({ label: 'Name', name: 'name', input: name, testid: 'sla-name' }),
          field({ label: 'Description', name: 'description', input: description }),
          field({ label: 'First response', name: 'first_response_seconds', input: targets.first_response_seconds, hint: 'From the customer’s first message to an agent’s reply' }),
          field({ label: 'Next response', name: 'next_response_seconds', input: targets.next_response_seconds, hint: 'From each later customer message to the next reply' }),
          field({ label: 'Resolution', name: 'resolution_seconds', input: targets.resolution_seconds, hint: 'From the conversation’s opening to its end' }),
          field({ label: 'Warn before', name: 'warning_seconds', input: targets.warning_seconds, hint: 'At risk this long before a target passes (empty: no warning)' }),
          hours,
        ],
        save() {
          const body = { name: name.value.trim(), description: description.value.trim(), business_hours_only: hours.querySelector('input').checked };
          for (const [key, input] of Object.entries(targets)) {
            const v = input.read();
            if (v !== null) body[key] = v;
          }
          return item ? put(`sla-policies/${item.id}`, body) : post('sla-policies', body);
        },
        remove: item ? () => del(`sla-policies/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}
