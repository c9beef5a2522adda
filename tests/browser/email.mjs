#!/usr/bin/env node
// The email story in a real browser, against a demo server and a real SMTP
// sink (aiosmtpd, crates/email/tests/sink.py):
//
//   the admin gives the demo mailbox a relay (the sink) and a signature on
//   the admin page; a customer's email (raw SMTP from here to the demo's
//   listener, with a Cc, an HTML part and quoted history) is offered to
//   Alice; she sees it made safe with its history folded, replies to all
//   with the signature and the quote the composer put in, a subject kept,
//   and a file; the sink gets it with its threading headers, the Cc and the
//   file; the customer's answer to it threads back into the same
//   conversation on her screen. Then the admin makes a one-minute SLA
//   policy that a rule applies to emails whose subject asks for it: such an
//   email counts down in Alice's list and header, turns breached, and her
//   reply clears it.
//
//   SWITCHBOARD_URL=http://127.0.0.1:8099 SWITCHBOARD_SMTP=127.0.0.1:2525 node email.mjs
//
// Needs python3 with aiosmtpd (scripts/test installs it). Alice must be
// free of other work: run it on a demo server after the other stories.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Failure, apiAs as apiLogin, fail, until } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const BASE = (process.env.SWITCHBOARD_URL || '').replace(/\/$/, '');
const SMTP = process.env.SWITCHBOARD_SMTP || '127.0.0.1:2525';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = process.env.SCREENSHOTS || tmpdir();
const PASSWORD = 'switchboard-demo';
const MAILBOX = 'support@demo.example';
const WAIT = 20000; // for a locator to appear

if (!BASE || !existsSync(CHROMIUM)) {
  console.error('Set SWITCHBOARD_URL to a demo server (and SWITCHBOARD_SMTP to its listener), and CHROMIUM if Chromium is not at /usr/bin/chromium.');
  process.exit(2);
}
const { chromium } = await import('playwright-core');

let passed = 0;
const pages = [];
const errors = [];
async function step(name, fn) {
  const t = Date.now();
  await fn();
  passed += 1;
  console.log(`  ok  ${name} (${Date.now() - t} ms)`);
}

// ----- SMTP: a plain client of our listener, and the sink replies reach ------

/** Sends `message` (headers and body, `\n` line ends) over SMTP; throws on any refusal. */
async function smtpSend(from, to, message) {
  const [host, port] = [SMTP.slice(0, SMTP.lastIndexOf(':')), Number(SMTP.slice(SMTP.lastIndexOf(':') + 1))];
  const socket = net.connect(port, host);
  socket.setEncoding('utf8');
  let buffer = '';
  const waiting = [];
  const replies = [];
  socket.on('data', (chunk) => {
    buffer += chunk;
    let m;
    while ((m = /^(\d{3})([ -])(.*)\r\n/.exec(buffer))) {
      buffer = buffer.slice(m[0].length);
      if (m[2] === ' ') replies.push(`${m[1]} ${m[3]}`);
    }
    while (waiting.length && replies.length) waiting.shift()(replies.shift());
  });
  const error = new Promise((_, reject) => socket.on('error', reject));
  const reply = () => Promise.race([error, new Promise((r) => (replies.length ? r(replies.shift()) : waiting.push(r)))]);
  const expect = async (command, code) => {
    if (command !== null) socket.write(`${command}\r\n`);
    const answer = await reply();
    if (!answer.startsWith(code)) fail(`SMTP ${command ?? 'greeting'} answered ${answer}`);
    return answer;
  };
  await expect(null, '220');
  await expect('EHLO customer.example', '250');
  await expect(`MAIL FROM:<${from}>`, '250');
  await expect(`RCPT TO:<${to}>`, '250');
  await expect('DATA', '354');
  const data = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  const answer = await expect(`${data}\r\n.`, '250');
  await expect('QUIT', '221');
  socket.end();
  return answer;
}

async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** aiosmtpd writing each message it takes to DIR/N.eml (the envelope in N.env). */
async function startSink() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-email-sink-'));
  const child = spawn('python3', [join(repo, 'crates/email/tests/sink.py'), String(port), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolveReady, reject) => {
    child.on('exit', (code) => reject(new Error(`the sink exited (${code}): is aiosmtpd installed?`)));
    child.stdout.on('data', (d) => String(d).includes('ready') && resolveReady());
  });
  return {
    port,
    message: (n) => until(`message ${n} at the sink`, () => existsSync(join(dir, `${n}.eml`)) && readFileSync(join(dir, `${n}.eml`), 'utf8')),
    envelope: (n) => readFileSync(join(dir, `${n}.env`), 'utf8').trim().split('\n'),
    stop: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A header of a raw message (unfolded), or null. */
function header(raw, name) {
  const head = raw.split('\r\n\r\n')[0].replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : null;
}

// ----- the story ----------------------------------------------------------------

const sink = await startSink();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: !process.env.HEADED, args: ['--no-sandbox'] });
async function open(who, path, email) {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage();
  pages.push([who, page]);
  page.on('pageerror', (e) => errors.push(`${who}: uncaught ${e.message}`));
  await page.goto(`${BASE}${path}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  return page;
}

const SIGNATURE = 'The Acme Outdoor support team\nacme-outdoor.example';
const stamp = Date.now().toString(36);
const firstId = `<nora-${stamp}@customer.example>`;
let ourId = null;

try {
  const admin = await apiLogin(BASE, 'admin@demo.example', PASSWORD);

  await step('the admin gives the demo mailbox a relay and a signature on the admin page', async () => {
    const endpoints = (await admin('GET', 'endpoints')).body.endpoints;
    const mailbox = endpoints.find((e) => e.channel === 'email' && e.address === MAILBOX);
    if (!mailbox) fail(`no email endpoint ${MAILBOX} in the demo`);
    const page = await open('admin', '/admin#endpoints', 'admin@demo.example');
    await page.getByTestId('endpoints-list').locator(`[data-testid=list-item][data-key="${mailbox.id}"]`).click();
    await page.getByTestId('endpoint-settings').fill(JSON.stringify({ smtp_host: '127.0.0.1', smtp_port: sink.port, smtp_tls: 'none' }));
    await page.getByTestId('endpoint-signature').fill(SIGNATURE);
    await page.getByTestId('endpoint-save').click();
    await until('the settings saved', async () => {
      const saved = (await admin('GET', `endpoints/${mailbox.id}`)).body;
      return saved.settings.signature === SIGNATURE && saved.settings.smtp_port === sink.port;
    });
    await page.close();
  });

  // Only Alice takes this email: everyone else is offline.
  const agents = (await admin('GET', 'agents')).body;
  for (const a of agents.agents || agents) {
    if (a.email !== 'alice@demo.example' && a.name !== 'Alice') await admin('POST', `agents/${a.id ?? a.user}/state`, { state: 'offline' });
  }

  const desk = await open('alice', '/desktop', 'alice@demo.example');
  await step('Alice logs into the desktop and goes available', async () => {
    await desk.getByTestId('state-select').selectOption('available');
    // She may still be on a chat from the stories before: emails have capacity of their own.
    await until('Alice to be available', async () => (await desk.getByTestId('state-select').inputValue()) === 'available');
  });

  let conv = null;
  await step('a customer’s email (HTML, a Cc, quoted history) is offered to Alice, shown safe with its history folded', async () => {
    await smtpSend('nora@customer.example', MAILBOX, [
      'From: Nora Quinn <nora@customer.example>',
      `To: Acme support <${MAILBOX}>`,
      'Cc: Max Quinn <max@customer.example>',
      `Subject: Tent zip broken ${stamp}`,
      `Message-ID: ${firstId}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The zip of my tent broke on the first night.',
      '',
      'On Sun, 30 Nov 2026, Acme Outdoor <news@acme-outdoor.example> wrote:',
      '> Our autumn sale starts today!',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>The zip of my tent <b>broke</b> on the first night.<script>alert(1)</script><img src="https://tracker.example/p.gif" alt="pixel"></p>',
      '<div>On Sun, 30 Nov 2026, Acme Outdoor wrote:<blockquote>Our autumn sale starts today!</blockquote></div>',
      '--b1--',
      '',
    ].join('\n'));
    [, conv] = await acceptNext(desk);
    const first = conv.locator('[data-testid=msg][data-from=customer]').first();
    await first.waitFor({ timeout: WAIT });
    const html = first.getByTestId('msg-html');
    await until('the message as HTML', async () => /broke/.test(await html.innerHTML()));
    const inner = await html.innerHTML();
    if (/<script|tracker\.example|onerror/i.test(inner)) fail(`unsafe HTML shown: ${inner}`);
    if (!/<b>broke<\/b>/.test(inner)) fail(`the formatting is lost: ${inner}`);
    const quoted = first.getByTestId('msg-quoted');
    if ((await quoted.count()) !== 1 || (await quoted.getAttribute('open')) !== null) fail('the quoted history is not folded');
    if (!(await first.getByTestId('msg-mail-head').textContent()).includes(`Tent zip broken ${stamp}`)) fail('no subject on the message');
  });

  await step('Alice replies to all with the signature, the quote and a file; the sink gets it threaded', async () => {
    const to = conv.getByTestId('mail-to');
    await until('the reply’s recipient', async () => (await to.inputValue()) === 'nora@customer.example');
    await conv.getByTestId('mail-mode').selectOption('all');
    const cc = await conv.getByTestId('mail-cc').inputValue();
    if (cc !== 'max@customer.example') fail(`reply all copies ${JSON.stringify(cc)}, not Max alone (never our own address)`);
    const subject = await conv.getByTestId('mail-subject').inputValue();
    if (subject !== `Re: Tent zip broken ${stamp}`) fail(`the subject is ${JSON.stringify(subject)}`);
    const body = conv.getByTestId('mail-body');
    const draft = await body.inputValue();
    if (!draft.includes(`-- \n${SIGNATURE}`) || !/Nora Quinn wrote:\n> The zip of my tent broke on the first night\./.test(draft)) fail(`the draft lacks the signature or the quote: ${JSON.stringify(draft)}`);
    if (draft.includes('autumn sale')) fail('the quote repeats the customer’s own quoted history');
    await body.focus();
    await body.evaluate((el) => el.setSelectionRange(0, 0));
    await desk.keyboard.type('Sorry about that, Nora. A new zip is on its way **today**; the receipt is attached.');
    await conv.getByTestId('composer-file').setInputFiles({ name: 'receipt.txt', mimeType: 'text/plain', buffer: Buffer.from('Receipt 1042: one tent zip, no charge.\n') });
    await until('the file listed', async () => (await conv.getByTestId('mail-file').count()) === 1);
    await shoot(desk, 'email-reply');
    await conv.getByTestId('composer-send').click();
    const mine = conv.locator('[data-testid=msg][data-from=agent]').last();
    await until('the reply marked sent', async () => (await mine.getByTestId('msg-ticks').getAttribute('data-delivery')) === 'sent');
    if (!(await mine.getByTestId('msg-attachment').textContent()).includes('receipt.txt')) fail('the reply does not show its file');

    const raw = await sink.message(1);
    ourId = header(raw, 'Message-ID');
    const checks = {
      subject: header(raw, 'Subject') === `Re: Tent zip broken ${stamp}`,
      'in-reply-to': header(raw, 'In-Reply-To') === firstId,
      references: header(raw, 'References') === firstId,
      'message-id': /^<c\d+\.m\d+\.[0-9a-f]{16}@demo\.example>$/.test(ourId || ''),
      cc: (header(raw, 'Cc') || '').includes('max@customer.example'),
      'bold as HTML': raw.includes('<strong>today</strong>'),
      signature: raw.includes('The Acme Outdoor support team'),
      quote: raw.includes('> The zip of my tent broke on the first night.'),
      file: /filename="?receipt\.txt"?/.test(raw),
      envelope: JSON.stringify(sink.envelope(1)) === JSON.stringify([MAILBOX, 'nora@customer.example', 'max@customer.example']),
    };
    const missing = Object.entries(checks).filter(([, ok]) => !ok).map(([k]) => k);
    if (missing.length) fail(`the message at the sink is wrong in: ${missing.join(', ')}\n${raw.slice(0, 3000)}`);
  });

  await step('the customer’s answer threads back into the same conversation', async () => {
    await smtpSend('nora@customer.example', MAILBOX, [
      'From: Nora Quinn <nora@customer.example>',
      `To: ${MAILBOX}`,
      `Subject: Re: Tent zip broken ${stamp}`,
      `Message-ID: <nora-2-${stamp}@customer.example>`,
      `In-Reply-To: ${ourId}`,
      `References: ${firstId} ${ourId}`,
      '',
      'Thank you, it arrived!',
      '',
      'On Sat, 5 Dec 2026, Acme Outdoor support wrote:',
      '> Sorry about that, Nora.',
      '',
    ].join('\n'));
    const answer = conv.locator('[data-testid=msg][data-from=customer]').nth(1);
    await answer.waitFor({ timeout: WAIT });
    const text = await answer.textContent();
    if (!text.includes('Thank you, it arrived!')) fail(`the answer shows ${JSON.stringify(text)}`);
    if ((await answer.getByTestId('msg-quoted').getAttribute('open')) !== null) fail('the answer’s quote is not folded');
    await shoot(desk, 'email-thread');
  });

  await step('Alice wraps the email up', async () => {
    await wrapUp(conv);
  });
  let rush = null;
  await step('the admin makes a one-minute SLA policy on the admin page; a rule applies it to emails whose subject asks', async () => {
    const page = await open('admin-sla', '/admin#sla', 'admin@demo.example');
    await page.getByTestId('sla-new').click();
    await page.getByTestId('sla-name').fill(`Rush ${stamp}`);
    await page.getByTestId('sla-first').fill('1');
    await page.getByTestId('sla-first-unit').selectOption('minutes');
    await page.getByTestId('sla-save').click();
    rush = await until('the policy saved', async () => (await admin('GET', 'sla-policies')).body.sla_policies.find((p) => p.name === `Rush ${stamp}`));
    if (rush.first_response_seconds !== 60) fail(`the policy's first response is ${rush.first_response_seconds} s`);
    await page.getByTestId('sla-list').locator(`[data-testid=list-item][data-key="${rush.id}"]`).waitFor({ timeout: WAIT });
    await page.close();
    const rule = await admin('POST', 'rules', {
      name: `Rush ${stamp}`,
      event: 'contact_created',
      conditions: [{ field: 'channel', op: 'equals', value: 'email' }, { field: 'subject', op: 'contains', value: `rush ${stamp}` }],
      actions: [{ type: 'apply_sla_policy', policy: rush.id }],
    });
    if (rule.status !== 201) fail(`the rule answered ${rule.status} ${JSON.stringify(rule.body)}`);
  });

  await step('that email shows its time left in the list and the header, then breached; Alice’s reply clears it', async () => {
    await smtpSend('otto@customer.example', MAILBOX, [
      'From: Otto Berg <otto@customer.example>',
      `To: ${MAILBOX}`,
      `Subject: RUSH ${stamp}: where is my parcel?`,
      `Message-ID: <otto-${stamp}@customer.example>`,
      '',
      'It was due yesterday.',
      '',
    ].join('\n'));
    const [contact, rushed] = await acceptNext(desk);
    const head = rushed.getByTestId('conv-sla').getByTestId('sla-badge');
    const item = desk.locator(`[data-testid=conv-item][data-contact="${contact}"]`).getByTestId('sla-badge');
    // The queue has no targets of its own: the badge is the policy's.
    await until('a countdown in the header', async () => /^0:[0-5]\d left$/.test(await head.textContent()) && (await head.getAttribute('data-state')) === 'running');
    await until('a countdown in the list', async () => / left$/.test(await item.textContent()));
    const before = await head.textContent();
    await until('the header counting down', async () => (await head.textContent()) !== before);
    await shoot(desk, 'email-sla-countdown');
    // The minute passes: the badge says so, and so does the server.
    await until('breached in the header and the list', async () => (await head.textContent()) === 'Breached' && (await head.getAttribute('data-state')) === 'breached' && (await item.textContent()) === 'Breached', 90000);
    await until('the breach on the server', async () => (await admin('GET', `contacts/${contact}`)).body.sla?.state === 'breached');
    await shoot(desk, 'email-sla-breached');
    const body = rushed.getByTestId('mail-body');
    await body.focus();
    await body.evaluate((el) => el.setSelectionRange(0, 0));
    await desk.keyboard.type('It is on its way, Otto: tracking ZX123.');
    await rushed.getByTestId('composer-send').click();
    await until('the badge gone after the reply', async () => (await rushed.getByTestId('sla-badge').count()) === 0 && (await item.count()) === 0);
    await wrapUp(rushed);
  });

  if (errors.length) fail(`errors in the pages:\n${errors.join('\n')}`);
  console.log(`email: ${passed} steps passed`);
} catch (e) {
  console.error(`FAIL  ${e instanceof Failure ? e.message : e.stack || e}`);
  for (const [who, page] of pages) {
    const file = join(tmpdir(), `switchboard-email-failure-${who}.png`);
    await page.screenshot({ path: file, timeout: 5000 }).then(() => console.error(`  screenshot of ${who}: ${file}`), () => {});
  }
  process.exitCode = 1;
} finally {
  await browser.close();
  sink.stop();
}

/** Waits for the agent's next offer and accepts it: the contact's id and its conversation. */
async function acceptNext(desk) {
  const offer = desk.getByTestId('offer').first();
  await offer.waitFor({ timeout: WAIT });
  const contact = await offer.getAttribute('data-contact');
  await offer.getByTestId('offer-accept').click();
  return [contact, desk.locator(`[data-testid=conversation][data-contact="${contact}"]`)];
}

/** Wraps the conversation `conv` up as resolved; it leaves the screen. */
async function wrapUp(conv) {
  await conv.getByTestId('wrapup-open').click();
  const d = conv.getByTestId('wrapup-disposition');
  if ((await d.evaluate((el) => el.tagName)) === 'SELECT') {
    const values = await d.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    await d.selectOption(values.find((v) => /resolv/i.test(v)) || values[0]);
  } else await d.fill('resolved');
  await conv.getByTestId('wrapup-submit').click();
  await conv.waitFor({ state: 'detached', timeout: WAIT });
}

async function shoot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}
