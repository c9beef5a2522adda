// The shared client of the pages: JSON calls with the server's errors as
// exceptions, the login session, and the events WebSocket with resume.
// Pages are served by the same binary as the API, so every URL is relative.

/** An error answered by the server (`{"error": {code, message, field}}`) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

/** Milliseconds to add to `Date.now()` to get the server's clock, from the `Date` header. */
let serverOffset = 0;
export function serverNow() {
  return Date.now() + serverOffset;
}

function noteServerClock(response) {
  const header = response.headers.get('date');
  const at = header ? Date.parse(header) : NaN;
  // The header has one-second resolution: only correct skews larger than that.
  if (!Number.isNaN(at) && Math.abs(at - Date.now()) > 1500) serverOffset = at - Date.now();
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, an empty body): fall back to the status text.
  }
  const e = body && body.error;
  if (e && typeof e.message === 'string') return new ApiError(response.status, e.code || 'error', e.message, e.field);
  return new ApiError(response.status, `http_${response.status}`, response.statusText || `HTTP ${response.status}`);
}

/**
 * Calls the API. `path` is relative to `/api/v1` unless it starts with `/`
 * followed by something else than `api` (public chat and help routes).
 * Resolves to the parsed JSON (null for an empty answer); rejects with ApiError.
 * A Blob/File body is sent raw with its own type (attachments); `headers` adds to the request.
 */
export async function request(method, path, body, { headers = {}, signal } = {}) {
  const url = path.startsWith('/') ? path : `/api/v1/${path}`;
  const h = { Accept: 'application/json', ...headers };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    if (!h['Content-Type']) h['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(url, { method, headers: h, body: payload, credentials: 'same-origin', signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach the server. Check the connection and try again.');
  }
  noteServerClock(response);
  if (!response.ok) {
    const err = await errorOf(response);
    if (err.status === 401) window.dispatchEvent(new CustomEvent('switchboard:unauthenticated'));
    throw err;
  }
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/**
 * The array in a list answer. Existing routes wrap lists in one named field
 * (`{"queues": [...]}`); the newer routes' field names are not all written
 * down, so take the named one if present, else the only array there is.
 */
export function listOf(json, name) {
  if (Array.isArray(json)) return json;
  if (!json || typeof json !== 'object') return [];
  if (name && Array.isArray(json[name])) return json[name];
  const arrays = Object.values(json).filter(Array.isArray);
  return arrays.length ? arrays[0] : [];
}

/**
 * Logs in. The session is the HttpOnly `sb_session` cookie the server sets,
 * which every request and socket of the page sends; the page never holds
 * the token itself, so a script injected into it could not read it.
 */
export async function login(email, password) {
  const answer = await request('POST', 'auth/login', { email, password });
  return answer.user;
}

export async function logout() {
  await request('POST', 'auth/logout', {});
}

/** `{principal: {workspace, user, role}, user}` of the caller, or null when not logged in. */
export async function whoAmI() {
  try {
    return await request('GET', 'me');
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

const ROLE_RANK = { agent: 0, supervisor: 1, admin: 2 };
export function atLeast(role, wanted) {
  return (ROLE_RANK[role] ?? -1) >= ROLE_RANK[wanted];
}

/** Delay before reconnect attempt `n` (0-based): doubling from 0.5 s to 15 s, with jitter so that many clients do not return at once. */
export function backoff(n) {
  const base = Math.min(15000, 500 * 2 ** n);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * Which event ids were seen. Everything at or below the floor was (by an
 * earlier page, or long enough ago to be forgotten); above it the set
 * tells. Ids are not always in order: the server publishes each request's
 * events when its own commit returns, so an event can arrive after one with
 * a higher id; comparing with the largest id would drop it.
 */
export class SeenIds {
  constructor(floor = 0, remember = 4096) {
    this.floor = floor;
    this.remember = remember;
    this.ids = new Set();
  }

  /** True the first time `id` is offered; the oldest ids are forgotten. */
  first(id) {
    if (id <= this.floor || this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.remember) {
      const oldest = this.ids.values().next().value;
      this.ids.delete(oldest);
      this.floor = Math.max(this.floor, oldest);
    }
    return true;
  }
}

/**
 * The events WebSocket (`/api/v1/events`). Reconnects with backoff and
 * resumes from the largest event id seen, so nothing is lost or repeated.
 * `after: null` starts with what happens from now on (the page has just
 * read the current state) instead of replaying the log. Frames without an
 * id (typing, read marks) are passed on but do not move the cursor.
 * `onStatus('open'|'reconnecting'|'closed')` tells the page.
 */
export class EventStream {
  constructor({ after = 0, onEvent, onStatus = () => {}, onCursor = () => {} }) {
    this.last = after;
    this.seen = new SeenIds(after ?? 0);
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onCursor = onCursor;
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.online = () => this.reconnectNow();
    window.addEventListener('online', this.online);
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/api/v1/events?after=${this.last ?? 'now'}`;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  connect() {
    clearTimeout(this.timer);
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.onStatus('open');
    };
    socket.onmessage = (m) => {
      let event;
      try {
        event = JSON.parse(m.data);
      } catch {
        return; // Not ours to show: the server sends JSON only.
      }
      if (typeof event.id === 'number') {
        if (!this.seen.first(event.id)) return;
        if (this.last === null || event.id > this.last) {
          this.last = event.id;
          this.onCursor(this.last);
        }
      }
      this.onEvent(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      this.onStatus('reconnecting');
      this.timer = setTimeout(() => this.connect(), backoff(this.attempt++));
    };
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState === WebSocket.OPEN)) return;
    this.attempt = 0;
    if (this.socket) {
      const s = this.socket;
      this.socket = null;
      s.onclose = null;
      s.close();
    }
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.online);
    if (this.socket) this.socket.close();
    this.socket = null;
    this.onStatus('closed');
  }
}
