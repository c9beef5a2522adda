// Endpoints: the ways in to the workspace (a chat widget, a number, a
// mailbox, a messaging account). Credentials are write-only: the server
// says which are set, never their values, so their inputs start empty and
// only what is typed is sent.

import { del, get, listOf, post, put } from '../api.js';
import { h, options } from '../dom.js';
import { checkbox, field } from '../forms.js';
import { ListEditor, editorForm, rowList } from './common.js';

const CHANNELS = ['chat', 'voice', 'email', 'sms', 'whatsapp', 'telegram', 'messenger', 'api'];

/** A moment as the admin's browser writes dates and times. */
const when = (ms) => new Date(ms).toLocaleString();

/**
 * How the endpoint's link to its provider is doing (an IMAP mailbox), in
 * a few words; null when its channel keeps no connection.
 */
function healthLine(health) {
  if (!health) return null;
  if (health.failing_since != null) {
    return `failing since ${when(health.failing_since)}${health.alerted ? ' (alerted)' : ''}: ${health.last_error || 'unknown error'}`;
  }
  return health.last_success != null ? `working, last checked ${when(health.last_success)}` : 'not checked yet';
}

/** `[id, name]` pairs with a leading "none". */
const choices = (items, none) => [['', none], ...items.map((x) => [x.id, x.name])];
const idOf = (select) => (select.value === '' ? null : Number(select.value));

export function endpointsTab() {
  let queues = [];
  let flows = [];
  let hours = [];
  const editor = new ListEditor({
    title: 'Endpoints',
    noun: 'endpoint',
    testid: 'endpoints',
    intro: h('p', { class: 'muted' }, 'Every way in: a chat widget, a phone number, a mailbox, a messaging account. Its contacts go to a flow, a queue, or the flow then the queue. Credentials are stored sealed and never shown again; leave one empty to keep it.'),
    load: async () => {
      const [e, q, f, b] = await Promise.all([get('endpoints'), get('queues'), get('flows').catch(() => null), get('business-hours').catch(() => null)]);
      queues = listOf(q, 'queues');
      flows = f ? listOf(f, 'flows') : [];
      hours = b ? listOf(b, 'business_hours') : [];
      return listOf(e, 'endpoints');
    },
    label: (e) => e.name,
    sub: (e) => {
      const health = healthLine(e.health);
      return `${e.channel}${e.address ? ` · ${e.address}` : ''}${e.enabled ? '' : ' · disabled'}${health ? ` · ${health}` : ''}`;
    },
    form(item, ctx) {
      const channel = h('select', { disabled: !!item }, options(CHANNELS.map((c) => [c, c]), item?.channel || 'chat'));
      const name = h('input', { type: 'text', value: item?.name || '' });
      const address = h('input', { type: 'text', value: item?.address || '', placeholder: 'e.g. +15551234567, support@example.com' });
      const queue = h('select', null, options(choices(queues, '— none —'), item?.queue ?? ''));
      const flow = h('select', null, options(choices(flows, '— none —'), item?.flow ?? ''));
      const open = h('select', null, options(choices(hours, '— always open —'), item?.business_hours ?? ''));
      const enabled = checkbox({ label: 'Enabled', name: 'enabled', checked: item ? item.enabled : true, testid: 'endpoint-enabled' });
      // An email endpoint's signature has a field of its own, out of the JSON.
      const { signature: signed, ...rest } = item?.settings || {};
      const settings = h('textarea', { rows: 4, spellcheck: false }, JSON.stringify(rest, null, 2));
      const signature = h('textarea', { rows: 3, placeholder: 'e.g. The Support team\nExample Ltd · example.com' }, typeof signed === 'string' ? signed : '');
      const signatureField = field({ label: 'Signature', name: 'signature', input: signature, testid: 'endpoint-signature', hint: 'Put under agents’ email replies (they can edit it in the reply).' });
      const showSignature = () => (signatureField.hidden = channel.value !== 'email');
      channel.addEventListener('change', showSignature);
      showSignature();
      // Each credential already set is a row with an empty password input:
      // typing replaces it, removing the row removes it, leaving it keeps it.
      const secrets = rowList({
        legend: 'Credentials',
        name: 'secrets',
        addLabel: 'Add credential',
        testid: 'endpoint-secrets',
        values: Object.keys(item?.secrets || {}).map((key) => ({ key, set: true })),
        blank: () => ({ key: '', set: false }),
        row(v) {
          const key = h('input', { type: 'text', value: v.key, placeholder: 'e.g. auth_token', 'aria-label': 'Key', readonly: v.set });
          const value = h('input', { type: 'password', autocomplete: 'new-password', placeholder: v.set ? 'set — type to replace' : 'value', 'aria-label': 'Value' });
          return {
            el: h('div', { class: 'row grow' }, key, value),
            read: () => ({ key: key.value.trim(), value: value.value, set: v.set }),
          };
        },
      });
      const known = Object.keys(item?.secrets || {});
      const health = healthLine(item?.health);
      const status = health
        ? h('p', { class: item.health.failing_since != null ? 'notice error' : 'muted', dataset: { testid: 'endpoint-health' } }, `Connection: ${health}`)
        : null;
      return editorForm({
        title: item ? `Edit ${item.name}` : 'New endpoint',
        testid: 'endpoint',
        ctx,
        fields: [
          status,
          field({ label: 'Channel', name: 'channel', input: channel, testid: 'endpoint-channel', hint: item ? 'A channel cannot change.' : null }),
          field({ label: 'Name', name: 'name', input: name, testid: 'endpoint-name' }),
          field({ label: 'Address', name: 'address', input: address, testid: 'endpoint-address', hint: 'Its identifier on the channel; left empty, a chat endpoint gets a widget key.' }),
          field({ label: 'Flow', name: 'flow', input: flow, testid: 'endpoint-flow' }),
          field({ label: 'Queue', name: 'queue', input: queue, testid: 'endpoint-queue' }),
          field({ label: 'Business hours', name: 'business_hours', input: open, testid: 'endpoint-hours' }),
          enabled,
          signatureField,
          field({ label: 'Settings (JSON)', name: 'settings', input: settings, testid: 'endpoint-settings', hint: 'Keys named like a token, secret, password or key are taken as credentials. A voice number\'s trunk: trunk_host, trunk_port, trunk_username, trunk_password, allowed_sources (CIDR list), caller_id, number_format (docs/VOICE.md).' }),
          secrets.el,
        ],
        save() {
          let parsed;
          try {
            parsed = JSON.parse(settings.value.trim() || '{}');
          } catch (e) {
            throw { field: 'settings', message: `not JSON: ${e.message}` };
          }
          if (channel.value === 'email' && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
            if (signature.value.trim()) parsed.signature = signature.value.trim();
            else delete parsed.signature;
          }
          const rows = secrets.read();
          const given = {};
          for (const r of rows) {
            if (r.key && r.value !== '') given[r.key] = r.value;
          }
          for (const k of known) {
            if (!rows.some((r) => r.key === k)) given[k] = null;
          }
          const body = {
            name: name.value.trim(),
            queue: idOf(queue),
            flow: idOf(flow),
            business_hours: idOf(open),
            enabled: enabled.querySelector('input').checked,
            settings: parsed,
            secrets: given,
          };
          if (address.value.trim()) body.address = address.value.trim();
          if (!item) body.channel = channel.value;
          return item ? put(`endpoints/${item.id}`, body) : post('endpoints', body);
        },
        remove: item ? () => del(`endpoints/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}
