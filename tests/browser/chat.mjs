#!/usr/bin/env node
// End-to-end test of the web UI in a real browser (Debian's Chromium driven
// by playwright-core; no browser download):
//
//   customer 1 asks the bot a knowledge-base question, it helps → contained;
//   customer 2 asks for a person; Alice accepts on the agent desktop, they
//   write both ways, she sees the customer's history, ends and wraps up;
//   customer 2 rates 5 stars; Dave sees it all on the wallboard.
//
// Run against a fresh demo server (the counts it checks start at zero):
//
//   switchboard demo --data-dir "$(mktemp -d)" --http 127.0.0.1:8099 &
//   SWITCHBOARD_URL=http://127.0.0.1:8099 node tests/browser/chat.mjs
//
// `--existing-only` runs the part that needs no chat endpoints: desktop
// login, state change, an API contact offered, accepted and wrapped up,
// and the wallboard. Screenshots go to docs/screenshots/.
// Environment: SWITCHBOARD_URL (required), CHROMIUM (default /usr/bin/chromium),
// HEADED=1 to watch, SLOWMO=ms to slow it down.

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { Failure, apiAs as apiLogin, fail, until } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
// The README tour's pictures; tests set SCREENSHOTS to keep the tree clean.
const shots = process.env.SCREENSHOTS || join(repo, 'docs', 'screenshots');
const BASE = (process.env.SWITCHBOARD_URL || '').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const EXISTING_ONLY = process.argv.includes('--existing-only');
const PASSWORD = 'switchboard-demo';
const WAIT = 20000;

if (!BASE) {
  console.error('SWITCHBOARD_URL is not set: start a server (e.g. `switchboard demo --data-dir "$(mktemp -d)" --http 127.0.0.1:8099`) and set SWITCHBOARD_URL=http://127.0.0.1:8099');
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium) or set CHROMIUM to its path.`);
  process.exit(2);
}

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.error('playwright-core is not installed: run `npm ci` in tests/browser first.');
  process.exit(2);
}

// ----- helpers ----------------------------------------------------------------

let passed = 0;
let current = '';
async function step(name, fn) {
  current = name;
  const t = Date.now();
  await fn();
  passed += 1;
  console.log(`  ok  ${name} (${Date.now() - t} ms)`);
}

/** The API as a given user (for setting up and checking; the pages are what is tested). */
const apiAs = (email) => apiLogin(BASE, email, PASSWORD);

const errors = [];
const pages = []; // [who, page], for screenshots when something fails
let browser = null;
function watch(page, who) {
  pages.push([who, page]);
  page.on('pageerror', (e) => errors.push(`${who}: uncaught ${e.message}`));
  page.on('console', (m) => {
    // Failed requests are logged by the browser itself; the pages show those errors on screen.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`${who}: console error ${m.text()}`);
  });
  return page;
}

async function newPage(browser, who, viewport = { width: 1366, height: 768 }) {
  const context = await browser.newContext({ viewport });
  return watch(await context.newPage(), who);
}

async function login(page, path, email) {
  await page.goto(`${BASE}${path}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
}

async function text(locator) {
  return (await locator.textContent({ timeout: 2000 })) || '';
}

// ----- the customer's side ------------------------------------------------------

/** Opens the demo shop and the widget; fills the pre-chat form if there is one. */
async function openWidget(page, { name, email }) {
  await page.goto(`${BASE}/demo`);
  await page.getByTestId('sb-launcher').click();
  await page.getByTestId('sb-panel').waitFor({ state: 'visible' });
  const offline = page.getByTestId('sb-offline');
  const prechat = page.getByTestId('sb-prechat');
  const input = page.getByTestId('sb-input');
  await until('the widget to show a form or the composer', async () => (await offline.isVisible()) || (await prechat.isVisible()) || (await input.isVisible()));
  if (await offline.isVisible()) fail('the widget offers "leave a message": the chat is closed (no agent logged in, or outside business hours)');
  let gaveEmail = false;
  if (await prechat.isVisible()) {
    for (const field of await prechat.locator('input, textarea').all()) {
      const n = await field.getAttribute('name');
      const type = await field.getAttribute('type');
      if (n === 'email' || type === 'email') {
        await field.fill(email);
        gaveEmail = true;
      } else if (n === 'name') await field.fill(name);
      else if (type === 'tel') await field.fill('+1 555 0100');
      else await field.fill(`${name} test`);
    }
    await page.getByTestId('sb-start').click();
  }
  await input.waitFor({ state: 'visible' });
  return { gaveEmail };
}

async function say(page, words) {
  await page.getByTestId('sb-input').fill(words);
  await page.getByTestId('sb-input').press('Enter');
}

const widgetMessages = (page, from) => page.locator(`[data-testid=sb-msg][data-from=${from}][data-id]`);

async function chatState(page) {
  return page.getByTestId('sb-status').getAttribute('data-state', { timeout: 1000 });
}

/** Clicks a bot button whose label matches `re`, if one is there; returns whether it did. */
async function pressButton(page, re) {
  for (const b of await page.getByTestId('sb-bot-button').all()) {
    if ((await b.isEnabled()) && re.test(await b.textContent())) {
      await b.click();
      return true;
    }
  }
  return false;
}

/**
 * Goes through the bot's flow as a customer with one question who is
 * happy with the answer: types the question at the menu, as the README
 * tells, says the answer helped and that there is nothing else. Reads the
 * bot's words, not a fixed script, so that an edited demo flow still passes.
 */
async function talkToBot(page, question) {
  const bots = widgetMessages(page, 'bot');
  const botWords = () => bots.evaluateAll((els) => els.map((e) => e.textContent || ''));
  let askedAt = -1; // how many bot messages there were when the question went out
  // A flow may open with a greeting, or wait for the customer to write first.
  await until('the bot to start', async () => (await bots.count()) > 0, 5000).catch(() => say(page, 'Hello'));
  for (let turn = 0; turn < 12 && (await chatState(page)) !== 'ended'; turn++) {
    await until('the bot to speak', async () => (await bots.count()) > 0);
    const words = await botWords();
    const last = words[words.length - 1];
    const answered = askedAt >= 0 && words.slice(askedAt).some((w) => /refund|return/i.test(w));
    const lastId = await bots.last().getAttribute('data-id');
    let acted = false;
    if (await bots.last().getByTestId('sb-bot-button').count()) {
      if (/anything else/i.test(last)) acted = await pressButton(page, /^no|that'?s all/i);
      else if (answered) acted = await pressButton(page, /^yes|thank|helped/i);
      else if (askedAt < 0) {
        // The menu takes the question typed out, not only its buttons.
        askedAt = words.length;
        await say(page, question);
        acted = true;
      }
    } else if ((await page.locator('[data-testid=sb-msg][data-id]').last().getAttribute('data-from')) === 'bot') {
      // The bot waits for words: the question first, then a thank-you.
      if (askedAt < 0) askedAt = words.length;
      await say(page, answered ? 'Yes, that helped, thanks!' : question);
      acted = true;
    }
    if (!acted) fail(`the bot said "${last.slice(0, 120)}" and the test does not know how to answer it`);
    // The bot's next words (or the end) before the next turn.
    await until('the bot to go on', async () => (await chatState(page)) === 'ended' || (await bots.last().getAttribute('data-id')) !== lastId, 10000);
  }
  const words = await botWords();
  if (askedAt < 0 || !words.slice(askedAt).some((w) => /refund|return/i.test(w))) fail('the bot never answered the question from the knowledge base');
  await until('the chat to end without a person', async () => (await chatState(page)) === 'ended');
}

// ----- the scenario ---------------------------------------------------------------

async function main() {
  const health = await fetch(`${BASE}/health`).catch(() => null);
  if (!health || !health.ok) fail(`no server answers at ${BASE}/health`);
  const admin = await apiAs('admin@demo.example');
  const chatApi = await admin('GET', 'chat/settings');
  if (!EXISTING_ONLY && chatApi.status === 404) fail('the server has no chat endpoints yet (GET /api/v1/chat/settings answered 404); run with --existing-only for the part that works without them');
  const queues = (await admin('GET', 'queues')).body.queues;

  if (!EXISTING_ONLY) await seedHistory(admin, queues);

  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.HEADED,
    slowMo: Number(process.env.SLOWMO) || 0,
    // Chromium's sandbox needs user namespaces, which containers running as root often lack.
    args: ['--no-sandbox'],
  });
  const agent = await newPage(browser, 'desktop');
  await step('Alice logs into the desktop and goes available', async () => {
    await login(agent, '/desktop', 'alice@demo.example');
    await agent.getByTestId('state-select').waitFor();
    await agent.getByTestId('state-select').selectOption('available');
    await until('Alice to be available', async () => (await agent.getByTestId('state-select').getAttribute('data-state')) === 'available');
    await until('the events WebSocket', async () => (await text(agent.getByTestId('connection'))) === 'Live');
    // The session is the HttpOnly cookie alone: no script on the page can read it.
    const kept = await agent.evaluate(() => ({ storage: JSON.stringify(sessionStorage) + JSON.stringify(localStorage), cookie: document.cookie }));
    if (/token/.test(kept.storage) || /sb_session/.test(kept.cookie)) fail(`the page can read the session: ${JSON.stringify(kept)}`);
  });

  await step('the state selector changes state (away: Break, then back)', async () => {
    await agent.getByTestId('state-select').selectOption('away:Break');
    await until('Alice to be away', async () => (await agent.getByTestId('state-select').getAttribute('data-state')) === 'away');
    await agent.getByTestId('state-select').selectOption('available');
    await until('Alice to be available again', async () => (await agent.getByTestId('state-select').getAttribute('data-state')) === 'available');
  });

  if (EXISTING_ONLY) await existingOnly(agent, admin);
  else await fullChat(browser, agent, admin);

  const board = await newPage(browser, 'wallboard', { width: 1600, height: 900 });
  await step('Dave sees the day on the wallboard', async () => {
    await login(board, '/wallboard', 'dave@demo.example');
    await board.getByTestId('wallboard').waitFor();
    await until('handled 1 on the wallboard', async () => (await text(board.getByTestId('kpi-handled'))) === '1', 30000);
    if (!EXISTING_ONLY) {
      await until('contained 1 on the wallboard', async () => (await text(board.getByTestId('kpi-contained'))) === '1', 30000);
      await until('CSAT 5.0 on the wallboard', async () => (await text(board.getByTestId('kpi-csat'))) === '5.0', 30000);
    }
    await board.waitForTimeout(500);
    await board.screenshot({ path: join(shots, 'wallboard.png'), fullPage: true });
  });

  const settings = await newPage(browser, 'admin');
  await step('the admin sets the workspace time zone', async () => {
    await login(settings, '/admin#workspace', 'admin@demo.example');
    await settings.getByTestId('workspace-zone').selectOption('America/New_York');
    await settings.getByTestId('workspace-save').click();
    await until('the zone to be saved', async () => (await text(settings.getByTestId('workspace-message'))) === 'Saved.');
    const ws = await admin('GET', 'workspace');
    if (ws.body.time_zone !== 'America/New_York') fail(`the workspace's zone is ${ws.body.time_zone}`);
  });

  await step('the admin changes one setting of an agent and keeps the others', async () => {
    const alice = (await admin('GET', 'users')).body.users.find((u) => u.email === 'alice@demo.example');
    const before = (await admin('GET', `agents/${alice.id}`)).body;
    if (!Object.keys(before.skills || {}).length) fail(`Alice has no skills to keep: ${JSON.stringify(before)}`);
    await settings.getByTestId('tab-agents').click();
    await settings.getByTestId('agents-list').locator(`[data-key="${alice.id}"]`).click();
    const form = settings.getByTestId('agent-form');
    await form.waitFor();
    const chat = form.locator('[data-field="capacity"] label', { hasText: 'chat' }).locator('input');
    const chatBefore = before.capacity.chat ?? 0;
    await chat.fill(String(chatBefore + 1));
    await form.getByTestId('agent-save').click();
    await until('the agent to be saved', async () => (await text(settings.getByTestId('agents-error'))).includes('Saved'));
    const after = (await admin('GET', `agents/${alice.id}`)).body;
    if (after.capacity.chat !== chatBefore + 1) fail(`chat capacity ${after.capacity.chat}, wanted ${chatBefore + 1}`);
    for (const k of ['skills', 'queues', 'wrap_up']) {
      if (JSON.stringify(after[k]) !== JSON.stringify(before[k])) fail(`the agent's ${k} changed: ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`);
    }
  });

  await step('the admin lists skills, creates and revokes an API token, and disables and re-enables a user', async () => {
    await settings.getByTestId('tab-skills').click();
    const skills = (await admin('GET', 'skills')).body.skills;
    await until('the skills listed', async () => (await text(settings.getByTestId('skills-list'))).includes(skills[0]));
    await settings.getByTestId('tab-users').click();
    const tokens = settings.getByTestId('tokens');
    await tokens.getByTestId('token-new-name').fill('Browser test');
    await tokens.getByTestId('token-days').fill('7');
    await tokens.getByTestId('token-create').click();
    await until('the token shown once', async () => (await text(tokens.getByTestId('token-shown'))).includes('shown once'));
    const made = (await admin('GET', 'tokens')).body.tokens.find((t) => t.name === 'Browser test');
    if (!made || made.expires_at - made.created_at !== 7 * 86400000) fail(`the token's expiry: ${JSON.stringify(made)}`);
    const row = tokens.locator(`[data-testid="token-row"][data-id="${made.id}"]`);
    await row.waitFor();
    settings.once('dialog', (d) => d.accept());
    await row.getByTestId('token-revoke').click();
    await until('the token revoked', async () => !(await admin('GET', 'tokens')).body.tokens.some((t) => t.name === 'Browser test'));
    if ((await settings.content()).includes('cannot be changed over the API')) fail('the Users tab still says users cannot be changed');

    const dave = (await admin('GET', 'users')).body.users.find((u) => u.email === 'dave@demo.example');
    await settings.getByTestId('users-list').locator(`[data-key="${dave.id}"]`).click();
    await settings.getByTestId('user-disable').click();
    await until('Dave disabled', async () => (await text(settings.getByTestId('user-state'))) === 'Disabled');
    const r = await fetch(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'dave@demo.example', password: PASSWORD }) });
    if (r.status !== 401) fail(`a disabled user logged in: ${r.status}`);
    await settings.getByTestId('user-enable').click();
    await until('Dave enabled', async () => (await text(settings.getByTestId('user-state'))) === 'Active');
  });
  if (errors.length) fail(`the pages reported errors:\n    ${errors.join('\n    ')}`);
}

async function existingOnly(agent, admin) {
  const support = (await admin('GET', 'queues')).body.queues.find((q) => q.settings.channels.includes('api'));
  let contact;
  await step('an API contact is offered to Alice, with a countdown', async () => {
    const r = await admin('POST', 'contacts', { queue: support.id, channel: 'api', customer_identity: { kind: 'email', value: 'robin@example.com' }, attributes: { order: 'A-1042', topic: 'broken tent pole' } });
    if (r.status !== 201) fail(`creating the contact answered ${r.status}: ${JSON.stringify(r.body)}`);
    contact = r.body;
    const offer = agent.locator(`[data-testid=offer][data-contact="${contact.id}"]`);
    await offer.waitFor({ timeout: WAIT });
    await until('a countdown', async () => /^\d+s$/.test(await text(offer.getByTestId('offer-countdown'))));
  });
  await step('Alice accepts and sees the customer panel', async () => {
    await agent.locator(`[data-testid=offer][data-contact="${contact.id}"]`).getByTestId('offer-accept').click();
    await agent.locator(`[data-testid=conversation][data-contact="${contact.id}"]`).waitFor();
    await until('the customer name', async () => (await text(agent.getByTestId('customer-name'))).includes('robin@example.com'));
    await agent.getByTestId('timeline-entry').first().waitFor();
    await agent.screenshot({ path: join(shots, 'desktop.png') });
  });
  await step('Alice wraps up with a disposition', async () => {
    await agent.getByTestId('wrapup-open').click();
    await chooseDisposition(agent);
    await agent.getByTestId('wrapup-notes').fill('Replacement pole sent');
    await agent.getByTestId('wrapup-submit').click();
    await agent.locator(`[data-testid=conversation][data-contact="${contact.id}"]`).waitFor({ state: 'detached' });
    const after = await admin('GET', `contacts/${contact.id}`);
    if (after.body.state !== 'completed') fail(`the contact is ${after.body.state}, not completed`);
  });
}

async function chooseDisposition(agent) {
  const d = agent.getByTestId('wrapup-disposition');
  if ((await d.evaluate((el) => el.tagName)) === 'SELECT') {
    const values = await d.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    if (!values.length) fail('the wrap-up offers no disposition');
    await d.selectOption(values.find((v) => /resolv/i.test(v)) || values[0]);
  } else await d.fill('resolved');
}

/**
 * Customer 2's history: an earlier contact on another channel, for the
 * screen pop. Made and withdrawn before any agent is available, so that it
 * is never offered and the day's counts stay the chat's.
 */
async function seedHistory(admin, queues) {
  await step('customer 2 has an earlier contact on the API channel', async () => {
    const api = queues.find((q) => q.settings.channels.includes('api'));
    const r = await admin('POST', 'contacts', { queue: api.id, channel: 'api', customer_identity: { kind: 'email', value: 'robin@example.com' }, attributes: { topic: 'order status' } });
    if (r.status !== 201) fail(`creating the earlier contact answered ${r.status}: ${JSON.stringify(r.body)}`);
    if (r.body.state === 'offered') fail('the earlier contact was offered to an agent: run against a fresh demo server with nobody logged in');
    const c = await admin('POST', `contacts/${r.body.id}/cancel`, {});
    if (c.status !== 204) fail(`withdrawing the earlier contact answered ${c.status}: ${JSON.stringify(c.body)}`);
  });
}

async function fullChat(browser, agent, admin) {
  const c1 = await newPage(browser, 'customer 1', { width: 1280, height: 800 });
  await step('customer 1 asks the bot "How long does a refund take?" and is helped (contained)', async () => {
    await openWidget(c1, { name: 'Casey', email: 'casey@example.com' });
    await talkToBot(c1, 'How long does a refund take?');
    const contained = await admin('GET', 'contacts?state=contained');
    if (!contained.body.contacts?.length) fail('no contained contact after the bot helped');
  });

  const c2 = await newPage(browser, 'customer 2', { width: 1280, height: 800 });
  let gaveEmail = false;
  await step('customer 2 asks for a person and waits, with their place in line', async () => {
    // As in the README, Alice is not taking chats yet when the customer asks.
    await agent.getByTestId('state-select').selectOption('away:Break');
    await until('Alice to be away', async () => (await agent.getByTestId('state-select').getAttribute('data-state')) === 'away');
    ({ gaveEmail } = await openWidget(c2, { name: 'Robin', email: 'robin@example.com' }));
    await say(c2, "I'd like to talk to a person");
    const handedOff = async () => ['waiting', 'connected'].includes(await chatState(c2));
    // The demo bot hands off on "person"; another flow may want its button pressed.
    await until('a hand-off to the queue', handedOff, 4000).catch(async () => {
      if (!(await pressButton(c2, /person|agent|human|someone|talk/i))) fail('the bot neither handed off nor offered a way to a person');
      await until('a hand-off to the queue', handedOff);
    });
    await until('the place in line and the estimated wait', async () => /you are next|in line/.test(await text(c2.getByTestId('sb-status'))) && /minute|min/.test(await text(c2.getByTestId('sb-status'))));
    const waiting = (await admin('GET', 'contacts?state=queued')).body.contacts || [];
    const support = ((await admin('GET', 'queues')).body.queues || []).find((q) => q.name === 'Support');
    if (!waiting.some((c) => c.channel === 'chat' && c.queue === support?.id)) fail('the chat is not queued for Support');
  });

  let contactId;
  await step('Alice goes available, gets the offer with a countdown and accepts it', async () => {
    await agent.getByTestId('state-select').selectOption('available');
    const offer = agent.getByTestId('offer').first();
    await offer.waitFor({ timeout: WAIT });
    await until('a countdown', async () => /^\d+s$/.test(await text(offer.getByTestId('offer-countdown'))));
    contactId = await offer.getAttribute('data-contact');
    await offer.getByTestId('offer-accept').click();
    await agent.locator(`[data-testid=conversation][data-contact="${contactId}"]`).waitFor();
    await until('customer 2 to be connected to Alice', async () => (await chatState(c2)) === 'connected' && /Alice/.test(await text(c2.getByTestId('sb-status'))));
  });

  await step('they write to each other', async () => {
    await agent.getByTestId('composer-input').fill('Hi Robin, this is Alice. How can I help?');
    await agent.getByTestId('composer-input').press('Enter');
    await until('the agent message at the customer', async () => /this is Alice/.test(await widgetMessages(c2, 'agent').last().textContent()));
    await c2.getByTestId('sb-input').pressSequentially('My tent pole broke. Can I get a replacement?', { delay: 5 });
    await c2.getByTestId('sb-input').press('Enter');
    await until('the customer message at the agent', async () => /tent pole/.test(await agent.locator('[data-testid=msg][data-from=customer]').last().textContent()));
    await until('the customer message acknowledged in the widget', async () => (await c2.locator('[data-testid=sb-msg][data-from=customer][data-id]').count()) > 0);
    await until('the read mark on Alice’s message', async () => (await agent.locator('[data-testid=msg][data-from=agent] [data-testid=msg-ticks]').last().textContent()).includes('Read'), 10000);
  });

  await step('Alice sees the customer and their history', async () => {
    await until('the customer name', async () => /Robin|robin@example\.com/.test(await text(agent.getByTestId('customer-name'))));
    const entries = agent.getByTestId('timeline-entry');
    await entries.first().waitFor();
    if (gaveEmail) await until('the earlier API contact in the timeline', async () => (await entries.count()) >= 2 && (await text(agent.getByTestId('timeline'))).includes('api'));
    await agent.screenshot({ path: join(shots, 'desktop.png') });
  });

  await step('Alice ends the chat and wraps up with a disposition', async () => {
    await agent.getByTestId('end-chat').click();
    await agent.getByTestId('wrapup').waitFor();
    // Support wraps up until the agent is done: the form says so.
    await until('the wrap-up mode', async () => /until you complete/.test(await text(agent.getByTestId('wrapup-timing'))));
    await chooseDisposition(agent);
    await agent.getByTestId('wrapup-notes').fill('Replacement pole sent');
    await agent.getByTestId('wrapup-submit').click();
    await agent.locator(`[data-testid=conversation][data-contact="${contactId}"]`).waitFor({ state: 'detached' });
    const after = await admin('GET', `contacts/${contactId}`);
    if (after.body.state !== 'completed' || !after.body.disposition) fail(`the contact is ${after.body.state} with disposition ${after.body.disposition}`);
  });

  await step('customer 2 rates the chat 5 stars', async () => {
    await c2.getByTestId('sb-csat').waitFor({ timeout: WAIT });
    await c2.getByTestId('sb-star-5').click();
    await c2.getByTestId('sb-csat-comment').fill('Quick and friendly, thanks!');
    await c2.getByTestId('sb-csat-submit').click();
    await c2.getByTestId('sb-thanks').waitFor();
  });
}

try {
  console.log(`Browser test against ${BASE}${EXISTING_ONLY ? ' (existing API only)' : ''}`);
  await main();
  console.log(`${passed} passed, 0 failed`);
  console.log(`screenshots: ${join(shots, 'desktop.png')}, ${join(shots, 'wallboard.png')}`);
} catch (e) {
  console.error(`FAILED at "${current}": ${e instanceof Failure ? e.message : e.stack || e}`);
  // What each page showed when it failed, to see why without rerunning.
  for (const [who, page] of pages) {
    const file = join(tmpdir(), `switchboard-ui-failure-${who.replace(/\W+/g, '-')}.png`);
    try {
      await page.screenshot({ path: file, timeout: 5000 });
      console.error(`  screenshot of ${who}: ${file}`);
    } catch {
      // The page is gone: nothing to show.
    }
  }
  console.error(`${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
}
