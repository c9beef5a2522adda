// The public help center of one workspace, at /help/{widget_key}: search
// the published articles, browse them by category, read one. The address
// keeps the state (`?q=…`, `?article=ID`), so links and Back work.

import { get, listOf } from './api.js';
import { debounce, h, replace } from './dom.js';
import { render, snippet } from './richtext.js';

const key = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
const base = `/help/${encodeURIComponent(key)}`;

const root = document.getElementById('app');
const title = h('span', { class: 'brand' }, 'Help center');
const search = h('input', { type: 'search', placeholder: 'Search: returns, shipping, sizes…', 'aria-label': 'Search the help center', dataset: { testid: 'help-search' } });
const content = h('div', { 'aria-live': 'polite' });

replace(
  root,
  h('header', { class: 'topbar' }, title),
  h('main', { class: 'help' },
    h('form', { class: 'search', role: 'search', onsubmit: (e) => { e.preventDefault(); go({ q: search.value.trim() }); } },
      search, h('button', { type: 'submit', class: 'primary' }, 'Search')),
    content),
);

function problem(err) {
  return h('p', { class: 'notice error' }, err.status === 404 ? 'This help center does not exist.' : `Could not load: ${err.message}`);
}

/** Articles grouped under their category's name (`categories`: id → name), named ones first. */
function grouped(articles, categories) {
  const groups = new Map();
  for (const a of articles) {
    const name = categories.get(a.category) || 'More articles';
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(a);
  }
  return [...groups].sort(([a], [b]) => (a === 'More articles') - (b === 'More articles') || a.localeCompare(b));
}

/** The first words of an article, for the list. */
function teaser(body) {
  const text = String(body || '').replace(/[#*`\[\]()]/g, '').replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function hitList(hits) {
  return h('ul', { class: 'hits', dataset: { testid: 'help-results' } },
    hits.map((hit) => h('li', { dataset: { testid: 'help-hit' } },
      h('a', { href: `${base}?article=${hit.id}`, onclick: (e) => { e.preventDefault(); go({ article: hit.id }); } }, hit.title),
      hit.snippet ? h('p', { class: 'muted', dataset: { testid: 'help-snippet' } }, snippet(hit.snippet)) : null)));
}

async function showSearch(q) {
  replace(content, h('p', { class: 'muted' }, 'Searching…'));
  try {
    if (!q) {
      // Without a query the server lists every published article: show them by category.
      const [answer, cats] = await Promise.all([get(`${base}/search?q=`), get(`${base}/categories`).catch(() => null)]);
      const categories = new Map(listOf(cats, 'categories').map((c) => [c.id, c.name]));
      const articles = listOf(answer, 'articles').map((a) => ({ ...a, snippet: a.snippet ?? teaser(a.body) }));
      replace(content, articles.length
        ? grouped(articles, categories).map(([name, list]) => h('section', { dataset: { testid: 'help-category' } }, h('h2', null, name), hitList(list)))
        : h('p', { class: 'muted' }, 'No articles yet. Ask us in the chat.'));
      return;
    }
    const hits = listOf(await get(`${base}/search?q=${encodeURIComponent(q)}`), 'hits');
    replace(content,
      h('h2', null, hits.length ? `Results for “${q}”` : `Nothing found for “${q}”`),
      hits.length ? hitList(hits) : h('p', null, 'Try other words, or ask us in the chat.'));
  } catch (err) {
    replace(content, problem(err));
  }
}

async function showArticle(id) {
  replace(content, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const a = await get(`${base}/articles/${encodeURIComponent(id)}`);
    document.title = `${a.title} – Help center`;
    replace(content,
      h('p', null, h('a', { href: base, onclick: (e) => { e.preventDefault(); go({}); } }, '← All articles')),
      h('article', { class: 'article', dataset: { testid: 'help-article' } }, h('h1', null, a.title), h('div', { class: 'body' }, render(a.body))));
  } catch (err) {
    replace(content, problem(err));
  }
}

function go(state, replaceHistory = false) {
  const params = new URLSearchParams();
  if (state.article) params.set('article', state.article);
  else if (state.q) params.set('q', state.q);
  const url = params.toString() ? `${base}?${params}` : base;
  history[replaceHistory ? 'replaceState' : 'pushState'](state, '', url);
  show();
}

function show() {
  const params = new URLSearchParams(location.search);
  const article = params.get('article');
  if (article) return showArticle(article);
  const q = params.get('q') || '';
  search.value = q;
  document.title = 'Help center';
  return showSearch(q);
}

search.addEventListener('input', debounce(() => {
  if (search.value.trim().length >= 3) go({ q: search.value.trim() }, true);
}, 350));
window.addEventListener('popstate', show);

// The site's name, from the chat's public settings.
get(`/chat/${encodeURIComponent(key)}/config`).then((c) => c && c.title && (title.textContent = `${c.title} – Help center`)).catch(() => {});

// The chat widget on the help center too: "still stuck? ask us".
const widget = document.createElement('script');
widget.src = '/widget.js';
widget.async = true;
widget.dataset.key = key;
document.body.append(widget);

show();
