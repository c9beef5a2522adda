// The workspace: its name and the time zone its day is counted in (the
// wallboard's "today" starts at that midnight), and how long call
// recordings and voicemails are kept.

import { get, put } from '../api.js';
import { h, notice, options, replace } from '../dom.js';
import { busy, clearErrors, field, showError } from '../forms.js';
import { numberInput } from './common.js';
import { dailySummaryForm } from './rules.js';

/** Time zone names the browser knows, with `current` among them. */
export function zoneNames(current) {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const names = new Set(['UTC', ...known, current].filter(Boolean));
  return [...names].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}

/** A form of `fields` whose Save button runs `save`, saying "Saved." or what was wrong; test ids start with `name`. */
function savingForm(name, fields, save) {
  const message = notice(`${name}-message`);
  const form = h('form', { class: 'panel', style: { padding: '1em 1.2em' }, novalidate: true },
    fields,
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: `${name}-save` } }, 'Save')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      try {
        await save();
        message.show('Saved.', 'ok');
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  return form;
}

/**
 * A section titled `title` (a `tag` heading) saying "Loading…" until `fill`
 * resolves to its contents, or why they could not be loaded.
 */
function loadingSection(tag, title, testid, fill) {
  const box = h('div', { dataset: { testid } }, h(tag, null, title), h('p', { class: 'muted' }, 'Loading…'));
  fill().then(
    (parts) => replace(box, h(tag, null, title), ...parts),
    (err) => replace(box, h(tag, null, title), h('p', { class: 'notice error' }, `Could not load: ${err.message}`)),
  );
  return box;
}

export function workspaceTab() {
  return loadingSection('h1', 'Workspace', 'workspace-settings', workspaceForm);
}

async function workspaceForm() {
  const ws = await get('workspace');
  const name = h('input', { type: 'text', value: ws.name });
  const zone = h('select', null, options(zoneNames(ws.time_zone).map((z) => [z, z]), ws.time_zone));
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const form = savingForm('workspace', [
    field({ label: 'Name', name: 'name', input: name, testid: 'workspace-name' }),
    field({ label: 'Time zone', name: 'time_zone', input: zone, testid: 'workspace-zone', hint: `Today’s figures start at midnight here. This browser is in ${browserZone}.` }),
  ], () => put('workspace', { name: name.value.trim(), time_zone: zone.value }));
  return [form, dailySummaryForm(), loadingSection('h2', 'Call recordings', 'recording-retention', retentionForm)];
}

/** `GET/PUT /recordings/settings`: days recordings are kept, empty for ever. */
async function retentionForm() {
  const s = await get('recordings/settings');
  const days = numberInput(s.retention_days, { min: 1, max: 3650, step: 1, placeholder: 'keep for ever' });
  const form = savingForm('retention', [
    field({ label: 'Keep recordings and voicemails for (days)', name: 'retention_days', input: days, testid: 'retention-days', hint: '1 to 3650; empty keeps them for ever. Older ones are deleted hourly, each deletion audited.' }),
  ], () => put('recordings/settings', { retention_days: days.read() }));
  return [form];
}
