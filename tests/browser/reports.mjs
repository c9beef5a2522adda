#!/usr/bin/env node
// The Reports page in a real browser against a fresh demo server, which
// starts with four weeks of generated history:
//
//   an agent is turned away; a supervisor sees the last 7 days by queue
//   (rows for the demo's queues, a chart of contacts with bars); by agent
//   (Alice, Bob, Carol with occupancy); the CSV link answers CSV with the
//   same number of lines as the table has rows; a custom range with nothing
//   in it says so. Saves docs/screenshots/reports.png when SCREENSHOTS_DOCS
//   is set, else reports.png in SCREENSHOTS (default: the temp directory).
//
//   SWITCHBOARD_URL=http://127.0.0.1:8099 node reports.mjs

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const BASE = (process.env.SWITCHBOARD_URL || '').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = process.env.SCREENSHOTS || tmpdir();
const PASSWORD = 'switchboard-demo';

if (!BASE || !existsSync(CHROMIUM)) {
  console.error('Set SWITCHBOARD_URL to a demo server, and CHROMIUM if Chromium is not at /usr/bin/chromium.');
  process.exit(2);
}
const { chromium } = await import('playwright-core');

class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message);
};

let passed = 0;
let failed = 0;
const pages = [];
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`  ok  ${name}`);
  } catch (e) {
    failed += 1;
    console.error(`FAIL  ${name}: ${e instanceof Failure ? e.message : e.stack || e}`);
    for (const [who, page] of pages) {
      const file = join(tmpdir(), `switchboard-reports-failure-${who}.png`);
      await page.screenshot({ path: file, timeout: 5000 }).then(() => console.error(`  screenshot of ${who}: ${file}`), () => {});
    }
  }
}

async function waitFor(what, fn, timeout = 15000) {
  const end = Date.now() + timeout;
  let seen;
  while (Date.now() < end) {
    seen = await fn().catch((e) => e.message);
    if (seen === true) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${what} (last seen: ${String(seen).slice(0, 300)})`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: !process.env.HEADED, args: ['--no-sandbox'] });
async function open(who, email) {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
  pages.push([who, page]);
  await page.goto(`${BASE}/reports`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  return page;
}

const rowsOf = (page) => page.getByTestId('report-row').count();

try {
  mkdirSync(shots, { recursive: true });
  await check('an agent is told the reports need a supervisor', async () => {
    const page = await open('agent', 'alice@demo.example');
    await waitFor('the wrong-role notice', async () => /needs a supervisor/.test(await page.locator('main.login .notice.error').textContent({ timeout: 1000 })));
  });

  const page = await open('supervisor', 'dave@demo.example');
  await check('the last 7 days by queue: a row per queue and day, and a chart with bars', async () => {
    await page.getByTestId('report-table').waitFor();
    await waitFor('rows of the demo history', async () => (await rowsOf(page)) >= 7 || `${await rowsOf(page)} rows`);
    const text = await page.getByTestId('report-table').textContent();
    for (const queue of ['Billing', 'Support']) if (!text.includes(queue)) fail(`no ${queue} row: ${text.slice(0, 300)}`);
    const bars = await page.getByTestId('report-volume-chart').locator('rect').count();
    if (bars < 7) fail(`${bars} bars in the contacts chart`);
  });

  await check('by agent: Alice, Bob and Carol with an occupancy', async () => {
    await page.getByTestId('report-dimension').selectOption('agents');
    await waitFor('the agents', async () => {
      const text = await page.getByTestId('report-table').textContent({ timeout: 1000 });
      return (['Alice', 'Bob', 'Carol'].every((n) => text.includes(n)) && text.includes('Occupancy')) || text.slice(0, 200);
    });
    const occupancy = await page.getByTestId('report-table').locator('tbody tr', { hasText: 'Alice' }).first().locator('td').nth(11).textContent();
    if (!/^\d+%$/.test(occupancy)) fail(`Alice's occupancy reads "${occupancy}"`);
  });

  await check('Export CSV answers CSV: a header and a line per row of the table', async () => {
    const href = await page.getByTestId('report-csv').getAttribute('href');
    if (!/format=csv/.test(href)) fail(`the link is ${href}`);
    const got = await page.evaluate(async (url) => {
      const r = await fetch(url, { credentials: 'same-origin' });
      return { type: r.headers.get('content-type'), text: await r.text() };
    }, href);
    if (!got.type.startsWith('text/csv')) fail(`content type ${got.type}`);
    const lines = got.text.trim().split('\n');
    if (!lines[0].startsWith('start,start_local,id,name,')) fail(`header ${lines[0]}`);
    const rows = await rowsOf(page);
    if (lines.length !== rows + 1) fail(`${lines.length} CSV lines for ${rows} rows`);
  });

  await check('hourly figures over last week by queue, then a screenshot', async () => {
    await page.getByTestId('report-dimension').selectOption('queues');
    await page.getByTestId('report-range').selectOption('lastweek');
    await page.getByTestId('report-interval').selectOption('day');
    await waitFor('last week by queue', async () => (await rowsOf(page)) >= 14 || `${await rowsOf(page)} rows`);
    const file = process.env.SCREENSHOTS_DOCS ? join(process.env.SCREENSHOTS_DOCS, 'reports.png') : join(shots, 'reports.png');
    await page.screenshot({ path: file, fullPage: true });
  });

  await check('a custom range in the future has nothing in it, and says so', async () => {
    await page.getByTestId('report-range').selectOption('custom');
    await page.getByTestId('report-from').fill('2099-01-01');
    await page.getByTestId('report-to').fill('2099-01-08');
    await page.getByTestId('report-to').dispatchEvent('change');
    await waitFor('the empty table', async () => /Nothing happened in this range/.test(await page.getByTestId('report-table').textContent({ timeout: 1000 })));
  });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
