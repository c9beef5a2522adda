// What the page scripts run against a demo server share: the server and
// Chromium from the environment, checks that report and go on, polling,
// logged-in pages whose last screen is saved when a check fails, and the
// API as a user (for setting up and checking; the pages are what is tested).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const BASE = (process.env.SWITCHBOARD_URL || '').replace(/\/$/, '');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const PASSWORD = 'switchboard-demo';

if (!BASE || !existsSync(CHROMIUM)) {
  console.error('Set SWITCHBOARD_URL to a demo server, and CHROMIUM if Chromium is not at /usr/bin/chromium.');
  process.exit(2);
}
const { chromium } = await import('playwright-core');

export class Failure extends Error {}
export const fail = (message) => {
  throw new Failure(message);
};

/** Polls `fn` until it is `true`, or fails naming `what` and the last value seen. */
export async function waitFor(what, fn, timeout = 15000) {
  const end = Date.now() + timeout;
  let seen;
  while (Date.now() < end) {
    seen = await fn().catch((e) => e.message);
    if (seen === true) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${what} (last seen: ${String(seen).slice(0, 300)})`);
}

/**
 * A browser for the script `name`: `open(who, email, path)` logs in on a
 * page of its own, `check(title, fn)` runs one check (a failure is reported
 * with every page's screen and the next check still runs), `finish()`
 * closes the browser and exits with the verdict.
 */
export async function session(name) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: !process.env.HEADED, args: ['--no-sandbox'] });
  const pages = [];
  let passed = 0;
  let failed = 0;
  return {
    async open(who, email, path) {
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
      pages.push([who, page]);
      await page.goto(`${BASE}${path}`);
      await page.getByTestId('login-email').fill(email);
      await page.getByTestId('login-password').fill(PASSWORD);
      await page.getByTestId('login-submit').click();
      return page;
    },
    async check(title, fn) {
      try {
        await fn();
        passed += 1;
        console.log(`  ok  ${title}`);
      } catch (e) {
        failed += 1;
        console.error(`FAIL  ${title}: ${e instanceof Failure ? e.message : e.stack || e}`);
        for (const [who, page] of pages) {
          const file = join(tmpdir(), `switchboard-${name}-failure-${who}.png`);
          await page.screenshot({ path: file, timeout: 5000 }).then(() => console.error(`  screenshot of ${who}: ${file}`), () => {});
        }
      }
    },
    async finish() {
      await browser.close();
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}

/** Waits until `fn` returns something truthy (polling), or fails with `what`. */
export async function until(what, fn, timeout = 20000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`timed out waiting for ${what}${last ? ` (last seen: ${String(last).slice(0, 200)})` : ''}`);
}

/** Logs `email` in over the API: a function `(method, path, body)` answering `{status, body}`. */
export async function apiAs(base, email, password) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!r.ok) fail(`login of ${email} over the API answered ${r.status}`);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1/${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}
