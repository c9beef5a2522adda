// The agent desktop: state, offers, the conversations held, the customer
// of the selected one, the agent's schedule. Live from the events WebSocket; every 15 s (and on
// reconnect) checked against the agent's own statistics, which list the
// contacts the engine says the agent holds.

import { EventStream, get, listOf, post, serverNow } from './api.js';
import { debounce, duration, h, label, notice, options, replace } from './dom.js';
import { requireLogin, userMenu } from './session.js';
import { Work } from './desktop/work.js';
import { Conversation } from './desktop/conversation.js';
import { CustomerPanel } from './desktop/customer.js';
import { OfferStrip } from './desktop/offers.js';
import { transferDialog } from './desktop/wrapup.js';
import { helpDialog, installShortcuts } from './desktop/keys.js';
import { ScheduleList } from './desktop/schedule.js';
import { slaBadge, slaMoved, startSlaCountdown } from './desktop/sla.js';

const AWAY_REASONS = ['Break', 'Lunch', 'Meeting', 'Training'];
const RECONCILE_EVERY = 15000;
const TITLE = 'Agent desktop – Switchboard';

const root = document.getElementById('app');
const me = await requireLogin(root, { role: 'agent', title: 'Agent desktop' });
const myId = me.principal.user;
const work = new Work(myId);

// ----- reference data -------------------------------------------------------

const queues = new Map();
let dispositions = [];
let canned = [];
let users = null; // supervisors and admins may list users; agents may not
const customers = new Map(); // id → name, or null while loading

async function loadReference() {
  // Only supervisors and admins may list users (for names and transfers to an agent).
  const mayListUsers = me.principal.role !== 'agent';
  const [q, d, c, u] = await Promise.allSettled([get('queues'), get('dispositions'), get('canned-responses'), mayListUsers ? get('users') : Promise.resolve(null)]);
  if (q.status === 'fulfilled') for (const x of listOf(q.value, 'queues')) queues.set(x.id, x);
  if (d.status === 'fulfilled') dispositions = listOf(d.value, 'dispositions');
  if (c.status === 'fulfilled') canned = listOf(c.value, 'canned_responses');
  if (u.status === 'fulfilled' && u.value) users = listOf(u.value, 'users');
  const failed = [q, d, c].filter((r) => r.status === 'rejected' && r.reason.status !== 404);
  if (failed.length) banner.show(`Some settings could not be loaded: ${failed[0].reason.message}`);
}

const queueName = (id) => queues.get(id)?.name || `queue ${id}`;
const names = {
  queue: queueName,
  agent(id) {
    if (id === myId) return 'you';
    const u = users && users.find((x) => x.id === id);
    return u ? u.name : `agent #${id}`;
  },
};

function customerName(id) {
  if (customers.has(id)) return customers.get(id) || `Customer #${id}`;
  customers.set(id, null);
  get(`customers/${id}`)
    .then((c) => {
      customers.set(id, c.name || `Customer #${id}`);
      sync();
    })
    .catch(() => customers.set(id, `Customer #${id}`));
  return `Customer #${id}`;
}

// ----- layout ---------------------------------------------------------------

const banner = notice('desktop-error');
// One control for the agent's state: the options are what the agent can
// choose (presence); the chosen one also names the work the engine has them
// doing ("Available · on contact"), coloured by it, so two widgets cannot
// disagree.
const stateSelect = h('select', { 'aria-label': 'Your state', class: 'state-select offline', dataset: { testid: 'state-select', state: 'offline' } });
const stateClock = h('span', { class: 'muted', style: { color: '#cfd3d9', fontVariantNumeric: 'tabular-nums' } });
const conn = h('span', { class: 'conn', dataset: { testid: 'connection' } }, 'Connecting…');
const helpButton = h('button', { type: 'button', class: 'ghost', title: 'Keyboard shortcuts (?)', dataset: { testid: 'help-open' } }, '?');
const list = h('ul', { class: 'conv-list', dataset: { testid: 'conv-list' } });
const listTitle = h('h2', { class: 'section-title' }, 'Conversations');
const center = h('section', { 'aria-label': 'Conversation' });
const panel = new CustomerPanel(names);
const schedule = new ScheduleList(myId);
const help = helpDialog();

const offers = new OfferStrip({
  describe(it) {
    const rec = it.record;
    if (!rec) return { title: `Contact #${it.id}`, detail: 'loading…' };
    return {
      title: rec.customer ? customerName(rec.customer) : `Contact #${it.id}`,
      detail: [h('span', { class: 'badge channel' }, rec.channel), ' ', rec.queue ? queueName(rec.queue) : ''],
    };
  },
  accept,
  reject,
  expired(it) {
    // The server withdraws it (an `offer_ended` follows); check in case that event was missed.
    setTimeout(() => refresh([it.id]), 1500);
  },
});

replace(
  root,
  h('header', { class: 'topbar' },
    h('a', { class: 'brand', href: '/' }, 'Switchboard'),
    stateSelect, stateClock,
    h('span', { class: 'spacer' }),
    conn, helpButton, userMenu(me)),
  banner,
  offers.el,
  h('div', { class: 'desktop' },
    h('section', { 'aria-label': 'Conversations' }, listTitle, list, schedule.el),
    center,
    h('section', { 'aria-label': 'Customer' }, panel.el)),
);
helpButton.addEventListener('click', () => help.toggle());
schedule.load();

// ----- the agent's state ----------------------------------------------------

let presence = { presence: 'offline' };
let stateSince = Date.now();
let derived = 'offline';

function presenceValue(p) {
  return p.presence === 'away' ? `away:${p.reason || 'away'}` : p.presence;
}

function drawState() {
  const reasons = [...AWAY_REASONS];
  // The engine sets its own reasons (e.g. "missed" after offers time out): show those too.
  if (presence.presence === 'away' && presence.reason && !reasons.includes(presence.reason)) reasons.push(presence.reason);
  const chosen = presenceValue(presence);
  // Work the engine derived from the contacts held (on contact, wrap-up) rides on the chosen option.
  const work = derived !== presence.presence ? ` · ${label(derived).toLowerCase()}` : '';
  const pairs = [['available', 'Available'], ...reasons.map((r) => [`away:${r}`, `Away – ${r}`]), ['offline', 'Offline']];
  replace(stateSelect, options(pairs.map(([value, text]) => [value, value === chosen ? text + work : text]), chosen));
  stateSelect.className = `state-select ${derived}`;
  stateSelect.dataset.state = derived;
  tickState();
}

stateSelect.addEventListener('change', async () => {
  const [state, reason] = stateSelect.value.split(':');
  const body = state === 'away' ? { state, reason } : { state };
  try {
    await post(`agents/${myId}/state`, body);
    presence = state === 'away' ? { presence: 'away', reason } : { presence: state };
    banner.clear();
    poll();
  } catch (err) {
    banner.show(`Could not change your state: ${err.message}`);
    drawState();
  }
});

const tickState = () => (stateClock.textContent = duration((Date.now() - stateSince) / 1000));
setInterval(tickState, 1000);

// ----- conversations --------------------------------------------------------

const convs = new Map();
let current = null;

const convCtx = {
  me: myId,
  queueName,
  queueSettings: (id) => queues.get(id)?.settings ?? null,
  customerName,
  canned: () => canned,
  dispositions: () => dispositions,
  onChange: () => drawList(),
  onTransfer: (conv) => openTransfer(conv),
  onDone(conv, message) {
    const it = work.items.get(conv.id);
    if (it) it.kept = false;
    work.items.delete(conv.id);
    if (message) banner.show(message, 'info');
    sync();
  },
};

function openTransfer(conv) {
  if (!conv || conv.item.state !== 'connected') return;
  transferDialog({
    conv,
    queues: [...queues.values()],
    agents: users && users.filter((u) => u.role !== 'admin' || u.id === myId),
    me: myId,
    onDone(problem) {
      work.items.delete(conv.id);
      banner.show(problem || 'Transferred.', problem ? 'error' : 'ok');
      sync();
    },
  });
}

function select(id) {
  current = id;
  const conv = convs.get(id);
  if (conv) {
    replace(center, conv.el);
    if (conv.record) panel.show(conv.record);
    conv.focus();
  }
  drawList();
}

function drawList() {
  const all = [...convs.values()];
  listTitle.textContent = `Conversations (${all.length})`;
  if (!all.length) {
    replace(list, h('li', { class: 'empty' }, presence.presence === 'available' ? 'Waiting for contacts…' : 'Go available to receive contacts.'));
    return;
  }
  // The list is redrawn on every change: keep the keyboard focus where it was.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.contact : null;
  replace(
    list,
    all.map((c, i) => {
      const rec = c.record;
      const b = h(
        'button',
        { type: 'button', 'aria-current': String(c.id === current), dataset: { testid: 'conv-item', contact: String(c.id) }, title: i < 9 ? `Alt+${i + 1}` : null },
        h('div', { class: 'name' }, h('span', null, rec && rec.customer ? customerName(rec.customer) : `Contact #${c.id}`), c.unread ? h('span', { class: 'unread', 'aria-label': `${c.unread} unread` }, String(c.unread)) : null),
        h('div', { class: 'meta' }, rec ? h('span', { class: 'badge channel' }, rec.channel) : null, h('span', { class: `badge ${c.item.state}` }, label(c.item.state === 'done' ? 'wrap_up' : c.item.state)), slaBadge(rec?.sla), c.typing.textContent ? h('em', null, 'typing…') : null),
      );
      b.addEventListener('click', () => select(c.id));
      return h('li', null, b);
    }),
  );
  if (focused) list.querySelector(`[data-contact="${focused}"]`)?.focus();
}

/** Brings the views in line with `work`. */
function sync() {
  const now = serverNow();
  offers.update(work.offers(now));
  const held = work.conversations();
  const ids = new Set(held.map((i) => i.id));
  for (const [id, conv] of convs) {
    if (!ids.has(id)) {
      conv.dispose();
      convs.delete(id);
    }
  }
  for (const it of held) {
    let conv = convs.get(it.id);
    if (!conv) {
      conv = new Conversation(it, convCtx);
      convs.set(it.id, conv);
    }
    conv.item = it;
    conv.render();
  }
  if (current !== null && !convs.has(current)) current = null;
  if (current === null) {
    const first = convs.keys().next();
    if (!first.done) select(first.value);
    else {
      replace(center, h('div', { class: 'empty', dataset: { testid: 'no-conversation' } }, h('h2', null, 'No conversation'), h('p', null, 'Accepted contacts open here. Press ? for keyboard shortcuts.')));
      panel.clear();
    }
  } else {
    const conv = convs.get(current);
    if (conv.record) panel.show(conv.record);
  }
  drawList();
  const n = work.offers(now).length;
  document.title = n ? `(${n}) New contact – ${TITLE}` : TITLE;
}

// ----- offers ---------------------------------------------------------------

async function accept(it) {
  try {
    await post(`contacts/${it.id}/accept`, {});
    it.state = 'connected';
    it.expiresAt = null;
    banner.clear();
    sync();
    select(it.id);
    refresh([it.id]);
  } catch (err) {
    banner.show(err.status === 409 ? 'That offer is no longer yours (it timed out or was withdrawn).' : `Could not accept: ${err.message}`);
    refresh([it.id]);
  }
}

async function reject(it) {
  try {
    await post(`contacts/${it.id}/reject`, {});
    work.drop(it.id);
    sync();
  } catch (err) {
    banner.show(`Could not reject: ${err.message}`);
    refresh([it.id]);
  }
}

// ----- keeping up -----------------------------------------------------------

/** Fetches contact records: the truth about what the agent holds. */
async function refresh(ids) {
  await Promise.all(
    ids.map((id) =>
      get(`contacts/${id}`)
        .then((rec) => {
          work.setRecord(rec);
          estimateExpiry(work.items.get(rec.id));
        })
        .catch((err) => {
          if (err.status === 404 || err.status === 403) work.drop(id);
        }),
    ),
  );
  sync();
}

/**
 * An offer known from its record only (its `offer_created` event was before
 * the stream's start): it ends the queue's offer timeout after it was made.
 */
function estimateExpiry(it) {
  if (!it || it.state !== 'offered' || it.expiresAt !== null || !it.record) return;
  const timeout = queues.get(it.record.queue)?.settings?.offer_timeout_seconds ?? 30;
  it.expiresAt = it.record.updated_at + timeout * 1000;
}

const flush = debounce(() => refresh(work.takeTouched()), 120);
const presenceSoon = debounce(() => poll(), 300);

/** The agent's state and held contacts as the engine sees them; fixes anything the events missed. */
async function poll() {
  let mine;
  try {
    const stats = await get('stats/agents');
    mine = listOf(stats, 'agents').find((a) => a.agent === myId);
  } catch (err) {
    banner.show(`Could not read your state: ${err.message}`);
    return;
  }
  if (!mine) {
    stateSelect.disabled = true;
    banner.show('You are not set up as an agent yet: an admin adds you under Admin → Agents.');
    return;
  }
  stateSelect.disabled = false;
  presence = mine.presence || presence;
  derived = mine.state;
  stateSince = Date.now() - mine.seconds_in_state * 1000;
  drawState();
  const held = new Set(mine.contacts || []);
  const check = [...held].filter((id) => !work.items.has(id));
  for (const it of work.items.values()) if (!held.has(it.id) && !it.kept) check.push(it.id);
  if (check.length) await refresh(check);
  else sync();
}

async function initialContacts() {
  const states = ['offered', 'connected', 'wrap_up'];
  const pages = await Promise.all(states.map((s) => get(`contacts?agent=${myId}&state=${s}&limit=100`).catch(() => ({ contacts: [] }))));
  for (const page of pages) {
    for (const rec of listOf(page, 'contacts')) {
      work.setRecord(rec);
      estimateExpiry(work.items.get(rec.id));
    }
  }
}

const cursorKey = `switchboard.desktop.after.${me.principal.workspace}.${myId}`;

function onEvent(ev) {
  if (ev.kind === 'agent_state_changed' && ev.agent === myId) {
    presenceSoon();
    return;
  }
  // A supervisor published or edited my shifts.
  if (ev.kind === 'roster_changed' && ev.agent === myId) {
    schedule.load();
    return;
  }
  if (work.apply(ev)) {
    sync();
    flush();
  }
  const conv = convs.get(ev.contact);
  // A reply, the customer's answer, a warning or a breach moves the SLA badge: read the record again.
  if (conv && slaMoved(ev, conv.record)) {
    work.touched.add(ev.contact);
    flush();
  }
  if (conv && ['message', 'typing', 'read', 'delivery', 'contact_held', 'contact_resumed', 'contact_muted', 'contact_unmuted', 'recording', 'recording_paused', 'recording_resumed'].includes(ev.kind)) {
    conv.onEvent(ev);
    if (ev.kind === 'typing') drawList();
  }
}

await loadReference();
await initialContacts();
drawState();
sync();
await poll();

new EventStream({
  // A fresh tab has just read the current state: live events only.
  after: Number(sessionStorage.getItem(cursorKey)) || null,
  onEvent,
  onCursor: (id) => sessionStorage.setItem(cursorKey, String(id)),
  onStatus(status) {
    conn.className = `conn ${status}`;
    conn.textContent = status === 'open' ? 'Live' : status === 'reconnecting' ? 'Reconnecting…' : 'Offline';
    // Open: the resume fills in events, the poll anything else (and, the
    // first time, what happened between the first read and the socket),
    // the schedule a roster published meanwhile.
    if (status === 'open') {
      poll();
      schedule.load();
    }
  },
}).start();

setInterval(poll, RECONCILE_EVERY);
startSlaCountdown();
window.addEventListener('focus', () => convs.get(current)?.markRead());
document.addEventListener('visibilitychange', () => convs.get(current)?.markRead());

// ----- shortcuts ------------------------------------------------------------

installShortcuts({
  accept: () => offers.first() && accept(offers.first()),
  reject: () => offers.first() && reject(offers.first()),
  wrapup() {
    const conv = convs.get(current);
    if (!conv) return;
    if (conv.messaging && conv.item.state === 'connected' && !conv.item.chatEnded) conv.endChat();
    else conv.startWrapUp();
  },
  transfer: () => openTransfer(convs.get(current)),
  state: () => stateSelect.focus(),
  step(d) {
    const ids = [...convs.keys()];
    if (!ids.length) return;
    const i = Math.max(0, ids.indexOf(current));
    select(ids[(i + d + ids.length) % ids.length]);
  },
  goto(i) {
    const ids = [...convs.keys()];
    if (ids[i] !== undefined) select(ids[i]);
  },
  help: () => help.toggle(),
});
