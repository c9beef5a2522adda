// Users (roles, disabling, deleting, passwords) and API tokens, the agent
// settings of a user (skills with levels, capacity per channel, queues),
// and skills.

import { del, get, listOf, post, put } from '../api.js';
import { h, label, notice, options, replace } from '../dom.js';
import { busy, field, showError } from '../forms.js';
import { ListEditor, editorForm, numberInput, rowList } from './common.js';
import { CHANNELS, wrapUpInput } from './queues.js';
import { tokensSection } from './tokens.js';

const ROLES = [['agent', 'Agent'], ['supervisor', 'Supervisor'], ['admin', 'Admin']];

/** The workspace's skills, as `GET /skills` lists them. */
const knownSkills = new Set();

async function loadSkills() {
  listOf(await get('skills'), 'skills').forEach((s) => knownSkills.add(s));
}

/** What an admin does to an existing user: name and role, state, password, deletion. */
function userForm(user, ctx) {
  const name = h('input', { type: 'text', value: user.name });
  const role = h('select', null, options(ROLES, user.role));
  const edit = editorForm({
    title: `Edit ${user.name}`,
    testid: 'user',
    ctx,
    fields: [
      h('dl', { class: 'attrs', dataset: { testid: 'user-view' } },
        h('dt', null, 'Email'), h('dd', null, user.email),
        h('dt', null, 'State'), h('dd', { dataset: { testid: 'user-state' } }, label(user.state || 'active')),
        h('dt', null, 'User id'), h('dd', null, String(user.id))),
      field({ label: 'Name', name: 'name', input: name }),
      field({ label: 'Role', name: 'role', input: role, testid: 'user-role' }),
    ],
    save: () => put(`users/${user.id}`, { name: name.value.trim(), role: role.value }),
    remove: user.state === 'deleted' ? null : () => del(`users/${user.id}`),
  });
  if (user.state === 'deleted') {
    return h('div', null, h('p', { class: 'notice info' }, 'Deleted: kept so that contacts and events still name this user.'), edit);
  }
  const message = notice('user-access-message');
  const toggle = user.state === 'disabled'
    ? h('button', { type: 'button', dataset: { testid: 'user-enable' } }, 'Enable')
    : h('button', { type: 'button', class: 'danger', dataset: { testid: 'user-disable' } }, 'Disable');
  toggle.addEventListener('click', async () => {
    try {
      await ctx.saved(await post(`users/${user.id}/${user.state === 'disabled' ? 'enable' : 'disable'}`));
    } catch (err) {
      message.show(err.message);
    }
  });
  const password = h('input', { type: 'password', autocomplete: 'new-password' });
  const reset = h('form', { novalidate: true, dataset: { testid: 'password-form' } },
    field({ label: 'New password', name: 'password', input: password, hint: 'at least 8 characters; the user\'s sessions end' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', dataset: { testid: 'password-save' } }, 'Set password')));
  reset.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(reset, async () => {
      try {
        await post(`users/${user.id}/password`, { password: password.value });
        password.value = '';
        message.show('Password set; the user\'s sessions have ended.', 'ok');
      } catch (err) {
        showError(reset, err, message);
      }
    });
  });
  return h('div', null, edit,
    h('div', { class: 'panel', style: { padding: '1em 1.2em', marginTop: '1em' } },
      h('h2', null, 'Access'),
      h('p', { class: 'muted' }, 'Disabling ends the user\'s sessions and API tokens and takes them offline at once.'),
      message, h('div', { class: 'actions' }, toggle), reset),
    sipPanel(user));
}

/** The user's SIP phone: the username it registers as (shown), and a new password (write-only). */
function sipPanel(user) {
  const current = h('dd', { dataset: { testid: 'sip-username' } }, '…');
  const username = h('input', { type: 'text', autocomplete: 'off', placeholder: 'the e-mail before @' });
  const password = h('input', { type: 'password', autocomplete: 'new-password' });
  const message = notice('sip-message');
  const show = (account) => replace(current, account ? account.username : 'none set');
  get(`users/${user.id}/sip`).then(show, () => show(null));
  const form = h('form', { novalidate: true, dataset: { testid: 'sip-form' } },
    field({ label: 'SIP username', name: 'username', input: username, hint: 'unique across the installation; leave empty to keep it' }),
    field({ label: 'SIP password', name: 'password', input: password, hint: 'at least 10 characters; never shown again' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', dataset: { testid: 'sip-save' } }, 'Set SIP password')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, async () => {
      try {
        const body = { password: password.value };
        if (username.value.trim()) body.username = username.value.trim();
        show(await put(`users/${user.id}/sip`, body));
        password.value = '';
        message.show('SIP password set: register the phone again with it.', 'ok');
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  return h('div', { class: 'panel', style: { padding: '1em 1.2em', marginTop: '1em' } },
    h('h2', null, 'SIP phone'),
    h('p', { class: 'muted' }, 'The desk phone or softphone this user answers voice contacts on registers with this username and password (realm "switchboard").'),
    h('dl', { class: 'attrs' }, h('dt', null, 'Username'), current),
    message, form);
}

export function usersTab() {
  const editor = new ListEditor({
    title: 'Users',
    noun: 'user',
    testid: 'users',
    load: async () => listOf(await get('users'), 'users'),
    label: (u) => u.name,
    sub: (u) => (u.state && u.state !== 'active' ? `${label(u.role)}, ${u.state}` : label(u.role)),
    form(item, ctx) {
      if (item) return userForm(item, ctx);
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
  return h('div', null, editor.el, tokensSection());
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
 * The agent settings form, starting from what `GET /agents/{id}` answered
 * (`current`; null for a user who is no agent yet), so that saving one
 * field keeps the others.
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
    values: current?.queues || [],
    blank: () => ({ queue: queues[0]?.id, priority: 1, delay: 0 }),
    row: membershipRow(queues),
  });
  const wrap = wrapUpInput(current?.wrap_up ?? null, { inherit: true });
  return editorForm({
    title: `Agent settings of ${user.name}`,
    testid: 'agent',
    ctx,
    fields: [
      current ? null : h('p', { class: 'notice info' }, 'Not an agent yet: saving makes this user one.'),
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
  let agents = [];
  const datalist = h('datalist', { id: 'known-skills' });
  const editor = new ListEditor({
    title: 'Agents',
    noun: 'agent',
    testid: 'agents',
    canCreate: false,
    intro: h('p', { class: 'muted' }, 'Pick a user to make them an agent or change their skills, capacity and queues.'),
    async load() {
      const [u, q, a] = await Promise.all([get('users'), get('queues'), get('agents'), loadSkills()]);
      queues = listOf(q, 'queues');
      agents = listOf(a, 'agents');
      replace(datalist, [...knownSkills].map((s) => h('option', { value: s })));
      return listOf(u, 'users').filter((x) => x.state !== 'deleted');
    },
    label: (u) => u.name,
    sub(u) {
      const rec = agents.find((a) => a.user === u.id);
      return rec ? Object.keys(rec.skills || {}).join(', ') || 'agent' : u.role;
    },
    form(user, ctx) {
      if (!user) return h('p', { class: 'empty' }, 'Choose a user on the left.');
      // The agent as it is now, read afresh: never a form of defaults over real settings.
      const slot = h('div', { dataset: { testid: 'agent-loading' } }, h('p', { class: 'muted' }, 'Loading…'));
      get(`agents/${user.id}`)
        .catch((err) => (err.status === 404 ? null : Promise.reject(err)))
        .then((current) => replace(slot, agentForm(user, current, queues, { ...ctx, saved: () => ctx.saved(user) })))
        .catch((err) => replace(slot, h('p', { class: 'notice error' }, `Could not load the agent: ${err.message}`)));
      return slot;
    },
  });
  editor.reload();
  return h('div', null, datalist, editor.el);
}

export function skillsTab() {
  const name = h('input', { type: 'text', placeholder: 'e.g. french' });
  const message = notice('skill-message');
  const list = h('ul', { class: 'tags', dataset: { testid: 'skills-list' } });
  const draw = () => replace(list, knownSkills.size ? [...knownSkills].sort().map((s) => h('li', { class: 'tag' }, s)) : h('li', { class: 'muted' }, 'None yet.'));
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
  loadSkills().then(draw, (err) => message.show(`Could not load the skills: ${err.message}`));
  return h('div', { dataset: { testid: 'skills' } }, h('h1', null, 'Skills'), form, h('h2', { style: { marginTop: '1em' } }, 'Skills of this workspace'), list);
}
