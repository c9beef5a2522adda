// The workspace: its name and the time zone its day is counted in (the
// wallboard's "today" starts at that midnight).

import { get, put } from '../api.js';
import { h, notice, options, replace } from '../dom.js';
import { busy, clearErrors, field, showError } from '../forms.js';
import { dailySummaryForm } from './rules.js';

/** Time zone names the browser knows, with `current` among them. */
export function zoneNames(current) {
  const known = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const names = new Set(['UTC', ...known, current].filter(Boolean));
  return [...names].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}

export function workspaceTab() {
  const box = h('div', { dataset: { testid: 'workspace-settings' } }, h('h1', null, 'Workspace'), h('p', { class: 'muted' }, 'Loading…'));
  load(box);
  return box;
}

async function load(box) {
  let ws;
  try {
    ws = await get('workspace');
  } catch (err) {
    replace(box, h('h1', null, 'Workspace'), h('p', { class: 'notice error' }, `Could not load the workspace: ${err.message}`));
    return;
  }
  const name = h('input', { type: 'text', value: ws.name });
  const zone = h('select', null, options(zoneNames(ws.time_zone).map((z) => [z, z]), ws.time_zone));
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const message = notice('workspace-message');
  const form = h('form', { class: 'panel', style: { padding: '1em 1.2em' }, novalidate: true },
    field({ label: 'Name', name: 'name', input: name, testid: 'workspace-name' }),
    field({ label: 'Time zone', name: 'time_zone', input: zone, testid: 'workspace-zone', hint: `Today’s figures start at midnight here. This browser is in ${browserZone}.` }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'workspace-save' } }, 'Save')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      try {
        await put('workspace', { name: name.value.trim(), time_zone: zone.value });
        message.show('Saved.', 'ok');
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  replace(box, h('h1', null, 'Workspace'), form, dailySummaryForm());
}
