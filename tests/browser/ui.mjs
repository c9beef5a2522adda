#!/usr/bin/env node
// The pages' look and small behaviours, in a real browser, against a demo
// server (run after chat.mjs on the same one, or on a fresh one; nobody but
// Alice may be available):
//
//   the login gate's grammar; the KB admin's category chips; the help
//   center's search snippets (matches marked, no raw `**`, no markup from an
//   article); the wallboard's tiles at laptop and tablet widths; the
//   desktop's state control while on a contact; a 1 MB attribute; the
//   customer panel's history; "typing…" when the agent clears the composer;
//   emoji drawn in colour, not as boxes; the rules admin's order and dry run.
//
//   SWITCHBOARD_URL=http://127.0.0.1:8099 SCREENSHOTS=/tmp/shots node ui.mjs
//
// Each page it checks is saved as ui-*.png in SCREENSHOTS (default: the temp
// directory), to look at.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { BASE, CHROMIUM, Failure, PASSWORD, fail, waitFor } from './harness.mjs';

const shots = process.env.SCREENSHOTS || tmpdir();
const { chromium } = await import('playwright-core');

let passed = 0;
let failed = 0;
/** Runs one check; a failure is reported and the next check still runs (they are independent). */
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`  ok  ${name}`);
  } catch (e) {
    failed += 1;
    console.error(`FAIL  ${name}: ${e instanceof Failure ? e.message : e.stack || e}`);
    await screenshotsOfFailure();
  }
}

/** What each page showed when a check failed, to see why without rerunning. */
async function screenshotsOfFailure() {
  for (const [who, page] of pages) {
    const file = join(tmpdir(), `switchboard-ui-failure-${who.replace(/\W+/g, '-')}.png`);
    await page.screenshot({ path: file, timeout: 5000 }).then(() => console.error(`  screenshot of ${who}: ${file}`), () => {});
  }
}

async function api(method, path, body) {
  const r = await fetch(`${BASE}/api/v1/${path}`, { method, headers: { ...adminAuth, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) fail(`${method} ${path} answered ${r.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

const adminLogin = await fetch(`${BASE}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'admin@demo.example', password: PASSWORD }) });
const { token: adminToken } = await adminLogin.json();
// The login's token when it answers one, else its session cookie.
const adminAuth = adminToken ? { Authorization: `Bearer ${adminToken}` } : { Cookie: adminLogin.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: !process.env.HEADED, args: ['--no-sandbox'] });
const pages = [];
async function open(who, path, email, viewport = { width: 1366, height: 768 }) {
  const page = await (await browser.newContext({ viewport })).newPage();
  pages.push([who, page]);
  await page.goto(`${BASE}${path}`);
  if (email) {
    await page.getByTestId('login-email').fill(email);
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
  }
  return page;
}
const shoot = (page, name) => page.screenshot({ path: join(shots, `ui-${name}.png`), fullPage: true });

async function main() {
  mkdirSync(shots, { recursive: true });

  await check('an agent on the admin page reads "Alice is an agent; this page needs an admin"', async () => {
    const page = await open('gate', '/admin', 'alice@demo.example');
    await waitFor('the wrong-role notice', async () => /is an agent; this page needs an admin\./.test(await page.locator('main.login .notice.error').textContent({ timeout: 1000 })));
    await shoot(page, 'gate');
  });

  await check('the KB admin draws its category chips without list bullets over them', async () => {
    const page = await open('kb admin', '/admin#kb', 'admin@demo.example');
    const chips = page.getByTestId('kb-categories').locator('li');
    await chips.first().waitFor();
    const boxes = await chips.evaluateAll((els) => els.map((el) => ({ marker: getComputedStyle(el).listStyleType, left: el.getBoundingClientRect().left, right: el.getBoundingClientRect().right })));
    const list = await page.getByTestId('kb-categories').evaluate((el) => parseFloat(getComputedStyle(el).paddingLeft));
    if (boxes.some((b) => b.marker !== 'none') || list > 0) fail(`the chips keep list markers or the list's indent: ${JSON.stringify({ list, boxes })}`);
    await shoot(page, 'kb-admin');
  });

  await check('the endpoints admin saves a credential and never shows it again: its input stays empty, marked as set', async () => {
    const secret = 'tg-SECRET-from-the-browser';
    const page = await open('endpoints admin', '/admin#endpoints', 'admin@demo.example');
    await page.getByTestId('endpoints-new').click();
    await page.getByTestId('endpoint-channel').selectOption('telegram');
    await page.getByTestId('endpoint-name').fill('Telegram bot');
    await page.getByTestId('endpoint-address').fill('demo_bot');
    await page.getByTestId('endpoint-queue').selectOption({ index: 1 });
    await page.getByTestId('endpoint-secrets-add').click();
    await page.getByTestId('endpoint-secrets').getByLabel('Key').last().fill('bot_token');
    await page.getByTestId('endpoint-secrets').getByLabel('Value').last().fill(secret);
    await page.getByTestId('endpoint-save').click();
    await waitFor('the endpoint in the list', async () => (await page.getByTestId('endpoints-list').textContent({ timeout: 1000 })).includes('Telegram bot'));
    // The editor shows the saved endpoint again: the credential is set, its input empty.
    await waitFor('the saved credential', async () => (await page.getByTestId('endpoint-secrets').getByLabel('Key').first().inputValue({ timeout: 1000 })) === 'bot_token');
    const value = page.getByTestId('endpoint-secrets').getByLabel('Value').first();
    const shown = { value: await value.inputValue(), type: await value.getAttribute('type'), placeholder: await value.getAttribute('placeholder') };
    if (shown.value !== '' || shown.type !== 'password' || !/set/.test(shown.placeholder)) fail(`the credential's input is not empty and marked set: ${JSON.stringify(shown)}`);
    if ((await page.content()).includes(secret)) fail('the credential is in the page');
    if (JSON.stringify(await api('GET', 'endpoints')).includes(secret)) fail('the credential came back from the API');
    await shoot(page, 'endpoints-admin');
  });

  await check('the rules admin saves a rule, orders it, and says what it would do on a past contact', async () => {
    const page = await open('rules admin', '/admin#rules', 'admin@demo.example');
    const contact = (await api('GET', 'contacts?limit=1')).contacts[0];
    for (const name of ['Tag everything', 'Tag again']) {
      await page.getByTestId('rules-new').click();
      await page.getByTestId('rule-name').fill(name);
      await page.getByTestId('rule-event').selectOption('contact_ended');
      await page.getByTestId('rule-actions').getByLabel('Argument').first().fill('reviewed');
      await page.getByTestId('rule-save').click();
      await waitFor(`${name} in the list`, async () => (await page.getByTestId('rules-list').textContent({ timeout: 1000 })).includes(name));
    }
    // The second moves up: the list is the firing order.
    await page.getByTestId('rule-up').click();
    await waitFor('the new order', async () => /Tag again.*Tag everything/.test(await page.getByTestId('rules-list').textContent({ timeout: 1000 })));
    await page.locator('input[placeholder="contact id"]').fill(String(contact.id));
    await page.getByTestId('rule-dry-run-button').click();
    await waitFor('the dry run', async () => (await page.getByTestId('rule-dry-run').textContent({ timeout: 1000 })) === 'would fire: add_tag reviewed');
    await shoot(page, 'rules-admin');
    for (const r of (await api('GET', 'rules')).rules) await api('DELETE', `rules/${r.id}`);
  });

  await check('the help center marks the matched words of a snippet, with no raw ** and no markup from the article', async () => {
    const { widget_key: key } = await api('GET', 'chat/settings');
    await api('POST', 'kb/articles', { title: 'Refund tricks', body: 'A **refund** <img src=x onerror="window.pwned=1"> <b>bold</b> [the form](javascript:alert(1)) refund', category: null, published: true });
    const page = await open('help center', `/help/${key}?q=refund`);
    const snippets = page.getByTestId('help-snippet');
    await snippets.first().waitFor();
    const texts = await snippets.allTextContents();
    if (texts.some((t) => t.includes('**'))) fail(`a snippet shows raw markup: ${texts.join(' | ')}`);
    const marked = await snippets.locator('mark').allTextContents();
    if (!marked.length || !marked.every((m) => /refund/i.test(m))) fail(`the matches are not marked: ${JSON.stringify(marked)}`);
    const injected = await page.evaluate(() => ({ pwned: window.pwned, tags: document.querySelectorAll('.hits img, .hits b, .hits a[href^="javascript"]').length }));
    if (injected.pwned || injected.tags) fail(`an article's markup reached the page: ${JSON.stringify(injected)}`);
    await shoot(page, 'help');
  });

  for (const width of [1280, 1024]) {
    await check(`the wallboard's KPI tiles fill even rows at ${width} px (CSAT never alone), every value inside its tile`, async () => {
      const page = await open(`wallboard ${width}`, '/wallboard', 'dave@demo.example', { width, height: 800 });
      await page.getByTestId('kpi-csat-tile').waitFor();
      const tiles = await page.locator('.tiles > .tile').evaluateAll((els) => els.map((el) => {
        const v = el.querySelector('.value');
        return { top: Math.round(el.getBoundingClientRect().top), fits: v.scrollWidth <= v.clientWidth };
      }));
      const rows = new Map();
      for (const t of tiles) rows.set(t.top, (rows.get(t.top) || 0) + 1);
      const counts = [...rows.values()];
      if (new Set(counts).size !== 1) fail(`tiles per row: ${counts.join(', ')}`);
      if (!tiles.every((t) => t.fits)) fail('a KPI value overflows its tile');
      await shoot(page, `wallboard-${width}`);
    });
  }

  const desk = await open('desktop', '/desktop', 'alice@demo.example');
  const select = desk.getByTestId('state-select');
  await select.waitFor();
  await select.selectOption('available');
  await waitFor('Alice available', async () => /Waiting for contacts/.test(await desk.getByTestId('conv-list').textContent()));

  await check('a 1 MB attribute shows its start and "Show more" opens it in a box of bounded height', async () => {
    const big = 'log line '.repeat(111000);
    const contact = await api('POST', 'contacts', { queue: 2, channel: 'api', customer_identity: { kind: 'email', value: 'big@example.com' }, attributes: { log: big } });
    const offer = desk.locator(`[data-testid=offer][data-contact="${contact.id}"]`);
    await offer.waitFor({ timeout: 15000 });
    await offer.getByTestId('offer-accept').click();
    const conv = desk.locator(`[data-testid=conversation][data-contact="${contact.id}"]`);
    await conv.waitFor();
    await desk.getByTestId('contact-attributes').waitFor();
    const values = desk.getByTestId('long-value');
    await waitFor('the long values', async () => (await values.count()) >= 2);
    for (const v of await values.all()) {
      const len = (await v.textContent()).length;
      if (len > 400) fail(`a closed long value shows ${len} characters`);
    }
    const more = desk.getByTestId('contact-attributes').getByTestId('show-more');
    await more.click();
    const open = desk.getByTestId('contact-attributes').getByTestId('long-value');
    const box = await open.evaluate((el) => ({ text: el.textContent.length, height: el.clientHeight, scroll: el.scrollHeight }));
    if (box.text !== big.length || box.height > 320 || box.scroll <= box.height) fail(`the open value: ${JSON.stringify(box)}`);
    const page = await desk.evaluate(() => document.documentElement.scrollHeight);
    if (page > 800) fail(`the page grew to ${page} px`);
    await shoot(desk, 'desktop-long-value');
    await conv.getByTestId('wrapup-open').click();
    await desk.getByTestId('wrapup-disposition').selectOption({ index: 1 });
    await desk.getByTestId('wrapup-submit').click();
    await conv.waitFor({ state: 'detached' });
  });

  const customer = await open('customer', '/demo', null, { width: 1280, height: 800 });
  let convId;
  await check('a customer asks for a person and Alice accepts', async () => {
    await customer.getByTestId('sb-launcher').click();
    const prechat = customer.getByTestId('sb-prechat');
    const input = customer.getByTestId('sb-input');
    await waitFor('the widget form or composer', async () => (await prechat.isVisible()) || (await input.isVisible()));
    if (await prechat.isVisible()) {
      await prechat.locator('input[name=name]').fill('Sam').catch(() => {});
      await prechat.locator('input[type=email]').fill('sam@example.com').catch(() => {});
      await customer.getByTestId('sb-start').click();
    }
    await input.fill('I would like to talk to a person, please.');
    await input.press('Enter');
    const offer = desk.getByTestId('offer').first();
    await offer.waitFor({ timeout: 15000 });
    convId = await offer.getAttribute('data-contact');
    await offer.getByTestId('offer-accept').click();
    await desk.locator(`[data-testid=conversation][data-contact="${convId}"]`).waitFor();
    await desk.getByTestId('composer-input').fill('Hello Sam, Alice here.');
    await desk.getByTestId('composer-input').press('Enter');
    await input.fill('Thanks 👍 my order is late');
    await input.press('Enter');
    await waitFor('the customer message at the desktop', async () => /order is late/.test(await desk.locator('[data-testid=msg][data-from=customer]').last().textContent()));
  });

  await check('on a contact the state control says "Available · on contact": one control, no contradicting badge', async () => {
    await waitFor('the work on the state control', async () => (await select.getAttribute('data-state')) === 'on_contact', 20000);
    const shown = await select.evaluate((el) => el.selectedOptions[0].textContent);
    if (shown !== 'Available · on contact') fail(`the state control shows "${shown}"`);
    const bar = await desk.locator('header.topbar').textContent();
    if (/\bOn contact\b/.test(bar.replace(shown, ''))) fail(`the top bar names the state twice: ${bar}`);
  });

  await check('the customer panel lists earlier contacts and does not repeat the conversation on screen', async () => {
    const timeline = desk.getByTestId('timeline');
    await timeline.waitFor();
    await waitFor('the current contact in the history', async () => (await desk.locator(`[data-testid=timeline-entry][data-contact="${convId}"]`).count()) === 1);
    const words = await desk.getByTestId('customer-panel').textContent();
    for (const said of ['Alice here', 'order is late', 'talk to a person']) if (words.includes(said)) fail(`the customer panel repeats "${said}" from the conversation`);
    await shoot(desk, 'desktop');
  });

  await check('emoji are drawn in colour (an emoji font), not as boxes', async () => {
    await customer.getByTestId('sb-msg').last().waitFor();
    // A missing glyph is a grey box; a colour emoji font draws coloured pixels.
    const colour = await customer.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = c.height = 48;
      const g = c.getContext('2d');
      g.font = '36px sans-serif';
      g.textBaseline = 'top';
      g.fillText('👍', 4, 4);
      const px = g.getImageData(0, 0, 48, 48).data;
      let coloured = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 60) coloured += 1;
      return coloured;
    });
    if (colour < 50) fail(`the emoji has ${colour} coloured pixels: no emoji font (install fonts-noto-color-emoji)`);
    const sent = await customer.locator('[data-testid=sb-msg][data-from=customer]').last().textContent();
    if (!sent.includes('👍')) fail(`the widget shows "${sent}"`);
  });

  await check('"Alice is typing…" goes from the widget as soon as Alice clears the composer', async () => {
    const typing = customer.getByTestId('sb-typing');
    await desk.getByTestId('composer-input').pressSequentially('Let me check', { delay: 20 });
    await waitFor('"Alice is typing…" in the widget', async () => /Alice is typing/.test(await typing.textContent()));
    await shoot(customer, 'widget-typing');
    await desk.getByTestId('composer-input').fill('');
    // Sooner than the composer's idle pause (4 s) and the widget's fallback (8 s).
    await waitFor('the typing line to go', async () => (await typing.textContent()) === '', 2000);
  });
}

try {
  console.log(`UI checks against ${BASE}`);
  await main();
} catch (e) {
  // Set-up outside a check (the desktop's login) failed: nothing after it can run.
  failed += 1;
  console.error(`FAILED: ${e instanceof Failure ? e.message : e.stack || e}`);
  await screenshotsOfFailure();
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
console.log(`screenshots: ${join(shots, 'ui-*.png')}`);
if (failed) process.exitCode = 1;
