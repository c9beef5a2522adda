// What the browser stories share: failing with a message, polling until
// something holds, and the API as a user (for setting up and checking; the
// pages are what is tested).

export class Failure extends Error {}

export function fail(message) {
  throw new Failure(message);
}

/** Waits until `fn` returns something truthy (polling), or fails with `what`. */
export async function until(what, fn, timeout = 20000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  fail(`timed out waiting for ${what}${last ? ` (last seen: ${String(last).slice(0, 200)})` : ''}`);
}

/** Logs `email` in over the API: a function `(method, path, body)` answering `{status, body}`. */
export async function apiAs(base, email, password) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!r.ok) fail(`login of ${email} over the API answered ${r.status}`);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${base}/api/v1/${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}
