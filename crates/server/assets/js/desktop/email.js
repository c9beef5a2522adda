// Email in the desktop: a received message shown with its quoted history
// and signature folded away, and the reply composer — To, Cc and Bcc filled
// for a reply or a reply to all, the subject kept ("Re: …"), rich text
// (the Markdown subset of richtext.js, sent as text and as HTML), files,
// canned responses, the endpoint's signature and the previous message
// quoted below.

import { h } from '../dom.js';
import { render } from '../richtext.js';
import { Composer } from './composer.js';

/** The subject of a reply: "Re: " once. */
export function reSubject(subject) {
  const s = String(subject || '').trim();
  if (!s) return 'Re: your message';
  return /^re:/i.test(s) ? s : `Re: ${s}`;
}

/** Addresses as one comma-separated line, and back (empty entries dropped). */
export const joinAddresses = (list) => (list || []).join(', ');
export const splitAddresses = (line) => String(line || '').split(/[,;\s]+/).map((a) => a.trim()).filter(Boolean);

/**
 * Where a reply goes, from the conversation's attributes (`email_from`:
 * the customer; `email_to`: our address) and its latest customer message
 * (`to`, `cc`, `subject`): the customer alone, or with `all` everyone else
 * that message named too, never our own address and nobody twice.
 */
export function replyDefaults(messages, attributes, all) {
  const attrs = attributes || {};
  const last = [...(messages || [])].reverse().find((m) => m.from === 'customer') || {};
  const to = attrs.email_from ? [attrs.email_from] : [];
  const skip = new Set([...to, attrs.email_to].filter(Boolean).map((a) => a.toLowerCase()));
  const cc = [];
  if (all) {
    for (const a of [...(last.to || []), ...(last.cc || [])]) {
      if (skip.has(a.toLowerCase())) continue;
      skip.add(a.toLowerCase());
      cc.push(a);
    }
  }
  return { to, cc, subject: reSubject(last.subject || attrs.subject) };
}

/** The latest customer message as the quote under a reply, in the editor's syntax. */
// Browsers put narrow no-break spaces in times; a plain space keeps the quote's line plain ASCII.
export function quoteOf(message, when = (at) => new Date(at).toLocaleString().replace(/\s/g, ' ')) {
  if (!message || !message.text) return '';
  const who = message.name || 'The customer';
  const lines = splitQuoted(message.text).body.split('\n');
  return `On ${when(message.at)}, ${who} wrote:\n${lines.map((l) => (l ? `> ${l}` : '>')).join('\n')}`;
}

/** The editor's opening text: room to write, the signature, the quote. */
export function draftOf(signature, quote) {
  return ['', signature ? `-- \n${signature}` : null, quote || null].filter((p) => p !== null).join('\n\n');
}

const HISTORY_START = [
  /^-{2,}\s*Original Message\s*-{2,}\s*$/i, // Outlook
  /^_{10,}\s*$/, // Outlook's rule before the forwarded header block
  /^-- $/, // the signature delimiter (RFC 3676)
  /^Sent from my /i,
];

/**
 * A text message split into what was written this time and what came
 * before: a trailing quote (its "On … wrote:" line included), a signature,
 * an Outlook "Original Message". Everything stays, only folded.
 */
export function splitQuoted(text) {
  const lines = String(text || '').split(/\r?\n/);
  let cut = lines.findIndex((l) => HISTORY_START.some((re) => re.test(l)));
  if (cut < 0) cut = lines.length;
  // A quote that runs to the end (blank lines allowed between its lines).
  let q = cut;
  while (q > 0 && (lines[q - 1].startsWith('>') || (!lines[q - 1].trim() && q < cut))) q -= 1;
  while (q < cut && !lines[q].startsWith('>')) q += 1;
  if (q < cut) {
    // Its introduction, the line (or two: clients wrap it) before it ending in "wrote:".
    let intro = q;
    while (intro > 0 && !lines[intro - 1].trim()) intro -= 1;
    if (intro > 0 && /wrote:\s*$/i.test(lines[intro - 1])) intro -= /^On /i.test(lines[intro - 1]) || intro < 2 ? 1 : 2;
    cut = intro;
  }
  const body = lines.slice(0, cut).join('\n').trimEnd();
  const history = lines.slice(cut).join('\n').trim();
  // A message that is all history (a forward) is shown whole.
  return body.trim() ? { body, history } : { body: history, history: '' };
}

function folded(content) {
  return h('details', { class: 'quoted', dataset: { testid: 'msg-quoted' } }, h('summary', null, 'Show quoted text'), content);
}

/**
 * A message's body for the thread: its sanitised HTML (the server keeps
 * only a safe subset), top-level quotes folded; else its text, history
 * folded.
 */
export function emailBody(m) {
  if (m.html) {
    const t = document.createElement('template');
    t.innerHTML = m.html;
    const content = t.content;
    for (const q of [...content.querySelectorAll('blockquote')].filter((b) => !b.parentElement?.closest('blockquote'))) {
      // Only history after something written: a message that is one quote stays open.
      if (q.previousElementSibling || q.parentElement) q.replaceWith(folded(q.cloneNode(true)));
    }
    return h('div', { class: 'text html', dataset: { testid: 'msg-html' } }, content);
  }
  const { body, history } = splitQuoted(m.text);
  return h('div', { class: 'text' }, body, history ? folded(h('pre', { class: 'history' }, history)) : null);
}

/** What the sender check (SPF/DKIM/DMARC from a trusted relay) says: a badge's text, class and title. */
export function senderBadge(check) {
  if (!check) return null;
  const found = Object.entries(check.results || {}).map(([method, result]) => `${method}=${result}`).join(' ');
  const by = check.checked_by ? `checked by ${check.checked_by}: ${found || 'no results'}` : 'no trusted relay checked this message';
  if (check.verdict === 'trusted') return { text: 'Verified sender', cls: 'available', title: by };
  if (check.verdict === 'failed') return { text: 'Sender check failed', cls: 'failed', title: `${by}. The From address may be forged.` };
  return { text: 'Sender not verified', cls: 'offline', title: by };
}

/** The heading of an email message: subject, who else it went to, and the sender check. */
export function emailHeading(m) {
  const bits = [];
  if (m.to && m.to.length) bits.push(`To ${joinAddresses(m.to)}`);
  if (m.cc && m.cc.length) bits.push(`Cc ${joinAddresses(m.cc)}`);
  if (m.bcc && m.bcc.length) bits.push(`Bcc ${joinAddresses(m.bcc)}`);
  const check = senderBadge(m.sender_check);
  if (!m.subject && !bits.length && !check) return null;
  return h('div', { class: 'mail-head muted', dataset: { testid: 'msg-mail-head' } },
    check ? h('span', { class: ['badge', check.cls], title: check.title, dataset: { testid: 'msg-sender-check', verdict: m.sender_check.verdict } }, check.text) : null,
    check ? ' ' : null,
    m.subject ? h('strong', null, m.subject) : null, bits.length ? ` · ${bits.join(' · ')}` : null);
}

/** The reply as HTML: the editor's text rendered by the same safe renderer as the preview. */
export function htmlOf(text) {
  const box = document.createElement('div');
  box.append(...render(text));
  return box.innerHTML;
}

export class EmailComposer {
  /**
   * `canned()` as for the chat's composer; `onSend(reply)` posts
   * `{text, html, to, cc, bcc, subject, files}` (files are `File`s) and
   * returns a promise; `problem(file)` says why a file cannot go, or null.
   */
  constructor({ canned, onSend, problem, onProblem }) {
    this.files = [];
    this.onSendReply = onSend;
    this.problem = problem;
    this.onProblem = onProblem;
    this.context = { messages: [], attributes: {}, signature: null };
    this.edited = false;

    const input = (testid, label, attrs = {}) => h('input', { type: 'text', 'aria-label': label, dataset: { testid }, ...attrs });
    this.to = input('mail-to', 'To');
    this.cc = input('mail-cc', 'Cc');
    this.bcc = input('mail-bcc', 'Bcc');
    this.subject = input('mail-subject', 'Subject');
    this.mode = h('select', { 'aria-label': 'Reply to', dataset: { testid: 'mail-mode' } }, h('option', { value: 'one' }, 'Reply'), h('option', { value: 'all' }, 'Reply all'));
    this.mode.addEventListener('change', () => this.address());
    const row = (name, el, extra) => h('label', { class: 'mail-field' }, h('span', null, name), el, extra || null);
    this.fileList = h('ul', { class: 'files', dataset: { testid: 'mail-files' } });
    this.preview = h('div', { class: 'text html preview', hidden: true, dataset: { testid: 'mail-preview' } });

    this.body = new Composer({ canned, letter: true, onTyping: () => (this.edited = true), onFile: (f) => this.addFile(f), onSend: (text) => this.send(text) });
    this.body.input.setAttribute('aria-label', 'Message');
    this.body.input.dataset.testid = 'mail-body';
    const tool = (label, title, fn) => h('button', { type: 'button', title, onclick: () => fn() }, label);
    const previewButton = tool('Preview', 'Show the message as the customer sees it', () => this.togglePreview());
    this.body.el.querySelector('.tools').prepend(
      tool('B', 'Bold: **text**', () => this.wrap('**', '**')),
      tool('Link', 'Link: [text](https://…)', () => this.wrap('[', '](https://)')),
      tool('List', 'A list item: - ', () => this.wrap('\n- ', '')),
      tool('Quote', 'A quote: > ', () => this.wrap('\n> ', '')),
      previewButton,
    );
    this.body.el.insertBefore(this.preview, this.body.input.nextSibling);
    this.body.el.insertBefore(this.fileList, this.preview.nextSibling);

    this.el = h(
      'div',
      { class: 'mail-composer', dataset: { testid: 'mail-composer' } },
      h('div', { class: 'mail-fields' }, row('To', this.to, this.mode), row('Cc', this.cc), row('Bcc', this.bcc), row('Subject', this.subject)),
      this.body.el,
    );
  }

  /** The conversation's messages, attributes and signature: fills what the agent has not touched. */
  setContext(context) {
    this.context = { ...this.context, ...context };
    if (!this.subject.value) this.address();
    if (!this.edited) this.body.input.value = draftOf(this.context.signature, quoteOf(this.lastCustomer()));
  }

  lastCustomer() {
    return [...this.context.messages].reverse().find((m) => m.from === 'customer');
  }

  /** To, Cc and subject for a reply or a reply to all. */
  address() {
    const d = replyDefaults(this.context.messages, this.context.attributes, this.mode.value === 'all');
    this.to.value = joinAddresses(d.to);
    this.cc.value = joinAddresses(d.cc);
    if (!this.subject.value || this.subject.dataset.auto === 'true') {
      this.subject.value = d.subject;
      this.subject.dataset.auto = 'true';
    }
  }

  /** Puts `before` and `after` around the selection (or at the caret). */
  wrap(before, after) {
    const i = this.body.input;
    const [a, b] = [i.selectionStart, i.selectionEnd];
    i.value = i.value.slice(0, a) + before + i.value.slice(a, b) + after + i.value.slice(b);
    i.setSelectionRange(a + before.length, b + before.length);
    this.edited = true;
    i.focus();
  }

  togglePreview() {
    this.preview.hidden = !this.preview.hidden;
    if (!this.preview.hidden) this.preview.replaceChildren(...render(this.body.input.value));
  }

  addFile(file) {
    const why = this.problem(file);
    if (why) return this.onProblem(why);
    this.files.push(file);
    this.drawFiles();
  }

  drawFiles() {
    this.fileList.replaceChildren(
      ...this.files.map((f, i) =>
        h('li', { dataset: { testid: 'mail-file' } }, f.name, ' ', h('button', { type: 'button', title: `Remove ${f.name}`, onclick: () => (this.files.splice(i, 1), this.drawFiles()) }, '×')),
      ),
    );
  }

  async send(text) {
    const reply = {
      text,
      html: htmlOf(text),
      to: splitAddresses(this.to.value),
      cc: splitAddresses(this.cc.value),
      bcc: splitAddresses(this.bcc.value),
      subject: this.subject.value.trim(),
      files: this.files,
    };
    await this.onSendReply(reply);
    // Sent: the next reply starts afresh.
    this.files = [];
    this.drawFiles();
    this.bcc.value = '';
    this.edited = false;
    this.preview.hidden = true;
    this.setContext({});
  }

  setEnabled(on) {
    this.body.setEnabled(on);
    for (const i of this.el.querySelectorAll('input, select')) i.disabled = !on;
  }

  focus() {
    const i = this.body.input;
    i.focus();
    i.setSelectionRange(0, 0);
  }
}
