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

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fail, session, waitFor } from './harness.mjs';

const shots = process.env.SCREENSHOTS || tmpdir();
const { open: login, check, finish } = await session('reports');
const open = (who, email) => login(who, email, '/reports');

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
    // Found by its header: columns come and go as reports gain measures.
    const table = page.getByTestId('report-table');
    const headers = await table.locator('thead th').allTextContents();
    const column = headers.indexOf('Occupancy');
    if (column < 0) fail(`no Occupancy column in ${headers.join(', ')}`);
    const occupancy = await table.locator('tbody tr', { hasText: 'Alice' }).first().locator('th, td').nth(column).textContent();
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
  await finish();
}
