// Article bodies and email replies as a small, safe subset of Markdown:
// headings (#, ##), lists (-, *, 1.), quotes (>), paragraphs, **bold**,
// `code` and [links](https://…).
// Built from DOM nodes, never HTML strings, so an article cannot inject markup.
// Search snippets get their matches marked the same safe way.

import { h } from './dom.js';

const INLINE = /(\*\*([^*]+)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\))/g;

function safeHref(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'mailto:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Inline formatting of one line of text, as nodes. */
export function inline(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[2] !== undefined) out.push(h('strong', null, m[2]));
    else if (m[3] !== undefined) out.push(h('code', null, m[3]));
    else {
      const href = safeHref(m[5]);
      out.push(href ? h('a', { href, rel: 'noopener', target: href.startsWith(location.origin) ? null : '_blank' }, m[4]) : m[0]);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * A search snippet as nodes: the server marks the matched words with `**`
 * (see `GET /kb/search`); they become `<mark>`, and the rest of the
 * article's markup (links, code, headings) is shown as its words only.
 * Text nodes throughout, so a snippet cannot inject markup either.
 */
export function snippet(text) {
  // A match inside the article's own **bold** arrives as `****word****`: one emphasis.
  const plain = String(text || '').replace(/\[([^\]]*)\]\([^)\s]*\)/g, '$1').replace(/[`#]/g, '').replace(/\*{3,}/g, '**');
  const parts = plain.split('**');
  // An odd part is a match only when its closing marker is there (a snippet may cut one off).
  return parts.map((part, i) => (i % 2 && i < parts.length - 1 ? h('mark', null, part) : part)).filter((p) => p !== '');
}

/** The body as block elements. */
export function render(body) {
  const blocks = [];
  let list = null;
  let para = [];
  const flushPara = () => {
    if (para.length) blocks.push(h('p', null, para.flatMap((l, i) => (i ? [h('br'), ...inline(l)] : inline(l)))));
    para = [];
  };
  const flushList = () => {
    if (list) blocks.push(list);
    list = null;
  };
  const lines = String(body || '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimEnd();
    if (/^>/.test(line)) {
      // A quote: its lines, unquoted once, are blocks of their own.
      flushPara();
      flushList();
      const quoted = [];
      while (i < lines.length && /^>/.test(lines[i])) quoted.push(lines[i++].replace(/^> ?/, ''));
      i -= 1;
      blocks.push(h('blockquote', null, render(quoted.join('\n'))));
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (!line.trim()) {
      flushPara();
      flushList();
    } else if (heading) {
      flushPara();
      flushList();
      blocks.push(h(`h${heading[1].length + 1}`, null, inline(heading[2])));
    } else if (bullet || numbered) {
      flushPara();
      const tag = bullet ? 'ul' : 'ol';
      if (!list || list.tagName.toLowerCase() !== tag) {
        flushList();
        list = h(tag);
      }
      list.append(h('li', null, inline((bullet || numbered)[1])));
    } else {
      flushList();
      para.push(line);
    }
  }
  flushPara();
  flushList();
  return blocks;
}
