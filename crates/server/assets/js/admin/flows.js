// Bot flows edited as JSON. The text is checked as JSON before it is sent;
// the server's validation names the block and field
// (`blocks.menu.options[1].next`), which is shown under the editor with
// its line, and selected in the text.

import { get, listOf, post, put } from '../api.js';
import { h } from '../dom.js';
import { field } from '../forms.js';
import { ListEditor, editorForm } from './common.js';
import { lineCol, locate } from './jsonpath.js';

const STARTER = {
  start: 'greet',
  blocks: {
    greet: { type: 'say', text: 'Hi! I can answer questions about orders, returns and shipping.', next: 'ask' },
    ask: { type: 'answer_from_kb', next: 'handoff' },
    handoff: { type: 'enqueue', queue: 1 },
  },
};

/** The position of a JSON.parse error, from the engine's message ("… at position 42 …" or "line 3 column 5"). */
function parsePosition(text, message) {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) {
    const lines = text.split('\n');
    return lines.slice(0, Number(lc[1]) - 1).reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
  }
  return null;
}

export function flowsTab() {
  const editor = new ListEditor({
    title: 'Bot flows',
    noun: 'flow',
    testid: 'flows',
    intro: h('p', { class: 'muted' }, 'A flow is a graph of blocks: each block has a type and names the next block. Every save is a new version; the chat uses the flow chosen in Chat settings.'),
    load: async () => listOf(await get('flows'), 'flows'),
    label: (f) => f.name,
    sub: (f) => (f.version ? `v${f.version}` : ''),
    form(item, ctx) {
      const name = h('input', { type: 'text', value: item?.name || '', disabled: Boolean(item) });
      const text = h('textarea', { class: 'code', spellcheck: 'false', dataset: { testid: 'flow-definition' }, 'aria-label': 'Definition (JSON)' });
      text.value = JSON.stringify(item?.definition ?? STARTER, null, 2);
      // The list may hold summaries only: load the latest definition.
      if (item && item.definition === undefined) {
        get(`flows/${item.id}`).then((full) => (text.value = JSON.stringify(full.definition ?? {}, null, 2))).catch(() => {});
      }
      const where = h('div', { class: 'hint', dataset: { testid: 'flow-error-line' } });
      const select = (start, end) => {
        text.focus();
        text.setSelectionRange(start, end);
        const { line, col } = lineCol(text.value, start);
        where.textContent = `Line ${line}, column ${col}`;
        // Bring the selection into view: textarea scrolls by lines.
        const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 18;
        text.scrollTop = Math.max(0, (line - 4) * lineHeight);
      };
      const form = editorForm({
        title: item ? `Edit flow ${item.name}` : 'New flow',
        testid: 'flow',
        ctx,
        fields: [
          field({ label: 'Name', name: 'name', input: name, hint: item ? 'The name is fixed; saving makes a new version.' : null }),
          h('div', { class: 'field', dataset: { field: 'definition' } }, h('label', { for: 'flow-def' }, item?.version ? `Definition (JSON), version ${item.version}` : 'Definition (JSON)'), Object.assign(text, { id: 'flow-def' }), where, h('div', { class: 'field-error', role: 'alert' })),
          // Saved, but worth a look (e.g. a block nothing leads to).
          item?.warnings?.length ? h('div', { class: 'notice info', dataset: { testid: 'flow-warnings' } }, h('strong', null, 'Warnings'), h('ul', null, item.warnings.map((w) => h('li', null, w)))) : null,
        ],
        async save() {
          where.textContent = '';
          let definition;
          try {
            definition = JSON.parse(text.value);
          } catch (e) {
            const at = parsePosition(text.value, e.message);
            if (at !== null) select(at, at + 1);
            throw { field: 'definition', message: `Not valid JSON: ${e.message}` };
          }
          try {
            return await (item ? put(`flows/${item.id}`, { definition }) : post('flows', { name: name.value.trim(), definition }));
          } catch (err) {
            // Errors inside the definition name a path in it: point at it.
            if (err.field && err.field !== 'name') {
              const hit = locate(text.value, err.field.replace(/^definition\.?/, ''));
              if (hit) select(hit.start, hit.end);
              // The message lists every problem with its path; the first one is selected.
              throw { field: 'definition', message: err.message.includes(err.field.replace(/^definition\.?/, '')) ? err.message : `${err.field}: ${err.message}` };
            }
            throw err;
          }
        },
      });
      return form;
    },
  });
  editor.reload();
  return editor.el;
}
