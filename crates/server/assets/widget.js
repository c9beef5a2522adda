/*
 * Switchboard chat widget. Embed with one tag on any site:
 *
 *   <script src="https://YOUR-SWITCHBOARD/widget.js" data-key="WIDGET_KEY" async></script>
 *
 * It adds a chat button at the bottom right. Everything lives in a Shadow
 * DOM, so the host page's styles cannot reach it (nor its styles the page).
 * It talks only to the server it was loaded from (the script's own origin),
 * keeps the conversation's session in localStorage (a reload resumes it),
 * and reconnects without losing or repeating messages: the server resends
 * everything after the largest message id seen, and unacknowledged
 * messages are resent with their `client_id`, which the server deduplicates.
 *
 * A classic script (not a module): it must run from a plain <script> tag on
 * pages we do not control, so it cannot import the other page modules. It is
 * kept pure ASCII (other characters as \u escapes) so that it reads the
 * same whatever character set the host page or a proxy assumes.
 */
(function () {
  'use strict';

  var script = document.currentScript || document.querySelector('script[data-key][src*="widget.js"]');
  if (!script) return;
  var KEY = script.getAttribute('data-key') || '';
  var ORIGIN = new URL(script.src, location.href).origin;
  var BASE = ORIGIN + '/chat/' + encodeURIComponent(KEY);
  var STORE = 'switchboard.chat.' + KEY;
  // Loaded twice on one page (e.g. by a tag manager): keep the first.
  window.__switchboardChat = window.__switchboardChat || {};
  if (window.__switchboardChat[KEY]) return;
  window.__switchboardChat[KEY] = true;

  var TYPING_EVERY = 3000;
  var TYPING_IDLE = 4000;
  var TYPING_SHOWN = 8000;
  var DEFAULT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'application/pdf', 'text/plain'];
  var DEFAULT_MAX = 5 * 1024 * 1024;

  // ----- small helpers ------------------------------------------------------

  /** Builds an element; strings become text nodes (never markup). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else if (k === 'testid') node.setAttribute('data-testid', v);
        // Through the CSSOM: a style attribute would be refused by a host
        // page whose Content-Security-Policy allows no inline style.
        else if (k === 'style') node.style.cssText = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) node.appendChild(typeof x === 'string' ? document.createTextNode(x) : x); });
      else node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return node;
  }

  /** Small line icons drawn here (emoji need a font the visitor may not have). */
  var ICONS = {
    chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z',
    clip: 'M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7'
  };
  function icon(name) {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '18');
    svg.setAttribute('height', '18');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', ICONS[name]);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '2');
    path.setAttribute('stroke-linecap', 'round');
    path.setAttribute('stroke-linejoin', 'round');
    svg.appendChild(path);
    return svg;
  }

  function clientId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    return Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
  }

  function storage(op, value) {
    try {
      if (op === 'get') return localStorage.getItem(STORE);
      if (op === 'set') localStorage.setItem(STORE, value);
      if (op === 'del') localStorage.removeItem(STORE);
    } catch (e) {
      // Storage blocked (privacy settings): the chat still works, without resuming after a reload.
    }
    return null;
  }

  function backoff(n) {
    var base = Math.min(15000, 500 * Math.pow(2, n));
    return base / 2 + Math.random() * (base / 2);
  }

  function timeOf(ms) {
    try {
      return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return '';
    }
  }

  /** Calls a public chat route; rejects with {status, message, field}. */
  function call(method, path, body, headers) {
    var init = { method: method, headers: headers || {} };
    if (body instanceof Blob) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    return fetch(BASE + path, init).then(
      function (r) {
        if (r.ok) return r.status === 204 ? null : r.json();
        return r.json().then(
          function (j) {
            var e = (j && j.error) || {};
            throw { status: r.status, message: e.message || 'The chat server answered ' + r.status + '.', field: e.field || null };
          },
          function () {
            throw { status: r.status, message: r.status === 413 ? 'The file is too large.' : r.status === 415 ? 'This file type cannot be sent.' : 'The chat server answered ' + r.status + '.' };
          }
        );
      },
      function () {
        throw { status: 0, message: 'Cannot reach the chat. Check your connection.' };
      }
    );
  }

  // ----- styles (inside the shadow root only) -------------------------------

  var CSS = [
    ':host{all:initial}',
    '*{box-sizing:border-box}',
    '[hidden]{display:none!important}',
    '.root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#15171a}',
    'button{font:inherit;cursor:pointer}',
    'button:focus-visible,input:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #8ab4ff;outline-offset:1px}',
    '.launcher{display:flex;align-items:center;gap:8px;border:0;border-radius:999px;padding:12px 18px;background:var(--sb-accent,#0b5cd5);color:#fff;font-weight:700;box-shadow:0 4px 14px rgba(0,0,0,.25);margin-left:auto}',
    '.launcher .count{background:#b3261e;color:#fff;border-radius:999px;padding:0 7px;font-size:12px}',
    '.panel{position:absolute;right:0;bottom:64px;width:370px;height:min(600px,calc(100vh - 110px));background:#fff;border:1px solid #c9ced6;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}',
    'header{background:var(--sb-accent,#0b5cd5);color:#fff;padding:10px 12px;display:flex;align-items:flex-start;gap:8px}',
    'header .titles{flex:1;min-width:0}',
    'header h2{margin:0;font-size:16px}',
    'header .status{margin:2px 0 0;font-size:13px;opacity:.95}',
    'header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.6);border-radius:6px;padding:2px 8px;font-size:13px}',
    'header button.close{border:0;font-size:20px;line-height:1;padding:0 6px}',
    '.body{flex:1;display:flex;flex-direction:column;min-height:0}',
    '.thread{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f7f8fa}',
    '.msg{max-width:85%;padding:8px 11px;border-radius:12px;background:#fff;border:1px solid #dde1e7;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.msg.customer{align-self:flex-end;background:var(--sb-accent,#0b5cd5);color:#fff;border-color:transparent}',
    '.msg.system{align-self:center;background:transparent;border:0;color:#555b66;font-size:13px;text-align:center}',
    '.msg .meta{font-size:11px;opacity:.8;margin-top:3px;display:flex;gap:6px;justify-content:flex-end}',
    '.msg .name{font-size:12px;font-weight:700;color:#555b66;margin-bottom:2px}',
    '.msg.customer a{color:#fff}',
    '.msg img{max-width:100%;max-height:180px;display:block;border-radius:6px;margin-top:4px}',
    '.msg.failed{opacity:.7;border:1px dashed #b3261e}',
    '.choices{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}',
    '.choices button{border:1px solid var(--sb-accent,#0b5cd5);color:var(--sb-accent,#0b5cd5);background:#fff;border-radius:999px;padding:4px 12px}',
    '.choices button[aria-pressed=true]{background:var(--sb-accent,#0b5cd5);color:#fff}',
    '.choices button:disabled{cursor:default;opacity:.6}',
    '.typing{min-height:20px;padding:0 12px;font-size:13px;color:#555b66;font-style:italic}',
    '.composer{display:flex;gap:6px;padding:8px;border-top:1px solid #dde1e7;align-items:flex-end}',
    '.composer textarea{flex:1;resize:none;font:inherit;border:1px solid #9aa1ab;border-radius:8px;padding:7px 9px;max-height:110px;min-height:38px}',
    '.composer button{border:1px solid #c9ced6;background:#fff;border-radius:8px;padding:7px 10px;display:inline-flex;align-items:center}',
    '.msg a{display:inline-flex;align-items:center;gap:4px}',
    '.composer button.send{background:var(--sb-accent,#0b5cd5);color:#fff;border-color:transparent;font-weight:700}',
    'form.card{padding:14px;overflow-y:auto;display:flex;flex-direction:column;gap:10px}',
    'label{font-weight:600;font-size:14px;display:flex;flex-direction:column;gap:3px}',
    'input,textarea,select{font:inherit;color:#15171a;border:1px solid #9aa1ab;border-radius:8px;padding:7px 9px;background:#fff}',
    '[aria-invalid=true]{border-color:#b3261e}',
    '.err{color:#b3261e;font-size:13px;font-weight:600}',
    '.err:empty{display:none}',
    '.primary{background:var(--sb-accent,#0b5cd5);color:#fff;border:0;border-radius:8px;padding:9px 14px;font-weight:700}',
    '.secondary{background:#fff;color:#15171a;border:1px solid #9aa1ab;border-radius:8px;padding:8px 14px}',
    '.notice{margin:8px 12px;padding:7px 10px;border-radius:8px;background:#fde3e1;color:#b3261e;font-size:13px;font-weight:600}',
    '.notice.info{background:#e6efff;color:#0a3f91}',
    '.bar{padding:10px 12px;border-top:1px solid #dde1e7;display:flex;gap:8px;align-items:center;flex-wrap:wrap}',
    '.stars{display:flex;gap:4px}',
    '.stars button{border:0;background:transparent;font-size:28px;line-height:1;color:#b8bec8;padding:0 2px}',
    '.stars button[aria-checked=true]{color:#e0a100}',
    '.muted{color:#555b66;font-size:13px}',
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    '@media (max-width:480px){.root{right:10px;bottom:10px}.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0}}',
  ].join('\n');

  // ----- state --------------------------------------------------------------

  var cfg = null;
  var session = storage('get');
  var ws = null;
  var wsTimer = null;
  var attempt = 0;
  var failedBeforeOpen = 0;
  var lastId = 0;
  var messages = {}; // id -> {m, node}
  var pending = {}; // client_id -> node
  var outbox = []; // frames with a client_id, until the server echoes them
  var later = []; // frames without client_id, sent once when the socket opens
  var readUpto = 0; // the agent's read mark on our messages
  var readSent = 0;
  var ended = false;
  var rated = false;
  var leftMessage = false; // this conversation, waiting with nobody on shift, became a message
  var typingOn = false;
  var typingAt = 0;
  var typingTimer = null;
  var theirTyping = null;
  var unread = 0;
  var isOpen = false;
  var starting = null;
  // False while a fresh socket replays the conversation (it sends a status after the backlog):
  // replayed messages are not "new" for the unread count.
  var live = false;

  // ----- DOM ----------------------------------------------------------------

  var host = el('div', { id: 'switchboard-chat-' + KEY.replace(/[^\w-]/g, '') });
  var shadow = host.attachShadow({ mode: 'open' });
  // A constructed style sheet, which a host page's Content-Security-Policy
  // does not govern as it does a <style> element; the element is the
  // fallback for browsers without one.
  var sheet = null;
  try {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  } catch (e) {
    sheet = null;
  }

  var countBadge = el('span', { class: 'count', 'aria-hidden': 'true', hidden: true });
  var launcherText = el('span', { text: 'Chat with us' });
  var launcher = el('button', { type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'sb-panel', testid: 'sb-launcher' }, icon('chat'), launcherText, countBadge);

  var titleEl = el('h2', { id: 'sb-title', text: 'Chat' });
  var statusEl = el('p', { class: 'status', 'aria-live': 'polite', testid: 'sb-status' });
  var endButton = el('button', { type: 'button', testid: 'sb-end', hidden: true, text: 'End chat' });
  var closeButton = el('button', { type: 'button', class: 'close', 'aria-label': 'Close the chat window', testid: 'sb-close', text: '\u00d7' });
  var body = el('div', { class: 'body' });
  var panel = el('div', { class: 'panel', id: 'sb-panel', role: 'dialog', 'aria-labelledby': 'sb-title', hidden: true, testid: 'sb-panel' },
    el('header', null, el('div', { class: 'titles' }, titleEl, statusEl), endButton, closeButton), body);

  var root = el('div', { class: 'root' }, panel, launcher);
  if (sheet && 'adoptedStyleSheets' in shadow) shadow.adoptedStyleSheets = [sheet];
  else shadow.appendChild(el('style', { text: CSS }));
  shadow.appendChild(root);

  var noticeEl = el('div', { class: 'notice', role: 'alert', hidden: true, testid: 'sb-error' });
  function notice(text, info) {
    noticeEl.textContent = text || '';
    noticeEl.className = 'notice' + (info ? ' info' : '');
    noticeEl.hidden = !text;
  }

  // The conversation view: thread, typing line, composer.
  var thread = el('div', { class: 'thread', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0', testid: 'sb-thread' });
  var typingEl = el('div', { class: 'typing', 'aria-live': 'polite', testid: 'sb-typing' });
  var input = el('textarea', { rows: '1', 'aria-label': 'Your message', placeholder: 'Type a message\u2026', testid: 'sb-input' });
  var fileInput = el('input', { type: 'file', hidden: true, testid: 'sb-file', 'aria-label': 'Choose a file to send' });
  var attachButton = el('button', { type: 'button', 'aria-label': 'Send a file', title: 'Send a file', testid: 'sb-attach' }, icon('clip'));
  var sendButton = el('button', { type: 'button', class: 'send', testid: 'sb-send', text: 'Send' });
  var composer = el('div', { class: 'composer' }, attachButton, fileInput, input, sendButton);
  var tail = el('div'); // below the thread: composer, end confirmation, rating, "new chat"
  var chatView = el('div', { class: 'body', testid: 'sb-chat' }, thread, typingEl, noticeEl, tail);

  function show(view) {
    while (body.firstChild) body.removeChild(body.firstChild);
    body.appendChild(view);
  }

  function setTail(node) {
    while (tail.firstChild) tail.removeChild(tail.firstChild);
    if (node) tail.appendChild(node);
  }

  // ----- opening and closing ------------------------------------------------

  function openPanel() {
    isOpen = true;
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    unread = 0;
    drawUnread();
    if (!body.firstChild) route();
    var first = body.querySelector('textarea:not([disabled]), input:not([type=hidden]):not([hidden]), button');
    if (first) first.focus();
    markRead();
  }

  function closePanel() {
    isOpen = false;
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }

  launcher.addEventListener('click', function () {
    if (isOpen) closePanel();
    else openPanel();
  });
  closeButton.addEventListener('click', closePanel);
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      closePanel();
    }
  });

  function drawUnread() {
    countBadge.hidden = !unread;
    countBadge.textContent = String(unread);
    launcher.setAttribute('aria-label', unread ? 'Open the chat, ' + unread + ' new message' + (unread === 1 ? '' : 's') : isOpen ? 'Close the chat' : 'Open the chat');
  }

  /** Which view the panel shows when opened. */
  function route() {
    if (!cfg) {
      show(el('div', { class: 'card' }, el('p', { class: 'muted', text: 'Loading\u2026' })));
      return;
    }
    if (session) {
      show(chatView);
      return;
    }
    // Self-service first: with a bot, the conversation starts whether or not
    // anyone is on shift; a message can be left when the bot hands off.
    if (cfg.open === false && !cfg.bot) {
      show(offlineForm(false));
      return;
    }
    if (cfg.pre_chat && cfg.pre_chat.length) show(preChatForm());
    else startView();
  }

  /** No pre-chat form: the greeting and the composer; the session starts with the first message. */
  function startView() {
    resetConversation();
    show(chatView);
    greet();
    composerMode();
  }

  function greet() {
    // First in the thread, whatever the socket may already have delivered.
    if (cfg && cfg.greeting) thread.insertBefore(bubble({ from: 'bot', name: cfg.title || '', text: cfg.greeting }, false), thread.firstChild);
  }

  // ----- forms --------------------------------------------------------------

  function fieldOf(f) {
    var kind = String(f.kind || 'text');
    var control;
    if (kind === 'textarea' || kind === 'long_text') control = el('textarea', { rows: '3' });
    else control = el('input', { type: kind === 'email' ? 'email' : kind === 'phone' || kind === 'tel' ? 'tel' : kind === 'number' ? 'number' : 'text', autocomplete: f.name === 'email' ? 'email' : f.name === 'name' ? 'name' : null });
    control.name = f.name;
    control.required = Boolean(f.required);
    control.setAttribute('data-testid', 'sb-field-' + f.name);
    var err = el('div', { class: 'err', role: 'alert' });
    var id = 'sb-f-' + f.name;
    control.id = id;
    control.setAttribute('aria-describedby', id + '-err');
    err.id = id + '-err';
    var wrap = el('div', { 'data-field': f.name }, el('label', { for: id }, (f.label || f.name) + (f.required ? ' *' : ''), control), err);
    return wrap;
  }

  /** Shows a server error next to the field it names (`name`, `email`, `fields.NAME`), else above the buttons. */
  function fieldError(form, e, formErr) {
    var errs = form.querySelectorAll('.err');
    for (var i = 0; i < errs.length; i++) errs[i].textContent = '';
    var name = e.field ? String(e.field).replace(/^fields\./, '') : null;
    var target = name ? form.querySelector('[data-field="' + name.replace(/"/g, '') + '"]') : null;
    if (target) {
      target.querySelector('.err').textContent = e.message;
      var c = target.querySelector('input,textarea,select');
      if (c) {
        c.setAttribute('aria-invalid', 'true');
        c.focus();
      }
    } else formErr.textContent = e.message;
  }

  function preChatForm() {
    var formErr = el('div', { class: 'err', role: 'alert', testid: 'sb-form-error' });
    var fields = cfg.pre_chat.map(fieldOf);
    var submit = el('button', { type: 'submit', class: 'primary', testid: 'sb-start', text: 'Start chat' });
    var form = el('form', { class: 'card', testid: 'sb-prechat', novalidate: true }, cfg.greeting ? el('p', { text: cfg.greeting }) : null, fields, formErr, submit);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var values = {};
      var missing = null;
      cfg.pre_chat.forEach(function (f) {
        var c = form.querySelector('[name="' + f.name.replace(/"/g, '') + '"]');
        var v = c ? c.value.trim() : '';
        if (f.required && !v && !missing) missing = f;
        if (v) values[f.name] = v;
      });
      if (missing) {
        fieldError(form, { field: missing.name, message: 'Please fill this in.' }, formErr);
        return;
      }
      // Every answer goes in `fields` (the pre-chat form as configured); `name` and
      // `email` also go on their own, as the session's customer details.
      var req = { fields: values };
      if (values.name) req.name = values.name;
      if (values.email) req.email = values.email;
      submit.disabled = true;
      resetConversation();
      startSession(req).then(
        function () {
          show(chatView);
          greet();
          composerMode();
          input.focus();
        },
        function (err) {
          submit.disabled = false;
          fieldError(form, err, formErr);
        }
      );
    });
    return form;
  }

  /**
   * The leave-a-message form: in place of the chat when it is closed, or
   * (`inChat`) below a conversation waiting with nobody on shift, which
   * then becomes the message.
   */
  function offlineForm(inChat) {
    var formErr = el('div', { class: 'err', role: 'alert' });
    var nameF = fieldOf({ name: 'name', label: 'Your name', required: true });
    var emailF = fieldOf({ name: 'email', label: 'Your email', kind: 'email', required: true });
    var textF = fieldOf({ name: 'text', label: 'Your message', kind: 'textarea', required: true });
    var submit = el('button', { type: 'submit', class: 'primary', testid: 'sb-offline-submit', text: 'Send message' });
    var form = el('form', { class: 'card', testid: 'sb-offline', novalidate: true },
      el('p', { text: inChat ? 'Nobody is available to chat right now. Leave a message and we will answer by email.' : 'We are not available to chat right now. Leave a message and we will answer by email.' }),
      nameF, emailF, textF, formErr, submit);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var v = function (n) { return form.querySelector('[name=' + n + ']').value.trim(); };
      var req = { name: v('name'), email: v('email'), text: v('text') };
      var miss = ['name', 'email', 'text'].filter(function (k) { return !req[k]; })[0];
      if (miss) {
        fieldError(form, { field: miss, message: 'Please fill this in.' }, formErr);
        return;
      }
      if (inChat) req.session = session;
      submit.disabled = true;
      call('POST', '/messages', req).then(
        function () {
          var done = el('div', { class: 'card', testid: 'sb-offline-done', style: 'padding:14px' },
            el('p', { text: 'Thank you, ' + req.name + '. Your message was sent; we will reply to ' + req.email + '.' }));
          if (inChat) {
            leftMessage = true;
            setTail(done);
          } else show(done);
        },
        function (err) {
          submit.disabled = false;
          fieldError(form, err, formErr);
        }
      );
    });
    return form;
  }

  // ----- the conversation ---------------------------------------------------

  function startSession(req) {
    if (session) return Promise.resolve();
    if (starting) return starting;
    starting = call('POST', '/sessions', req || {}).then(
      function (answer) {
        session = answer.session;
        storage('set', session);
        starting = null;
        connect();
      },
      function (err) {
        starting = null;
        throw err;
      }
    );
    return starting;
  }

  function resetConversation() {
    lastId = 0;
    messages = {};
    pending = {};
    outbox = [];
    later = [];
    readUpto = 0;
    readSent = 0;
    ended = false;
    rated = false;
    leftMessage = false;
    while (thread.firstChild) thread.removeChild(thread.firstChild);
    typingEl.textContent = '';
    notice('');
    statusEl.textContent = '';
    endButton.hidden = true;
  }

  function attachmentUrl(a) {
    if (a.url) return new URL(a.url, ORIGIN).href;
    return BASE + '/attachments/' + encodeURIComponent(a.id) + '?session=' + encodeURIComponent(session || '');
  }

  function attachmentNode(a) {
    var url = attachmentUrl(a);
    var name = a.name || 'file';
    var link = el('a', { href: url, target: '_blank', rel: 'noopener' }, icon('clip'), name);
    if (/^image\/(png|jpeg|gif)$/.test(a.content_type || '')) return el('div', null, link, el('img', { src: url, alt: name }));
    return el('div', null, link);
  }

  /** A message bubble. Own messages carry a tick line: sending, delivered, read. */
  function bubble(m, own) {
    var from = m.from || 'bot';
    var node = el('div', { class: 'msg ' + from, testid: 'sb-msg', 'data-from': from });
    if (!own && from !== 'system' && m.name) node.appendChild(el('div', { class: 'name', text: m.name }));
    if (m.text) node.appendChild(el('div', { class: 'text', text: m.text }));
    if (m.attachment) node.appendChild(attachmentNode(m.attachment));
    if (m.buttons && m.buttons.length) node.appendChild(choices(m.buttons));
    var meta = el('div', { class: 'meta' }, el('span', { text: m.at ? timeOf(m.at) : '' }));
    if (own) meta.appendChild(el('span', { class: 'ticks', testid: 'sb-ticks' }));
    if (from !== 'system') node.appendChild(meta);
    return node;
  }

  function setTicks(node, stateName) {
    var t = node.querySelector('.ticks');
    if (!t) return;
    node.setAttribute('data-status', stateName);
    t.textContent = stateName === 'read' ? '\u2713\u2713' : stateName === 'delivered' ? '\u2713' : stateName === 'failed' ? '!' : '\u2026';
    t.setAttribute('aria-label', stateName === 'read' ? 'Read' : stateName === 'delivered' ? 'Delivered' : stateName === 'failed' ? 'Not sent' : 'Sending');
    t.title = t.getAttribute('aria-label');
  }

  function choices(buttons) {
    var box = el('div', { class: 'choices', role: 'group', 'aria-label': 'Choices' });
    buttons.forEach(function (b) {
      var btn = el('button', { type: 'button', testid: 'sb-bot-button', 'data-value': b.value, 'aria-pressed': 'false', text: b.label });
      btn.addEventListener('click', function () {
        var all = box.querySelectorAll('button');
        for (var i = 0; i < all.length; i++) all[i].disabled = true;
        btn.setAttribute('aria-pressed', 'true');
        sendFrame({ type: 'button', value: b.value, label: b.label });
      });
      box.appendChild(btn);
    });
    return box;
  }

  /** Only the newest bot message's buttons stay usable: older choices are history. */
  function retireOldChoices(keep) {
    var boxes = thread.querySelectorAll('.choices');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].parentNode === keep) continue;
      var bs = boxes[i].querySelectorAll('button');
      for (var j = 0; j < bs.length; j++) bs[j].disabled = true;
    }
  }

  function scrollDown() {
    thread.scrollTop = thread.scrollHeight;
  }

  function onMessage(m) {
    if (typeof m.id !== 'number' || messages[m.id]) return;
    if (m.id > lastId) lastId = m.id;
    var own = m.from === 'customer';
    var node = own && m.client_id ? pending[m.client_id] : null;
    if (node) {
      // Our own message, acknowledged: the pending bubble becomes the real one.
      delete pending[m.client_id];
      outbox = outbox.filter(function (f) { return f.client_id !== m.client_id; });
      var fresh = bubble(m, true);
      node.parentNode.replaceChild(fresh, node);
      node = fresh;
    } else {
      node = bubble(m, own);
      // A message the server sent during a gap goes before our still-pending ones.
      var firstPending = thread.querySelector('[data-status=sending]');
      if (firstPending) thread.insertBefore(node, firstPending);
      else thread.appendChild(node);
    }
    node.setAttribute('data-id', String(m.id));
    messages[m.id] = { m: m, node: node };
    if (own) setTicks(node, m.id <= readUpto ? 'read' : 'delivered');
    else {
      typingEl.textContent = '';
      if (m.buttons && m.buttons.length) retireOldChoices(node);
      if (!isOpen && live) {
        unread += 1;
        drawUnread();
      }
    }
    scrollDown();
    markRead();
  }

  function onRead(upto) {
    if (upto <= readUpto) return;
    readUpto = upto;
    Object.keys(messages).forEach(function (id) {
      var x = messages[id];
      if (x.m.from === 'customer' && Number(id) <= readUpto) setTicks(x.node, 'read');
    });
  }

  function waitText(s) {
    var parts = ['Waiting for an agent'];
    if (typeof s.position === 'number') parts.push(s.position === 1 ? 'you are next' : 'you are number ' + s.position + ' in line');
    if (typeof s.wait_seconds === 'number') parts.push(s.wait_seconds < 60 ? 'less than a minute' : 'about ' + Math.ceil(s.wait_seconds / 60) + ' min');
    return parts.join(' \u00b7 ');
  }

  function onStatus(s) {
    live = true;
    if (s.state === 'bot') statusEl.textContent = 'Virtual assistant';
    else if (s.state === 'waiting') statusEl.textContent = waitText(s);
    else if (s.state === 'connected') statusEl.textContent = s.agent ? 'You are chatting with ' + s.agent : 'Connected to an agent';
    else if (s.state === 'ended') statusEl.textContent = 'Chat ended';
    statusEl.setAttribute('data-state', s.state || '');
    if (s.state === 'ended') {
      ended = true;
      endButton.hidden = true;
      stopTyping();
      // The status repeats after every event: keep a rating form or the thanks on screen.
      if (!rated && !tail.querySelector('[data-testid=sb-csat]')) endedMode();
    } else {
      ended = false;
      endButton.hidden = false;
      if (s.state === 'waiting' && s.staffed === false && !leftMessage) {
        if (!tail.querySelector('[data-testid=sb-offline]')) setTail(offlineForm(true));
      } else if (!leftMessage && !tail.querySelector('[data-testid=sb-composer]')) composerMode();
    }
  }

  function onTyping(f) {
    clearTimeout(theirTyping);
    typingEl.textContent = f.on ? (f.name || 'The agent') + ' is typing\u2026' : '';
    // A lost "stopped" frame must not leave the line up.
    if (f.on) theirTyping = setTimeout(function () { typingEl.textContent = ''; }, TYPING_SHOWN);
  }

  function onFrame(f) {
    if (f.type === 'message') onMessage(f);
    else if (f.type === 'status') onStatus(f);
    else if (f.type === 'typing') onTyping(f);
    else if (f.type === 'read') onRead(f.upto || 0);
    else if (f.type === 'csat') csatMode();
    else if (f.type === 'error') notice(f.message || 'The chat could not take that.');
  }

  // ----- the socket ---------------------------------------------------------

  function wsUrl() {
    var u = BASE.replace(/^http/, 'ws') + '/ws?session=' + encodeURIComponent(session);
    return lastId ? u + '&after=' + lastId : u;
  }

  function connect() {
    clearTimeout(wsTimer);
    if (!session || (ws && ws.readyState <= 1)) return;
    var opened = false;
    live = false;
    var sock = new WebSocket(wsUrl());
    ws = sock;
    sock.onopen = function () {
      opened = true;
      attempt = 0;
      failedBeforeOpen = 0;
      notice('');
      // Unacknowledged messages go again; the server drops repeats by client_id.
      outbox.forEach(function (f) { sock.send(JSON.stringify(f)); });
      later.splice(0).forEach(function (f) { sock.send(JSON.stringify(f)); });
      markRead();
    };
    sock.onmessage = function (e) {
      var f;
      try {
        f = JSON.parse(e.data);
      } catch (x) {
        return;
      }
      onFrame(f);
    };
    sock.onclose = function (e) {
      if (ws !== sock) return;
      ws = null;
      // 4401: the server says the session is not (or no longer) valid.
      if (e && e.code === 4401) return sessionGone();
      // An ended chat has nothing more to say (a reload still shows it, with "new chat").
      if (!session || ended) return;
      if (!opened) failedBeforeOpen += 1;
      if (!opened && failedBeforeOpen >= 4 && navigator.onLine !== false) return checkSession();
      notice('Connection lost. Reconnecting\u2026', true);
      wsTimer = setTimeout(connect, backoff(attempt++));
    };
  }

  /**
   * The socket keeps failing before it opens although the network is up:
   * if the server answers, the session is no longer valid (a browser does
   * not show a refused upgrade's status), so start afresh.
   */
  function checkSession() {
    call('GET', '/config').then(
      sessionGone,
      function () {
        wsTimer = setTimeout(connect, backoff(attempt++));
      }
    );
  }

  function sessionGone() {
    forget();
    resetConversation();
    route();
    notice('Your previous chat is closed. You can start a new one.', true);
  }

  function forget() {
    session = null;
    storage('del');
    if (ws) {
      var s = ws;
      ws = null;
      s.close();
    }
  }

  /** Sends a frame now, or when the socket next opens. */
  function sendFrame(f) {
    if (f.client_id) {
      if (!outbox.some(function (x) { return x.client_id === f.client_id; })) outbox.push(f);
    }
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(f));
    else {
      if (!f.client_id) later.push(f);
      connect();
    }
  }

  /** Typing marks are only worth sending live: never queued. */
  function sendLive(f) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(f));
  }

  function markRead() {
    if (!isOpen || document.visibilityState !== 'visible') return;
    var upto = 0;
    Object.keys(messages).forEach(function (id) {
      if (messages[id].m.from !== 'customer' && Number(id) > upto) upto = Number(id);
    });
    if (upto > readSent && ws && ws.readyState === 1) {
      readSent = upto;
      sendLive({ type: 'read', upto: upto });
    }
  }

  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('online', function () {
    if (session && !ws) {
      attempt = 0;
      connect();
    }
  });

  // ----- composing ----------------------------------------------------------

  function composerMode() {
    composer.setAttribute('data-testid', 'sb-composer');
    input.disabled = false;
    sendButton.disabled = false;
    attachButton.disabled = false;
    var types = (cfg && cfg.attachments && cfg.attachments.types) || DEFAULT_TYPES;
    fileInput.setAttribute('accept', types.join(','));
    setTail(composer);
  }

  function endedMode() {
    var again = el('button', { type: 'button', class: 'primary', testid: 'sb-new-chat', text: 'Start a new chat' });
    again.addEventListener('click', newChat);
    setTail(el('div', { class: 'bar', testid: 'sb-ended' }, el('span', { class: 'muted', text: 'This chat has ended.' }), again));
  }

  function newChat() {
    forget();
    resetConversation();
    route();
  }

  function typed() {
    var now = Date.now();
    if (!typingOn || now - typingAt > TYPING_EVERY) {
      typingOn = true;
      typingAt = now;
      sendLive({ type: 'typing', on: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, TYPING_IDLE);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (!typingOn) return;
    typingOn = false;
    sendLive({ type: 'typing', on: false });
  }

  function pendingBubble(m, cid) {
    var node = bubble(m, true);
    pending[cid] = node;
    setTicks(node, 'sending');
    thread.appendChild(node);
    scrollDown();
    return node;
  }

  function ensureSession() {
    if (session) return Promise.resolve();
    return startSession({});
  }

  function sendText() {
    var text = input.value.trim();
    if (!text) return;
    input.value = '';
    stopTyping();
    var cid = clientId();
    var node = pendingBubble({ from: 'customer', text: text, at: Date.now() }, cid);
    ensureSession().then(
      function () {
        sendFrame({ type: 'message', text: text, client_id: cid });
      },
      function (err) {
        setTicks(node, 'failed');
        node.classList.add('failed');
        notice(err.message);
        input.value = text;
      }
    );
    input.focus();
  }

  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendText();
    }
  });
  input.addEventListener('input', function () {
    if (!session) return;
    // A cleared box is not typing: tell the agent at once, not after the idle pause.
    if (input.value.trim()) typed();
    else stopTyping();
  });
  sendButton.addEventListener('click', sendText);
  attachButton.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (file) sendFile(file);
  });

  function sendFile(file) {
    var rules = (cfg && cfg.attachments) || {};
    var types = rules.types || DEFAULT_TYPES;
    var max = rules.max_bytes || DEFAULT_MAX;
    if (types.indexOf(file.type) < 0) {
      notice(file.name + ': this type of file cannot be sent.');
      return;
    }
    if (file.size > max) {
      notice(file.name + ' is too large (at most ' + Math.round(max / 1048576) + ' MB).');
      return;
    }
    var cid = clientId();
    var node = pendingBubble({ from: 'customer', text: file.name, at: Date.now() }, cid);
    var headers = { 'Content-Type': file.type, 'X-Filename': /^[\x20-\x7e]*$/.test(file.name) ? file.name : encodeURIComponent(file.name) };
    ensureSession()
      .then(function () {
        return call('POST', '/attachments?session=' + encodeURIComponent(session), file, headers);
      })
      .then(
        function (a) {
          notice('');
          sendFrame({ type: 'attachment', id: a.id, client_id: cid });
        },
        function (err) {
          setTicks(node, 'failed');
          node.classList.add('failed');
          delete pending[cid];
          notice(file.name + ' was not sent: ' + err.message);
        }
      );
  }

  // ----- ending and rating --------------------------------------------------

  endButton.addEventListener('click', function () {
    if (ended) return;
    var yes = el('button', { type: 'button', class: 'primary', testid: 'sb-end-confirm', text: 'End chat' });
    var no = el('button', { type: 'button', class: 'secondary', text: 'Keep chatting' });
    var keep = tail.firstChild;
    yes.addEventListener('click', function () {
      stopTyping();
      sendFrame({ type: 'end' });
      setTail(el('div', { class: 'bar' }, el('span', { class: 'muted', text: 'Ending the chat\u2026' })));
    });
    no.addEventListener('click', function () {
      setTail(keep);
      input.focus();
    });
    setTail(el('div', { class: 'bar', role: 'alertdialog', 'aria-label': 'End the chat?' }, el('span', { text: 'End this chat?' }), yes, no));
    yes.focus();
  });

  function csatMode() {
    if (rated || tail.querySelector('[data-testid=sb-csat]')) return;
    var score = 0;
    var stars = el('div', { class: 'stars', role: 'radiogroup', 'aria-label': 'Your rating' });
    var buttons = [];
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el('button', { type: 'button', role: 'radio', 'aria-checked': 'false', 'aria-label': n + (n === 1 ? ' star' : ' stars'), testid: 'sb-star-' + n, text: '\u2605' });
        b.addEventListener('click', function () { pick(n); });
        buttons.push(b);
        stars.appendChild(b);
      })(i);
    }
    function pick(n) {
      score = n;
      buttons.forEach(function (b, j) {
        b.setAttribute('aria-checked', String(j < n));
        b.tabIndex = j === n - 1 ? 0 : -1;
      });
      submit.disabled = false;
    }
    // Arrow keys move along the stars, as in any radio group.
    stars.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        var n = Math.min(5, Math.max(1, (score || 0) + (e.key === 'ArrowRight' ? 1 : -1)));
        pick(n);
        buttons[n - 1].focus();
      }
    });
    var comment = el('textarea', { rows: '2', placeholder: 'Anything to add? (optional)', 'aria-label': 'Comment', testid: 'sb-csat-comment' });
    var submit = el('button', { type: 'submit', class: 'primary', disabled: true, testid: 'sb-csat-submit', text: 'Send rating' });
    var skip = el('button', { type: 'button', class: 'secondary', text: 'Skip' });
    var form = el('form', { class: 'card', testid: 'sb-csat', 'aria-label': 'Rate this chat' }, el('strong', { text: 'How did we do?' }), stars, comment, el('div', { class: 'bar', style: 'padding:0;border:0' }, submit, skip));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!score) return;
      var f = { type: 'csat', score: score };
      if (comment.value.trim()) f.comment = comment.value.trim();
      sendFrame(f);
      rated = true;
      thanks('Thank you for your rating!');
    });
    skip.addEventListener('click', function () {
      rated = true;
      thanks('Thank you for chatting with us.');
    });
    setTail(form);
    buttons[0].tabIndex = 0;
    if (isOpen) buttons[0].focus();
  }

  function thanks(text) {
    var again = el('button', { type: 'button', class: 'primary', testid: 'sb-new-chat', text: 'Start a new chat' });
    again.addEventListener('click', newChat);
    setTail(el('div', { class: 'bar', testid: 'sb-thanks' }, el('span', { text: text }), again));
    // The conversation is over: a reload starts fresh. Close the socket once the rating went out.
    storage('del');
    ended = true;
    setTimeout(function () {
      if (ws && !outbox.length && !later.length) ws.close();
    }, 1500);
  }

  // ----- start --------------------------------------------------------------

  function mount() {
    if (!document.body) return setTimeout(mount, 50);
    document.body.appendChild(host);
  }
  mount();

  call('GET', '/config').then(
    function (c) {
      cfg = c || {};
      titleEl.textContent = cfg.title || 'Chat';
      if (cfg.open === false && !cfg.bot && !session) launcherText.textContent = 'Leave a message';
      if (session) {
        show(chatView);
        connect();
      } else if (isOpen) route();
    },
    function (err) {
      // A wrong key or an unreachable server: say so in the panel, not in the page's console.
      cfg = null;
      launcherText.textContent = 'Chat';
      show(el('div', { class: 'card', style: 'padding:14px', testid: 'sb-unavailable' }, el('p', { text: err.status === 404 ? 'This chat is not set up (unknown widget key).' : 'The chat is unavailable right now. Please try again later.' })));
    }
  );
  drawUnread();
})();
