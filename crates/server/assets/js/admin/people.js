// Users, the agent settings of a user (skills with levels, capacity per
// channel, queues), and skills.

import { get, listOf, post, put } from '../api.js';
import { h, label, notice, options, replace } from '../dom.js';
import { busy, field, showError } from '../forms.js';
import { ListEditor, editorForm, numberInput, rowList } from './common.js';
import { CHANNELS, wrapUpInput } from './queues.js';

const ROLES = [['agent', 'Agent'], ['supervisor', 'Supervisor'], ['admin', 'Admin']];

/** Skills this page has seen: from agents' settings and those created here (the API lists none). */
const knownSkills = new Set();

export function usersTab() {
  const editor = new ListEditor({
    title: 'Users',
    noun: 'user',
    testid: 'users',
    load: async () => listOf(await get('users'), 'users'),
    label: (u) => u.name,
    sub: (u) => u.role,
    form(item, ctx) {
      if (item) {
        return h('div', { class: 'panel', style: { padding: '1em 1.2em' }, dataset: { testid: 'user-view' } },
          h('h2', null, item.name),
          h('dl', { class: 'attrs' }, h('dt', null, 'Email'), h('dd', null, item.email), h('dt', null, 'Role'), h('dd', null, label(item.role)), h('dt', null, 'User id'), h('dd', null, String(item.id))),
          h('p', { class: 'muted' }, 'Users cannot be changed over the API yet. Agent settings are on the Agents tab.'));
      }
      const email = h('input', { type: 'email', autocomplete: 'off' });
      const name = h('input', { type: 'text' });
      const role = h('select', null, options(ROLES, 'agent'));
      const password = h('input', { type: 'password', autocomplete: 'new-password' });
      return editorForm({
        title: 'New user',
        testid: 'user',
        ctx,
        submitLabel: 'Create user',
        fields: [
          field({ label: 'Email (the login)', name: 'email', input: email }),
          field({ label: 'Name', name: 'name', input: name }),
          field({ label: 'Role', name: 'role', input: role }),
          field({ label: 'Password', name: 'password', input: password }),
        ],
        save: () => post('users', { email: email.value.trim(), name: name.value.trim(), role: role.value, password: password.value }),
      });
    },
  });
  editor.reload();
  return editor.el;
}

function skillRow(v) {
  const name = h('input', { type: 'text', value: v.name, list: 'known-skills', 'aria-label': 'Skill', placeholder: 'billing' });
  const level = h('select', { 'aria-label': 'Level' }, options([['true', 'held (yes/no)'], ...Array.from({ length: 10 }, (_, i) => [String(i + 1), `level ${i + 1}`])], String(v.level)));
  return {
    el: h('div', { class: 'row grow' }, name, level),
    read: () => [name.value.trim(), level.value === 'true' ? true : Number(level.value)],
  };
}

function membershipRow(queues) {
  return (v) => {
    const queue = h('select', { 'aria-label': 'Queue' }, options(queues.map((q) => [q.id, q.name]), v.queue));
    const priority = numberInput(v.priority ?? 1, { min: 1, step: 1, 'aria-label': 'Priority' });
    const delay = numberInput(v.delay ?? 0, { min: 0, 'aria-label': 'Delay seconds' });
    return {
      el: h('div', { class: 'row grow' }, queue, h('label', null, 'priority ', priority), h('label', null, 'after ', delay, ' s')),
      read: () => ({ queue: Number(queue.value), priority: priority.read() ?? 1, delay: delay.read() ?? 0 }),
    };
  };
}

/**
 * The agent settings form. `current` is the agent record when the server
 * can list them (`GET /agents`); otherwise the form starts from defaults
 * and saving replaces whatever the agent had.
 */
function agentForm(user, current, queues, ctx) {
  const cap = current?.capacity || { voice: 1, chat: 3, email: 2, api: 1 };
  const skills = rowList({
    legend: 'Skills',
    name: 'skills',
    testid: 'agent-skills',
    addLabel: 'Add skill',
    values: Object.entries(current?.skills || {}).map(([name, level]) => ({ name, level })),
    blank: () => ({ name: '', level: 5 }),
    row: skillRow,
  });
  const capacity = Object.fromEntries(CHANNELS.map((c) => [c, numberInput(cap[c] ?? 0, { min: 0, max: 20, step: 1, style: { width: '4.5em' } })]));
  const memberships = rowList({
    legend: 'Queues',
    name: 'queues',
    testid: 'agent-queues',
    addLabel: 'Add queue',
    values: current?.memberships || current?.queues || [],
    blank: () => ({ queue: queues[0]?.id, priority: 1, delay: 0 }),
    row: membershipRow(queues),
  });
  const wrap = wrapUpInput(current?.wrap_up ?? null, { inherit: true });
  return editorForm({
    title: `Agent settings of ${user.name}`,
    testid: 'agent',
    ctx,
    fields: [
      current ? null : h('p', { class: 'notice info' }, 'This server does not list agent settings: the form starts from defaults, and saving replaces what this user had.'),
      skills.el,
      h('fieldset', { dataset: { field: 'capacity' } }, h('legend', null, 'Capacity: contacts at once per channel (a call blocks all others)'),
        h('div', { class: 'row' }, CHANNELS.map((c) => h('label', null, `${c} `, capacity[c]))), h('div', { class: 'field-error', role: 'alert' })),
      memberships.el,
      field({ label: 'Wrap-up (overrides the queues)', name: 'wrap_up', input: wrap }),
    ],
    save() {
      const pairs = skills.read().filter(([n]) => n);
      pairs.forEach(([n]) => knownSkills.add(n));
      const body = {
        skills: Object.fromEntries(pairs),
        capacity: Object.fromEntries(CHANNELS.map((c) => [c, capacity[c].read() ?? 0]).filter(([, n]) => n > 0)),
        queues: memberships.read(),
      };
      // Keep what this form does not show: which channels exclude others, and an overall cap.
      if (cap.exclusive) body.capacity.exclusive = cap.exclusive;
      if (cap.max_total != null) body.capacity.max_total = cap.max_total;
      const w = wrap.read();
      if (w !== null) body.wrap_up = w;
      return put(`agents/${user.id}`, body).then((saved) => ({ ...user, saved }));
    },
  });
}

export function agentsTab() {
  let queues = [];
  let agents = null; // null: the server cannot list agent settings
  const datalist = h('datalist', { id: 'known-skills' });
  const editor = new ListEditor({
    title: 'Agents',
    noun: 'agent',
    testid: 'agents',
    canCreate: false,
    intro: h('p', { class: 'muted' }, 'Pick a user to make them an agent or change their skills, capacity and queues.'),
    async load() {
      const [u, q, a] = await Promise.all([get('users'), get('queues'), get('agents').catch(() => null)]);
      queues = listOf(q, 'queues');
      agents = a ? listOf(a, 'agents') : null;
      for (const x of agents || []) Object.keys(x.skills || {}).forEach((s) => knownSkills.add(s));
      replace(datalist, [...knownSkills].map((s) => h('option', { value: s })));
      return listOf(u, 'users');
    },
    label: (u) => u.name,
    sub(u) {
      const rec = agents && agents.find((a) => a.user === u.id);
      return rec ? Object.keys(rec.skills || {}).join(', ') || 'agent' : u.role;
    },
    form(user, ctx) {
      if (!user) return h('p', { class: 'empty' }, 'Choose a user on the left.');
      const current = agents ? agents.find((a) => a.user === user.id) || null : null;
      return agentForm(user, current || (agents ? {} : null), queues, { ...ctx, saved: () => ctx.saved(user) });
    },
  });
  editor.reload();
  return h('div', null, datalist, editor.el);
}

export function skillsTab() {
  const name = h('input', { type: 'text', placeholder: 'e.g. french' });
  const message = notice('skill-message');
  const list = h('ul', { class: 'tags', dataset: { testid: 'skills-list' } });
  const draw = () => replace(list, knownSkills.size ? [...knownSkills].sort().map((s) => h('li', { class: 'tag' }, s)) : h('li', { class: 'muted' }, 'None seen yet.'));
  const form = h('form', { class: 'panel', style: { padding: '1em 1.2em', maxWidth: '32em' }, novalidate: true, dataset: { testid: 'skill-form' } },
    h('h2', null, 'New skill'),
    field({ label: 'Name', name: 'name', input: name, hint: 'Lower case, no spaces: routing expressions use it as a name (french >= 5).', testid: 'skill-name' }),
    message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', dataset: { testid: 'skill-save' } }, 'Create skill')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, async () => {
      try {
        const s = await post('skills', { name: name.value.trim() });
        knownSkills.add(s.name || name.value.trim());
        message.show(`Created the skill ${s.name || name.value.trim()}.`, 'ok');
        name.value = '';
        draw();
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  // Skills in use show up in agents' settings, when the server lists those.
  get('agents').then((a) => {
    for (const x of listOf(a, 'agents')) Object.keys(x.skills || {}).forEach((s) => knownSkills.add(s));
    draw();
  }).catch(() => draw());
  draw();
  return h('div', { dataset: { testid: 'skills' } }, h('h1', null, 'Skills'), form, h('h2', { style: { marginTop: '1em' } }, 'Known skills'), list,
    h('p', { class: 'muted' }, 'The API has no list of skills yet: this shows skills created here and those held by agents.'));
}
