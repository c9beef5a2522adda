// Keyboard shortcuts of the desktop and the overlay listing them (`?`).
// Alt shortcuts match the physical key (`event.code`), so they work on
// layouts where Alt+letter types a special character.

import { h } from '../dom.js';

export const SHORTCUTS = [
  { keys: ['Alt', 'A'], code: 'KeyA', alt: true, what: 'Accept the oldest offer', action: 'accept' },
  { keys: ['Alt', 'R'], code: 'KeyR', alt: true, what: 'Reject the oldest offer', action: 'reject' },
  { keys: ['Enter'], what: 'Send the reply (Shift+Enter: new line)' },
  { keys: ['Ctrl', 'Enter'], what: 'Send the reply' },
  { keys: ['/', 'word'], what: 'Canned response: Tab or Enter picks it' },
  { keys: ['Alt', 'W'], code: 'KeyW', alt: true, what: 'End the chat and wrap up', action: 'wrapup' },
  { keys: ['Alt', 'T'], code: 'KeyT', alt: true, what: 'Transfer the conversation', action: 'transfer' },
  { keys: ['Alt', '↑/↓'], what: 'Previous / next conversation' },
  { keys: ['Alt', '1…9'], what: 'Go to conversation 1…9' },
  { keys: ['Alt', 'S'], code: 'KeyS', alt: true, what: 'Change your state', action: 'state' },
  { keys: ['?'], what: 'Show this help' },
  { keys: ['Esc'], what: 'Close a dialog or this help' },
];

function typingInField(e) {
  const t = e.target;
  return t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

/** Installs the shortcuts; `actions` maps action names to functions. */
export function installShortcuts(actions) {
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented) return;
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const s = SHORTCUTS.find((x) => x.alt && x.code === e.code);
      if (s && actions[s.action]) {
        e.preventDefault();
        actions[s.action]();
        return;
      }
      if (e.code === 'ArrowUp' || e.code === 'ArrowDown') {
        e.preventDefault();
        actions.step(e.code === 'ArrowDown' ? 1 : -1);
        return;
      }
      const digit = /^Digit([1-9])$/.exec(e.code);
      if (digit) {
        e.preventDefault();
        actions.goto(Number(digit[1]) - 1);
        return;
      }
    }
    if (e.key === '?' && !typingInField(e)) {
      e.preventDefault();
      actions.help();
    }
  });
}

/** The help overlay: a modal dialog with the shortcut table. */
export function helpDialog() {
  const close = h('button', { type: 'button', class: 'primary' }, 'Close');
  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'keys-title', dataset: { testid: 'help-overlay' } },
    h('h2', { id: 'keys-title' }, 'Keyboard shortcuts'),
    h('table', { class: 'shortcuts' }, h('tbody', null, SHORTCUTS.map((s) => h('tr', null, h('td', null, s.keys.map((k, i) => [i ? ' + ' : '', h('kbd', null, k)])), h('td', null, s.what))))),
    h('div', { class: 'actions' }, close),
  );
  close.addEventListener('click', () => dialog.close());
  document.body.append(dialog);
  return {
    toggle() {
      if (dialog.open) dialog.close();
      else {
        dialog.showModal();
        close.focus();
      }
    },
  };
}
