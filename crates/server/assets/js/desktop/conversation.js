// One contact the agent handles: its header and actions, the message thread
// with typing and read marks (chat), or the contact's attributes (channels
// without messages in the desktop), and the wrap-up form.

import { get, post, request } from '../api.js';
import { attrRows, clock, duration, h, label, notice, replace } from '../dom.js';
import { icon } from '../icons.js';
import { Composer, attachmentProblem } from './composer.js';
import { deliveryMark, deliveryOf } from './delivery.js';
import { EmailComposer, emailBody, emailHeading } from './email.js';
import { RecordingPanel, isVoicemail } from './recording.js';
import { slaBadge } from './sla.js';
import { wrapUpForm, wrapUpTiming } from './wrapup.js';

/** Channels whose messages the desktop shows and answers. */
export const MESSAGING = new Set(['chat', 'email', 'sms', 'whatsapp', 'telegram', 'messenger']);

/** Channels with a provider between: their messages show a delivery mark
 * rather than the chat's read ticks. */
const PROVIDED = new Set(['email', 'sms', 'whatsapp', 'telegram', 'messenger']);

const TYPING_SEND_EVERY = 3000;
const TYPING_IDLE = 4000;
const TYPING_SHOWN_FOR = 8000;

/** A message of `GET …/messages` or an event of kind `message`, in one shape. */
export function messageOf(ev) {
  if (ev.kind === 'message') return { id: ev.id, at: ev.at, ...(ev.payload || {}) };
  return ev;
}

/** Header values must be printable ASCII: other names go percent-encoded. */
export function headerSafe(name) {
  return /^[\x20-\x7e]*$/.test(name) ? name : encodeURIComponent(name);
}

function attachmentView(a) {
  const url = `/api/v1/attachments/${encodeURIComponent(a.id)}`;
  const name = a.name || `attachment ${a.id}`;
  const link = h('a', { href: url, target: '_blank', rel: 'noopener', class: 'file', dataset: { testid: 'msg-attachment' } }, icon('clip'), name);
  if (/^image\/(png|jpeg|gif)$/.test(a.content_type || '')) {
    return h('div', null, link, h('img', { src: url, alt: name, loading: 'lazy' }));
  }
  return h('div', null, link, a.size ? h('span', { class: 'muted' }, ` (${Math.ceil(a.size / 1024)} KiB)`) : null);
}

export class Conversation {
  /**
   * `ctx`: {me, queueName(id), queueSettings(id), customerName(id), canned(), dispositions(),
   * onTransfer(conv), onDone(conv), onChange()}.
   */
  constructor(item, ctx) {
    this.id = item.id;
    this.item = item;
    this.ctx = ctx;
    this.messages = new Map(); // id → message
    this.nodes = new Map(); // id → element
    this.readUpto = 0; // the customer's read mark on our messages
    this.readSent = 0; // our read mark on theirs
    this.unread = 0;
    this.loaded = false;
    this.typingOn = false;
    this.typingSentAt = 0;
    this.typingTimer = null;
    this.theirTypingTimer = null;
    this.wrapping = false;
    this.build();
  }

  get record() {
    return this.item.record;
  }

  get channel() {
    return this.record ? this.record.channel : null;
  }

  get messaging() {
    return MESSAGING.has(this.channel);
  }

  build() {
    this.title = h('h2', { dataset: { testid: 'conv-title' } }, `Contact #${this.id}`);
    this.meta = h('span', { class: 'muted' });
    this.stateBadge = h('span', { class: 'badge' });
    this.slaSlot = h('span', { dataset: { testid: 'conv-sla' } });
    this.transferButton = h('button', { type: 'button', dataset: { testid: 'transfer-open' }, title: 'Transfer (Alt+T)' }, 'Transfer');
    this.endButton = h('button', { type: 'button', class: 'danger', dataset: { testid: 'end-chat' }, title: 'End chat (Alt+W)' }, 'End chat');
    this.wrapButton = h('button', { type: 'button', dataset: { testid: 'wrapup-open' }, title: 'Wrap up (Alt+W)' }, 'Wrap up');
    // A call: the caller on hold hears the queue's music; the agent's phone needs to do nothing.
    this.holdButton = h('button', { type: 'button', dataset: { testid: 'hold-call' }, 'aria-pressed': 'false' }, 'Hold');
    this.holdButton.addEventListener('click', () => this.toggleHold());
    // The caller stops hearing the agent (and the recording keeps silence for the agent's side).
    this.muteButton = h('button', { type: 'button', dataset: { testid: 'mute-call' }, 'aria-pressed': 'false' }, 'Mute');
    this.muteButton.addEventListener('click', () => this.toggleMute());
    this.transferButton.addEventListener('click', () => this.ctx.onTransfer(this));
    this.endButton.addEventListener('click', () => this.endChat());
    this.wrapButton.addEventListener('click', () => this.startWrapUp());

    this.notice = notice('conv-error');
    this.thread = h('div', { class: 'thread', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0', dataset: { testid: 'thread' } });
    this.typing = h('div', { class: 'typing', 'aria-live': 'polite', dataset: { testid: 'typing' } });
    this.composer = new Composer({
      canned: () => this.ctx.canned(),
      onSend: (text) => this.send(text),
      onFile: (file) => this.sendFile(file),
      onTyping: (on) => (on ? this.typed() : this.stopTyping()),
    });
    this.mail = null; // the email composer, once the contact is known to be an email
    this.details = h('div', { class: 'thread', dataset: { testid: 'contact-details' } });
    // Outside `details`, which is drawn again on every change: a playing recording keeps playing.
    this.recording = new RecordingPanel(this.id);
    this.wrapSlot = h('div');

    this.el = h(
      'div',
      { style: { display: 'flex', flexDirection: 'column', minHeight: '0', flex: '1' }, dataset: { testid: 'conversation', contact: String(this.id) } },
      h('div', { class: 'conv-head' }, this.title, this.stateBadge, this.slaSlot, this.meta, h('span', { class: 'grow' }), this.holdButton, this.muteButton, this.transferButton, this.endButton, this.wrapButton),
      this.notice,
      this.thread,
      this.details,
      this.recording.el,
      this.typing,
      this.composer.el,
      this.wrapSlot,
    );
    this.thread.addEventListener('scroll', () => this.markRead());
    this.render();
  }

  /** Called when the item or its record changed. */
  render() {
    const rec = this.record;
    const state = this.item.state;
    this.title.textContent = rec && rec.customer ? this.ctx.customerName(rec.customer) : `Contact #${this.id}`;
    const bits = [];
    if (rec) bits.push(rec.channel, rec.queue ? this.ctx.queueName(rec.queue) : null, `#${this.id}`);
    this.meta.textContent = bits.filter(Boolean).join(' · ');
    this.stateBadge.className = `badge ${state}`;
    this.stateBadge.textContent = state === 'done' ? 'Wrap-up time over' : label(state || 'loading');
    replace(this.slaSlot, slaBadge(rec?.sla));

    const connected = state === 'connected';
    const chat = this.messaging;
    if (this.channel === 'email' && !this.mail) this.useMailComposer();
    // A message left while the chat was closed, or an email: nobody is on
    // the other end live, so there is no chat to end and no typing mark.
    const left = Boolean(rec && rec.attributes && rec.attributes.left_message === true);
    const letter = this.channel === 'email';
    this.thread.hidden = rec ? !chat : false;
    this.typing.hidden = !chat;
    this.details.hidden = !rec || chat;
    this.composer.el.hidden = !chat || !connected || Boolean(this.item.chatEnded) || left;
    this.endButton.hidden = !(chat && connected) || left || letter;
    this.wrapButton.hidden = !connected || (chat && !this.item.chatEnded && !left && !letter) || this.wrapping;
    if (left && connected) this.notice.show(`Left while the chat was closed. Answer by email${rec.attributes.email ? ` to ${rec.attributes.email}` : ''}, then wrap up.`, 'info');
    this.transferButton.hidden = !connected;
    this.holdButton.hidden = !(connected && this.channel === 'voice');
    this.holdButton.textContent = this.item.held ? 'Resume' : 'Hold';
    this.holdButton.setAttribute('aria-pressed', String(Boolean(this.item.held)));
    this.stateBadge.textContent += this.item.held && connected ? ' · on hold' : '';
    this.muteButton.hidden = this.holdButton.hidden;
    this.muteButton.textContent = this.item.muted ? 'Unmute' : 'Mute';
    this.muteButton.setAttribute('aria-pressed', String(Boolean(this.item.muted)));
    this.stateBadge.textContent += this.item.muted && connected ? ' · muted' : '';
    if (this.item.chatEnded && connected && chat) {
      this.notice.show(this.item.chatEnded === 'agent' ? 'You ended the chat.' : 'The customer left the chat. Wrap up when ready.', 'info');
      this.wrapButton.hidden = false;
    }
    if (rec && !chat) this.renderDetails(rec);
    this.recording.update(rec, state);
    if ((state === 'wrap_up' || state === 'done') && !this.wrapping) this.showWrapUp();
    if (rec && chat && !this.loaded) this.load();
  }

  renderDetails(rec) {
    replace(
      this.details,
      h('p', null, detailsNote(rec)),
      h(
        'dl',
        { class: 'attrs' },
        h('dt', null, 'Channel'), h('dd', null, rec.channel),
        h('dt', null, 'Queue'), h('dd', null, rec.queue ? this.ctx.queueName(rec.queue) : '–'),
        h('dt', null, 'Priority'), h('dd', null, String(rec.priority)),
        h('dt', null, 'Created'), h('dd', null, clock(rec.created_at)),
        attrRows(rec.attributes),
      ),
    );
  }

  /** An email is answered with the letter composer in place of the chat's. */
  useMailComposer() {
    this.mail = new EmailComposer({
      canned: () => this.ctx.canned(),
      onSend: (reply) => this.sendMail(reply),
      problem: (file) => attachmentProblem(file),
      onProblem: (why) => this.notice.show(why),
    });
    this.composer.el.replaceWith(this.mail.el);
    // The rest of the view shows and hides `composer` by its element.
    this.composer = { el: this.mail.el, focus: () => this.mail.focus() };
    this.typing.remove();
  }

  /** What the email composer fills its fields from. */
  mailContext(signature) {
    if (!this.mail) return;
    const messages = [...this.messages.values()].sort((a, b) => a.id - b.id);
    this.mail.setContext({ messages, attributes: this.record?.attributes || {}, ...(signature !== undefined ? { signature } : {}) });
  }

  async load() {
    this.loaded = true;
    try {
      const answer = await get(`contacts/${this.id}/messages`);
      this.readUpto = Math.max(this.readUpto, answer.read_upto || 0);
      for (const m of answer.messages || []) this.add(m);
      this.mailContext(answer.signature || null);
      this.refreshTicks();
      this.markRead();
    } catch (err) {
      this.loaded = false;
      this.notice.show(`Could not load the messages: ${err.message}`);
    }
  }

  /** A message event or record; ignored when already shown. */
  add(m) {
    if (this.messages.has(m.id)) return;
    this.messages.set(m.id, m);
    const el = this.messageView(m);
    this.nodes.set(m.id, el);
    // Keep id order even if a late answer arrives after a newer event.
    const after = [...this.nodes.keys()].filter((id) => id > m.id).sort((a, b) => a - b)[0];
    const stick = this.thread.scrollHeight - this.thread.scrollTop - this.thread.clientHeight < 40;
    if (after !== undefined && this.nodes.get(after).parentNode === this.thread) this.thread.insertBefore(el, this.nodes.get(after));
    else this.thread.append(el);
    if (stick || m.from === 'agent') this.thread.scrollTop = this.thread.scrollHeight;
    if (m.from === 'customer') {
      this.clearTheirTyping();
      if (m.id > this.readSent) this.unread += 1;
    }
  }

  messageView(m) {
    const own = m.from === 'agent';
    const letter = this.channel === 'email';
    const ticks = own ? h('span', { class: 'ticks', dataset: { testid: 'msg-ticks' } }) : null;
    const el = h(
      'div',
      { class: ['msg', m.from, letter ? 'letter' : null], dataset: { testid: 'msg', from: m.from, id: String(m.id) } },
      h('div', { class: 'who' }, h('span', null, m.name || label(m.from)), h('time', null, m.at ? clock(m.at) : '')),
      letter ? emailHeading(m) : null,
      letter && (m.text || m.html) ? emailBody(m) : m.text ? h('div', { class: 'text' }, m.text) : null,
      m.attachment ? attachmentView(m.attachment) : null,
      ...(m.attachments || []).map(attachmentView),
      m.buttons && m.buttons.length ? h('div', { class: 'buttons' }, m.buttons.map((b) => h('span', { class: 'tag' }, b.label))) : null,
      ticks,
    );
    if (ticks) this.tick(m, ticks);
    return el;
  }

  tick(m, el) {
    if (PROVIDED.has(this.channel)) {
      const mark = deliveryMark(m.delivery);
      el.className = `ticks ${mark.state}`;
      // A failure says why where it is seen, not only on hover.
      el.textContent = mark.state === 'failed' ? `${mark.text}: ${mark.title}` : mark.text;
      el.title = mark.title;
      el.dataset.delivery = mark.state;
      return;
    }
    const read = m.id <= this.readUpto;
    el.className = `ticks ${read ? 'read' : ''}`;
    el.textContent = read ? '✓✓ Read' : '✓ Delivered';
  }

  refreshTicks() {
    for (const [id, m] of this.messages) {
      if (m.from !== 'agent') continue;
      const t = this.nodes.get(id)?.querySelector('.ticks');
      if (t) this.tick(m, t);
    }
  }

  /** Live frames for this contact from the events WebSocket. */
  onEvent(ev) {
    const p = ev.payload || {};
    if (ev.kind === 'message') {
      this.add(messageOf(ev));
      this.mailContext();
      this.markRead();
      this.ctx.onChange();
    } else if (ev.kind === 'typing' && p.from === 'customer') {
      this.showTheirTyping(p.on);
    } else if (ev.kind === 'delivery') {
      const { message, delivery } = deliveryOf(ev);
      const m = this.messages.get(message);
      if (!m) return;
      m.delivery = delivery;
      const t = this.nodes.get(message)?.querySelector('.ticks');
      if (t) this.tick(m, t);
    } else if (ev.kind === 'read' && p.from === 'customer') {
      this.readUpto = Math.max(this.readUpto, p.upto || 0);
      this.refreshTicks();
    } else if (ev.kind === 'contact_held' || ev.kind === 'contact_resumed') {
      // From this desktop, another tab or the agent's phone alike.
      this.item.held = ev.kind === 'contact_held';
      this.render();
    } else if (ev.kind === 'contact_muted' || ev.kind === 'contact_unmuted') {
      this.item.muted = ev.kind === 'contact_muted';
      this.render();
    } else if (ev.kind.startsWith('recording')) {
      this.recording.onEvent(ev, this.record);
    }
  }

  showTheirTyping(on) {
    clearTimeout(this.theirTypingTimer);
    const who = this.record && this.record.customer ? this.ctx.customerName(this.record.customer) : 'The customer';
    this.typing.textContent = on ? `${who} is typing…` : '';
    // A lost "stopped typing" must not leave the line up for ever.
    if (on) this.theirTypingTimer = setTimeout(() => (this.typing.textContent = ''), TYPING_SHOWN_FOR);
  }

  clearTheirTyping() {
    clearTimeout(this.theirTypingTimer);
    this.typing.textContent = '';
  }

  /** Tells the customer we are typing: at most every few seconds, and "stopped" after a pause. */
  typed() {
    const now = Date.now();
    if (!this.typingOn || now - this.typingSentAt > TYPING_SEND_EVERY) {
      this.typingOn = true;
      this.typingSentAt = now;
      post(`contacts/${this.id}/typing`, { on: true }).catch(() => {});
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE);
  }

  stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingOn) return;
    this.typingOn = false;
    // Typing marks are a courtesy: a failure here is not worth an error on screen.
    post(`contacts/${this.id}/typing`, { on: false }).catch(() => {});
  }

  /** Visible and focused: mark the customer's messages read. */
  isVisible() {
    return this.el.isConnected && document.visibilityState === 'visible' && document.hasFocus();
  }

  markRead() {
    if (!this.isVisible()) return;
    let upto = 0;
    for (const [id, m] of this.messages) if (m.from !== 'agent' && id > upto) upto = id;
    this.unread = 0;
    if (upto <= this.readSent) return;
    this.readSent = upto;
    post(`contacts/${this.id}/read`, { upto }).catch(() => {});
    this.ctx.onChange();
  }

  async send(text) {
    this.stopTyping();
    const pending = h('div', { class: 'msg agent', dataset: { testid: 'msg', from: 'agent', pending: 'true' } }, h('div', { class: 'who' }, h('span', null, 'You'), h('time', null, 'sending…')), h('div', { class: 'text' }, text));
    this.thread.append(pending);
    this.thread.scrollTop = this.thread.scrollHeight;
    try {
      const m = await post(`contacts/${this.id}/messages`, { text });
      pending.remove();
      if (m && typeof m.id === 'number') this.add(m);
      this.notice.clear();
    } catch (err) {
      pending.remove();
      this.notice.show(`Not sent: ${err.message}`);
      throw err;
    }
  }

  /** An email reply: its files uploaded first, then the message naming them. */
  async sendMail(reply) {
    try {
      const ids = [];
      for (const file of reply.files) {
        this.notice.show(`Uploading ${file.name}…`, 'info');
        const a = await request('POST', `contacts/${this.id}/attachments`, file, {
          headers: { 'Content-Type': file.type, 'X-Filename': headerSafe(file.name) },
        });
        ids.push(a.id);
      }
      const body = { text: reply.text, html: reply.html, to: reply.to, cc: reply.cc, bcc: reply.bcc, subject: reply.subject, attachments: ids };
      const m = await post(`contacts/${this.id}/messages`, body);
      if (m && typeof m.id === 'number') this.add(m);
      this.notice.clear();
    } catch (err) {
      this.notice.show(`Not sent: ${err.message}`);
      throw err;
    }
  }

  async sendFile(file) {
    const problem = attachmentProblem(file);
    if (problem) {
      this.notice.show(problem);
      return;
    }
    this.notice.show(`Uploading ${file.name}…`, 'info');
    try {
      const a = await request('POST', `contacts/${this.id}/attachments`, file, {
        headers: { 'Content-Type': file.type, 'X-Filename': headerSafe(file.name) },
      });
      const m = await post(`contacts/${this.id}/messages`, { text: '', attachment: a.id });
      if (m && typeof m.id === 'number') this.add(m);
      this.notice.clear();
    } catch (err) {
      this.notice.show(`${file.name} was not sent: ${err.message}`);
    }
  }

  toggleHold() {
    return this.toggleCall(this.holdButton, 'held', ['hold', 'resume'], /hold/);
  }

  toggleMute() {
    return this.toggleCall(this.muteButton, 'muted', ['mute', 'unmute'], /muted/);
  }

  /** Turns the call's `flag` (held, muted) over by its two routes, `on` and `off`. */
  async toggleCall(button, flag, [on, off], conflict) {
    const was = Boolean(this.item[flag]);
    button.disabled = true;
    try {
      await post(`contacts/${this.id}/${was ? off : on}`, {});
      this.item[flag] = !was;
      this.notice.clear();
    } catch (err) {
      // A page opened while the call was held (muted) thought otherwise: the server's answer says how it is.
      if (err.status === 409 && conflict.test(err.message)) {
        this.item[flag] = !was;
        this.notice.show(err.message, 'info');
      } else {
        this.notice.show(`Could not ${was ? off : on} the call: ${err.message}`);
      }
    } finally {
      button.disabled = false;
      this.render();
    }
  }

  async endChat() {
    this.item.kept = true; // The wrap-up form follows: keep this on screen.
    try {
      await post(`contacts/${this.id}/end`, {});
      this.item.chatEnded = 'agent';
      this.startWrapUp();
    } catch (err) {
      this.notice.show(`Could not end the chat: ${err.message}`);
    }
  }

  /** The agent asked to wrap up (a connected contact is ended when the form is submitted). */
  startWrapUp() {
    this.item.kept = true;
    this.showWrapUp();
    this.render();
  }

  showWrapUp() {
    if (this.wrapping) return;
    this.wrapping = true;
    this.stopTyping();
    const queue = this.item.record?.queue;
    const form = wrapUpForm({
      dispositions: this.ctx.dispositions(),
      submit: (body) => this.complete(body),
      timing: wrapUpTiming(queue ? this.ctx.queueSettings(queue) : null),
    });
    // Once the agent works on the form, keep it even if the queue's wrap-up
    // timer ends first. A form nobody touched goes with the contact (also
    // when a replayed backlog passes through contacts finished long ago).
    const keep = () => (this.item.kept = true);
    form.addEventListener('input', keep);
    form.addEventListener('change', keep);
    form.addEventListener('pointerdown', keep);
    replace(this.wrapSlot, form);
    form.querySelector('select, input, textarea')?.focus();
    this.thread.scrollTop = this.thread.scrollHeight;
  }

  async complete(body) {
    // After wrap-up ended the server still records the disposition, for the
    // queue's grace period; past it, its 409 says so on the form.
    await post(`contacts/${this.id}/complete`, body);
    this.ctx.onDone(this);
  }

  focus() {
    if (this.wrapping) this.wrapSlot.querySelector('select, input, textarea')?.focus();
    else if (!this.composer.el.hidden) this.composer.focus();
    else this.thread.focus();
    this.markRead();
  }

  dispose() {
    this.stopTyping();
    clearTimeout(this.theirTypingTimer);
    this.el.remove();
  }

  /** For the list: seconds since the contact was created. */
  age(now) {
    return this.record ? duration((now - this.record.created_at) / 1000) : '';
  }
}

/** What the details pane says a contact without messages is for. */
function detailsNote(rec) {
  const number = rec.attributes && rec.attributes.callback_number;
  if (rec.channel === 'voice' && typeof number === 'string') {
    const made = rec.attributes.callback_attempts || 0;
    const tried = made ? ` (${made} attempt${made === 1 ? '' : 's'} made)` : '';
    return `A callback to ${number}${tried}: your phone rings, you hear the number, then the customer is dialled.`;
  }
  if (isVoicemail(rec)) return 'A voicemail: listen to the caller’s message below, call them back, then wrap up.';
  return `This ${rec.channel} contact has no messages to answer here. Handle it on its channel, then wrap up.`;
}
