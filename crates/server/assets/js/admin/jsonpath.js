// Finding a field named by the server (`blocks.menu.options[1].next`) in
// the JSON text an admin typed, so the error can point at its line. A
// small parser records where each value starts and ends; JSON.parse gives
// no positions.

/** `a.b[1].c` → ["a", "b", 1, "c"]. */
export function splitPath(path) {
  const out = [];
  for (const part of String(path).split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

const key = (segments) => JSON.stringify(segments);

/** Map from path (as a JSON array string) to [start, end) offsets of its value, or null if the text is not JSON. */
export function positions(text) {
  const map = new Map();
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = () => {
    throw new Error('bad json');
  };
  const string = () => {
    if (text[i] !== '"') fail();
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else {
        for (;;) {
          ws();
          const k = string();
          ws();
          if (text[i++] !== ':') fail();
          value([...path, k]);
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === '}') {
            i++;
            break;
          } else fail();
        }
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else {
        for (let n = 0; ; n++) {
          value([...path, n]);
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            break;
          } else fail();
        }
      }
    } else if (c === '"') string();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) fail();
      i += m[0].length;
    }
    map.set(key(path), [start, i]);
  };
  try {
    value([]);
    ws();
    if (i !== text.length) fail();
  } catch {
    return null;
  }
  return map;
}

/**
 * Where `path` is in `text`: the value's offsets, or those of the longest
 * enclosing path that exists (a missing field points at its object).
 * A leading segment the document does not have (e.g. `definition`) is skipped.
 */
export function locate(text, path) {
  const map = positions(text);
  if (!map) return null;
  let segs = splitPath(path);
  if (segs.length > 1 && !map.has(key(segs.slice(0, 1)))) segs = segs.slice(1);
  for (let n = segs.length; n >= 0; n--) {
    const hit = map.get(key(segs.slice(0, n)));
    if (hit) return { start: hit[0], end: hit[1], exact: n === segs.length };
  }
  return null;
}

/** 1-based line and column of `offset`. */
export function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}
