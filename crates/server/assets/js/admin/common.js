// What the admin tabs share: a list of things beside the form editing the
// selected one, saving with the server's errors shown at their fields, and
// small row editors for lists inside a form (skills, steps, pre-chat fields).

import { del, get, listOf, post, put } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { busy, clearErrors, field, showError } from '../forms.js';

/**
 * A list on the left, an editor on the right.
 * - `load()` → items; `key(item)` → id; `label(item)` → text; `sub(item)` → text or null
 * - `form(item | null, ctx)` → a `<form>`; `ctx.saved(item)` reloads and selects it,
 *   `ctx.removed()` reloads and clears the editor.
 */
export class ListEditor {
  constructor({ title, noun, testid, load, key = (x) => x.id, label, sub = () => null, form, intro = null, canCreate = true, tools = null }) {
    Object.assign(this, { title, noun, load, key, label, sub, form, canCreate });
    this.items = [];
    this.selected = null;
    this.list = h('ul', { class: 'list', dataset: { testid: `${testid}-list` } });
    this.editor = h('div', { dataset: { testid: `${testid}-editor` } });
    this.message = notice(`${testid}-error`);
    const create = canCreate ? h('button', { type: 'button', class: 'primary', dataset: { testid: `${testid}-new` } }, `New ${noun}`) : null;
    if (create) create.addEventListener('click', () => this.open(null));
    this.el = h(
      'div',
      { dataset: { testid } },
      h('div', { class: 'row', style: { marginBottom: '.6em' } }, h('h1', { style: { margin: 0 } }, title), h('span', { class: 'grow' }), tools, create),
      intro,
      this.message,
      h('div', { class: 'editor' }, h('div', null, this.list), this.editor),
    );
  }

  async reload(selectKey = this.selected) {
    try {
      this.items = await this.load();
      this.message.clear();
    } catch (err) {
      this.items = [];
      this.message.show(err.status === 404 ? `This server has no ${this.noun} API yet (${err.message}).` : `Could not load: ${err.message}`);
    }
    this.drawList();
    const item = selectKey === null ? null : this.items.find((x) => String(this.key(x)) === String(selectKey));
    this.open(item || null);
  }

  /** Shows only the items `filter` keeps (null: all). */
  filter(keep) {
    this.keep = keep;
    this.drawList();
  }

  drawList() {
    const shown = this.keep ? this.items.filter(this.keep) : this.items;
    replace(
      this.list,
      shown.length
        ? shown.map((x) =>
            h('li', null, h('button', {
              type: 'button',
              'aria-current': String(String(this.key(x)) === String(this.selected)),
              dataset: { testid: 'list-item', key: String(this.key(x)) },
              onclick: () => this.open(x),
            }, h('span', null, this.label(x)), this.sub(x) ? h('span', { class: 'muted' }, this.sub(x)) : null)))
        : h('li', { class: 'empty' }, `No ${this.noun}s yet.`),
    );
  }

  open(item) {
    this.selected = item ? this.key(item) : null;
    this.drawList();
    const form = this.form(item, {
      saved: async (x) => {
        await this.reload(x && this.key(x) !== undefined ? this.key(x) : this.selected);
        this.message.show(`Saved ${this.noun}.`, 'ok');
      },
      removed: async () => {
        this.selected = null;
        await this.reload(null);
        this.message.show(`Deleted the ${this.noun}.`, 'ok');
      },
    });
    replace(this.editor, form);
  }
}

/**
 * Wires a form's submit to `save()` (returning the saved item) with errors at
 * their fields, and an optional delete button calling `remove()`.
 */
export function editorForm({ title, fields, save, remove, ctx, testid, submitLabel = 'Save' }) {
  const message = notice(`${testid}-message`);
  const actions = h('div', { class: 'actions' });
  if (remove) {
    const d = h('button', { type: 'button', class: 'danger', dataset: { testid: `${testid}-delete` } }, 'Delete');
    d.addEventListener('click', () => {
      if (!confirm(`Delete this ${title.toLowerCase().replace(/^edit /, '')}?`)) return;
      busy(form, async () => {
        try {
          await remove();
          ctx.removed();
        } catch (err) {
          showError(form, err, message);
        }
      });
    });
    actions.append(d);
  }
  actions.append(h('button', { type: 'submit', class: 'primary', dataset: { testid: `${testid}-save` } }, submitLabel));
  const form = h('form', { novalidate: true, dataset: { testid: `${testid}-form` } }, h('h2', null, title), fields, message, actions);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearErrors(form);
    busy(form, async () => {
      try {
        const saved = await save();
        await ctx.saved(saved);
      } catch (err) {
        showError(form, err, message);
      }
    });
  });
  return form;
}

/**
 * An editable list of rows inside a form. `row(value, index)` returns
 * `{el, read()}`; `read()` gives the row's value back. The fieldset carries
 * `data-field=name`, and each row `data-field=name[i]`, so an error like
 * `steps[1].expr` lands by its row.
 */
export function rowList({ legend, name, values, row, blank, addLabel = 'Add', testid }) {
  const rows = [];
  const box = h('div', { class: 'rows' });
  const error = h('div', { class: 'field-error', role: 'alert' });
  const add = h('button', { type: 'button', class: 'small', dataset: { testid: testid ? `${testid}-add` : null } }, addLabel);
  const renumber = () => rows.forEach((r, i) => (r.wrap.dataset.field = `${name}[${i}]`));
  const push = (v) => {
    const r = row(v, rows.length);
    const remove = h('button', { type: 'button', class: 'small ghost', 'aria-label': 'Remove this row' }, '✕');
    const rowError = h('div', { class: 'field-error', role: 'alert', style: { flexBasis: '100%' } });
    const wrap = h('div', { class: 'row', dataset: { field: `${name}[${rows.length}]` } }, r.el, remove, rowError);
    const entry = { ...r, wrap };
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(entry), 1);
      wrap.remove();
      renumber();
    });
    rows.push(entry);
    box.append(wrap);
  };
  (values || []).forEach(push);
  add.addEventListener('click', () => {
    push(blank());
    rows[rows.length - 1].wrap.querySelector('input, select')?.focus();
  });
  const el = h('fieldset', { dataset: { field: name, testid: testid || null } }, h('legend', null, legend), box, add, error);
  return { el, read: () => rows.map((r) => r.read()) };
}

/** A number input that reads as a number, or null when empty. */
export function numberInput(value, attrs = {}) {
  const input = h('input', { type: 'number', step: 'any', value: value ?? '', ...attrs });
  input.read = () => (input.value.trim() === '' ? null : Number(input.value));
  return input;
}

/** Plain CRUD of a list resource (dispositions, canned responses). */
export function simpleResource({ title, noun, path, listKey, testid, fields, label, sub, intro }) {
  const editor = new ListEditor({
    title,
    noun,
    testid,
    intro,
    load: async () => listOf(await get(path), listKey),
    label,
    sub,
    form(item, ctx) {
      const inputs = {};
      const built = fields.map((f) => {
        const input = f.kind === 'textarea' ? h('textarea', { rows: 6 }) : h('input', { type: 'text' });
        input.value = item ? item[f.name] ?? '' : '';
        inputs[f.name] = input;
        return field({ label: f.label, name: f.name, input, hint: f.hint, testid: `${testid}-${f.name}` });
      });
      return editorForm({
        title: item ? `Edit ${noun}` : `New ${noun}`,
        testid,
        ctx,
        fields: built,
        save: () => {
          const body = Object.fromEntries(fields.map((f) => [f.name, inputs[f.name].value.trim()]));
          return item ? put(`${path}/${item.id}`, body) : post(path, body);
        },
        remove: item ? () => del(`${path}/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}
