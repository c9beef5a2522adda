// The knowledge base: categories, and articles with a text editor, a
// preview, a published switch and a search over them (the same search the
// bot and the help center use).

import { del, get, listOf, post, put } from '../api.js';
import { debounce, h, notice, options, replace } from '../dom.js';
import { busy, checkbox, field, showError } from '../forms.js';
import { render } from '../richtext.js';
import { ListEditor, editorForm } from './common.js';

export function kbTab() {
  let categories = [];
  const catName = h('input', { type: 'text', placeholder: 'e.g. Returns', 'aria-label': 'New category' });
  const catList = h('ul', { class: 'tags', dataset: { testid: 'kb-categories' } });
  const catMessage = notice('kb-category-message');
  const catForm = h('form', { class: 'row', novalidate: true, dataset: { testid: 'kb-category-form' } },
    h('div', { class: 'field', dataset: { field: 'name' }, style: { margin: 0 } }, catName, h('div', { class: 'field-error', role: 'alert' })),
    h('button', { type: 'submit' }, 'Add category'));
  const drawCategories = () => replace(catList, categories.length ? categories.map((c) => h('li', { class: 'tag' }, c.name)) : h('li', { class: 'muted' }, 'No categories yet.'));
  catForm.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(catForm, async () => {
      try {
        await post('kb/categories', { name: catName.value.trim() });
        catName.value = '';
        catMessage.show('Category added.', 'ok');
        await editor.reload();
      } catch (err) {
        showError(catForm, err, catMessage);
      }
    });
  });

  const search = h('input', { type: 'search', placeholder: 'Search articles', 'aria-label': 'Search articles', dataset: { testid: 'kb-search' } });
  const searchNote = h('span', { class: 'muted' });
  search.addEventListener('input', debounce(async () => {
    const q = search.value.trim();
    if (!q) {
      searchNote.textContent = '';
      editor.filter(null);
      return;
    }
    try {
      const hits = listOf(await get(`kb/search?q=${encodeURIComponent(q)}&limit=50`), 'hits');
      const ids = new Set(hits.map((x) => x.id));
      searchNote.textContent = `${hits.length} found`;
      editor.filter((a) => ids.has(a.id));
    } catch (err) {
      searchNote.textContent = `Search failed: ${err.message}`;
    }
  }, 250));

  const editor = new ListEditor({
    title: 'Knowledge base',
    noun: 'article',
    testid: 'kb',
    intro: h('div', null,
      h('div', { class: 'row', style: { marginBottom: '.4em' } }, h('strong', null, 'Categories'), catList, catForm), catMessage,
      h('div', { class: 'row', style: { margin: '.6em 0' } }, search, searchNote)),
    async load() {
      const [c, a] = await Promise.all([get('kb/categories'), get('kb/articles')]);
      categories = listOf(c, 'categories');
      drawCategories();
      return listOf(a, 'articles');
    },
    label: (a) => a.title,
    sub: (a) => (a.published ? '' : 'draft'),
    form(item, ctx) {
      const title = h('input', { type: 'text', value: item?.title || '' });
      const category = h('select', null, options([['', 'No category'], ...categories.map((c) => [c.id, c.name])], item?.category ?? ''));
      const body = h('textarea', { rows: 14, class: 'code', style: { minHeight: '14em' }, placeholder: 'Write the answer. # Heading, - list, **bold**, [link](https://…)' });
      body.value = item?.body || '';
      const published = checkbox({ label: 'Published (the bot and the help center use it)', name: 'published', checked: item ? item.published : true, testid: 'kb-published' });
      const preview = h('div', { class: 'article body', hidden: true, dataset: { testid: 'kb-preview' } });
      const toggle = h('button', { type: 'button', class: 'small' }, 'Preview');
      toggle.addEventListener('click', () => {
        const showing = preview.hidden;
        if (showing) replace(preview, render(body.value));
        preview.hidden = !showing;
        body.hidden = showing;
        toggle.textContent = showing ? 'Edit' : 'Preview';
      });
      // The list holds summaries; load the full article when opening one.
      if (item && item.body === undefined) {
        get(`kb/articles/${item.id}`).then((full) => (body.value = full.body || '')).catch(() => {});
      }
      return editorForm({
        title: item ? 'Edit article' : 'New article',
        testid: 'article',
        ctx,
        fields: [
          field({ label: 'Title', name: 'title', input: title, testid: 'kb-title' }),
          field({ label: 'Category', name: 'category', input: category }),
          h('div', { class: 'field', dataset: { field: 'body' } }, h('div', { class: 'row' }, h('label', { for: 'kb-body' }, h('strong', null, 'Text')), h('span', { class: 'grow' }), toggle), Object.assign(body, { id: 'kb-body' }), preview, h('div', { class: 'field-error', role: 'alert' })),
          published,
        ],
        save() {
          const data = { title: title.value.trim(), body: body.value, category: category.value ? Number(category.value) : null, published: published.querySelector('input').checked };
          return item ? put(`kb/articles/${item.id}`, data) : post('kb/articles', data);
        },
        remove: item ? () => del(`kb/articles/${item.id}`) : null,
      });
    },
  });
  editor.reload();
  return editor.el;
}
