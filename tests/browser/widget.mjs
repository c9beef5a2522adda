#!/usr/bin/env node
// The chat widget against a scripted server, in a real browser: no
// Switchboard server needed. A shop page on one origin loads widget.js from
// another; the chat routes and the customer WebSocket are answered by this
// script (Playwright's request and WebSocket routing), so the cases that
// are hard to provoke on a live server — a dropped socket with a message in
// flight, a repeated frame, a reload mid-chat — are checked exactly.
//
//   node tests/browser/widget.mjs        (CHROMIUM=/path to override /usr/bin/chromium)

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const WIDGET = readFileSync(resolve(here, '..', '..', 'crates', 'server', 'assets', 'widget.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOP = 'http://shop.test';
const SB = 'http://sb.test';
const KEY = 'wk_test';

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium) or set CHROMIUM.`);
  process.exit(2);
}
const { chromium } = await import('playwright-core');

// A host page whose own styles would wreck an unprotected widget.
const SHOP_PAGE = `<!doctype html><html><head><style>
  button { background: rgb(255, 0, 0) !important; font-size: 40px !important; }
  * { font-family: serif !important; }
</style></head><body><h1>Shop</h1>
<script src="${SB}/widget.js" data-key="${KEY}" async></script></body></html>`;

/** The scripted server: what the widget sent, and how to answer. */
class FakeChat {
  constructor({ open = true, bot = false, preChat = [] } = {}) {
    this.config = { title: 'Acme help', greeting: 'Hi! Ask us anything.', pre_chat: preChat, open, bot, attachments: { max_bytes: 1000, types: ['image/png', 'text/plain'] } };
    this.sent = []; // frames from the widget, in order
    this.sockets = []; // {route, url}
    this.messages = []; // the conversation as the server keeps it
    this.nextId = 100;
    this.sessions = [];
    this.left = [];
    this.echo = true; // echo customer messages (acknowledge them)
  }

  async install(context) {
    await context.route(`${SHOP}/**`, (r) => r.fulfill({ contentType: 'text/html', body: SHOP_PAGE }));
    await context.route(`${SB}/widget.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: WIDGET }));
    await context.route(`${SB}/chat/${KEY}/**`, (r) => this.http(r));
    await context.routeWebSocket(new RegExp(`^ws://sb\\.test/chat/${KEY}/ws`), (ws) => this.socket(ws));
  }

  json(route, status, body) {
    // The widget runs on another origin than the chat server: answers carry CORS headers.
    return route.fulfill({ status, contentType: 'application/json', headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Content-Type, X-Filename' }, body: JSON.stringify(body) });
  }

  async http(route) {
    const req = route.request();
    const url = new URL(req.url());
    const path = url.pathname.replace(`/chat/${KEY}`, '');
    if (req.method() === 'OPTIONS') return this.json(route, 204, {});
    if (path === '/config') return this.json(route, 200, this.config);
    if (path === '/sessions') {
      const body = req.postDataJSON();
      if (this.rejectField) {
        const field = this.rejectField;
        this.rejectField = null;
        return this.json(route, 400, { error: { code: 'invalid', message: 'must look like an order number', field } });
      }
      this.sessions.push(body);
      return this.json(route, 201, { session: `sess-${this.sessions.length}`, contact: 7, customer: 3 });
    }
    if (path === '/messages') {
      this.left.push(req.postDataJSON());
      return this.json(route, 201, { contact: 8 });
    }
    if (path === '/attachments') return this.json(route, 201, { id: 55, name: req.headers()['x-filename'], content_type: req.headers()['content-type'], size: 10, url: `/chat/${KEY}/attachments/55?session=x` });
    return this.json(route, 404, { error: { code: 'not_found', message: 'no such route' } });
  }

  socket(ws) {
    const url = new URL(ws.url());
    const entry = { ws, url };
    this.sockets.push(entry);
    const after = Number(url.searchParams.get('after') || 0);
    // As the contract says: every message after `after`, then a status, then live frames.
    for (const m of this.messages) if (m.id > after) ws.send(JSON.stringify(m));
    ws.send(JSON.stringify(this.status || { type: 'status', state: 'bot' }));
    ws.onMessage((raw) => {
      const f = JSON.parse(raw);
      this.sent.push(f);
      if (f.type === 'message' && this.echo) {
        // Repeats (same client_id) are not stored twice: the contract's dedupe.
        let m = this.messages.find((x) => x.client_id && x.client_id === f.client_id);
        if (!m) {
          m = { type: 'message', id: this.nextId++, from: 'customer', name: 'Robin', text: f.text, client_id: f.client_id, at: Date.now() };
          this.messages.push(m);
        }
        ws.send(JSON.stringify(m));
      }
    });
  }

  get live() {
    return this.sockets[this.sockets.length - 1].ws;
  }

  say(from, text, extra = {}) {
    const m = { type: 'message', id: this.nextId++, from, name: from === 'agent' ? 'Alice' : 'Bot', text, at: Date.now(), ...extra };
    this.messages.push(m);
    this.live.send(JSON.stringify(m));
    return m;
  }

  frame(f) {
    if (f.type === 'status') this.status = f;
    this.live.send(JSON.stringify(f));
  }
}

let passed = 0;
let failed = 0;
async function test(name, fn) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const context = await browser.newContext();
  const errors = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource/.test(m.text()) && errors.push(m.text()));
    await fn(context, page);
    assert.deepEqual(errors, [], 'the page reported errors');
    passed += 1;
    console.log(`  ok  ${name}`);
  } catch (e) {
    failed += 1;
    console.error(`  FAIL  ${name}\n        ${String(e.stack || e).split('\n').slice(0, 4).join('\n        ')}`);
  } finally {
    await browser.close();
  }
}

async function until(what, fn, timeout = 5000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function open(page) {
  await page.goto(`${SHOP}/`);
  await page.getByTestId('sb-launcher').click();
  await page.getByTestId('sb-panel').waitFor();
}

const customerMsgs = (page) => page.locator('[data-testid=sb-msg][data-from=customer]');

console.log('Chat widget against a scripted server');

await test('the host page’s styles do not reach the widget', async (context, page) => {
  await new FakeChat().install(context);
  await page.goto(`${SHOP}/`);
  const bg = await page.getByTestId('sb-launcher').evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 0, 0)');
  const size = await page.getByTestId('sb-launcher').evaluate((b) => getComputedStyle(b).fontSize);
  assert.equal(size, '15px');
});

await test('pre-chat form: required fields, a server error at its field, then the chat', async (context, page) => {
  const chat = new FakeChat({ preChat: [{ name: 'name', label: 'Name', kind: 'text', required: true }, { name: 'email', label: 'Email', kind: 'email', required: true }, { name: 'order', label: 'Order number', kind: 'text', required: false }] });
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-start').click();
  assert.match(await page.locator('[data-field=name] .err').textContent(), /fill this in/);
  await page.getByTestId('sb-field-name').fill('Robin');
  await page.getByTestId('sb-field-email').fill('robin@example.com');
  await page.getByTestId('sb-field-order').fill('nope');
  chat.rejectField = 'fields.order';
  await page.getByTestId('sb-start').click();
  await until('the error at the order field', async () => /order number/.test(await page.locator('[data-field=order] .err').textContent()));
  await page.getByTestId('sb-start').click();
  await page.getByTestId('sb-input').waitFor();
  assert.deepEqual(chat.sessions[0], { name: 'Robin', email: 'robin@example.com', fields: { name: 'Robin', email: 'robin@example.com', order: 'nope' } });
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), `switchboard.chat.${KEY}`), 'sess-1');
});

await test('messages: sending, delivered, read; typing both ways; Enter sends; Esc closes', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').pressSequentially('Hello there');
  await page.getByTestId('sb-input').press('Enter');
  await until('the socket', async () => chat.sockets.length === 1);
  await until('delivered', async () => (await customerMsgs(page).first().getAttribute('data-status')) === 'delivered');
  const id = Number(await customerMsgs(page).first().getAttribute('data-id'));
  chat.frame({ type: 'read', upto: id });
  await until('read', async () => (await customerMsgs(page).first().getAttribute('data-status')) === 'read');
  chat.frame({ type: 'typing', on: true, name: 'Alice' });
  await until('the typing line', async () => /Alice is typing/.test(await page.getByTestId('sb-typing').textContent()));
  chat.say('agent', 'Hi, Alice here.');
  await until('the agent message', async () => (await page.locator('[data-testid=sb-msg][data-from=agent]').count()) === 1);
  assert.equal(await page.getByTestId('sb-typing').textContent(), '', 'a message clears the typing line');
  await until('a read mark sent', async () => chat.sent.some((f) => f.type === 'read' && f.upto >= chat.messages.at(-1).id));
  await page.getByTestId('sb-input').pressSequentially('abc');
  await until('a typing frame', async () => chat.sent.some((f) => f.type === 'typing' && f.on === true));
  // Clearing the box stops "typing" at once, well before the 4 s idle pause.
  await page.getByTestId('sb-input').fill('');
  await until('a stopped-typing frame', async () => chat.sent.some((f) => f.type === 'typing' && f.on === false), 1500);
  chat.frame({ type: 'typing', on: true, name: 'Alice' });
  await until('the typing line again', async () => /Alice is typing/.test(await page.getByTestId('sb-typing').textContent()));
  chat.frame({ type: 'typing', on: false, name: 'Alice' });
  await until('the typing line gone', async () => (await page.getByTestId('sb-typing').textContent()) === '', 1500);
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('sb-panel').isVisible(), false);
});

await test('a dropped socket: reconnect after the last id, resend once, no duplicates', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').fill('first');
  await page.getByTestId('sb-input').press('Enter');
  await until('first delivered', async () => (await customerMsgs(page).count()) === 1 && (await customerMsgs(page).first().getAttribute('data-status')) === 'delivered');
  const bot = chat.say('bot', 'How can I help?');
  // The server stops acknowledging, the customer writes, the socket drops.
  chat.echo = false;
  await page.getByTestId('sb-input').fill('second');
  await page.getByTestId('sb-input').press('Enter');
  await until('second sent', async () => chat.sent.filter((f) => f.text === 'second').length === 1);
  assert.equal(await customerMsgs(page).nth(1).getAttribute('data-status'), 'sending');
  chat.echo = true;
  await chat.live.close();
  await until('a second socket', async () => chat.sockets.length === 2, 8000);
  assert.equal(chat.sockets[1].url.searchParams.get('after'), String(bot.id));
  await until('second delivered', async () => (await customerMsgs(page).nth(1).getAttribute('data-status')) === 'delivered', 8000);
  const seconds = chat.sent.filter((f) => f.text === 'second');
  assert.equal(seconds.length, 2, 'resent once after the reconnect');
  assert.equal(seconds[0].client_id, seconds[1].client_id, 'with the same client_id');
  assert.equal(await customerMsgs(page).count(), 2, 'shown once');
  assert.equal(await page.locator('[data-testid=sb-msg][data-from=bot][data-id]').count(), 1);
  // A frame repeated by the server is shown once.
  chat.live.send(JSON.stringify(bot));
  await page.waitForTimeout(200);
  assert.equal(await page.locator('[data-testid=sb-msg][data-from=bot][data-id]').count(), 1);
});

await test('a reload resumes the conversation from localStorage', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').fill('before reload');
  await page.getByTestId('sb-input').press('Enter');
  await until('delivered', async () => (await customerMsgs(page).first().getAttribute('data-status')) === 'delivered');
  chat.say('agent', 'I am looking into it.');
  await page.reload();
  await page.getByTestId('sb-launcher').click();
  await until('the history back', async () => (await page.locator('[data-testid=sb-msg][data-id]').count()) === 2);
  assert.equal(chat.sessions.length, 1, 'no new session');
  assert.equal(chat.sockets.at(-1).url.searchParams.get('session'), 'sess-1');
});

await test('a session the server refuses (close 4401) is dropped for a fresh start', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').fill('hello');
  await page.getByTestId('sb-input').press('Enter');
  await until('socket', async () => chat.sockets.length === 1);
  await chat.live.close({ code: 4401, reason: 'session' });
  await until('the notice', async () => /previous chat is closed/.test(await page.getByTestId('sb-error').textContent()));
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), `switchboard.chat.${KEY}`), null);
  assert.equal(await page.locator('[data-testid=sb-msg][data-from=customer]').count(), 0);
  await page.waitForTimeout(700);
  assert.equal(chat.sockets.length, 1, 'no reconnect with the dead session');
});

await test('bot buttons, queue position, hand-off, end, and the rating', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').fill('I need help');
  await page.getByTestId('sb-input').press('Enter');
  await until('socket', async () => chat.sockets.length === 1);
  chat.say('bot', 'Did this answer help?', { buttons: [{ label: 'Yes', value: 'yes' }, { label: 'Talk to a person', value: 'agent' }] });
  await page.getByTestId('sb-bot-button').nth(1).click();
  await until('the button frame', async () => chat.sent.some((f) => f.type === 'button' && f.value === 'agent' && f.label === 'Talk to a person'));
  assert.equal(await page.getByTestId('sb-bot-button').nth(0).isDisabled(), true, 'a choice is made once');
  chat.frame({ type: 'status', state: 'waiting', position: 2, wait_seconds: 90 });
  await until('the position', async () => /number 2 in line · about 2 min/.test(await page.getByTestId('sb-status').textContent()));
  chat.frame({ type: 'status', state: 'connected', agent: 'Alice' });
  await until('connected', async () => /chatting with Alice/.test(await page.getByTestId('sb-status').textContent()));
  if (process.env.WIDGET_SCREENSHOT) {
    chat.say('agent', 'Hi, this is Alice. I can help with that.');
    chat.frame({ type: 'typing', on: true, name: 'Alice' });
    await page.waitForTimeout(300);
    await page.screenshot({ path: process.env.WIDGET_SCREENSHOT });
  }
  await page.getByTestId('sb-end').click();
  await page.getByTestId('sb-end-confirm').click();
  await until('the end frame', async () => chat.sent.some((f) => f.type === 'end'));
  chat.frame({ type: 'status', state: 'ended' });
  chat.frame({ type: 'csat' });
  await page.getByTestId('sb-csat').waitFor();
  await page.getByTestId('sb-star-5').click();
  await page.getByTestId('sb-csat-comment').fill('Great');
  await page.getByTestId('sb-csat-submit').click();
  await until('the csat frame', async () => chat.sent.some((f) => f.type === 'csat' && f.score === 5 && f.comment === 'Great'));
  await page.getByTestId('sb-thanks').waitFor();
  // The server repeats the status after the rating's event: the thanks stay.
  chat.frame({ type: 'status', state: 'ended' });
  await page.waitForTimeout(200);
  assert.equal(await page.getByTestId('sb-thanks').isVisible(), true);
  assert.equal(await page.evaluate((k) => localStorage.getItem(k), `switchboard.chat.${KEY}`), null, 'a finished chat is not resumed');
});

await test('attachments: refused by size or type before upload, sent after upload', async (context, page) => {
  const chat = new FakeChat();
  await chat.install(context);
  await open(page);
  await page.getByTestId('sb-input').fill('hi');
  await page.getByTestId('sb-input').press('Enter');
  await until('socket', async () => chat.sockets.length === 1);
  await page.getByTestId('sb-file').setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(2000) });
  await until('too large', async () => /too large/.test(await page.getByTestId('sb-error').textContent()));
  await page.getByTestId('sb-file').setInputFiles({ name: 'x.exe', mimeType: 'application/x-msdownload', buffer: Buffer.alloc(10) });
  await until('wrong type', async () => /cannot be sent/.test(await page.getByTestId('sb-error').textContent()));
  await page.getByTestId('sb-file').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await until('the attachment frame', async () => chat.sent.some((f) => f.type === 'attachment' && f.id === 55 && f.client_id));
});

/** Fills in and sends the leave-a-message form as Robin. */
async function leaveMessage(page, text) {
  await page.getByTestId('sb-offline').waitFor();
  await page.getByTestId('sb-field-name').fill('Robin');
  await page.getByTestId('sb-field-email').fill('robin@example.com');
  await page.getByTestId('sb-field-text').fill(text);
  await page.getByTestId('sb-offline-submit').click();
  await page.getByTestId('sb-offline-done').waitFor();
}

await test('closed: leave a message instead', async (context, page) => {
  const chat = new FakeChat({ open: false });
  await chat.install(context);
  await open(page);
  await leaveMessage(page, 'Call me back about my order');
  assert.deepEqual(chat.left, [{ name: 'Robin', email: 'robin@example.com', text: 'Call me back about my order' }]);
});

await test('nobody on shift: the bot first, then leave a message in the same conversation', async (context, page) => {
  const chat = new FakeChat({ open: false, bot: true });
  await chat.install(context);
  await page.goto(`${SHOP}/`);
  assert.doesNotMatch(await page.getByTestId('sb-launcher').textContent(), /Leave a message/);
  await page.getByTestId('sb-launcher').click();
  await page.getByTestId('sb-input').pressSequentially('How long does a refund take?');
  await page.getByTestId('sb-input').press('Enter');
  await until('the socket', async () => chat.sockets.length === 1);
  chat.say('bot', 'Refunds appear within 5 business days.');
  await until('the answer', async () => /5 business days/.test(await page.getByTestId('sb-panel').textContent()));
  // The bot hands off to nobody: the waiting conversation becomes the message.
  chat.frame({ type: 'status', state: 'waiting', position: 1, staffed: false });
  await leaveMessage(page, 'Please call me');
  assert.deepEqual(chat.left, [{ name: 'Robin', email: 'robin@example.com', text: 'Please call me', session: 'sess-1' }]);
  // The status repeats: the thanks stay, the form does not come back.
  chat.frame({ type: 'status', state: 'waiting', position: 1, staffed: false });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await page.getByTestId('sb-offline').count(), 0);
  assert.equal(await page.getByTestId('sb-offline-done').count(), 1);
});

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
