// Building the DOM without innerHTML: every string becomes a text node, so
// customer and user text can never turn into markup.

/**
 * `h('button', {class: 'primary', onclick: fn, dataset: {testid: 'x'}}, 'Send')`.
 * Attributes: `class`, `dataset`, `style` (object), `on*` handlers, booleans
 * (set when true, left out when false), anything else as an attribute.
 * Children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Same as `h` for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') {
      // Custom properties (`--c`) need setProperty; the rest assign directly.
      for (const [prop, val] of Object.entries(v)) {
        if (prop.startsWith('--')) el.style.setProperty(prop, val);
        else el.style[prop] = val;
      }
    }
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** `<select>` options from `[value, label]` pairs. */
export function options(pairs, selected) {
  return pairs.map(([value, label]) => h('option', { value, selected: String(value) === String(selected) }, label));
}

// ----- formatting ---------------------------------------------------------

/** 75 → "1:15", 3725 → "1:02:05". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const t = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const clock = (ms) => timeFmt.format(new Date(ms));

/** A `clock` for the time zone `zone` (an IANA name), or the browser's if it is unknown. */
export function zoneClock(zone) {
  try {
    const fmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZone: zone });
    return (ms) => fmt.format(new Date(ms));
  } catch {
    return clock;
  }
}
export const dateTime = (ms) => dateTimeFmt.format(new Date(ms));

/** Service levels arrive as fractions (0.8); tolerate percentages too. */
export function percent(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return null;
  return v <= 1 ? v * 100 : v;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "an agent", "a supervisor": a noun with its indefinite article. */
export function withArticle(noun) {
  return `${/^[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/** Values longer than this show their start and a "Show more" button. */
export const LONG_VALUE = 300;

/**
 * An attribute's value as text. A long one (a pasted log, a 1 MB
 * attribute) shows its first characters; "Show more" opens the whole in a
 * box of bounded height that scrolls, so one value cannot push the page away.
 */
export function valueView(v) {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  if (text.length <= LONG_VALUE) return text;
  const start = `${text.slice(0, LONG_VALUE)}…`;
  const closed = `Show more (${text.length.toLocaleString()} characters)`;
  const box = h('div', { class: 'long-value', dataset: { testid: 'long-value' } }, start);
  const more = h('button', { type: 'button', class: 'small', 'aria-expanded': 'false', dataset: { testid: 'show-more' } }, closed);
  more.addEventListener('click', () => {
    const open = box.classList.toggle('open');
    box.textContent = open ? text : start;
    more.textContent = open ? 'Show less' : closed;
    more.setAttribute('aria-expanded', String(open));
  });
  return [box, more];
}

/** `<dt>`/`<dd>` pairs for the entries of an attributes object. */
export function attrRows(attrs) {
  return Object.entries(attrs || {}).map(([k, v]) => [h('dt', null, k), h('dd', null, valueView(v))]);
}

/** Labels for the engine's snake_case names: "on_contact" → "On contact". */
export function label(name) {
  const t = String(name ?? '').replace(/_/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** A one-line message area for errors and confirmations, announced to screen readers. */
export function notice(testid) {
  const el = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true, dataset: { testid } });
  el.show = (text, kind = 'error') => {
    el.className = `notice ${kind}`;
    el.textContent = text;
    el.hidden = !text;
  };
  el.clear = () => el.show('');
  return el;
}

/** Runs `fn` at most once per `ms`, with the latest arguments at the end of the wait. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
