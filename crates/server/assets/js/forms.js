// Form fields with a place for the server's error next to them: a 400
// names the field (`name`, `steps[1].expr`, `fields.email`), and the message
// is shown under the field of that name, or of the nearest enclosing one.

import { h } from './dom.js';

let seq = 0;

/**
 * A labelled field. `name` is the API's name for it (what `error.field` says);
 * `input` is any form control (an `<input>` is made when left out).
 */
export function field({ label, name, input, hint, testid }) {
  const control = input || h('input', { type: 'text' });
  const id = control.id || `f${++seq}`;
  control.id = id;
  if (name && !control.name) control.name = name;
  if (testid) control.dataset.testid = testid;
  const error = h('div', { class: 'field-error', id: `${id}-err`, role: 'alert' });
  const help = hint ? h('div', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [help && help.id, error.id].filter(Boolean).join(' '));
  return h('div', { class: 'field', dataset: { field: name || '' } }, h('label', { for: id }, label), control, help, error);
}

/** A checkbox with its label on the right. */
export function checkbox({ label, name, checked, testid }) {
  const input = h('input', { type: 'checkbox', name, checked, dataset: testid ? { testid } : undefined });
  const error = h('div', { class: 'field-error', role: 'alert' });
  return h('div', { class: 'field check', dataset: { field: name || '' } }, h('label', null, input, ' ', label), error);
}

export function clearErrors(root) {
  for (const el of root.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** The `[data-field]` element for an error's field: exact, else the longest enclosing name (`steps[1]` for `steps[1].expr`). */
export function fieldFor(root, name) {
  if (!name) return null;
  let best = null;
  for (const el of root.querySelectorAll('[data-field]')) {
    const f = el.dataset.field;
    if (!f) continue;
    if (f === name) return el;
    const encloses = name.startsWith(f) && (name[f.length] === '.' || name[f.length] === '[');
    if (encloses && (!best || f.length > best.dataset.field.length)) best = el;
  }
  return best;
}

/**
 * The field an error names only in its message: a conflict ("code 'x' is
 * taken") or a body the server could not read ("…target type: calendar.weekly.mon[0]: bad hours").
 */
export function impliedField(message) {
  const m = /^(\w+) '.*' is taken$/.exec(message || '') || /target type: ([\w.[\]]+): /.exec(message || '');
  return m ? m[1] : null;
}

/** A body-reading error's message without the library's framing ("Failed to deserialize…", "at line 1 column 50"). */
export function plainMessage(message, field) {
  const m = new RegExp(`target type: ${field.replace(/[.[\]]/g, '\\$&')}: (.*?)(?: at line \\d+ column \\d+)?$`).exec(message || '');
  return m ? m[1] : message;
}

/**
 * Shows an error from the API next to its field, or in `notice` when no
 * field matches (or the error names none). Focuses the field.
 */
export function showError(root, err, notice) {
  clearErrors(root);
  const name = err ? err.field || impliedField(err.message) : null;
  // (An Error's message is not an own enumerable property: copy it by name.)
  if (name && err && !err.field) err = { status: err.status, code: err.code, message: plainMessage(err.message, name), field: name };
  const target = name ? fieldFor(root, name) : null;
  if (target) {
    const slot = target.querySelector(':scope > .field-error') || target.querySelector('.field-error');
    const exact = target.dataset.field === err.field;
    if (slot) slot.textContent = exact ? err.message : `${err.field}: ${err.message}`;
    const control = target.querySelector('input, select, textarea');
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    }
    if (notice) notice.clear();
    return;
  }
  if (notice) notice.show(err && err.message ? err.message : String(err));
}

/** Disables a form's buttons while `work` runs, so a double click does not submit twice. */
export async function busy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    return await work();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}
