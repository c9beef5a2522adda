// The admin pages: one tab per kind of setting, the tab in the address
// (`/admin#queues`) so that a reload or a link keeps it.

import { h, replace } from './dom.js';
import { requireLogin, userMenu } from './session.js';
import { simpleResource } from './admin/common.js';
import { policiesTab, queuesTab } from './admin/queues.js';
import { agentsTab, skillsTab, usersTab } from './admin/people.js';
import { hoursTab } from './admin/hours.js';
import { kbTab } from './admin/kb.js';
import { flowsTab } from './admin/flows.js';
import { chatTab } from './admin/chat.js';
import { endpointsTab } from './admin/endpoints.js';
import { workspaceTab } from './admin/workspace.js';
import { rulesTab } from './admin/rules.js';
import { slaTab } from './admin/sla.js';

const TABS = [
  ['queues', 'Queues', queuesTab],
  ['policies', 'Routing policies', policiesTab],
  ['skills', 'Skills', skillsTab],
  ['agents', 'Agents', agentsTab],
  ['users', 'Users', usersTab],
  ['hours', 'Business hours', hoursTab],
  ['sla', 'SLA policies', slaTab],
  ['dispositions', 'Dispositions', () => simpleResource({
    title: 'Disposition codes',
    noun: 'disposition',
    path: 'dispositions',
    listKey: 'dispositions',
    testid: 'dispositions',
    intro: h('p', { class: 'muted' }, 'Agents choose one when they wrap up a contact. Once any exist, only these codes are accepted.'),
    fields: [
      { name: 'code', label: 'Code', hint: 'stored on the contact and in reports, e.g. resolved' },
      { name: 'label', label: 'Label', hint: 'what agents see, e.g. Resolved' },
    ],
    label: (d) => d.label || d.code,
    sub: (d) => d.code,
  })],
  ['canned', 'Canned responses', () => simpleResource({
    title: 'Canned responses',
    noun: 'canned response',
    path: 'canned-responses',
    listKey: 'canned_responses',
    testid: 'canned',
    intro: h('p', { class: 'muted' }, 'In the agent desktop, typing /shortcut puts the text in the reply.'),
    fields: [
      { name: 'shortcut', label: 'Shortcut', hint: 'without the slash, e.g. refund' },
      { name: 'title', label: 'Title' },
      { name: 'text', label: 'Text', kind: 'textarea' },
    ],
    label: (c) => `/${c.shortcut}`,
    sub: (c) => c.title,
  })],
  ['kb', 'Knowledge base', kbTab],
  ['flows', 'Bot flows', flowsTab],
  ['endpoints', 'Endpoints', endpointsTab],
  ['chat', 'Chat settings', chatTab],
  ['rules', 'Automation rules', rulesTab],
  ['workspace', 'Workspace', workspaceTab],
];

const root = document.getElementById('app');
const me = await requireLogin(root, { role: 'admin', title: 'Administration' });

const panel = h('div', { class: 'tab', role: 'tabpanel', tabindex: '-1' });
const buttons = TABS.map(([id, name]) => h('button', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': 'admin-panel', dataset: { testid: `tab-${id}` }, onclick: () => (location.hash = id) }, name));
panel.id = 'admin-panel';

replace(
  root,
  h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/' }, 'Switchboard'), h('span', null, 'Administration'), h('a', { href: '/reports', dataset: { testid: 'link-reports' } }, 'Reports'), h('a', { href: '/planning', dataset: { testid: 'link-planning' } }, 'Planning'), h('span', { class: 'spacer' }), userMenu(me)),
  h('div', { class: 'admin' }, h('nav', { role: 'tablist', 'aria-label': 'Settings', 'aria-orientation': 'vertical' }, buttons), panel),
);

// Arrow keys move between tabs, as in any tab list.
root.querySelector('[role=tablist]').addEventListener('keydown', (e) => {
  const i = buttons.indexOf(document.activeElement);
  if (i < 0 || !['ArrowDown', 'ArrowUp'].includes(e.key)) return;
  e.preventDefault();
  const next = buttons[(i + (e.key === 'ArrowDown' ? 1 : buttons.length - 1)) % buttons.length];
  next.focus();
  next.click();
});

function show() {
  const id = location.hash.slice(1);
  const tab = TABS.find(([t]) => t === id) || TABS[0];
  buttons.forEach((b, i) => {
    const on = TABS[i] === tab;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  });
  panel.setAttribute('aria-labelledby', `tab-${tab[0]}`);
  replace(panel, tab[2]());
}

window.addEventListener('hashchange', show);
show();
