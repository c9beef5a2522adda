// API tokens for integrations: listed (never the token itself), created
// with an optional expiry and shown once, renamed and revoked.

import { del, get, listOf, post, put } from '../api.js';
import { dateTime, h, notice, replace } from '../dom.js';
import { busy, field, showError } from '../forms.js';

const when = (ms) => (ms == null ? '—' : dateTime(ms));

export function tokensSection() {
  const list = h('tbody', { dataset: { testid: 'tokens-list' } });
  const message = notice('tokens-message');
  const shown = h('div', { dataset: { testid: 'token-shown' } });

  async function draw() {
    try {
      const tokens = listOf(await get('tokens'), 'tokens');
      replace(list, tokens.length ? tokens.map(row) : h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'No API tokens.')));
    } catch (err) {
      message.show(`Could not load the tokens: ${err.message}`);
    }
  }

  function row(t) {
    const name = h('input', { type: 'text', value: t.name, 'aria-label': 'Token name', dataset: { testid: 'token-name' } });
    const rename = h('button', { type: 'button', dataset: { testid: 'token-rename' } }, 'Rename');
    const revoke = h('button', { type: 'button', class: 'danger', dataset: { testid: 'token-revoke' } }, 'Revoke');
    rename.addEventListener('click', () => act(() => put(`tokens/${t.id}`, { name: name.value.trim() }), `Renamed to ${name.value.trim()}.`));
    revoke.addEventListener('click', () => {
      if (confirm(`Revoke the token ${t.name}? Integrations using it stop working at once.`)) act(() => del(`tokens/${t.id}`), `Revoked ${t.name}.`);
    });
    return h('tr', { dataset: { testid: 'token-row', id: t.id } },
      h('td', null, name), h('td', null, when(t.created_at)), h('td', null, t.expires_at == null ? 'never' : when(t.expires_at)),
      h('td', null, when(t.last_used_at)), h('td', { class: 'row' }, rename, revoke));
  }

  async function act(call, done) {
    try {
      await call();
      message.show(done, 'ok');
    } catch (err) {
      message.show(err.message);
    }
    await draw();
  }

  const name = h('input', { type: 'text', placeholder: 'e.g. CRM sync' });
  const days = h('input', { type: 'number', min: 1, max: 3650, step: 1, placeholder: 'never', style: { width: '7em' } });
  const form = h('form', { novalidate: true, dataset: { testid: 'token-form' } },
    h('div', { class: 'row' },
      field({ label: 'Name', name: 'name', input: name, testid: 'token-new-name' }),
      field({ label: 'Expires in (days)', name: 'expires_in_days', input: days, hint: 'empty: never', testid: 'token-days' }),
      h('button', { type: 'submit', class: 'primary', dataset: { testid: 'token-create' } }, 'Create token')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, async () => {
      try {
        const body = { name: name.value.trim() };
        if (days.value) body.expires_in_days = Number(days.value);
        const t = await post('tokens', body);
        replace(shown, h('p', { class: 'notice ok' }, `Token ${t.name}: `, h('code', null, t.token), ' — shown once; store it now.'));
        name.value = '';
        days.value = '';
        await draw();
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  draw();
  return h('section', { class: 'panel', style: { padding: '1em 1.2em', marginTop: '1.2em' }, dataset: { testid: 'tokens' } },
    h('h2', null, 'API tokens'),
    h('p', { class: 'muted' }, 'A token acts as the admin who created it. Revoking one ends its access at once.'),
    message, shown,
    h('table', { class: 'data' }, h('thead', null, h('tr', null, ['Name', 'Created', 'Expires', 'Last used', ''].map((c) => h('th', null, c)))), list),
    form);
}
