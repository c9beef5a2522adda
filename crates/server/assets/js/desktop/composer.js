// The agent's message box: Enter (or Ctrl+Enter) sends, Shift+Enter breaks
// the line, `/shortcut` expands a canned response (Tab or Enter picks from
// the list that opens while typing one), and a file can go along. A letter
// (email) is written in a taller box where Enter breaks the line and only
// Ctrl+Enter sends, and several files can be picked at once.

import { h } from '../dom.js';

/** The attachment rules of docs/CHAT.md; the server checks them again. */
export const ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024;
export const ATTACHMENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'application/pdf', 'text/plain'];

/** Why `file` cannot be sent, or null. */
export function attachmentProblem(file, maxBytes = ATTACHMENT_MAX_BYTES, types = ATTACHMENT_TYPES) {
  if (!types.includes(file.type)) return `${file.name}: this file type cannot be sent (allowed: PNG, JPEG, GIF, PDF, plain text).`;
  if (file.size > maxBytes) return `${file.name} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB.`;
  return null;
}

/** The `/word` being typed just before the caret, or null. */
export function shortcutAt(text, caret) {
  const m = /(^|\s)\/([\w-]*)$/.exec(text.slice(0, caret));
  return m ? { word: m[2], start: caret - m[2].length - 1 } : null;
}

/** Canned responses whose shortcut starts with `word` (all when empty), exact match first. */
export function matching(canned, word) {
  const w = word.toLowerCase();
  const hits = canned.filter((c) => String(c.shortcut).toLowerCase().startsWith(w));
  return hits.sort((a, b) => (a.shortcut.toLowerCase() === w ? -1 : b.shortcut.toLowerCase() === w ? 1 : a.shortcut.localeCompare(b.shortcut)));
}

export class Composer {
  /**
   * `canned()` returns the current canned responses; `onSend(text)` and
   * `onFile(file)` return promises (rejections are shown by the caller);
   * `onTyping(on)` is called on every edit: `on` is false when the box
   * was cleared, so the customer's "typing…" goes at once. `letter`: the
   * email box (Ctrl+Enter sends, several files).
   */
  constructor({ canned, onSend, onFile, onTyping, letter = false }) {
    this.canned = canned;
    this.onSend = onSend;
    this.onFile = onFile;
    this.onTyping = onTyping;
    this.letter = letter;
    this.choices = [];
    this.active = 0;
    this.range = null;

    this.input = h('textarea', {
      rows: letter ? 10 : 2,
      placeholder: 'Write a reply… (/ for canned responses)',
      'aria-label': 'Reply',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      dataset: { testid: 'composer-input' },
    });
    this.picker = h('ul', { class: 'picker', role: 'listbox', id: `picker-${Math.random().toString(36).slice(2)}`, 'aria-label': 'Canned responses', hidden: true, dataset: { testid: 'canned-picker' } });
    this.input.setAttribute('aria-controls', this.picker.id);
    this.file = h('input', { type: 'file', hidden: true, multiple: letter, accept: ATTACHMENT_TYPES.join(','), dataset: { testid: 'composer-file' } });
    this.sendButton = h('button', { type: 'button', class: 'primary', dataset: { testid: 'composer-send' } }, 'Send');
    const cannedButton = h('button', { type: 'button', title: 'Canned responses', dataset: { testid: 'canned-open' } }, 'Canned');
    const attachButton = h('button', { type: 'button', title: 'Attach a file', dataset: { testid: 'composer-attach' } }, 'Attach');

    this.el = h(
      'div',
      { class: 'composer' },
      this.picker,
      this.input,
      h('div', { class: 'tools' }, cannedButton, attachButton, this.file, h('span', { class: 'grow muted', style: { fontSize: '.82em' } }, letter ? 'Ctrl+Enter to send' : 'Enter to send · Shift+Enter new line'), this.sendButton),
    );

    this.input.addEventListener('input', () => {
      this.onTyping(this.input.value.trim() !== '');
      this.updatePicker();
    });
    this.input.addEventListener('keydown', (e) => this.keydown(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.closePicker(), 150));
    this.sendButton.addEventListener('click', () => this.send());
    cannedButton.addEventListener('click', () => this.openPicker(''));
    attachButton.addEventListener('click', () => this.file.click());
    this.file.addEventListener('change', () => {
      const files = [...this.file.files];
      this.file.value = '';
      for (const f of files) this.onFile(f);
    });
  }

  setEnabled(on) {
    this.input.disabled = !on;
    this.sendButton.disabled = !on;
    for (const b of this.el.querySelectorAll('button')) b.disabled = !on;
  }

  focus() {
    this.input.focus();
  }

  keydown(e) {
    if (!this.picker.hidden && this.choices.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        this.active = (this.active + (e.key === 'ArrowDown' ? 1 : this.choices.length - 1)) % this.choices.length;
        this.drawPicker();
        return;
      }
      if ((e.key === 'Enter' && !e.ctrlKey && !e.shiftKey) || e.key === 'Tab') {
        e.preventDefault();
        this.pick(this.choices[this.active]);
        return;
      }
    }
    if (e.key === 'Escape' && !this.picker.hidden) {
      e.preventDefault();
      e.stopPropagation();
      this.closePicker();
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.isComposing && (e.ctrlKey || !this.letter)) {
      e.preventDefault();
      this.send();
    }
  }

  /** Expands a text that is exactly `/shortcut`; returns the text to send. */
  expand(text) {
    const m = /^\/([\w-]+)$/.exec(text.trim());
    if (!m) return text;
    const hit = this.canned().find((c) => c.shortcut.toLowerCase() === m[1].toLowerCase());
    return hit ? hit.text : text;
  }

  async send() {
    const raw = this.input.value;
    const expanded = this.expand(raw);
    if (expanded !== raw) {
      // Show the expansion first: the agent reads what will go out, then sends.
      this.input.value = expanded;
      this.closePicker();
      return;
    }
    const text = raw.trim();
    if (!text) return;
    this.input.value = '';
    this.closePicker();
    try {
      await this.onSend(text);
    } catch {
      // Keep what the agent wrote when sending failed; the caller shows why.
      if (!this.input.value) this.input.value = raw;
    }
  }

  updatePicker() {
    const at = shortcutAt(this.input.value, this.input.selectionStart);
    if (!at) return this.closePicker();
    this.range = at;
    this.choices = matching(this.canned(), at.word);
    this.active = 0;
    if (!this.choices.length) return this.closePicker();
    this.drawPicker();
  }

  openPicker(word) {
    this.range = null;
    this.choices = matching(this.canned(), word);
    this.active = 0;
    if (!this.choices.length) {
      this.choices = [];
      this.picker.replaceChildren(h('li', { class: 'muted' }, 'No canned responses yet (an admin adds them).'));
      this.picker.hidden = false;
      return;
    }
    this.drawPicker();
    this.input.focus();
  }

  drawPicker() {
    this.picker.replaceChildren(
      ...this.choices.map((c, i) =>
        h(
          'li',
          {
            role: 'option',
            id: `${this.picker.id}-${i}`,
            'aria-selected': String(i === this.active),
            dataset: { testid: 'canned-option', shortcut: c.shortcut },
            onmousedown: (e) => {
              e.preventDefault();
              this.pick(c);
            },
          },
          h('span', { class: 'shortcut' }, `/${c.shortcut}`),
          c.title || '',
          h('div', { class: 'muted', style: { fontSize: '.85em', whiteSpace: 'nowrap', overflow: 'hidden', textOverflow: 'ellipsis' } }, c.text),
        ),
      ),
    );
    this.picker.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    this.input.setAttribute('aria-activedescendant', `${this.picker.id}-${this.active}`);
    const active = this.picker.children[this.active];
    if (active) active.scrollIntoView({ block: 'nearest' });
  }

  closePicker() {
    this.picker.hidden = true;
    this.choices = [];
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  /** Puts a canned response's text in place of the `/word` typed (or at the caret). */
  pick(c) {
    const v = this.input.value;
    const caret = this.input.selectionStart;
    const [start, end] = this.range ? [this.range.start, caret] : [caret, this.input.selectionEnd];
    this.input.value = v.slice(0, start) + c.text + v.slice(end);
    const pos = start + c.text.length;
    this.input.setSelectionRange(pos, pos);
    this.closePicker();
    this.input.focus();
  }
}
