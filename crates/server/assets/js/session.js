// The login gate the desktop, wallboard and admin pages share: shows a login
// form until there is a session with the role the page needs.

import { atLeast, login, logout, whoAmI } from './api.js';
import { h, notice, replace, withArticle } from './dom.js';
import { busy, field, showError } from './forms.js';

/**
 * Resolves to `{principal, user}` once the caller is logged in with at least
 * `role`. Until then `root` shows a login form titled `title`.
 */
export async function requireLogin(root, { role = 'agent', title }) {
  let me = null;
  try {
    me = await whoAmI();
  } catch (err) {
    replace(root, h('main', { class: 'login' }, h('div', { class: 'card' }, h('h1', null, title), h('p', { class: 'notice error' }, err.message))));
    throw err;
  }
  while (!me || !atLeast(me.principal.role, role)) {
    await loginForm(root, title, me, role);
    me = await whoAmI();
  }
  // A session that ends later (expired, logged out elsewhere) brings the form back.
  window.addEventListener('switchboard:unauthenticated', () => location.reload(), { once: true });
  return me;
}

function loginForm(root, title, me, role) {
  return new Promise((resolve) => {
    const email = h('input', { type: 'email', autocomplete: 'username', required: true });
    const password = h('input', { type: 'password', autocomplete: 'current-password', required: true });
    const message = notice('login-error');
    const form = h(
      'form',
      { class: 'card', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title' }, title),
      me ? h('p', { class: 'notice error' }, `${me.user ? me.user.name : 'This account'} is ${withArticle(me.principal.role)}; this page needs ${withArticle(role)}. Log in with another account.`) : null,
      field({ label: 'Email', name: 'email', input: email, testid: 'login-email' }),
      field({ label: 'Password', name: 'password', input: password, testid: 'login-password' }),
      message,
      h('button', { type: 'submit', class: 'primary', dataset: { testid: 'login-submit' } }, 'Log in'),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      await busy(form, async () => {
        try {
          if (me) await logout().catch(() => {});
          await login(email.value.trim(), password.value);
          resolve();
        } catch (err) {
          showError(form, err.status === 401 ? { message: 'Wrong email or password.' } : err, message);
          password.select();
        }
      });
    });
    replace(root, h('main', { class: 'login' }, form));
    email.focus();
  });
}

/** The name and a "Log out" button for a page header. */
export function userMenu(me) {
  const out = h('button', { type: 'button', class: 'ghost', dataset: { testid: 'logout' } }, 'Log out');
  out.addEventListener('click', async () => {
    await logout().catch(() => {});
    location.reload();
  });
  return h('div', { class: 'user-menu' }, h('span', { class: 'who', dataset: { testid: 'user-name' } }, me.user ? me.user.name : `user ${me.principal.user}`), out);
}
