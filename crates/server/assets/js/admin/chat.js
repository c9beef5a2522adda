// Chat settings: what the widget says, where chats go (queue, bot flow),
// the pre-chat form, and the snippet to paste into a site.

import { get, listOf, put } from '../api.js';
import { h, notice, options, replace } from '../dom.js';
import { busy, checkbox, clearErrors, field, showError } from '../forms.js';
import { rowList } from './common.js';

const KINDS = [['text', 'Text'], ['email', 'Email'], ['tel', 'Phone'], ['textarea', 'Long text']];

export function snippet(origin, key) {
  return `<script src="${origin}/widget.js" data-key="${key}" async></script>`;
}

export function chatTab() {
  const box = h('div', { dataset: { testid: 'chat-settings' } }, h('h1', null, 'Chat settings'), h('p', { class: 'muted' }, 'Loading…'));
  load(box);
  return box;
}

async function load(box) {
  let settings;
  let queues = [];
  let flows = [];
  try {
    const [s, q, f] = await Promise.all([get('chat/settings'), get('queues'), get('flows').catch(() => null)]);
    settings = s;
    queues = listOf(q, 'queues').filter((x) => (x.settings?.channels || []).includes('chat'));
    flows = f ? listOf(f, 'flows') : [];
  } catch (err) {
    replace(box, h('h1', null, 'Chat settings'), h('p', { class: 'notice error' }, `Could not load the chat settings: ${err.message}`));
    return;
  }
  const key = settings.widget_key || '';
  const code = snippet(location.origin, key);
  const copy = h('button', { type: 'button', dataset: { testid: 'copy-snippet' } }, 'Copy');
  const copied = h('span', { class: 'muted', 'aria-live': 'polite' });
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code);
      copied.textContent = 'Copied.';
    } catch {
      // No clipboard permission (plain http): select the text for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents(codeEl);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copied.textContent = 'Selected: press Ctrl+C.';
    }
  });
  const codeEl = h('code', { dataset: { testid: 'widget-snippet' } }, code);

  const title = h('input', { type: 'text', value: settings.title || '' });
  const greeting = h('textarea', { rows: 2 });
  greeting.value = settings.greeting || '';
  const queue = h('select', null, options(queues.map((q) => [q.id, q.name]), settings.queue));
  const flow = h('select', null, options([['', 'No bot: straight to the queue'], ...flows.map((f) => [f.id, f.name])], settings.flow ?? ''));
  const preChat = rowList({
    legend: 'Pre-chat form (asked before the chat starts)',
    name: 'pre_chat',
    testid: 'pre-chat',
    addLabel: 'Add field',
    values: settings.pre_chat || [],
    blank: () => ({ name: '', label: '', kind: 'text', required: false }),
    row(v) {
      const name = h('input', { type: 'text', value: v.name, placeholder: 'name', 'aria-label': 'Field name', style: { width: '9em' } });
      const label = h('input', { type: 'text', value: v.label, placeholder: 'Label shown', 'aria-label': 'Label' });
      const kind = h('select', { 'aria-label': 'Kind' }, options(KINDS, v.kind || 'text'));
      const required = checkbox({ label: 'required', checked: v.required });
      return {
        el: h('div', { class: 'row grow' }, name, label, kind, required),
        read: () => ({ name: name.value.trim(), label: label.value.trim(), kind: kind.value, required: required.querySelector('input').checked }),
      };
    },
  });
  const message = notice('chat-settings-message');
  const form = h('form', { class: 'panel', style: { padding: '1em 1.2em' }, novalidate: true, dataset: { testid: 'chat-settings-form' } },
    field({ label: 'Title', name: 'title', input: title, testid: 'chat-title' }),
    field({ label: 'Greeting', name: 'greeting', input: greeting, testid: 'chat-greeting' }),
    h('div', { class: 'row' },
      field({ label: 'Queue for chats', name: 'queue', input: queue, hint: queues.length ? null : 'No queue serves the chat channel yet.' }),
      field({ label: 'Bot flow', name: 'flow', input: flow })),
    h('p', { class: 'hint' }, 'Fields named name and email fill in the customer’s name and email; the others are kept on the contact.'),
    preChat.el,
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'chat-save' } }, 'Save')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      const body = { title: title.value.trim(), greeting: greeting.value.trim(), queue: Number(queue.value), pre_chat: preChat.read().filter((f) => f.name) };
      body.flow = flow.value ? Number(flow.value) : null;
      try {
        await put('chat/settings', body);
        message.show('Saved. Open chats keep their settings; new chats use these.', 'ok');
      } catch (err) {
        showError(form, err, message);
      }
    });
  });

  replace(box,
    h('h1', null, 'Chat settings'),
    h('section', { class: 'panel', style: { padding: '1em 1.2em', marginBottom: '1em' } },
      h('h2', null, 'Put the chat on your site'),
      h('p', null, 'Paste this before </body> on every page that should have the chat button:'),
      h('div', { class: 'snippet' }, codeEl, copy), copied,
      h('p', { style: { marginTop: '.6em' } }, 'Widget key: ', h('code', { dataset: { testid: 'widget-key' } }, key), ' · ',
        h('a', { href: `/help/${encodeURIComponent(key)}`, target: '_blank', rel: 'noopener' }, 'Help center'), ' · ',
        h('a', { href: '/demo', target: '_blank', rel: 'noopener' }, 'Try it on the demo shop'))),
    form);
}
